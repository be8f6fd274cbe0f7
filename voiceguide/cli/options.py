"""The session options `start` and `render` share: declared once, turned into SessionOptions;
and the listening options `start` and `listen` share."""

from __future__ import annotations

import functools
import inspect
import typing
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, Any, TypeVar

import typer

from voiceguide.errors import BadInputError

if TYPE_CHECKING:
    from voiceguide.cli.context import AppContext
    from voiceguide.mix.prepare import SessionOptions

R = TypeVar("R")


def _flag(default: Any, *names: str, help: str) -> Any:
    """A dataclass field whose metadata holds its typer option (names and help)."""
    return field(default=default, metadata={"option": typer.Option(default, *names, help=help)})


@dataclass(frozen=True)
class SessionFlags:
    """The shared options as given on the command line (before settings fill the gaps)."""

    routine: str | None = _flag(
        None, "--routine", "-r", help="Routine name (see `voiceguide routines`) or TOML file."
    )
    music: str | None = _flag(
        None, "--music", help="A music file or folder (searched recursively)."
    )
    playlist: str | None = _flag(
        None, "--playlist", "-p", help="A saved playlist name, a playlist file, or a folder."
    )
    no_music: bool = _flag(False, "--no-music", help="Speech and chimes only.")
    shuffle: bool = _flag(False, "--shuffle", help="Shuffle the tracks (the seed is printed).")
    seed: int | None = _flag(
        None, "--seed", help="Shuffle with this seed (replays a shuffled session)."
    )
    voice: str | None = _flag(
        None,
        "--voice",
        help="Voice, e.g. en-us (see `voiceguide voices`).",
    )
    engine: str | None = _flag(
        None,
        "--engine",
        help="Speech engine: hibari, pyttsx3 or espeak-ng.",
    )
    rate: int | None = _flag(
        None, "--rate", help="Speaking rate in words per minute (default 150)."
    )
    speech_level: float | None = _flag(
        None, "--speech-level", help="Speech level change in dB (e.g. -3)."
    )
    music_level: float | None = _flag(
        None, "--music-level", help="Music level change in dB (e.g. -6)."
    )


def with_session_flags(command: Callable[..., R]) -> Callable[..., R]:
    """Give `command` the shared options in place of its `flags: SessionFlags` parameter.

    typer reads the returned function's signature: the command's own parameters, with the
    SessionFlags options where `flags` stood, so `--help` lists them in that order.
    """
    own = inspect.signature(command)
    if "flags" not in own.parameters:
        raise TypeError(f"{command.__name__} has no `flags: SessionFlags` parameter")
    hints = typing.get_type_hints(command)
    flag_hints = typing.get_type_hints(SessionFlags)
    shared = [
        inspect.Parameter(
            f.name,
            inspect.Parameter.KEYWORD_ONLY,
            default=f.metadata["option"],
            annotation=flag_hints[f.name],
        )
        for f in fields(SessionFlags)
    ]
    parameters: list[inspect.Parameter] = []
    for param in own.parameters.values():
        if param.name == "flags":
            parameters.extend(shared)
        else:
            parameters.append(
                param.replace(
                    kind=inspect.Parameter.KEYWORD_ONLY,
                    annotation=hints.get(param.name, param.annotation),
                )
            )
    names = [f.name for f in fields(SessionFlags)]

    @functools.wraps(command)
    def wrapper(**kwargs: Any) -> R:
        flags = SessionFlags(**{name: kwargs.pop(name) for name in names})
        return command(flags=flags, **kwargs)

    wrapper.__signature__ = own.replace(parameters=parameters)  # type: ignore[attr-defined]
    wrapper.__annotations__ = {p.name: p.annotation for p in parameters}
    return wrapper


def session_options(
    app: AppContext, flags: SessionFlags, *, first_side: str | None, include_first_run: bool
) -> SessionOptions:
    """Check the flags against each other and build the session's options.

    A shuffle without --seed draws one and prints it, so the session can be replayed.
    """
    from voiceguide.mix.prepare import SessionOptions

    if flags.music and flags.playlist:
        raise BadInputError("use either --music or --playlist, not both")
    if flags.no_music and (flags.music or flags.playlist):
        raise BadInputError("--no-music cannot be combined with --music or --playlist")
    from voiceguide.config import BOUNDS

    for option, value, key in (
        ("--rate", flags.rate, "rate_wpm"),
        ("--speech-level", flags.speech_level, "speech_level_db"),
        ("--music-level", flags.music_level, "music_level_db"),
    ):
        if value is not None:
            BOUNDS[key].check(value, option)
    shuffle_seed = flags.seed
    if flags.shuffle and shuffle_seed is None:
        import secrets  # only here: it loads OpenSSL's hmac, which a first sound does not need

        shuffle_seed = secrets.randbelow(1_000_000)
    if shuffle_seed is not None:
        app.err.print(
            f"shuffle seed: {shuffle_seed} (replay with --seed {shuffle_seed})", markup=False
        )
    return SessionOptions(
        routine=flags.routine,
        music=flags.music or flags.playlist,
        no_music=flags.no_music,
        voice=flags.voice,
        speech_engine=flags.engine,
        rate_wpm=flags.rate,
        speech_level_db=flags.speech_level,
        music_level_db=flags.music_level,
        first_side=first_side.lower() if first_side else None,
        include_first_run=include_first_run,
        shuffle_seed=shuffle_seed,
    )


INPUT_OPTION: Any = typer.Option(
    None, "--input", metavar="NAME", help="The sound server's source to listen on."
)
WAKE_WORD_OPTION: Any = typer.Option(
    None,
    "--wake-word",
    metavar="WORDS",
    help='One or two words said before each command (default: wake_word, else "voice guide").',
)


def listening_settings(
    ctx: AppContext, wake_word: str | None, input_source: str | None
) -> tuple[str, str | None]:
    """The wake phrase and the input source: the options, else config.toml."""
    config = ctx.config
    return wake_word or config.wake_word, input_source or config.input_source
