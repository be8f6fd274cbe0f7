"""Reading real-world M3U/M3U8/PLS files, and writing M3U8."""

from __future__ import annotations

from pathlib import Path

import pytest

from voiceguide.errors import BadInputError, MusicError
from voiceguide.music.playlists.entries import PlaylistEntry, parse_location, split_display_title
from voiceguide.music.playlists.m3u import format_m3u8, parse_m3u, write_m3u8
from voiceguide.music.playlists.playlistfile import read_playlist_file
from voiceguide.music.playlists.pls import parse_pls

DATA = Path(__file__).parent / "data" / "playlists"


def paths_of(entries: list[PlaylistEntry]) -> list[Path]:
    return [entry.path for entry in entries]


def test_extm3u_titles_lengths_and_relative_paths() -> None:
    parsed = parse_m3u(DATA / "extm3u.m3u8")
    assert parsed.warnings == []
    assert paths_of(parsed.entries) == [
        DATA / "Music/Nina Simone/Feeling Good.mp3",
        DATA / "Music/unknown.ogg",
        DATA / "Music/air.flac",
        DATA / "Music/no-extinf.m4a",
    ]
    first, unknown, air, bare = parsed.entries
    assert (first.title, first.duration_seconds, first.line) == (
        "Nina Simone - Feeling Good",
        215.0,
        3,
    )
    assert first.playlist == DATA / "extm3u.m3u8"
    assert (unknown.title, unknown.duration_seconds) == ("Unknown Length", None)
    assert (air.title, air.duration_seconds) == ("Bach - Air", 183.5)
    assert (bare.title, bare.duration_seconds) == (None, None)


def test_comments_and_blank_lines_are_ignored() -> None:
    parsed = parse_m3u(DATA / "comments.m3u")
    assert paths_of(parsed.entries) == [DATA / "song one.mp3", DATA / "indented.wav"]
    assert parsed.entries[0].title is None
    assert parsed.entries[1].title == "Ten Seconds"
    assert parsed.entries[1].line == 12
    assert parsed.warnings == []


def test_relative_paths_are_relative_to_the_playlist_folder() -> None:
    parsed = parse_m3u(DATA / "relative.m3u")
    assert paths_of(parsed.entries) == [
        DATA.parent / "albums/a.mp3",
        DATA / "sub/dir/b.ogg",
        DATA / "c.flac",
        DATA / "d.opus",
    ]


def test_relative_paths_use_the_playlist_folder_not_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert paths_of(parse_m3u(DATA / "relative.m3u").entries)[3] == DATA / "d.opus"


def test_absolute_paths(tmp_path: Path) -> None:
    # Absolute paths differ per machine, so this playlist is written here.
    music = tmp_path / "music"
    playlist = tmp_path / "lists" / "absolute.m3u"
    playlist.parent.mkdir()
    playlist.write_text(f"#EXTM3U\n{music}/a.mp3\n{music}/sub/../b.ogg\n", encoding="utf-8")
    assert paths_of(parse_m3u(playlist).entries) == [music / "a.mp3", music / "b.ogg"]


def test_file_uris_are_percent_decoded() -> None:
    parsed = parse_m3u(DATA / "fileuri.m3u8")
    assert paths_of(parsed.entries) == [
        Path("/srv/music/My Song #1.mp3"),
        Path("/srv/music/café.ogg"),
        Path("/srv/music/single-slash.flac"),
        Path("/srv/music/upper.mp3"),
    ]
    assert parsed.warnings == []


def test_crlf_line_endings() -> None:
    parsed = parse_m3u(DATA / "crlf.m3u")
    assert paths_of(parsed.entries) == [DATA / "one.mp3", DATA / "two.mp3"]
    assert parsed.entries[0].title == "Artist - One"
    assert parsed.entries[1].line == 5


def test_utf8_bom_is_dropped() -> None:
    parsed = parse_m3u(DATA / "bom.m3u8")
    assert paths_of(parsed.entries) == [DATA / "Björk/Jóga.mp3", DATA / "日本/曲.flac"]
    assert parsed.entries[0].title == "Björk - Jóga"
    assert parsed.warnings == []


def test_latin1_m3u_falls_back_silently() -> None:
    parsed = parse_m3u(DATA / "latin1.m3u")
    assert paths_of(parsed.entries) == [DATA / "Café Noël.mp3", DATA / "À bientôt.ogg"]
    assert parsed.entries[0].title == "Café Noël"
    assert parsed.warnings == []


def test_latin1_bytes_in_an_m3u8_are_read_with_a_warning(tmp_path: Path) -> None:
    playlist = tmp_path / "mislabelled.m3u8"
    playlist.write_bytes("#EXTM3U\nok.mp3\nCafé.mp3\n".encode("latin-1"))
    parsed = parse_m3u(playlist)
    assert paths_of(parsed.entries) == [tmp_path / "ok.mp3", tmp_path / "Café.mp3"]
    assert parsed.warnings == [
        f"{playlist}:3: not valid UTF-8; read the file as Latin-1 (Windows-1252)"
    ]


def test_windows_backslash_paths_are_converted() -> None:
    parsed = parse_m3u(DATA / "windows.m3u")
    assert paths_of(parsed.entries) == [
        DATA / "Music/Album/01 Intro.mp3",
        DATA.parent / "Other/x.flac",
    ]


