"""Music from mp3, ogg and flac files made here: the rendered music is the source, sample for
sample, at the track's loudness gain; silence outside the music spans.

The helpers here (sources, decoding, the reference model of the looped stream, the music-only
renderer) are also used by the other test_music_* modules.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from voiceguide.config import Config
from voiceguide.mix.plan import Plan
from voiceguide.mix.prepare import Session, SessionOptions, prepare_session
from voiceguide.mix.renderer import Renderer
from voiceguide.music.track import Track
from voiceguide.paths import Paths

from audio_helpers import read_wav
from cli_helpers import invoke

RATE = 44_100
MUSIC_ONLY = frozenset({"music"})
# Left and right carry different tones, so a swapped or mixed-down channel shows.
LEFT = "0.30*sin(2*PI*440*t)+0.10*sin(2*PI*1250*t)"
RIGHT = "0.25*sin(2*PI*660*t+1)+0.10*sin(2*PI*97*t)"


def ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", *args], check=True)


def make_stereo(path: Path, seconds: float = 20.0) -> Path:
    """A stereo signal with distinct content per channel, encoded by the file's extension."""
    source = f"aevalsrc={LEFT}|{RIGHT}:s={RATE}:d={seconds}"
    ffmpeg("-f", "lavfi", "-i", source, "-y", str(path))
    return path


def make_pink(path: Path, seconds: float, amplitude: float, seeds: tuple[int, int]) -> Path:
    """Stereo pink noise, a different noise on each side."""
    noise = "anoisesrc=color=pink:amplitude={a}:seed={s}:d={d}:r={r}"
    ffmpeg(
        "-f", "lavfi", "-i", noise.format(a=amplitude, s=seeds[0], d=seconds, r=RATE),
        "-f", "lavfi", "-i", noise.format(a=amplitude, s=seeds[1], d=seconds, r=RATE),
        "-filter_complex", "[0][1]amerge=inputs=2", "-ac", "2", "-y", str(path),
    )  # fmt: skip
    return path


def decode_pcm(path: Path) -> np.ndarray:
    """The whole file as ffmpeg decodes it to the mix format: int16, shape (frames, 2)."""
    done = subprocess.run(
        ["ffmpeg", "-nostdin", "-v", "error", "-i", str(path), "-map", "0:a:0",
         "-f", "s16le", "-ac", "2", "-ar", str(RATE), "pipe:1"],
        capture_output=True, check=True,
    )  # fmt: skip
    return np.frombuffer(done.stdout, dtype="<i2").reshape(-1, 2)


