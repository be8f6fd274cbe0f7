"""Writing files whole or not at all, and never over anything the user did not offer.

Every file voiceguide writes goes through here: a temporary file in the target's folder
(`.NAME.voiceguide-tmp-XXXXXXXX`) is given its mode explicitly (the umask plays no part),
filled, flushed to the disk, renamed over the target, and the folder is flushed so the
rename survives a power cut. On any failure, Ctrl-C included, the temporary file is
removed and the target is exactly as it was. Only SIGKILL or a power cut can leave one
behind: the next write to the same target removes those more than an hour old.

A path the user named (an export, a chart, a rendered session, a plan) is checked first:
a new name may be written; an existing regular file only with --force; a symbolic link,
a FIFO, a device or a folder never; and never a file the same command reads (its music,
its routine), --force or not. voiceguide's own files (stored playlists, caches, the
first-run marker) are replaced without asking.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import re
import stat
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path
from types import TracebackType

from voiceguide.errors import BadInputError, OutputError, from_os_error

log = logging.getLogger(__name__)

PRIVATE_MODE = 0o600
"""Health data (the log, its exports, its chart): readable by the user only."""
PRIVATE_FOLDER_MODE = 0o700
"""voiceguide's folders: the data folder holds health data."""
SHARED_MODE = 0o644
"""Rendered sessions, plans, exported playlists: other users' players may open them."""
TEMP_MARK = ".voiceguide-tmp-"
"""In every temporary file's name, so a leftover (after a power cut) is recognisable."""
_NAME_BYTES_IN_TEMP = 100
"""The target's name is cut to this (UTF-8 bytes) in the temporary name, which must stay
under 255 bytes."""
_TEMP_RANDOM = r"[a-z0-9_]{8}"
"""What `tempfile.mkstemp` puts between the prefix and the suffix."""
STALE_TEMP_SECONDS = 3600.0
"""A temporary file this old is a leftover of a killed run, not a write in progress."""
_NO_HARD_LINKS = {errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EMLINK, errno.ENOSYS}


def _folder(path: Path) -> Path:
    return path.parent if str(path.parent) else Path()


def make_private_folder(path: Path) -> None:
    """Create `path` and any missing parent, each user-only (0700) whatever the umask.

    Folders that exist already are left as they are. OSError if one cannot be made.
    """
    missing: list[Path] = []
    for folder in (path, *path.parents):
        if folder.is_dir():
            break
        if folder.exists() or folder.is_symlink():  # a file (or a broken link) in the way
            raise NotADirectoryError(errno.ENOTDIR, os.strerror(errno.ENOTDIR), str(folder))
        missing.append(folder)
    for folder in reversed(missing):
        try:
            folder.mkdir(mode=PRIVATE_FOLDER_MODE)
        except FileExistsError:
            if not folder.is_dir():
                raise
            continue  # made by another process meanwhile: it is that one's to set
        os.chmod(folder, PRIVATE_FOLDER_MODE)  # mkdir's mode is masked by the umask


def _temp_prefix(path: Path) -> str:
    name = path.name.encode()[:_NAME_BYTES_IN_TEMP].decode(errors="ignore")
    return f".{name}{TEMP_MARK}"


def remove_stale_temps_in(folder: Path, *, older_than: float = STALE_TEMP_SECONDS) -> int:
    """Remove every temporary file in `folder` that a killed run left (older than
    `older_than` seconds), whatever its target; returns how many."""
    pattern = re.compile(r"\..*" + re.escape(TEMP_MARK) + _TEMP_RANDOM + r"[^/]*$")
    try:
        names = [name for name in os.listdir(folder) if TEMP_MARK in name]
    except OSError:
        return 0
    return _remove_old(folder, [name for name in names if pattern.match(name)], older_than)


