import pytest

from voiceguide.routine.durations import (
    format_seconds,
    parse_seconds,
    spoken_minutes,
    spoken_whole_minutes,
)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        (90, 90.0),
        (1.5, 1.5),
        ("90", 90.0),
        ("90s", 90.0),
        ("6m", 360.0),
        ("1m30s", 90.0),
        (" 2m 5s ", 125.0),
        ("1h", 3600.0),
        ("0.5m", 30.0),
    ],
)
def test_parses_durations(text: object, seconds: float) -> None:
    assert parse_seconds(text) == seconds


@pytest.mark.parametrize("bad", ["", "two minutes", "5x", "-30", -1, 0, "0s", True, None, [1]])
def test_rejects_bad_durations(bad: object) -> None:
    with pytest.raises(ValueError, match="duration"):
        parse_seconds(bad)


def test_formats() -> None:
    assert format_seconds(360) == "6:00"
    assert format_seconds(3725) == "1:02:05"
    assert spoken_minutes(90) == "1 minute 30 seconds"
    assert spoken_minutes(120) == "2 minutes"
    assert [spoken_whole_minutes(s) for s in (0, 89, 91, 22 * 60)] == [
        "1 minute",
        "1 minute",
        "2 minutes",
        "22 minutes",
    ]
