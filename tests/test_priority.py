"""Background work runs below the audio: the producer, the speech thread, ffmpeg and its reader
run `BACKGROUND_NICE_STEPS` below the program's main thread, so that in a busy session
the output's writer thread (simpleaudio's, at the caller's priority) wins the CPU."""

from __future__ import annotations

import os
import threading
import time

from voiceguide.music.bundled import bed_path
from voiceguide.music.decoder import Decoder
from voiceguide.priority import BACKGROUND_NICE_STEPS, MAX_NICE, lower_this_thread

from test_conductor import Rig, rig  # noqa: F401  (the fixture)


def nice_of(native_id: int) -> int:
    return os.getpriority(os.PRIO_PROCESS, native_id)


def expected_background_nice() -> int:
    return min(MAX_NICE, nice_of(threading.get_native_id()) + BACKGROUND_NICE_STEPS)


def settled_nice(thread: threading.Thread, wanted: int, timeout_seconds: float = 5.0) -> int:
    """The thread's nice once it has had time to lower itself (it does so as it starts)."""
    assert thread.native_id is not None
    deadline = time.monotonic() + timeout_seconds
    while nice_of(thread.native_id) != wanted and time.monotonic() < deadline:
        time.sleep(0.01)
    return nice_of(thread.native_id)


def test_ffmpeg_and_its_reader_run_below_the_caller() -> None:
    decoder = Decoder(bed_path())
    try:
        wanted = expected_background_nice()
        assert wanted > nice_of(threading.get_native_id())
        assert decoder._process is not None
        assert nice_of(decoder._process.pid) == wanted
        assert settled_nice(decoder._pump, wanted) == wanted
        assert len(decoder.read(4410)) == 4410  # and it still decodes
    finally:
        decoder.close()


def test_ffmpeg_started_from_a_background_thread_is_not_lowered_twice() -> None:
    # The producer (at the background level) opens the music's decoders: ffmpeg inherits its
    # nice value, and lowering it by the steps again starved it of the CPU on a loaded machine.
    wanted = expected_background_nice()
    seen: list[int] = []

    def open_from_background() -> None:
        lower_this_thread()
        decoder = Decoder(bed_path())
        try:
            assert decoder._process is not None
            seen.append(nice_of(decoder._process.pid))
        finally:
            decoder.close()

    thread = threading.Thread(target=open_from_background)
    thread.start()
    thread.join()
    assert seen == [wanted]


def test_the_producer_and_the_speech_thread_run_below_the_session(rig: Rig) -> None:  # noqa: F811
    wanted = expected_background_nice()
    rig.start()
    rig.play(0.5)
    assert settled_nice(rig.conductor.player._thread, wanted) == wanted
    assert settled_nice(rig.conductor._voice_thread, wanted) == wanted
    # the caller itself (where the output's writer runs) keeps its priority
    assert nice_of(threading.get_native_id()) == wanted - BACKGROUND_NICE_STEPS
