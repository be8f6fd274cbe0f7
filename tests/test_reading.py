"""The bounded reader of user files: the cap is exact, only regular files, a BOM goes."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from voiceguide.errors import BadInputError, MusicError, PlaylistFileError
from voiceguide.reading import decode_text, read_user_file


def test_the_cap_is_exact(tmp_path: Path) -> None:
    path = tmp_path / "data"
    path.write_bytes(b"x" * 1024)
    assert read_user_file(path, limit_bytes=1024, what="test") == b"x" * 1024
    path.write_bytes(b"x" * 1025)
    with pytest.raises(BadInputError) as caught:
        read_user_file(path, limit_bytes=1024, what="test")
    assert str(caught.value) == f"{path}: cannot read test: larger than 1 KiB"


def test_a_file_whose_size_says_nothing_is_still_capped() -> None:
    # /proc files are regular files of size 0 whatever they hold: only the read itself counts.
    status = Path("/proc/self/status")
    assert len(read_user_file(status, limit_bytes=1 << 20, what="")) > 0
    with pytest.raises(BadInputError, match="larger than 16 bytes"):
        read_user_file(status, limit_bytes=16, what="")


def test_a_link_to_a_regular_file_is_read(tmp_path: Path) -> None:
    (tmp_path / "real.toml").write_text("format = 1\n")
    (tmp_path / "link.toml").symlink_to(tmp_path / "real.toml")
    assert (
        read_user_file(tmp_path / "link.toml", limit_bytes=100, what="routine") == b"format = 1\n"
    )


@pytest.mark.parametrize(
    ("make", "problem"),
    [
        (os.mkfifo, "it is a FIFO (named pipe), not a regular file"),
        (lambda p: p.mkdir(), "it is a folder, not a regular file"),
        (lambda p: p.symlink_to("/dev/zero"), "it is a symbolic link to a device (/dev/zero)"),
        (lambda p: None, "No such file or directory"),
    ],
)
def test_what_is_not_read_is_named(tmp_path: Path, make, problem: str) -> None:
    path = tmp_path / "thing"
    make(path)
    with pytest.raises(BadInputError) as caught:
        read_user_file(path, limit_bytes=100, what="settings")
    assert str(caught.value).startswith(f"{path}: cannot read settings: {problem}")


def test_the_error_can_be_a_playlist_error(tmp_path: Path) -> None:
    with pytest.raises(PlaylistFileError) as caught:
        read_user_file(tmp_path, limit_bytes=100, what="playlist", error=PlaylistFileError)
    assert isinstance(caught.value, MusicError)
    assert caught.value.exit_status == 2


def test_decoding_drops_a_bom_and_names_the_line_of_a_bad_byte() -> None:
    assert decode_text(b"\xef\xbb\xbfa = 1\n", "f.toml") == "a = 1\n"
    with pytest.raises(BadInputError) as caught:
        decode_text(b"a = 1\nb = \xff\n", "f.toml")
    assert str(caught.value) == "f.toml: line 2: not UTF-8 text (byte 10)"
