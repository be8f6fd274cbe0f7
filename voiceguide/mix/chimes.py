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


def own_chimes(config: Config, routine: Routine, paths: Paths) -> dict[str, tuple[Path, str]]:
    """The own chime files, by bundled name (CHIME_FILE, END_CHIME_FILE), each with the place
    that names it: the routine's `[audio]` first, then config.toml (relative to its folder)."""
    chosen = {}
    for name, key, in_routine, in_config in (
        (bundled.CHIME_FILE, "chime", routine.audio.chime, config.chime),
        (bundled.END_CHIME_FILE, "end_chime", routine.audio.end_chime, config.end_chime),
    ):
        if in_routine is not None:
            chosen[name] = (in_routine.path, f"{routine.source}: audio.{key}")
        elif in_config is not None:
            try:
                path = paths.config_dir / Path(in_config).expanduser()
            except RuntimeError:  # ~name of no user: the file cannot be found, and is warned of
                path = paths.config_dir / in_config
            chosen[name] = (path, f"{paths.config_file}: {key}")
    return chosen


def session_chimes(
    config: Config, routine: Routine, paths: Paths, warn: Callable[[str], None]
) -> tuple[np.ndarray, np.ndarray]:
    """The step chime and the end chime, int16 stereo at the mix rate.

    An own chime is brought to the bundled chime's peak; one that cannot be used is a
    warning, and the bundled chime plays instead.
    """
    own = own_chimes(config, routine, paths)
    chimes = []
    for name in (bundled.CHIME_FILE, bundled.END_CHIME_FILE):
        chime = bundled.load_chime(name)
        if name in own:
            chime = _own_chime(*own[name], chime, paths, warn)
        chimes.append(chime)
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
