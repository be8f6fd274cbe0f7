"""`voiceguide render`: the whole session into an audio file."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import typer

from voiceguide.cli.context import app_context
from voiceguide.cli.options import SessionFlags, session_options, with_session_flags
from voiceguide.errors import BadInputError


@with_session_flags
def render(
    command: typer.Context,
    *,
    output: Path = typer.Option(
        ..., "--output", "-o", help="Audio file to write: .wav, .mp3, .ogg or .flac."
    ),
    cues_json: Path | None = typer.Option(
        None, "--cues-json", help="Also write the plan (steps, cues, music spans) as JSON."
    ),
    flags: SessionFlags,
    first_side: str = typer.Option(
        "left", "--first-side", help="The breast to massage first: left or right."
    ),
    force: bool = typer.Option(
        False, "--force", help="Overwrite the output (and --cues-json) file if it exists."
    ),
) -> None:
    """Write the whole spoken session to an audio file.

    Speech over ducked music, with the safety line and what the routine is, as on a first run.
    """
    import json

    from voiceguide.audioformat import MIX_RATE_HZ, frames_to_seconds
    from voiceguide.cli.console import warn
    from voiceguide.files import SHARED_MODE, check_target, write_file
    from voiceguide.mix.prepare import prepare_session, shortest_frames
    from voiceguide.output import FileSink
    from voiceguide.output.export import render_to_sink
    from voiceguide.routine.durations import format_seconds

    context = app_context(command)
    sink = FileSink(output, force=force)  # checks the format and the path before any work
    if cues_json is not None:
        if os.path.abspath(cues_json) == os.path.abspath(output):
            raise BadInputError(f"{cues_json}: --cues-json and --output name the same file")
        check_target(cues_json, force=force)
    options = session_options(context, flags, first_side=first_side, include_first_run=True)
    # A session too long for the format is refused before any voice or music is made; the
    # sink checks the exact length again when it opens.
    sink.check_length(shortest_frames(context.config, options, context.paths), MIX_RATE_HZ)
    err = context.err
    session = prepare_session(context.config, options, context.paths, warn)
    try:
        # Never written over, even with --force: the routine file, every track, and what
        # --music or --playlist named.
        named = (Path(spec).expanduser() for spec in (flags.music, flags.playlist) if spec)
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
        context.out.print(f"Wrote {output} ({length}) in {seconds:.1f} s", markup=False)
    finally:
        session.close()
