"""The command-line shell: one error mapping, lazy settings, -h, whole summaries, light imports."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from dataclasses import fields
from pathlib import Path

import pytest
import typer

from voiceguide.cli import app, exit_on_error
from voiceguide.cli.context import AppContext
from voiceguide.cli.options import SessionFlags
from voiceguide.errors import AudioOutputError, BadInputError
from voiceguide.paths import Paths

from cli_helpers import invoke, run_cli

ROUTINES = Path(__file__).parent / "data" / "routines"
COMMANDS = ["start", "render", "routines", "voices", "listen", "playlist", "log"]
GROUPS: list[tuple[str, ...]] = [(), ("routines",), ("playlist",), ("log",)]


def command_paths() -> list[tuple[str, ...]]:
    """Every command and group, found by walking the app (nothing listed by hand)."""
    found: list[tuple[str, ...]] = []

    def walk(command: object, path: tuple[str, ...]) -> None:
        found.append(path)
        for name, sub in getattr(command, "commands", {}).items():
            walk(sub, (*path, name))

    walk(typer.main.get_command(app), ())
    return found


def commands_section(help_text: str) -> list[str]:
    """The lines under "Commands:" in a help page."""
    return help_text.split("Commands:", 1)[1].strip("\n").splitlines()


def broken_config() -> Path:
    config = Paths.from_environment().config_file
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text("voice = \n", encoding="utf-8")
    return config


def test_help_lists_every_command_so_a_broken_import_cannot_hide_one() -> None:
    result = invoke("--help")
    assert result.returncode == 0, result.stderr
    names = [line.split()[0] for line in commands_section(result.stdout)]
    assert sorted(names) == sorted(COMMANDS)


@pytest.mark.parametrize("group", GROUPS, ids=lambda g: " ".join(g) or "voiceguide")
def test_command_summaries_are_whole_in_80_columns(group: tuple[str, ...]) -> None:
    # A real process: typer's CliRunner formats help 2 columns wider than a terminal does.
    result = run_cli(*group, "--help", env={"COLUMNS": "80"})
    assert result.returncode == 0, result.stderr
    for line in commands_section(result.stdout):
        assert "..." not in line, line
        assert line.rstrip().endswith("."), line


@pytest.mark.parametrize("path", command_paths(), ids=lambda p: " ".join(p) or "voiceguide")
def test_dash_h_is_help_everywhere(path: tuple[str, ...]) -> None:
    short, long = invoke(*path, "-h"), invoke(*path, "--help")
    assert short.returncode == long.returncode == 0, short.stderr
    assert short.stdout == long.stdout
    assert "-h, --help" in short.stdout


def test_python_dash_m_runs_the_same_app() -> None:
    result = run_cli("-h")
    assert result.returncode == 0, result.stderr
    names = [line.split()[0] for line in commands_section(result.stdout)]
    assert sorted(names) == sorted(COMMANDS)


@pytest.mark.parametrize("path", command_paths(), ids=lambda p: " ".join(p) or "voiceguide")
def test_help_works_with_a_broken_settings_file(path: tuple[str, ...]) -> None:
    broken_config()
    result = invoke(*path, "--help")
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""


def test_a_broken_settings_file_fails_only_the_commands_that_read_it(tmp_path: Path) -> None:
    config = broken_config()
    listed = invoke("playlist", "list")
    assert listed.returncode == 0, listed.stderr
    # `routines check` gives the planned length, spoken with the configured voice and rate.
    reading = (
        ["render", "--routine", "demo", "-o", str(tmp_path / "x.wav")],
        ["log"],
        ["routines", "check", str(ROUTINES / "good.toml")],
    )
    for command in reading:
        result = invoke(*command)
        assert result.returncode == 2, result.stderr
        [line] = result.stderr.strip().splitlines()
        assert line.startswith(f"error: {config}: ")
    assert not (tmp_path / "x.wav").exists()


def test_the_context_reads_and_creates_nothing_until_asked(voiceguide_home: Path) -> None:
    config = broken_config()
    context = AppContext.from_environment()
    assert not (voiceguide_home / "data").exists()
    with pytest.raises(BadInputError, match=str(config)):
        _ = context.config
    assert not (voiceguide_home / "data").exists()
    data_dir = context.paths.data_dir
    assert data_dir.is_dir()
    assert data_dir.stat().st_mode & 0o777 == 0o700


@pytest.mark.parametrize("command", ["start", "render"])
def test_both_session_commands_list_every_shared_option(command: str) -> None:
    result = invoke(command, "--help", env={"COLUMNS": "200"})
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    for flag in fields(SessionFlags):
        option = flag.metadata["option"]
        names = ", ".join(sorted(option.param_decls, key=len))
        line = re.compile(rf"\s*{re.escape(names)}( <\w+>)?\s\s+{re.escape(option.help)}")
        assert sum(1 for text in lines if line.fullmatch(text)) == 1, (names, result.stdout)


@pytest.mark.parametrize("command", ["start", "render"])
@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--music", "a.mp3", "--playlist", "calm"], "use either --music or --playlist, not both"),
        (["--no-music", "--music", "a.mp3"], "--no-music cannot be combined with --music"),
        (["--rate", "10"], "--rate: expected 80 to 400 words per minute, got 10"),
    ],
)
def test_both_session_commands_check_the_shared_options(
    command: str, flags: list[str], message: str, tmp_path: Path
) -> None:
    output = ["-o", str(tmp_path / "x.wav")] if command == "render" else []
    result = invoke(command, "--routine", "demo", *flags, *output)
    assert result.returncode == 2, result.stderr
    [line] = result.stderr.strip().splitlines()
    assert line.startswith(f"error: {message}")


def test_an_unknown_option_is_a_usage_error_with_exit_2() -> None:
    result = invoke("render", "--no-such-option")
    assert result.returncode == 2
    assert "No such option" in result.stderr
    assert "Traceback" not in result.stderr


def long_folder(tmp_path: Path) -> Path:
    folder = tmp_path
    for part in ("a-folder-with-a-rather-long-name", "and-another-one-inside-it", "x" * 60):
        folder = folder / part
    folder.mkdir(parents=True)
    return folder


def test_one_line_messages_are_not_wrapped_without_a_terminal(tmp_path: Path) -> None:
    folder = long_folder(tmp_path)
    good = folder / "good.toml"
    good.write_text((ROUTINES / "good.toml").read_text(encoding="utf-8"), encoding="utf-8")
    bad = folder / "empty.toml"
    bad.write_text((ROUTINES / "empty.toml").read_text(encoding="utf-8"), encoding="utf-8")
    assert len(str(good)) > 160
    ok = f"{good}: ok: Short and valid, 1 steps, 1:39\n"
    error = f"error: {bad}: steps: the routine has no steps\n"
    for columns in (None, "40"):
        in_process = invoke("routines", "check", good, env={"COLUMNS": columns})
        assert (in_process.returncode, in_process.stdout) == (0, ok)
        failed = invoke("routines", "check", bad, env={"COLUMNS": columns})
        assert (failed.returncode, failed.stderr) == (2, error)
    process = run_cli("routines", "check", str(good), env={"COLUMNS": None})
    assert (process.returncode, process.stdout) == (0, ok)


def test_exit_on_error_maps_each_kind_of_failure(capsys: pytest.CaptureFixture[str]) -> None:
    cases: list[tuple[BaseException, int, str]] = [
        (BadInputError("x.toml: line 3: bad"), 2, "error: x.toml: line 3: bad\n"),
        (AudioOutputError("no sound device"), 3, "error: no sound device\n"),
        (KeyboardInterrupt(), 130, ""),
        (ValueError("boom"), 1, "error: ValueError: boom (run with --debug for details)\n"),
        (typer.Exit(4), 4, ""),
    ]
    for raised, code, stderr in cases:
        with pytest.raises(typer.Exit) as caught, exit_on_error(debug=False):
            raise raised
        assert caught.value.exit_code == code, raised
        assert capsys.readouterr().err == stderr


def test_exit_on_error_leaves_usage_errors_and_aborts_to_typer(
    capsys: pytest.CaptureFixture[str],
) -> None:
    for raised in (typer.BadParameter("nope"), typer.Abort()):
        with pytest.raises(type(raised)), exit_on_error(debug=False):
            raise raised
    assert capsys.readouterr().err == ""


def test_exit_on_error_with_debug_shows_the_traceback_then_the_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(typer.Exit) as caught, exit_on_error(debug=True):
        raise ValueError("boom")
    assert caught.value.exit_code == 1
    err = capsys.readouterr().err
    assert err.startswith("Traceback (most recent call last):")
    assert err.endswith("ValueError: boom\nerror: ValueError: boom\n")


# What `--help` must not pay for. (Light core modules such as errors, paths, sides, the
# duration parser and the key reader may be imported by the command declarations.)
HEAVY = (
    "numpy", "rich", "matplotlib", "sqlite3", "voiceguide.config", "voiceguide.mix",
    "voiceguide.music", "voiceguide.speech", "voiceguide.live.session", "voiceguide.live.player",
    "voiceguide.logbook", "voiceguide.routine.load", "voiceguide.output", "voiceguide.files",
)  # fmt: skip


def loaded_after(code: str) -> list[str]:
    """The HEAVY modules a fresh interpreter has loaded after running `code`."""
    probe = "\n".join(
        [
            code,
            "import json, sys",
            f"json.dump([m for m in {HEAVY!r} if m in sys.modules], sys.stderr)",
        ]
    )
    result = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "80"},
        check=False,
        timeout=120,
    )
    return json.loads(result.stderr.strip().splitlines()[-1])


def test_importing_the_cli_loads_no_heavy_module() -> None:
    assert loaded_after("import voiceguide.cli") == []


def test_help_loads_no_heavy_module() -> None:
    code = (
        "from voiceguide.cli import main\ntry:\n    main(['--help'])\nexcept SystemExit:\n    pass"
    )
    assert loaded_after(code) == []
