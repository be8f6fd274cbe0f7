"""Reading a file the user named: a regular file only, never more than a cap, named in every error.

A routine, the settings, a CSV to import or a playlist is whatever the user's path points at:
/dev/zero (endless: reading it whole grew to 20 GB before the kernel stopped it), a FIFO (a
read blocks forever), a folder, a file of 40 GB. So the path is stat'ed first (a device is
never opened: opening some has effects of its own), opened without blocking, checked again on
the open descriptor (a file swapped in between is seen), and read up to its cap. Symbolic
links are followed: a dotfile manager links config.toml to a file elsewhere, and that is fine.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Callable
from pathlib import Path

from voiceguide.errors import BadInputError, VoiceguideError
from voiceguide.files import file_kind

ErrorFactory = Callable[[str], VoiceguideError]
_CHUNK_BYTES = 1 << 20


def _size_words(limit_bytes: int) -> str:
    """1 MiB, 16 MiB, 50 MiB: caps are whole mebibytes (or kibibytes in the tests)."""
    if limit_bytes >= 1 << 20 and limit_bytes % (1 << 20) == 0:
        return f"{limit_bytes >> 20} MiB"
    if limit_bytes >= 1 << 10 and limit_bytes % (1 << 10) == 0:
        return f"{limit_bytes >> 10} KiB"
    return f"{limit_bytes} bytes"


def _refusal(path: Path, mode: int) -> str | None:
    """Why `path` (whose target has `mode`) is not read, in words; None for a regular file."""
    kind = file_kind(mode)
    if kind is None:
        return None
    if os.path.islink(path):
        target = os.path.realpath(path)
        return f"it is a symbolic link to {kind} ({target}), not a regular file"
    return f"it is {kind}, not a regular file"


def read_user_file(
    path: Path, *, limit_bytes: int, what: str, error: ErrorFactory = BadInputError
) -> bytes:
    """The bytes of the regular file at `path` (links followed), at most `limit_bytes` of them.

    Anything else (missing, a folder, a FIFO, a device, a socket, unreadable, larger than the
    cap) raises `error("PATH: cannot read WHAT: why")`; `what` says what the file should be
    ("routine", "settings"; "" for no word).
    """
    prefix = f"{path}: cannot read{' ' + what if what else ''}"
    try:
        found = os.stat(path)
        problem = _refusal(path, found.st_mode)
        if problem is not None:
            raise error(f"{prefix}: {problem}")
        flags = os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC
        descriptor = os.open(path, flags)
    except OSError as exc:
        raise error(f"{prefix}: {_reason(exc)}") from None
    except ValueError:  # a NUL byte in the path
        raise error(f"{prefix}: not a valid path") from None
    try:
        opened = os.fstat(descriptor)
        problem = _refusal(path, opened.st_mode)
        if problem is not None:
            raise error(f"{prefix}: {problem}")
        too_big = error(f"{prefix}: larger than {_size_words(limit_bytes)}")
        if opened.st_size > limit_bytes:
            raise too_big
        chunks: list[bytes] = []
        total = 0
        while True:
            # A file may grow while it is read; one byte past the cap is enough to know.
            chunk = os.read(descriptor, min(_CHUNK_BYTES, limit_bytes + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
            if total > limit_bytes:
                raise too_big
        return b"".join(chunks)
    except OSError as exc:
        raise error(f"{prefix}: {_reason(exc)}") from None
    finally:
        os.close(descriptor)


def _reason(exc: OSError) -> str:
    if exc.errno == errno.EISDIR:
        return "it is a folder, not a regular file"
    return exc.strerror or str(exc)


def decode_text(data: bytes, path: Path | str, *, error: ErrorFactory = BadInputError) -> str:
    """UTF-8 text without its BOM (an editor on Windows adds one); else `error` naming the line."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise error(f"{path}: line {line}: not UTF-8 text (byte {exc.start})") from None
    return text.removeprefix("\ufeff")
