"""`voiceguide playlist ...`: make, fill, show, import and export named playlists."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table
from rich.text import Text

from voiceguide.errors import VoiceguideError
from voiceguide.music.playlists import PlaylistStore, manage
from voiceguide.music.playlists.analyse import Progress as ProgressCallback
from voiceguide.music.playlists.entries import PlaylistEntry
from voiceguide.paths import Paths
from voiceguide.routine.durations import format_seconds

log = logging.getLogger(__name__)

app = typer.Typer(
    help=(
        "Named playlists for the music under a routine. They are plain M3U8 files in "
        "voiceguide's data folder: any music player opens them, and you may edit them by hand."
    ),
    no_args_is_help=True,
)

NameArg = Annotated[str, typer.Argument(help="The playlist's name, e.g. 'evening'.")]
InputsHelp = "Audio files, folders (searched with their sub-folders) or .m3u/.m3u8/.pls files."


@contextmanager
def _errors_to_exit() -> Iterator[None]:
    """A VoiceguideError becomes one 'error: ...' line on stderr and its exit status."""
    try:
        yield
    except VoiceguideError as err:
        typer.echo(f"error: {err}", err=True)
        raise typer.Exit(int(err.exit_status)) from None


def _paths() -> Paths:
    paths = Paths.from_environment()
    paths.ensure()
    return paths


def _warn(warnings: Sequence[str]) -> None:
    for warning in warnings:
        typer.echo(f"warning: {warning}", err=True)


@contextmanager
def _progress(label: str) -> Iterator[ProgressCallback]:
    """A progress bar on stderr while files are examined (shown only on a terminal)."""
    console = Console(stderr=True)
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
    name: NameArg,
    inputs: Annotated[list[Path] | None, typer.Argument(help=InputsHelp)] = None,
) -> None:
    """Create a playlist, optionally filled from files and folders (unplayable ones left out)."""
    with _errors_to_exit():
        paths = _paths()
        with _progress("checking music") as progress:
            report = manage.new_playlist(paths, name, inputs or [], on_progress=progress)
        _warn(report.warnings)
        typer.echo(f"created playlist {report.name!r} with {_tracks(report.total)}: {report.file}")


@app.command("add")
def add_command(
    name: NameArg,
    inputs: Annotated[list[Path], typer.Argument(help=InputsHelp)],
) -> None:
    """Add files and folders to the end of a playlist (files already in it are left out)."""
    with _errors_to_exit():
        paths = _paths()
        with _progress("checking music") as progress:
            report = manage.add_to_playlist(paths, name, inputs, on_progress=progress)
        _warn(report.warnings)
        typer.echo(
            f"added {_tracks(report.added)} to {report.name!r} (now {_tracks(report.total)})"
        )


@app.command("remove")
def remove_command(
    name: NameArg,
    entry: Annotated[
        str,
        typer.Argument(help="The entry's number (as `show` lists it), its path or its file name."),
    ],
) -> None:
    """Remove one entry from a playlist (the music file itself is not touched)."""
    with _errors_to_exit():
        removed = manage.remove_from_playlist(_paths(), name, entry)
        for item in removed:
            typer.echo(f"removed from {name.strip()!r}: {_label(item)} ({item.path})")


@app.command("list")
def list_command() -> None:
    """List the playlists with their track counts and total lengths."""
    with _errors_to_exit():
        summaries = manage.list_playlists(_paths())
        if not summaries:
            typer.echo("no playlists yet; make one with: voiceguide playlist new NAME FOLDER")
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
        Console().print(table)


@app.command("show")
def show_command(name: NameArg) -> None:
    """Show a playlist's tracks, numbered, with lengths; missing files are marked."""
    with _errors_to_exit():
        rows, warnings = manage.show_playlist(_paths(), name)
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
        console = Console()
        console.print(table)
        missing = sum(1 for row in rows if row.missing)
        note = f", {missing} missing (skipped when played)" if missing else ""
        console.print(Text(f"{_tracks(len(rows))}, {format_seconds(seconds)}{note}"))


@app.command("delete")
def delete_command(
    name: NameArg,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask first.")] = False,
) -> None:
    """Delete a playlist (only the playlist file: the music is not touched)."""
    with _errors_to_exit():
        paths = _paths()
        if not yes:
            # Check the name first, so a typo is reported before any question.
            PlaylistStore(paths).load(name)
            typer.confirm(f"Delete playlist {name.strip()!r}?", abort=True)
        file = manage.delete_playlist(paths, name)
        typer.echo(f"deleted playlist {name.strip()!r} ({file})")


@app.command("import")
def import_command(
    file: Annotated[Path, typer.Argument(help="An .m3u, .m3u8 or .pls playlist file.")],
    name: Annotated[
        str | None,
        typer.Option("--name", "-n", help="Name to store it under (default: the file's name)."),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Replace a playlist of the same name.")
    ] = False,
) -> None:
    """Store a playlist file as a named playlist (local entries are kept; web links are not)."""
    with _errors_to_exit():
        paths = _paths()
        with _progress("checking music") as progress:
            report = manage.import_playlist(paths, file, name, replace=force, on_progress=progress)
        _warn(report.warnings)
        typer.echo(f"imported {_tracks(report.total)} as {report.name!r}: {report.file}")


@app.command("export")
def export_command(
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
    with _errors_to_exit():
        written = manage.export_playlist(_paths(), name, file, absolute=absolute, replace=force)
        typer.echo(f"exported {name.strip()!r} to {written}")
