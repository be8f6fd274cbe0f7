"""Durations: parse 90, "90s", "6m", "1m30s"; show them as "6:00", "3 h 05 min" or in words.

The one module that turns seconds into text for people, whatever the command.
"""

from __future__ import annotations

import re

_PART = re.compile(r"(\d+(?:\.\d+)?)\s*(h|m|s)")
_WHOLE = re.compile(r"\s*(?:\d+(?:\.\d+)?\s*[hms]\s*)+")


def parse_seconds(value: object) -> float:
    """A duration in seconds from a number or a string like "1m30s"; ValueError if not one.

    Negative and zero durations are rejected: a routine step cannot last no time.
    """
    if isinstance(value, bool):
        raise ValueError(f"expected a duration, got {value!r}")
    if isinstance(value, int | float):
        seconds = float(value)
    elif isinstance(value, str):
        text = value.strip().lower()
        try:
            seconds = float(text)
        except ValueError:
            if not _WHOLE.fullmatch(text):
                raise ValueError(
                    f'cannot read duration {value!r} (use seconds, "90s", "6m" or "1m30s")'
                ) from None
            factors = {"h": 3600.0, "m": 60.0, "s": 1.0}
            seconds = sum(float(n) * factors[u] for n, u in _PART.findall(text))
    else:
        raise ValueError(f"expected a duration, got {value!r}")
    if seconds <= 0:
        raise ValueError(f"duration must be positive, got {value!r}")
    return seconds


def format_seconds(seconds: float) -> str:
    """Human form used in displays: "6:00", "1:05:00"."""
    total = max(0, round(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}:{minutes:02d}:{secs:02d}"
    return f"{minutes}:{secs:02d}"


def format_minutes(seconds: float | None) -> str:
    """To the nearest minute, for gaps and pumping time: "45 min", "3 h 05 min"; None as "-"."""
    if seconds is None:
        return "-"
    minutes = max(0, round(seconds / 60))
    return f"{minutes} min" if minutes < 60 else f"{minutes // 60} h {minutes % 60:02d} min"


def spoken_length(seconds: float) -> str:
    """A session's length for speech: "40 seconds" below 90 s, then whole minutes."""
    if seconds < 90:
        rounded = max(5, 5 * round(seconds / 5))
        return f"{rounded} seconds"
    minutes = round(seconds / 60)
    return f"{minutes} minutes"
