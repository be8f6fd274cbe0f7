"""`voiceguide playlist ...` through typer's CliRunner."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from typer.testing import CliRunner

from voiceguide.cli import app
from voiceguide.music.playlists.m3u import parse_m3u
from voiceguide.paths import Paths

from test_playlist_audio import make_corrupt_mp3, make_tone

DATA = Path(__file__).parent / "data" / "playlists"
COMMANDS = ["new", "add", "remove", "list", "show", "delete", "import", "export"]


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def music(tmp_path: Path) -> Path:
    folder = tmp_path / "music"
    make_tone(folder / "Track 1.mp3", 2.0, title="One", artist="Band")
    make_tone(folder / "Track 2.ogg", 2.0, title="Two", artist="Band")
    make_tone(folder / "Track 10.flac", 2.0)
    make_tone(folder / "more" / "Extra.m4a", 2.0, title="Extra")
    return folder


def run(runner: CliRunner, *args: str | Path, input: str | None = None):
    """`voiceguide playlist ARGS` through the root app, as a user runs it."""
    command = ["playlist", *(str(arg) for arg in args)]
    return runner.invoke(app, command, input=input, env={"COLUMNS": "250"})


def stored(name: str) -> Path:
    return Paths.from_environment().playlists_dir / f"{name}.m3u8"


def stored_paths(name: str) -> list[Path]:
    return [entry.path for entry in parse_m3u(stored(name)).entries]


@pytest.mark.parametrize("command", [None, *COMMANDS])
def test_every_command_has_help(runner: CliRunner, command: str | None) -> None:
    result = run(runner, *([command] if command else []), "--help")
    assert result.exit_code == 0, result.output
    assert "Usage" in result.stdout


def test_round_trip_new_add_show_export_import(
    runner: CliRunner, music: Path, tmp_path: Path
) -> None:
    result = run(runner, "new", "evening", music / "Track 1.mp3", music / "Track 10.flac")
    assert result.exit_code == 0, result.output
    assert "Created playlist 'evening' with 2 tracks" in result.stdout

    result = run(runner, "add", "evening", music)
    assert result.exit_code == 0, result.output
    assert "Added 2 tracks to 'evening' (now 4 tracks)" in result.stdout
    assert "warning: left out 2 file(s) already in the playlist" in result.stderr
    expected = [
        music / "Track 1.mp3",
        music / "Track 10.flac",
        music / "more" / "Extra.m4a",
        music / "Track 2.ogg",
    ]
    assert stored_paths("evening") == expected
    text = stored("evening").read_text(encoding="utf-8")
    assert text.startswith("#EXTM3U\n#EXTINF:2,Band - One\n")

    result = run(runner, "show", "evening")
    assert result.exit_code == 0, result.output
    for number, title in enumerate(["Band - One", "Track 10", "Extra", "Band - Two"], 1):
        assert f"│ {number} │ {title}" in result.stdout
    assert "4 tracks, 0:08" in result.stdout

    exported = tmp_path / "exported.m3u8"
    result = run(runner, "export", "evening", exported)
    assert result.exit_code == 0, result.output
    # Files inside the export's folder are written relative to it.
    assert "\nmusic/Track 1.mp3\n" in exported.read_text(encoding="utf-8")

    result = run(runner, "import", exported, "--name", "copy")
    assert result.exit_code == 0, result.output
    assert "Imported 4 tracks as 'copy'" in result.stdout
    assert stored_paths("copy") == expected
    assert stored("copy").read_text(encoding="utf-8") == text


def test_export_outside_the_music_folder_writes_absolute_paths(
    runner: CliRunner, music: Path, tmp_path: Path
) -> None:
    run(runner, "new", "evening", music / "Track 1.mp3")
    elsewhere = tmp_path / "exports" / "evening.m3u8"
    elsewhere.parent.mkdir()
    assert run(runner, "export", "evening", elsewhere).exit_code == 0
    assert elsewhere.read_text().splitlines()[2] == str(music / "Track 1.mp3")

    inside = music / "evening.m3u8"
    assert run(runner, "export", "evening", inside, "--absolute").exit_code == 0
    assert inside.read_text().splitlines()[2] == str(music / "Track 1.mp3")

    result = run(runner, "export", "evening", inside)
    assert result.exit_code == 2
    assert result.stderr == f"error: {inside}: already exists; use --force to overwrite it\n"
    assert run(runner, "export", "evening", inside, "--force").exit_code == 0
    assert inside.read_text().splitlines()[2] == "Track 1.mp3"


def test_new_skips_unplayable_files_with_warnings(
    runner: CliRunner, music: Path, tmp_path: Path
) -> None:
    bad = make_corrupt_mp3(music / "bad.mp3")
    result = run(runner, "new", "mix", music)
    assert result.exit_code == 0, result.output
    assert "with 4 tracks" in result.stdout
    assert result.stderr.startswith(f"warning: {bad}: skipped: not playable audio")
    assert bad not in stored_paths("mix")


def test_list_shows_counts_and_lengths(runner: CliRunner, music: Path) -> None:
    assert "No playlists yet" in run(runner, "list").stdout
    run(runner, "new", "b-side", music / "Track 1.mp3")
    run(runner, "new", "a-side", music)
    result = run(runner, "list")
    assert result.exit_code == 0, result.output
    lines = [line for line in result.stdout.splitlines() if "side" in line]
    assert [[cell.strip() for cell in line.split("│")[1:4]] for line in lines] == [
        ["a-side", "4", "0:08"],
        ["b-side", "1", "0:02"],
    ]


def test_show_marks_missing_entries(runner: CliRunner, music: Path) -> None:
    run(runner, "new", "evening", music)
    (music / "Track 2.ogg").unlink()
    result = run(runner, "show", "evening")
    assert result.exit_code == 0, result.output
    missing = [line for line in result.stdout.splitlines() if "MISSING" in line]
    assert len(missing) == 1
    assert "Track 2.ogg" in missing[0]
    assert "4 tracks, 0:08, 1 missing (skipped when played)" in result.stdout


def test_remove_by_number_path_and_file_name(runner: CliRunner, music: Path) -> None:
    run(runner, "new", "evening", music)
    assert stored_paths("evening") == [
        music / "more" / "Extra.m4a",
        music / "Track 1.mp3",
        music / "Track 2.ogg",
        music / "Track 10.flac",
    ]
    result = run(runner, "remove", "evening", "2")
    assert result.exit_code == 0, result.output
    assert result.stdout == f"Removed from 'evening': Band - One ({music / 'Track 1.mp3'})\n"
    result = run(runner, "remove", "evening", music / "more" / "Extra.m4a")
    assert result.exit_code == 0, result.output
    result = run(runner, "remove", "evening", "Track 2.ogg")
    assert result.exit_code == 0, result.output
    assert stored_paths("evening") == [music / "Track 10.flac"]

    result = run(runner, "remove", "evening", "9")
    assert result.exit_code == 2
    assert result.stderr.startswith("error: 'evening' has no entry 9 (it has 1;")
    result = run(runner, "remove", "evening", "nothing.mp3")
    assert result.exit_code == 2
    assert "has no entry 'nothing.mp3'" in result.stderr


@pytest.mark.parametrize("name", ["a/b", "..\\up", "", "  ", ".hidden"])
def test_bad_names_exit_2_with_one_line(runner: CliRunner, name: str) -> None:
    result = run(runner, "new", name)
    assert result.exit_code == 2
    assert result.stderr.startswith("error: ")
    assert result.stderr.count("\n") == 1
    assert result.stdout == ""


def test_unknown_playlist_lists_the_known_ones(runner: CliRunner, music: Path) -> None:
    run(runner, "new", "evening", music / "Track 1.mp3")
    for command in (["show", "nope"], ["add", "nope", music], ["delete", "nope", "--yes"]):
        result = run(runner, *command)
        assert result.exit_code == 2
        assert result.stderr == "error: no playlist named 'nope'; playlists: evening\n"


def test_new_refuses_an_existing_name(runner: CliRunner) -> None:
    assert run(runner, "new", "evening").exit_code == 0
    result = run(runner, "new", "evening")
    assert result.exit_code == 2
    assert "already exists" in result.stderr


def test_delete_asks_unless_yes(runner: CliRunner) -> None:
    run(runner, "new", "evening")
    result = run(runner, "delete", "evening", input="n\n")
    assert result.exit_code == 1
    assert stored("evening").exists()
    result = run(runner, "delete", "evening", input="y\n")
    assert result.exit_code == 0, result.output
    assert not stored("evening").exists()
    run(runner, "new", "morning")
    assert run(runner, "delete", "morning", "--yes").exit_code == 0
    assert not stored("morning").exists()


def test_import_pls_takes_the_name_from_the_file(
    runner: CliRunner, music: Path, tmp_path: Path
) -> None:
    pls = tmp_path / "Road Trip.pls"
    pls.write_text(
        "[playlist]\n"
        f"File1={music / 'Track 1.mp3'}\n"
        "File2=http://radio.example.com/live\n"
        f"File3={music / 'gone.mp3'}\n"
        "NumberOfEntries=3\n"
    )
    result = run(runner, "import", pls)
    assert result.exit_code == 0, result.output
    assert "Imported 2 tracks as 'Road Trip'" in result.stdout
    warnings = result.stderr.splitlines()
    assert warnings[0] == (
        f"warning: {pls}:3: skipped http://radio.example.com/live: only local files are played "
        "(http links are not fetched)"
    )
    assert warnings[1] == (
        f"warning: {pls}:4: {music / 'gone.mp3'}: file not found "
        "(kept in the playlist; skipped when played)"
    )
    assert stored_paths("Road Trip") == [music / "Track 1.mp3", music / "gone.mp3"]

    result = run(runner, "import", pls)
    assert result.exit_code == 2
    assert "--force" in result.stderr
    assert run(runner, "import", pls, "--force").exit_code == 0


def test_import_garbage_is_one_error_line_naming_file_and_line(runner: CliRunner) -> None:
    result = run(runner, "import", DATA / "garbage.m3u")
    assert result.exit_code == 2  # bad input: the file the user named is no playlist
    assert result.stderr == (
        f"error: {DATA / 'garbage.m3u'}:3: not a playlist: binary data on this line\n"
    )
    assert not stored("garbage").exists()


def test_import_rejects_other_files(runner: CliRunner, tmp_path: Path) -> None:
    (tmp_path / "songs.txt").write_text("a.mp3\n")
    result = run(runner, "import", tmp_path / "songs.txt")
    assert result.exit_code == 2
    assert "not a playlist file" in result.stderr
    result = run(runner, "import", tmp_path / "absent.m3u")
    assert result.exit_code == 2
    assert "no such file" in result.stderr


def test_add_of_a_missing_path_is_bad_input(runner: CliRunner, tmp_path: Path) -> None:
    run(runner, "new", "evening")
    result = run(runner, "add", "evening", tmp_path / "nowhere")
    assert result.exit_code == 2
    assert result.stderr == f"error: {tmp_path / 'nowhere'}: no such file or folder\n"


def test_export_refuses_links_fifos_and_the_stored_playlist_even_with_force(
    runner: CliRunner, music: Path, tmp_path: Path
) -> None:
    run(runner, "new", "evening", music / "Track 1.mp3")
    aim = tmp_path / "aim.m3u8"
    aim.write_text("#EXTM3U\nmine.mp3\n")
    link = tmp_path / "link.m3u8"
    link.symlink_to(aim)
    fifo = tmp_path / "pipe.m3u8"
    os.mkfifo(fifo)
    stored_file = stored("evening")
    before = stored_file.read_bytes()
    for target, fragment in (
        (link, "is a symbolic link"),
        (fifo, "is a FIFO"),
        (stored_file, "is one of this command's inputs"),
    ):
        result = run(runner, "export", "evening", target, "--force")
        assert result.exit_code == 2, result.output
        assert result.stderr.startswith(f"error: {target}: {fragment}")
    assert aim.read_text() == "#EXTM3U\nmine.mp3\n"
    assert stored_file.read_bytes() == before


def test_exported_playlists_are_readable_by_others(
    runner: CliRunner, music: Path, tmp_path: Path
) -> None:
    run(runner, "new", "evening", music / "Track 1.mp3")
    out = tmp_path / "evening.m3u8"
    previous = os.umask(0o077)
    try:
        assert run(runner, "export", "evening", out).exit_code == 0
    finally:
        os.umask(previous)
    assert stat.S_IMODE(out.stat().st_mode) == 0o644
    assert not [p for p in tmp_path.iterdir() if ".voiceguide-tmp-" in p.name]
