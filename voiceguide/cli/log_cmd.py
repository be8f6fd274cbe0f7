"""`voiceguide log`: show, add, edit, chart and export pumping sessions (a thin typer layer).

Each command parses its options, opens the log, calls one function of
voiceguide.logbook and prints. The display unit and the daily goal are `log --unit` /
`log --goal`, or else config.toml's `amount_unit` / `sessions_per_day`; the settings are read
only when a command shows amounts or counts sessions, never for `--help`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from voiceguide.cli.console import printable
from voiceguide.cli.context import app_context
from voiceguide.errors import BadInputError
from voiceguide.routine.durations import format_minutes
from voiceguide.sides import SIDES, Side

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from rich.table import Table

    from voiceguide.logbook.records import SessionRecord
    from voiceguide.logbook.store import LogStore
    from voiceguide.logbook.units import AmountSum, Unit

app = typer.Typer(
    help=(
        "The pumping log: sessions, amounts, daily stats. "
        "Also a chart of milk per day, and export and import as CSV or JSON."
    ),
    no_args_is_help=False,
    add_completion=False,
)

_GIVEN_KEY = "voiceguide.log.given"


@dataclass(frozen=True)
class _Settings:
    unit: Unit
    goal_per_24h: int


def _settings(ctx: typer.Context) -> _Settings:
    """`log --unit/--goal` as given, the rest from config.toml (read only if needed)."""
    from voiceguide.logbook.units import parse_unit

    unit, goal = ctx.meta.get(_GIVEN_KEY, (None, None))
    if unit is None or goal is None:
        config = app_context(ctx).config
        unit = config.amount_unit if unit is None else unit
        goal = config.sessions_per_day if goal is None else goal
    return _Settings(parse_unit(unit), goal)


def _open_store(ctx: typer.Context) -> LogStore:
    """The log, to change it (created and migrated if need be)."""
    from voiceguide.logbook.store import LogStore

    return LogStore(app_context(ctx).paths.log_db)


def _read_store(ctx: typer.Context) -> LogStore:
    """The log, to read it: nothing is created or written, so a read-only folder works."""
    from voiceguide.logbook.store import LogStore

    return LogStore(app_context(ctx).unmade_paths.log_db, read_only=True)


def _local_zone() -> tzinfo:
    from voiceguide.logbook.times import local_zone

    return local_zone()


def _when(moment: datetime, tz: tzinfo) -> str:
    return moment.astimezone(tz).strftime("%d %b %H:%M")


def _sessions_table(sessions: Sequence[SessionRecord], unit: Unit, tz: tzinfo) -> Table:
    from rich.table import Table
    from rich.text import Text

    from voiceguide.logbook.units import format_amount, format_sum

    partly = any(s.amounts.partial for s in sessions)
    table = Table(show_edge=False, caption=f"amounts in {unit}{_legend(partly)}")
    table.add_column("ID", justify="right", no_wrap=True)
    table.add_column("When", no_wrap=True)
    table.add_column("Session", min_width=10, ratio=2, overflow="fold")
    table.add_column("Pumping", justify="right", no_wrap=True)
    for heading in (*(side.capitalize() for side in SIDES), "Total"):
        table.add_column(heading, justify="right", no_wrap=True)
    table.add_column("Note", min_width=8, ratio=1, overflow="fold")
    for s in sessions:
        what = s.status if s.source != "live" else f"{s.routine or 'routine'}: {s.status}"
        table.add_row(
            str(s.id),
            _when(s.started_at, tz),
            Text(printable(what)),
            format_minutes(s.pumping_seconds if s.source == "live" else None),
            *(format_amount(s.amount_ml(side), unit, with_unit=False) for side in SIDES),
            format_sum(s.amounts, unit, with_unit=False),
            Text(printable(s.note)),
        )
    return table


def _show_sessions(
    ctx: typer.Context, sessions: Sequence[SessionRecord], unit: Unit, empty: str
) -> None:
    out = app_context(ctx).out
    if not sessions:
        out.print(empty, markup=False)
        return
    out.print(_sessions_table(sessions, unit, _local_zone()))


def _legend(partly_measured: bool) -> str:
    """Says what the marks in a table mean, when there are any."""
    from voiceguide.logbook.units import PARTLY_MEASURED

    if not partly_measured:
        return ""
    return f"; -: not measured,{PARTLY_MEASURED}: some amounts not measured"


def _amount_summary(sides: Mapping[Side, AmountSum], unit: Unit) -> str:
    """E.g. "115 ml (left 60 ml, right 55 ml)"; unknown amounts as "-", never as 0."""
    from voiceguide.logbook.units import AmountSum, format_sum

    total = format_sum(sum(sides.values(), AmountSum()), unit)
    each = ", ".join(f"{side} {format_sum(amount, unit)}" for side, amount in sides.items())
    return f"{total} ({each})"


_UNIT_OPTION = typer.Option(
    None,
    "--unit",
    metavar="ml|oz",
    help="Show amounts in ml or oz (default: amount_unit in config.toml, else ml).",
)
_GOAL_OPTION = typer.Option(
    None,
    "--goal",
    min=1,
    max=24,
    help="Sessions wanted per 24 hours (default: sessions_per_day in config.toml, else 8).",
)


def _give(ctx: typer.Context, unit: str | None, goal: int | None) -> None:
    """Note `--unit`/`--goal` as given, before or after the subcommand (after wins)."""
    from voiceguide.logbook.units import parse_unit

    if unit is not None:
        parse_unit(unit)  # a wrong --unit is reported before anything else
    before_unit, before_goal = ctx.meta.get(_GIVEN_KEY, (None, None))
    ctx.meta[_GIVEN_KEY] = (
        before_unit if unit is None else unit,
        before_goal if goal is None else goal,
    )


@app.callback(invoke_without_command=True)
def main(
    ctx: typer.Context,
    unit: str | None = _UNIT_OPTION,
    goal: int | None = _GOAL_OPTION,
    last: int = typer.Option(10, "--last", min=1, help="How many sessions to list."),
) -> None:
    """The pumping log. Without a command: the last sessions as a table."""
    _give(ctx, unit, goal)
    if ctx.invoked_subcommand is None:
        with _read_store(ctx) as store:
            sessions = store.recent(last)
        _show_sessions(ctx, sessions, _settings(ctx).unit, "No sessions logged yet.")


@app.command("list")
def list_sessions(
    ctx: typer.Context,
    last: int = typer.Option(10, "--last", min=1, help="How many sessions to list."),
    unit: str | None = _UNIT_OPTION,
) -> None:
    """The last sessions as a table, newest at the bottom."""
    _give(ctx, unit, None)
    with _read_store(ctx) as store:
        sessions = store.recent(last)
    _show_sessions(ctx, sessions, _settings(ctx).unit, "No sessions logged yet.")


@app.command()
def today(
    ctx: typer.Context, unit: str | None = _UNIT_OPTION, goal: int | None = _GOAL_OPTION
) -> None:
    """Today's sessions, today's total, and when the next session is due."""
    _give(ctx, unit, goal)
    from voiceguide.logbook.stats import compute_stats, local_midnight
    from voiceguide.logbook.times import clock

    settings = _settings(ctx)
    tz, now = _local_zone(), datetime.now(UTC)
    with _read_store(ctx) as store:
        sessions = store.sessions()
    stats = compute_stats(sessions, now, tz, goal_per_24h=settings.goal_per_24h, days=1)
    start = local_midnight(now.astimezone(tz).date(), tz)
    todays = [s for s in sessions if start <= s.started_at <= now]
    _show_sessions(ctx, todays, settings.unit, "No sessions yet today.")
    day = stats.per_day[-1]
    out = app_context(ctx).out
    count = "1 session" if day.sessions == 1 else f"{day.sessions} sessions"
    sides = {side: day.side(side) for side in SIDES}
    out.print(f"Today: {count}, {_amount_summary(sides, settings.unit)}.", markup=False)
    out.print(f"Last 24 hours: {stats.sessions_24h} of {stats.goal_per_24h} sessions.")
    if stats.next_around is not None:
        out.print(f"Next session around {clock(stats.next_around, tz)}.")


@app.command()
def stats(
    ctx: typer.Context,
    days: int = typer.Option(7, "--days", min=1, max=366, help="How many days to show."),
    unit: str | None = _UNIT_OPTION,
    goal: int | None = _GOAL_OPTION,
) -> None:
    """Daily totals, and the last 24 hours against the goal.

    Also the gaps between sessions, when the last one was and when the next is due.
    """
    from rich.table import Table

    from voiceguide.logbook.stats import compute_stats
    from voiceguide.logbook.times import clock
    from voiceguide.logbook.units import format_sum

    _give(ctx, unit, goal)
    settings = _settings(ctx)
    tz, now = _local_zone(), datetime.now(UTC)
    with _read_store(ctx) as store:
        sessions = store.sessions()
    result = compute_stats(sessions, now, tz, goal_per_24h=settings.goal_per_24h, days=days)
    unit = settings.unit
    out = app_context(ctx).out
    out.print(f"Last 24 hours: {result.sessions_24h} of {result.goal_per_24h} sessions.")
    partly = any(day.amounts.partial for day in result.per_day)
    table = Table(show_edge=False, caption=_legend(partly).removeprefix("; ") or None)
    table.add_column("Day")
    table.add_column("Sessions", justify="right")
    for heading in (*(side.capitalize() for side in SIDES), "Total"):
        table.add_column(f"{heading} ({unit})", justify="right")
    for day in result.per_day:
        table.add_row(
            day.day.strftime("%a %d %b"),
            str(day.sessions),
            *(format_sum(day.side(side), unit, with_unit=False) for side in SIDES),
            format_sum(day.amounts, unit, with_unit=False),
        )
    out.print(table)
    out.print(
        f"Gaps between sessions (last {days} days): average "
        f"{format_minutes(result.average_gap_seconds)}, "
        f"longest {format_minutes(result.longest_gap_seconds)}."
    )
    if result.last_started_at is not None and result.next_around is not None:
        out.print(
            f"Last session {_when(result.last_started_at, tz)}; "
            f"next around {clock(result.next_around, tz)}."
        )


@app.command()
def add(
    ctx: typer.Context,
    left: float | None = typer.Option(None, "--left", help="Amount from the left breast."),
    right: float | None = typer.Option(None, "--right", help="Amount from the right breast."),
    unit: str | None = typer.Option(
        None, "--unit", metavar="ml|oz", help="Unit of --left/--right (default: the log's unit)."
    ),
    at: str | None = typer.Option(
        None,
        "--at",
        metavar="TIME",
        help="When it started: HH:MM today, or 'YYYY-MM-DD HH:MM'. Default: now.",
    ),
    note: str = typer.Option("", "--note", help="A free-text note."),
) -> None:
    """Log a session by hand.

    For sessions pumped without the guide, or amounts measured later.
    """
    from voiceguide.logbook.times import parse_when
    from voiceguide.logbook.units import amount_to_ml, format_amount, parse_unit

    if left is None and right is None and at is None and not note:
        raise BadInputError(
            "nothing to add: give --left, --right, --at or --note "
            "(e.g. voiceguide log add --left 60 --right 55)"
        )
    settings = _settings(ctx)
    tz, now = _local_zone(), datetime.now(UTC)
    amount_unit = parse_unit(unit) if unit is not None else settings.unit
    left_ml = amount_to_ml("left", left, amount_unit)
    right_ml = amount_to_ml("right", right, amount_unit)
    started_at = parse_when(at, now, tz) if at is not None else now
    with _open_store(ctx) as store:
        session_id = store.add_manual(started_at, left_ml, right_ml, note, now=now)
    given = dict(zip(SIDES, (left_ml, right_ml), strict=True))
    amounts = [
        f"{side} {format_amount(amount, settings.unit)}"
        for side, amount in given.items()
        if amount is not None
    ]
    typer.echo(
        f"Added session {session_id} at {_when(started_at, tz)}"
        + (f": {', '.join(amounts)}." if amounts else " (no amounts).")
    )


@app.command()
def edit(
    ctx: typer.Context,
    session_id: int = typer.Argument(..., metavar="ID", help="The session's ID (see `log`)."),
    left: float | None = typer.Option(None, "--left", help="New amount, left breast."),
    right: float | None = typer.Option(None, "--right", help="New amount, right breast."),
    unit: str | None = typer.Option(
        None, "--unit", metavar="ml|oz", help="Unit of --left/--right (default: the log's unit)."
    ),
    at: str | None = typer.Option(
        None, "--at", metavar="TIME", help="New start: HH:MM or 'YYYY-MM-DD HH:MM'."
    ),
    note: str | None = typer.Option(None, "--note", help="New note (replaces the old one)."),
) -> None:
    """Change the amounts, time or note of a session."""
    from voiceguide.logbook.times import parse_when
    from voiceguide.logbook.units import amount_to_ml, parse_unit

    settings = _settings(ctx)
    tz, now = _local_zone(), datetime.now(UTC)
    amount_unit = parse_unit(unit) if unit is not None else settings.unit
    with _open_store(ctx) as store:
        record = store.edit(
            session_id,
            started_at=parse_when(at, now, tz) if at is not None else None,
            left_ml=amount_to_ml("left", left, amount_unit),
            right_ml=amount_to_ml("right", right, amount_unit),
            note=note,
            now=now,
        )
    typer.echo(f"Updated session {record.id}.")
    _show_sessions(ctx, [record], settings.unit, "")


@app.command()
def delete(
    ctx: typer.Context,
    session_id: int = typer.Argument(..., metavar="ID", help="The session's ID (see `log`)."),
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation."),
) -> None:
    """Delete a session from the log (asks first)."""
    from voiceguide.logbook.units import format_sum

    settings = _settings(ctx)
    with _open_store(ctx) as store:
        record = store.get(session_id)
        if not yes:
            total = format_sum(record.amounts, settings.unit)
            typer.confirm(
                f"Delete session {record.id} ({_when(record.started_at, _local_zone())}, {total})?",
                abort=True,
            )
        store.delete(session_id)
    typer.echo(f"Deleted session {session_id}.")


@app.command()
def chart(
    ctx: typer.Context,
    output: Path = typer.Option(..., "--output", "-o", help="PNG file to write."),
    days: int = typer.Option(14, "--days", min=1, max=366, help="How many days to draw."),
    force: bool = typer.Option(False, "--force", help="Overwrite the file if it exists."),
) -> None:
    """Draw milk per day as a PNG chart.

    Left and right are stacked; each day's sessions are counted.
    """
    from voiceguide.logbook.chart import render_chart
    from voiceguide.logbook.stats import compute_stats

    settings = _settings(ctx)
    tz, now = _local_zone(), datetime.now(UTC)
    if output.suffix.lower() != ".png":
        raise BadInputError(f"{output}: the chart is a PNG; give a name ending in .png")
    with _read_store(ctx) as store:
        sessions = store.sessions()
    per_day = compute_stats(sessions, now, tz, days=days).per_day
    render_chart(
        per_day,
        output,
        settings.unit,
        force=force,
        inputs=store.files,
        matplotlib_dir=app_context(ctx).unmade_paths.cache_dir / "matplotlib",
    )
    typer.echo(f"Wrote a chart of the last {days} days to {output}.")


@app.command("export")
def export_log(
    ctx: typer.Context,
    csv_file: Path | None = typer.Option(None, "--csv", help="Write all sessions as CSV."),
    json_file: Path | None = typer.Option(None, "--json", help="Write all sessions as JSON."),
    force: bool = typer.Option(False, "--force", help="Overwrite the file if it exists."),
) -> None:
    """Export every session as CSV or JSON.

    Amounts are in ml, times in UTC.
    """
    from voiceguide.logbook import exchange

    if (csv_file is None) == (json_file is None):
        raise BadInputError("give exactly one of --csv FILE or --json FILE")
    with _read_store(ctx) as store:
        sessions = store.sessions()
    if csv_file is not None:
        target = csv_file
        count = exchange.export_csv(sessions, csv_file, force=force, inputs=store.files)
    else:
        assert json_file is not None
        target = json_file
        count = exchange.export_json(sessions, json_file, force=force, inputs=store.files)
    typer.echo(f"Exported {count} sessions to {target}.")


@app.command("import")
def import_log(
    ctx: typer.Context,
    csv_file: Path = typer.Option(..., "--csv", help="A CSV written by `log export --csv`."),
) -> None:
    """Add the sessions of a CSV export.

    Sessions already in the log are skipped.
    """
    from voiceguide.logbook import exchange

    with _open_store(ctx) as store:
        added, skipped = exchange.import_csv(store, csv_file)
    typer.echo(f"Imported {added} sessions ({skipped} were already in the log).")
