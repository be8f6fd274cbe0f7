"""Issue 4: a long playlist must cost no more memory than one track; loudness analysis time.

Test audio: 40 generated 3-minute mp3s (2 hours; each a different tone pair and level, from
-6 to +12 dB around the generator's default), cached in bench/out/audio/playlist/.
Playlists are .m3u8 files listing them: all 40, or only the first one.

1. Peak memory (getrusage of the Python process) of `voiceguide render --routine
   hands-on-pumping --music PLAYLIST -o out.wav`, for the 40-track and the 1-track playlist,
   with the loudness/probe caches cold (voice clips cached, so only the playlist differs) and
   warm. Target: the two within 10 MB of each other.
2. Loudness analysis time per hour of music: `resolve_tracks` on the 40-track playlist in a
   fresh VOICEGUIDE_HOME (cold: ffprobe + EBU R128 per file, in the analyser's worker
   threads), then again (cached). Baselines in the same run: ffmpeg decoding the same 40
   files to s16le 44.1 kHz stereo (/dev/null), as many at a time as the analyser runs
   (min(4, nproc)), and one after another; and, to show where the time goes, the analyser's
   own ffmpeg ebur128 command run without Python, as it is and with peak=true.

    .venv/bin/python bench/playlist_memory.py [--reps N] [--quick]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (
    AUDIO_CACHE,
    RATE,
    ChildRun,
    generate_many,
    load_average,
    median,
    print_table,
    remove,
    run_measured,
    run_timed,
    scratch_dir,
    spread,
    verdict,
    voiceguide_env,
    write_result,
)

ROUTINE = "hands-on-pumping"
TRACKS = 40
TRACK_SECONDS = 180.0
TARGET_MB = 10.0


def track_specs() -> list[tuple[Path, dict[str, object]]]:
    specs = []
    for i in range(TRACKS):
        level = -6.0 + (i * 7) % 19  # -6 .. +12 dB, shuffled
        specs.append(
            (
                AUDIO_CACHE / "playlist" / f"track-{i + 1:02d}-v2.mp3",
                {
                    "seconds": TRACK_SECONDS,
                    "freqs": (110.0 + 13 * i, 165.0 + 17 * i),
                    "noise": 0.04 + 0.002 * i,
                    "level_db": level,
                    "seed": 100 + i,
                },
            )
        )
    return specs


def write_playlist(path: Path, files: list[Path]) -> Path:
    lines = ["#EXTM3U"]
    for index, file in enumerate(files):
        lines += [f"#EXTINF:{TRACK_SECONDS:.0f},Bench - Track {index + 1}", str(file)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def workers() -> int:
    """What the analyser uses (voiceguide.music.playlists.analyse.DEFAULT_WORKERS = 4)."""
    return min(4, os.cpu_count() or 1)


def in_parallel(commands: list[list[str]], n: int) -> float:
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=n) as pool:
        list(pool.map(run_timed, commands))
    return time.perf_counter() - started


def decode_command(path: Path) -> list[str]:
    return [
        "ffmpeg",
        "-nostdin",
        "-v",
        "error",
        "-i",
        str(path),
        "-f",
        "s16le",
        "-ac",
        "2",
        "-ar",
        str(RATE),
        "-y",
        "/dev/null",
    ]


def ebur128_commands(files: list[Path], peak: str | None = None) -> list[list[str]]:
    """The analyser's own ffmpeg ebur128 command per file; `peak` swaps its peak mode."""
    from voiceguide.music.playlists.loudness import ebur128_command

    commands = []
    for path in files:
        command = ebur128_command(path)
        if peak is not None:
            command = [re.sub(r"ebur128=peak=\w+", f"ebur128=peak={peak}", a) for a in command]
        commands.append(command)
    return commands


def analyser_peak_mode() -> str:
    from voiceguide.music.playlists.loudness import ebur128_command

    match = re.search(r"ebur128=peak=(\w+)", " ".join(ebur128_command(Path("x.mp3"))))
    return match.group(1) if match else "?"


