"""Shared fixtures: an isolated VOICEGUIDE_HOME for every test."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def voiceguide_home(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> Path:
    """Every test gets its own config/data/cache dirs, never the real user's.

    Where the natural voice is installed (`make natural`) it would be the default engine, and
    the base tests' lengths and timings are espeak-ng's: outside the `natural` tests, the
    extra counts as not installed here, and the test's config asks for pyttsx3 for the CLI
    run as a child process (a test that writes its own config.toml replaces it).
    """
    home = tmp_path_factory.mktemp("vghome")
    monkeypatch.setenv("VOICEGUIDE_HOME", str(home))
    from voiceguide.speech import hibari_engine

    if request.node.get_closest_marker("natural") is None and hibari_engine.installed():
        # In this process the extra is as if absent; child processes read the config.
        monkeypatch.setattr(hibari_engine, "installed", lambda: False)
        (home / "config").mkdir(mode=0o700)
        (home / "config" / "config.toml").write_text('speech_engine = "pyttsx3"\n')
    return home


@pytest.fixture(scope="session")
def pulse(tmp_path_factory: pytest.TempPathFactory):
    """A private PulseAudio with a null sink for the whole test session, stopped by PID."""
    from soundserver import PulseServer

    server = PulseServer(tmp_path_factory.mktemp("pulse"))
    server.start()
    yield server
    server.stop()


@pytest.fixture
def pulse_env(pulse, monkeypatch: pytest.MonkeyPatch):
    """Route this process's ALSA 'default' (simpleaudio) to the private server."""
    for key, value in pulse.env.items():
        monkeypatch.setenv(key, value)
    return pulse


@pytest.fixture(scope="session")
def rig(tmp_path_factory: pytest.TempPathFactory):
    """A second private PulseAudio: sinks "speaker" (default) and "room", a 40 ms loopback from
    speaker to room as the echo path, default source room.monitor (see soundserver.rig_server)."""
    from soundserver import rig_server

    server = rig_server(tmp_path_factory.mktemp("rig"))
    yield server
    server.stop()


@pytest.fixture
def rig_env(rig, monkeypatch: pytest.MonkeyPatch):
    """Route this process (simpleaudio, parec, pactl) to the rig."""
    for key, value in rig.env.items():
        monkeypatch.setenv(key, value)
    return rig
