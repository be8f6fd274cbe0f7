"""resolve_tracks: names, playlist files, audio files and folders to playable Tracks."""

from __future__ import annotations

from pathlib import Path

import pytest

from voiceguide.audioformat import MIX_RATE_HZ
from voiceguide.errors import BadInputError, MusicError
from voiceguide.music.playlists import PlaylistStore, resolve_tracks, shuffle_tracks
from voiceguide.music.playlists.entries import PlaylistEntry
from voiceguide.music.track import Track
from voiceguide.paths import Paths

from test_playlist_audio import CountingRunner, make_corrupt_mp3, make_silence, make_tone


@pytest.fixture
def paths() -> Paths:
    return Paths.from_environment()


@pytest.fixture
def music(tmp_path: Path) -> Path:
    folder = tmp_path / "music"
    make_tone(folder / "01 Quiet.flac", 2.0, level_dbfs=-30.0, title="Quiet", artist="Low")
    make_tone(folder / "02 Loud.mp3", 3.0, level_dbfs=-10.0)
    make_tone(folder / "disc 2" / "03 Mid.ogg", 1.5, level_dbfs=-20.0, title="Mid")
    return folder


def test_folder_gives_tracks_in_order_with_frames_gains_and_tags(music: Path, paths: Paths) -> None:
    tracks, warnings = resolve_tracks(music, paths)
    assert warnings == []
    assert [track.path for track in tracks] == [
        music / "01 Quiet.flac",
        music / "02 Loud.mp3",
        music / "disc 2" / "03 Mid.ogg",
    ]
    quiet, loud, mid = tracks
    assert abs(quiet.duration_frames - 2 * MIX_RATE_HZ) < 0.1 * MIX_RATE_HZ
    assert abs(loud.duration_frames - 3 * MIX_RATE_HZ) < 0.1 * MIX_RATE_HZ
    assert (quiet.title, quiet.artist) == ("Quiet", "Low")
    assert (loud.title, loud.artist) == (None, None)
    assert mid.title == "Mid"
    # 20 dB apart in level, so about 20 dB apart in gain; both are turned towards -20 LUFS.
    assert quiet.gain_db - loud.gain_db == pytest.approx(20.0, abs=0.5)
    assert quiet.gain_db > 0 > loud.gain_db


def test_target_lufs_shifts_every_gain(music: Path, paths: Paths) -> None:
    default, _ = resolve_tracks(music, paths)
    quieter, _ = resolve_tracks(music, paths, target_lufs=-26.0)
    for a, b in zip(default, quieter, strict=True):
        assert a.gain_db - b.gain_db == pytest.approx(6.0, abs=0.01)


def test_second_resolve_runs_no_tools(music: Path, paths: Paths) -> None:
    first = CountingRunner()
    tracks, _ = resolve_tracks(music, paths, run=first)
    assert first.count("ffprobe") == 3
    assert first.count("ffmpeg") == 3
    assert (paths.cache_dir / "probe.json").is_file()
    assert paths.loudness_cache_file.is_file()

    second = CountingRunner()
    again, _ = resolve_tracks(str(music), paths, run=second)
    assert again == tracks
    assert second.calls == []


def test_unplayable_entries_are_skipped_with_one_warning_each(tmp_path: Path, paths: Paths) -> None:
    good = make_tone(tmp_path / "good.mp3", 2.0)
    short = make_tone(tmp_path / "short.wav", 0.5)
    corrupt = make_corrupt_mp3(tmp_path / "corrupt.mp3")
    text = tmp_path / "text.mp3"
    text.write_text("this is not music\n")
    empty = tmp_path / "empty.mp3"
    empty.write_bytes(b"")
    folder = tmp_path / "folder.mp3"
    folder.mkdir()
    silent = make_silence(tmp_path / "silent.wav")
    missing = tmp_path / "missing.ogg"
    also_good = make_tone(tmp_path / "also good.ogg", 1.5)
    playlist = tmp_path / "mixed.m3u8"
    lines = [good, short, corrupt, text, empty, folder, silent, missing, also_good]
    playlist.write_text("#EXTM3U\n" + "".join(f"{path}\n" for path in lines), encoding="utf-8")

    tracks, warnings = resolve_tracks(playlist, paths)
    assert [track.path for track in tracks] == [good, also_good]
    assert len(warnings) == 7
    expected = {
        3: (short, "too short (0.50 s; tracks under 1 s are skipped)"),
        4: (corrupt, "not playable audio: damaged, or not audio at all"),
        5: (text, "not playable audio: damaged, or not audio at all"),
        6: (empty, "empty file (0 bytes)"),
        7: (folder, "is a folder, not an audio file"),
        8: (silent, "silent (no measurable loudness)"),
        9: (missing, "file not found"),
    }
    for warning, (line, (path, why)) in zip(warnings, sorted(expected.items()), strict=True):
        assert warning.startswith(f"{playlist}:{line}: {path}: skipped: {why}")