def child_resolve(playlist: str) -> None:
    """In a fresh home: resolve_tracks twice (cold, then cached); print the times as JSON."""
    from voiceguide.music.playlists.resolve import resolve_tracks
    from voiceguide.paths import Paths

    paths = Paths.from_environment()
    started = time.perf_counter()
    tracks, _ = resolve_tracks(playlist, paths)
    first = time.perf_counter() - started
    started = time.perf_counter()
    again, _ = resolve_tracks(playlist, paths)
    second = time.perf_counter() - started
    assert len(again) == len(tracks)
    frames = sum(t.duration_frames for t in tracks)
    gains = [t.gain_db for t in tracks]
    print(
        json.dumps(
            {
                "first_s": first,
                "second_s": second,
                "tracks": len(tracks),
                "music_s": frames / RATE,
                "gains_db": gains,
            }
        )
    )


def render(home: Path, playlist: Path) -> ChildRun:
    home.mkdir(parents=True, exist_ok=True)  # render writes only into a folder that exists
    run = run_measured(
        [
            "-m",
            "voiceguide",
            "render",
            "--routine",
            ROUTINE,
            "--music",
            str(playlist),
            "-o",
            str(home / "session.wav"),
        ],
        env=voiceguide_env(home),
    )
    if run.returncode != 0:
        raise RuntimeError(f"render failed ({run.returncode}): {run.stderr[-2000:]}")
    (home / "session.wav").unlink(missing_ok=True)
    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reps", type=int, default=None, help="repetitions (default 3)")
    parser.add_argument("--quick", action="store_true", help="one repetition of each")
    parser.add_argument("--child-resolve", metavar="PLAYLIST", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_resolve:
        child_resolve(args.child_resolve)
        return
    reps = args.reps or (1 if args.quick else 3)

    specs = track_specs()
    generate_many(specs)
    files = [path for path, _ in specs]
    folder = scratch_dir("playlist-")
    many = write_playlist(folder / "forty.m3u8", files)
    one = write_playlist(folder / "one.m3u8", files[:1])
    load_before = load_average()
    print(
        f"{TRACKS} x {TRACK_SECONDS / 60:.0f} min tracks; x{reps}; load {load_before:.2f}",
        flush=True,
    )

    # Voice clips made once, copied into every fresh home: only the playlist caches are cold.
    voices = folder / "voices"
    render(voices, one)
    memory: dict[str, dict[str, list[ChildRun]]] = {
        "1 track": {"cold": [], "warm": []},
        f"{TRACKS} tracks": {"cold": [], "warm": []},
    }
    try:
        for index in range(reps):
            for label, playlist in (("1 track", one), (f"{TRACKS} tracks", many)):
                home = folder / f"home-{label.split()[0]}-{index}"
                shutil.copytree(voices / "cache" / "voice", home / "cache" / "voice")
                memory[label]["cold"].append(render(home, playlist))
                memory[label]["warm"].append(render(home, playlist))
                print(
                    f"  {label}: cold {memory[label]['cold'][-1].self_maxrss_mb:.1f} MB, "
                    f"warm {memory[label]['warm'][-1].self_maxrss_mb:.1f} MB",
                    flush=True,
                )
                remove(home)

        resolves: list[dict[str, float]] = []
        resolve_rss: list[float] = []
        decode_par: list[float] = []
        decode_seq: list[float] = []
        ebur_own: list[float] = []
        ebur_tp: list[float] = []
        for index in range(reps):
            decode_par.append(in_parallel([decode_command(f) for f in files], workers()))
            home = folder / f"resolve-{index}"
            run = run_measured([__file__, "--child-resolve", str(many)], voiceguide_env(home))
            if run.returncode != 0:
                raise RuntimeError(run.stderr[-2000:])
            resolves.append(json.loads(run.stdout.strip().splitlines()[-1]))
            resolve_rss.append(run.self_maxrss_mb)
            decode_seq.append(in_parallel([decode_command(f) for f in files], 1))
            ebur_own.append(in_parallel(ebur128_commands(files), workers()))
            ebur_tp.append(in_parallel(ebur128_commands(files, "true"), workers()))
            remove(home)
            print(
                f"  resolve cold {resolves[-1]['first_s']:.1f} s, cached "
                f"{resolves[-1]['second_s'] * 1000:.0f} ms; decode {decode_par[-1]:.1f} s; "
                f"ebur128 {ebur_own[-1]:.1f} s (true peak {ebur_tp[-1]:.1f} s)",
                flush=True,
            )
    finally:
        remove(folder)

    hours = resolves[0]["music_s"] / 3600
    gains = resolves[0]["gains_db"]
    rows = []
    peaks = {}
    for label, states in memory.items():
        for state, runs in states.items():
            rss = [r.self_maxrss_mb for r in runs]
            wall = [r.wall_seconds for r in runs]
            peaks[(label, state)] = median(rss)
            rows.append([f"{label}, {state}", len(runs), median(rss), spread(rss), median(wall)])
    print(
        f"\nplaylist: {len(gains)} tracks, {hours:.2f} h, gains {min(gains):+.1f} .. "
        f"{max(gains):+.1f} dB; load {load_before:.2f} -> {load_average():.2f}"
    )
    print_table(
        f"Peak memory rendering {ROUTINE} over the playlist (Python process, MB)",
        ["playlist, caches", "n", "peak MB", "range MB", "wall s"],
        rows,
    )
    first = [r["first_s"] for r in resolves]
    second = [r["second_s"] for r in resolves]
    base = median(decode_par)
    print_table(
        f"Loudness analysis of {hours:.2f} h of music ({len(files)} files; {workers()} at a time)",
        ["what", "n", "median s", "range s", "s per hour", "x decode"],
        [
            [
                "resolve_tracks, cold cache",
                reps,
                median(first),
                spread(first),
                median(first) / hours,
                median(first) / base,
            ],
            [
                "resolve_tracks, cached (2nd call)",
                reps,
                median(second),
                spread(second),
                median(second) / hours,
                median(second) / base,
            ],
            [
                f"ffmpeg decode, {workers()} at a time (baseline)",
                reps,
                base,
                spread(decode_par),
                base / hours,
                1.0,
            ],
            [
                "ffmpeg decode, one at a time",
                reps,
                median(decode_seq),
                spread(decode_seq),
                median(decode_seq) / hours,
                median(decode_seq) / base,
            ],
            [
                f"ffmpeg ebur128 as the analyser runs it (peak={analyser_peak_mode()})",
                reps,
                median(ebur_own),
                spread(ebur_own),
                median(ebur_own) / hours,
                median(ebur_own) / base,
            ],
            [
                "ffmpeg ebur128 with peak=true (4x oversampled)",
                reps,
                median(ebur_tp),
                spread(ebur_tp),
                median(ebur_tp) / hours,
                median(ebur_tp) / base,
            ],
        ],
    )
    cold_gap = peaks[(f"{TRACKS} tracks", "cold")] - peaks[("1 track", "cold")]
    warm_gap = peaks[(f"{TRACKS} tracks", "warm")] - peaks[("1 track", "warm")]
    print_table(
        "Targets",
        ["target", "measured", "verdict"],
        [
            [
                f"{TRACKS} tracks within {TARGET_MB:.0f} MB of 1 track, warm caches",
                f"{warm_gap:+.1f} MB",
                verdict(abs(warm_gap) <= TARGET_MB),
            ],
            [
                f"{TRACKS} tracks within {TARGET_MB:.0f} MB of 1 track, cold caches",
                f"{cold_gap:+.1f} MB",
                verdict(abs(cold_gap) <= TARGET_MB),
            ],
        ],
    )
    path = write_result(
        "playlist_memory",
        {
            "tracks": TRACKS,
            "track_seconds": TRACK_SECONDS,
            "hours": hours,
            "memory_mb": {
                f"{label}, {state}": [r.self_maxrss_mb for r in runs]
                for label, states in memory.items()
                for state, runs in states.items()
            },
            "render_wall_s": {
                f"{label}, {state}": [r.wall_seconds for r in runs]
                for label, states in memory.items()
                for state, runs in states.items()
            },
            "warm_gap_mb": warm_gap,
            "cold_gap_mb": cold_gap,
            "resolve_cold_s": first,
            "resolve_cached_s": second,
            "resolve_peak_mb": resolve_rss,
            "decode_parallel_s": decode_par,
            "decode_sequential_s": decode_seq,
            "ebur128_analyser_s": ebur_own,
            "ebur128_analyser_peak_mode": analyser_peak_mode(),
            "ebur128_true_peak_s": ebur_tp,
            "workers": workers(),
            "gains_db": gains,
            "load_before": load_before,
            "load_after": load_average(),
        },
    )
    print(f"\nfigures: {path}")


if __name__ == "__main__":
    main()