def _remove_old(folder: Path, names: list[str], older_than: float) -> int:
    removed = 0
    now = time.time()
    for name in names:
        candidate = folder / name
        try:
            info = os.lstat(candidate)
            if stat.S_ISREG(info.st_mode) and now - info.st_mtime > older_than:
                candidate.unlink()
                removed += 1
                log.info("removed %s, left by an earlier run that was killed", candidate)
        except OSError:
            continue
    return removed


def remove_stale_temps(
    path: Path, suffix: str = "", *, older_than: float = STALE_TEMP_SECONDS
) -> int:
    """Remove temporary files of earlier writes to `path` (killed runs) older than
    `older_than` seconds; returns how many. A younger one may be another process's write."""
    folder = _folder(path)
    prefix = _temp_prefix(path)
    pattern = re.compile(re.escape(prefix) + _TEMP_RANDOM + re.escape(suffix) + "$")
    try:
        names = [name for name in os.listdir(folder) if name.startswith(prefix)]
    except OSError:
        return 0
    return _remove_old(folder, [name for name in names if pattern.match(name)], older_than)


def file_kind(mode: int) -> str | None:
    """What a non-regular file is, in words; None for a regular file."""
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISLNK(mode):
        return "a symbolic link"
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def _is_one_of(found: os.stat_result, inputs: Iterable[Path]) -> bool:
    """Whether `found` is the same file as one of `inputs` (same inode: links count too)."""
    for candidate in inputs:
        try:
            other = os.stat(candidate)
        except (OSError, ValueError):
            continue
        if (other.st_dev, other.st_ino) == (found.st_dev, found.st_ino):
            return True
    return False


def check_target(path: Path, *, force: bool, inputs: Iterable[Path] = ()) -> None:
    """Refuse (BadInputError, exit 2) to write to `path` unless voiceguide may.

    A new name in an existing folder may be written; an existing regular file only with
    `force`; anything else (a symbolic link, FIFO, device, socket, folder) never, and
    never the same file as one of `inputs` (what the command reads), even with `force`.
    """
    try:
        found = os.lstat(path)
    except (FileNotFoundError, NotADirectoryError):
        folder = _folder(path)
        if not folder.is_dir():
            raise BadInputError(f"{path}: the folder {folder} does not exist") from None
        return
    except OSError as exc:
        raise from_os_error(exc, path, doing="cannot be checked", error=BadInputError) from None
    kind = file_kind(found.st_mode)
    if kind is not None:
        raise BadInputError(
            f"{path}: is {kind}; voiceguide writes only to a new file or over a regular file"
        )
    if _is_one_of(found, inputs):
        raise BadInputError(
            f"{path}: is one of this command's inputs; write the output to another file"
        )
    if not force:
        raise BadInputError(f"{path}: already exists; use --force to overwrite it")


def _sync_folder(folder: Path) -> None:
    """Flush a folder's entries (a rename is durable only then); best effort."""
    try:
        descriptor = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return  # a folder we may write to but not read cannot be flushed; the rename stands
    try:
        os.fsync(descriptor)
    except OSError as exc:
        if exc.errno not in (errno.EINVAL, errno.ENOTSUP, errno.EOPNOTSUPP):
            raise
    finally:
        os.close(descriptor)


