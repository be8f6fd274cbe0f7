"""config.toml: known keys with checked types; every error names the file and the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from voiceguide.config import Config, load_config
from voiceguide.errors import BadInputError, ExitStatus


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_good_file_sets_what_it_names_and_keeps_the_rest(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        'voice = "en-us"\nrate_wpm = 180\nduck_db = -12\namount_unit = "oz"\n',
    )
    config = load_config(path)
    assert config.voice == "en-us"
    assert config.rate_wpm == 180
    assert config.duck_db == -12.0 and isinstance(config.duck_db, float)
    assert config.amount_unit == "oz"
    assert config.sessions_per_day == Config().sessions_per_day
    assert config.routine == Config().routine


def test_a_missing_file_means_the_defaults(tmp_path: Path) -> None:
    assert load_config(tmp_path / "nothing-here.toml") == Config()


def test_an_unknown_key_is_named_with_the_known_ones(tmp_path: Path) -> None:
    path = write(tmp_path, "colour = 'blue'\n")
    with pytest.raises(BadInputError) as caught:
        load_config(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: unknown setting 'colour' (known: ")
    assert "rate_wpm" in message
    assert caught.value.exit_status == ExitStatus.BAD_INPUT


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('rate_wpm = "fast"\n', "rate_wpm: expected int, got 'fast'"),
        ("rate_wpm = 150.5\n", "rate_wpm: expected int, got 150.5"),
        ("duck_db = true\n", "duck_db: expected int, got True"),
        ("voice = 3\n", "voice: expected str, got 3"),
        ('amount_unit = "cups"\n', "amount_unit: expected 'ml' or 'oz'"),
        (
            'speech_engine = "festival"\n',
            "speech_engine: unknown engine 'festival' (choices: hibari, pyttsx3, espeak-ng)",
        ),
        ("sessions_per_day = 30\n", "sessions_per_day: expected 1 to 24 sessions, got 30"),
        ("speech_level_db = 40\n", "speech_level_db: expected -20 to 6 dB, got 40"),
        ("speech_level_db = nan\n", "speech_level_db: expected -20 to 6 dB, got nan"),
        ("music_level_db = 1e308\n", "music_level_db: expected -30 to 6 dB, got 1e+308"),
        ("duck_db = 1000\n", "duck_db: expected -40 to 0 dB, got 1000"),
        (
            "music_loudness_lufs = -1000\n",
            "music_loudness_lufs: expected -40 to -10 LUFS, got -1000",
        ),
        ("crossfade_seconds = inf\n", "crossfade_seconds: expected 0 to 12 seconds, got inf"),
    ],
)
def test_a_wrong_type_or_value_names_file_and_key(tmp_path: Path, text: str, expected: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(BadInputError) as caught:
        load_config(path)
    assert str(caught.value) == f"{path}: {expected}"


def test_broken_toml_names_the_file_and_the_line(tmp_path: Path) -> None:
    path = write(tmp_path, 'voice = "en-us"\nrate_wpm = \n')
    with pytest.raises(BadInputError) as caught:
        load_config(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: ")
    assert "line 2" in message
    assert "\n" not in message
