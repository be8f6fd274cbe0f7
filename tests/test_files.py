"""The one file writer: whole or nothing, explicit modes, and never over what is not offered."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from voiceguide.errors import BadInputError
from voiceguide.files import (
    PRIVATE_MODE,
    SHARED_MODE,
    TEMP_MARK,
    PendingFile,
    check_target,
    write_file,
    write_own_file,
)

from cli_helpers import make_device

REPO = Path(__file__).resolve().parents[1]


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if TEMP_MARK in p.name)


@pytest.fixture(params=[0o022, 0o077, 0o000], ids=["umask022", "umask077", "umask000"])
def umask(request: pytest.FixtureRequest) -> Iterator[int]:
    previous = os.umask(request.param)
    try:
        yield request.param
    finally:
        os.umask(previous)


@pytest.mark.parametrize("mode", [PRIVATE_MODE, SHARED_MODE])
def test_the_mode_is_the_one_asked_for_whatever_the_umask(
    tmp_path: Path, umask: int, mode: int
) -> None:
    new, own = tmp_path / "new.csv", tmp_path / "own" / "cache.json"
    write_file(new, "a,b\n", mode=mode)
    write_own_file(own, b"{}", mode=mode)
    assert (mode_of(new), mode_of(own)) == (mode, mode)
    old = tmp_path / "old.txt"
    old.write_text("old")
    old.chmod(0o666)
    write_file(old, "new", mode=mode, force=True)
    assert mode_of(old) == mode
    assert old.read_text() == "new"
    assert leftovers(tmp_path) == leftovers(tmp_path / "own") == []


def test_text_is_written_as_utf8_bytes_unchanged(tmp_path: Path) -> None:
    target = tmp_path / "notes.txt"
    write_file(target, "ümlaut\nline\r\n", mode=PRIVATE_MODE)
    assert target.read_bytes() == "ümlaut\nline\r\n".encode()


def test_an_exception_while_writing_leaves_no_temporary_file(tmp_path: Path) -> None:
    target = tmp_path / "out.csv"
    target.write_text("precious")
    with (
        pytest.raises(KeyboardInterrupt),
        PendingFile(target, mode=PRIVATE_MODE, force=True) as pending,
    ):
        assert pending.temp is not None
        assert pending.temp.parent == tmp_path
        assert pending.temp.name.startswith(f".out.csv{TEMP_MARK}")
        assert mode_of(pending.temp) == PRIVATE_MODE  # private from the first byte
        pending.write(b"half of it")
        raise KeyboardInterrupt
    assert target.read_text() == "precious"
    assert leftovers(tmp_path) == []


def test_a_write_the_disk_refuses_leaves_nothing_behind(tmp_path: Path) -> None:
    # A file-size limit makes write() fail for any user, root included (unlike a read-only
    # folder): the error is one line naming the file, and no temporary file is left.
    code = (
        "import resource, signal, sys\n"
        "from pathlib import Path\n"
        "from voiceguide.errors import OutputError\n"
        "from voiceguide.files import PRIVATE_MODE, write_file\n"
        "signal.signal(signal.SIGXFSZ, signal.SIG_IGN)\n"
        "resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))\n"
        "try:\n"
        "    write_file(Path(sys.argv[1]), b'x' * 100_000, mode=PRIVATE_MODE, force=True)\n"
        "except OutputError as err:\n"
        "    print(err)\n"
    )
    target = tmp_path / "big.csv"
    target.write_text("precious")
    result = subprocess.run(
        [sys.executable, "-c", code, str(target)],
        capture_output=True,
        text=True,
        cwd=REPO,
        check=True,
    )
    assert result.stdout.strip() == (
        f"{target}: cannot write: too large for this file system (or this process's file"
        " size limit)"
    )
    assert target.read_text() == "precious"
    assert leftovers(tmp_path) == []


def test_a_folder_that_does_not_exist_is_named(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-folder" / "x.csv"
    with pytest.raises(BadInputError, match="no-such-folder does not exist"):
        write_file(missing, "x", mode=PRIVATE_MODE)


def test_an_existing_file_needs_force(tmp_path: Path) -> None:
    target = tmp_path / "out.csv"
    target.write_text("precious")
    with pytest.raises(BadInputError) as caught:
        write_file(target, "new", mode=PRIVATE_MODE)
    assert str(caught.value) == f"{target}: already exists; use --force to overwrite it"
    assert target.read_text() == "precious"
    write_file(target, "new", mode=PRIVATE_MODE, force=True)
    assert target.read_text() == "new"


def _symlink(tmp_path: Path) -> Path:
    aim = tmp_path / "aim.txt"
    aim.write_text("precious")
    link = tmp_path / "link.csv"
    link.symlink_to(aim)
    return link


def _dangling_symlink(tmp_path: Path) -> Path:
    link = tmp_path / "dangling.csv"
    link.symlink_to(tmp_path / "nowhere.txt")
    return link


def _fifo(tmp_path: Path) -> Path:
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    return fifo


def _folder(tmp_path: Path) -> Path:
    folder = tmp_path / "folder.csv"
    folder.mkdir()
    return folder


@pytest.mark.parametrize(
    ("make", "kind"),
    [
        (_symlink, "a symbolic link"),
        (_dangling_symlink, "a symbolic link"),
        (_fifo, "a FIFO (named pipe)"),
        (_folder, "a folder"),
        (lambda tmp_path: make_device(tmp_path / "device.csv"), "a device"),
    ],
)
@pytest.mark.parametrize("force", [False, True])
def test_anything_but_a_regular_file_is_refused_even_with_force(
    tmp_path: Path, make, kind: str, force: bool
) -> None:
    target = make(tmp_path)
    before = sorted(p.name for p in tmp_path.iterdir())
    with pytest.raises(BadInputError) as caught:
        write_file(target, "data", mode=PRIVATE_MODE, force=force)
    assert str(caught.value).startswith(f"{target}: is {kind}; ")
    assert "\n" not in str(caught.value)
    assert sorted(p.name for p in tmp_path.iterdir()) == before
    if target.name == "link.csv":
        assert (tmp_path / "aim.txt").read_text() == "precious"


def test_an_input_is_never_written_over_even_with_force(tmp_path: Path) -> None:
    music = tmp_path / "music.mp3"
    music.write_bytes(b"ID3 music")
    alias = tmp_path / "alias.mp3"
    alias.symlink_to(music)  # the input named through a link
    hard = tmp_path / "hard.mp3"
    os.link(music, hard)  # the same file under another name
    for target, inputs in ((music, [music]), (music, [alias]), (hard, [music])):
        with pytest.raises(BadInputError, match="is one of this command's inputs"):
            write_file(target, b"rendered", mode=SHARED_MODE, force=True, inputs=inputs)
    assert music.read_bytes() == b"ID3 music"
    assert leftovers(tmp_path) == []


def test_a_file_that_appears_during_the_write_is_kept(tmp_path: Path) -> None:
    target = tmp_path / "out.csv"
    with (
        pytest.raises(BadInputError, match="already exists"),
        PendingFile(target, mode=PRIVATE_MODE) as pending,
    ):
        pending.write(b"ours")
        target.write_text("someone else's")  # e.g. another program, meanwhile
    assert target.read_text() == "someone else's"
    assert leftovers(tmp_path) == []


def test_a_path_that_turns_into_a_link_before_the_rename_is_refused(tmp_path: Path) -> None:
    target = tmp_path / "out.csv"
    target.write_text("old")
    aim = tmp_path / "aim.txt"
    aim.write_text("precious")
    with (
        pytest.raises(BadInputError, match="is a symbolic link"),
        PendingFile(target, mode=PRIVATE_MODE, force=True) as pending,
    ):
        pending.write(b"ours")
        target.unlink()
        target.symlink_to(aim)
    assert aim.read_text() == "precious"
    assert target.is_symlink()
    assert leftovers(tmp_path) == []


def test_own_files_are_replaced_and_their_folder_made(tmp_path: Path) -> None:
    own = tmp_path / "cache" / "deep" / "loudness.json"
    write_own_file(own, "{}", mode=PRIVATE_MODE)
    write_own_file(own, '{"a": 1}', mode=PRIVATE_MODE)
    assert own.read_text() == '{"a": 1}'
    assert mode_of(own.parent) == 0o700 & ~os.umask(os.umask(0))


def test_a_long_name_still_gets_a_temporary_file(tmp_path: Path) -> None:
    target = tmp_path / ("n" * 250 + ".csv")
    write_file(target, "x", mode=PRIVATE_MODE)
    assert target.read_text() == "x"


def test_checking_a_new_name_creates_nothing(tmp_path: Path) -> None:
    check_target(tmp_path / "new.csv", force=False)
    assert list(tmp_path.iterdir()) == []
