"""CommandListener: hands-free commands for a live session, next to the keys.

    listener = CommandListener(played, on_command, warn, wake_phrase="voice guide")
    listener.start()      # NoInputError (a VoiceguideError) if there is no microphone
    ...                   # on_command("next") from the worker thread as commands are heard
    listener.close()      # stops parec, joins every thread

`on_heard` (optional) gets every utterance, acted on or not: `voiceguide listen` says why.

Threads: the capture thread (parec) stamps each chunk with the player's playhead at the
moment it was read and queues it; the worker thread aligns the reference (align.py), runs
the pipeline (echo canceller, voice detector, grammar) and calls `on_command`. Nothing it
does can raise into the player: failures go to `warn`, once.

After a session the dialogue asks for amounts: `ask("amount-ml", timeout)` switches the
grammar, waits for one accepted answer (an Answer with its value) and switches back.

Privacy: microphone audio stays in memory. Only `debug_audio_dir` (off by default) writes the
microphone and the aligned reference as WAV files, and what was made of each utterance
(heard.txt, with each move of the reference), for tuning.
"""

from __future__ import annotations

import contextlib
import queue
import threading
import wave
from collections import deque
from collections.abc import Callable, Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, TextIO

import numpy as np

from voiceguide.listen import grammar
from voiceguide.listen.align import DelayTracker, ReferenceAligner
from voiceguide.listen.amounts import parse_amount
from voiceguide.listen.capture import NO_INPUT_HINT, MicCapture
from voiceguide.listen.format import FRAME_SAMPLES, LISTEN_RATE_HZ
from voiceguide.listen.pipeline import Heard, Pipeline
from voiceguide.listen.recognizer import check_wake_phrase
from voiceguide.priority import lower_this_thread

_QUEUE_CHUNKS = 500  # 10 s of 20 ms chunks: a stalled worker drops audio, never blocks parec


class PlayedAudio(Protocol):
    """What the live player tells the listener (all frames are output frames at 44.1 kHz)."""

    def playhead_frame(self) -> int | None:
        """The output frame being heard now, estimated from the clock; None when nothing
        plays (before start, paused, after the end)."""
        ...

    def played(self, start_frame: int, n_frames: int) -> np.ndarray:
        """int16 stereo of what was (or will be) played at those frames; silence elsewhere."""
        ...


@dataclass(frozen=True)
class Answer:
    mode: str
    words: str
    value: float | str
    """Millilitres or ounces (float), "skip", "yes" or "no"."""


def answer_for(mode: str, words: str) -> Answer | None:
    """The meaning of an accepted sentence in an answer mode."""
    if mode == "yes-no":
        value = grammar.YES_NO_PHRASES.get(words)
        return None if value is None else Answer(mode, words, value)
    if words == grammar.SKIP_WORDS:
        return Answer(mode, words, "skip")
    amount = parse_amount(words, "ml" if mode == "amount-ml" else "oz")
    return None if amount is None else Answer(mode, words, amount)


def describe(heard: Heard) -> str:
    """One tab-separated line on an utterance, for --debug-audio's heard.txt."""
    r = heard.recognition
    return "\t".join(
        [
            f"{heard.start_sample / LISTEN_RATE_HZ:.2f}-{heard.end_sample / LISTEN_RATE_HZ:.2f}",
            heard.mode,
            repr(r.words),
            f"fit {r.fit:.1f}",
            f"margin {r.margin}",
            f"echo ready {heard.echo_ready}",
            f"share {heard.echo_share:.2f}",
            f"linear {heard.echo_linear:.2f}",
            f"voice outside {heard.voice_outside_seconds:.2f} s",
            f"decoded {(heard.cut_sample - heard.ready_sample) / LISTEN_RATE_HZ:.2f} s early",
            "accepted" if heard.accepted else "refused",
        ]
    )


