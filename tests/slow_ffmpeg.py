"""An ffmpeg that starts late: the real one behind a `sleep`, first on PATH.

A loaded machine took 2.2 s to get the first samples out of a new ffmpeg (tens of ms idle);
this makes that delay happen on every machine, with nothing else changed.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path


def slow_ffmpeg_path(folder: Path, delay_seconds: float) -> str:
    """A PATH value whose ffmpeg is the real one, started `delay_seconds` late."""
    others = [entry for entry in os.environ["PATH"].split(os.pathsep) if entry != str(folder)]
    real = shutil.which("ffmpeg", path=os.pathsep.join(others))  # never the wrapper itself
    assert real is not None
    folder.mkdir(parents=True, exist_ok=True)
    wrapper = folder / "ffmpeg"
    wrapper.write_text(f'#!/bin/sh\nsleep {delay_seconds}\nexec "{real}" "$@"\n')
    wrapper.chmod(0o755)
    return os.pathsep.join([str(folder), *others])
