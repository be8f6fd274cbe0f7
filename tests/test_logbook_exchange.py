"""CSV and JSON export, CSV import (round trip, idempotent, errors), and the PNG chart."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import sqlite3
import stat
import struct
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from voiceguide.errors import BadInputError
from voiceguide.logbook import DayTotals, LogStore
from voiceguide.logbook.chart import HEIGHT_PX, WIDTH_PX, render_chart
from voiceguide.logbook.exchange import (
    CSV_COLUMNS,
    csv_text,
    export_csv,
    export_json,
    import_csv,
    json_text,
    read_csv,
)
from voiceguide.logbook.fields import escape_cell, unescape_cell
from voiceguide.logbook.records import SESSION_FIELDS, STORED_FIELDS, SessionRecord

DATA = Path(__file__).parent / "data" / "logbook"
T0 = datetime(2026, 3, 28, 20, 0, tzinfo=UTC)
LATER = T0 + timedelta(days=2)


def fill(store: LogStore) -> None:
    """A log with every kind of session and awkward text."""
    live = store.begin_session("hands-on-pumping", "left", T0)
    store.step_done(live, "massage", 0.0)
    store.step_done(live, "pump", 372.5)
    store.end_session(live, T0 + timedelta(minutes=25), True, None)
    store.set_amounts(live, 2 * 29.5735, 61.25)
    stopped = store.begin_session("demo", "right", T0 + timedelta(hours=3))
    store.end_session(stopped, T0 + timedelta(hours=3, minutes=2), False, "pump")
    store.begin_session("hands-on-pumping", "left", T0 + timedelta(hours=6))  # killed
    store.add_manual(
        T0 + timedelta(hours=9), 40.0, None, 'comma, "quotes",\nnew line — ü [b]', now=LATER
    )
    store.add_manual(T0 + timedelta(hours=12), None, None, "", now=LATER)


def without_ids(store: LogStore) -> list:
    return [replace(s, id=0) for s in store.sessions()]


def test_csv_round_trip_gives_the_same_sessions(tmp_path: Path) -> None:
    with LogStore(tmp_path / "a.sqlite3") as source:
        fill(source)
        assert export_csv(source.sessions(), tmp_path / "log.csv") == 5
        expected = without_ids(source)
        text = csv_text(source.sessions())
    with LogStore(tmp_path / "b.sqlite3") as target:
        assert import_csv(target, tmp_path / "log.csv") == (5, 0)
        assert without_ids(target) == expected
        assert csv_text(target.sessions()) == text  # same ids too, in a fresh log
        assert import_csv(target, tmp_path / "log.csv") == (0, 5)  # no duplicates
        assert len(target.sessions()) == 5


def test_import_into_the_same_log_adds_nothing(tmp_path: Path) -> None:
    with LogStore(tmp_path / "a.sqlite3") as store:
        fill(store)
        export_csv(store.sessions(), tmp_path / "log.csv")
        store.delete(store.sessions()[0].id)
        assert import_csv(store, tmp_path / "log.csv") == (1, 4)  # only the deleted one
        assert len(store.sessions()) == 5


def test_committed_fixture_imports_and_exports_unchanged(tmp_path: Path) -> None:
    fixture = DATA / "export-v1.csv"
    with LogStore(tmp_path / "log.sqlite3") as store:
        assert import_csv(store, fixture) == (4, 0)
        sessions = store.sessions()
        exported = list(csv.DictReader(io.StringIO(csv_text(sessions), newline="")))
    # A file from before `counted` (format 1): every session in it counts; nothing else moved.
    original = list(csv.DictReader(io.StringIO(fixture.read_text(encoding="utf-8"), newline="")))
    assert exported == [{**row, "counted": "1"} for row in original]
    assert list(exported[0]) == [*list(original[0])[:-1], "counted", "steps"]
    assert sessions[0].steps[-1] == "hand-express"
    assert sessions[1].status == "stopped at pump"
    assert sessions[1].note == 'stopped: baby woke up, "again"'
    assert sessions[2].note.endswith("— ümlaut")
    assert sessions[3].status == "unfinished"


def test_export_files_are_user_only(tmp_path: Path) -> None:
    with LogStore(":memory:") as store:
        fill(store)
        export_csv(store.sessions(), tmp_path / "log.csv")
        export_json(store.sessions(), tmp_path / "log.json")
    for name in ("log.csv", "log.json"):
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o600


def test_json_export_is_valid_and_complete(tmp_path: Path) -> None:
    with LogStore(":memory:") as store:
        fill(store)
        assert export_json(store.sessions(), tmp_path / "log.json") == 5
    document = json.loads((tmp_path / "log.json").read_text(encoding="utf-8"))
    assert document["format"] == "voiceguide-log"
    assert document["version"] == 2
    sessions = document["sessions"]
    assert [s["source"] for s in sessions] == ["live", "live", "live", "manual", "manual"]
    first = sessions[0]
    assert set(first) == set(CSV_COLUMNS)
    assert first["steps"] == ["massage", "pump"]
    assert first["finished"] is True
    assert first["left_ml"] == pytest.approx(59.147)
    assert first["started_at"] == "2026-03-28T20:00:00+00:00"
    assert sessions[2]["finished"] is None and sessions[2]["ended_at"] is None
    assert sessions[3]["note"].startswith('comma, "quotes",\nnew line')


def _write_csv(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "in.csv"
    path.write_text(",".join(CSV_COLUMNS) + "\n" + body, encoding="utf-8")
    return path


GOOD_ROW = "1,u1,manual,2026-03-28T20:00:00+00:00,,,,,,0,50,50,ok,\n"


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("2,u2,manual,2026-03-28T21:00:00+00:00,,,,,,0,-1,,,\n", "line 3: left_ml"),
        ("2,u2,manual,2026-03-28T21:00:00+00:00,,,,,,0,5000,,,\n", "line 3: left_ml"),
        ("2,u2,manual,yesterday,,,,,,0,1,,,\n", "line 3: started_at"),
        ("2,u2,manual,2026-03-28T21:00:00,,,,,,0,1,,,\n", "line 3: started_at"),
        ("2,u2,robot,2026-03-28T21:00:00+00:00,,,,,,0,1,,,\n", "line 3: source"),
        ("2,u2,live,2026-03-28T21:00:00+00:00,,,up,,,0,1,,,\n", "line 3: first_side"),
        ("2,u2,live,2026-03-28T21:00:00+00:00,,,,maybe,,0,1,,,\n", "line 3: finished"),
        ("2,u2,live,2026-03-28T21:00:00+00:00,,,,,,0,1,,,1,massage\n", "line 3: steps"),
        ("2,,manual,2026-03-28T21:00:00+00:00,,,,,,0,1,,,\n", "line 3: uid"),
    ],
)
def test_bad_rows_are_refused_and_nothing_is_imported(
    tmp_path: Path, row: str, message: str
) -> None:
    path = _write_csv(tmp_path, GOOD_ROW + row)
    with LogStore(tmp_path / "log.sqlite3") as store:
        with pytest.raises(BadInputError, match=message) as caught:
            import_csv(store, path)
        assert str(path) in str(caught.value)
        assert store.sessions() == []


def test_a_foreign_csv_names_the_missing_columns(tmp_path: Path) -> None:
    path = tmp_path / "other.csv"
    path.write_text("date,amount\n2026-03-28,50\n", encoding="utf-8")
    with pytest.raises(BadInputError, match="missing columns: uid, source"):
        read_csv(path)


def test_csv_with_a_bom_and_without_the_id_column(tmp_path: Path) -> None:
    path = tmp_path / "excel.csv"
    columns = [c for c in CSV_COLUMNS if c != "id"]
    path.write_text(
        "\ufeff" + ",".join(columns) + "\nu1,manual,2026-03-28T20:00:00+00:00,,,,,,0,50,,,\n",
        encoding="utf-8",
    )
    [record] = read_csv(path)
    assert record.uid == "u1" and record.left_ml == 50.0


def test_missing_csv_is_bad_input(tmp_path: Path) -> None:
    with pytest.raises(BadInputError, match="cannot read"):
        read_csv(tmp_path / "nope.csv")


# -- chart ------------------------------------------------------------------------------


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def test_chart_is_a_fixed_size_png_with_one_bar_group_per_day(tmp_path: Path) -> None:
    days = [DayTotals(date(2026, 3, 23) + timedelta(n), n, 40.0 * n, 35.0 * n) for n in range(7)]
    out = tmp_path / "chart.png"
    assert render_chart(days, out) == 7
    assert png_size(out) == (WIDTH_PX, HEIGHT_PX) == (1000, 600)
    assert stat.S_IMODE(out.stat().st_mode) == 0o600


@pytest.mark.parametrize("count", [1, 30])
def test_chart_of_empty_and_many_days(tmp_path: Path, count: int) -> None:
    days = [DayTotals(date(2026, 3, 1) + timedelta(n)) for n in range(count)]
    out = tmp_path / "chart.png"
    assert render_chart(days, out, "oz") == count
    assert png_size(out) == (1000, 600)


# -- one declaration of a session's fields -------------------------------------------------


def test_the_declared_fields_are_the_columns_migration_1_made(tmp_path: Path) -> None:
    with LogStore(tmp_path / "log.sqlite3"):
        pass
    conn = sqlite3.connect(tmp_path / "log.sqlite3")
    try:
        table = [(row[1], row[2]) for row in conn.execute("PRAGMA table_info(sessions)")]
    finally:
        conn.close()
    assert table == [(column.name, column.sql_type) for column in STORED_FIELDS]
    assert [c.name for c in SESSION_FIELDS] == [f.name for f in dataclasses.fields(SessionRecord)]
    assert tuple(c.name for c in SESSION_FIELDS) == CSV_COLUMNS


def test_json_keys_and_csv_columns_come_from_the_same_declaration(tmp_path: Path) -> None:
    with LogStore(":memory:") as store:
        fill(store)
        document = json.loads(json_text(store.sessions()))
        header = csv_text(store.sessions()).splitlines()[0].split(",")
    assert [list(s) for s in document["sessions"]] == [header] * 5


# -- CSV formula injection (OWASP): escaped on export, exactly undone on import -------------

TRICKY_TEXTS = [
    '=HYPERLINK("http://evil.example","x")',
    "+1+2",
    "-5 ml, spilled",
    "@SUM(A1:A2)",
    "\tindented",
    "\rcarriage",
    "'=already quoted by the user",
    "''=two quotes",
    "'just a quote",
    "'",
    "plain = fine",
    "a lone CR\rinside, and CRLF\r\ntoo",  # the csv module alone would split this row
    "",
]


@pytest.mark.parametrize("note", TRICKY_TEXTS)
def test_formula_like_text_is_escaped_and_round_trips_exactly(tmp_path: Path, note: str) -> None:
    with LogStore(tmp_path / "a.sqlite3") as source:
        source.add_manual(T0, 60.0, None, note, now=LATER)
        export_csv(source.sessions(), tmp_path / "log.csv")
    [row] = list(csv.DictReader((tmp_path / "log.csv").open(encoding="utf-8", newline="")))
    if note[:1] in tuple("=+-@\t\r") or note.lstrip("'")[:1] in tuple("=+-@\t\r"):
        assert row["note"] == "'" + note  # a spreadsheet shows it as text, never runs it
    else:
        assert row["note"] == note
    assert row["left_ml"] == "60.0"  # numbers are not text: never quoted
    with LogStore(tmp_path / "b.sqlite3") as target:
        assert import_csv(target, tmp_path / "log.csv") == (1, 0)
        [record] = target.sessions()
    assert record.note == note


def test_a_routine_or_step_name_starting_with_a_formula_is_escaped(tmp_path: Path) -> None:
    with LogStore(tmp_path / "a.sqlite3") as source:
        session_id = source.begin_session("=cmd|' /C calc'!A0", "left", T0)
        source.step_done(session_id, "-step", 0.0)
        source.end_session(session_id, T0 + timedelta(minutes=5), False, "-step")
        text = csv_text(source.sessions())
        expected = without_ids(source)
    [row] = list(csv.DictReader(io.StringIO(text)))
    assert row["routine"] == "'=cmd|' /C calc'!A0"
    assert row["stopped_at_step"] == "'-step"
    assert row["steps"] == '["-step"]'  # a JSON list starts with "[": nothing to escape
    path = tmp_path / "log.csv"
    path.write_text(text, encoding="utf-8")
    with LogStore(tmp_path / "b.sqlite3") as target:
        import_csv(target, path)
        assert without_ids(target) == expected


def test_the_json_export_keeps_text_as_it_is(tmp_path: Path) -> None:
    with LogStore(":memory:") as store:
        store.add_manual(T0, None, None, "=1+1", now=LATER)
        document = json.loads(json_text(store.sessions()))
    assert document["sessions"][0]["note"] == "=1+1"


@pytest.mark.parametrize(
    ("text", "cell"),
    [("=1", "'=1"), ("'=1", "''=1"), ("'x", "'x"), ("x=1", "x=1"), ("-", "'-"), ("", "")],
)
def test_escape_and_unescape_are_inverse(text: str, cell: str) -> None:
    assert escape_cell(text) == cell
    assert unescape_cell(cell) == text
