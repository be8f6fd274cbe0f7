"""The log store on real SQLite files: migrations, permissions, foreign files, recorder, edits."""

from __future__ import annotations

import os
import sqlite3
import stat
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from voiceguide.errors import BadInputError, VoiceguideError
from voiceguide.logbook import LogFileError, LogStore, UnknownSessionError
from voiceguide.logbook.migrations import (
    MIGRATIONS,
    MIGRATIONS_TABLE,
    Migration,
    applied_migrations,
    migrate,
)
from voiceguide.paths import Paths

T0 = datetime(2026, 3, 28, 20, 0, tzinfo=UTC)


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "log.sqlite3"


@pytest.fixture
def store(db_path: Path):
    with LogStore(db_path) as opened:
        yield opened


# -- file, schema, migrations --------------------------------------------------------------


def test_new_log_records_its_migrations(db_path: Path) -> None:
    with LogStore(db_path) as store:
        recorded = store.schema_migrations()
    assert [(v, n) for v, n, _ in recorded] == [(m.version, m.name) for m in MIGRATIONS]
    applied_at = datetime.fromisoformat(recorded[0][2])
    assert applied_at.tzinfo is not None
    with sqlite3.connect(db_path) as conn:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        assert {"sessions", "session_steps", MIGRATIONS_TABLE} <= tables
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_reopening_applies_nothing_again(db_path: Path) -> None:
    LogStore(db_path).close()
    with sqlite3.connect(db_path) as conn:
        assert migrate(conn) == []  # already at the latest version
    with LogStore(db_path) as store:
        assert len(store.schema_migrations()) == len(MIGRATIONS)


def test_each_migration_commits_whole_or_not_at_all(tmp_path: Path) -> None:
    conn = sqlite3.connect(tmp_path / "m.sqlite3", isolation_level=None)
    good = Migration(1, "first", ("CREATE TABLE a (x INTEGER)",))
    bad = Migration(2, "second", ("CREATE TABLE b (x INTEGER)", "THIS IS NOT SQL"))
    with pytest.raises(sqlite3.OperationalError):
        migrate(conn, [good, bad])
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert "a" in tables
    assert "b" not in tables  # rolled back with the failing statement
    assert [v for v, _, _ in applied_migrations(conn)] == [1]
    fixed = Migration(2, "second", ("CREATE TABLE b (x INTEGER)",))
    assert migrate(conn, [good, fixed]) == [2]
    conn.close()


def test_memory_store_works_without_files(tmp_path: Path) -> None:
    with LogStore(":memory:") as store:
        session_id = store.begin_session("demo", "left", T0)
        assert store.get(session_id).routine == "demo"
        assert store.path == ":memory:"
    assert list(tmp_path.iterdir()) == []


def test_log_file_is_created_user_only(db_path: Path) -> None:
    old_umask = os.umask(0)  # even with a permissive umask
    try:
        with LogStore(db_path) as store:
            store.add_manual(T0, 50.0, 40.0)
    finally:
        os.umask(old_umask)
    assert mode_of(db_path) == 0o600
    assert mode_of(db_path.parent) == 0o700
    for side_file in (Path(f"{db_path}-wal"), Path(f"{db_path}-shm")):
        if side_file.exists():
            assert mode_of(side_file) & 0o077 == 0


def test_wide_permissions_on_an_existing_log_are_fixed(db_path: Path) -> None:
    with LogStore(db_path) as store:
        store.add_manual(T0, 50.0, 40.0)
    db_path.chmod(0o644)
    with LogStore(db_path) as store:
        assert len(store.sessions()) == 1
    assert mode_of(db_path) == 0o600


def test_paths_log_db_is_used_as_is(voiceguide_home: Path) -> None:
    paths = Paths.from_environment()
    paths.ensure()
    with LogStore(paths.log_db) as store:
        store.add_manual(T0, 10.0, None)
    assert paths.log_db.is_file()
    assert paths.log_db.parent == voiceguide_home / "data"


def _assert_refused(path: Path, *fragments: str) -> None:
    before = path.read_bytes()
    before_mode = mode_of(path)
    with pytest.raises(LogFileError) as caught:
        LogStore(path)
    message = str(caught.value)
    assert "\n" not in message
    assert str(path) in message
    assert f"mv {path} {path}.bak" in message
    for fragment in fragments:
        assert fragment in message
    assert isinstance(caught.value, VoiceguideError)
    assert path.read_bytes() == before  # byte-identical
    assert mode_of(path) == before_mode  # not even the permissions of a foreign file
    assert not Path(f"{path}-wal").exists()


def test_random_bytes_are_refused_untouched(db_path: Path) -> None:
    db_path.parent.mkdir(parents=True)
    db_path.write_bytes(os.urandom(4096))
    db_path.chmod(0o644)
    _assert_refused(db_path, "not an SQLite database")


