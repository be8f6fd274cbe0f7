"""Stats, the next-session time and the spoken sentence, across midnight and DST (Europe/Berlin)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from voiceguide.logbook import SessionRecord, end_of_session_sentence, ordinal
from voiceguide.logbook.stats import (
    compute_stats,
    gaps_seconds,
    next_session_around,
    per_day_totals,
    sessions_in_last_24h,
)

BERLIN = ZoneInfo("Europe/Berlin")


def berlin(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, *, fold: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=BERLIN, fold=fold)


def session(
    started: datetime, left_ml: float | None = None, right_ml: float | None = None, n: int = 0
) -> SessionRecord:
    return SessionRecord(
        id=n,
        uid=f"u{n}-{started.isoformat()}",
        started_at=started.astimezone(UTC),
        source="manual",
        left_ml=left_ml,
        right_ml=right_ml,
    )


# -- next session: real elapsed time, shown on the local clock --------------------------------


def test_next_session_is_three_hours_later_by_default() -> None:
    due = next_session_around(berlin(2026, 5, 4, 11, 30), 8)
    assert due.astimezone(BERLIN).strftime("%Y-%m-%d %H:%M") == "2026-05-04 14:30"


def test_next_session_across_midnight() -> None:
    due = next_session_around(berlin(2026, 5, 4, 22, 45), 8)
    assert due.astimezone(BERLIN).strftime("%Y-%m-%d %H:%M") == "2026-05-05 01:45"


def test_next_session_across_spring_forward() -> None:
    # 2026-03-29: 02:00 CET becomes 03:00 CEST. Three real hours after 01:30 CET
    # is 05:30 CEST (a wall-clock addition would say 04:30, an hour early).
    last = berlin(2026, 3, 29, 1, 30)
    due = next_session_around(last, 8)
    assert due - last == timedelta(hours=3)
    local = due.astimezone(BERLIN)
    assert local.strftime("%Y-%m-%d %H:%M %Z") == "2026-03-29 05:30 CEST"


def test_next_session_across_fall_back() -> None:
    # 2026-10-25: 03:00 CEST becomes 02:00 CET. Three real hours after 01:30 CEST
    # is 03:30 CET (a wall-clock addition would say 04:30, an hour late).
    last = berlin(2026, 10, 25, 1, 30)
    due = next_session_around(last, 8)
    assert due - last == timedelta(hours=3)
    assert due.astimezone(BERLIN).strftime("%H:%M %Z") == "03:30 CET"


def test_next_session_from_the_repeated_hour() -> None:
    # 02:30 happens twice on 2026-10-25; the second one (fold=1) is CET.
    first = next_session_around(berlin(2026, 10, 25, 2, 30, fold=0), 8)
    second = next_session_around(berlin(2026, 10, 25, 2, 30, fold=1), 8)
    assert first.astimezone(BERLIN).strftime("%H:%M") == "04:30"
    assert second.astimezone(BERLIN).strftime("%H:%M") == "05:30"


@pytest.mark.parametrize(("goal", "hours"), [(1, 24), (6, 4), (8, 3), (12, 2), (10, 2.4)])
def test_interval_follows_the_goal(goal: int, hours: float) -> None:
    last = berlin(2026, 5, 4, 8, 0)
    assert next_session_around(last, goal) - last == timedelta(hours=hours)


def test_goal_must_be_positive() -> None:
    with pytest.raises(ValueError, match="at least one"):
        next_session_around(berlin(2026, 5, 4, 8, 0), 0)


# -- counting and bucketing ---------------------------------------------------------------


def test_last_24_hours_are_real_hours_on_a_dst_day() -> None:
    now = berlin(2026, 3, 29, 12, 0)  # CEST, 10:00 UTC
    sessions = [
        session(berlin(2026, 3, 28, 11, 30)),  # 23.5 real hours ago (wall clock: 24.5)
        session(berlin(2026, 3, 28, 10, 59)),  # 24 h 1 min ago: out
        session(berlin(2026, 3, 29, 11, 0)),
        session(berlin(2026, 3, 29, 12, 30)),  # in the future: out
    ]
    assert sessions_in_last_24h(sessions, now) == 2


def test_window_edge_exactly_24_hours_ago_is_out() -> None:
    now = berlin(2026, 5, 4, 12, 0)
    assert sessions_in_last_24h([session(now - timedelta(hours=24))], now) == 0
    assert sessions_in_last_24h([session(now - timedelta(hours=24) + timedelta(seconds=1))], now)


def test_per_day_buckets_by_local_day_across_spring_forward() -> None:
    now = berlin(2026, 3, 30, 9, 0)
    sessions = [
        session(berlin(2026, 3, 28, 23, 59), 10.0, 5.0),  # 22:59 UTC on the 28th
        session(berlin(2026, 3, 29, 0, 30), 20.0, 20.0),  # 23:30 UTC on the 28th, local 29th
        session(berlin(2026, 3, 29, 23, 30), 30.0, None),  # 21:30 UTC, still the 29th
        session(berlin(2026, 3, 30, 0, 15), None, 7.5),
    ]
    days = per_day_totals(sessions, now, BERLIN, 4)
    assert [d.day for d in days] == [date(2026, 3, 27) + timedelta(n) for n in range(4)]
    assert [d.sessions for d in days] == [0, 1, 2, 1]
    assert (days[2].left_ml, days[2].right_ml, days[2].total_ml) == (50.0, 20.0, 70.0)
    assert days[3].total_ml == 7.5


def test_per_day_buckets_by_local_day_across_fall_back() -> None:
    now = berlin(2026, 10, 26, 9, 0)
    sessions = [
        session(berlin(2026, 10, 25, 0, 10), 1.0),  # 22:10 UTC on the 24th
        session(berlin(2026, 10, 25, 2, 30, fold=1), 2.0),
        session(berlin(2026, 10, 25, 23, 30), 4.0),  # 22:30 UTC on the 25th
        session(berlin(2026, 10, 26, 0, 10), 8.0),  # 23:10 UTC on the 25th, local 26th
    ]
    days = per_day_totals(sessions, now, BERLIN, 2)
    assert [(d.day.day, d.sessions, d.left_ml) for d in days] == [(25, 3, 7.0), (26, 1, 8.0)]


def test_per_day_needs_at_least_one_day() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        per_day_totals([], berlin(2026, 5, 4, 8, 0), BERLIN, 0)


def test_gaps_between_sessions_in_time_order() -> None:
    starts = [berlin(2026, 5, 4, h, 0) for h in (9, 1, 4)]  # unsorted on purpose
    assert gaps_seconds(session(s) for s in starts) == [3 * 3600.0, 5 * 3600.0]
    assert gaps_seconds([session(starts[0])]) == []


def test_compute_stats_over_a_dst_night() -> None:
    now = berlin(2026, 3, 29, 9, 0)
    starts = [
        berlin(2026, 3, 28, 18, 0),
        berlin(2026, 3, 28, 21, 0),
        berlin(2026, 3, 29, 1, 0),  # 4 h after 21:00 CET
        berlin(2026, 3, 29, 6, 0),  # 01:00 CET -> 06:00 CEST is 4 real hours, not 5
    ]
    result = compute_stats([session(s, 50.0, 50.0) for s in starts], now, BERLIN, days=2)
    assert result.sessions_24h == 4
    assert result.goal_per_24h == 8
    assert [d.sessions for d in result.per_day] == [2, 2]
    assert result.longest_gap_seconds == 4 * 3600.0
    assert result.average_gap_seconds == pytest.approx((3 + 4 + 4) * 3600.0 / 3)
    assert result.last_started_at == starts[-1]
    assert result.next_around is not None
    assert result.next_around.astimezone(BERLIN).strftime("%H:%M") == "09:00"


def test_compute_stats_gaps_only_within_the_window() -> None:
    now = berlin(2026, 5, 4, 12, 0)
    sessions = [session(berlin(2026, 5, 1, 0, 0)), session(berlin(2026, 5, 4, 6, 0))]
    result = compute_stats(sessions, now, BERLIN, days=1)
    assert result.average_gap_seconds is None  # the May 1st session is outside the day
    assert result.last_started_at == berlin(2026, 5, 4, 6, 0)


def test_compute_stats_of_an_empty_log() -> None:
    result = compute_stats([], berlin(2026, 5, 4, 12, 0), BERLIN, goal_per_24h=6, days=3)
    assert result.sessions_24h == 0
    assert len(result.per_day) == 3
    assert all(d.sessions == 0 and d.total_ml == 0 for d in result.per_day)
    assert result.average_gap_seconds is None and result.longest_gap_seconds is None
    assert result.next_around is None


# -- the sentence ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("number", "text"),
    [
        (0, "0th"),
        (1, "1st"),
        (2, "2nd"),
        (3, "3rd"),
        (4, "4th"),
        (10, "10th"),
        (11, "11th"),
        (12, "12th"),
        (13, "13th"),
        (14, "14th"),
        (20, "20th"),
        (21, "21st"),
        (22, "22nd"),
        (23, "23rd"),
        (24, "24th"),
        (101, "101st"),
        (111, "111th"),
        (112, "112th"),
        (113, "113th"),
        (122, "122nd"),
    ],
)
def test_ordinals(number: int, text: str) -> None:
    assert ordinal(number) == text


def test_end_of_session_sentence() -> None:
    now = berlin(2026, 5, 4, 11, 55)
    starts = [berlin(2026, 5, 3, 10, 0)] + [berlin(2026, 5, 4, h, 30) for h in (0, 3, 6, 8, 11)]
    sessions = [session(s, n=n) for n, s in enumerate(starts)]
    assert end_of_session_sentence(sessions, now, BERLIN) == (
        "That was your 5th session in the last 24 hours. Next one around 14:30."
    )


def test_sentence_for_the_first_session_across_midnight() -> None:
    now = berlin(2026, 5, 4, 23, 20)
    sessions = [session(berlin(2026, 5, 4, 22, 50))]
    assert end_of_session_sentence(sessions, now, BERLIN, goal_per_24h=6) == (
        "That was your 1st session in the last 24 hours. Next one around 02:50."
    )


def test_sentence_on_the_spring_forward_night() -> None:
    now = berlin(2026, 3, 29, 1, 55)
    sessions = [session(berlin(2026, 3, 29, 1, 30))]
    assert end_of_session_sentence(sessions, now, BERLIN).endswith("Next one around 05:30.")


def test_sentence_for_an_empty_log_is_empty() -> None:
    assert end_of_session_sentence([], berlin(2026, 5, 4, 12, 0), BERLIN) == ""
