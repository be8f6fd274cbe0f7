"""What people type: amounts and units, and --at times (local, DST gaps, the future)."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from voiceguide.errors import BadInputError, ExitStatus
from voiceguide.logbook.times import from_db, local_zone, parse_when, to_db
from voiceguide.logbook.units import (
    ML_PER_OZ,
    amount_to_ml,
    format_amount,
    from_ml,
    parse_unit,
    to_ml,
)

BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 5, 4, 14, 5, tzinfo=BERLIN)


# -- units ----------------------------------------------------------------------------------


def test_ounces_and_millilitres() -> None:
    assert to_ml(1.0, "oz") == ML_PER_OZ == 29.5735
    assert to_ml(100.0, "ml") == 100.0
    assert from_ml(to_ml(4.0, "oz"), "oz") == pytest.approx(4.0)
    assert format_amount(118.294, "oz") == "4.0 oz"
    assert format_amount(62.4, "ml") == "62 ml"
    assert format_amount(62.4, "ml", with_unit=False) == "62"
    assert format_amount(None, "ml") == "-"


@pytest.mark.parametrize("text", ["ml", "oz", "ML", " Oz "])
def test_known_units(text: str) -> None:
    assert parse_unit(text) == text.strip().lower()


def test_unknown_unit_lists_the_choices() -> None:
    with pytest.raises(BadInputError, match="unknown unit 'cups': use ml or oz") as caught:
        parse_unit("cups")
    assert caught.value.exit_status == ExitStatus.BAD_INPUT


def test_amounts_are_checked_in_the_unit_given() -> None:
    assert amount_to_ml("left", None, "ml") is None
    assert amount_to_ml("left", 0.0, "ml") == 0.0
    assert amount_to_ml("left", 1000.0, "ml") == 1000.0
    assert amount_to_ml("right", 2.0, "oz") == pytest.approx(59.147)
    with pytest.raises(BadInputError, match=r"left amount cannot be negative \(-5 ml\)"):
        amount_to_ml("left", -5.0, "ml")
    with pytest.raises(BadInputError, match=r"right amount 1000\.5 ml is over 1000 ml per side"):
        amount_to_ml("right", 1000.5, "ml")
    with pytest.raises(BadInputError, match=r"40 oz \(1183 ml\) is over 1000 ml per side"):
        amount_to_ml("left", 40.0, "oz")
    with pytest.raises(BadInputError, match="not a number"):
        amount_to_ml("left", float("inf"), "ml")


# -- times ----------------------------------------------------------------------------------


def test_db_times_are_utc_text_that_sorts() -> None:
    stored = to_db(datetime(2026, 3, 29, 1, 30, 45, 999, tzinfo=BERLIN))
    assert stored == "2026-03-29T00:30:45+00:00"
    assert from_db(stored) == datetime(2026, 3, 29, 0, 30, 45, tzinfo=UTC)
    with pytest.raises(ValueError, match="timezone-aware"):
        to_db(datetime(2026, 3, 29, 1, 30))
    with pytest.raises(ValueError, match="offset"):
        from_db("2026-03-29T01:30:00")


def test_clock_time_means_today_in_the_local_zone() -> None:
    moment = parse_when("09:15", NOW, BERLIN)
    assert moment == datetime(2026, 5, 4, 9, 15, tzinfo=BERLIN)
    assert parse_when("14:05", NOW, BERLIN) == NOW  # this very minute is not the future
    assert parse_when("0:05", NOW, BERLIN).hour == 0


def test_clock_time_later_today_is_refused_with_a_hint() -> None:
    with pytest.raises(BadInputError, match="later than now") as caught:
        parse_when("23:10", NOW, BERLIN)
    assert "'2026-05-03 23:10'" in str(caught.value)  # how to say "yesterday"


def test_date_and_time() -> None:
    assert parse_when("2026-05-03 23:10", NOW, BERLIN) == datetime(
        2026, 5, 3, 23, 10, tzinfo=BERLIN
    )
    assert parse_when("2026-05-03T23:10", NOW, BERLIN).hour == 23
    with_offset = parse_when("2026-05-03 23:10+00:00", NOW, BERLIN)
    assert with_offset == datetime(2026, 5, 3, 23, 10, tzinfo=UTC)


@pytest.mark.parametrize("text", ["2026-05-04 14:06", "2027-01-01 00:00"])
def test_future_dates_are_refused(text: str) -> None:
    with pytest.raises(BadInputError, match="in the future"):
        parse_when(text, NOW, BERLIN)


@pytest.mark.parametrize("text", ["noon", "25:00", "12:60", "2026-05-03", "12.30", ""])
def test_unreadable_times_are_refused(text: str) -> None:
    with pytest.raises(BadInputError, match=r"not understood|not a clock time"):
        parse_when(text, NOW, BERLIN)


def test_time_skipped_by_spring_forward_is_refused() -> None:
    now = datetime(2026, 3, 29, 12, 0, tzinfo=BERLIN)
    with pytest.raises(BadInputError, match="does not exist"):
        parse_when("02:30", now, BERLIN)
    assert parse_when("03:30", now, BERLIN).utcoffset().total_seconds() == 7200  # type: ignore[union-attr]


def test_repeated_hour_of_fall_back_means_the_first() -> None:
    now = datetime(2026, 10, 25, 12, 0, tzinfo=BERLIN)
    moment = parse_when("02:30", now, BERLIN)
    assert moment.astimezone(UTC) == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)  # CEST


def test_local_zone_from_tz() -> None:
    zone = local_zone({"TZ": "Europe/Berlin"})
    assert isinstance(zone, ZoneInfo) and zone.key == "Europe/Berlin"
    assert local_zone({"TZ": ":Europe/Berlin"}) == zone
    # Not a zone name: still some zone, never a crash.
    assert datetime.now(local_zone({"TZ": "Not/AZone"})).utcoffset() is not None
    assert datetime.now(local_zone({})).utcoffset() is not None
