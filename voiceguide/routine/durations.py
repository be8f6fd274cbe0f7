"""Durations: parse 90, "90s", "6m", "1m30s"; show them as "6:00", "3 h 05 min" or in words.

The one module that turns seconds into text for people, whatever the command.
"""

from __future__ import annotations

import math
import re

from voiceguide.errors import shown

_PART = re.compile(r"(\d+(?:\.\d+)?)\s*(h|m|s)")
_WHOLE = re.compile(r"\s*(?:\d+(?:\.\d+)?\s*[hms]\s*)+")
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:e[+-]?\d+)?")
"""Plain seconds in text, as "90" or "1.5e2"; not Python's "nan", "inf" or "1_000"."""


def parse_seconds(value: object) -> float:
    """A duration in seconds from a number or a string like "1m30s"; ValueError if not one.

    Negative and zero durations are rejected: a routine step cannot last no time; so are
    NaN and infinity (`nan`, `inf` and `1e400` are TOML numbers, and Python reads them in text).
    """
    if isinstance(value, bool):
        raise ValueError(f"expected a duration, got {shown(value)}")
    if isinstance(value, int | float):
        seconds = _as_float(value)
    elif isinstance(value, str):
        text = value.strip().lower()
        if _WHOLE.fullmatch(text):
            factors = {"h": 3600.0, "m": 60.0, "s": 1.0}
            seconds = sum(float(n) * factors[u] for n, u in _PART.findall(text))
        elif _NUMBER.fullmatch(text):
            seconds = float(text)
        else:
            raise ValueError(
                f'cannot read duration {shown(value)} (use seconds, "90s", "6m" or "1m30s")'
            )
    else:
        raise ValueError(f"expected a duration, got {shown(value)}")
    if not math.isfinite(seconds):
        raise ValueError(f"duration must be a finite number, got {shown(value)}")
    if seconds <= 0:
        raise ValueError(f"duration must be positive, got {shown(value)}")
    return seconds


def _as_float(value: int | float) -> float:
    try:
        return float(value)
    except OverflowError:  # an integer beyond any float: as good as infinite
        return math.inf


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
