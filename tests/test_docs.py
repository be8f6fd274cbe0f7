"""The project speaks for itself: every command has help and is in the README."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from voiceguide.cli import app

ROOT = Path(__file__).parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def all_commands() -> list[tuple[str, ...]]:
    root = typer.main.get_command(app)
    found: list[tuple[str, ...]] = []

    def walk(command, path: tuple[str, ...]) -> None:
        found.append(path)
        for name, sub in getattr(command, "commands", {}).items():
            walk(sub, (*path, name))

    walk(root, ())
    return found


@pytest.mark.parametrize("path", all_commands(), ids=lambda p: " ".join(p) or "voiceguide")
def test_every_command_has_help(path: tuple[str, ...]) -> None:
    result = CliRunner().invoke(app, [*path, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) >= 3  # usage, a description, options


@pytest.mark.parametrize("path", [p for p in all_commands() if p], ids=" ".join)
def test_every_command_is_in_the_readme(path: tuple[str, ...]) -> None:
    if len(path) == 1:
        assert f"voiceguide {path[0]}" in README
    else:
        group, name = path[0], path[-1]
        section = README[README.index(f"`voiceguide {group}") :]
        assert f"`{name}" in section or f"{group} {name}" in README, path


def test_quick_start_and_ci_run_the_readme_commands() -> None:
    assert "make demo" in README and "make test" in README
    assert "make test" in (ROOT / ".ci" / "run").read_text()


def test_readme_cites_the_sources() -> None:
    for source in ("Hands on Pumping", "Breastfeeding Answer Book", "Journal of Perinatology"):
        assert source in README
