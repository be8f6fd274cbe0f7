"""The log's SQLite connection: file checks, WAL, busy timeout, migrations, transactions."""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
import urllib.parse
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from voiceguide.errors import VoiceguideError
from voiceguide.logbook import dbfile
from voiceguide.logbook.dbfile import LogFileError
from voiceguide.logbook.migrations import (
    MIGRATIONS,
    SchemaError,
    applied_migrations,
    current_version,
    migrate,
)

log = logging.getLogger(__name__)

MEMORY = ":memory:"
BUSY_TIMEOUT_SECONDS = 10.0
"""How long a writer waits for another process's transaction (they last milliseconds)."""


def _is_busy(exc: sqlite3.OperationalError) -> bool:
    text = str(exc).lower()
    return "locked" in text or "busy" in text


class LogWriteError(VoiceguideError):
    """The log could not be read or written (disk full, locked for too long, I/O error)."""


def _connect(target: str, *, uri: bool = False) -> sqlite3.Connection:
    conn = sqlite3.connect(
        target,
        timeout=BUSY_TIMEOUT_SECONDS,
        isolation_level=None,  # transactions are explicit: BEGIN IMMEDIATE ... COMMIT
        check_same_thread=False,  # the player may record from its own thread
        uri=uri,
    )
    conn.row_factory = sqlite3.Row
    return conn


def _read_only_uri(path: Path, *, immutable: bool) -> str:
    quoted = urllib.parse.quote(str(path.absolute()))
    return f"file:{quoted}?mode=ro{'&immutable=1' if immutable else ''}"


