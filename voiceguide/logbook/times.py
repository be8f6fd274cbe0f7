"""Log times: aware datetimes in code, UTC ISO-8601 text in the database, local time for people."""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta, tzinfo
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from voiceguide.errors import BadInputError, shown

log = logging.getLogger(__name__)

_CLOCK = re.compile(r"^(\d{1,2}):(\d{2})$")
EARLIEST_YEAR = 2000
"""No log goes back further: an earlier year is a typing mistake (0224 for 2024), and year 1
in a zone west of UTC is not a time Python can hold in UTC."""
LATEST_YEAR = 2099
"""Far beyond any clock skew (a time in the future is refused anyway, except in an import)."""
_LOCALTIME = Path("/etc/localtime")


def require_aware(moment: datetime, what: str) -> datetime:
    """Refuse naive datetimes: they are the root of every off-by-one-hour bug."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{what} must be a timezone-aware datetime, got {moment!r}")
    return moment


def to_db(moment: datetime) -> str:
    """The stored form: UTC, whole seconds, e.g. "2026-03-29T00:30:00+00:00" (sorts as text)."""
    return require_aware(moment, "time").astimezone(UTC).isoformat(timespec="seconds")


def from_db(text: str) -> datetime:
    """Read a stored (or exported) time back as an aware UTC datetime."""
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        raise ValueError(f"time without a UTC offset: {text!r}")
    return moment.astimezone(UTC)


def check_year(moment: datetime, shown_as: str) -> datetime:
    """`moment` if its year lies in the log's range; else ValueError naming `shown_as`."""
    if not EARLIEST_YEAR <= moment.year <= LATEST_YEAR:
        raise ValueError(f"{shown_as} is not between the years {EARLIEST_YEAR} and {LATEST_YEAR}")
    return moment


def clock(moment: datetime, tz: tzinfo) -> str:
    """24-hour "HH:MM" wall-clock time in `tz`."""
    return moment.astimezone(tz).strftime("%H:%M")


def local_zone(environ: Mapping[str, str] | None = None) -> tzinfo:
    """The user's time zone with its DST rules: $TZ if it names a zone, else /etc/localtime.

    A bare UTC offset (no DST rules) is the last resort, for systems without zone files.
    """
    env = os.environ if environ is None else environ
    name = env.get("TZ", "").lstrip(":")
    if name:
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            log.debug("TZ=%r is not a zone name; using the C library's offset", name)
            return _fixed_local_offset()
    try:
        with _LOCALTIME.open("rb") as handle:
            return ZoneInfo.from_file(handle, key="localtime")
    except (OSError, ValueError):
        return _fixed_local_offset()


def _fixed_local_offset() -> tzinfo:
    zone = datetime.now().astimezone().tzinfo
    return zone if zone is not None else UTC


def local_datetime(naive: datetime, tz: tzinfo, text: str) -> datetime:
    """Attach `tz` to a wall-clock time, refusing times skipped when the clocks went forward.

    Times that happen twice (clocks going back) mean the first of the two.
    """
    moment = naive.replace(tzinfo=tz, fold=0)
    if moment.astimezone(UTC).astimezone(tz).replace(tzinfo=None) != naive:
        raise BadInputError(
            f"time {text!r} does not exist in your time zone (the clocks went forward then)"
        )
    return moment


def parse_when(text: str, now: datetime, tz: tzinfo) -> datetime:
    """Parse --at: "HH:MM" (today, local) or "YYYY-MM-DD HH:MM" (local unless an offset is given).

    Returns an aware datetime. Future times and malformed text raise BadInputError.
    """
    require_aware(now, "now")
    raw = text.strip()
    match = _CLOCK.match(raw)
    if match:
        hour, minute = int(match.group(1)), int(match.group(2))
        if hour > 23 or minute > 59:
            raise BadInputError(f"time {text!r} is not a clock time (use HH:MM, 00:00 to 23:59)")
        today = now.astimezone(tz).date()
        naive = datetime(today.year, today.month, today.day, hour, minute)
        moment = local_datetime(naive, tz, text)
        if moment > now:
            raise BadInputError(
                f"time {text!r} is later than now ({clock(now, tz)}); for an earlier day "
                f"give the date too, e.g. '{(today - timedelta(days=1)).isoformat()} {raw}'"
            )
        return moment
    try:
        parsed = datetime.fromisoformat(raw)
    except ValueError:
        parsed = None
    if parsed is None or ":" not in raw:
        raise BadInputError(f"time {shown(text)} not understood: use HH:MM or 'YYYY-MM-DD HH:MM'")
    try:
        check_year(parsed, f"time {shown(text)}")
    except ValueError as err:
        raise BadInputError(str(err)) from None
    moment = parsed if parsed.tzinfo is not None else local_datetime(parsed, tz, text)
    if moment > now:
        raise BadInputError(f"time {text!r} is in the future (now it is {clock(now, tz)})")
    return moment
