"""Schema migrations: numbered, each applied in its own transaction, recorded in the database."""

from __future__ import annotations

import logging
import re
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

log = logging.getLogger(__name__)

MIGRATIONS_TABLE = "voiceguide_migrations"
_CREATE_TABLE = re.compile(r"CREATE\s+TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?(\w+)", re.IGNORECASE)


@dataclass(frozen=True)
class Migration:
    """One schema change. Statements run one by one (never executescript, which commits)."""

    version: int
    name: str
    statements: tuple[str, ...]

    @property
    def tables(self) -> set[str]:
        """Tables this migration creates (how a foreign database is told apart)."""
        return {m.group(1) for s in self.statements for m in _CREATE_TABLE.finditer(s)}


MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        1,
        "sessions and their completed steps",
        (
            """CREATE TABLE sessions (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                uid TEXT NOT NULL UNIQUE,
                source TEXT NOT NULL CHECK (source IN ('live', 'manual')),
                started_at TEXT NOT NULL,
                ended_at TEXT,
                routine TEXT,
                first_side TEXT CHECK (first_side IN ('left', 'right')),
                finished INTEGER CHECK (finished IN (0, 1)),
                stopped_at_step TEXT,
                pumping_seconds REAL NOT NULL DEFAULT 0 CHECK (pumping_seconds >= 0),
                left_ml REAL CHECK (left_ml >= 0),
                right_ml REAL CHECK (right_ml >= 0),
                note TEXT NOT NULL DEFAULT ''
            )""",
            "CREATE INDEX sessions_by_start ON sessions (started_at)",
            """CREATE TABLE session_steps (
                session_id INTEGER NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
                position INTEGER NOT NULL,
                step_id TEXT NOT NULL,
                done_at TEXT,
                pumping_seconds REAL,
                PRIMARY KEY (session_id, position)
            )""",
        ),
    ),
    Migration(
        2,
        "sessions that count: pumping sessions, not demos or starts stopped before pumping",
        (
            "ALTER TABLE sessions ADD COLUMN counted INTEGER NOT NULL DEFAULT 1"
            " CHECK (counted IN (0, 1))",
            # Before this, every start was logged: a demo, or a live session that never
            # reached pumping (no pumping time, no amounts), does not count.
            "UPDATE sessions SET counted = 0 WHERE source = 'live' AND (routine = 'demo'"
            " OR (pumping_seconds = 0 AND left_ml IS NULL AND right_ml IS NULL))",
        ),
    ),
)


class SchemaError(Exception):
    """The database is not (or not yet understood as) a voiceguide log; says why."""


def _user_tables(conn: sqlite3.Connection) -> set[str]:
    rows = conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
    ).fetchall()
    return {str(row[0]) for row in rows}


def current_version(conn: sqlite3.Connection, migrations: Sequence[Migration] = MIGRATIONS) -> int:
    """The schema version of an existing database (0: empty), without writing anything.

    Raises SchemaError for a database that holds other tables, lacks the migrations
    table, or was migrated by a newer voiceguide.
    """
    tables = _user_tables(conn)
    if not tables:
        return 0
    if MIGRATIONS_TABLE not in tables:
        shown = ", ".join(sorted(tables)[:5])
        raise SchemaError(f"is an SQLite database of another program (tables: {shown})")
    try:
        row = conn.execute(f"SELECT MAX(version) FROM {MIGRATIONS_TABLE}").fetchall()[0]  # noqa: S608
    except sqlite3.OperationalError as exc:
        raise SchemaError(f"has a damaged {MIGRATIONS_TABLE} table ({exc})") from exc
    version = int(row[0] or 0)
    known = max((m.version for m in migrations), default=0)
    if version > known:
        raise SchemaError(
            f"was written by a newer voiceguide (schema {version}, this one knows {known})"
        )
    ours = {MIGRATIONS_TABLE}.union(*(m.tables for m in migrations))
    foreign = tables - ours
    if foreign:
        raise SchemaError(f"has tables voiceguide did not create: {', '.join(sorted(foreign))}")
    return version


def migrate(conn: sqlite3.Connection, migrations: Sequence[Migration] = MIGRATIONS) -> list[int]:
    """Apply the migrations not yet recorded, in order; return the versions applied here.

    The connection must be in autocommit mode (isolation_level=None). Each migration and
    its record commit together or not at all; BEGIN IMMEDIATE plus a re-read of the
    version inside the transaction makes two processes starting at once safe.
    """
    applied: list[int] = []
    before = _recorded_version(conn)
    for migration in sorted(migrations, key=lambda m: m.version):
        if migration.version <= before:
            continue
        conn.execute("BEGIN IMMEDIATE")
        try:
            conn.execute(
                f"CREATE TABLE IF NOT EXISTS {MIGRATIONS_TABLE} ("
                "version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
            )
            done = bool(
                conn.execute(
                    f"SELECT 1 FROM {MIGRATIONS_TABLE} WHERE version = ?",  # noqa: S608
                    (migration.version,),
                ).fetchall()
            )
            if not done:
                for statement in migration.statements:
                    conn.execute(statement)
                conn.execute(
                    f"INSERT INTO {MIGRATIONS_TABLE} (version, name, applied_at) "  # noqa: S608
                    "VALUES (?, ?, ?)",
                    (
                        migration.version,
                        migration.name,
                        datetime.now(UTC).isoformat(timespec="seconds"),
                    ),
                )
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
        if not done:
            log.info("log schema migrated to version %d (%s)", migration.version, migration.name)
            applied.append(migration.version)
    return applied


def _recorded_version(conn: sqlite3.Connection) -> int:
    if MIGRATIONS_TABLE not in _user_tables(conn):
        return 0
    row = conn.execute(f"SELECT MAX(version) FROM {MIGRATIONS_TABLE}").fetchall()[0]  # noqa: S608
    return int(row[0] or 0)


def applied_migrations(conn: sqlite3.Connection) -> list[tuple[int, str, str]]:
    """(version, name, applied_at) for every migration recorded in the database."""
    rows = conn.execute(
        f"SELECT version, name, applied_at FROM {MIGRATIONS_TABLE} ORDER BY version"  # noqa: S608
    ).fetchall()
    return [(int(v), str(n), str(a)) for v, n, a in rows]
