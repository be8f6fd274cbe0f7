"""What the log says aloud or in one line: ordinals and the end-of-session sentence."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, tzinfo

from voiceguide.logbook.records import SessionRecord
from voiceguide.logbook.stats import (
    DEFAULT_GOAL_PER_24H,
    last_start,
    next_session_around,
    sessions_in_last_24h,
)
from voiceguide.logbook.times import clock


def ordinal(number: int) -> str:
    """1st, 2nd, 3rd, 4th, 11th, 12th, 13th, 21st, 22nd, 101st, 111th, ..."""
    if 10 <= number % 100 <= 20:
        suffix = "th"
    else:
        suffix = {1: "st", 2: "nd", 3: "rd"}.get(number % 10, "th")
    return f"{number}{suffix}"


def end_of_session_sentence(
    sessions: Sequence[SessionRecord],
    now: datetime,
    tz: tzinfo,
    goal_per_24h: int = DEFAULT_GOAL_PER_24H,
    *,
    counting_this: bool = False,
) -> str:
    """E.g. "That was your 5th session in the last 24 hours. Next one around 14:30."

    `sessions` must include the one just ended, or `counting_this` says it is one more,
    starting `now` (a live session says the sentence before its row is written);
    "" for an empty log.
    """
    past = [s for s in sessions if s.started_at <= now and s.counted]
    last = now if counting_this else last_start(past)
    if last is None:
        return ""
    count = sessions_in_last_24h(past, now) + (1 if counting_this else 0)
    due = clock(next_session_around(last, goal_per_24h), tz)
    return f"That was your {ordinal(count)} session in the last 24 hours. Next one around {due}."
