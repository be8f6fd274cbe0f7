"""ffprobe: which files are playable audio, how long, which tags; results cached."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from voiceguide.errors import MusicError
from voiceguide.music.playlists.probe import (
    Prober,
    UnplayableError,
    check_file,
    parse_ffprobe_json,
    run_ffprobe,
)

from test_playlist_audio import CountingRunner, make_corrupt_mp3, make_tone


@pytest.mark.parametrize("suffix", [".mp3", ".ogg", ".flac", ".m4a", ".wav"])
def test_duration_and_tags_of_each_format(tmp_path: Path, suffix: str) -> None:
    path = make_tone(tmp_path / f"tone{suffix}", 2.0, title="Lullaby", artist="Mum")
    info = run_ffprobe(path)
    assert abs(info.duration_seconds - 2.0) < 0.1
    assert (info.title, info.artist) == ("Lullaby", "Mum")


def test_untagged_file_has_no_title(tmp_path: Path) -> None:
    info = run_ffprobe(make_tone(tmp_path / "plain.wav", 1.5))
    assert (info.title, info.artist) == (None, None)


def problem(path: Path) -> str:
    with pytest.raises(UnplayableError) as caught:
        run_ffprobe(path)
    return str(caught.value)


def test_missing_file(tmp_path: Path) -> None:
    assert problem(tmp_path / "gone.mp3") == "file not found"


def test_zero_byte_file(tmp_path: Path) -> None:
    (tmp_path / "empty.mp3").write_bytes(b"")
    assert problem(tmp_path / "empty.mp3") == "empty file (0 bytes)"


def test_folder_named_like_audio(tmp_path: Path) -> None:
    (tmp_path / "x.mp3").mkdir()
    assert problem(tmp_path / "x.mp3") == "is a folder, not an audio file"


def test_corrupt_mp3(tmp_path: Path) -> None:
    reason = problem(make_corrupt_mp3(tmp_path / "corrupt.mp3"))
    assert reason.startswith("not playable audio: damaged, or not audio at all (ffprobe: ")
    assert str(tmp_path) not in reason  # the caller names the file once


def test_text_file_named_mp3(tmp_path: Path) -> None:
    (tmp_path / "notes.mp3").write_text("shopping list: nappies, coffee\n")
    assert problem(tmp_path / "notes.mp3").startswith("not playable audio")


@pytest.mark.skipif(os.geteuid() == 0, reason="root can read a chmod 000 file")
def test_unreadable_file(tmp_path: Path) -> None:
    path = make_tone(tmp_path / "locked.wav", 1.5)
    path.chmod(0)
    try:
        assert check_file(path) == "cannot be read (permission denied)"
    finally:
        path.chmod(0o600)


def test_ffprobe_json_without_audio_stream() -> None:
    with pytest.raises(UnplayableError, match="no audio stream"):
        parse_ffprobe_json('{"streams": [], "format": {"duration": "3.0"}}')


def test_ffprobe_json_without_duration_uses_the_stream() -> None:
    text = json.dumps(
        {
            "streams": [{"codec_type": "audio", "duration": "4.5", "tags": {"TITLE": "Song"}}],
            "format": {"duration": "N/A", "tags": {"ARTIST": "Band"}},
        }
    )
    info = parse_ffprobe_json(text)
    assert (info.duration_seconds, info.title, info.artist) == (4.5, "Song", "Band")


def test_ffprobe_json_without_any_duration() -> None:
    text = '{"streams": [{"codec_type": "audio"}], "format": {}}'
    with pytest.raises(UnplayableError, match="length is unknown"):
        parse_ffprobe_json(text)


def test_prober_caches_results_across_instances(tmp_path: Path) -> None:
    good = make_tone(tmp_path / "good.ogg", 1.5, title="Good")
    bad = make_corrupt_mp3(tmp_path / "bad.mp3")
    cache = tmp_path / "cache" / "probe.json"
    first = CountingRunner()
    prober = Prober(cache, first)
    assert prober.probe(good).title == "Good"
    with pytest.raises(UnplayableError):
        prober.probe(bad)
    prober.save()
    assert first.count("ffprobe") == 2

    stored = json.loads(cache.read_text())
    record = stored["entries"][str(good)]
    assert record["size"] == good.stat().st_size
    assert record["mtime_ns"] == good.stat().st_mtime_ns
    assert record["result"]["ok"] is True

    second = CountingRunner()
    again = Prober(cache, second)
    assert again.probe(good).title == "Good"
    with pytest.raises(UnplayableError, match="not playable audio"):
        again.probe(bad)
    assert second.calls == []


def test_changed_file_is_probed_again(tmp_path: Path) -> None:
    path = make_tone(tmp_path / "song.wav", 1.5)
    cache = tmp_path / "probe.json"
    prober = Prober(cache, CountingRunner())
    prober.probe(path)
    prober.save()
    make_tone(path, 3.0)  # same path, new size and mtime
    runner = CountingRunner()
    info = Prober(cache, runner).probe(path)
    assert abs(info.duration_seconds - 3.0) < 0.1
    assert runner.count("ffprobe") == 1


def test_damaged_cache_file_is_ignored(tmp_path: Path) -> None:
    cache = tmp_path / "probe.json"
    cache.write_text("{not json")
    path = make_tone(tmp_path / "song.wav", 1.5)
    runner = CountingRunner()
    prober = Prober(cache, runner)
    assert abs(prober.probe(path).duration_seconds - 1.5) < 0.1
    prober.save()
    assert str(path) in json.loads(cache.read_text())["entries"]


def test_missing_ffprobe_is_a_music_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = make_tone(tmp_path / "song.wav", 1.5)
    monkeypatch.setenv("PATH", str(tmp_path / "no-tools-here"))
    with pytest.raises(MusicError, match="ffprobe is not installed"):
        run_ffprobe(path)


def test_unreadable_file_simulated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Tests run as root, which reads chmod 000 files; pretend the permission check fails.
    path = make_tone(tmp_path / "locked.wav", 1.5)
    monkeypatch.setattr(os, "access", lambda *_args, **_kwargs: False)
    runner = CountingRunner()
    with pytest.raises(UnplayableError, match=r"^cannot be read \(permission denied\)$"):
        Prober(tmp_path / "probe.json", runner).probe(path)
    assert runner.calls == []
