"""What the user reads: user text never drives the terminal, tables fold rather than cut."""

from __future__ import annotations

from pathlib import Path

from cli_helpers import invoke

ESC_NOTE = "clears \x1b[2J the screen"
LONG_NOTE = "a long note with a word-that-is-much-longer-than-the-column-is-wide in it"


def test_notes_with_escape_sequences_are_shown_not_obeyed() -> None:
    assert invoke("log", "add", "--left", "60", "--note", ESC_NOTE).returncode == 0
    result = invoke("log")
    assert result.returncode == 0, result.stderr
    assert "\x1b" not in result.stdout
    assert "\\x1b[2J" in result.stdout


def test_the_log_table_folds_long_text_at_80_columns_when_piped() -> None:
    assert invoke("log", "add", "--left", "60", "--note", LONG_NOTE).returncode == 0
    result = invoke("log", env={"COLUMNS": "80"})
    assert result.returncode == 0, result.stderr
    assert all(len(line) <= 80 for line in result.stdout.splitlines())
    assert "…" not in result.stdout
    # Every character of the note is there, folded over several lines of its column.
    cells = [line.split("│")[-1].strip() for line in result.stdout.splitlines() if "│" in line]
    assert "".join(cells).replace(" ", "") == LONG_NOTE.replace(" ", "")


def test_a_routine_with_a_control_character_is_refused_naming_the_line(tmp_path: Path) -> None:
    routine = tmp_path / "esc.toml"
    routine.write_text(
        'format = 1\ntitle = "Esc"\n[[steps]]\nid = "a"\ntitle = "A"\n'
        'say = "Clear \\u001b[2J now."\nduration = "30s"\n'
    )
    result = invoke("routines", "check", str(routine))
    assert result.returncode == 2
    assert result.stderr.strip() == (
        f"error: {routine}: line 6: steps[0].say: control character \\x1b in the text"
        " (a terminal would act on it)"
    )
