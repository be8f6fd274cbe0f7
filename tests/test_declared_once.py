"""One declaration of each thing: sides, temporary files and renames, duration formats."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from voiceguide.routine.durations import format_minutes, format_seconds
from voiceguide.sides import SIDE_CHOICES, SIDES, other_side

PACKAGE = Path(__file__).resolve().parents[1] / "voiceguide"


def sources() -> list[tuple[Path, str]]:
    return [
        (path.relative_to(PACKAGE), path.read_text(encoding="utf-8"))
        for path in sorted(PACKAGE.rglob("*.py"))
    ]


def test_sides_are_declared_once() -> None:
    assert SIDES == ("left", "right")
    assert SIDE_CHOICES == "left or right"
    assert [other_side(side) for side in SIDES] == ["right", "left"]
    pair = re.compile(r"""["'](left|right)["'],\s*["'](left|right)["']""")
    found = [str(path) for path, text in sources() if pair.search(text)]
    # Migration 1's CHECK constraint is history: it stays as it was written.
    assert found == ["logbook/migrations.py", "sides.py"]


def test_temporary_files_and_renames_happen_in_one_module() -> None:
    writer = re.compile(r"mkstemp|os\.replace|\.replace\(self\.path\)|\.touch\(")
    found = {path for path, text in sources() if writer.search(text)}
    assert found == {Path("files.py")}


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (None, "-"),
        (0, "0 min"),
        (29, "0 min"),
        (31, "1 min"),
        (3569, "59 min"),
        (3599, "1 h 00 min"),
        (3 * 3600 + 5 * 60, "3 h 05 min"),
        (-5, "0 min"),
    ],
)
def test_minutes_format(seconds: float | None, text: str) -> None:
    assert format_minutes(seconds) == text


def test_playlist_lengths_use_the_shared_clock_format() -> None:
    from voiceguide.cli import playlist_cmd

    assert playlist_cmd.format_seconds is format_seconds
    assert format_seconds(185) == "3:05" and format_seconds(3723) == "1:02:03"
