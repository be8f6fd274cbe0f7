"""The session log: a small store class over one SQLite file (or ":memory:").

Recorder API for the live player (each call commits at once, so a crash or SIGKILL
loses nothing already said and leaves a session that simply shows as unfinished):

    store = LogStore(paths.log_db)
    side = store.next_first_side()
    session_id = store.begin_session("hands-on-pumping", side, datetime.now(UTC))
    store.step_done(session_id, "massage", pumping_seconds_so_far=0.0)
    store.step_done(session_id, "pump", pumping_seconds_so_far=360.0)
    store.end_session(session_id, datetime.now(UTC), finished=False, stopped_at_step="pump")
    store.set_amounts(session_id, left_ml=60.0, right_ml=45.0)
    store.close()

Several processes may write at once (WAL mode, busy timeout); writers wait for
each other instead of failing.
"""

from __future__ import annotations

import logging
import sqlite3
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any, cast

from voiceguide.errors import BadInputError, shown
from voiceguide.logbook import dbfile
from voiceguide.logbook.database import Database, LogWriteError
from voiceguide.logbook.dbfile import LogFileError
from voiceguide.logbook.records import STORED_FIELDS, SessionRecord
from voiceguide.logbook.times import require_aware, to_db
from voiceguide.logbook.units import amount_to_ml
from voiceguide.sides import SIDE_CHOICES, SIDES, Side, other_side

__all__ = ["LogFileError", "LogStore", "LogWriteError", "UnknownSessionError"]

log = logging.getLogger(__name__)

# Derived from the one declaration of a session's fields (records.SessionRecord).
_COLUMNS = ", ".join(column.name for column in STORED_FIELDS)
_INSERTED = tuple(column for column in STORED_FIELDS if not column.assigned)
_INSERT = (
    f"INSERT INTO sessions ({', '.join(column.name for column in _INSERTED)}) "  # noqa: S608
    f"VALUES ({', '.join('?' for _ in _INSERTED)}) ON CONFLICT (uid) DO NOTHING"
)


MAX_ROW_ID = 2**63 - 1
"""SQLite's largest integer: no session has a larger id, and sqlite3 cannot even ask for one."""


class UnknownSessionError(BadInputError):
    """An id that names no session in the log."""

    def __init__(self, session_id: int) -> None:
        super().__init__(f"no session with id {shown(session_id)} in the log")
        self.session_id = session_id


def _check_side(first_side: str) -> Side:
    for side in SIDES:
        if side == first_side:
            return side
    raise BadInputError(f"first side must be {SIDE_CHOICES}, not {first_side!r}")