def test_damaged_sqlite_file_is_refused_untouched(db_path: Path) -> None:
    db_path.parent.mkdir(parents=True)
    db_path.write_bytes(b"SQLite format 3\x00" + os.urandom(2000))
    _assert_refused(db_path, "damaged or not an SQLite database")


def test_foreign_sqlite_database_is_refused_untouched(db_path: Path) -> None:
    db_path.parent.mkdir(parents=True)
    with sqlite3.connect(db_path) as conn:
        conn.execute("CREATE TABLE recipes (name TEXT)")
        conn.execute("INSERT INTO recipes VALUES ('soup')")
    conn.close()
    _assert_refused(db_path, "another program", "recipes")


def test_our_schema_with_a_foreign_table_is_refused(db_path: Path) -> None:
    LogStore(db_path).close()
    with sqlite3.connect(db_path) as conn:
        conn.execute("PRAGMA journal_mode = DELETE")
        conn.execute("CREATE TABLE extras (x)")
    conn.close()
    _assert_refused(db_path, "did not create: extras")


def test_log_from_a_newer_version_is_refused(db_path: Path) -> None:
    LogStore(db_path).close()
    with sqlite3.connect(db_path) as conn:
        conn.execute("PRAGMA journal_mode = DELETE")
        conn.execute(f"INSERT INTO {MIGRATIONS_TABLE} VALUES (99, 'future', '2030-01-01')")
    conn.close()
    _assert_refused(db_path, "newer voiceguide")


def test_a_directory_at_the_log_path_is_refused(db_path: Path) -> None:
    db_path.mkdir(parents=True)
    with pytest.raises(LogFileError, match="not a regular file"):
        LogStore(db_path)


# -- recorder API ---------------------------------------------------------------------------


def test_live_session_is_recorded_step_by_step(store: LogStore) -> None:
    session_id = store.begin_session("hands-on-pumping", "right", T0)
    assert store.get(session_id).status == "unfinished"
    store.step_done(session_id, "massage", 0.0, done_at=T0 + timedelta(minutes=2))
    store.step_done(session_id, "pump", 360.0)
    store.end_session(session_id, T0 + timedelta(minutes=20), finished=True, stopped_at_step=None)
    store.set_amounts(session_id, 60.0, 55.5)
    record = store.get(session_id)
    assert record.source == "live"
    assert record.routine == "hands-on-pumping"
    assert record.first_side == "right"
    assert record.started_at == T0
    assert record.ended_at == T0 + timedelta(minutes=20)
    assert record.steps == ("massage", "pump")
    assert record.finished is True
    assert record.stopped_at_step is None
    assert record.pumping_seconds == 360.0
    assert (record.left_ml, record.right_ml, record.total_ml) == (60.0, 55.5, 115.5)
    assert record.status == "finished"


def test_session_stopped_early_remembers_where(store: LogStore) -> None:
    session_id = store.begin_session("hands-on-pumping", "left", T0)
    store.step_done(session_id, "massage", 0.0)
    store.end_session(session_id, T0 + timedelta(minutes=5), False, "pump", pumping_seconds=95.0)
    record = store.get(session_id)
    assert record.finished is False
    assert record.stopped_at_step == "pump"
    assert record.pumping_seconds == 95.0
    assert record.status == "stopped at pump"


def test_first_side_alternates(store: LogStore) -> None:
    assert store.next_first_side() == "left"
    store.begin_session("r", store.next_first_side(), T0)
    assert store.next_first_side() == "right"
    store.begin_session("r", store.next_first_side(), T0 + timedelta(hours=3))
    assert store.next_first_side() == "left"
    # A manual entry has no first side and does not break the alternation.
    store.add_manual(T0 + timedelta(hours=4), 20.0, 20.0, now=T0 + timedelta(hours=5))
    assert store.next_first_side() == "left"


def test_recorder_refuses_bad_arguments(store: LogStore) -> None:
    with pytest.raises(BadInputError, match="left or right"):
        store.begin_session("r", "middle", T0)
    with pytest.raises(ValueError, match="timezone-aware"):
        store.begin_session("r", "left", datetime(2026, 3, 28, 20, 0))
    with pytest.raises(UnknownSessionError):
        store.step_done(42, "massage", 0.0)
    with pytest.raises(UnknownSessionError):
        store.end_session(42, T0, True, None)
    assert store.sessions() == []


def test_set_amounts_validation_writes_nothing(store: LogStore) -> None:
    session_id = store.begin_session("r", "left", T0)
    store.set_amounts(session_id, 30.0, 20.0)
    for left, right in ((-1.0, 10.0), (10.0, 1000.5), (float("nan"), 1.0)):
        with pytest.raises(BadInputError):
            store.set_amounts(session_id, left, right)
    record = store.get(session_id)
    assert (record.left_ml, record.right_ml) == (30.0, 20.0)


