"""Shared fixtures: an isolated VOICEGUIDE_HOME for every test."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def voiceguide_home(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """Every test gets its own config/data/cache dirs, never the real user's."""
    home = tmp_path_factory.mktemp("vghome")
    monkeypatch.setenv("VOICEGUIDE_HOME", str(home))
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
