"""Hands-free voice commands: microphone -> echo canceller -> voice detection -> grammar.

Modules, one job each:
- format: the listening format (16 kHz mono int16, 10 ms frames).
- reference: what was played (44.1 kHz stereo) turned into that format.
- aec: the speexdsp echo canceller (ctypes).
- align: where the echo sits behind the playhead (delay estimate by cross-correlation).
- vad: cutting the cleaned signal into utterances.
- grammar: the command table and the JSGF grammars built from it.
- recognizer: pocketsphinx on one utterance, with a rejection score.
- amounts: number words -> millilitres or ounces.
- pipeline: the chain above on two sample streams (offline and live alike).
- capture: parec reading the microphone in a thread.
- listener: CommandListener, the front end the live session plugs in.
"""
