"""The shapes of log data: a session as stored, and one day's totals."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Literal

Side = Literal["left", "right"]
SIDES: tuple[Side, ...] = ("left", "right")
Source = Literal["live", "manual"]
SOURCES: tuple[Source, ...] = ("live", "manual")


@dataclass(frozen=True)
class SessionRecord:
    """One pumping session: recorded live by the player or typed in.

    Times are aware UTC datetimes. `ended_at` is None while a session runs, or when the
    player was killed before it could say how the session ended (`finished` is then None).
    """

    id: int
    uid: str
    """Stable across export and import, so importing a file twice adds nothing."""
    started_at: datetime
    source: Source
    routine: str | None = None
    first_side: Side | None = None
    ended_at: datetime | None = None
    finished: bool | None = None
    stopped_at_step: str | None = None
    pumping_seconds: float = 0.0
    left_ml: float | None = None
    right_ml: float | None = None
    note: str = ""
    steps: tuple[str, ...] = field(default=())
    """Ids of the routine steps completed, in the order they were completed."""

    @property
    def total_ml(self) -> float | None:
        """Both sides together; None only when neither side was measured."""
        if self.left_ml is None and self.right_ml is None:
            return None
        return (self.left_ml or 0.0) + (self.right_ml or 0.0)

    @property
    def status(self) -> str:
        """A short word for tables: finished, stopped at STEP, unfinished (killed?), manual."""
        if self.source != "live":
            return self.source
        if self.finished:
            return "finished"
        if self.finished is False:
            return f"stopped at {self.stopped_at_step}" if self.stopped_at_step else "stopped"
        return "unfinished"


@dataclass(frozen=True)
class DayTotals:
    """What was pumped on one local calendar day."""

    day: date
    sessions: int = 0
    left_ml: float = 0.0
    right_ml: float = 0.0

    @property
    def total_ml(self) -> float:
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
