"""Pumping statistics: pure functions of sessions, a `now` and a time zone (no clock, no I/O).

Elapsed time is measured in UTC, so "3 hours after 01:30" is 3 real hours even on
the nights the clocks change; calendar days are the user's local days.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from voiceguide.logbook.records import AmountSum, DayTotals, LogStats, SessionRecord
from voiceguide.logbook.times import require_aware
from voiceguide.sides import SIDES

DEFAULT_GOAL_PER_24H = 8
"""Pumping 8 times in 24 hours (about every 3 hours) keeps up the supply."""
DAY = timedelta(hours=24)


def sessions_in_last_24h(sessions: Iterable[SessionRecord], now: datetime) -> int:
    """Sessions started in the 24 real hours up to and including `now`."""
    # In UTC: `zoned_now - 24h` would subtract wall-clock hours (23 or 25 real on DST days).
    end = require_aware(now, "now").astimezone(UTC)
    return sum(1 for s in sessions if s.counted and end - DAY < s.started_at <= end)


def local_midnight(day: date, tz: tzinfo) -> datetime:
    """The first moment of a local calendar day (as an aware datetime in `tz`)."""
    return datetime.combine(day, time(0), tzinfo=tz)


def per_day_totals(
    sessions: Iterable[SessionRecord], now: datetime, tz: tzinfo, days: int
) -> tuple[DayTotals, ...]:
    """Amounts and session counts for the last `days` local days, oldest first, today last.

    Every day is present, empty days too. An amount not measured adds nothing to the sum
    and is counted as not measured (it is unknown, not zero).
    """
    if days < 1:
        raise ValueError("days must be at least 1")
    today = require_aware(now, "now").astimezone(tz).date()
    first = today - timedelta(days=days - 1)
    buckets: dict[date, list[SessionRecord]] = {first + timedelta(days=n): [] for n in range(days)}
    for session in sessions:
        if session.started_at > now:
            continue
        bucket = buckets.get(session.started_at.astimezone(tz).date())
        if bucket is not None:
            bucket.append(session)
    return tuple(_day_totals(day, found) for day, found in buckets.items())


def _day_totals(day: date, sessions: Sequence[SessionRecord]) -> DayTotals:
    sums = {side: AmountSum.of(s.amount_ml(side) for s in sessions) for side in SIDES}
    return DayTotals(
        day=day,
        sessions=len(sessions),
        left_ml=sums["left"].ml,
        right_ml=sums["right"].ml,
        left_unmeasured=sums["left"].unmeasured,
        right_unmeasured=sums["right"].unmeasured,
    )


def gaps_seconds(sessions: Iterable[SessionRecord]) -> list[float]:
    """Seconds between consecutive session starts, in time order."""
    starts = sorted(s.started_at for s in sessions)
    return [(later - earlier).total_seconds() for earlier, later in itertools.pairwise(starts)]


def next_session_around(last_started_at: datetime, goal_per_24h: int) -> datetime:
    """When the next session is due: the last start plus 24 h / goal, in real (UTC) time."""
    if goal_per_24h < 1:
        raise ValueError("the goal must be at least one session a day")
    start = require_aware(last_started_at, "last_started_at").astimezone(UTC)
    # Adding to a zoneinfo datetime would add wall-clock time and be an hour off on
    # DST nights; in UTC the interval is the real one.
    return start + DAY / goal_per_24h


def last_start(sessions: Iterable[SessionRecord]) -> datetime | None:
    """The latest session start, or None for an empty log."""
    return max((s.started_at for s in sessions), default=None)


def compute_stats(
    sessions: Sequence[SessionRecord],
    now: datetime,
    tz: tzinfo,
    *,
    goal_per_24h: int = DEFAULT_GOAL_PER_24H,
    days: int = 7,
) -> LogStats:
    """Everything `log stats` shows. Gaps are between sessions in the last `days` days."""
    past = [s for s in sessions if s.started_at <= now and s.counted]
    per_day = per_day_totals(past, now, tz, days)
    window_start = local_midnight(per_day[0].day, tz)
    gaps = gaps_seconds(s for s in past if s.started_at >= window_start)
    last = last_start(past)
    return LogStats(
        now=now,
        goal_per_24h=goal_per_24h,
        sessions_24h=sessions_in_last_24h(past, now),
        per_day=per_day,
        average_gap_seconds=sum(gaps) / len(gaps) if gaps else None,
        longest_gap_seconds=max(gaps) if gaps else None,
        last_started_at=last,
        next_around=next_session_around(last, goal_per_24h) if last else None,
    )
