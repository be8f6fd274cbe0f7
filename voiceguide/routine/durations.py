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


def spoken_whole_minutes(seconds: float) -> str:
    """Words for a session's length, to the minute and at least one: "1 minute", "22 minutes"."""
    minutes = max(1, round(seconds / 60))
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


def spoken_minutes(seconds: float) -> str:
    """Words for a duration, for speech: "6 minutes", "1 minute 30 seconds", "45 seconds"."""
    total = round(seconds)
    minutes, secs = divmod(total, 60)
    parts = []
    if minutes:
        parts.append(f"{minutes} minute" + ("s" if minutes != 1 else ""))
    if secs:
        parts.append(f"{secs} second" + ("s" if secs != 1 else ""))
    return " ".join(parts) or "0 seconds"
