"""The session's chimes: the bundled ones, or the user's own (config.toml or the routine)."""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

import numpy as np

from voiceguide.audioformat import INT16_FULL_SCALE
from voiceguide.config import Config
from voiceguide.errors import one_line
from voiceguide.music import bundled
from voiceguide.paths import Paths
from voiceguide.routine.load import Routine

CHIME_MAX_SECONDS = 5.0
"""An own chime longer than this is cut (with a warning): a chime marks a moment."""


def session_chimes(
    config: Config, routine: Routine, paths: Paths, warn: Callable[[str], None]
) -> tuple[np.ndarray, np.ndarray]:
    """The step chime and the end chime, int16 stereo at the mix rate.

    The routine's `[audio]` chimes come first, then config.toml's `chime` and `end_chime`,
    then the bundled ones. An own chime is brought to the bundled chime's peak; one that
    cannot be used is a warning, and the bundled chime plays instead.
    """
    own = {
        bundled.CHIME_FILE: ("chime", routine.audio.chime, config.chime),
        bundled.END_CHIME_FILE: ("end_chime", routine.audio.end_chime, config.end_chime),
    }
    chimes = []
    for name, (key, in_routine, in_config) in own.items():
        chime = bundled.load_chime(name)
        if in_routine is not None:
            path, where = in_routine.path, f"{routine.source}: audio.{key}"
        elif in_config is not None:
            path = paths.config_dir / Path(in_config).expanduser()
            where = f"{paths.config_file}: {key}"
        else:
            chimes.append(chime)
            continue
        chimes.append(_own_chime(path, where, chime, paths, warn))
    return chimes[0], chimes[1]


def _own_chime(
    path: Path, where: str, fallback: np.ndarray, paths: Paths, warn: Callable[[str], None]
) -> np.ndarray:
    from voiceguide.audioclip import ClipFileError, load_clip

    peak = int(np.abs(fallback.astype(np.int32)).max())
    try:
        clip = load_clip(
            path,
            peak_dbfs=20 * math.log10(peak / INT16_FULL_SCALE),
            max_seconds=CHIME_MAX_SECONDS,
            cut_longer=True,
            cache_dir=paths.clip_cache_dir,
        )
    except ClipFileError as err:
        warn(f"{where}: {err}; the bundled chime plays instead")
        return fallback
    if clip.cut:
        warn(f"{where}: {one_line(path)}: longer than {CHIME_MAX_SECONDS:g} s; cut to that")
    return clip.samples
