"""Where the engines write raw speech: a user-only folder per process, in the voice cache.

The raw files hold the spoken text, so they stay in voiceguide's own folder, never in the
system's temporary folder. Each process has its `.work-PID-XXXXXXXX`; the folder goes when
the voice is closed, and one left by a killed process is removed by the next.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from pathlib import Path

from voiceguide.files import make_private_folder

WORK_PREFIX = ".work-"
_STALE_SECONDS = 24 * 3600.0
"""A work folder this old is a leftover even if its process id is in use again."""


class WorkFolder:
    """This process's folder in `cache_dir`, made on first use.

    If the cache cannot be written, a private folder in the system's temporary folder is
    used instead (mkdtemp makes it 0700), and `problem` says why.
    """

    def __init__(self, cache_dir: Path) -> None:
        self.cache_dir = cache_dir
        self.problem: OSError | None = None
        self._path: Path | None = None

    @property
    def in_cache(self) -> bool:
        """Whether the folder is in the cache (then clips can be stored there too)."""
        return self.problem is None

    def path(self) -> Path:
        """The folder, made now if it was not yet."""
        if self._path is None:
            try:
                make_private_folder(self.cache_dir)
                prefix = f"{WORK_PREFIX}{os.getpid()}-"
                self._path = Path(tempfile.mkdtemp(prefix=prefix, dir=self.cache_dir))
            except OSError as err:
                self.problem = err
                self._path = Path(tempfile.mkdtemp(prefix="voiceguide-"))
        return self._path

    def remove(self) -> None:
        """Remove the folder and what is in it (a later `path()` makes a new one)."""
        if self._path is not None:
            shutil.rmtree(self._path, ignore_errors=True)
            self._path = None


def remove_stale_work(cache_dir: Path) -> None:
    """Remove work folders of processes that are gone (or more than a day old)."""
    try:
        names = [name for name in os.listdir(cache_dir) if name.startswith(WORK_PREFIX)]
    except OSError:
        return
    for name in names:
        folder = cache_dir / name
        pid_text = name[len(WORK_PREFIX) :].split("-", 1)[0]
        try:
            old = time.time() - folder.stat().st_mtime > _STALE_SECONDS
        except OSError:
            continue
        if old or not (pid_text.isdigit() and _alive(int(pid_text))):
            shutil.rmtree(folder, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # another user's process: alive
    return True
