"""`voiceguide log` through typer's CliRunner, on the real log under VOICEGUIDE_HOME."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from voiceguide.cli import app
from voiceguide.logbook import LogStore
from voiceguide.paths import Paths

from cli_helpers import make_device

REPO = Path(__file__).resolve().parents[1]
COMMANDS = ["list", "today", "stats", "add", "edit", "delete", "chart", "export", "import"]


def run(*args: str, stdin: str | None = None) -> Result:
    """`voiceguide log ARGS` through the root app, as a user runs it."""
    runner = CliRunner(env={"TZ": "Europe/Berlin", "COLUMNS": "160"})
    return runner.invoke(app, ["log", *args], input=stdin)


def log_db() -> Path:
    return Paths.from_environment().log_db


def sessions() -> list:
    with LogStore(log_db()) as store:
        return store.sessions()


def assert_error(result: Result, code: int, fragment: str) -> None:
    assert result.exit_code == code, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    assert fragment in lines[0]


def test_empty_log_lists_nothing() -> None:
    result = run()
    assert result.exit_code == 0, result.output
    assert "No sessions logged yet." in result.stdout
    assert not log_db().exists()  # reading writes nothing, not even an empty log


def test_add_then_list() -> None:
    result = run("add", "--left", "60", "--right", "55", "--note", "[b]night[/b]")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("Added session 1 at ")
    assert "left 60 ml, right 55 ml" in result.stdout
    listing = run()
    assert listing.exit_code == 0
    assert "manual" in listing.stdout
    assert "[b]night[/b]" in listing.stdout  # notes are shown as typed, never as markup
    assert " 115 " in listing.stdout
    assert run("list", "--last", "1").stdout == listing.stdout


def test_add_in_ounces_at_a_given_time() -> None:
    yesterday = (datetime.now(UTC) - timedelta(days=1)).astimezone().strftime("%Y-%m-%d")
    result = run("add", "--left", "2", "--unit", "oz", "--at", f"{yesterday} 09:00")
    assert result.exit_code == 0, result.output
    [record] = sessions()
    assert record.left_ml == pytest.approx(59.147)
    assert record.right_ml is None
    assert "left 59 ml" in result.stdout
    assert "2.0" in run("--unit", "oz").stdout


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--left", "-5"], "left amount cannot be negative"),
        (["--right", "1200"], "right amount 1200 ml is over 1000 ml per side"),
        (["--left", "40", "--unit", "oz"], "over 1000 ml per side"),
        (["--left", "5", "--unit", "cups"], "unknown unit 'cups'"),
        (["--at", "2099-01-01 10:00"], "in the future"),
        (["--at", "someday"], "not understood"),
    ],
)
def test_add_refuses_bad_input_and_writes_nothing(args: list[str], fragment: str) -> None:
    result = run("add", *args)
    assert_error(result, 2, fragment)
    assert result.stdout == ""
    assert sessions() == []


def test_stats_and_today() -> None:
    now = datetime.now(UTC)
    with LogStore(log_db()) as store:
        first = store.begin_session("hands-on-pumping", "left", now - timedelta(hours=4))
        store.step_done(first, "massage", 0.0)
        store.end_session(first, now - timedelta(hours=3, minutes=40), True, None)
        store.set_amounts(first, 70.0, 65.0)
        store.add_manual(now - timedelta(hours=1), 30.0, 25.0, now=now)
    result = run("stats", "--days", "3")
    assert result.exit_code == 0, result.output
    assert "Last 24 hours: 2 of 8 sessions." in result.stdout
    assert "average 3 h 00 min, longest 3 h 00 min" in result.stdout
    assert "next around" in result.stdout
    assert result.stdout.count("(ml)") == 3  # three amount columns in the day table
    goal = run("--goal", "6", "today")
    assert goal.exit_code == 0, goal.output
    assert "Last 24 hours: 2 of 6 sessions." in goal.stdout
    assert "Next session around" in goal.stdout


def test_the_settings_give_unit_and_goal_and_the_options_override_them() -> None:
    with LogStore(log_db()) as store:
        store.add_manual(datetime.now(UTC) - timedelta(minutes=5), 59.147, None)
    config = Paths.from_environment().config_file
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text('amount_unit = "oz"\nsessions_per_day = 10\n', encoding="utf-8")
    result = run("stats")
    assert result.exit_code == 0, result.output
    assert "of 10 sessions" in result.stdout
    assert "Left (oz)" in result.stdout
    assert " 2.0 " in result.stdout
    given = run("--unit", "ml", "--goal", "6", "stats")
    assert given.exit_code == 0, given.output
    assert "of 6 sessions" in given.stdout
    assert "Left (ml)" in given.stdout


def test_a_broken_settings_file_fails_only_the_commands_that_read_it() -> None:
    config = Paths.from_environment().config_file
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text("amount_unit = \n", encoding="utf-8")
    assert_error(run("stats"), 2, str(config))
    for command in (["--help"], ["stats", "--help"], ["add", "-h"]):
        result = run(*command)
        assert result.exit_code == 0, result.output
        assert "Usage:" in result.stdout
    # Both settings given: the file is not needed, so it is not read.
    assert run("--unit", "ml", "--goal", "8", "list").exit_code == 0


def test_edit_and_its_errors() -> None:
    run("add", "--left", "10")
    result = run("edit", "1", "--right", "20", "--note", "corrected")
    assert result.exit_code == 0, result.output
    [record] = sessions()
    assert (record.left_ml, record.right_ml, record.note) == (10.0, 20.0, "corrected")
    assert_error(run("edit", "7", "--note", "x"), 2, "no session with id 7")
    assert_error(run("edit", "1"), 2, "nothing to change")
    assert_error(run("edit", "1", "--left", "-1"), 2, "negative")
    assert sessions() == [record]


def test_delete_asks_first() -> None:
    run("add", "--left", "10")
    declined = run("delete", "1", stdin="n\n")
    assert declined.exit_code != 0
    assert "Delete session 1" in declined.stdout
    assert len(sessions()) == 1
    confirmed = run("delete", "1", stdin="y\n")
    assert confirmed.exit_code == 0, confirmed.output
    assert sessions() == []
    run("add", "--left", "10")
    assert run("delete", "2", "--yes").exit_code == 0
    assert sessions() == []
    assert_error(run("delete", "2", "--yes"), 2, "no session with id 2")


def test_export_and_import(tmp_path: Path) -> None:
    run("add", "--left", "10", "--note", "one")
    run("add", "--right", "20", "--note", "two, with comma")
    csv_file, json_file = tmp_path / "log.csv", tmp_path / "log.json"
    result = run("export", "--csv", str(csv_file))
    assert result.exit_code == 0, result.output
    assert "Exported 2 sessions" in result.stdout
    assert run("export", "--json", str(json_file)).exit_code == 0
    assert [s["note"] for s in json.loads(json_file.read_text())["sessions"]] == [
        "one",
        "two, with comma",
    ]
    again = run("import", "--csv", str(csv_file))
    assert again.exit_code == 0, again.output
    assert "Imported 0 sessions (2 were already in the log)." in again.stdout
    assert len(sessions()) == 2
    assert_error(run("export"), 2, "exactly one of --csv FILE or --json FILE")
    assert_error(run("export", "--csv", "a.csv", "--json", "b.json"), 2, "exactly one")
    assert_error(run("import", "--csv", str(tmp_path / "missing.csv")), 2, "cannot read")


def test_chart(tmp_path: Path) -> None:
    run("add", "--left", "10", "--right", "12")
    out = tmp_path / "chart.png"
    result = run("chart", "-o", str(out), "--days", "5")
    assert result.exit_code == 0, result.output
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert_error(run("chart", "-o", str(tmp_path / "chart.jpg")), 2, "give a name ending in .png")


def test_a_corrupt_log_is_one_line_and_left_alone() -> None:
    db = log_db()
    db.parent.mkdir(parents=True, exist_ok=True)
    garbage = os.urandom(1000)
    db.write_bytes(garbage)
    for args in ([], ["add", "--left", "5"], ["stats"]):
        assert_error(run(*args), 1, f"mv {db} {db}.bak")
    assert db.read_bytes() == garbage


@pytest.mark.parametrize("command", [[], *([c] for c in COMMANDS)])
def test_every_command_has_help(command: list[str]) -> None:
    result = run(*command, "--help")
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.stdout
    help_text = result.stdout.split("Usage:", 1)[1].splitlines()
    assert any(len(line.strip()) > 20 for line in help_text[1:4])  # a description


def test_importing_the_cli_does_not_load_matplotlib() -> None:
    code = "import sys, voiceguide.cli.log_cmd; print('matplotlib' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.strip() == "False"


# -- nothing the user has is overwritten without asking ------------------------------------


def _existing(tmp_path: Path) -> Path:
    path = tmp_path / "log.csv"
    path.write_text("precious")
    return path


def _symlink(tmp_path: Path) -> Path:
    (tmp_path / "aim.txt").write_text("precious")
    path = tmp_path / "log.csv"
    path.symlink_to(tmp_path / "aim.txt")
    return path


def _fifo(tmp_path: Path) -> Path:
    path = tmp_path / "log.csv"
    os.mkfifo(path)
    return path


@pytest.mark.parametrize("option", ["--csv", "--json"])
@pytest.mark.parametrize(
    ("make", "fragment"),
    [
        (_existing, "already exists; use --force to overwrite it"),
        (_symlink, "is a symbolic link"),
        (_fifo, "is a FIFO"),
        (lambda tmp_path: make_device(tmp_path / "log.csv"), "is a device"),
    ],
)
def test_export_refuses_to_write_over_anything_without_force(
    tmp_path: Path, option: str, make, fragment: str
) -> None:
    run("add", "--left", "10")
    target = make(tmp_path)
    before = sorted(p.name for p in tmp_path.iterdir())
    result = run("export", option, str(target))
    assert_error(result, 2, f"{target}: ")
    assert fragment in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == before
    if target.is_file():  # the regular file, or what the link points to
        assert target.read_text() == "precious"
    if fragment != "already exists; use --force to overwrite it":
        assert_error(run("export", option, str(target), "--force"), 2, fragment)


def test_export_with_force_replaces_a_regular_file_user_only(tmp_path: Path) -> None:
    run("add", "--left", "10")
    target = _existing(tmp_path)
    target.chmod(0o644)
    result = run("export", "--csv", str(target), "--force")
    assert result.exit_code == 0, result.output
    assert target.read_text().startswith("id,uid,source,")
    assert stat.S_IMODE(target.stat().st_mode) == 0o600  # health data
    assert [p.name for p in tmp_path.iterdir()] == ["log.csv"]  # no temporary file left


def test_export_and_chart_never_replace_the_log_itself() -> None:
    run("add", "--left", "10")
    before = log_db().read_bytes()
    assert_error(run("export", "--csv", str(log_db()), "--force"), 2, "this command's inputs")
    assert log_db().read_bytes() == before
    assert len(sessions()) == 1


def test_chart_refuses_an_existing_file_without_force(tmp_path: Path) -> None:
    run("add", "--left", "10", "--right", "12")
    out = tmp_path / "chart.png"
    out.write_bytes(b"my holiday photo")
    assert_error(run("chart", "-o", str(out)), 2, f"{out}: already exists")
    assert out.read_bytes() == b"my holiday photo"
    result = run("chart", "-o", str(out), "--force")
    assert result.exit_code == 0, result.output
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert stat.S_IMODE(out.stat().st_mode) == 0o600


def test_export_of_formula_notes_is_escaped_and_imports_back(tmp_path: Path) -> None:
    note = '=HYPERLINK("http://evil.example","x")'
    run("add", "--left", "10", "--note", note)
    run("add", "--left", "20", "--note", "'=typed with a quote")
    csv_file = tmp_path / "log.csv"
    assert run("export", "--csv", str(csv_file)).exit_code == 0
    text = csv_file.read_text()
    assert "'=HYPERLINK" in text and "\n=" not in text and ",=" not in text
    log_db().unlink()
    assert run("import", "--csv", str(csv_file)).exit_code == 0
    assert [s.note for s in sessions()] == [note, "'=typed with a quote"]


# -- log add needs something to add ---------------------------------------------------------


def test_add_without_any_option_is_refused() -> None:
    result = run("add")
    assert_error(result, 2, "nothing to add: give --left, --right, --at or --note")
    assert sessions() == []
    assert run("add", "--note", "pumped, not measured").exit_code == 0
    assert len(sessions()) == 1


# -- unknown is not zero; oz converted once, from ml --------------------------------------------


def table_rows(text: str) -> list[list[str]]:
    """The cells of each body row of a rich table (rows are split by the "│" rule)."""
    return [[c.strip() for c in line.split("│")] for line in text.splitlines() if "│" in line]


def test_an_unmeasured_side_is_unknown_everywhere() -> None:
    with LogStore(log_db()) as store:
        store.add_manual(datetime.now(UTC) - timedelta(seconds=1), 60.0, None)  # today
    [row] = table_rows(run().stdout)
    assert row[4:7] == ["60", "-", "60 + ?"]  # left, right, total
    today = run("today")
    assert today.exit_code == 0, today.output
    assert "Today: 1 session, 60 ml + ? (left 60 ml, right -)." in today.stdout
    assert table_rows(today.stdout)[0][4:7] == ["60", "-", "60 + ?"]
    stats = run("stats", "--days", "1")
    assert stats.exit_code == 0, stats.output
    [day] = table_rows(stats.stdout)
    assert day[1:] == ["1", "60", "-", "60 + ?"]
    assert "-: not measured, + ?: some amounts not measured" in stats.stdout


def test_a_session_without_any_amount_is_a_dash_not_zero() -> None:
    run("add", "--note", "forgot the bottle")
    today = run("today")
    assert "Today: 1 session, - (left -, right -)." in today.stdout


def test_ounce_totals_are_converted_once_from_exact_millilitres() -> None:
    result = run("add", "--left", "2.0", "--right", "1.5", "--unit", "oz")
    assert result.exit_code == 0, result.output
    [record] = sessions()
    assert record.left_ml == 2.0 * 29.5735 and record.right_ml == 1.5 * 29.5735
    [row] = table_rows(run("--unit", "oz").stdout)
    assert row[4:7] == ["2.0", "1.5", "3.5"]
    today = run("--unit", "oz", "today")
    assert "Today: 1 session, 3.5 oz (left 2.0 oz, right 1.5 oz)." in today.stdout
    [day] = table_rows(run("--unit", "oz", "stats", "--days", "1").stdout)
    assert day[1:] == ["1", "2.0", "1.5", "3.5"]
    for _ in range(2):
        run("add", "--left", "1.04", "--unit", "oz")
    today = run("--unit", "oz", "today")
    # 2.0 + 1.04 + 1.04 = 4.08 oz: summed in ml, converted and rounded once (not 2.0+1.0+1.0).
    assert "Today: 3 sessions, 5.6 oz + ? (left 4.1 oz, right 1.5 oz + ?)." in today.stdout
