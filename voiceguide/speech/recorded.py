"""A routine's recordings (`say_audio`, `[audio]`) as clips at the speech level, each once."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from voiceguide.errors import RoutineError
from voiceguide.routine.load import Recording, Routine
from voiceguide.speech.voice import CLIP_PEAK_DBFS

RECORDING_MAX_SECONDS = 60.0
"""A recorded line lasts at most a minute, as a text holds about a minute of speech."""
LOADERS = 2
"""Files processed at once (each is ffprobe, then ffmpeg, then numpy)."""


def load_recordings(routine: Routine, cache_dir: Path) -> dict[Recording, np.ndarray]:
    """Every recording of `routine` as int16 stereo at the mix rate, its peak at the
    synthesized speech's (CLIP_PEAK_DBFS).

    A missing, empty, unreadable, silent or too long file is a RoutineError naming the routine
    file, the line and key (`steps[1].say_audio`) and the path: before any session starts.
    """
    recordings = routine.recordings()
    if not recordings:
        return {}
    from concurrent.futures import ThreadPoolExecutor

    from voiceguide.audioclip import ClipFileError, load_clip

    def load(recording: Recording) -> np.ndarray:
        try:
            return load_clip(
                recording.path,
                peak_dbfs=CLIP_PEAK_DBFS,
                max_seconds=RECORDING_MAX_SECONDS,
                cut_longer=False,
                cache_dir=cache_dir,
            ).samples
        except ClipFileError as err:
            raise RoutineError(routine.source, recording.where, str(err), recording.line) from None

    if len(recordings) == 1:
        return {recordings[0]: load(recordings[0])}
    # A new file waits mostly for ffprobe and ffmpeg: two at a time take half as long on two
    # cores. The first bad one in the routine's order is the error.
    with ThreadPoolExecutor(max_workers=LOADERS) as pool:
        return dict(zip(recordings, pool.map(load, recordings), strict=True))
