"""`voiceguide render`: the whole session into an audio file."""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import typer

from voiceguide.audioformat import frames_to_seconds
from voiceguide.cli.console import console, error_console, warn
from voiceguide.cli.context import AppContext
from voiceguide.cli.options import SessionFlags, session_options
from voiceguide.errors import BadInputError
from voiceguide.files import SHARED_MODE, check_target, write_file
from voiceguide.mix.prepare import prepare_session
from voiceguide.output import FileSink
from voiceguide.output.export import render_to_sink
from voiceguide.routine.durations import format_seconds


def render(
    output: Path = typer.Option(
        ..., "--output", "-o", help="Audio file to write: .wav, .mp3, .ogg or .flac."
    ),
    cues_json: Path | None = typer.Option(
        None, "--cues-json", help="Also write the plan (steps, cues, music spans) as JSON."
    ),
    routine: str | None = SessionFlags.routine,
    music: str | None = SessionFlags.music,
    playlist: str | None = SessionFlags.playlist,
    no_music: bool = SessionFlags.no_music,
    shuffle: bool = SessionFlags.shuffle,
    seed: int | None = SessionFlags.seed,
    voice: str | None = SessionFlags.voice,
    engine: str | None = SessionFlags.engine,
    rate: int | None = SessionFlags.rate,
    speech_level: float | None = SessionFlags.speech_level,
    music_level: float | None = SessionFlags.music_level,
    first_side: str = SessionFlags.first_side,
    force: bool = typer.Option(
        False, "--force", help="Overwrite the output (and --cues-json) file if it exists."
    ),
) -> None:
    """Write the whole spoken session (speech over ducked music) to an audio file."""
    ctx = AppContext.from_environment()
    sink = FileSink(output, force=force)  # checks the format and the path before any work
    if cues_json is not None:
        if os.path.abspath(cues_json) == os.path.abspath(output):
            raise BadInputError(f"{cues_json}: --cues-json and --output name the same file")
        check_target(cues_json, force=force)
    options = session_options(
        ctx.config, routine=routine, music=music, playlist=playlist, no_music=no_music,
        shuffle=shuffle, seed=seed, voice=voice, engine=engine, rate=rate,
        speech_level=speech_level, music_level=music_level, first_side=first_side,
        include_first_run=True,
    )  # fmt: skip
    err = error_console()
    session = prepare_session(ctx.config, options, ctx.paths, warn)
    try:
        # Never written over, even with --force: the routine file, every track, and what
        # --music or --playlist named.
        named = (Path(spec).expanduser() for spec in (music, playlist) if spec)
        inputs = (*session.input_files(), *named)
        sink.protect(inputs)
        plan = session.plan
        if cues_json is not None:
            text = json.dumps(plan.to_json(), indent=2) + "\n"
            write_file(cues_json, text, mode=SHARED_MODE, force=force, inputs=inputs)
        length = format_seconds(frames_to_seconds(plan.total_frames))
        err.print(
            f"Rendering {session.routine.title} ({length}) with {session.music_description}"
            f" to {output}", markup=False,
        )  # fmt: skip
        started = time.perf_counter()
        if sys.stderr.isatty():
            from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

            with Progress(
                TextColumn("rendering"), BarColumn(), TextColumn("{task.percentage:>3.0f}%"),
                TimeRemainingColumn(), console=err, transient=True,
            ) as bar:  # fmt: skip
                task = bar.add_task("render", total=plan.total_frames)
                render_to_sink(
                    session.renderer, plan.total_frames, sink,
                    lambda done, _total: bar.update(task, completed=done),
                )  # fmt: skip
        else:
            last = [-1]

            def plain(done: int, total: int) -> None:
                tenth = done * 10 // total
                if tenth != last[0]:
                    last[0] = tenth
                    print(f"rendering: {tenth * 10}%", file=sys.stderr, flush=True)

            render_to_sink(session.renderer, plan.total_frames, sink, plain)
        seconds = time.perf_counter() - started
        console().print(f"Wrote {output} ({length}) in {seconds:.1f} s", markup=False)
    finally:
        session.close()
