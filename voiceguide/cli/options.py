"""Options shared by `start` and `render`, and their translation into SessionOptions."""

from __future__ import annotations

import secrets

import typer

from voiceguide.cli.console import error_console
from voiceguide.config import Config
from voiceguide.errors import BadInputError
from voiceguide.mix.prepare import SessionOptions


class SessionFlags:
    routine = typer.Option(
        None, "--routine", "-r", help="Routine name (see `voiceguide routines`) or TOML file."
    )
    music = typer.Option(None, "--music", help="A music file or folder (searched recursively).")
    playlist = typer.Option(
        None, "--playlist", "-p", help="A saved playlist name, a playlist file, or a folder."
    )
    no_music = typer.Option(False, "--no-music", help="Speech and chimes only.")
    shuffle = typer.Option(False, "--shuffle", help="Shuffle the tracks (the seed is printed).")
    seed = typer.Option(None, "--seed", help="Shuffle with this seed (replays a shuffled session).")
    voice = typer.Option(
        None, "--voice", help="espeak-ng voice, e.g. en-us (see `voiceguide voices`)."
    )
    engine = typer.Option(None, "--engine", help="Speech engine: pyttsx3 (default) or espeak-ng.")
    rate = typer.Option(None, "--rate", help="Speaking rate in words per minute (default 150).")
    speech_level = typer.Option(None, "--speech-level", help="Speech level change in dB (e.g. -3).")
    music_level = typer.Option(None, "--music-level", help="Music level change in dB (e.g. -6).")
    first_side = typer.Option(
        "left", "--first-side", help="The breast to massage first: left or right."
    )


def session_options(
    config: Config,
    *,
    routine: str | None,
    music: str | None,
    playlist: str | None,
    no_music: bool,
    shuffle: bool,
    seed: int | None,
    voice: str | None,
    engine: str | None,
    rate: int | None,
    speech_level: float | None,
    music_level: float | None,
    first_side: str | None,
    include_first_run: bool,
) -> SessionOptions:
    if music and playlist:
        raise BadInputError("use either --music or --playlist, not both")
    if no_music and (music or playlist):
        raise BadInputError("--no-music cannot be combined with --music or --playlist")
    if rate is not None and not 80 <= rate <= 400:
        raise BadInputError(f"--rate: expected 80 to 400 words per minute, got {rate}")
    shuffle_seed = seed
    if shuffle and shuffle_seed is None:
        shuffle_seed = secrets.randbelow(1_000_000)
    if shuffle_seed is not None:
        error_console().print(f"shuffle seed: {shuffle_seed} (replay with --seed {shuffle_seed})")
    return SessionOptions(
        routine=routine,
        music=music or playlist,
        no_music=no_music,
        voice=voice,
        speech_engine=engine,
        rate_wpm=rate,
        speech_level_db=speech_level,
        music_level_db=music_level,
        first_side=first_side.lower() if first_side else None,
        include_first_run=include_first_run,
        shuffle_seed=shuffle_seed,
    )