def test_stored_playlist_by_name(music: Path, paths: Paths) -> None:
    PlaylistStore(paths).save("evening", [PlaylistEntry(music / "02 Loud.mp3")])
    tracks, warnings = resolve_tracks("evening", paths)
    assert [track.path for track in tracks] == [music / "02 Loud.mp3"]
    assert warnings == []


def test_name_wins_over_a_same_named_folder_for_str_but_not_for_path(
    music: Path, paths: Paths, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(music.parent)
    PlaylistStore(paths).save("music", [PlaylistEntry(music / "02 Loud.mp3")])
    by_name, _ = resolve_tracks("music", paths)
    by_path, _ = resolve_tracks(Path("music"), paths)
    assert len(by_name) == 1
    assert len(by_path) == 3


def test_single_audio_file(music: Path, paths: Paths) -> None:
    tracks, _ = resolve_tracks(music / "disc 2" / "03 Mid.ogg", paths)
    assert [track.title for track in tracks] == ["Mid"]


def test_pls_file_with_titles_used_when_files_have_no_tags(music: Path, paths: Paths) -> None:
    playlist = music / "list.pls"
    playlist.write_text(
        "[playlist]\nFile1=02 Loud.mp3\nTitle1=Someone - Loud Song\nNumberOfEntries=1\n"
    )
    tracks, _ = resolve_tracks(playlist, paths)
    assert (tracks[0].artist, tracks[0].title) == ("Someone", "Loud Song")


def test_remote_entries_warn_and_local_ones_play(music: Path, paths: Paths) -> None:
    playlist = music / "radio.m3u"
    playlist.write_text("02 Loud.mp3\nhttps://example.com/stream\n")
    tracks, warnings = resolve_tracks(playlist, paths)
    assert len(tracks) == 1
    assert warnings == [
        f"{playlist}:2: skipped https://example.com/stream: only local files are played "
        "(https links are not fetched)"
    ]


def test_nothing_playable_is_an_empty_list_with_warnings(tmp_path: Path, paths: Paths) -> None:
    (tmp_path / "empty").mkdir()
    tracks, warnings = resolve_tracks(tmp_path / "empty", paths)
    assert tracks == []
    assert warnings == [f"{tmp_path / 'empty'}: no playable tracks"]


def test_unknown_name_lists_the_playlists(paths: Paths) -> None:
    store = PlaylistStore(paths)
    store.save("morning", [])
    store.save("Evening 2", [])
    with pytest.raises(BadInputError) as caught:
        resolve_tracks("nigth", paths)
    assert str(caught.value) == (
        "no playlist named 'nigth' and no file or folder of that name; "
        "playlists: Evening 2, morning"
    )


def test_unknown_name_without_playlists_says_how_to_make_one(paths: Paths) -> None:
    with pytest.raises(BadInputError, match="no playlists yet"):
        resolve_tracks("chill", paths)


def test_missing_path_and_wrong_kind_of_file(tmp_path: Path, paths: Paths) -> None:
    with pytest.raises(BadInputError, match="no such file or folder"):
        resolve_tracks(str(tmp_path / "nowhere"), paths)
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(BadInputError, match="not an audio file, playlist or folder"):
        resolve_tracks(tmp_path / "notes.txt", paths)


def test_garbage_playlist_is_a_music_error(tmp_path: Path, paths: Paths) -> None:
    garbage = tmp_path / "garbage.m3u8"
    garbage.write_bytes(b"#EXTM3U\n\x00\x01\x02")
    with pytest.raises(MusicError, match=r"garbage\.m3u8:2: "):
        resolve_tracks(garbage, paths)


def test_shuffle_is_deterministic_per_seed() -> None:
    tracks = [Track(Path(f"/m/{index}.mp3"), 44_100) for index in range(20)]
    once = shuffle_tracks(tracks, 7)
    assert once == shuffle_tracks(tracks, 7)
    assert once != tracks
    assert sorted(once, key=lambda track: track.path.name) == sorted(
        tracks, key=lambda track: track.path.name
    )
    assert shuffle_tracks(tracks, 8) != once
    assert [track.path for track in tracks][:2] == [Path("/m/0.mp3"), Path("/m/1.mp3")]
