"""The live display (rich) for a terminal, and plain event lines without one."""

from __future__ import annotations

import sys

from rich.console import Group
from rich.panel import Panel
from rich.progress_bar import ProgressBar
from rich.table import Table
from rich.text import Text

from voiceguide.live.conductor import Event, PlayState
from voiceguide.routine.durations import format_seconds

KEYS_LINE = "space pause/resume · n next step · b back · r repeat · + one more minute · q stop"


def render_state(state: PlayState, routine_title: str) -> Panel:
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
    if state.paused:
        title, border = "PAUSED: press space to continue", "bold yellow"
        lines.insert(0, Text("⏸  PAUSED", style="bold yellow"))
    else:
        title, border = routine_title, "green"
    return Panel(Group(*lines), title=title, border_style=border)  # type: ignore[arg-type]


def plain_line(event: Event) -> str | None:
    """One line per event for logs and pipes."""
    seconds = format_seconds(event.output_frame / 44_100)
    if event.kind == "step-started" and event.step is not None:
        return f"[{seconds}] step {event.step.index + 1}: {event.step.title}"
    if event.kind == "cue":
        return f"[{seconds}] says: {event.text}"
    if event.kind in ("paused", "resumed", "next", "back", "repeat", "extended", "stopped"):
        return f"[{seconds}] {event.kind}"
    if event.kind == "finished":
        return f"[{seconds}] finished"
    return None


def print_plain(line: str) -> None:
    print(line, flush=True, file=sys.stdout)
