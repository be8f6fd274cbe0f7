"""Issue 2: render the full hands-on-pumping session over a 60-minute mp3.

Measures `voiceguide render --routine hands-on-pumping --music 60min.mp3 -o out.wav` as a
user runs it (a child process: wall time, peak RSS of the Python process), in three cache
states, and as the baseline, in the same run, `ffmpeg` alone decoding as many seconds of
the same mp3 as the session plays music (the plan's music_spans) to s16le 44.1 kHz stereo.

- cold:          a fresh VOICEGUIDE_HOME: every clip is synthesized, the mp3's loudness is
                 measured (one EBU R128 pass over the whole hour).
- loudness-cold: voice clips cached, loudness/probe caches deleted: the cost of the R128 pass.
- warm:          everything cached: the render itself.
- warm, null sink (API): prepare_session + render_to_sink(NullSink) in one process, to split
                 preparation from the mixing loop and leave out the WAV write.

With `--baseline DIR`, every render is also made by another checkout (its own .venv, its own
home), each run of it right after the same run of this checkout.

Targets (issue 2): warm render <= 1.5 x the decode time; peak memory < 120 MB.

    .venv/bin/python bench/render_full.py [--reps N] [--quick] [--baseline DIR]
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (
    AUDIO_CACHE,
    CURRENT,
    RATE,
    ChildRun,
    Tree,
    audio_seconds,
    baseline_tree,
    generate_music,
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
MUSIC_MINUTES = 60
TARGET_RATIO = 1.5
TARGET_MB = 120.0
_WROTE = re.compile(r"Wrote .*? in\s+([0-9.]+)\s*s", re.S)  # older trees wrap the line


def music_file() -> Path:
    return generate_music(AUDIO_CACHE / "music-60min.mp3", MUSIC_MINUTES * 60.0)


def render(home: Path, music: Path, tree: Tree = CURRENT) -> tuple[ChildRun, float]:
    """One `voiceguide render` child; returns it and the loop time it printed."""
    out = home / "session.wav"
    # each run writes the plan over the last run's (older trees overwrite without --force)
    force = ["--force"] if tree.accepts("render", "--force") else []
    run = run_measured(
        [
            "-m",
            "voiceguide",
            "render",
            "--routine",
            ROUTINE,
            "--music",
            str(music),
            "-o",
            str(out),
            "--cues-json",
            str(home / "plan.json"),
            *force,
        ],
        env=voiceguide_env(home),
        tree=tree,
    )
    if run.returncode != 0:
        raise RuntimeError(f"render failed ({run.returncode}): {run.stderr[-2000:]}")
    out.unlink(missing_ok=True)
    match = _WROTE.search(run.stdout)
    return run, float(match.group(1)) if match else float("nan")


def decode_command(music: Path, seconds: float | None) -> list[str]:
    limit = ["-t", f"{seconds:.3f}"] if seconds is not None else []
    return [
        "ffmpeg",
        "-nostdin",
        "-v",
        "error",
        "-i",
        str(music),
        *limit,
        "-f",
        "s16le",
        "-ac",
        "2",
        "-ar",
        str(RATE),
        "-y",
        "/dev/null",
    ]


def decode_through_pipe(music: Path, seconds: float) -> float:
    """Context, not the baseline: the same decode written into a pipe that `cat` empties,
    which is how voiceguide's decoder gets its PCM (ffmpeg ... pipe:1)."""
    command = decode_command(music, seconds)
    command[-2:] = ["pipe:1"]
    started = time.perf_counter()
    ffmpeg = subprocess.Popen(command, stdout=subprocess.PIPE, stdin=subprocess.DEVNULL)
    assert ffmpeg.stdout is not None
    cat = subprocess.run(["cat"], stdin=ffmpeg.stdout, stdout=subprocess.DEVNULL, check=True)
    ffmpeg.stdout.close()
    if ffmpeg.wait() != 0 or cat.returncode != 0:
        raise RuntimeError("ffmpeg | cat failed")
    return time.perf_counter() - started