def integrated_lufs(path: Path) -> float:
    """ffmpeg's EBU R128 integrated loudness of a file (the test's own measurement)."""
    done = subprocess.run(
        ["ffmpeg", "-nostdin", "-hide_banner", "-nostats", "-i", str(path),
         "-af", f"aformat=sample_rates={RATE}:channel_layouts=stereo,ebur128",
         "-f", "null", "-"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    summary = done.stderr[done.stderr.rfind("Summary:") :]
    line = next(x for x in summary.splitlines() if x.strip().startswith("I:"))
    return float(line.split()[1])


def expected_music(
    sources: Sequence[np.ndarray],
    tracks: Sequence[Track],
    crossfade_frames: int,
    music_frame: int,
    n_frames: int,
) -> np.ndarray:
    """An independent model of the looped music stream, float64 (n, 2) in full-scale units.

    Track k starts where track k-1's fade-out starts; fades are equal-power (sin in, cos out)
    over min(crossfade, half of either track); each track is scaled by its gain.
    """
    out = np.zeros((n_frames, 2))
    end = music_frame + n_frames
    start, k, count = 0, 0, len(tracks)
    while start < end:
        track, source = tracks[k % count], sources[k % count]
        length = track.duration_frames
        previous, following = tracks[(k - 1) % count], tracks[(k + 1) % count]
        fade_in = 0 if k == 0 else min(crossfade_frames, previous.duration_frames // 2, length // 2)
        fade_out = min(crossfade_frames, length // 2, following.duration_frames // 2)
        a, b = max(music_frame, start), min(end, start + length)
        if b > a:
            pos = np.arange(a - start, b - start)
            samples = np.zeros((len(pos), 2))
            held = pos < len(source)  # a file may end before its probed length
            samples[held] = source[pos[held]]
            weight = np.ones(len(pos))
            if fade_in:
                x = pos < fade_in
                weight[x] *= np.sin(np.pi / 2 * (pos[x] + 0.5) / fade_in)
            if fade_out:
                x = pos >= length - fade_out
                weight[x] *= np.cos(np.pi / 2 * (pos[x] - (length - fade_out) + 0.5) / fade_out)
            gain = 10 ** (track.gain_db / 20) / 32768
            out[a - music_frame : b - music_frame] += samples * (weight * gain)[:, None]
        start += length - fade_out
        k += 1
    return out


def full_level_mask(plan: Plan) -> np.ndarray:
    """Frames where music plays at its full level: inside a span, after its fade-in, before its
    fade-out, and outside every duck (from the plan's numbers, not from the envelope code)."""
    mask = np.zeros(plan.total_frames, dtype=bool)
    for span in plan.music_spans:
        length = span.end_frame - span.start_frame
        fade_in = min(plan.music_fade_in_frames, length // 2)
        fade_out = min(plan.music_fade_out_frames, length // 2)
        mask[span.start_frame + fade_in : span.end_frame - fade_out] = True
    for duck in plan.duck_spans:
        mask[duck.down_frame : duck.up_frame] = False
    return mask


def span_mask(plan: Plan) -> np.ndarray:
    mask = np.zeros(plan.total_frames, dtype=bool)
    for span in plan.music_spans:
        mask[span.start_frame : span.end_frame] = True
    return mask


def demo_session(music: str, config: Config | None = None) -> tuple[Session, list[str]]:
    """The demo routine as `voiceguide render` prepares it (first-run intro included)."""
    warnings: list[str] = []
    options = SessionOptions(routine="demo", music=music, include_first_run=True)
    session = prepare_session(
        config or Config(), options, Paths.from_environment(), warnings.append
    )
    return session, warnings


def music_only(session: Session) -> Renderer:
    return Renderer(
        session.plan,
        session.voice.clip,
        session.chime,
        session.end_chime,
        session.music,
        session.levels,
        layers=MUSIC_ONLY,
    )


def correlation(a: np.ndarray, b: np.ndarray) -> float:
    a, b = a.astype(np.float64), b.astype(np.float64)
    return float(np.corrcoef(a, b)[0, 1])


@pytest.mark.parametrize("suffix", [".mp3", ".ogg", ".flac"])
def test_rendered_music_is_the_source_at_its_gain(tmp_path: Path, suffix: str) -> None:
    source = make_stereo(tmp_path / f"music{suffix}")
    out, cues = tmp_path / "demo.wav", tmp_path / "plan.json"
    result = invoke(
        "render", "--routine", "demo", "--music", str(source), "-o", str(out),
        "--cues-json", str(cues),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr and "warning" not in result.stderr
    assert "with 1 track from" in result.stderr

    session, warnings = demo_session(str(source))
    assert warnings == []
    plan = session.plan
    assert json.loads(cues.read_text())["cues"] == plan.to_json()["cues"]
    assert len(plan.music_spans) == 2
    (track,) = session.music.tracks
    # The gain is the one that brings this file to the -20 LUFS music target.
    assert abs(track.gain_db - (-20.0 - integrated_lufs(source))) < 0.2, track.gain_db
    music = music_only(session).render(0, plan.total_frames)
    session.close()

    # No music at all outside the spans.
    inside = span_mask(plan)
    assert not music[~inside].any()

    # At full level, every sample is the decoded source x the track's gain (to the LSB),
    # in both spans: the second one includes the track looping into itself (crossfade).
    pcm = decode_pcm(source)
    full = full_level_mask(plan)
    assert full.sum() > 12 * RATE
    for span in plan.music_spans:
        n = span.end_frame - span.start_frame
        model = expected_music([pcm], [track], session.music.crossfade_frames, span.music_frame, n)
        keep = full[span.start_frame : span.end_frame]
        got = music[span.start_frame : span.end_frame][keep].astype(np.float64)
        want = model[keep] * 32767
        assert keep.sum() > 4 * RATE
        assert np.abs(got - want).max() <= 1.0
        for channel in (0, 1):
            assert correlation(got[:, channel], want[:, channel]) > 0.999
            assert abs(correlation(got[:, channel], want[:, 1 - channel])) < 0.1  # not swapped

    # Before the first loop point the level ratio to the plain decoded file is the gain.
    first = plan.music_spans[0]
    frames = np.flatnonzero(full[first.start_frame : first.end_frame])
    at = first.music_frame + frames
    assert at.max() < track.duration_frames - session.music.crossfade_frames
    got = music[first.start_frame + frames].astype(np.float64)
    plain = pcm[at].astype(np.float64)
    ratio = float((got * plain).sum() / (plain * plain).sum())
    assert ratio == pytest.approx(10 ** (track.gain_db / 20) * 32767 / 32768, rel=1e-3)

    # The file the CLI wrote has exactly this music wherever nothing else sounds.
    written, rate = read_wav(out)
    assert rate == RATE and len(written) == plan.total_frames
    quiet = inside.copy()
    for cue in plan.cues:
        quiet[cue.start_frame : cue.end_frame] = False
    assert quiet.sum() > 10 * RATE
    assert np.array_equal(written[quiet], music[quiet])
