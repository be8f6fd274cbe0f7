"""The natural voice's worker process: hibari's model loaded once, one clip per request.

Run as `python -m voiceguide.speech.hibari_worker VOICE SPEED` by HibariEngine. It reads one
JSON request a line from stdin ({"id": N, "text": ..., "wav": PATH}) and writes one JSON
answer a line to stdout: first {"ready": true} (or {"ready": false, "problem": ...}) once the
model is loaded, then {"id": N, "problem": null or what went wrong} for each request, after the
WAV (16-bit mono at hibari's 24 kHz) is written whole. It ends at the end of stdin.

A process of its own, not a thread: its half second of loading runs on another core while
the session starts, its onnxruntime threads and its numpy never hold the player's GIL, and a
crash in the native code ends the worker, not the session (which then uses espeak-ng).
"""

from __future__ import annotations

import json
import os
import signal
import sys
import wave
from pathlib import Path
from typing import Any, TextIO

BUNDLED_MODEL = "hibari.onnx"
"""The file of the bundled voice in hibari's assets folder (its voices.json says so)."""
SEED = 0
"""hibari adds noise to each clip: a fixed seed makes the same text the same clip."""


def load(voice: str) -> Any:
    """hibari with its bundled model and phonemizer loaded (nothing is downloaded: the model
    is given by its path, so hibari's downloader is never reached)."""
    import hibari
    from hibari import tts

    engine = hibari.Hibari(voice=voice, model=str(Path(tts.ASSETS) / BUNDLED_MODEL), threads=1)
    engine.phonemize("Ready.")  # loads the phonemizer now, not inside the first clip
    return engine


def write_clip(engine: Any, text: str, speed: float, out: Path) -> None:
    """Synthesize `text` and write it to `out` (a new file, written whole before returning)."""
    import numpy as np

    audio = engine(text, speed=speed, seed=SEED)
    if len(audio) == 0:
        raise ValueError("no sound made")
    pcm = np.round(np.clip(audio, -1.0, 1.0) * 32767.0).astype("<i2")
    with wave.open(str(out), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(int(engine.sample_rate))
        wav.writeframes(pcm.tobytes())


def serve(voice: str, speed: float, requests: TextIO, answers: TextIO) -> None:
    """Load, say so, then answer every request until the end of `requests`."""

    def say(message: dict[str, object]) -> None:
        answers.write(json.dumps(message) + "\n")
        answers.flush()

    try:
        engine = load(voice)
    except Exception as err:  # onnxruntime and hibari raise many kinds: all are reported
        say({"ready": False, "problem": f"{type(err).__name__}: {err}"})
        return
    say({"ready": True})
    for line in requests:
        request = json.loads(line)
        try:
            write_clip(engine, request["text"], speed, Path(request["wav"]))
            problem = None
        except Exception as err:  # reported; the session makes this clip with espeak-ng
            problem = f"{type(err).__name__}: {err}"
        say({"id": request["id"], "problem": problem})


def main() -> None:
    # Ctrl-C at the terminal reaches the whole process group: the session ends the worker.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    voice, speed = sys.argv[1], float(sys.argv[2])
    # The protocol owns stdout: anything a library prints goes to stderr (/dev/null).
    answers = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)
    serve(voice, speed, sys.stdin, answers)


if __name__ == "__main__":
    main()
