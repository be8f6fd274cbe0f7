"""Export the log as CSV or JSON, and import a CSV export (again and again, without duplicates).

Amounts are always millilitres and times UTC ISO-8601 in these files, whatever the
display unit, so a file means the same on every machine. Steps are a JSON list in
one CSV column. The `uid` column makes import idempotent.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from voiceguide.errors import BadInputError
from voiceguide.logbook.files import write_private
from voiceguide.logbook.records import SIDES, SOURCES, SessionRecord
from voiceguide.logbook.store import LogStore
from voiceguide.logbook.times import from_db, to_db
from voiceguide.logbook.units import MAX_ML_PER_SIDE

FORMAT_NAME = "voiceguide-log"
FORMAT_VERSION = 1
CSV_COLUMNS = (
    "id",
    "uid",
    "source",
    "started_at",
    "ended_at",
    "routine",
    "first_side",
    "finished",
    "stopped_at_step",
    "pumping_seconds",
    "left_ml",
    "right_ml",
    "note",
    "steps",
)
_OPTIONAL_ON_IMPORT = {"id"}


def _as_dict(record: SessionRecord) -> dict[str, Any]:
    """A session as plain JSON-able values (the shape of both export formats)."""
    return {
        "id": record.id,
        "uid": record.uid,
        "source": record.source,
        "started_at": to_db(record.started_at),
        "ended_at": to_db(record.ended_at) if record.ended_at else None,
        "routine": record.routine,
        "first_side": record.first_side,
        "finished": record.finished,
        "stopped_at_step": record.stopped_at_step,
        "pumping_seconds": record.pumping_seconds,
        "left_ml": record.left_ml,
        "right_ml": record.right_ml,
        "note": record.note,
        "steps": list(record.steps),
    }


def csv_text(records: Iterable[SessionRecord]) -> str:
    """The CSV export: a header row, then one row per session."""
    buffer = io.StringIO(newline="")
    writer = csv.DictWriter(buffer, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for record in records:
        row = _as_dict(record)
        row["finished"] = "" if record.finished is None else int(record.finished)
        row["steps"] = json.dumps(row["steps"]) if record.steps else ""
        writer.writerow({key: "" if value is None else value for key, value in row.items()})
    return buffer.getvalue()


def json_text(records: Iterable[SessionRecord]) -> str:
    """The JSON export: {"format", "version", "sessions": [...]}; UTF-8, indented."""
    document = {
        "format": FORMAT_NAME,
        "version": FORMAT_VERSION,
        "units": {"amounts": "ml", "times": "UTC ISO-8601", "pumping": "seconds"},
        "sessions": [_as_dict(record) for record in records],
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def export_csv(records: Iterable[SessionRecord], path: Path) -> int:
    """Write the CSV export (mode 0600); returns the number of sessions written."""
    rows = list(records)
    write_private(path, csv_text(rows).encode("utf-8"))
    return len(rows)


def export_json(records: Iterable[SessionRecord], path: Path) -> int:
    """Write the JSON export (mode 0600); returns the number of sessions written."""
    rows = list(records)
    write_private(path, json_text(rows).encode("utf-8"))
    return len(rows)


class _Row:
    """Reads one CSV row's fields, raising BadInputError that names file, line and column."""

    def __init__(self, source: str, line: int, row: dict[str, str | None]) -> None:
        self.source = source
        self.line = line
        self.row = row

    def fail(self, column: str, problem: str) -> BadInputError:
        return BadInputError(f"{self.source}: line {self.line}: {column}: {problem}")

    def text(self, column: str) -> str | None:
        value = (self.row.get(column) or "").strip()
        return value or None

    def required(self, column: str) -> str:
        value = self.text(column)
        if value is None:
            raise self.fail(column, "is empty")
        return value

    def number(self, column: str, maximum: float | None = None) -> float | None:
        value = self.text(column)
        if value is None:
            return None
        try:
            number = float(value)
        except ValueError:
            raise self.fail(column, f"{value!r} is not a number") from None
        if not math.isfinite(number) or number < 0:
            raise self.fail(column, f"{value!r} must be zero or more")
        if maximum is not None and number > maximum:
            raise self.fail(column, f"{value} is over {maximum:g}")
        return number

    def time(self, column: str) -> str | None:
        value = self.text(column)
        if value is None:
            return None
        try:
            return to_db(from_db(value))
        except ValueError:
            raise self.fail(column, f"{value!r} is not an ISO-8601 time with offset") from None


def _parse_row(reader: _Row) -> SessionRecord:
    source = reader.required("source")
    if source not in SOURCES:
        raise reader.fail("source", f"{source!r} is not live or manual")
    side = reader.text("first_side")
    if side is not None and side not in SIDES:
        raise reader.fail("first_side", f"{side!r} is not left or right")
    finished_text = (reader.text("finished") or "").lower()
    finished_values = {"": None, "1": True, "true": True, "0": False, "false": False}
    if finished_text not in finished_values:
        raise reader.fail("finished", f"{finished_text!r} is not 1, 0 or empty")
    steps_text = reader.text("steps")
    try:
        steps = json.loads(steps_text) if steps_text else []
    except json.JSONDecodeError:
        steps = None
    if not isinstance(steps, list) or not all(isinstance(s, str) for s in steps):
        raise reader.fail("steps", 'expected a JSON list of step ids, e.g. ["massage", "pump"]')
    started = reader.time("started_at")
    if started is None:
        raise reader.fail("started_at", "is empty")
    ended = reader.time("ended_at")
    return SessionRecord(
        id=0,
        uid=reader.required("uid"),
        source=source,
        started_at=from_db(started),
        ended_at=from_db(ended) if ended else None,
        routine=reader.text("routine"),
        first_side=side,
        finished=finished_values[finished_text],
        stopped_at_step=reader.text("stopped_at_step"),
        pumping_seconds=reader.number("pumping_seconds") or 0.0,
        left_ml=reader.number("left_ml", MAX_ML_PER_SIDE),
        right_ml=reader.number("right_ml", MAX_ML_PER_SIDE),
        note=reader.row.get("note") or "",
        steps=tuple(steps),
    )


def read_csv(path: Path) -> list[SessionRecord]:
    """Parse a CSV export; every row is checked before anything is returned."""
    try:
        text = path.read_text(encoding="utf-8-sig")  # a spreadsheet may have added a BOM
    except (OSError, UnicodeDecodeError) as exc:
        raise BadInputError(f"cannot read {path}: {exc}") from exc
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header: Sequence[str] = reader.fieldnames or ()
    missing = [c for c in CSV_COLUMNS if c not in header and c not in _OPTIONAL_ON_IMPORT]
    if missing:
        raise BadInputError(
            f"{path}: not a voiceguide log export (missing columns: {', '.join(missing)})"
        )
    try:
        return [_parse_row(_Row(str(path), reader.line_num, row)) for row in reader]
    except csv.Error as exc:
        raise BadInputError(f"{path}: line {reader.line_num}: {exc}") from exc


def import_csv(store: LogStore, path: Path) -> tuple[int, int]:
    """Add the sessions of a CSV export to the log; returns (added, already there)."""
    return store.insert_records(read_csv(path))
