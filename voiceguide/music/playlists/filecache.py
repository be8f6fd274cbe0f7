"""A JSON cache of per-file results, valid while the file's path, size and mtime_ns hold."""

from __future__ import annotations

import json
import logging
import os
import threading
from pathlib import Path
from typing import Any

from voiceguide.errors import BadInputError, OutputError
from voiceguide.files import PRIVATE_MODE, write_own_file
from voiceguide.reading import read_user_file

log = logging.getLogger(__name__)

CACHE_FORMAT_VERSION = 1
MAX_CACHE_BYTES = 64 << 20
"""About 300,000 files' results; a bigger cache file is not one voiceguide wrote."""


def file_key(path: Path) -> tuple[str, int, int] | None:
    """(absolute path, size in bytes, mtime in ns), or None when the file cannot be stat'ed."""
    try:
        info = path.stat()
    except OSError:
        return None
    return str(Path(os.path.abspath(path))), info.st_size, info.st_mtime_ns


class FileResultCache:
    """Results keyed by path and checked against size and mtime_ns; saved as one JSON file.

    A missing or damaged cache file is treated as empty (it is only a cache). Lookups
    and stores are thread-safe; `save()` writes atomically and only when something changed.
    """

    def __init__(self, cache_file: Path, kind: str) -> None:
        self.cache_file = cache_file
        self.kind = kind
        self._lock = threading.Lock()
        self._entries: dict[str, dict[str, Any]] = self._load()
        self._dirty = False

    def _load(self) -> dict[str, dict[str, Any]]:
        if not os.path.lexists(self.cache_file):
            return {}
        try:
            data = json.loads(
                read_user_file(self.cache_file, limit_bytes=MAX_CACHE_BYTES, what="cache")
            )
        except (BadInputError, ValueError, RecursionError) as err:
            # Not a regular file, too big, not JSON, nested thousands deep: start afresh.
            log.warning("ignoring unreadable %s cache %s: %s", self.kind, self.cache_file, err)
            return {}
        if (
            not isinstance(data, dict)
            or data.get("version") != CACHE_FORMAT_VERSION
            or data.get("kind") != self.kind
            or not isinstance(data.get("entries"), dict)
        ):
            log.warning("ignoring %s cache %s in an unknown format", self.kind, self.cache_file)
            return {}
        return {key: value for key, value in data["entries"].items() if isinstance(value, dict)}

    def get(self, path: Path) -> dict[str, Any] | None:
        """The stored result for this file, if the file has not changed since."""
        key = file_key(path)
        if key is None:
            return None
        with self._lock:
            record = self._entries.get(key[0])
        if record is None or record.get("size") != key[1] or record.get("mtime_ns") != key[2]:
            return None
        result = record.get("result")
        return result if isinstance(result, dict) else None

    def put(self, path: Path, result: dict[str, Any]) -> None:
        """Remember a result for the file as it is now (nothing if it cannot be stat'ed)."""
        key = file_key(path)
        if key is None:
            return
        with self._lock:
            self._entries[key[0]] = {"size": key[1], "mtime_ns": key[2], "result": result}
            self._dirty = True

    def save(self) -> None:
        """Write the cache if it changed; a cache that cannot be written is only logged."""
        with self._lock:
            if not self._dirty:
                return
            payload = {"version": CACHE_FORMAT_VERSION, "kind": self.kind, "entries": self._entries}
            text = json.dumps(payload, ensure_ascii=False, sort_keys=True)
            self._dirty = False
        try:
            write_own_file(self.cache_file, text, mode=PRIVATE_MODE)
        except OutputError as err:
            log.warning("could not save %s cache %s: %s", self.kind, self.cache_file, err)
