"""The natural voice's worker process: hibari's model loaded once, one clip per request.

Run as `python -m voiceguide.speech.hibari_worker VOICE SPEED` by HibariEngine. It reads one
JSON request a line from stdin ({"id": N, "text": ..., "wav": PATH}) and writes one JSON
answer a line to stdout: first {"ready": true} (or {"ready": false, "problem": ...}) once the
model is loaded, then {"id": N, "problem": null or what went wrong} for each request, after the
WAV (16-bit mono at hibari's 24 kHz) is written whole. It ends at the end of stdin.

A process of its own, not a thread: its loading runs on another core while the session
starts, its onnxruntime threads and its numpy never hold the player's GIL, and a crash in the
native code ends the worker, not the session (which then uses espeak-ng).

hibari's two halves load at once in two processes (the first clip of a cold session waits
for both): this one imports onnxruntime and opens the model (about 0.3 s of CPU), while a
child forked at the start loads the phonemizer, whose lexicons and tagger are 0.35 s of
JSON, and then turns each text into phonemes for it. Where fork is missing or fails, the
phonemizer loads here, after the model.
"""

from __future__ import annotations

import contextlib
import gzip
import json
import os
import signal
import sys
import wave
from pathlib import Path
from typing import Any, Protocol, TextIO

BUNDLED_MODEL = "hibari.onnx"
"""The file of the bundled voice in hibari's assets folder (its voices.json says so)."""
MAX_FD = 65536
"""Above any descriptor the forked phonemizer may have inherited (it closes the others)."""
SEED = 0
"""hibari adds noise to each clip: a fixed seed makes the same text the same clip."""


class Phonemes(Protocol):
    def __call__(self, text: str) -> list[str]:
        """hibari's phoneme strings for `text`, one per sentence (or part of a long one)."""
        ...


def read_json_asset(path: str) -> Any:
    """One of hibari's JSON assets (gzipped or not), parsed by orjson: its lexicons and tagger
    are 3.9 MB of gzipped JSON, 0.33 s for the standard library and 0.18 s for orjson."""
    import orjson

    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as data:
        return orjson.loads(data.read())


def load_phonemizer(voice: str) -> Phonemes:
    """hibari's own text-to-phonemes (Hibari.phonemize: sentences, then its G2P), without
    its model: an instance made without __init__, which is where the model is opened.
    Its assets are read with orjson (same values as its own `json.load`, in half the time)."""
    from hibari import g2p
    from hibari.g2p import G2P
    from hibari.tts import Hibari
    from hibari.voices import VOICES

    with contextlib.suppress(ImportError):
        import orjson  # noqa: F401  (part of the extra; without it, hibari's own reader)

        g2p._load_json = lambda name: read_json_asset(os.path.join(g2p.ASSETS, name))
    reader = Hibari.__new__(Hibari)
    reader.voice = voice
    reader._g2p = G2P(british=VOICES[voice]["british"])
    reader.phonemize("Ready.")
    return reader.phonemize


class ForkedPhonemizer:
    """`load_phonemizer` in a child process, asked through two pipes, a JSON line each way.

    The child keeps only its two pipes open, so that it never holds this worker's own
    answers open; it ends at the end of its input, which is when this process ends.
    """

    def __init__(self, voice: str) -> None:
        to_child_r, to_child_w = os.pipe()
        from_child_r, from_child_w = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: phonemes for each line until the end of its input
            low, high = sorted((to_child_r, from_child_w))
            os.closerange(3, low)
            os.closerange(low + 1, high)
            os.closerange(high + 1, MAX_FD)
            code = 0
            try:
                requests = os.fdopen(to_child_r, "r", encoding="utf-8")
                self._serve(voice, requests, os.fdopen(from_child_w, "w", encoding="utf-8"))
            except BaseException:
                code = 1
            os._exit(code)
        os.close(to_child_r)
        os.close(from_child_w)
        self._requests = os.fdopen(to_child_w, "w", encoding="utf-8")
        self._answers = os.fdopen(from_child_r, "r", encoding="utf-8")

    def wait_ready(self) -> None:
        """Wait for the child to have loaded (RuntimeError if it could not)."""
        self._answer()

    def _answer(self) -> dict[str, Any]:
        line = self._answers.readline()
        if not line:
            raise RuntimeError("the phonemizer process ended")
        answer: dict[str, Any] = json.loads(line)
        if answer.get("problem") is not None:
            raise RuntimeError(f"phonemizer: {answer['problem']}")
        return answer

    @staticmethod
    def _serve(voice: str, requests: TextIO, answers: TextIO) -> None:
        try:
            phonemize = load_phonemizer(voice)
        except Exception as err:
            answers.write(json.dumps({"problem": f"{type(err).__name__}: {err}"}) + "\n")
            answers.flush()
            return
        answers.write(json.dumps({"ready": True}) + "\n")
        answers.flush()
        for line in requests:
            try:
                answer: dict[str, object] = {"phonemes": phonemize(json.loads(line))}
            except Exception as err:
                answer = {"problem": f"{type(err).__name__}: {err}"}
            answers.write(json.dumps(answer) + "\n")
            answers.flush()

    def __call__(self, text: str) -> list[str]:
        self._requests.write(json.dumps(text) + "\n")
        self._requests.flush()
        phonemes: list[str] = self._answer()["phonemes"]
        return phonemes


def start_phonemizer(voice: str) -> ForkedPhonemizer | None:
    """The phonemizer loading in a forked child, or None where fork is not possible."""
    if not hasattr(os, "fork"):
        return None
    try:
        return ForkedPhonemizer(voice)
    except OSError:
        return None


def load_model(voice: str) -> Any:
    """hibari with its bundled model (nothing is downloaded: the model is given by its path,
    so hibari's downloader is never reached). Its own phonemizer is not loaded."""
    import hibari
    from hibari import tts

    return hibari.Hibari(
        voice=voice, model=str(Path(tts.ASSETS) / BUNDLED_MODEL), threads=1, g2p=False
    )


def write_clip(engine: Any, phonemes: list[str], speed: float, out: Path) -> None:
    """Synthesize the phoneme strings of one text and write them to `out` (a new file, written
    whole before returning): what hibari's `engine(text, speed, seed)` makes, sample for
    sample (one generator for all the sentences, as its `stream` does)."""
    import numpy as np

    rng = np.random.default_rng(SEED)
    parts = [engine.from_ids(engine.ids(p), speed, rng) for p in phonemes]
    audio = np.concatenate(parts) if parts else np.zeros(0, np.float32)
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
        forked = start_phonemizer(voice)
        engine = load_model(voice)
        if forked is not None:
            forked.wait_ready()
        phonemize: Phonemes = forked if forked is not None else load_phonemizer(voice)
    except Exception as err:  # onnxruntime and hibari raise many kinds: all are reported
        say({"ready": False, "problem": f"{type(err).__name__}: {err}"})
        return
    say({"ready": True})
    for line in requests:
        request = json.loads(line)
        try:
            write_clip(engine, phonemize(request["text"]), speed, Path(request["wav"]))
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
