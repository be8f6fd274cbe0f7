"""`voiceguide routines` (list, check, show) and `voiceguide voices`."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from voiceguide.cli.context import app_context

if TYPE_CHECKING:
    from voiceguide.output.base import Sink
    from voiceguide.routine.load import Routine
    from voiceguide.speech.voice import VoiceSettings

app = typer.Typer(
    help=(
        "List, check and show routines. Routines are built in, or TOML files in your "
        "routines folder."
    ),
    invoke_without_command=True,
    no_args_is_help=False,
)


def _length(ctx: typer.Context, routine: Routine, *, warn_chimes: bool = False) -> str:
    """The planned session length (announcements included), as `start` will play it.

    `warn_chimes`: say so if an own chime cannot be used (`routines check`)."""
    from voiceguide.cli.console import warn
    from voiceguide.mix.prepare import planned_seconds
    from voiceguide.routine.durations import format_seconds

    context = app_context(ctx)
    said = warn if warn_chimes else lambda _problem: None
    return format_seconds(planned_seconds(routine, context.config, context.paths, said))


@app.callback()
def list_routines(ctx: typer.Context) -> None:
    """List the built-in routines and yours.

    A routine file that cannot be used is listed as broken, with a warning saying why; the
    others are listed as usual and the exit status is 0 (as `playlist list` does): the
    listing itself worked, and `routines check FILE` is the command that fails on a bad file.
    """
    if ctx.invoked_subcommand is not None:
        return
    from rich.table import Table
    from rich.text import Text

    from voiceguide.cli.console import printable, warn
    from voiceguide.errors import BadInputError
    from voiceguide.routine.load import builtin_names, load_builtin, load_file, user_routine_files

    context = app_context(ctx)
    table = Table("name", "title", "steps", "length", "from", box=None, pad_edge=False)
    for name in builtin_names():
        routine = load_builtin(name)
        table.add_row(
            name, routine.title, str(len(routine.steps)), _length(ctx, routine), "built-in"
        )
    problems: list[str] = []
    for path in user_routine_files(context.paths.routines_dir):
        where = Text(printable(str(path)))
        try:
            routine = load_file(path)
            length = _length(ctx, routine)  # a recording that cannot be used is found here
        except BadInputError as err:
            problems.append(str(err))
            table.add_row(Text(printable(path.stem)), "(broken: see below)", "?", "?", where)
            continue
        table.add_row(
            Text(printable(path.stem)),
            Text(printable(routine.title)),
            str(len(routine.steps)),
            length,
            where,
        )
    context.out.print(table)
    context.out.print(f"Your routines folder: {context.paths.routines_dir}", markup=False)
    for problem in problems:
        warn(printable(problem))


@app.command("check")
def check(
    ctx: typer.Context,
    file: Path = typer.Argument(..., help="The routine TOML file to validate."),
) -> None:
    """Validate a routine file.

    Prints what is wrong (file, line, key), or a summary of the routine.
    """
    from voiceguide.cli.console import warn
    from voiceguide.routine.load import load_file, texts_saying

    routine = load_file(file)
    wake = app_context(ctx).config.wake_word
    for where in texts_saying(routine, wake):
        warn(f"{where} says the wake phrase {wake!r}: with --listen it may be taken for a command")
    app_context(ctx).out.print(
        f"{file}: ok: {routine.title}, {len(routine.steps)} steps,"
        f" {_length(ctx, routine, warn_chimes=True)}",
        markup=False,
    )


@app.command("show")
def show(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="Routine name or TOML file."),
) -> None:
    """Show a routine: what it is, its steps and what is said.

    Each step with its duration (and range), whether music plays, and its cues.
    """
    from voiceguide.mix.plan import fill_line
    from voiceguide.routine.durations import format_seconds
    from voiceguide.routine.load import Line, caption, resolve
    from voiceguide.sides import SIDES

    context = app_context(ctx)
    routine = resolve(name, context.paths.routines_dir)
    out = context.out
    sided = any("{first}" in caption(s.say) or "{first}" in s.title for s in routine.steps)

    def said(line: Line) -> str:
        """A text with its sides filled in; a recording as its file name in brackets."""
        return caption(fill_line(line, SIDES[0]))

    out.print(f"{routine.title}", style="bold", markup=False)
    if routine.description:
        out.print(routine.description, markup=False)
    for text in routine.intro:
        out.print(f"  {said(text)}", markup=False)
    for index, step in enumerate(routine.steps, start=1):
        span = step.duration
        length = format_seconds(span.default_seconds)
        if span.is_range:
            length += f" ({format_seconds(span.min_seconds)}-{format_seconds(span.max_seconds)})"
        music = ", music" if step.music else ""
        out.print(f"\n{index}. {said(step.title)}  [{length}{music}]", markup=False)
        out.print(f"   {said(step.say)}", markup=False)
        for cue in step.cues:
            at = format_seconds(abs(cue.at_seconds))
            out.print(f"   - at {at}: {said(cue.text)}", markup=False)
    if sided:
        out.print(
            f"\nShown with the {SIDES[0]} side first; the first side alternates between sessions.",
            markup=False,
        )


def voices(
    ctx: typer.Context,
    say: str | None = typer.Option(
        None, "--say", help='Say this with the chosen voice, e.g. --say "Step 2 of 6".'
    ),
    engine: str | None = typer.Option(
        None, "--engine", help="The engine for --say: hibari, pyttsx3 or espeak-ng."
    ),
    voice: str | None = typer.Option(None, "--voice", help="The voice for --say (see the list)."),
    rate: int | None = typer.Option(None, "--rate", help="Words per minute for --say."),
    output: Path | None = typer.Option(
        None, "--output", "-o", help="Write the --say sample to this .wav/.mp3/.ogg/.flac file."
    ),
    force: bool = typer.Option(False, "--force", help="Overwrite the -o file if it exists."),
) -> None:
    """List the speech engines and their voices, and mark the default.

    With --say, say a sample (or write it to a file with -o), to choose a voice by ear.
    --engine, --voice and --rate default to your settings, as for `start`.
    """
    from voiceguide.config import BOUNDS
    from voiceguide.errors import BadInputError

    context = app_context(ctx)
    config = context.config
    if say is None:
        for option, given in (("--engine", engine), ("--voice", voice), ("--rate", rate),
                              ("-o", output)):  # fmt: skip
            if given is not None:
                raise BadInputError(f"{option} goes with --say")
        _list_voices(ctx)
        return
    if rate is not None:
        BOUNDS["rate_wpm"].check(rate, "--rate")
    from voiceguide.cli.console import warn
    from voiceguide.mix.prepare import SessionOptions, check_voice_settings, voice_settings
    from voiceguide.speech.sample import say_sample

    say = _sample_text(say)
    settings = voice_settings(
        config, SessionOptions(voice=voice, speech_engine=engine, rate_wpm=rate)
    )
    check_voice_settings(settings, warn)
    if output is not None:
        from voiceguide.output.file import FileSink

        sink: Sink = FileSink(output, force=force)
    else:
        from voiceguide.output.simpleaudio import SimpleaudioSink

        sink = SimpleaudioSink()
    seconds, fell_back = say_sample(settings, context.paths.voice_cache_dir, say, sink)
    where = f"wrote {output}" if output is not None else "said"
    spoken_by = (
        f"espeak-ng instead of {settings.engine}"
        if fell_back
        else f"{settings.engine}, voice {_voice_name(settings)}"
    )
    context.err.print(f"{where}: {seconds:.1f} s, {spoken_by}", markup=False)


def _voice_name(settings: VoiceSettings) -> str:
    """The voice as `voices` lists it (the engine's own default when none was chosen)."""
    from voiceguide.speech import hibari_engine

    if settings.voice:
        return settings.voice
    return hibari_engine.DEFAULT_VOICE if settings.engine == hibari_engine.NAME else "default"


def _sample_text(text: str) -> str:
    """`text` with its whitespace folded; BadInputError for what no routine could say."""
    import unicodedata

    from voiceguide.errors import BadInputError
    from voiceguide.routine.load import MAX_TEXT_CHARS

    folded = " ".join(text.split())
    if not folded:
        raise BadInputError("--say: nothing to say")
    if len(folded) > MAX_TEXT_CHARS:
        raise BadInputError(f"--say: at most {MAX_TEXT_CHARS:,} characters")
    if any(unicodedata.category(c) == "Cc" for c in folded):
        raise BadInputError("--say: control character in the text")
    return folded


def _list_voices(ctx: typer.Context) -> None:
    """One table per engine's voices (espeak-ng's serve pyttsx3 too), the default marked."""
    from rich.table import Table

    from voiceguide.speech import hibari_engine
    from voiceguide.speech.sample import voice_rows

    context = app_context(ctx)
    rows = voice_rows(context.config.speech_engine, context.config.voice)
    headings = {
        hibari_engine.NAME: f"{hibari_engine.NAME}, the natural voice (--engine hibari):",
        "espeak-ng": "espeak-ng (--engine pyttsx3 or espeak-ng):",
    }
    for engine, heading in headings.items():
        table = Table("voice", "name", "", box=None, pad_edge=False)
        for row in rows:
            if row.engines == engine:
                table.add_row(row.voice, row.name, "(default)" if row.default else "")
        if table.row_count:
            context.out.print(heading, markup=False)
            context.out.print(table)
    if not hibari_engine.installed():
        context.out.print(
            f"The natural voice ({hibari_engine.NAME}) is not installed:"
            f" {hibari_engine.INSTALL_HINT}",
            markup=False,
        )
