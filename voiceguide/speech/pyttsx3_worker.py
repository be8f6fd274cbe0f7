"""The pyttsx3 worker process: one engine, one thread, one save at a time, checked.

It runs in a spawned process (never forked) and talks to Pyttsx3Engine over a pipe: it
sends READY once its engine is up, then (request id, None or what went wrong) for each
(request id, text, WAV path) it is given.

pyttsx3 2.99's espeak driver cancels an utterance it has just started when espeak-ng's own
thread still reports the previous one as playing: `runAndWait` then returns with a WAV that
holds a header and no sound. So the worker waits for espeak-ng to be idle before each
save, and says again what came out empty.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path
from typing import Any

from voiceguide.speech.espeak import NO_SOUND_SERVER
from voiceguide.speech.wavfile import wav_frames

READY = "ready"
WRITE_TIMEOUT_SECONDS = 20.0
"""How long the worker waits for pyttsx3's file after `runAndWait` returned."""
_IDLE_TIMEOUT_SECONDS = 2.0
_TRIES = 3


def run_worker(conn: Any, voice: str | None, rate_wpm: int) -> None:
    """The worker's main loop (the target of the spawned process).

    It ignores Ctrl-C (started with SIGINT ignored, and keeps it so) and is ended by its
    parent. Its stdout and stderr go to /dev/null: pyttsx3 prints "Audio saved to ...",
    and a worker its parent gave up on must die quietly, never print tracebacks from
    espeak-ng's callback thread into the user's terminal.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    os.environ["PULSE_SERVER"] = NO_SOUND_SERVER  # read by libpulse when espeak-ng starts
    import pyttsx3
    from pyttsx3.drivers import _espeak

    engine = pyttsx3.init("espeak")
    if voice:
        engine.setProperty("voice", voice)
    engine.setProperty("rate", rate_wpm)
    engine.runAndWait()  # apply the properties before any utterance: they race otherwise
    conn.send(READY)
    while True:
        try:
            request = conn.recv()
        except EOFError:
            return
        if request is None:
            return
        request_id, text, out_path = request
        try:
            problem = _save(engine, _espeak.IsPlaying, text, Path(out_path))
        except Exception as err:  # reported to the parent, which uses espeak-ng instead
            problem = f"{type(err).__name__}: {err}"
        conn.send((request_id, problem))


def _save(engine: Any, is_playing: Any, text: str, out: Path) -> str | None:
    """Write `text` to `out`; None when it holds sound, else what went wrong."""
    for _ in range(_TRIES):
        _wait_until_idle(is_playing)
        out.unlink(missing_ok=True)
        engine.save_to_file(text, str(out))
        engine.runAndWait()
        # runAndWait can return before the file is written: wait for a whole WAV.
        deadline = time.monotonic() + WRITE_TIMEOUT_SECONDS
        frames = wav_frames(out)
        while frames is None:
            if time.monotonic() > deadline:
                return "pyttsx3 wrote no audio"
            time.sleep(0.002)
            frames = wav_frames(out)
        if frames > 0:
            return None
        # A header and no sound: pyttsx3 cancelled its own utterance. Say it again.
    return f"pyttsx3 wrote an empty file {_TRIES} times"


def _wait_until_idle(is_playing: Any) -> None:
    deadline = time.monotonic() + _IDLE_TIMEOUT_SECONDS
    while is_playing() and time.monotonic() < deadline:
        time.sleep(0.001)
