"""How each kind of session value is stored in SQLite, written to CSV and JSON, and read back.

`SessionRecord` (records.py) names its fields once and gives each a `Codec` from here;
the SQL column lists, the CSV header and cells and the JSON keys are all derived from that.

Free text (notes, routine and step names, uids) is escaped in CSV cells against formula
injection, as OWASP describes: a cell that a spreadsheet would run as a formula (it starts
with = + - @, a TAB or a CR) gets a leading single quote. So that import undoes exactly
what export did, a text that already starts with quotes followed by such a character gets
one quote more; import removes one quote only from a cell of that shape.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from voiceguide.errors import shown
from voiceguide.logbook.times import check_year, from_db, to_db
from voiceguide.logbook.units import MAX_ML_PER_SIDE

MAX_PUMPING_SECONDS = 24 * 3600.0
"""Pumping time of one session: a day is past any session, and keeps sums of them finite."""
FORMULA_STARTS = "=+-@\t\r"
"""What makes a spreadsheet read a cell as a formula (OWASP's list)."""
_ESCAPED = re.compile(f"'*[{re.escape(FORMULA_STARTS)}]")


def escape_cell(text: str) -> str:
    """A text cell safe to open in a spreadsheet: a quote before a formula-like start."""
    return f"'{text}" if _ESCAPED.match(text) else text


def unescape_cell(cell: str) -> str:
    """The text `escape_cell` was given (one quote off a quoted formula-like start)."""
    return cell[1:] if cell.startswith("'") and _ESCAPED.match(cell, 1) else cell


def _same(value: Any) -> Any:
    return value


REQUIRED = object()
"""`Codec.empty` of a value that a CSV row must give."""


@dataclass(frozen=True)
class Codec:
    """One kind of value: its SQLite, JSON and CSV forms, and how a CSV cell is checked.

    `parse` reads a non-empty cell (ValueError with the problem if it is not valid);
    an empty cell means `empty` (REQUIRED: the row is refused).
    """

    parse: Callable[[str], Any]
    empty: Any = None
    to_db: Callable[[Any], Any] = _same
    from_db: Callable[[Any], Any] = _same
    to_json: Callable[[Any], Any] = _same
    to_cell: Callable[[Any], str] = str
    free_text: bool = False
    """The user's own words: escaped in CSV cells (see the module docstring)."""
    strip: bool = True
    """Spaces around a cell are dropped on import (not around a note: it is kept as typed)."""

    def cell(self, value: Any) -> str:
        """The CSV cell for `value` ("" for None)."""
        if value is None:
            return ""
        text = self.to_cell(value)
        return escape_cell(text) if self.free_text else text

    def read_cell(self, raw: str | None) -> Any:
        """The value of a CSV cell (ValueError with the problem; "is empty" if required)."""
        text = raw or ""
        if self.strip:
            text = text.strip()
        if not text:
            if self.empty is REQUIRED:
                raise ValueError("is empty")
            return self.empty
        return self.parse(unescape_cell(text) if self.free_text else text)


def _choice(values: tuple[str, ...]) -> Callable[[str], str]:
    def parse(text: str) -> str:
        if text not in values:
            raise ValueError(f"{shown(text)} is not {' or '.join(values)}")
        return text

    return parse


def _time(text: str) -> Any:
    try:
        moment = from_db(text)
    except OverflowError:  # year 9999 west of UTC: past what a datetime holds
        moment = datetime.max.replace(tzinfo=UTC)
    except ValueError:
        raise ValueError(f"{shown(text)} is not an ISO-8601 time with offset") from None
    return check_year(moment, shown(text))


def _number(maximum: float | None = None) -> Callable[[str], float]:
    def parse(text: str) -> float:
        try:
            number = float(text)
        except ValueError:
            raise ValueError(f"{shown(text)} is not a number") from None
        if not math.isfinite(number):
            raise ValueError(f"{shown(text)} is not a finite number")
        if number < 0:
            raise ValueError(f"{shown(text)} must be zero or more")
        if maximum is not None and number > maximum:
            written = text if len(text) <= 40 else shown(text)
            raise ValueError(f"{written} is over {maximum:g}")
        return number

    return parse


_FLAGS: Mapping[str, bool] = {"1": True, "true": True, "0": False, "false": False}


def _flag(text: str) -> bool:
    found = _FLAGS.get(text.lower())
    if found is None:
        raise ValueError(f"{text.lower()!r} is not 1, 0 or empty")
    return found


def _steps(text: str) -> tuple[str, ...]:
    try:
        steps = json.loads(text)
    except (json.JSONDecodeError, RecursionError):  # lists nested thousands deep
        steps = None
    if not isinstance(steps, list) or not all(isinstance(s, str) for s in steps):
        raise ValueError('expected a JSON list of step ids, e.g. ["massage", "pump"]')
    return tuple(steps)


def _optional(convert: Callable[[Any], Any]) -> Callable[[Any], Any]:
    return lambda value: None if value is None else convert(value)


ROW_ID = Codec(parse=int, from_db=int)
UID = Codec(parse=_same, empty=REQUIRED, from_db=str, free_text=True)
TEXT = Codec(parse=_same, free_text=True)
NOTE = Codec(parse=_same, empty="", from_db=str, free_text=True, strip=False)
TIME = Codec(
    parse=_time, empty=REQUIRED, to_db=to_db, from_db=from_db, to_json=to_db, to_cell=to_db
)
OPTIONAL_TIME = Codec(
    parse=_time,
    to_db=_optional(to_db),
    from_db=lambda text: from_db(text) if text else None,
    to_json=_optional(to_db),
    to_cell=to_db,
)
FLAG = Codec(
    parse=_flag,
    to_db=_optional(int),
    from_db=_optional(bool),
    to_cell=lambda value: str(int(value)),
)
COUNTED = Codec(
    parse=_flag, empty=True, to_db=int, from_db=bool, to_cell=lambda value: str(int(value))
)
"""Whether a session counts (goal, alternating sides); a file from before it: yes."""
SECONDS = Codec(parse=_number(MAX_PUMPING_SECONDS), empty=0.0, from_db=float)
AMOUNT_ML = Codec(parse=_number(MAX_ML_PER_SIDE))
STEPS = Codec(
    parse=_steps,
    empty=(),
    to_json=list,
    to_cell=lambda steps: json.dumps(list(steps)) if steps else "",
)


def choice(values: tuple[str, ...], *, required: bool = False) -> Codec:
    """A text that must be one of `values` (e.g. a side)."""
    return Codec(parse=_choice(values), empty=REQUIRED if required else None)


@dataclass(frozen=True)
class Field:
    """One field of a logged session: its name and how it is kept and exchanged.

    The name is the SessionRecord attribute, the `sessions` column, the CSV header and the
    JSON key alike.
    """

    name: str
    sql_type: str | None
    """The column's type in `sessions`; None: not a column (steps have their own table)."""
    codec: Codec
    assigned: bool = False
    """Given by the database (the row id): never inserted, and ignored on import."""
    since_version: int = 1
    """The export format version that added this column: older files may lack it."""

    @property
    def stored(self) -> bool:
        """A column of the `sessions` table."""
        return self.sql_type is not None


FIELD_SPEC = "voiceguide.logbook.field"
"""The dataclass metadata key under which `field_spec` puts a field's storage and codec."""


def field_spec(
    sql_type: str | None, codec: Codec, *, assigned: bool = False, since_version: int = 1
) -> dict[str, Any]:
    """The metadata a SessionRecord field carries (see records.SESSION_FIELDS)."""
    return {FIELD_SPEC: (sql_type, codec, assigned, since_version)}
