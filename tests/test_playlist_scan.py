"""Recursive folder scans: extensions, order, hidden files, symlink loops."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from voiceguide.music.playlists.scan import is_audio_path, natural_key, scan_folder


def touch(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"x")
    return path


def test_only_audio_extensions_in_any_case(tmp_path: Path) -> None:
    for name in ("a.mp3", "b.OGG", "c.oga", "d.opus", "e.flac", "f.M4A", "g.aac", "h.wav"):
        touch(tmp_path / name)
    for name in ("cover.jpg", "notes.txt", "list.m3u", "mp3", "x.mp3.part"):
        touch(tmp_path / name)
    files, warnings = scan_folder(tmp_path)
    assert [path.name for path in files] == [
        "a.mp3", "b.OGG", "c.oga", "d.opus", "e.flac", "f.M4A", "g.aac", "h.wav",
    ]  # fmt: skip
    assert warnings == []


def test_natural_case_insensitive_order_across_folders(tmp_path: Path) -> None:
    names = [
        "Track 10.mp3", "track 2.mp3", "Track 1.mp3",
        "Album 10/01.mp3", "Album 2/10.mp3", "Album 2/9.mp3", "album 1/01.mp3",
    ]  # fmt: skip
    for name in names:
        touch(tmp_path / name)
    files, _ = scan_folder(tmp_path)
    assert [path.relative_to(tmp_path).as_posix() for path in files] == [
        "album 1/01.mp3",
        "Album 2/9.mp3",
        "Album 2/10.mp3",
        "Album 10/01.mp3",
        "Track 1.mp3",
        "track 2.mp3",
        "Track 10.mp3",
    ]


def test_order_is_deterministic_for_names_differing_only_in_case(tmp_path: Path) -> None:
    touch(tmp_path / "a.mp3")
    touch(tmp_path / "A.mp3")
    first, _ = scan_folder(tmp_path)
    assert [path.name for path in first] == ["A.mp3", "a.mp3"]
    assert natural_key("A.mp3") < natural_key("a.mp3")


def test_hidden_files_and_folders_are_left_out(tmp_path: Path) -> None:
    touch(tmp_path / "song.mp3")
    touch(tmp_path / "._song.mp3")  # macOS resource fork next to the real file
    touch(tmp_path / ".trash/old.mp3")
    files, _ = scan_folder(tmp_path)
    assert files == [tmp_path / "song.mp3"]


def test_symlink_loop_terminates_and_each_file_is_found_once(tmp_path: Path) -> None:
    touch(tmp_path / "music/a.mp3")
    touch(tmp_path / "music/sub/b.mp3")
    (tmp_path / "music/sub/loop").symlink_to(tmp_path / "music")
    (tmp_path / "music/sub/self").symlink_to(".")
    files, _ = scan_folder(tmp_path / "music")
    assert files == [tmp_path / "music/a.mp3", tmp_path / "music/sub/b.mp3"]


def test_symlinked_folder_outside_is_followed(tmp_path: Path) -> None:
    touch(tmp_path / "elsewhere/c.flac")
    touch(tmp_path / "music/a.mp3")
    (tmp_path / "music/linked").symlink_to(tmp_path / "elsewhere")
    files, _ = scan_folder(tmp_path / "music")
    assert files == [tmp_path / "music/a.mp3", tmp_path / "music/linked/c.flac"]


def test_broken_symlink_is_warned_about(tmp_path: Path) -> None:
    touch(tmp_path / "a.mp3")
    (tmp_path / "gone.mp3").symlink_to(tmp_path / "nowhere.mp3")
    files, warnings = scan_folder(tmp_path)
    assert files == [tmp_path / "a.mp3"]
    assert warnings == [f"{tmp_path / 'gone.mp3'}: skipped: broken link or not a regular file"]


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads folders whatever their mode")
def test_unreadable_subfolder_is_warned_about(tmp_path: Path) -> None:
    touch(tmp_path / "a.mp3")
    locked = tmp_path / "locked"
    touch(locked / "b.mp3")
    locked.chmod(0)
    try:
        files, warnings = scan_folder(tmp_path)
    finally:
        locked.chmod(0o700)
    assert files == [tmp_path / "a.mp3"]
    assert len(warnings) == 1
    assert "locked" in warnings[0]


def test_is_audio_path() -> None:
    assert is_audio_path(Path("x/Song.FLAC"))
    assert not is_audio_path(Path("x/song.flac.txt"))
