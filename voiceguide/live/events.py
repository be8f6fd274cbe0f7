"""What a live session tells its front ends: events, the display state, the listener base.

Front ends (the terminal display, plain event lines, the pumping-log recorder, voice
commands) subscribe to a LiveSession with a SessionListener, the way mopidy's frontends
subscribe to its core: one interface, each front end overriding what it needs.
"""

from __future__ import annotations

from dataclasses import dataclass

from voiceguide.mix.plan import PlannedStep

EVENT_KINDS = (
    "step-started", "step-ended", "cue", "paused", "resumed", "next", "back", "repeat", "extended",
    "how-long", "heard", "said", "output-lost", "output-back", "finished", "stopped",
)  # fmt: skip


@dataclass(frozen=True)
class Event:
    kind: str
    """One of EVENT_KINDS."""
    output_frame: int
    step: PlannedStep | None = None
    text: str = ""


@dataclass(frozen=True)
class PlayState:
    """What the display shows, computed from the playhead."""

    paused: bool
    finished: bool
    step_number: int | None
    step_count: int
    step_title: str
    step_elapsed_seconds: float
    step_total_seconds: float
    caption: str
    next_title: str
    session_left_seconds: float
    session_elapsed_seconds: float


class SessionListener:
    """A front end of a live session. Every method is called from the session's own loop
    (one thread), so a listener needs no lock of its own; none may block for long."""

    def on_event(self, event: Event) -> None:
        """An event happened at `event.output_frame` (heard now, or just now)."""

    def on_tick(self, state: PlayState) -> None:
        """About eight times a second: where the session stands (for displays)."""

    def on_end(self, outcome: str) -> None:
        """The sound has ended: "finished", "stopped" or "output-lost"."""