def child_null(music: str) -> None:
    """In-process: prepare the session, then render it all into the null sink."""
    from voiceguide.config import Config
    from voiceguide.paths import Paths

    try:
        from voiceguide.mix.prepare import SessionOptions, prepare_session
        from voiceguide.output import NullSink
        from voiceguide.output.export import render_to_sink
    except ImportError:  # a checkout from before the folders per stage (--baseline)
        from voiceguide.rendering import render_to_sink  # type: ignore[no-redef]
        from voiceguide.session import (  # type: ignore[no-redef]
            SessionOptions,
            prepare_session,
        )
        from voiceguide.sinks import NullSink  # type: ignore[no-redef]

    started = time.perf_counter()
    options = SessionOptions(routine=ROUTINE, music=music, include_first_run=True)
    session = prepare_session(Config(), options, Paths.from_environment(), lambda m: None)
    prepared = time.perf_counter()
    sink = NullSink()
    render_to_sink(session.renderer, session.plan.total_frames, sink)
    done = time.perf_counter()
    session.close()
    print(
        json.dumps(
            {
                "prepare_seconds": prepared - started,
                "loop_seconds": done - prepared,
                "frames": sink.frames_written,
            }
        )
    )


Runs = list[tuple[ChildRun, float]]


def summary_rows(label: str, runs: Runs, base: float) -> list[object]:
    wall = [r.wall_seconds for r, _ in runs]
    loop = [t for _, t in runs]
    rss = [r.self_maxrss_mb for r, _ in runs]
    return [label, len(runs), median(wall), spread(wall), median(wall) / base, median(loop),
            median(loop) / base, median(rss)]  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reps", type=int, default=None, help="repetitions (default 3; warm 5)")
    parser.add_argument("--quick", action="store_true", help="one repetition of each")
    parser.add_argument("--baseline", metavar="DIR", help="also measure this checkout")
    parser.add_argument("--child-null", metavar="MUSIC", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_null:
        child_null(args.child_null)
        return
    cold_reps = args.reps or (1 if args.quick else 3)
    warm_reps = args.reps or (1 if args.quick else 5)
    trees = [CURRENT] + ([baseline_tree(args.baseline)] if args.baseline else [])

    music = music_file()
    music_len = audio_seconds(music)
    load_before = load_average()
    loads = [load_before]
    print(
        f"{ROUTINE} over {music.name} ({music_len / 60:.1f} min); "
        f"cold x{cold_reps}, warm x{warm_reps}; {' vs '.join(t.label for t in trees)};"
        f" load {load_before:.2f}",
        flush=True,
    )

    cold: dict[str, Runs] = {t.label: [] for t in trees}
    loud_cold: dict[str, Runs] = {t.label: [] for t in trees}
    warm: dict[str, Runs] = {t.label: [] for t in trees}
    null_runs: dict[str, list[tuple[ChildRun, dict[str, float]]]] = {t.label: [] for t in trees}
    homes: dict[str, list[Path]] = {t.label: [] for t in trees}
    for _ in range(cold_reps):
        for tree in trees:
            home = scratch_dir("render-home-")
            homes[tree.label].append(home)
            cold[tree.label].append(render(home, music, tree))
            print(f"  cold, {tree.label}: {cold[tree.label][-1][0].wall_seconds:.2f} s", flush=True)
    home_of = {t.label: homes[t.label][-1] for t in trees}
    plan = json.loads((home_of[CURRENT.label] / "plan.json").read_text())
    spans = plan["music_spans"]
    music_seconds = sum(s["end_frame"] - s["start_frame"] for s in spans) / RATE
    session_seconds = plan["total_frames"] / RATE

    for _ in range(cold_reps):
        for tree in trees:
            for name in ("loudness.json", "probe.json"):
                (home_of[tree.label] / "cache" / name).unlink(missing_ok=True)
            loud_cold[tree.label].append(render(home_of[tree.label], music, tree))
            print(
                f"  loudness-cold, {tree.label}: {loud_cold[tree.label][-1][0].wall_seconds:.2f} s",
                flush=True,
            )
    loads.append(load_average())

    # Warm renders interleaved with the decode baselines, so all see the same noise.
    decode_music: list[float] = []
    decode_session: list[float] = []
    decode_pipe: list[float] = []
    decode_hour: list[float] = []
    for index in range(warm_reps):
        decode_music.append(run_timed(decode_command(music, music_seconds)))
        for tree in trees if index % 2 == 0 else trees[::-1]:
            warm[tree.label].append(render(home_of[tree.label], music, tree))
        decode_session.append(run_timed(decode_command(music, session_seconds)))
        decode_pipe.append(decode_through_pipe(music, music_seconds))
        for tree in trees:
            null = run_measured(
                [__file__, "--child-null", str(music)], env=voiceguide_env(home_of[tree.label]),
                tree=tree,
            )  # fmt: skip
            if null.returncode != 0:
                raise RuntimeError(f"null-sink render failed: {null.stderr[-2000:]}")
            null_runs[tree.label].append((null, json.loads(null.stdout.strip().splitlines()[-1])))
        print(
            "  warm: "
            + ", ".join(f"{t.label} {warm[t.label][-1][0].wall_seconds:.2f} s" for t in trees)
            + f" (decode {decode_music[-1]:.2f} s)",
            flush=True,
        )
        loads.append(load_average())
    for _ in range(min(cold_reps, 3)):
        decode_hour.append(run_timed(decode_command(music, None)))
    for folders in homes.values():
        for folder in folders:
            remove(folder)

    base = median(decode_music)
    rows = []
    result_rows: dict[str, dict[str, object]] = {}
    for tree in trees:
        for label, runs in (
            ("cold (fresh home)", cold[tree.label]),
            ("loudness-cold", loud_cold[tree.label]),
            ("warm", warm[tree.label]),
        ):
            rows.append(summary_rows(f"{label}, {tree.label}", runs, base))
            result_rows[f"{label} | {tree.label}"] = {
                "runs": len(runs),
                "wall_s": [r.wall_seconds for r, _ in runs],
                "loop_s": [t for _, t in runs],
                "self_maxrss_mb": [r.self_maxrss_mb for r, _ in runs],
                "cpu_s": [r.cpu_seconds for r, _ in runs],
                "children_cpu_s": [r.children_cpu_seconds for r, _ in runs],
            }
        nulls = null_runs[tree.label]
        null_wall = [r.wall_seconds for r, _ in nulls]
        null_loop = [d["loop_seconds"] for _, d in nulls]
        null_rss = [r.self_maxrss_mb for r, _ in nulls]
        rows.append([f"warm, null sink (API), {tree.label}", len(nulls), median(null_wall),
                     spread(null_wall), median(null_wall) / base, median(null_loop),
                     median(null_loop) / base, median(null_rss)])  # fmt: skip
        result_rows[f"warm, null sink (API) | {tree.label}"] = {
            "runs": len(nulls),
            "wall_s": null_wall,
            "loop_s": null_loop,
            "prepare_s": [d["prepare_seconds"] for _, d in nulls],
            "self_maxrss_mb": null_rss,
            "cpu_s": [r.cpu_seconds for r, _ in nulls],
        }

    print(
        f"\nsession {session_seconds / 60:.2f} min, music plays {music_seconds / 60:.2f} min "
        f"(sum of the plan's music_spans); load {load_before:.2f} -> {load_average():.2f}"
        f" (max {max(loads):.2f})"
    )
    print_table(
        f"Baseline (ffmpeg decode of {music.name} to s16le 44.1 kHz stereo, /dev/null)",
        ["what", "runs", "median s", "range s"],
        [
            [f"first {music_seconds:.0f} s (music part; THE baseline)", len(decode_music),
             median(decode_music), spread(decode_music)],
            [f"first {session_seconds:.0f} s (session length)", len(decode_session),
             median(decode_session), spread(decode_session)],
            [f"first {music_seconds:.0f} s into a pipe, read by cat (context)", len(decode_pipe),
             median(decode_pipe), spread(decode_pipe)],
            [f"whole file ({music_len:.0f} s)", len(decode_hour), median(decode_hour),
             spread(decode_hour)],
        ],
    )  # fmt: skip
    print_table(
        "voiceguide render (child process; loop = the 'Wrote ... in X s' figure)",
        ["run", "n", "wall s", "range s", "wall/decode", "loop s", "loop/decode", "peak MB"],
        rows,
    )
    now = warm[CURRENT.label]
    warm_wall = median([r.wall_seconds for r, _ in now])
    warm_ratio = warm_wall / base
    # Each warm render ran right after a decode: the ratio within each pair shares its noise.
    paired = [r.wall_seconds / d for (r, _), d in zip(now, decode_music, strict=True)]
    peak = max(r.self_maxrss_mb for r, _ in [*cold[CURRENT.label], *loud_cold[CURRENT.label], *now])
    comparison: dict[str, float] = {}
    if len(trees) == 2:
        before = trees[1].label
        compare_rows = []
        for label, mine, theirs, pick in (
            ("warm render, wall", now, warm[before], lambda r: r[0].wall_seconds),
            ("warm render, loop", now, warm[before], lambda r: r[1]),
            ("warm render, CPU", now, warm[before], lambda r: r[0].cpu_seconds),
            ("warm render, its ffmpeg CPU", now, warm[before],
             lambda r: r[0].children_cpu_seconds),
            ("warm render, peak MB", now, warm[before], lambda r: r[0].self_maxrss_mb),
            ("cold render, wall", cold[CURRENT.label], cold[before], lambda r: r[0].wall_seconds),
            ("cold render, peak MB", cold[CURRENT.label], cold[before],
             lambda r: r[0].self_maxrss_mb),
            ("null sink (API), loop", null_runs[CURRENT.label], null_runs[before],
             lambda r: r[1]["loop_seconds"]),
        ):  # fmt: skip
            a = median([pick(r) for r in mine])
            b = median([pick(r) for r in theirs])
            comparison[label] = a / b
            compare_rows.append([label, a, b, a / b])
        print_table(
            f"{CURRENT.label} vs {before} (medians; ratio below 1: less now)",
            ["what", CURRENT.label, before, "ratio"],
            compare_rows,
        )
    print_table(
        "Targets (this checkout)",
        ["target", "measured", "verdict"],
        [
            [
                f"warm render <= {TARGET_RATIO} x decode (ratio of medians)",
                f"{warm_ratio:.2f} x",
                verdict(warm_ratio <= TARGET_RATIO),
            ],
            [
                f"warm render <= {TARGET_RATIO} x decode (median of paired ratios)",
                f"{median(paired):.2f} x ({spread(paired)})",
                verdict(median(paired) <= TARGET_RATIO),
            ],
            [
                f"peak memory < {TARGET_MB:.0f} MB (max over all runs)",
                f"{peak:.1f} MB",
                verdict(peak < TARGET_MB),
            ],
        ],
    )
    path = write_result(
        "render_full",
        {
            "routine": ROUTINE,
            "trees": {t.label: str(t.root) for t in trees},
            "music_file_seconds": music_len,
            "session_seconds": session_seconds,
            "music_seconds": music_seconds,
            "decode_music_s": decode_music,
            "decode_session_s": decode_session,
            "decode_pipe_s": decode_pipe,
            "decode_whole_file_s": decode_hour,
            "renders": result_rows,
            "warm_ratio": warm_ratio,
            "warm_paired_ratios": paired,
            "current_over_baseline": comparison,
            "peak_self_mb": peak,
            "load_before": load_before,
            "load_per_rep": loads,
            "load_after": load_average(),
        },
    )
    print(f"\nfigures: {path}")


if __name__ == "__main__":
    if shutil.which("ffmpeg") is None:
        sys.exit("ffmpeg is needed (make deps)")
    main()
