"""EBU R128 loudness: measurement with ffmpeg, gain to the target, peak guard, cache."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from voiceguide.music.playlists.loudness import (
    PEAK_CEILING_DBFS,
    Loudness,
    LoudnessMeter,
    gain_db_for,
    measure_loudness,
    parse_ebur128_summary,
)
from voiceguide.music.playlists.probe import UnplayableError

from test_playlist_audio import CountingRunner, apply_gain, make_silence, make_tone

SUMMARY = """\
[Parsed_ebur128_1 @ 0x55] t: 2.9  TARGET:-23 LUFS  M: -32.2 S: -32.2  I: -32.2 LUFS
[Parsed_ebur128_1 @ 0x55] Summary:

  Integrated loudness:
    I:         -31.8 LUFS
    Threshold: -41.8 LUFS

  Loudness range:
    LRA:        20.0 LU
    Threshold: -51.8 LUFS
    LRA low:   -51.8 LUFS
    LRA high:  -31.8 LUFS

  True peak:
    Peak:      -28.1 dBFS
"""


def test_parse_summary_ignores_the_running_lines() -> None:
    assert parse_ebur128_summary(SUMMARY) == Loudness(-31.8, -28.1)


def test_parse_summary_of_silence() -> None:
    text = SUMMARY.replace("-31.8 LUFS\n    Threshold: -41.8", "-70.0 LUFS\n    Threshold: 0.0")
    loudness = parse_ebur128_summary(text.replace("-28.1 dBFS", "-inf dBFS"))
    assert loudness.integrated_lufs == -70.0
    assert loudness.peak_dbfs == -math.inf
    assert loudness.is_silent


def test_parse_without_summary_fails() -> None:
    with pytest.raises(ValueError, match="no ebur128 summary"):
        parse_ebur128_summary("Conversion failed!\n")


def test_gain_reaches_the_target() -> None:
    assert gain_db_for(Loudness(-30.0, -20.0), target_lufs=-20.0) == 10.0
    assert gain_db_for(Loudness(-12.0, -2.0), target_lufs=-20.0) == -8.0


def test_gain_is_limited_by_the_peak_ceiling() -> None:
    # Reaching -20 would need +15 dB, which would put the peak at +2 dBFS; -2 is the ceiling.
    assert gain_db_for(Loudness(-35.0, -13.0), target_lufs=-20.0) == 11.0
    assert gain_db_for(Loudness(-35.0, -13.0), peak_ceiling_dbfs=-3.0) == 10.0


def test_silence_gets_no_gain() -> None:
    assert gain_db_for(Loudness(-70.0, -math.inf)) == 0.0
    assert gain_db_for(Loudness(-math.inf, -math.inf)) == 0.0


def test_sines_20_db_apart_measure_20_lu_apart_and_gains_meet_the_target(
    tmp_path: Path,
) -> None:
    quiet = make_tone(tmp_path / "quiet.flac", 4.0, level_dbfs=-30.0)
    loud = make_tone(tmp_path / "loud.mp3", 4.0, level_dbfs=-10.0)
    quiet_loudness = measure_loudness(quiet)
    loud_loudness = measure_loudness(loud)
    assert loud_loudness.integrated_lufs - quiet_loudness.integrated_lufs == pytest.approx(
        20.0, abs=0.5
    )
    for name, source, loudness in (
        ("quiet", quiet, quiet_loudness),
        ("loud", loud, loud_loudness),
    ):
        gain_db = gain_db_for(loudness, target_lufs=-20.0)
        after = measure_loudness(apply_gain(source, tmp_path / f"{name}-gained.wav", gain_db))
        assert after.integrated_lufs == pytest.approx(-20.0, abs=0.5), name
        assert after.peak_dbfs <= PEAK_CEILING_DBFS + 0.1, name


def test_peak_guard_holds_on_real_audio(tmp_path: Path) -> None:
    # A target of 0 LUFS is unreachable for a -10 dBFS sine without clipping.
    loud = make_tone(tmp_path / "loud.wav", 3.0, level_dbfs=-10.0)
    loudness = measure_loudness(loud)
    gain_db = gain_db_for(loudness, target_lufs=0.0)
    assert gain_db == pytest.approx(PEAK_CEILING_DBFS - loudness.peak_dbfs, abs=0.01)
    after = measure_loudness(apply_gain(loud, tmp_path / "gained.wav", gain_db))
    assert after.peak_dbfs == pytest.approx(PEAK_CEILING_DBFS, abs=0.2)
    assert after.integrated_lufs < -1.0


def test_silent_file_measures_as_silent(tmp_path: Path) -> None:
    assert measure_loudness(make_silence(tmp_path / "silence.wav")).is_silent


def test_undecodable_file_is_unplayable(tmp_path: Path) -> None:
    (tmp_path / "junk.ogg").write_text("not audio")
    with pytest.raises(UnplayableError, match="cannot be decoded"):
        measure_loudness(tmp_path / "junk.ogg")


def test_meter_runs_ffmpeg_once_per_file_across_sessions(tmp_path: Path) -> None:
    tone = make_tone(tmp_path / "tone.ogg", 2.0, level_dbfs=-20.0)
    silence = make_silence(tmp_path / "silence.wav")
    cache = tmp_path / "cache" / "loudness.json"
    first_runner = CountingRunner()
    first = LoudnessMeter(cache, first_runner)
    measured = first.measure(tone)
    first.measure(silence)
    first.save()
    assert first_runner.count("ffmpeg") == 2

    entries = json.loads(cache.read_text())["entries"]
    record = entries[str(tone)]
    assert record["size"] == tone.stat().st_size
    assert record["mtime_ns"] == tone.stat().st_mtime_ns
    assert record["result"]["integrated_lufs"] == measured.integrated_lufs
    # -inf is not JSON: silence is stored as null and read back as -inf.
    assert entries[str(silence)]["result"]["peak_dbfs"] is None

    second_runner = CountingRunner()
    second = LoudnessMeter(cache, second_runner)
    assert second.measure(tone) == measured
    assert second.measure(silence).peak_dbfs == -math.inf
    assert second_runner.calls == []


def test_parse_takes_the_decoded_length_from_the_last_progress_report() -> None:
    """`-progress pipe:2` reports the decoded sound's length in microseconds; the last report
    is the whole file (7.3 s at 44.1 kHz: 321,930 frames)."""
    progress = "out_time_us=5000000\nprogress=continue\nout_time_us=7300000\nprogress=end\n"
    assert parse_ebur128_summary(SUMMARY + progress).decoded_frames == 321_930
    assert parse_ebur128_summary(SUMMARY).decoded_frames is None