def test_remote_urls_are_skipped_with_a_warning_naming_file_and_line() -> None:
    source = DATA / "remote.m3u"
    parsed = parse_m3u(source)
    assert paths_of(parsed.entries) == [DATA / "local.mp3", DATA / "other.mp3"]
    assert parsed.warnings == [
        f"{source}:3: skipped http://radio.example.com/stream.mp3: only local files are "
        "played (http links are not fetched)",
        f"{source}:5: skipped https://example.com/a.ogg: only local files are played "
        "(https links are not fetched)",
        f"{source}:6: skipped rtsp://example.com/live: only local files are played "
        "(rtsp links are not fetched)",
    ]
    # The #EXTINF before a skipped URL does not leak onto the next local entry.
    assert parsed.entries[1].title is None


def test_binary_garbage_is_a_music_error_naming_file_and_line() -> None:
    source = DATA / "garbage.m3u"
    with pytest.raises(MusicError) as caught:
        parse_m3u(source)
    assert str(caught.value) == f"{source}:3: not a playlist: binary data on this line"
    assert "\n" not in str(caught.value)


def test_pls_entries_in_number_order_with_titles_and_lengths() -> None:
    source = DATA / "basic.pls"
    parsed = parse_pls(source)
    assert paths_of(parsed.entries) == [
        DATA / "first.mp3",
        DATA / "sub/second.flac",
        DATA / "third.ogg",
    ]
    first, second, third = parsed.entries
    assert (first.title, first.duration_seconds, first.line) == ("First Song", 120.0, 2)
    assert (second.title, second.duration_seconds, second.line) == ("Second", None, 6)
    assert (third.title, third.line) == (None, 5)
    assert parsed.warnings == [
        f"{source}:9: skipped http://example.com/stream: only local files are played "
        "(http links are not fetched)"
    ]


def test_pls_without_playlist_section_is_a_music_error() -> None:
    source = DATA / "nosection.pls"
    with pytest.raises(MusicError, match=r"nosection\.pls:2: not a PLS playlist"):
        parse_pls(source)


def test_binary_pls_is_a_music_error_naming_the_line() -> None:
    with pytest.raises(MusicError, match=r"garbage\.pls:2: not a playlist: binary data"):
        parse_pls(DATA / "garbage.pls")


def test_empty_pls_is_a_music_error(tmp_path: Path) -> None:
    source = tmp_path / "empty.pls"
    source.write_text("")
    with pytest.raises(MusicError, match=r"empty\.pls:1: not a PLS playlist"):
        parse_pls(source)


def test_read_playlist_file_dispatches_by_extension(tmp_path: Path) -> None:
    assert len(read_playlist_file(DATA / "basic.pls").entries) == 3
    assert len(read_playlist_file(DATA / "crlf.m3u").entries) == 2
    with pytest.raises(BadInputError, match="not a playlist file"):
        read_playlist_file(tmp_path / "songs.txt")


def test_unreadable_playlist_is_a_music_error(tmp_path: Path) -> None:
    with pytest.raises(MusicError, match="cannot read playlist"):
        parse_m3u(tmp_path / "nowhere.m3u")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("C:\\Music\\a.mp3", "C:/Music/a.mp3"),
        ("file:///C:/Music/a.mp3", "C:/Music/a.mp3"),
        ("~/Music/a.mp3", str(Path("~/Music/a.mp3").expanduser())),
    ],
)
def test_locations_that_are_not_plain_posix_paths(text: str, expected: str) -> None:
    base = Path("/base")
    assert parse_location(text, base) == Path("/base") / expected


def test_split_display_title() -> None:
    assert split_display_title("Nina Simone - Feeling Good") == ("Nina Simone", "Feeling Good")
    assert split_display_title("Just a title") == (None, "Just a title")
    assert split_display_title(" - odd") == (None, "- odd")
    assert split_display_title(None) == (None, None)


def test_written_m3u8_reads_back_the_same(tmp_path: Path) -> None:
    entries = [
        PlaylistEntry(tmp_path / "music/Björk - Jóga.mp3", "Björk - Jóga", 305.4),
        PlaylistEntry(Path("/elsewhere/x, y.flac"), None, None),
    ]
    target = tmp_path / "music" / "out.m3u8"
    write_m3u8(target, entries)
    assert target.read_text(encoding="utf-8") == (
        "#EXTM3U\n"
        f"#EXTINF:305,Björk - Jóga\n{tmp_path}/music/Björk - Jóga.mp3\n"
        "#EXTINF:-1,x, y\n/elsewhere/x, y.flac\n"
    )
    back = parse_m3u(target).entries
    assert paths_of(back) == paths_of(entries)
    assert [entry.title for entry in back] == ["Björk - Jóga", "x, y"]
    assert [entry.duration_seconds for entry in back] == [305.0, None]


def test_format_relative_to_a_folder_writes_inside_files_relative(tmp_path: Path) -> None:
    entries = [
        PlaylistEntry(tmp_path / "music/sub/a.mp3", "A", 10.0),
        PlaylistEntry(tmp_path / "other/b.mp3", "B", 10.0),
    ]
    text = format_m3u8(entries, relative_to=tmp_path / "music")
    assert text.splitlines()[2] == "sub/a.mp3"
    assert text.splitlines()[4] == f"{tmp_path}/other/b.mp3"


def test_title_with_newline_is_written_on_one_line(tmp_path: Path) -> None:
    text = format_m3u8([PlaylistEntry(tmp_path / "a.mp3", "two\nlines", 3.0)])
    assert text.splitlines()[1] == "#EXTINF:3,two lines"
