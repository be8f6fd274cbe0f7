"""Shared fixtures: an isolated VOICEGUIDE_HOME for every test."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def voiceguide_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own config/data/cache dirs, never the real user's."""
    home = tmp_path_factory.mktemp("vghome")
    monkeypatch.setenv("VOICEGUIDE_HOME", str(home))
    return home
