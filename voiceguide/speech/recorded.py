"""A routine's recordings (`say_audio`, `[audio]`) as clips at the speech level, each once."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from voiceguide.errors import RoutineError
from voiceguide.routine.load import Recording, Routine
from voiceguide.speech.voice import CLIP_PEAK_DBFS

RECORDING_MAX_SECONDS = 60.0
"""A recorded line lasts at most a minute, as a text holds about a minute of speech."""


def load_recordings(routine: Routine, cache_dir: Path) -> dict[Recording, np.ndarray]:
    """Every recording of `routine` as int16 stereo at the mix rate, its peak at the
    synthesized speech's (CLIP_PEAK_DBFS).

    A missing, empty, unreadable, silent or too long file is a RoutineError naming the routine
    file, the line and key (`steps[1].say_audio`) and the path: before any session starts.
    """
    found: dict[Recording, np.ndarray] = {}
    recordings = routine.recordings()
    if not recordings:
        return found
    from voiceguide.audioclip import ClipFileError, load_clip

    for recording in recordings:
        try:
            clip = load_clip(
                recording.path,
                peak_dbfs=CLIP_PEAK_DBFS,
                max_seconds=RECORDING_MAX_SECONDS,
                cut_longer=False,
                cache_dir=cache_dir,
            )
        except ClipFileError as err:
            raise RoutineError(routine.source, recording.where, str(err), recording.line) from None
        found[recording] = clip.samples
    return found
