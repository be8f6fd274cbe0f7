"""The live display (rich) for a terminal, and plain event lines without one.

rich is imported when the panel is first drawn, which is after the first sound: `start`
loads nothing here that its first sound does not need (see BENCHMARKS.md, first sound).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

from voiceguide.audioformat import frames_to_seconds
from voiceguide.listen import grammar
from voiceguide.live.events import Event, PlayState, SessionListener
from voiceguide.routine.durations import format_seconds

if TYPE_CHECKING:
    from rich.console import Console
    from rich.live import Live
    from rich.panel import Panel

KEYS_LINE = "space pause/resume · n next step · b back · r repeat · + one more minute · q stop"


def render_state(state: PlayState, routine_title: str, listening: str = "") -> Panel:
    from rich.console import Group
    from rich.panel import Panel
    from rich.progress_bar import ProgressBar
    from rich.table import Table
    from rich.text import Text

    if state.step_number is not None:
        heading = f"Step {state.step_number} of {state.step_count}: {state.step_title}"
    else:
        heading = state.step_title
    lines: list[object] = [Text(heading, style="bold")]
    caption = Text(f"“{state.caption}”" if state.caption else " ", style="italic cyan")
    lines.append(caption)
    if state.step_total_seconds:
        left = state.step_total_seconds - state.step_elapsed_seconds
        row = Table.grid(expand=True, padding=(0, 1))
        row.add_column(ratio=1)
        row.add_column(no_wrap=True)
        bar = ProgressBar(total=state.step_total_seconds, completed=state.step_elapsed_seconds)
        row.add_row(bar, Text(f"{format_seconds(left)} left in this step"))
        lines.append(row)
    if state.next_title:
        lines.append(Text(f"Next: {state.next_title}", style="dim"))
    lines.append(Text(f"Session: {format_seconds(state.session_left_seconds)} left", style="dim"))
    lines.append(Text(KEYS_LINE, style="dim"))
    if listening:
        lines.append(Text(listening, style="green"))
    if state.paused:
        title, border = "PAUSED: press space to continue", "bold yellow"
        lines.insert(0, Text("⏸  PAUSED", style="bold yellow"))
    else:
        title, border = routine_title, "green"
    return Panel(Group(*lines), title=title, border_style=border)  # type: ignore[arg-type]


_PLAIN_KINDS = ("paused", "resumed", "next", "back", "repeat", "extended", "stopped", "finished")


def plain_line(event: Event) -> str | None:
    """One line per event for logs and pipes."""
    seconds = format_seconds(frames_to_seconds(event.output_frame))
    if event.kind == "step-started" and event.step is not None:
        return f"[{seconds}] step {event.step.index + 1}: {event.step.title}"
    if event.kind == "cue":
        return f"[{seconds}] says: {event.text}"
    if event.kind == "heard":
        return f"[{seconds}] heard: {event.text}"
    if event.kind in _PLAIN_KINDS:
        return f"[{seconds}] {event.kind}"
    return None


class PlainLines(SessionListener):
    """Without a terminal: one line per event on stdout."""

    def on_event(self, event: Event) -> None:
        line = plain_line(event)
        if line:
            print(line, flush=True, file=sys.stdout)


class LivePanel(SessionListener):
    """At a terminal: a panel redrawn eight times a second.

    `console` may be a function that makes one (`cli.console.console`): it is then called at
    the first tick, so rich is not loaded before the first sound.
    """

    def __init__(
        self,
        routine_title: str,
        console: Console | Callable[[], Console],
        wake_phrase: str = "",
    ) -> None:
        self.routine_title = routine_title
        self.wake_phrase = wake_phrase
        """Set while voice commands are listened for: the panel says so."""
        self.last_heard = ""
        self._console = console
        self._live: Live | None = None
        self._started = False

    def on_event(self, event: Event) -> None:
        if event.kind == "heard":
            self.last_heard = event.text

    def _listening_line(self) -> str:
        if not self.wake_phrase:
            return ""
        line = f"listening: say {grammar.examples(self.wake_phrase)}"
        return f"{line} · heard: {self.last_heard}" if self.last_heard else line

    def on_tick(self, state: PlayState) -> None:
        if self._live is None:
            from rich.console import Console
            from rich.live import Live

            made = self._console
            target = made if isinstance(made, Console) else made()
            self._live = Live(console=target, refresh_per_second=8, transient=False)
        self._live.update(render_state(state, self.routine_title, self._listening_line()))
        if not self._started:
            self._live.start()
            self._started = True

    def on_end(self, outcome: str) -> None:
        self.close()

    def close(self) -> None:
        if self._started and self._live is not None:
            self._live.stop()
            self._started = False
