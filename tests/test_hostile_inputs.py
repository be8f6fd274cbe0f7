"""Hostile input: devices, FIFOs, folders, NaN, huge numbers, long texts, BOMs, wrong types.

Every case runs the real command in its own process, with its address space capped at 2 GiB
and a timeout, so a regression shows as what it would be for a user (a kernel kill, a hang)
and not as a test runner that swaps itself to death. Each must end in exit 2 with exactly
one `error: ...` line naming the file, no traceback, and nothing written.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

import pytest

from voiceguide.config import BOUNDS
from voiceguide.paths import Paths
from voiceguide.routine.load import MAX_TEXT_CHARS

ADDRESS_SPACE_BYTES = 2 << 30
"""Far above what any command needs (a render peaks near 300 MB), far below /dev/zero's 20 GB."""
TIMEOUT_SECONDS = 120
"""A hang (a FIFO read) shows as a timeout; a loaded 2-core machine needs a few seconds."""

GOOD_STEP = """
[[steps]]
id = "a"
title = "A"
say = "Go."
duration = 3
"""


def _limit_address_space() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE_BYTES, ADDRESS_SPACE_BYTES))


def run_bounded(
    *args: str | Path, env: Mapping[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """`python -m voiceguide ARGS` with 2 GiB of address space and a timeout."""
    return subprocess.run(
        [sys.executable, "-m", "voiceguide", *(str(arg) for arg in args)],
        capture_output=True,
        text=True,
        timeout=TIMEOUT_SECONDS,
        env={**os.environ, **(env or {})},
        preexec_fn=_limit_address_space,
        check=False,
    )


def assert_refused(result: subprocess.CompletedProcess[str], *names: str) -> str:
    """Exit 2, one `error: ` line on stderr naming each of `names`, no traceback; the line."""
    assert "Traceback" not in result.stderr, result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    (line,) = lines
    assert line.startswith("error: "), line
    for name in names:
        assert name in line, line
    assert result.returncode == 2, (result.returncode, line)
    return line


def files_under(folder: Path) -> dict[str, float]:
    """Every file below `folder` with its modification time (what a command may have written)."""
    found: dict[str, float] = {}
    for root, _dirs, names in os.walk(folder):
        for name in names:
            path = Path(root) / name
            found[str(path)] = path.lstat().st_mtime
    return found


@pytest.fixture
def paths(voiceguide_home: Path) -> Paths:
    made = Paths.from_environment()
    made.ensure()
    made.routines_dir.mkdir(exist_ok=True)
    return made


# -- special files: a link to /dev/zero, a FIFO, a folder -----------------------------------

SPECIAL_KINDS = ("zero-link", "fifo", "folder")


def make_special(path: Path, kind: str) -> Path:
    """`path` as a symbolic link to /dev/zero (endless), a FIFO (blocks) or a folder."""
    path.unlink(missing_ok=True)  # a config.toml conftest wrote (where the natural voice is)
    if kind == "zero-link":
        path.symlink_to("/dev/zero")
    elif kind == "fifo":
        os.mkfifo(path)
    else:
        path.mkdir()
    return path


@pytest.mark.parametrize("kind", SPECIAL_KINDS)
def test_routines_check_refuses_a_special_file(tmp_path: Path, kind: str) -> None:
    routine = make_special(tmp_path / "routine.toml", kind)
    line = assert_refused(run_bounded("routines", "check", routine), str(routine))
    assert "not a regular file" in line


def test_routines_check_refuses_a_device_itself() -> None:
    # Reading /dev/urandom whole grew the process to 20 GB before the kernel killed it.
    assert_refused(run_bounded("routines", "check", "/dev/urandom"), "/dev/urandom")


@pytest.mark.parametrize("kind", SPECIAL_KINDS)
def test_log_import_refuses_a_special_file(tmp_path: Path, paths: Paths, kind: str) -> None:
    csv_file = make_special(tmp_path / "log.csv", kind)
    assert_refused(run_bounded("log", "import", "--csv", csv_file), str(csv_file))
    assert "No sessions logged yet." in run_bounded("log").stdout


@pytest.mark.parametrize("kind", SPECIAL_KINDS)
def test_a_special_settings_file_is_named(paths: Paths, kind: str) -> None:
    make_special(paths.config_file, kind)
    before = files_under(paths.config_dir)
    assert_refused(run_bounded("routines"), str(paths.config_file))
    assert files_under(paths.config_dir) == before


@pytest.mark.parametrize(
    ("suffix", "kind"), [("m3u", "zero-link"), ("pls", "fifo"), ("m3u8", "folder")]
)
def test_a_playlist_file_that_is_not_a_file_is_refused(
    tmp_path: Path, paths: Paths, suffix: str, kind: str
) -> None:
    playlist = make_special(tmp_path / f"list.{suffix}", kind)
    line = assert_refused(run_bounded("playlist", "import", playlist), str(playlist))
    assert "not a regular file" in line
    assert not paths.playlists_dir.exists() or not any(paths.playlists_dir.iterdir())


# -- the routines folder: one broken file does not hide the others --------------------------


@pytest.mark.parametrize("kind", [*SPECIAL_KINDS, "nan"])
def test_a_broken_routine_in_the_folder_is_listed_and_named(paths: Paths, kind: str) -> None:
    (paths.routines_dir / "good.toml").write_text(f'format = 1\ntitle = "Fine"\n{GOOD_STEP}')
    broken = paths.routines_dir / "broken.toml"
    if kind == "nan":
        broken.write_text(f'format = 1\ntitle = "x"\n{GOOD_STEP}'.replace("= 3", "= nan"))
    else:
        make_special(broken, kind)
    result = run_bounded("routines")
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    (warning,) = result.stderr.splitlines()
    assert warning.startswith(f"warning: {broken}: ")
    rows = {line.split()[0]: line for line in result.stdout.splitlines() if line.strip()}
    assert "Fine" in rows["good"]
    assert "broken" in rows["broken"]
    assert {"demo", "hands-on-pumping"} <= rows.keys()


# -- numbers: finite, in range ---------------------------------------------------------------


def routine_with(tmp_path: Path, duration: str, cue_at: str | None = None) -> Path:
    cue = f'\n  [[steps.cues]]\n  at = {cue_at}\n  say = "Hi."\n' if cue_at else ""
    text = (
        f'format = 1\ntitle = "x"\n[[steps]]\nid = "a"\ntitle = "A"\nsay = "Go."\n'
        f"duration = {duration}\n{cue}"
    )
    path = tmp_path / "numbers.toml"
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    ("duration", "cue_at", "place", "problem"),
    [
        ("nan", None, "line 7: steps[0].duration", "finite"),
        ("inf", None, "line 7: steps[0].duration", "finite"),
        ('"1e400"', None, "line 7: steps[0].duration", "finite"),
        ("{ min = 1, default = 2, max = inf }", None, "steps[0].duration.max", "finite"),
        ("60", "nan", "line 10: steps[0].cues[0].at", "finite"),
        ("2.1e14", None, "line 7: steps[0].duration", "longer than a step may last"),
        ("7201", None, "line 7: steps[0].duration", "longer than a step may last (2 h 00 min)"),
        ("9" * 5000, None, "line 7", "a number of more than 4300 digits"),
        ("9" * 4000, None, "line 7: steps[0].duration", "finite"),
    ],
)
def test_durations_must_be_finite_and_bounded(
    tmp_path: Path, duration: str, cue_at: str | None, place: str, problem: str
) -> None:
    routine = routine_with(tmp_path, duration, cue_at)
    line = assert_refused(run_bounded("routines", "check", routine), str(routine), place, problem)
    assert len(line) < 300


def test_render_refuses_what_check_refuses_and_writes_nothing(tmp_path: Path) -> None:
    routine = routine_with(tmp_path, "nan")
    output = tmp_path / "out" / "session.wav"
    output.parent.mkdir()
    assert_refused(
        run_bounded("render", "--routine", routine, "--no-music", "-o", output), str(routine)
    )
    assert list(output.parent.iterdir()) == []


def test_a_session_longer_than_the_limit_is_refused_at_the_step_that_passes_it(
    tmp_path: Path,
) -> None:
    hours = BOUNDS["session_seconds"].high / 3600
    steps = "".join(
        GOOD_STEP.replace('id = "a"', f'id = "s{n}"').replace("= 3", '= "1h"')
        for n in range(int(hours) + 1)
    )
    routine = tmp_path / "long.toml"
    routine.write_text(f'format = 1\ntitle = "x"\n{steps}')
    place = f"steps[{int(hours)}].duration"
    line = assert_refused(run_bounded("routines", "check", routine), str(routine), place)
    assert f"at most {int(hours)} h 00 min" in line


@pytest.mark.parametrize(
    ("setting", "value"),
    [
        ("speech_level_db", "nan"),
        ("music_level_db", "inf"),
        ("crossfade_seconds", "-inf"),
        ("duck_db", "9" * 4000),
        ("rate_wpm", "9" * 4000),
        ("music_loudness_lufs", "1e400"),
    ],
)
def test_settings_numbers_must_be_finite_and_bounded(
    paths: Paths, setting: str, value: str
) -> None:
    paths.config_file.write_text(f"{setting} = {value}\n")
    line = assert_refused(run_bounded("log"), str(paths.config_file), setting)
    assert len(line) < 300


@pytest.mark.parametrize(
    ("option", "value"),
    [("--speech-level", "nan"), ("--music-level", "inf"), ("--rate", "100000")],
)
def test_level_options_are_bounded_like_the_settings(
    tmp_path: Path, option: str, value: str
) -> None:
    output = tmp_path / "out.wav"
    assert_refused(
        run_bounded("render", "--routine", "demo", "--no-music", option, value, "-o", output),
        option,
    )
    assert not output.exists()


# -- deep nesting ------------------------------------------------------------------------------


def test_deeply_nested_arrays_in_a_routine_are_one_line(tmp_path: Path) -> None:
    routine = tmp_path / "deep.toml"
    routine.write_text("format = 1\nx = " + "[" * 5000 + "]" * 5000 + "\n")
    line = assert_refused(run_bounded("routines", "check", routine), str(routine))
    assert "nested too deep" in line


def test_deeply_nested_tables_in_the_settings_are_one_line(paths: Paths) -> None:
    paths.config_file.write_text("voice = " + "{a=" * 3000 + "1" + "}" * 3000 + "\n")
    line = assert_refused(run_bounded("log"), str(paths.config_file))
    assert "nested too deep" in line


# -- long text -------------------------------------------------------------------------------


def test_a_long_say_is_refused_before_any_speech_is_made(tmp_path: Path) -> None:
    # A 20 KB say took a minute and 1.9 GB of speech engine; a 1 MB one never finished.
    routine = routine_with(tmp_path, "60")
    routine.write_text(routine.read_text().replace('"Go."', f'"{"word " * 4000}"'))
    line = assert_refused(
        run_bounded("routines", "check", routine), str(routine), "line 6: steps[0].say"
    )
    assert f"at most {MAX_TEXT_CHARS:,}" in line


def test_a_long_cue_is_named_by_its_key(tmp_path: Path) -> None:
    routine = routine_with(tmp_path, "60", '"10s"')
    routine.write_text(routine.read_text().replace('say = "Hi."', f'say = "{"x" * 1001}"'))
    assert_refused(
        run_bounded("routines", "check", routine), str(routine), "line 11: steps[0].cues[0].say"
    )


# -- BOM and the format's type -----------------------------------------------------------------


def test_a_routine_with_a_bom_is_read(tmp_path: Path) -> None:
    routine = tmp_path / "bom.toml"
    routine.write_bytes(b"\xef\xbb\xbf" + f'format = 1\ntitle = "With BOM"\n{GOOD_STEP}'.encode())
    result = run_bounded("routines", "check", routine)
    assert result.returncode == 0, result.stderr
    assert f"{routine}: ok: With BOM, 1 steps" in result.stdout


def test_settings_with_a_bom_are_read(paths: Paths) -> None:
    paths.config_file.write_bytes(b'\xef\xbb\xbfamount_unit = "oz"\n')
    result = run_bounded("log", "add", "--left", "2")
    assert result.returncode == 0, result.stderr
    assert "left 2.0 oz" in result.stdout


@pytest.mark.parametrize(("written", "shown"), [("true", "true"), ("1.0", "1.0"), ('"1"', "'1'")])
def test_the_format_must_be_the_integer_1(tmp_path: Path, written: str, shown: str) -> None:
    routine = tmp_path / "format.toml"
    routine.write_text(f'format = {written}\ntitle = "x"\n{GOOD_STEP}')
    line = assert_refused(run_bounded("routines", "check", routine), str(routine))
    assert line.endswith(f"line 1: format: expected format = 1, got {shown}")


# -- the log: ids, counts and dates out of range -------------------------------------------------

HUGE = str(10**22)


@pytest.mark.parametrize(
    "args",
    [
        ("log", "edit", HUGE, "--left", "3"),
        ("log", "delete", HUGE, "--yes"),
    ],
)
def test_an_id_beyond_64_bits_is_no_session(paths: Paths, args: tuple[str, ...]) -> None:
    line = assert_refused(run_bounded(*args))
    assert line == f"error: no session with id {args[2]} in the log"


@pytest.mark.parametrize("command", [("log",), ("log", "list")])
def test_last_beyond_64_bits_means_all(paths: Paths, command: tuple[str, ...]) -> None:
    assert run_bounded("log", "add", "--left", "5").returncode == 0
    result = run_bounded(*command, "--last", HUGE)
    assert result.returncode == 0, result.stderr
    assert "5" in result.stdout


@pytest.mark.parametrize(
    "when", ["0001-01-01 00:00", "0001-01-01T00:00-05:00", "9999-12-31 23:59", "1969-07-20 20:17"]
)
def test_log_add_refuses_a_date_out_of_range(paths: Paths, when: str) -> None:
    line = assert_refused(run_bounded("log", "add", "--left", "5", "--at", when), when)
    assert "between the years 2000 and 2099" in line
    assert "No sessions logged yet." in run_bounded("log").stdout


CSV_HEADER = (
    "id,uid,source,started_at,ended_at,routine,first_side,finished,stopped_at_step,"
    "pumping_seconds,left_ml,right_ml,note,counted,steps\n"
)
CSV_ROW = {
    "id": "1",
    "uid": "3f5216b8ca154705a2529f5952d00fc9",
    "source": "manual",
    "started_at": "2026-01-30T15:04:42+00:00",
    "pumping_seconds": "0.0",
    "left_ml": "50.0",
    "counted": "1",
}


def csv_with(tmp_path: Path, **cells: str) -> Path:
    row = {**CSV_ROW, **cells}
    columns = CSV_HEADER.strip().split(",")
    path = tmp_path / "import.csv"
    path.write_text(CSV_HEADER + ",".join(row.get(c, "") for c in columns) + "\n")
    return path


@pytest.mark.parametrize(
    ("column", "cell"),
    [
        ("left_ml", "9" * 5000),
        ("pumping_seconds", "9" * 5000),
        ("right_ml", "nan"),
        ("pumping_seconds", "1e300"),
        ("started_at", "0001-01-01T00:00:00-05:00"),
        ("started_at", "9999-12-31T23:00:00-05:00"),
        ("steps", "[" * 100_000),
    ],
)
def test_csv_cells_out_of_range_are_named(
    tmp_path: Path, paths: Paths, column: str, cell: str
) -> None:
    csv_file = csv_with(tmp_path, **{column: cell})
    line = assert_refused(
        run_bounded("log", "import", "--csv", csv_file), str(csv_file), f"line 2: {column}: "
    )
    assert len(line) < 300
    assert "No sessions logged yet." in run_bounded("log").stdout


def test_a_good_csv_row_is_imported(tmp_path: Path, paths: Paths) -> None:
    # The row the refusals above change one cell of is itself fine.
    result = run_bounded("log", "import", "--csv", csv_with(tmp_path))
    assert result.returncode == 0, result.stderr
    assert "Imported 1 sessions" in result.stdout


def test_a_csv_larger_than_the_cap_is_refused_unread(tmp_path: Path, paths: Paths) -> None:
    from voiceguide.logbook.exchange import MAX_CSV_BYTES

    csv_file = tmp_path / "sparse.csv"
    with csv_file.open("wb") as handle:
        handle.truncate(MAX_CSV_BYTES + 1)  # sparse: costs no disk
    line = assert_refused(run_bounded("log", "import", "--csv", csv_file), str(csv_file))
    assert "larger than 50 MiB" in line


# -- voiceguide's own cache, where a user (or a mistake) put something else ----------------------


@pytest.mark.parametrize("kind", SPECIAL_KINDS)
def test_a_special_file_as_the_loudness_cache_is_ignored(tmp_path: Path, kind: str) -> None:
    code = (
        "import sys; from pathlib import Path;"
        "from voiceguide.music.playlists.filecache import FileResultCache;"
        "cache = FileResultCache(Path(sys.argv[1]), 'loudness');"
        "print(cache.get(Path(sys.argv[1])))"
    )
    cache_file = make_special(tmp_path / "loudness.json", kind)
    result = subprocess.run(
        [sys.executable, "-c", code, str(cache_file)],
        capture_output=True,
        text=True,
        timeout=TIMEOUT_SECONDS,
        preexec_fn=_limit_address_space,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == "None\n"
    assert f"ignoring unreadable loudness cache {cache_file}: " in result.stderr