class LogStore:
    """The pumping log in one SQLite file; `LogStore(":memory:")` for a throwaway one.

    Opening checks that the file is ours (LogFileError otherwise, file untouched),
    creates it 0600 if missing, and applies pending migrations (`read_only`: none of
    this, for the commands that only read). Methods are safe to call
    from more than one thread; use the store as a context manager or call `close()`.
    """

    def __init__(self, path: Path | str, *, read_only: bool = False) -> None:
        """`read_only`: nothing is created, migrated or written (see Database)."""
        self._db = Database(path, read_only=read_only)
        self.path = self._db.path

    def close(self) -> None:
        """Close the connection (committed data is already on disk)."""
        self._db.close()

    @property
    def files(self) -> tuple[Path, ...]:
        """The log's files on disk (none for an in-memory log): no export may replace them."""
        return dbfile.log_files(self.path) if isinstance(self.path, Path) else ()

    def __enter__(self) -> LogStore:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    @staticmethod
    def _require(conn: sqlite3.Connection, session_id: int) -> None:
        if (
            not 0 < session_id <= MAX_ROW_ID
            or not conn.execute("SELECT 1 FROM sessions WHERE id = ?", (session_id,)).fetchall()
        ):
            raise UnknownSessionError(session_id)

    # -- recorder API for the live player ---------------------------------------------------

    def begin_session(
        self, routine: str, first_side: str, started_at: datetime, *, counted: bool = True
    ) -> int:
        """Record that a live session started; returns its id. Written immediately.

        A session that may not count yet (before its first pumping step) is begun with
        `counted=False`, and `mark_counted` once it does.
        """
        side = _check_side(first_side)
        when = to_db(require_aware(started_at, "started_at"))
        with self._db.write() as conn:
            cursor = conn.execute(
                "INSERT INTO sessions (uid, source, started_at, routine, first_side, counted) "
                "VALUES (?, 'live', ?, ?, ?, ?)",
                (uuid.uuid4().hex, when, routine, side, int(counted)),
            )
        session_id = int(cast(int, cursor.lastrowid))
        log.debug("session %d begun (%s, %s first)", session_id, routine, side)
        return session_id

    def step_done(
        self,
        session_id: int,
        step_id: str,
        pumping_seconds_so_far: float,
        done_at: datetime | None = None,
    ) -> None:
        """Record a completed step and the session's pumping time so far. Written immediately."""
        if pumping_seconds_so_far < 0:
            raise ValueError("pumping_seconds_so_far cannot be negative")
        when = to_db(require_aware(done_at, "done_at") if done_at else datetime.now(UTC))
        with self._db.write() as conn:
            self._require(conn, session_id)
            conn.execute(
                "INSERT INTO session_steps (session_id, position, step_id, done_at, "
                "pumping_seconds) SELECT ?, COALESCE(MAX(position), 0) + 1, ?, ?, ? "
                "FROM session_steps WHERE session_id = ?",
                (session_id, step_id, when, float(pumping_seconds_so_far), session_id),
            )
            conn.execute(
                "UPDATE sessions SET pumping_seconds = ? WHERE id = ?",
                (float(pumping_seconds_so_far), session_id),
            )

    def end_session(
        self,
        session_id: int,
        ended_at: datetime,
        finished: bool,
        stopped_at_step: str | None,
        pumping_seconds: float | None = None,
    ) -> None:
        """Record how the session ended: finished, or stopped early at `stopped_at_step`.

        `pumping_seconds` (optional) replaces the total from the last `step_done`, for a
        session stopped part-way through a pumping step.
        """
        when = to_db(require_aware(ended_at, "ended_at"))
        with self._db.write() as conn:
            self._require(conn, session_id)
            conn.execute(
                "UPDATE sessions SET ended_at = ?, finished = ?, stopped_at_step = ?, "
                "pumping_seconds = COALESCE(?, pumping_seconds) WHERE id = ?",
                (
                    when,
                    int(bool(finished)),
                    None if finished else stopped_at_step,
                    pumping_seconds,
                    session_id,
                ),
            )

    def set_amounts(self, session_id: int, left_ml: float | None, right_ml: float | None) -> None:
        """Record the milk expressed per side in ml (None: not measured).

        Raises BadInputError (nothing written) for negative or over-1000-ml amounts.
        """
        left = amount_to_ml("left", left_ml, "ml")
        right = amount_to_ml("right", right_ml, "ml")
        with self._db.write() as conn:
            self._require(conn, session_id)
            conn.execute(
                "UPDATE sessions SET left_ml = ?, right_ml = ? WHERE id = ?",
                (left, right, session_id),
            )

    def mark_counted(self, session_id: int) -> None:
        """The session reached pumping: it counts (goal, alternating sides)."""
        with self._db.write() as conn:
            self._require(conn, session_id)
            conn.execute("UPDATE sessions SET counted = 1 WHERE id = ?", (session_id,))

    def next_first_side(self) -> Side:
        """The side to start with: the other one than the last counted session's ("left" at
        first). A demo or a start stopped before pumping changes nothing."""
        rows = self._db.query(
            "SELECT first_side FROM sessions WHERE first_side IS NOT NULL AND counted = 1 "
            "ORDER BY started_at DESC, id DESC LIMIT 1"
        )
        if not rows:
            return SIDES[0]
        return other_side(rows[0]["first_side"])

    # -- manual entries ----------------------------------------------------------------------

    def add_manual(
        self,
        started_at: datetime,
        left_ml: float | None,
        right_ml: float | None,
        note: str = "",
        now: datetime | None = None,
    ) -> int:
        """Log a session typed in by hand; returns its id. Nothing is written on bad input."""
        when = self._past(started_at, now)
        left = amount_to_ml("left", left_ml, "ml")
        right = amount_to_ml("right", right_ml, "ml")
        with self._db.write() as conn:
            cursor = conn.execute(
                "INSERT INTO sessions (uid, source, started_at, left_ml, right_ml, note) "
                "VALUES (?, 'manual', ?, ?, ?, ?)",
                (uuid.uuid4().hex, when, left, right, note),
            )
        return int(cast(int, cursor.lastrowid))

    def edit(
        self,
        session_id: int,
        *,
        started_at: datetime | None = None,
        left_ml: float | None = None,
        right_ml: float | None = None,
        note: str | None = None,
        now: datetime | None = None,
    ) -> SessionRecord:
        """Change the given fields of a session (None: keep); returns the session as saved."""
        changes: dict[str, object] = {}
        if started_at is not None:
            changes["started_at"] = self._past(started_at, now)
        if left_ml is not None:
            changes["left_ml"] = amount_to_ml("left", left_ml, "ml")
        if right_ml is not None:
            changes["right_ml"] = amount_to_ml("right", right_ml, "ml")
        if note is not None:
            changes["note"] = note
        if not changes:
            raise BadInputError("nothing to change: give --left, --right, --note or --at")
        assignments = ", ".join(f"{column} = ?" for column in changes)
        with self._db.write() as conn:
            self._require(conn, session_id)
            conn.execute(
                f"UPDATE sessions SET {assignments} WHERE id = ?",  # noqa: S608 (fixed names)
                (*changes.values(), session_id),
            )
        return self.get(session_id)

    def delete(self, session_id: int) -> None:
        """Remove a session and its steps."""
        with self._db.write() as conn:
            self._require(conn, session_id)
            conn.execute("DELETE FROM session_steps WHERE session_id = ?", (session_id,))
            conn.execute("DELETE FROM sessions WHERE id = ?", (session_id,))

    @staticmethod
    def _past(started_at: datetime, now: datetime | None) -> str:
        moment = require_aware(started_at, "started_at")
        reference = require_aware(now, "now") if now is not None else datetime.now(UTC)
        if moment > reference:
            raise BadInputError(f"time {to_db(moment)} is in the future")
        return to_db(moment)

    # -- import ----------------------------------------------------------------------------

    def insert_records(self, records: Iterable[SessionRecord]) -> tuple[int, int]:
        """Add sessions (e.g. from an export) in one transaction, skipping uids already here.

        The records' ids are ignored (new ids are given). Returns (added, skipped).
        """
        added = skipped = 0
        with self._db.write() as conn:
            for record in records:
                cursor = conn.execute(
                    _INSERT,
                    [column.codec.to_db(getattr(record, column.name)) for column in _INSERTED],
                )
                if cursor.rowcount != 1:
                    skipped += 1
                    continue
                added += 1
                conn.executemany(
                    "INSERT INTO session_steps (session_id, position, step_id) VALUES (?, ?, ?)",
                    [(cursor.lastrowid, n, step) for n, step in enumerate(record.steps, 1)],
                )
        return added, skipped

    # -- queries ---------------------------------------------------------------------------

    def get(self, session_id: int) -> SessionRecord:
        """One session by id (UnknownSessionError if there is none)."""
        if not 0 < session_id <= MAX_ROW_ID:
            raise UnknownSessionError(session_id)
        found = self._select("WHERE id = ?", (session_id,))
        if not found:
            raise UnknownSessionError(session_id)
        return found[0]

    def sessions(
        self, since: datetime | None = None, until: datetime | None = None
    ) -> list[SessionRecord]:
        """Sessions started in [since, until), oldest first; all of them by default."""
        clauses: list[str] = []
        params: list[str] = []
        if since is not None:
            clauses.append("started_at >= ?")
            params.append(to_db(since))
        if until is not None:
            clauses.append("started_at < ?")
            params.append(to_db(until))
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        return self._select(where, params)

    def recent(self, limit: int) -> list[SessionRecord]:
        """The last `limit` sessions, oldest first (so the newest is at the bottom)."""
        where = "WHERE id IN (SELECT id FROM sessions ORDER BY started_at DESC, id DESC LIMIT ?)"
        return self._select(where, (min(max(0, limit), MAX_ROW_ID),))

    def _select(self, where: str, params: Iterable[Any]) -> list[SessionRecord]:
        params = tuple(params)
        with self._db.reading():
            rows = self._db.query(
                f"SELECT {_COLUMNS} FROM sessions {where} ORDER BY started_at, id",  # noqa: S608
                params,
            )
            steps = self._db.query(
                "SELECT session_id, step_id FROM session_steps "  # noqa: S608 (fixed clauses)
                f"WHERE session_id IN (SELECT id FROM sessions {where}) "
                "ORDER BY session_id, position",
                params,
            )
        by_session: dict[int, list[str]] = {}
        for step in steps:
            by_session.setdefault(int(step["session_id"]), []).append(str(step["step_id"]))
        return [_record(row, tuple(by_session.get(int(row["id"]), ()))) for row in rows]

    def schema_migrations(self) -> list[tuple[int, str, str]]:
        """(version, name, applied_at) of each migration recorded in this database."""
        return self._db.schema_migrations()

    def integrity_check(self) -> str:
        """SQLite's own verdict on the file: "ok" when it is sound."""
        return self._db.integrity_check()


def _record(row: sqlite3.Row, steps: tuple[str, ...]) -> SessionRecord:
    values = {column.name: column.codec.from_db(row[column.name]) for column in STORED_FIELDS}
    return SessionRecord(**values, steps=steps)
