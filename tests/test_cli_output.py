"""What the user reads: user text never drives the terminal, tables fold rather than cut."""

from __future__ import annotations

from pathlib import Path

from cli_helpers import invoke, run_cli

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


def test_log_options_work_after_the_subcommand_too() -> None:
    assert invoke("log", "add", "--left", "60").returncode == 0
    result = invoke("log", "today", "--goal", "10", "--unit", "oz")
    assert result.returncode == 0, result.stderr
    assert "Last 24 hours: 1 of 10 sessions." in result.stdout
    assert "2.0 oz" in result.stdout


def test_a_missing_import_file_is_one_plain_line(tmp_path: Path) -> None:
    result = invoke("log", "import", "--csv", tmp_path / "nope.csv")
    assert result.returncode == 2
    assert (
        result.stderr == f"error: {tmp_path / 'nope.csv'}: cannot read: No such file or directory\n"
    )


def test_voices_name_each_voice_once_and_mark_the_default(voiceguide_home: Path) -> None:
    from voiceguide.speech import hibari_engine

    # No config: the default engine's choice itself (conftest pins pyttsx3 where hibari is).
    (voiceguide_home / "config" / "config.toml").unlink(missing_ok=True)
    result = invoke("voices")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "espeak-ng (--engine pyttsx3 or espeak-ng):" or hibari_engine.installed()
    headings = [line for line in lines if line.endswith(":")]
    assert len(headings) == (2 if hibari_engine.installed() else 1)
    rows = [
        line.split()[0]
        for line in lines
        if line.strip() and line not in headings and not line.startswith(("The ", "voice "))
    ]
    assert len(rows) == len(set(rows))
    (default,) = [line for line in result.stdout.splitlines() if "(default)" in line]
    # The natural voice when its extra is installed, else espeak-ng's own default voice.
    assert default.split()[0] == ("heart" if hibari_engine.installed() else "en-gb")
    assert ("not installed" in result.stdout) != hibari_engine.installed()


def test_voices_mark_the_voice_of_the_settings_as_the_default(voiceguide_home: Path) -> None:
    (voiceguide_home / "config").mkdir(parents=True, exist_ok=True)
    (voiceguide_home / "config" / "config.toml").write_text('voice = "en-us"\n')
    result = invoke("voices")
    assert result.returncode == 0, result.stderr
    (default,) = [line for line in result.stdout.splitlines() if "(default)" in line]
    assert default.split()[0] == "en-us"
    assert result.stdout.index("espeak-ng (--engine") < result.stdout.index(default)


def test_routines_show_says_the_sides_not_the_placeholders() -> None:
    result = invoke("routines", "show", "demo")
    assert result.returncode == 0, result.stderr
    assert "{first}" not in result.stdout and "{second}" not in result.stdout
    assert "massaging the left breast" in result.stdout
    assert "massaging the right breast" in result.stdout


def test_a_voice_for_another_language_is_warned_about(tmp_path: Path) -> None:
    routine = tmp_path / "r.toml"
    routine.write_text('format = 1\ntitle = "T"\n[[steps]]\nid = "a"\ntitle = "A"\n'
                       'say = "Breathe."\nduration = 5\n')  # fmt: skip
    result = run_cli("render", "--routine", str(routine), "--voice", "fr", "--no-music",
                     "-o", str(tmp_path / "x.wav"))  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "warning: voice 'fr' speaks fr-fr; the routine's words are English" in result.stderr


def test_a_routine_that_says_the_wake_phrase_is_warned_about(tmp_path: Path) -> None:
    routine = tmp_path / "r.toml"
    routine.write_text('format = 1\ntitle = "T"\n[[steps]]\nid = "a"\ntitle = "A"\n'
                       'say = "Your voice guide will help."\nduration = 5\n')  # fmt: skip
    result = run_cli("routines", "check", str(routine))
    assert result.returncode == 0, result.stderr
    assert result.stderr == (
        f"warning: {routine}: steps[0].say says the wake phrase 'voice guide': with --listen"
        " it may be taken for a command\n"
    )