# -- manual entries -------------------------------------------------------------------------


def test_manual_entry_round_trip(store: LogStore) -> None:
    session_id = store.add_manual(T0, 45.0, None, "hospital pump", now=T0 + timedelta(hours=1))
    record = store.get(session_id)
    assert record.source == "manual"
    assert record.status == "manual"
    assert (record.left_ml, record.right_ml, record.total_ml) == (45.0, None, 45.0)
    assert record.note == "hospital pump"
    assert record.first_side is None and record.routine is None


@pytest.mark.parametrize(
    ("left", "right", "when", "message"),
    [
        (-5.0, 10.0, T0, "negative"),
        (10.0, 1001.0, T0, "over 1000 ml"),
        (10.0, 10.0, T0 + timedelta(days=1), "future"),
    ],
)
def test_invalid_manual_entries_write_nothing(
    store: LogStore, left: float, right: float, when: datetime, message: str
) -> None:
    with pytest.raises(BadInputError, match=message):
        store.add_manual(when, left, right, now=T0 + timedelta(minutes=1))
    assert store.sessions() == []


def test_edit_changes_only_what_is_given(store: LogStore) -> None:
    session_id = store.add_manual(T0, 45.0, 30.0, "a", now=T0)
    before = store.get(session_id)
    after = store.edit(session_id, right_ml=35.0, note="b", now=T0)
    assert after == replace(before, right_ml=35.0, note="b")
    moved = store.edit(session_id, started_at=T0 - timedelta(hours=2), now=T0)
    assert moved.started_at == T0 - timedelta(hours=2)
    with pytest.raises(BadInputError, match="nothing to change"):
        store.edit(session_id)
    with pytest.raises(BadInputError, match="over 1000"):
        store.edit(session_id, left_ml=2000.0, note="not saved")
    assert store.get(session_id) == moved
    with pytest.raises(UnknownSessionError, match="no session with id 99"):
        store.edit(99, note="x")


def test_delete_removes_the_session_and_its_steps(store: LogStore, db_path: Path) -> None:
    keep = store.add_manual(T0, 10.0, 10.0, now=T0)
    gone = store.begin_session("r", "left", T0 + timedelta(minutes=1))
    store.step_done(gone, "massage", 0.0)
    store.delete(gone)
    assert [s.id for s in store.sessions()] == [keep]
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("SELECT COUNT(*) FROM session_steps").fetchone()[0] == 0
    with pytest.raises(UnknownSessionError):
        store.delete(gone)


def test_queries_by_time_and_recent(store: LogStore) -> None:
    for hours in (0, 3, 6, 9):
        store.add_manual(T0 + timedelta(hours=hours), float(hours), None, now=T0 + timedelta(1))
    window = store.sessions(since=T0 + timedelta(hours=3), until=T0 + timedelta(hours=9))
    assert [s.left_ml for s in window] == [3.0, 6.0]
    assert [s.left_ml for s in store.recent(2)] == [6.0, 9.0]
    assert [s.left_ml for s in store.sessions()] == [0.0, 3.0, 6.0, 9.0]


def test_ids_are_never_reused(store: LogStore) -> None:
    first = store.add_manual(T0, 1.0, None, now=T0)
    store.delete(first)
    assert store.add_manual(T0, 2.0, None, now=T0) != first


def test_migration_2_keeps_every_session_and_stops_counting_demos_and_early_stops(
    tmp_path: Path,
) -> None:
    path = tmp_path / "log.sqlite3"
    conn = sqlite3.connect(path, isolation_level=None)
    assert migrate(conn, MIGRATIONS[:1]) == [1]  # a log written before `counted` existed
    rows = [
        ("a", "live", "demo", 0.0, None),  # the demo
        ("b", "live", "hands-on-pumping", 0.0, None),  # a start stopped before pumping
        ("c", "live", "hands-on-pumping", 360.0, None),  # a real session
        ("d", "manual", None, 0.0, 60.0),  # typed in by hand
    ]
    for uid, source, routine, pumping, left in rows:
        conn.execute(
            "INSERT INTO sessions (uid, source, started_at, routine, pumping_seconds, left_ml)"
            " VALUES (?, ?, '2026-03-28T20:00:00+00:00', ?, ?, ?)",
            (uid, source, routine, pumping, left),
        )
    conn.close()
    with LogStore(path) as store:
        assert [v for v, _, _ in store.schema_migrations()] == [1, 2]
        counted = {s.uid: s.counted for s in store.sessions()}
    assert counted == {"a": False, "b": False, "c": True, "d": True}
