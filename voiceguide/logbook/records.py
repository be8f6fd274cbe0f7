"""The shapes of log data: a session as stored (its fields declared once), and sums of amounts."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Literal, cast, get_args

from voiceguide.logbook import fields as f
from voiceguide.logbook.fields import FIELD_SPEC, Field, field_spec
from voiceguide.logbook.units import AmountSum
from voiceguide.sides import SIDES, Side

Source = Literal["live", "manual"]
SOURCES: tuple[Source, ...] = get_args(Source)


@dataclass(frozen=True, kw_only=True)
class SessionRecord:
    """One pumping session: recorded live by the player or typed in.

    Times are aware UTC datetimes. `ended_at` is None while a session runs, or when the
    player was killed before it could say how the session ended (`finished` is then None).

    This is the one declaration of a logged session's fields: each carries its SQL type
    and codec (`field_spec`), and SESSION_FIELDS below, in this order, drives the SQL
    column lists, the CSV header and cells, and the JSON keys. The table itself was made
    by migration 1 (history, kept as written); a test checks that the two agree.
    """

    id: int = field(metadata=field_spec("INTEGER", f.ROW_ID, assigned=True))
    uid: str = field(metadata=field_spec("TEXT", f.UID))
    """Stable across export and import, so importing a file twice adds nothing."""
    source: Source = field(metadata=field_spec("TEXT", f.choice(SOURCES, required=True)))
    started_at: datetime = field(metadata=field_spec("TEXT", f.TIME))
    ended_at: datetime | None = field(default=None, metadata=field_spec("TEXT", f.OPTIONAL_TIME))
    routine: str | None = field(default=None, metadata=field_spec("TEXT", f.TEXT))
    first_side: Side | None = field(default=None, metadata=field_spec("TEXT", f.choice(SIDES)))
    finished: bool | None = field(default=None, metadata=field_spec("INTEGER", f.FLAG))
    stopped_at_step: str | None = field(default=None, metadata=field_spec("TEXT", f.TEXT))
    pumping_seconds: float = field(default=0.0, metadata=field_spec("REAL", f.SECONDS))
    left_ml: float | None = field(default=None, metadata=field_spec("REAL", f.AMOUNT_ML))
    right_ml: float | None = field(default=None, metadata=field_spec("REAL", f.AMOUNT_ML))
    note: str = field(default="", metadata=field_spec("TEXT", f.NOTE))
    counted: bool = field(default=True, metadata=field_spec("INTEGER", f.COUNTED, since_version=2))
    """Counts towards the goal and the side alternation: a pumping session. A demo, a routine
    without pumping steps, a start that never made sound (not logged at all) or a session
    stopped before its first pumping step does not count."""
    steps: tuple[str, ...] = field(default=(), metadata=field_spec(None, f.STEPS))
    """Ids of the routine steps completed, in the order they were completed."""

    def amount_ml(self, side: Side) -> float | None:
        """The amount from one side in ml; None: not measured."""
        return cast(float | None, getattr(self, f"{side}_ml"))

    @property
    def amounts(self) -> AmountSum:
        """Both sides together, saying how many of the two were measured."""
        return AmountSum.of(self.amount_ml(side) for side in SIDES)

    @property
    def total_ml(self) -> float | None:
        """Both sides together; None only when neither side was measured."""
        total = self.amounts
        return None if total.measured == 0 else total.ml

    @property
    def status(self) -> str:
        """A short word for tables: finished, stopped at STEP, unfinished (killed?), manual."""
        if self.source != "live":
            return self.source
        if self.finished is False:
            word = f"stopped at {self.stopped_at_step}" if self.stopped_at_step else "stopped"
        else:
            word = "finished" if self.finished else "unfinished"
        return word if self.counted else f"{word} (not counted)"


SESSION_FIELDS: tuple[Field, ...] = tuple(
    Field(spec.name, *spec.metadata[FIELD_SPEC]) for spec in dataclasses.fields(SessionRecord)
)
"""Every field of a session, in column order: the SQL, CSV and JSON forms derive from this."""
STORED_FIELDS: tuple[Field, ...] = tuple(x for x in SESSION_FIELDS if x.stored)
"""The columns of the `sessions` table."""


@dataclass(frozen=True)
class DayTotals:
    """What was pumped on one local calendar day.

    `left_ml`/`right_ml` add up the amounts measured; `left_unmeasured`/`right_unmeasured`
    count that day's sessions without an amount for that side.
    """

    day: date
    sessions: int = 0
    left_ml: float = 0.0
    right_ml: float = 0.0
    left_unmeasured: int = 0
    right_unmeasured: int = 0

    def side(self, side: Side) -> AmountSum:
        """One side's sum, with how many of the day's sessions measured it."""
        ml = cast(float, getattr(self, f"{side}_ml"))
        missing = cast(int, getattr(self, f"{side}_unmeasured"))
        return AmountSum(ml, self.sessions - missing, missing)

    @property
    def amounts(self) -> AmountSum:
        """Both sides together."""
        return sum((self.side(side) for side in SIDES), AmountSum())

    @property
    def total_ml(self) -> float:
        """The measured amounts of both sides together."""
        return self.left_ml + self.right_ml


@dataclass(frozen=True)
class LogStats:
    """The summary `voiceguide log stats` shows; durations in seconds, times aware."""

    now: datetime
    goal_per_24h: int
    sessions_24h: int
    per_day: tuple[DayTotals, ...]
    average_gap_seconds: float | None
    longest_gap_seconds: float | None
    last_started_at: datetime | None
    next_around: datetime | None
