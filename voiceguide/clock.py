"""Time sources: the system clock, or a fake one that tests move by hand."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Protocol


class Clock(Protocol):
    def monotonic(self) -> float:
        """Seconds on a clock that never jumps (for playback positions)."""
        ...

    def now(self) -> datetime:
        """Aware wall-clock time (for the log)."""
        ...

    def sleep(self, seconds: float) -> None: ...


class SystemClock:
    def monotonic(self) -> float:
        return time.monotonic()

    def now(self) -> datetime:
        return datetime.now(UTC).astimezone()

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


class FakeClock:
    """A clock that only moves when told to (tests about time)."""

    def __init__(self, start_seconds: float = 1000.0, wall: datetime | None = None) -> None:
        self.seconds = start_seconds
        self.wall = wall or datetime(2026, 1, 1, tzinfo=UTC)
        self._origin = start_seconds

    def monotonic(self) -> float:
        return self.seconds

    def now(self) -> datetime:
        from datetime import timedelta

        return self.wall + timedelta(seconds=self.seconds - self._origin)

    def sleep(self, seconds: float) -> None:
        self.seconds += seconds

    def advance(self, seconds: float) -> None:
        self.seconds += seconds