class CommandListener:
    def __init__(
        self,
        played: PlayedAudio,
        on_command: Callable[[str], None],
        warn: Callable[[str], None],
        *,
        wake_phrase: str = grammar.DEFAULT_WAKE_PHRASE,
        source: str | None = None,
        latency_seconds: float | None = None,
        debug_audio_dir: Path | None = None,
        on_heard: Callable[[Heard], None] | None = None,
    ) -> None:
        self.wake_phrase = check_wake_phrase(wake_phrase)
        self._played = played
        self._on_command = on_command
        self._on_heard = on_heard
        """Called with every utterance, acted on or not (from the worker thread)."""
        self._warn_once_seen: set[str] = set()
        self._warn = warn
        self._pipeline = Pipeline(self._warning, wake_phrase=self.wake_phrase)
        self._aligner = ReferenceAligner(
            played.played, *(() if latency_seconds is None else (latency_seconds,))
        )
        self._tracker = DelayTracker() if latency_seconds is None else None
        self._queue: queue.Queue[tuple[np.ndarray, int | None, float] | None] = queue.Queue(
            _QUEUE_CHUNKS
        )
        self._capture = MicCapture(self._chunk, self._lost, source)
        self._worker: threading.Thread | None = None
        self._pending = np.zeros(0, dtype=np.int16)
        self._pending_ref = np.zeros(0, dtype=np.int16)
        self._mode_lock = threading.Lock()
        self._answers: queue.Queue[Answer] = queue.Queue()
        self._debug_dir = debug_audio_dir
        self._debug: tuple[wave.Wave_write, wave.Wave_write] | None = None
        self._debug_notes: TextIO | None = None
        self.heard: deque[Heard] = deque(maxlen=500)
        """The latest utterances and what was made of them (diagnostics, tests)."""
        self._anchors_seen = 0

    # -- lifecycle ------------------------------------------------------------------------
    def start(self) -> None:
        """Start the microphone and the worker; NoInputError if there is no input."""
        if self._debug_dir is not None:
            self._open_debug(self._debug_dir)
        self._worker = threading.Thread(target=self._work, name="voiceguide-listen", daemon=True)
        self._worker.start()
        try:
            self._capture.start()
        except BaseException:
            self._queue.put(None)
            self._worker.join()
            self._close_debug()
            raise

    def close(self) -> None:
        """Stop listening: parec ended, both threads joined (idempotent)."""
        self._capture.close()
        if self._worker is not None and self._worker.is_alive():
            self._queue.put(None)
            self._worker.join()
        self._pipeline.close()
        self._close_debug()

    @property
    def listening(self) -> bool:
        """The microphone is read and what it hears is decoded (neither has stopped)."""
        worker = self._worker
        return (
            self._capture.running
            and worker is not None
            and worker.is_alive()
            and not self._pipeline.failed
        )

    @property
    def delay_estimates(self) -> list[tuple[int, float]]:
        """(lag in samples, sharpness) of every echo delay measured so far."""
        return [] if self._tracker is None else list(self._tracker.estimates)

    @property
    def latency_seconds(self) -> float:
        return self._aligner.latency_seconds

    @property
    def source(self) -> str | None:
        return self._capture.source

    # -- modes ----------------------------------------------------------------------------
    def set_mode(self, mode: str, refused: Collection[float] = ()) -> None:
        """ "commands" (the default), "amount-ml", "amount-oz" or "yes-no"; an amount mode
        leaves out the amounts `refused`."""
        with self._mode_lock:
            self._pipeline.recognizer.set_mode(mode, refused)
        while not self._answers.empty():
            self._answers.get_nowait()

    def ask(
        self, mode: str, timeout_seconds: float, refused: Collection[float] = ()
    ) -> Answer | None:
        """Listen for one answer in `mode` (not one of the amounts `refused`); None after
        `timeout_seconds`. Back to commands after."""
        self.set_mode(mode, refused)
        try:
            return self._answers.get(timeout=timeout_seconds)
        except queue.Empty:
            return None
        finally:
            self.set_mode("commands")

    # -- threads --------------------------------------------------------------------------
    def _chunk(self, samples: np.ndarray, read_time: float) -> None:
        try:
            playhead = self._played.playhead_frame()
        except Exception as err:  # the player's trouble must not stop the capture thread
            self._warning(f"voice commands: no playhead ({err})")
            playhead = None
        try:
            self._queue.put_nowait((samples, playhead, read_time))
        except queue.Full:
            self._warning("voice commands fall behind; some audio was skipped")

    def _lost(self, message: str) -> None:
        self._warning(message)

    def _warning(self, message: str) -> None:
        if message not in self._warn_once_seen:
            self._warn_once_seen.add(message)
            # A broken display must not stop listening.
            with contextlib.suppress(Exception):
                self._warn(message)

    def _work(self) -> None:
        lower_this_thread()  # decoding an utterance takes 0.1-0.3 s of CPU: after the audio
        while True:
            item = self._queue.get()
            if item is None:
                return
            samples, playhead, read_time = item
            try:
                self._step(samples, playhead, read_time)
            except Exception as err:  # never into the caller's audio path
                self._warning(f"voice commands failed ({err}); {NO_INPUT_HINT}")
                return

    def _step(self, samples: np.ndarray, playhead: int | None, read_time: float) -> None:
        ref = self._aligner.reference(len(samples), playhead, read_time)
        self._write_debug(samples, ref)
        mic = np.concatenate([self._pending, samples])
        refs = np.concatenate([self._pending_ref, ref])
        whole = len(mic) // FRAME_SAMPLES * FRAME_SAMPLES
        self._pending, self._pending_ref = mic[whole:], refs[whole:]
        lag = None
        if self._tracker is not None and whole:
            lag = self._tracker.feed(mic[:whole], refs[:whole])
            if lag is not None:
                self._aligner.correct_delay(lag)
        if self._aligner.reanchors != self._anchors_seen:
            self._anchors_seen = self._aligner.reanchors
            self._pipeline.restart_warmup()
            self._note_debug(f"{self._pipeline.seconds_in:.2f}\treference moved\t{lag}")
        with self._mode_lock:
            heard = self._pipeline.feed(mic[:whole], refs[:whole])
            mode = self._pipeline.recognizer.mode
        for item in heard:
            self.heard.append(item)
            self._note_debug(describe(item))
            if self._on_heard is not None:
                try:
                    self._on_heard(item)
                except Exception as err:  # the caller's bug must not stop listening
                    self._warning(f"voice commands: {err}")
            if not item.accepted:
                continue
            if mode == "commands":
                command = grammar.command_for(item.recognition.words, self.wake_phrase)
                if command is not None:
                    try:
                        self._on_command(command)
                    except Exception as err:  # the caller's bug must not stop listening
                        self._warning(f"voice command {command!r} failed: {err}")
            else:
                answer = answer_for(mode, item.recognition.words)
                if answer is not None:
                    self._answers.put(answer)

    # -- debug recording ------------------------------------------------------------------
    def _open_debug(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self._debug_notes = (folder / "heard.txt").open("w", encoding="utf-8")
        writers = []
        for name in ("mic.wav", "reference.wav"):
            w = wave.open(str(folder / name), "wb")
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(LISTEN_RATE_HZ)
            writers.append(w)
        self._debug = (writers[0], writers[1])

    def _write_debug(self, mic: np.ndarray, ref: np.ndarray) -> None:
        if self._debug is not None:
            self._debug[0].writeframes(mic.astype("<i2").tobytes())
            self._debug[1].writeframes(ref.astype("<i2").tobytes())

    def _note_debug(self, line: str) -> None:
        if self._debug_notes is not None:
            self._debug_notes.write(line + "\n")
            self._debug_notes.flush()

    def _close_debug(self) -> None:
        if self._debug_notes is not None:
            self._debug_notes.close()
            self._debug_notes = None
        if self._debug is not None:
            for w in self._debug:
                w.close()
            self._debug = None
