"""The user's settings file (config.toml): known keys, checked types, errors with file and key."""

from __future__ import annotations

import re
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

from voiceguide.errors import BadInputError, shown
from voiceguide.reading import decode_text, read_user_file
from voiceguide.speech.engines import ENGINES
from voiceguide.tomlfile import TomlError, parse_toml

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
MAX_SETTING_CHARS = 4096
"""A setting's text is a name or a path, and a path is at most 4096 bytes on Linux (PATH_MAX)."""
MAX_CONFIG_BYTES = 1 << 20
"""A settings file is a few hundred bytes; 1 MiB is room for any comments a user writes."""


@dataclass(frozen=True)
class Config:
    """Defaults for every command; command-line options override them."""

    voice: str | None = None
    speech_engine: str | None = None
    """None: the natural voice when its extra is installed, else pyttsx3 (speech/engines.py)."""
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
    chime: str | None = None
    """A sound file for the end of each step (None: the bundled chime); relative to the
    config folder, `~` for the home folder."""
    end_chime: str | None = None
    """A sound file for the end of the session (None: the bundled one)."""


@dataclass(frozen=True)
class Bounds:
    """The values of a setting a user could want: not what the arithmetic would allow."""

    low: float
    high: float
    unit: str

    def check(self, value: float, where: str) -> float:
        """`value` if it lies within the bounds (NaN never does); else a BadInputError."""
        if not self.low <= value <= self.high:
            got = shown(value) if isinstance(value, int) and abs(value) > 1e15 else f"{value:g}"
            raise BadInputError(
                f"{where}: expected {self.low:g} to {self.high:g} {self.unit}, got {got}"
            )
        return value


BOUNDS: dict[str, Bounds] = {
    "rate_wpm": Bounds(80, 400, "words per minute"),
    # Clips peak at -3 dBFS: +6 dB already reaches the limiter's knee on every peak.
    "speech_level_db": Bounds(-20, 6, "dB"),
    "music_level_db": Bounds(-30, 6, "dB"),
    # Music under speech is lowered (0: not at all), never raised.
    "duck_db": Bounds(-40, 0, "dB"),
    "crossfade_seconds": Bounds(0, 12, "seconds"),
    # Quiet background music (-40) to loud pop masters (-10); the renderer's limiter does the rest.
    "music_loudness_lufs": Bounds(-40, -10, "LUFS"),
    "sessions_per_day": Bounds(1, 24, "sessions"),
    # A routine's numbers (checked by routine/load.py). A step of pumping or massage lasts
    # minutes; 2 h is far beyond any, and keeps every frame count small.
    "step_seconds": Bounds(0, 2 * 3600, "seconds"),
    # A pumping session is 20-30 min. Every step at its longest, a session's steps must fit
    # in 3 h: that leaves 22 min for the spoken lines around them in the live output's one
    # buffer (simpleaudio plays at most 2 GiB at once: 3 h 22 min of 44.1 kHz stereo).
    "session_seconds": Bounds(0, 3 * 3600, "seconds"),
}
"""One declaration of every number's range; the settings file and the options both use it."""

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
    "chime": (str,),
    "end_chime": (str,),
}


def _check_text(path: Path, key: str, value: str) -> None:
    """A setting's text: a name or a path, so no control characters and no longer than a path."""
    if len(value) > MAX_SETTING_CHARS:
        raise BadInputError(f"{path}: {key}: longer than {MAX_SETTING_CHARS} characters")
    control = _CONTROL.search(value)
    if control is not None:
        raise BadInputError(
            f"{path}: {key}: control character \\x{ord(control.group()):02x} in the text"
        )


def load_config(path: Path) -> Config:
    """Read config.toml; a missing file (not a broken link to one) means defaults."""
    if not path.exists() and not path.is_symlink():
        return Config()
    text = decode_text(read_user_file(path, limit_bytes=MAX_CONFIG_BYTES, what="settings"), path)
    try:
        data = parse_toml(text)
    except TomlError as err:
        raise BadInputError(f"{path}: {err}") from None
    known = {f.name for f in fields(Config)}
    values: dict[str, Any] = {}
    for key, value in data.items():
        if key not in known:
            raise BadInputError(
                f"{path}: unknown setting {shown(key)} (known: {', '.join(sorted(known))})"
            )
        if isinstance(value, bool) != (bool in _TYPES[key]) or not isinstance(value, _TYPES[key]):
            raise BadInputError(
                f"{path}: {key}: expected {_TYPES[key][0].__name__}, got {shown(value)}"
            )
        if isinstance(value, str):
            _check_text(path, key, value)
        if float in _TYPES[key] and isinstance(value, int):
            # An integer too large for a float is out of every bound anyway.
            BOUNDS[key].check(value, f"{path}: {key}")
        values[key] = float(value) if float in _TYPES[key] else value
    config = replace(Config(), **values)
    if config.speech_engine is not None and config.speech_engine not in ENGINES:
        raise BadInputError(
            f"{path}: speech_engine: unknown engine {shown(config.speech_engine)}"
            f" (choices: {', '.join(ENGINES)})"
        )
    if config.amount_unit not in ("ml", "oz"):
        raise BadInputError(f"{path}: amount_unit: expected 'ml' or 'oz'")
    if not 1 <= len(config.wake_word.split()) <= 2:
        raise BadInputError(f"{path}: wake_word: expected one or two words")
    for key in known & BOUNDS.keys():
        BOUNDS[key].check(getattr(config, key), f"{path}: {key}")
    return config
