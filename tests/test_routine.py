"""Routine files: the built-ins load, bad files give one clear line and exit code 2."""

from __future__ import annotations

from pathlib import Path

import pytest

from voiceguide.errors import RoutineError
from voiceguide.routine.load import builtin_names, load_builtin, load_file, parse_routine, resolve

from cli_helpers import invoke, run_cli

DATA = Path(__file__).parent / "data" / "routines"


def test_builtins_load() -> None:
    assert builtin_names() == ["demo", "hands-on-pumping"]
    pumping = load_builtin("hands-on-pumping")
    assert [s.id for s in pumping.steps] == [
        "massage",
        "pump",
        "massage-again",
        "pump-massage-first",
        "pump-massage-second",
        "hand-express",
    ]
    defaults = [s.duration.default_seconds for s in pumping.steps]
    assert defaults == [120, 360, 120, 240, 240, 120]
    pump = pumping.steps[1].duration
    assert (pump.min_seconds, pump.max_seconds) == (300, 420)


def test_demo_is_about_90_seconds() -> None:
    demo = load_builtin("demo")
    total = sum(s.duration.default_seconds for s in demo.steps)
    assert 60 <= total <= 90
    assert len(demo.steps) == 6


def test_good_file_loads_with_range_and_cue() -> None:
    routine = load_file(DATA / "good.toml")
    assert routine.steps[0].duration.default_seconds == 90
    assert routine.steps[0].music is True  # pumping steps play music by default
    assert routine.steps[0].cues[0].at_seconds == 20


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("syntax-error.toml", r"syntax-error\.toml: line 7: TOML syntax error"),
        ("unknown-key.toml", r"unknown-key\.toml: line 9: steps\[0\]\.colour: unknown key"),
        ("missing-title.toml", r"missing-title\.toml: missing 'title'"),
        ("negative-duration.toml", r"line 14: steps\[1\]\.duration: duration must be positive"),
        ("bad-duration.toml", r"line 8: steps\[0\]\.duration: cannot read duration 'two minutes'"),
        ("min-over-max.toml", r"line 8: steps\[0\]\.duration: min \(7m\) is greater than max"),
        ("empty.toml", r"empty\.toml: steps: the routine has no steps"),
        ("no-format.toml", r"format: expected format = 1"),
        (
            "unknown-placeholder.toml",
            r"line 7: steps\[0\]\.say: unknown placeholder \{thrid\} "
            r"\(use \{first\} or \{second\}\)",
        ),
    ],
)
def test_bad_files_name_file_line_and_key(name: str, expected: str) -> None:
    with pytest.raises(RoutineError, match=expected):
        load_file(DATA / name)


BAD_FILES = [
    "bad-duration.toml", "empty.toml", "min-over-max.toml", "missing-title.toml",
    "negative-duration.toml", "no-format.toml", "syntax-error.toml", "unknown-key.toml",
    "unknown-placeholder.toml",
]  # fmt: skip


@pytest.mark.parametrize("name", BAD_FILES)
def test_cli_check_bad_file_one_line_exit_2(name: str) -> None:
    result = invoke("routines", "check", DATA / name)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ") and name in lines[0]
    assert "Traceback" not in result.stderr
    assert result.stdout == ""


def test_a_real_process_reports_a_bad_file_exactly_as_in_process() -> None:
    name = "unknown-key.toml"
    in_process = invoke("routines", "check", DATA / name)
    process = run_cli("routines", "check", str(DATA / name))
    assert process.returncode == in_process.returncode == 2
    assert process.stderr == in_process.stderr
    assert process.stdout == in_process.stdout == ""


def test_cli_check_good_file() -> None:
    result = invoke("routines", "check", DATA / "good.toml")
    assert result.returncode == 0, result.stderr
    assert "ok: Short and valid, 1 steps" in result.stdout


def test_debug_shows_traceback() -> None:
    result = run_cli("--debug", "routines", "check", str(DATA / "empty.toml"))
    assert result.returncode == 2
    assert "Traceback" in result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith("error: ")


def test_debug_shows_traceback_in_process_too() -> None:
    result = invoke("--debug", "routines", "check", DATA / "empty.toml")
    assert result.returncode == 2
    assert "Traceback" in result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith("error: ")


def test_unknown_routine_lists_known(tmp_path: Path) -> None:
    result = invoke("render", "--routine", "nope", "-o", tmp_path / "x.wav")
    assert result.returncode == 2
    assert result.stderr.strip() == "error: unknown routine 'nope' (known: demo, hands-on-pumping)"


def test_user_routine_shadows_by_name(tmp_path: Path) -> None:
    folder = tmp_path / "routines"
    folder.mkdir()
    (folder / "mine.toml").write_text((DATA / "good.toml").read_text())
    assert resolve("mine", folder).title == "Short and valid"
    assert resolve("demo", folder).name == "demo"


def test_cue_beyond_step_end_is_rejected() -> None:
    text = (DATA / "good.toml").read_text().replace('at = "20s"', 'at = "2m"')
    with pytest.raises(RoutineError, match=r"steps\[0\]\.cues\[0\]\.at: lies beyond the end"):
        parse_routine(text, "x.toml", "x")
