"""Hostile files, names and faults: one line naming the file, exit 2 for bad input, and never a
traceback, a hang, unbounded memory, a partial file left behind or a write outside voiceguide's
folders."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from voiceguide.music.playlists.manage import import_playlist, show_playlist
from voiceguide.paths import Paths

from cli_helpers import invoke, run_cli
from test_playlist_audio import make_tone

ERROR_EXIT = 1
BAD_INPUT_EXIT = 2


def one_error_line(stderr: str) -> str:
    """The only line of `stderr`, which must be an error (no traceback, no second line)."""
    assert "Traceback" not in stderr, stderr
    lines = [line for line in stderr.splitlines() if line.startswith("error")]
    assert len(lines) == 1 and lines[0] == stderr.strip(), stderr
    return lines[0]


# -- playlists: names a playlist cannot hold, entries no file can have ------------------------


def test_a_file_name_with_a_line_break_is_refused_not_stored(tmp_path: Path) -> None:
    good = make_tone(tmp_path / "good1.mp3")
    broken = make_tone(tmp_path / "new\nline.mp3")
    result = invoke("playlist", "new", "calm", str(broken), str(good))
    assert result.returncode == BAD_INPUT_EXIT
    line = one_error_line(result.stderr)
    assert "new\\nline.mp3" in line and "line break" in line
    assert invoke("playlist", "show", "calm").returncode == BAD_INPUT_EXIT  # nothing stored


def test_a_line_break_found_in_a_folder_is_left_out_with_a_warning(tmp_path: Path) -> None:
    music = tmp_path / "music"
    make_tone(music / "good1.mp3")
    make_tone(music / "new\nline.mp3")
    result = invoke("playlist", "new", "calm", str(music))
    assert result.returncode == 0, result.stderr
    assert "with 1 track" in result.stdout
    warnings = result.stderr.splitlines()
    assert len(warnings) == 1 and warnings[0].startswith("warning: ")
    assert "new\\nline.mp3: skipped" in warnings[0]
    shown = invoke("playlist", "show", "calm")
    assert "1 track," in shown.stdout and "missing" not in shown.stdout


def good_and_bad_playlists(folder: Path) -> tuple[Path, Path]:
    """An M3U with a NUL-byte entry and a PLS with a 5,000-digit key, each around 39 good
    entries (a 40-entry playlist)."""
    tracks = [make_tone(folder / f"track{index}.mp3", 30.0) for index in range(3)]
    good = [str(tracks[index % 3]) for index in range(39)]
    m3u = folder / "nul.m3u"
    m3u.write_text("#EXTM3U\n" + "\n".join([*good[:20], "file:///music/x%00.mp3", *good[20:]]))
    pls = folder / "digits.pls"
    keys = [f"File{index + 1}={path}" for index, path in enumerate(good)]
    keys.insert(5, f"File{'9' * 5000}=whatever.mp3")
    pls.write_text("[playlist]\n" + "\n".join(keys) + f"\nNumberOfEntries={len(good)}\n")
    return m3u, pls


def test_a_nul_entry_and_a_5000_digit_key_are_skipped_and_the_rest_plays(tmp_path: Path) -> None:
    m3u, pls = good_and_bad_playlists(tmp_path)
    for playlist, line, shown in ((m3u, 22, "x%00.mp3"), (pls, 7, "File99999")):
        # render
        out = tmp_path / f"{playlist.stem}.wav"
        result = invoke("render", "--routine", "demo", "--music", str(playlist), "-o", str(out))
        assert result.returncode == 0, result.stderr
        assert "39 tracks" in result.stderr
        warnings = [ln for ln in result.stderr.splitlines() if ln.startswith("warning")]
        assert len(warnings) == 1 and f"{playlist}:{line}: skipped" in warnings[0], warnings
        assert shown in warnings[0]
        assert out.stat().st_size > 0
        # import
        result = invoke("playlist", "import", str(playlist))
        assert result.returncode == 0, result.stderr
        assert "Imported 39 tracks" in result.stdout
        assert f"{playlist.name}:{line}: skipped" in result.stderr
        # add
        name = f"add-{playlist.stem}"
        assert invoke("playlist", "new", name).returncode == 0
        result = invoke("playlist", "add", name, str(playlist))
        assert result.returncode == 0, result.stderr
        assert "Added 3 tracks" in result.stdout  # 39 entries of 3 files
        assert f"{playlist}:{line}: skipped" in result.stderr


def test_a_pls_with_a_second_section_is_read(tmp_path: Path) -> None:
    track = make_tone(tmp_path / "a.mp3")
    pls = tmp_path / "two.pls"
    pls.write_text(
        "[Reference]\nRef1=http://example.com\n[playlist]\nFile1=a.mp3\nTitle1=A\n"
        "NumberOfEntries=1\n[other]\nFile2=b.mp3\nx = 1\n"
    )
    report = import_playlist(invoke_paths(), pls)
    assert report.added == 1
    rows, _ = show_playlist(invoke_paths(), "two")
    assert [row.entry.path for row in rows] == [track]


def invoke_paths() -> Paths:
    """The folders of this test's VOICEGUIDE_HOME, made."""
    paths = Paths.from_environment()
    paths.ensure()
    return paths