class Database:
    """One connection to the log, shared by threads under a lock.

    Opening never writes to a file that is not ours: the header and the tables are
    checked first (LogFileError, file untouched). Then WAL mode, so a reader never
    blocks a writer, and a busy timeout, so two writing processes wait for each other.

    `read_only`: for the commands that only read (list, stats, chart, export). Nothing
    is created, migrated or written: a missing log reads as an empty one, a log of an
    older schema is migrated in a copy in memory, and a log in a folder voiceguide may
    not write to (where SQLite cannot make its -shm file) is opened as immutable.
    """

    def __init__(self, path: Path | str, *, read_only: bool = False) -> None:
        self.path: Path | str = MEMORY if str(path) == MEMORY else Path(path)
        self.read_only = read_only
        self._lock = threading.RLock()
        if read_only and isinstance(self.path, Path):
            self._conn = self._open_read_only(self.path)
            return
        if isinstance(self.path, Path):
            dbfile.prepare(self.path)
        try:
            self._conn = _connect(str(self.path))
        except sqlite3.Error as exc:
            raise self.file_error(f"cannot be opened ({exc})") from exc
        try:
            self._open()
        except BaseException:
            self._conn.close()
            raise

    def _open_read_only(self, path: Path) -> sqlite3.Connection:
        """A connection that reads `path` (or an empty log if there is none) and never writes."""
        if not dbfile.check(path):
            empty = _connect(MEMORY)
            migrate(empty)
            return empty
        conn: sqlite3.Connection | None = None
        try:
            for immutable in (False, True):
                try:
                    conn = _connect(_read_only_uri(path, immutable=immutable), uri=True)
                    version = current_version(conn)
                    break
                except sqlite3.OperationalError:
                    # "unable to open": a WAL log whose folder SQLite may not write its
                    # -shm file to. Read as immutable: what was checkpointed into the file.
                    if conn is not None:
                        conn.close()
                        conn = None
                    if immutable:
                        raise
            assert conn is not None
            if version < max(m.version for m in MIGRATIONS):
                copy = _connect(MEMORY)
                conn.backup(copy)
                conn.close()
                conn = copy
                migrate(conn)
            return conn
        except SchemaError as exc:
            if conn is not None:
                conn.close()
            raise self.file_error(str(exc)) from exc
        except sqlite3.OperationalError as exc:
            raise LogWriteError(f"{path}: cannot read the log ({exc})") from exc
        except sqlite3.DatabaseError as exc:
            if conn is not None:
                conn.close()
            raise self.file_error(f"is damaged or not an SQLite database ({exc})") from exc

    def _open(self) -> None:
        conn = self._conn
        try:
            conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_SECONDS * 1000)}")
            # Read-only look first: a foreign or damaged file must not be written to at all.
            version = current_version(conn)
            if isinstance(self.path, Path):
                dbfile.make_private(self.path)
                self._enable_wal()
            conn.execute("PRAGMA foreign_keys = ON")
            # Every commit reaches the disk before the call returns (a power cut included).
            conn.execute("PRAGMA synchronous = FULL")
            if version < max(m.version for m in MIGRATIONS):
                migrate(conn)
        except SchemaError as exc:
            raise self.file_error(str(exc)) from exc
        except sqlite3.OperationalError as exc:
            # Locked, read-only, no space: the file may be fine, so no advice to move it.
            what = "the log stayed locked" if _is_busy(exc) else "cannot use the log"
            raise LogWriteError(f"{self.path}: {what} ({exc})") from exc
        except sqlite3.DatabaseError as exc:
            raise self.file_error(f"is damaged or not an SQLite database ({exc})") from exc

    def _enable_wal(self) -> None:
        # Switching a fresh file to WAL needs an exclusive lock, and SQLite answers "busy"
        # at once instead of calling the busy handler when another process is opening the
        # same file at that moment; so wait here, as the busy timeout would.
        deadline = time.monotonic() + BUSY_TIMEOUT_SECONDS
        while True:
            try:
                mode = self._conn.execute("PRAGMA journal_mode = WAL").fetchall()[0][0]
                break
            except sqlite3.OperationalError as exc:
                if not _is_busy(exc) or time.monotonic() > deadline:
                    raise
                time.sleep(0.005)
        if str(mode).lower() != "wal":
            log.warning("%s: WAL mode unavailable (%s); writers may wait", self.path, mode)

    def file_error(self, reason: str) -> VoiceguideError:
        """The error for a log that cannot be used, naming the file."""
        if isinstance(self.path, Path):
            return LogFileError(self.path, reason)
        return VoiceguideError(f"in-memory log: {reason}")

    def close(self) -> None:
        """Close the connection (committed data is already on disk)."""
        with self._lock:
            self._conn.close()

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction, committed on leaving (durable before the call returns)."""
        if self.read_only:
            raise RuntimeError("the log was opened read-only")  # a bug: reads never write
        with self._lock:
            try:
                self._conn.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as exc:
                raise LogWriteError(f"cannot write to the log {self.path}: {exc}") from exc
            try:
                yield self._conn
                self._conn.execute("COMMIT")
            except BaseException as exc:
                if self._conn.in_transaction:
                    self._conn.execute("ROLLBACK")
                if isinstance(exc, sqlite3.OperationalError):
                    raise LogWriteError(f"cannot write to the log {self.path}: {exc}") from exc
                raise

    def query(self, sql: str, params: Iterable[Any] = ()) -> list[sqlite3.Row]:
        """Run one read statement and return all its rows."""
        with self._lock:
            try:
                return self._conn.execute(sql, tuple(params)).fetchall()
            except sqlite3.OperationalError as exc:
                raise LogWriteError(f"cannot read the log {self.path}: {exc}") from exc
            except sqlite3.DatabaseError as exc:
                raise self.file_error(f"is damaged ({exc})") from exc

    @contextmanager
    def reading(self) -> Iterator[None]:
        """Hold the lock over several reads (one consistent view from this thread)."""
        with self._lock:
            yield

    def schema_migrations(self) -> list[tuple[int, str, str]]:
        """(version, name, applied_at) of each migration recorded in this database."""
        with self._lock:
            return applied_migrations(self._conn)

    def integrity_check(self) -> str:
        """SQLite's own verdict on the file: "ok" when it is sound."""
        return "; ".join(str(row[0]) for row in self.query("PRAGMA integrity_check"))
