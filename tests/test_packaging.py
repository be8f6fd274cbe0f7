"""A regular install works: the wheel ships every module and the bundled sounds, and renders."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import numpy as np
import pytest

from audio_helpers import read_wav, rms_db

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
SOUND_FILES = ("bed.ogg", "chime.wav", "chime-end.wav", "LICENSES.md")
# What a clone needs to build an sdist; the wheel is then built from that sdist.
SOURCE_ITEMS = ("pyproject.toml", "README.md", "voiceguide", "audio")
_JUNK = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")


def package_folders() -> dict[str, Path]:
    """Every package the wheel must hold, by dotted name, and the folder it comes from."""
    mapped = PYPROJECT["tool"]["setuptools"].get("package-dir", {})
    found = {}
    for folder in [ROOT / "voiceguide", *(ROOT / "voiceguide").rglob("*")]:
        if folder.is_dir() and folder.name != "__pycache__":
            found[".".join(folder.relative_to(ROOT).parts)] = folder
    found.update({name: ROOT / path for name, path in mapped.items()})
    return found


def test_every_package_folder_is_listed_in_pyproject() -> None:
    listed = set(PYPROJECT["tool"]["setuptools"]["packages"])
    assert listed == set(package_folders())
    sounds = package_folders()["voiceguide.sounds"]
    assert sounds == ROOT / "audio"
    for name in SOUND_FILES:
        assert (sounds / name).is_file(), name


def clean_env(**extra: str) -> dict[str, str]:
    """The environment without anything that points back into the repository or its venv."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    return {**env, **extra}


def run(command: list[str], cwd: Path, timeout: float, **env: str) -> str:
    result = subprocess.run(
        command,
        cwd=cwd,
        env=clean_env(**env),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert result.returncode == 0, f"{command[:3]} failed:\n{result.stdout}\n{result.stderr}"
    return result.stderr


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """sdist from a copy of the sources, then the wheel from that sdist (as `python -m build`)."""
    folder = tmp_path_factory.mktemp("build")
    source = folder / "source"
    for item in SOURCE_ITEMS:
        path = ROOT / item
        if path.is_dir():
            shutil.copytree(path, source / item, ignore=_JUNK)
        else:
            source.mkdir(exist_ok=True)
            shutil.copy2(path, source / item)
    dist = folder / "dist"
    run([sys.executable, "-m", "build", "--outdir", str(dist), str(source)], folder, 600)
    (found,) = dist.glob("voiceguide-*.whl")
    assert len(list(dist.glob("voiceguide-*.tar.gz"))) == 1
    return found


@pytest.mark.slow
def test_the_wheel_holds_every_module_and_the_sounds(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    for package, folder in package_folders().items():
        prefix = package.replace(".", "/")
        for path in folder.iterdir():
            if path.is_file() and path.suffix != ".pyc":
                assert f"{prefix}/{path.name}" in names, path


@pytest.mark.slow
def test_a_wheel_installed_outside_the_repository_renders_a_session(
    wheel: Path, tmp_path: Path
) -> None:
    venv = tmp_path / "venv"
    run([sys.executable, "-m", "venv", str(venv)], tmp_path, 120)
    run([str(venv / "bin" / "python"), "-m", "pip", "install", str(wheel)], tmp_path, 900)
    work = tmp_path / "elsewhere"
    work.mkdir()
    run(
        [str(venv / "bin" / "voiceguide"), "render", "--routine", "demo", "-o", "x.wav",
         "--cues-json", "plan.json"],
        work, 300, VOICEGUIDE_HOME=str(tmp_path / "home"),
    )  # fmt: skip
    plan = json.loads((work / "plan.json").read_text(encoding="utf-8"))
    audio, rate = read_wav(work / "x.wav")
    assert rate == plan["sample_rate"] == 44_100
    assert audio.shape == (plan["total_frames"], 2)
    # Speech where every cue is said, a chime where each one rings, and the bundled music bed
    # wherever music plays and nothing is said.
    for cue in plan["cues"]:
        assert rms_db(audio[cue["start_frame"] : cue["end_frame"]]) > -35.0, cue
    cue_frames = np.zeros(len(audio), dtype=bool)
    for cue in plan["cues"]:
        cue_frames[cue["start_frame"] : cue["end_frame"]] = True
    assert plan["music_spans"]
    for span in plan["music_spans"]:
        frames = np.arange(span["start_frame"], span["end_frame"])
        music_only = audio[frames[~cue_frames[frames]]]
        assert len(music_only) > rate, span
        assert rms_db(music_only) > -40.0, span