def test_playlist_parse_errors_exit_2_naming_file_and_line(tmp_path: Path) -> None:
    not_pls = tmp_path / "x.pls"
    not_pls.write_text("; comment\nx=1\n")
    binary = tmp_path / "b.m3u"
    binary.write_bytes(b"#EXTM3U\n\x01\x02\n")
    for playlist, line in ((not_pls, 2), (binary, 2)):
        for args in (("playlist", "import", str(playlist)), ("render", "--routine", "demo",
                     "--music", str(playlist), "-o", str(tmp_path / "o.wav"))):  # fmt: skip
            result = invoke(*args)
            assert result.returncode == BAD_INPUT_EXIT, (args, result.stderr)
            assert f"{playlist}:{line}: not a" in one_error_line(result.stderr)


# -- names too long --------------------------------------------------------------------------

EMOJI_100 = "\N{GRINNING FACE}" * 100  # 400 bytes of UTF-8: over the 255 a name may have
CHARS_300 = "a" * 300


@pytest.mark.parametrize(
    "args",
    [
        ("playlist", "new", EMOJI_100),
        ("playlist", "show", EMOJI_100),
        ("playlist", "import", f"{EMOJI_100}.m3u"),
        ("render", "--routine", "demo", "-o", f"{EMOJI_100}.wav"),
        ("render", "--routine", "demo", "-o", f"{CHARS_300}.wav"),
        ("render", "--routine", "demo", "--music", f"{CHARS_300}.mp3", "-o", "x.wav"),
        ("render", "--routine", "demo", "--music", f"{CHARS_300}/", "-o", "x.wav"),
        ("render", "--routine", f"{CHARS_300}.toml", "-o", "x.wav"),
        ("log", "export", "--csv", f"{EMOJI_100}.csv"),
        ("log", "chart", "-o", f"{EMOJI_100}.png"),
    ],
    ids=lambda args: " ".join(a[:12] for a in args),
)
def test_a_name_too_long_is_one_line_exit_2(
    args: tuple[str, ...], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = invoke(*args)
    assert result.returncode == BAD_INPUT_EXIT, result.stderr
    line = one_error_line(result.stderr)
    assert "too long" in line, line
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("where", ["file", "proc"])
def test_a_voiceguide_home_that_cannot_be_made_is_one_line(tmp_path: Path, where: str) -> None:
    a_file = tmp_path / "a-file"
    a_file.write_text("not a folder")
    home = a_file / "vg" if where == "file" else Path("/proc/voiceguide-cannot-be-here")
    result = invoke("playlist", "list", env={"VOICEGUIDE_HOME": str(home)})
    assert result.returncode != 0
    line = one_error_line(result.stderr)
    in_the_way = a_file if where == "file" else home
    assert f"{in_the_way}: cannot create voiceguide's folder: " in line
    assert "VOICEGUIDE_HOME" in line  # what to do


# -- music folders with links out of them ---------------------------------------------------


def test_links_to_the_whole_disk_and_proc_are_not_followed(tmp_path: Path) -> None:
    music = tmp_path / "music"
    make_tone(music / "a.mp3")
    make_tone(music / "sub" / "b.mp3")
    (music / "root").symlink_to("/")
    (music / "proc").symlink_to("/proc/self")
    (music / "sub" / "up").symlink_to("..")
    (music / "sub" / "loop").symlink_to(music)
    started = time.monotonic()
    result = run_cli("playlist", "new", "calm", str(music), timeout=60)
    assert time.monotonic() - started < 30
    assert result.returncode == 0, result.stderr
    assert "with 2 tracks" in result.stdout
    warnings = result.stderr.splitlines()
    assert all(line.startswith("warning: ") for line in warnings), result.stderr
    for link in ("root", "proc", "sub/up", "sub/loop"):
        assert any(f"{music / link}: skipped folder link" in line for line in warnings), link


def test_a_scan_stops_at_its_limits_with_a_warning(tmp_path: Path) -> None:
    from voiceguide.music.playlists.scan import scan_folder

    for index in range(30):
        (tmp_path / f"{index:02}.mp3").touch()
        (tmp_path / f"d{index:02}").mkdir()
    files, warnings = scan_folder(tmp_path, max_entries=20)
    assert len(files) < 30
    assert len(warnings) == 1 and "stopped looking for music after" in warnings[0]

    now = [0.0]

    def clock() -> float:  # each look at the clock is a minute later: a very slow disk
        now[0] += 60.0
        return now[0]

    files, warnings = scan_folder(tmp_path, clock=clock)
    assert files == []
    assert len(warnings) == 1 and "stopped looking for music" in warnings[0]


# -- a read-only data folder --------------------------------------------------------------


def run_cli_in_read_only(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`voiceguide ARGS` while `folder` cannot be written to: its mode for a user, a
    read-only bind mount for root (who writes whatever the mode)."""
    if os.geteuid() != 0:
        folder.chmod(0o500)
        try:
            return run_cli(*args, timeout=60)
        finally:
            folder.chmod(0o700)
    # The folder and the command as arguments, never spliced into the script: a clone path
    # with a space in it ran "/tmp/a" instead of "/tmp/a b/.venv/bin/python".
    script = 'mount --bind "$1" "$1" && mount -o remount,bind,ro "$1" && shift && exec "$@"'
    command = [sys.executable, "-m", "voiceguide", *args]
    try:
        result = subprocess.run(
            ["unshare", "--mount", "sh", "-c", script, "sh", str(folder), *command],
            capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
    except FileNotFoundError:
        pytest.skip("unshare is not installed")
    if "mount:" in result.stderr or "unshare:" in result.stderr:
        pytest.skip(f"cannot make a read-only mount here: {result.stderr.strip()}")
    return result


def test_log_and_export_read_a_read_only_data_folder(tmp_path: Path, voiceguide_home: Path) -> None:
    for left in ("60", "45"):
        assert invoke("log", "add", "--left", left, "--right", "50").returncode == 0
    data = voiceguide_home / "data"
    before = {path.name: path.read_bytes() for path in data.iterdir()}
    assert list(before) == ["log.sqlite3"]

    result = run_cli_in_read_only(data, "log")
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert "60" in result.stdout and "45" in result.stdout
    for kind in ("csv", "json"):
        out = tmp_path / f"log.{kind}"
        result = run_cli_in_read_only(data, "log", "export", f"--{kind}", str(out))
        assert result.returncode == 0, result.stderr
        assert "Exported 2 sessions" in result.stdout
        assert out.read_text().count("60") >= 1
    result = run_cli_in_read_only(data, "log", "stats")
    assert result.returncode == 0, result.stderr
    assert {path.name: path.read_bytes() for path in data.iterdir()} == before


def test_a_read_only_voice_cache_is_one_warning_and_the_render_works(
    tmp_path: Path, voiceguide_home: Path
) -> None:
    voice = voiceguide_home / "cache" / "voice"
    voice.mkdir(parents=True)
    out = tmp_path / "out.wav"
    result = run_cli_in_read_only(
        voice, "render", "--routine", "demo", "--no-music", "-o", str(out)
    )
    assert result.returncode == 0, result.stderr
    warnings = [line for line in result.stderr.splitlines() if line.startswith("warning")]
    assert len(warnings) == 1, result.stderr
    assert f"{voice}: cannot write the voice cache: " in warnings[0]
    assert "Traceback" not in result.stderr
    assert out.stat().st_size > 0
    assert list(voice.iterdir()) == []


def test_reading_an_old_log_migrates_a_copy_not_the_file(voiceguide_home: Path) -> None:
    import sqlite3

    from voiceguide.logbook.migrations import MIGRATIONS, migrate

    data = voiceguide_home / "data"
    data.mkdir(parents=True)
    conn = sqlite3.connect(data / "log.sqlite3", isolation_level=None)
    migrate(conn, MIGRATIONS[:1])
    conn.execute(
        "INSERT INTO sessions (uid, source, started_at, left_ml, right_ml) "
        "VALUES ('u1', 'manual', '2026-01-01T03:00:00+00:00', 70, 65)"
    )
    conn.close()
    before = (data / "log.sqlite3").read_bytes()
    result = invoke("log", "list")
    assert result.returncode == 0, result.stderr
    assert "70" in result.stdout and "65" in result.stdout
    assert (data / "log.sqlite3").read_bytes() == before
    assert sorted(path.name for path in data.iterdir()) == ["log.sqlite3"]


# -- rendered files: too long for WAV, a full disk, leftovers of killed runs ---------------

SEVEN_HOURS = """format = 1
name = "seven-hours"
title = "Seven hours"
[intro]
say = "A long one."
[closing]
say = "Done."
[[steps]]
id = "long"
title = "Long"
say = "Keep going."
duration = "7h"
"""


def test_a_wav_over_4_gib_is_refused_before_any_rendering(
    tmp_path: Path, voiceguide_home: Path
) -> None:
    routine = tmp_path / "seven.toml"
    routine.write_text(SEVEN_HOURS)
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    started = time.monotonic()
    result = run_cli(
        "render", "--routine", str(routine), "-o", str(out_dir / "long.wav"), timeout=60
    )
    assert time.monotonic() - started < 20  # the whole process, interpreter start included
    assert result.returncode == BAD_INPUT_EXIT
    line = one_error_line(result.stderr)
    # The routine's own limits (a step of 2 h, 3 h in all) refuse it first, naming the line;
    # the WAV guard behind them is for what passes those.
    assert f"{routine}: line " in line and "longer than a step may last" in line
    assert list(out_dir.iterdir()) == []
    voice = voiceguide_home / "cache" / "voice"
    assert not voice.exists() or not any(voice.glob("*.wav"))  # not one clip synthesized


def test_a_render_the_disk_refuses_is_one_line_and_leaves_nothing(tmp_path: Path) -> None:
    import resource
    import signal

    # A file-size limit fails a write as a full disk would, for any user (root included).
    # 80 MB: libpulse, loaded by espeak-ng, sizes a 64 MB memfd as it starts (and a limit
    # applies to that too); the 9-minute session is 95 MB as WAV.
    limit = 80_000_000

    def small_files() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    routine = tmp_path / "nine.toml"
    routine.write_text(SEVEN_HOURS.replace('"7h"', '"9m"'))
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    target = out_dir / "session.wav"
    result = subprocess.run(
        [sys.executable, "-m", "voiceguide", "render", "--routine", str(routine), "--no-music",
         "-o", str(target)],
        capture_output=True, text=True, timeout=300, check=False, preexec_fn=small_files,
    )  # fmt: skip
    assert result.returncode == ERROR_EXIT, result.stderr
    line = result.stderr.strip().splitlines()[-1]
    assert line.startswith(f"error: {target}: cannot write: too large"), result.stderr
    assert "Traceback" not in result.stderr
    assert list(out_dir.iterdir()) == []


def test_temporary_files_of_killed_renders_are_removed_at_the_next(tmp_path: Path) -> None:
    target = tmp_path / "session.wav"
    stale = tmp_path / ".session.wav.voiceguide-tmp-k1ll3d_x.wav"
    young = tmp_path / ".session.wav.voiceguide-tmp-runn1ng_.wav"  # another run's, under way
    other = tmp_path / ".other.wav.voiceguide-tmp-k1ll3d_x.wav"  # another target's
    for leftover in (stale, young, other):
        leftover.write_bytes(b"RIFF" + b"\0" * 1000)
    two_hours_ago = time.time() - 7200
    for old in (stale, other):
        os.utime(old, (two_hours_ago, two_hours_ago))
    result = invoke("render", "--routine", "demo", "--no-music", "-o", str(target))
    assert result.returncode == 0, result.stderr
    assert sorted(path.name for path in tmp_path.iterdir()) == sorted(
        [target.name, young.name, other.name]
    )


# -- nothing outside voiceguide's folders -----------------------------------------------------


def test_render_voices_and_chart_leave_nothing_in_tmp_or_home(
    tmp_path: Path, voiceguide_home: Path
) -> None:
    tmp, home = tmp_path / "tmp", tmp_path / "home"
    tmp.mkdir()
    home.mkdir()
    # No sound server named: libpulse would make a pulse-* folder in TMPDIR and a link in
    # ~/.config/pulse if anything opened it.
    env = {"TMPDIR": str(tmp), "HOME": str(home), "PULSE_SERVER": None,
           "XDG_RUNTIME_DIR": None, "MPLCONFIGDIR": None, "XDG_CONFIG_HOME": None,
           "XDG_CACHE_HOME": None}  # fmt: skip
    out = tmp_path / "out.wav"
    for args in (
        ("render", "--routine", "demo", "--no-music", "-o", str(out)),
        ("render", "--routine", "demo", "--engine", "espeak-ng", "-o", str(out), "--force"),
        ("voices",),
        ("routines",),
        ("log", "add", "--left", "50"),
        ("log", "chart", "-o", str(tmp_path / "chart.png")),
    ):
        result = run_cli(*args, env=env, timeout=300)
        assert result.returncode == 0, (args, result.stderr)
        assert sorted(tmp.rglob("*")) == [], args
        assert sorted(home.rglob("*")) == [], args
    assert (voiceguide_home / "cache" / "matplotlib").is_dir()
    voice = voiceguide_home / "cache" / "voice"
    assert [p.name for p in voice.iterdir() if not p.name.endswith(".wav")] == []


def test_a_killed_run_s_raw_speech_is_removed_at_the_next_start(voiceguide_home: Path) -> None:
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    voice = voiceguide_home / "cache" / "voice"
    stale = voice / f".work-{gone.stdout.strip()}-abcd1234"
    stale.mkdir(parents=True)
    (stale / "raw-1.wav").write_bytes(b"RIFF what was being said")
    mine = voice / f".work-{os.getpid()}-efgh5678"  # a live process's: left alone
    mine.mkdir()
    result = invoke("render", "--routine", "demo", "--no-music", "-o", str(voice.parent / "o.wav"))
    assert result.returncode == 0, result.stderr
    assert not stale.exists()
    assert mine.is_dir()


def test_under_umask_000_folders_are_0700_and_health_data_0600(tmp_path: Path) -> None:
    root = tmp_path / "new" / "vg"  # neither exists yet
    env = {**os.environ, "VOICEGUIDE_HOME": str(root)}
    music = tmp_path / "music"
    make_tone(music / "a.mp3", 20.0)
    out, cues = tmp_path / "out.wav", tmp_path / "cues.json"
    for args in (
        ("render", "--routine", "demo", "--music", str(music), "-o", str(out),
         "--cues-json", str(cues)),
        ("log", "add", "--left", "50"),
        ("log", "chart", "-o", str(tmp_path / "chart.png")),
        ("log", "export", "--csv", str(tmp_path / "log.csv")),
        ("playlist", "new", "calm", str(music)),
    ):  # fmt: skip
        result = subprocess.run(
            [sys.executable, "-m", "voiceguide", *args], env=env, umask=0,
            capture_output=True, text=True, timeout=300, check=False,
        )  # fmt: skip
        assert result.returncode == 0, (args, result.stderr)
    folders = [root.parent, root, *(p for p in root.rglob("*") if p.is_dir())]
    assert {str(p): oct(mode_of(p)) for p in folders} == {str(p): "0o700" for p in folders}
    for path in root.rglob("*"):
        if path.is_file():
            assert mode_of(path) & 0o022 == 0, (path, oct(mode_of(path)))  # nobody else writes
    for private in (root / "data" / "log.sqlite3", tmp_path / "chart.png", tmp_path / "log.csv"):
        assert mode_of(private) == 0o600, private
    assert all(mode_of(clip) == 0o600 for clip in (root / "cache" / "voice").glob("*.wav"))
    assert mode_of(out) == mode_of(cues) == 0o644


# -- a routine of thousands of steps ---------------------------------------------------------


def test_clips_in_memory_are_bounded_and_read_again_from_the_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import numpy as np

    from voiceguide.speech import voice as voice_module
    from voiceguide.speech.voice import Voice, VoiceSettings, cache_key
    from voiceguide.speech.wavfile import write_wav_mono

    settings = VoiceSettings()
    cache = tmp_path / "voice"
    cache.mkdir()
    texts = [f"Step {index} of 300. Keep going." for index in range(300)]
    for index, text in enumerate(texts):  # as `start`'s background voice leaves them
        clip = np.full(44_100, index + 1, dtype=np.int16)  # 88 kB each: 26 MB in all
        write_wav_mono(cache / f"{cache_key(settings, text)}.wav", clip, 44_100)
    monkeypatch.setattr(voice_module, "MEMORY_BYTES", 2_000_000)
    voice = Voice(settings, cache)
    try:
        for round_ in range(2):
            for index, text in enumerate(texts):
                clip = voice.clip(text)
                assert clip[0] == index + 1 and len(clip) == 44_100, (round_, index)
                assert voice._memory_bytes <= 2_000_000 + clip.nbytes
                assert voice.ready_frames(text) == 44_100
    finally:
        voice.close()


# -- helpers for the process tests -------------------------------------------------------------


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def run_python(code: str, *args: str, timeout: float = 120, **kwargs: object) -> str:
    """Run `code` in a fresh interpreter; its stdout."""
    result = subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=True,
        **kwargs,  # type: ignore[arg-type]
    )
    return result.stdout


_ = (os, time, run_cli, run_python, mode_of, ERROR_EXIT)
