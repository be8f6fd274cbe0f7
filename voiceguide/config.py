"""The user's settings file (config.toml): known keys, checked types, errors with file and key."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

from voiceguide.errors import BadInputError


@dataclass(frozen=True)
class Config:
    """Defaults for every command; command-line options override them."""

    voice: str | None = None
    speech_engine: str = "pyttsx3"
    rate_wpm: int = 150
    speech_level_db: float = 0.0
    music_level_db: float = 0.0
    duck_db: float = -16.0
    crossfade_seconds: float = 3.0
    music_loudness_lufs: float = -20.0
    default_playlist: str | None = None
    routine: str = "hands-on-pumping"
    amount_unit: str = "ml"
    sessions_per_day: int = 8
    listen: bool = False
    """Voice commands on by default (`voiceguide start --listen`)."""
    wake_word: str = "voice guide"
    input_source: str | None = None
    """The sound server's source to listen on (None: its default)."""


_TYPES: dict[str, tuple[type, ...]] = {
    "voice": (str,),
    "speech_engine": (str,),
    "rate_wpm": (int,),
    "speech_level_db": (int, float),
    "music_level_db": (int, float),
    "duck_db": (int, float),
    "crossfade_seconds": (int, float),
    "music_loudness_lufs": (int, float),
    "default_playlist": (str,),
    "routine": (str,),
    "amount_unit": (str,),
    "sessions_per_day": (int,),
    "listen": (bool,),
    "wake_word": (str,),
    "input_source": (str,),
}


def load_config(path: Path) -> Config:
    """Read config.toml; a missing file means defaults."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return Config()
    except (OSError, UnicodeDecodeError) as err:
        raise BadInputError(f"{path}: cannot read settings: {err}") from None
    try:
        data: dict[str, Any] = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise BadInputError(f"{path}: {err}") from None
    known = {f.name for f in fields(Config)}
    values: dict[str, Any] = {}
    for key, value in data.items():
        if key not in known:
            raise BadInputError(
                f"{path}: unknown setting {key!r} (known: {', '.join(sorted(known))})"
            )
        if isinstance(value, bool) != (bool in _TYPES[key]) or not isinstance(value, _TYPES[key]):
            raise BadInputError(f"{path}: {key}: expected {_TYPES[key][0].__name__}, got {value!r}")
        values[key] = float(value) if float in _TYPES[key] else value  # type: ignore[arg-type]
    config = replace(Config(), **values)
    if config.amount_unit not in ("ml", "oz"):
        raise BadInputError(f"{path}: amount_unit: expected 'ml' or 'oz'")
    if not 1 <= config.sessions_per_day <= 24:
        raise BadInputError(f"{path}: sessions_per_day: expected 1 to 24")
    if not 1 <= len(config.wake_word.split()) <= 2:
        raise BadInputError(f"{path}: wake_word: expected one or two words")
    if not 80 <= config.rate_wpm <= 400:
        raise BadInputError(f"{path}: rate_wpm: expected 80 to 400 words per minute")
    return config