class PendingFile:
    """A temporary file next to `path` that becomes `path` on `commit()`, or goes on `discard()`.

    For writers that need a file name (a WAV writer, ffmpeg): they write `temp`. Used as a
    context manager it commits on success and discards on any exception. `owned`: the file
    is voiceguide's own: its folder is made if missing (user-only) and it is replaced
    without checks; otherwise `check_target` rules apply, at creation and again at the
    moment of the rename. `cache`: a file that can be made again (a spoken clip), one of
    thousands in its folder: not flushed to the disk (a clip lost to a power cut is made
    again), and the folder's leftovers are removed once per session (see
    `remove_stale_temps_in`) rather than at each write.
    """

    def __init__(
        self,
        path: Path,
        *,
        mode: int,
        force: bool = False,
        inputs: Iterable[Path] = (),
        owned: bool = False,
        suffix: str = "",
        cache: bool = False,
    ) -> None:
        self.path = path
        self.mode = mode
        self.force = force
        self.inputs = tuple(inputs)
        self.owned = owned
        self.cache = cache
        if owned:
            try:
                make_private_folder(_folder(path))
            except OSError as exc:
                raise from_os_error(
                    exc, _folder(path), doing="cannot make this folder", error=OutputError
                ) from None
        else:
            check_target(path, force=force, inputs=self.inputs)
        if not cache:
            remove_stale_temps(path, suffix)
        try:
            descriptor, name = tempfile.mkstemp(
                prefix=_temp_prefix(path), suffix=suffix, dir=_folder(path)
            )
        except OSError as exc:
            raise from_os_error(exc, path, doing="cannot write here", error=OutputError) from None
        self.temp: Path | None = Path(name)
        try:
            os.fchmod(descriptor, mode)
        except BaseException:
            os.close(descriptor)
            self.discard()
            raise
        os.close(descriptor)

    def write(self, data: bytes) -> None:
        """Fill the temporary file with `data` (replacing what it held)."""
        assert self.temp is not None, "write after commit or discard"
        try:
            with self.temp.open("wb") as handle:
                handle.write(data)
        except OSError as exc:
            raise from_os_error(exc, self.path, doing="cannot write", error=OutputError) from None

    def commit(self) -> None:
        """Flush the temporary file to the disk and put it in place of `path`."""
        assert self.temp is not None, "commit after commit or discard"
        try:
            if not self.cache:
                descriptor = os.open(self.temp, os.O_RDONLY)
                try:
                    os.fsync(descriptor)
                finally:
                    os.close(descriptor)
            if self._move_into_place(self.temp):
                self.temp = None
            if not self.cache:
                _sync_folder(_folder(self.path))
        except OSError as exc:
            raise from_os_error(exc, self.path, doing="cannot write", error=OutputError) from None
        finally:
            self.discard()  # after a hard link, the temporary name is still there

    def _move_into_place(self, temp: Path) -> bool:
        """Rename or hard-link `temp` to `path`; True if it was renamed (`temp` is gone)."""
        if self.owned or self.force:
            if not self.owned:
                # Checked again at the last moment: the path may have changed meanwhile.
                check_target(self.path, force=True, inputs=self.inputs)
            os.replace(temp, self.path)
            return True
        try:
            # A hard link never replaces anything: a file that appeared meanwhile is kept.
            os.link(temp, self.path)
        except FileExistsError:
            check_target(self.path, force=False, inputs=self.inputs)
            raise  # check_target has refused already; this is for a race it could not see
        except OSError as exc:
            if exc.errno not in _NO_HARD_LINKS:
                raise
            check_target(self.path, force=False, inputs=self.inputs)
            os.replace(temp, self.path)
            return True
        return False

    def discard(self) -> None:
        """Remove the temporary file (nothing happens to `path`); safe to call twice."""
        if self.temp is not None:
            with contextlib.suppress(OSError):
                self.temp.unlink()
            self.temp = None

    def __enter__(self) -> PendingFile:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None:
            self.commit()
        else:
            self.discard()


def _as_bytes(data: bytes | str) -> bytes:
    return data.encode("utf-8") if isinstance(data, str) else data


def write_file(
    path: Path,
    data: bytes | str,
    *,
    mode: int,
    force: bool = False,
    inputs: Iterable[Path] = (),
) -> None:
    """Write `data` (text as UTF-8) to a path the user named, whole, under `check_target` rules."""
    with PendingFile(path, mode=mode, force=force, inputs=inputs) as pending:
        pending.write(_as_bytes(data))


def write_own_file(path: Path, data: bytes | str, *, mode: int) -> None:
    """Write `data` (text as UTF-8) whole to one of voiceguide's own files, replacing it."""
    with PendingFile(path, mode=mode, owned=True) as pending:
        pending.write(_as_bytes(data))
