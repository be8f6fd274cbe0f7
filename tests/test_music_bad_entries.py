"""A playlist with missing, corrupt, non-audio and empty entries still gives a whole session
with the music of its good entries, one warning line per bad entry; with nothing playable,
the bundled music plays and the user is told."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from voiceguide.music import bundled

from audio_helpers import read_wav
from cli_helpers import invoke
from test_music_formats import (
    decode_pcm,
    demo_session,
    expected_music,
    full_level_mask,
    make_pink,
    music_only,
    span_mask,
)
from test_playlist_audio import make_corrupt_mp3

RATE = 44_100
BAD = ("missing.mp3", "corrupt.mp3", "notes.mp3", "empty.mp3")


def make_bad_entries(folder: Path) -> None:
    """missing.mp3 is only named; the others exist but cannot be played."""
    make_corrupt_mp3(folder / "corrupt.mp3")  # random bytes
    (folder / "notes.mp3").write_text("Shopping list: milk, bread.\n" * 50, encoding="utf-8")
    (folder / "empty.mp3").write_bytes(b"")


def render(playlist: Path, folder: Path) -> tuple[list[str], str, np.ndarray, dict]:
    """CLI render of the demo: (warning lines, stderr, samples, plan json); exit code 0."""
    out, cues = folder / "session.wav", folder / "plan.json"
    result = invoke(
        "render", "--routine", "demo", "--playlist", str(playlist), "-o", str(out),
        "--cues-json", str(cues),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    lines = result.stderr.splitlines()
    assert "Traceback" not in result.stderr
    assert not any(line.startswith("error") for line in lines), result.stderr
    # Each bad entry is named on one line only, and that line is a whole warning.
    for name in BAD:
        naming = [line for line in lines if name in line]
        assert len(naming) == 1, (name, naming)
        assert naming[0].startswith("warning: ") and "skipped" in naming[0], naming[0]
    samples, rate = read_wav(out)
    assert rate == RATE
    warnings = [line for line in lines if line.startswith("warning: ")]
    return warnings, result.stderr, samples, json.loads(cues.read_text())


def test_bad_entries_are_skipped_and_the_good_ones_play(tmp_path: Path) -> None:
    music = tmp_path / "music"
    music.mkdir()
    make_bad_entries(music)
    good = [
        make_pink(music / "rain.ogg", 20, 0.3, (7, 8)),
        make_pink(music / "waves.flac", 20, 0.1, (9, 10)),
    ]
    playlist = music / "mixed.m3u8"
    playlist.write_text(
        "#EXTM3U\nmissing.mp3\nrain.ogg\ncorrupt.mp3\nnotes.mp3\nempty.mp3\nwaves.flac\n",
        encoding="utf-8",
    )
    warnings, stderr, written, plan_json = render(playlist, tmp_path)
    assert len(warnings) == len(BAD), warnings
    assert not any("rain.ogg" in w or "waves.flac" in w for w in warnings)
    assert "with 2 tracks from" in stderr

    session, api_warnings = demo_session(str(playlist))
    assert ["warning: " + w for w in api_warnings] == warnings
    plan, stream = session.plan, session.music
    assert [t.path for t in stream.tracks] == good
    assert plan.to_json() == plan_json
    assert len(written) == plan.total_frames  # the whole session
    music_layer = music_only(session).render(0, plan.total_frames)
    whole = session.renderer.render(0, plan.total_frames)
    session.close()
    assert whole.tobytes() == written.tobytes()  # the file is this session, music and all

    # The music is the two good tracks (crossfaded at music 17-20 s), at their gains.
    assert not music_layer[~span_mask(plan)].any()
    sources = [decode_pcm(path) for path in good]
    full = full_level_mask(plan)
    for span in plan.music_spans:
        n = span.end_frame - span.start_frame
        model = expected_music(sources, stream.tracks, stream.crossfade_frames, span.music_frame, n)
        keep = full[span.start_frame : span.end_frame]
        got = music_layer[span.start_frame : span.end_frame][keep].astype(np.float64)
        assert np.abs(got - model[keep] * 32767).max() <= 1.0
    second = plan.music_spans[1]
    assert second.music_frame + second.end_frame - second.start_frame > 20 * RATE  # both play


def test_nothing_playable_falls_back_to_the_bundled_music(tmp_path: Path) -> None:
    make_bad_entries(tmp_path)
    playlist = tmp_path / "broken.m3u8"
    playlist.write_text("".join(f"{name}\n" for name in BAD), encoding="utf-8")
    warnings, stderr, written, _ = render(playlist, tmp_path)
    told = [w for w in warnings if "bundled music" in w]
    assert len(told) == 1 and str(playlist) in told[0], warnings
    assert "with the bundled music" in stderr

    session, _ = demo_session(str(playlist))
    plan, stream = session.plan, session.music
    assert session.music_description == "the bundled music"
    (bed,) = stream.tracks
    assert bed.path == bundled.bed_path()
    music_layer = music_only(session).render(0, plan.total_frames)
    whole = session.renderer.render(0, plan.total_frames)
    session.close()
    assert whole.tobytes() == written.tobytes()

    full = full_level_mask(plan)
    assert np.abs(music_layer[full]).max() > 1000  # music, not silence
    pcm = decode_pcm(bed.path)
    for span in plan.music_spans:
        n = span.end_frame - span.start_frame
        model = expected_music([pcm], [bed], stream.crossfade_frames, span.music_frame, n)
        keep = full[span.start_frame : span.end_frame]
        got = music_layer[span.start_frame : span.end_frame][keep].astype(np.float64)
        assert np.abs(got - model[keep] * 32767).max() <= 1.0
