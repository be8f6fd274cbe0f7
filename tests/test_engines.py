"""Which engine a session gets (speech/engines.py), with or without the natural voice."""

from __future__ import annotations

import subprocess

import pytest

from voiceguide.errors import BadInputError
from voiceguide.speech import espeak, hibari_engine, voice
from voiceguide.speech.engines import BASE, ENGINES, NATURAL, choose_engine, engine_version
from voiceguide.speech.voice import VoiceSettings, cache_key


def test_an_engine_asked_for_is_the_engine() -> None:
    for name in ENGINES:
        assert choose_engine(name, None) == name
        assert choose_engine(name, "en-us") == name


def test_the_default_is_the_natural_voice_only_when_it_is_installed() -> None:
    expected = NATURAL if hibari_engine.installed() else BASE
    assert choose_engine(None, None) == expected
    assert choose_engine(None, "heart") == expected
    # A voice of espeak-ng's keeps its engine, installed or not.
    assert choose_engine(None, "en-gb") == BASE


def test_an_unknown_engine_names_the_choices() -> None:
    with pytest.raises(BadInputError, match=r"unknown speech engine 'festival' \(choices: hibari,"):
        choose_engine("festival", None)


def test_every_engine_has_its_version_in_the_cache_key(monkeypatch: pytest.MonkeyPatch) -> None:
    said = subprocess.run(
        ["espeak-ng", "--version"], check=True, capture_output=True, text=True
    ).stdout
    assert espeak.version() and f"text-to-speech: {espeak.version()} " in said
    assert engine_version("pyttsx3") == engine_version("espeak-ng") == espeak.version()
    assert engine_version(NATURAL) == hibari_engine.version()
    # Another espeak-ng, other clips: the cache does not serve the old ones.
    before = cache_key(VoiceSettings(), "Breathe.")
    monkeypatch.setattr(voice, "engine_version", lambda _name: "1.52")
    assert cache_key(VoiceSettings(), "Breathe.") != before


def test_the_natural_voice_offers_only_its_bundled_voice_and_maps_the_rate() -> None:
    assert hibari_engine.check_voice(None) == "heart"
    assert hibari_engine.check_voice("Heart") == "heart"
    for other in ("emma", "fenrir", "fable", "kore", "en-us"):
        with pytest.raises(BadInputError, match=f"unknown voice '{other}' for the hibari engine"):
            hibari_engine.check_voice(other)
    assert hibari_engine.speed_for(150) == 1.0
    assert hibari_engine.speed_for(80) == pytest.approx(80 / 150)
    assert hibari_engine.speed_for(400) == 2.0  # hibari's fastest
