"""Background work yields the CPU to the audio: a lower priority for a thread or a process.

The sound reaches the server through simpleaudio's writer thread, which must run every 20 ms
or so and has the output's device buffer (300 ms) of slack. Linux schedules a session's
threads as one group (autogroup), so the writer competes above all with this program's own
bursts: the producer rendering seconds ahead when a stream opens, ffmpeg decoding the music
4 s ahead at full speed, speech made in the background, the recognizer's decoding. Those run
`BACKGROUND_NICE_STEPS` lower and lose to the writer; their steady work is a few per cent of
a core, so they still keep ahead. Lowering a priority needs no privilege; where the system
refuses it, nothing changes and nothing is said.
"""

from __future__ import annotations

import contextlib
import os
import threading

BACKGROUND_NICE_STEPS = 5
"""How much lower (in nice steps) background work runs than the audio: at nice 5 a thread
weighs a third of a nice-0 thread in the scheduler (335 against 1024)."""
MAX_NICE = 19


def background_nice() -> int:
    """The nice value of background work: `BACKGROUND_NICE_STEPS` below the main thread."""
    return min(MAX_NICE, os.getpriority(os.PRIO_PROCESS, os.getpid()) + BACKGROUND_NICE_STEPS)


def lower_process(pid: int) -> None:
    """Run process (or, on Linux, thread) `pid` at the background level.

    The level is set, not added: a process started from a background thread already inherits
    that thread's nice value, and lowering it again by the same steps would put it twice as far
    down (ffmpeg at nice 10 took 1.2 s instead of 0.4 s to decode its first quarter second
    beside four busy loops).
    """
    with contextlib.suppress(OSError, AttributeError):
        target = background_nice()
        if os.getpriority(os.PRIO_PROCESS, pid) < target:
            os.setpriority(os.PRIO_PROCESS, pid, target)


def lower_this_thread() -> None:
    """Run the calling thread only at the background level (Linux gives each thread its own
    nice value; processes it starts afterwards inherit it)."""
    lower_process(threading.get_native_id())
