"""`voiceguide playlist ...`: make, fill, show, import and export named playlists."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from voiceguide.cli.context import AppContext, app_context
from voiceguide.routine.durations import format_seconds

if TYPE_CHECKING:
    from voiceguide.music.playlists.analyse import Progress as ProgressCallback
    from voiceguide.music.playlists.entries import PlaylistEntry

app = typer.Typer(
    help=(
        "Named playlists for the music under a routine. They are plain M3U8 files in "
        "voiceguide's data folder: any music player opens them, and you may edit them by hand."
    ),
    no_args_is_help=True,
)

NameArg = Annotated[str, typer.Argument(help="The playlist's name, e.g. 'evening'.")]
InputsHelp = "Audio files, folders (searched with their sub-folders) or .m3u/.m3u8/.pls files."


def _warn(warnings: Sequence[str]) -> None:
    for warning in warnings:
        typer.echo(f"warning: {warning}", err=True)


@contextmanager
def _progress(context: AppContext, label: str) -> Iterator[ProgressCallback]:
    """A progress bar on stderr while files are examined (shown only on a terminal)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    console = context.err
    with Progress(
        TextColumn(label),
        BarColumn(),
        MofNCompleteColumn(),
        console=console,
        transient=True,
        disable=not console.is_terminal,
    ) as bar:
        task = bar.add_task(label, total=None)

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield update


def _tracks(count: int) -> str:
    return f"{count} track" if count == 1 else f"{count} tracks"


def _label(entry: PlaylistEntry) -> str:
    return entry.title or entry.path.stem


@app.command("new")
def new_command(
    ctx: typer.Context,
    name: NameArg,
    inputs: Annotated[list[Path] | None, typer.Argument(help=InputsHelp)] = None,
) -> None:
    """Create a playlist, optionally filled from files and folders.

    Files that cannot be played are left out, each with a warning.
    """
    from voiceguide.music.playlists import manage

    context = app_context(ctx)
    with _progress(context, "checking music") as progress:
        report = manage.new_playlist(context.paths, name, inputs or [], on_progress=progress)
    _warn(report.warnings)
    typer.echo(f"Created playlist {report.name!r} with {_tracks(report.total)}: {report.file}")


@app.command("add")
def add_command(
    ctx: typer.Context,
    name: NameArg,
    inputs: Annotated[list[Path], typer.Argument(help=InputsHelp)],
) -> None:
    """Add files and folders to the end of a playlist.

    Files already in it are left out.
    """
    from voiceguide.music.playlists import manage

    context = app_context(ctx)
    with _progress(context, "checking music") as progress:
        report = manage.add_to_playlist(context.paths, name, inputs, on_progress=progress)
    _warn(report.warnings)
    typer.echo(f"Added {_tracks(report.added)} to {report.name!r} (now {_tracks(report.total)})")


@app.command("remove")
def remove_command(
    ctx: typer.Context,
    name: NameArg,
    entry: Annotated[
        str,
        typer.Argument(help="The entry's number (as `show` lists it), its path or its file name."),
    ],
) -> None:
    """Remove one entry from a playlist (the music file stays)."""
    from voiceguide.music.playlists import manage

    removed = manage.remove_from_playlist(app_context(ctx).paths, name, entry)
    for item in removed:
        typer.echo(f"Removed from {name.strip()!r}: {_label(item)} ({item.path})")


@app.command("list")
def list_command(ctx: typer.Context) -> None:
    """List the playlists with their track counts and total lengths."""
    from rich.table import Table
    from rich.text import Text

    from voiceguide.music.playlists import manage

    context = app_context(ctx)
    summaries = manage.list_playlists(context.paths)
    if not summaries:
        typer.echo("No playlists yet; make one with: voiceguide playlist new NAME FOLDER")
        return
    table = Table("Playlist", "Tracks", "Length", "Missing")
    for summary in summaries:
        if summary.problem is not None:
            table.add_row(Text(summary.name), "?", "?", "")
            _warn([summary.problem])
            continue
        length = format_seconds(summary.seconds) + ("+?" if summary.unknown_lengths else "")
        missing = str(summary.missing) if summary.missing else ""
        table.add_row(Text(summary.name), str(summary.tracks), length, missing)
    context.out.print(table)


@app.command("show")
def show_command(ctx: typer.Context, name: NameArg) -> None:
    """Show a playlist's tracks, numbered, with lengths.

    Entries whose file is missing are marked (they are skipped when played).
    """
    from rich.table import Table
    from rich.text import Text

    from voiceguide.music.playlists import manage

    context = app_context(ctx)
    rows, warnings = manage.show_playlist(context.paths, name)
    _warn(warnings)
    table = Table("#", "Track", "Length", "File", title=Text(name.strip()))
    seconds = 0.0
    for row in rows:
        length = "?"
        if row.entry.duration_seconds is not None:
            seconds += row.entry.duration_seconds
            length = format_seconds(row.entry.duration_seconds)
        file = Text(str(row.entry.path), overflow="fold")
        if row.missing:
            file = Text.assemble(("MISSING ", "bold red"), file)
        table.add_row(str(row.number), Text(_label(row.entry)), length, file)
    context.out.print(table)
    missing = sum(1 for row in rows if row.missing)
    note = f", {missing} missing (skipped when played)" if missing else ""
    context.out.print(Text(f"{_tracks(len(rows))}, {format_seconds(seconds)}{note}"))


@app.command("delete")
def delete_command(
    ctx: typer.Context,
    name: NameArg,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask first.")] = False,
) -> None:
    """Delete a playlist (only the playlist file: the music stays)."""
    from voiceguide.music.playlists import PlaylistStore, manage

    paths = app_context(ctx).paths
    if not yes:
        # Check the name first, so a typo is reported before any question.
        PlaylistStore(paths).load(name)
        typer.confirm(f"Delete playlist {name.strip()!r}?", abort=True)
    file = manage.delete_playlist(paths, name)
    typer.echo(f"Deleted playlist {name.strip()!r} ({file})")


@app.command("import")
def import_command(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="An .m3u, .m3u8 or .pls playlist file.")],
    name: Annotated[
        str | None,
        typer.Option("--name", "-n", help="Name to store it under (default: the file's name)."),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Replace a playlist of the same name.")
    ] = False,
) -> None:
    """Store a playlist file as a named playlist.

    Local entries are kept; web links are left out.
    """
    from voiceguide.music.playlists import manage

    context = app_context(ctx)
    with _progress(context, "checking music") as progress:
        report = manage.import_playlist(
            context.paths, file, name, replace=force, on_progress=progress
        )
    _warn(report.warnings)
    typer.echo(f"Imported {_tracks(report.total)} as {report.name!r}: {report.file}")


@app.command("export")
def export_command(
    ctx: typer.Context,
    name: NameArg,
    file: Annotated[Path, typer.Argument(help="The .m3u8 (or .m3u) file to write.")],
    absolute: Annotated[
        bool,
        typer.Option("--absolute", help="Write every path absolute, even inside FILE's folder."),
    ] = False,
    force: Annotated[bool, typer.Option("--force", help="Overwrite FILE if it exists.")] = False,
) -> None:
    """Write a playlist to a UTF-8 M3U8 file for other players.

    Tracks inside FILE's folder (or its sub-folders) are written relative to it, so
    that folder can be copied to another device as a whole; others get absolute paths.
    """
    from voiceguide.music.playlists import manage

    paths = app_context(ctx).paths
    written = manage.export_playlist(paths, name, file, absolute=absolute, replace=force)
    typer.echo(f"Exported {name.strip()!r} to {written}")
