"""Files that hold health data: created readable by the user only (0600), written whole."""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from pathlib import Path

from voiceguide.errors import OutputError

PRIVATE_MODE = 0o600
PRIVATE_DIR_MODE = 0o700


def create_private(path: Path) -> bool:
    """Create `path` empty with mode 0600 unless it exists; True if this call created it.

    os.open with O_EXCL rather than letting a library create it, so the file is never,
    even briefly, readable by others (umask can only take bits away from 0600).
    """
    path.parent.mkdir(parents=True, exist_ok=True, mode=PRIVATE_DIR_MODE)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_MODE)
    except FileExistsError:
        return False
    os.close(descriptor)
    return True


def tighten(path: Path) -> bool:
    """Take group/other permissions off an existing file; True if they had to be removed."""
    mode = stat.S_IMODE(path.stat().st_mode)
    if not mode & 0o077:
        return False
    path.chmod(mode & ~0o077)
    return True


def write_private(path: Path, data: bytes) -> None:
    """Write `data` to `path` atomically (temp file + rename), the result mode 0600.

    Raises OutputError naming the file when it cannot be written.
    """
    directory = path.parent if str(path.parent) else Path()
    temp_name: str | None = None
    try:
        # mkstemp creates the temp file 0600, and the rename keeps that mode.
        descriptor, temp_name = tempfile.mkstemp(prefix=f".{path.name}.", dir=directory)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
        Path(temp_name).replace(path)
        temp_name = None
    except OSError as exc:
        raise OutputError(f"cannot write {path}: {exc.strerror or exc}") from exc
    finally:
        if temp_name is not None:
            with contextlib.suppress(OSError):
                Path(temp_name).unlink()
