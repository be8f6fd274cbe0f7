"""Export the log as CSV or JSON, and import a CSV export (again and again, without duplicates).

Amounts are always millilitres and times UTC ISO-8601 in these files, whatever the
display unit, so a file means the same on every machine. Steps are a JSON list in
one CSV column. The `uid` column makes import idempotent. The columns, and how each
cell is written and read, come from the session's field declaration (records.py);
text cells are escaped against spreadsheet formula injection (fields.py).
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from voiceguide.errors import BadInputError
from voiceguide.files import PRIVATE_MODE, write_file
from voiceguide.logbook.records import SESSION_FIELDS, SessionRecord
from voiceguide.logbook.store import LogStore
from voiceguide.reading import decode_text, read_user_file

FORMAT_NAME = "voiceguide-log"
FORMAT_VERSION = 2
"""2 added `counted`."""
MAX_CSV_BYTES = 50 << 20
"""Ten years of eight sessions a day is about 5 MB of CSV. 50 MiB (300,000 sessions) is far
past any real log; importing that many took 54 s and 550 MB here, so nothing bigger is read."""
CSV_COLUMNS = tuple(column.name for column in SESSION_FIELDS)
_IMPORTED = tuple(column for column in SESSION_FIELDS if not column.assigned)


def _as_dict(record: SessionRecord) -> dict[str, Any]:
    """A session as plain JSON-able values (the JSON export's shape)."""
    return {c.name: c.codec.to_json(getattr(record, c.name)) for c in SESSION_FIELDS}


_NEEDS_QUOTES = re.compile(r'[,"\r\n]')


def _csv_line(cells: Iterable[str]) -> str:
    """One CSV line, quoted as the csv module does, except that a lone CR is quoted too.

    (The csv module quotes only the characters of its line ending, "\n" here, so a note
    with a CR in it would come back split in two.)
    """
    quoted = (
        '"' + cell.replace('"', '""') + '"' if _NEEDS_QUOTES.search(cell) else cell
        for cell in cells
    )
    return ",".join(quoted) + "\n"


def csv_text(records: Iterable[SessionRecord]) -> str:
    """The CSV export: a header row, then one row per session (text cells formula-safe)."""
    lines = [_csv_line(CSV_COLUMNS)]
    for record in records:
        lines.append(_csv_line(c.codec.cell(getattr(record, c.name)) for c in SESSION_FIELDS))
    return "".join(lines)


def json_text(records: Iterable[SessionRecord]) -> str:
    """The JSON export: {"format", "version", "sessions": [...]}; UTF-8, indented."""
    document = {
        "format": FORMAT_NAME,
        "version": FORMAT_VERSION,
        "units": {"amounts": "ml", "times": "UTC ISO-8601", "pumping": "seconds"},
        "sessions": [_as_dict(record) for record in records],
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def export_csv(
    records: Iterable[SessionRecord],
    path: Path,
    *,
    force: bool = False,
    inputs: Iterable[Path] = (),
) -> int:
    """Write the CSV export (mode 0600); returns the number of sessions written.

    An existing file is replaced only with `force`, never one of `inputs` (the log's
    own files): see voiceguide.files.check_target.
    """
    return _export(csv_text, records, path, force, inputs)


def export_json(
    records: Iterable[SessionRecord],
    path: Path,
    *,
    force: bool = False,
    inputs: Iterable[Path] = (),
) -> int:
    """Write the JSON export (mode 0600); returns the number of sessions written (as export_csv)."""
    return _export(json_text, records, path, force, inputs)


def _export(
    text_of: Callable[[Iterable[SessionRecord]], str],
    records: Iterable[SessionRecord],
    path: Path,
    force: bool,
    inputs: Iterable[Path],
) -> int:
    rows = list(records)
    write_file(path, text_of(rows), mode=PRIVATE_MODE, force=force, inputs=inputs)
    return len(rows)


def _parse_row(source: str, line: int, row: dict[str, str | None]) -> SessionRecord:
    """One CSV row as a session; BadInputError naming file, line and column."""
    values: dict[str, Any] = {}
    for column in _IMPORTED:
        try:
            values[column.name] = column.codec.read_cell(row.get(column.name))
        except ValueError as exc:
            raise BadInputError(f"{source}: line {line}: {column.name}: {exc}") from None
    return SessionRecord(id=0, **values)


def read_csv(path: Path) -> list[SessionRecord]:
    """Parse a CSV export; every row is checked before anything is returned."""
    # Bytes, not read_text: its newline translation would turn a CR inside a note into LF.
    # decode_text drops the BOM a spreadsheet may have added.
    text = decode_text(read_user_file(path, limit_bytes=MAX_CSV_BYTES, what=""), path)
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header: Sequence[str] = reader.fieldnames or ()
    missing = [c.name for c in _IMPORTED if c.name not in header and c.since_version == 1]
    if missing:
        raise BadInputError(
            f"{path}: not a voiceguide log export (missing columns: {', '.join(missing)})"
        )
    try:
        return [_parse_row(str(path), reader.line_num, row) for row in reader]
    except csv.Error as exc:
        raise BadInputError(f"{path}: line {reader.line_num}: {exc}") from exc


def import_csv(store: LogStore, path: Path) -> tuple[int, int]:
    """Add the sessions of a CSV export to the log; returns (added, already there)."""
    return store.insert_records(read_csv(path))
