"""Run the real command line in a subprocess, as a user would."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path


def run_cli(
    *args: str, timeout: float = 300, env: dict[str, str] | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "voiceguide", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=full_env,
        cwd=cwd,
        check=False,
    )


def make_device(path: Path) -> Path:
    """A character device node (like /dev/null) at `path`, or skip where nodes cannot be made.

    Tests never aim at the real /dev/null or /dev/full: code that failed to refuse a device
    would rename its temporary file over the machine's own device (as root, it can).
    """
    import pytest

    try:
        os.mknod(path, 0o666 | stat.S_IFCHR, os.makedev(1, 3))
    except PermissionError:
        pytest.skip("making a device node needs root (CAP_MKNOD)")
    return path
