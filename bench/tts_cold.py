"""Cold speech: the time to synthesize every clip of a render, with a fresh voice cache.

Each run is a new interpreter with an empty VOICEGUIDE_HOME that makes every clip a render of
hands-on-pumping (first run included) speaks, through `Voice.clip`, on the default engine
(pyttsx3): what `render` and a first `start` wait for. The figures are the tail of the runs:
max, p95 and median of the whole, and the slowest single clip.

The stall is a race with espeak-ng's own thread, so it shows on a busy machine: the runs
are made beside --busy processes that only spin (2 by default, as bench/live_under_load.py:
a 2-core machine that others use too; 0 for an idle one).

A stall is rare (about one clip in several hundred), so a second measure counts them over
many clips: --chunks runs of --chunk-clips sentences each ("Step N of many. ..."), every
run a new interpreter with a fresh cache, and the slowest clips of all.

The baseline is the package at another commit (default: where this branch left main),
extracted by git into bench/out/ and imported through PYTHONPATH; the two take turns, so both
see the same load from the machine's other work.

    .venv/bin/python bench/tts_cold.py [--runs 50] [--chunks 4] [--chunk-clips 500]
                                       [--busy 2] [--baseline COMMIT] [--quick]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (
    PY,
    ROOT,
    baseline_package,
    load_average,
    median,
    merge_base,
    percentile,
    print_table,
    remove,
    scratch_dir,
    write_result,
)

CHILD = r"""
import json, resource, sys, time
from pathlib import Path

import voiceguide
from voiceguide.mix.plan import PlanSettings, step_texts
from voiceguide.routine.load import load_builtin
from voiceguide.speech.voice import Voice, VoiceSettings


def main():
    texts = step_texts(load_builtin("hands-on-pumping"), PlanSettings(include_first_run=True))
    if len(sys.argv) > 2:
        texts = [f"Step {index} of many. Keep the hands moving around the breast, gently."
                 for index in range(int(sys.argv[2]))]
    started = time.perf_counter()
    voice = Voice(VoiceSettings(), Path(sys.argv[1]))
    clips = []
    try:
        for text in texts:
            before = time.perf_counter()
            voice.clip(text)
            clips.append(time.perf_counter() - before)
    finally:
        voice.close()
    usage = [resource.getrusage(who) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)]
    cpu = sum(u.ru_utime + u.ru_stime for u in usage)
    print(json.dumps({"seconds": time.perf_counter() - started, "clips": clips,
                      "cpu_seconds": cpu, "package": voiceguide.__file__}))


if __name__ == "__main__":
    main()
"""


def busy() -> None:
    while True:
        pass


def one_run(tree: Path | None, clips: int | None = None) -> dict[str, Any]:
    """One cold synthesis in a new interpreter: the new code, or the tree's (a baseline);
    a render's clips, or `clips` sentences."""
    home = scratch_dir("tts-cold-")
    env = {**os.environ, "VOICEGUIDE_HOME": str(home), "PYTHONDONTWRITEBYTECODE": "1"}
    if tree is not None:
        env["PYTHONPATH"] = str(tree)
    try:
        done = subprocess.run(
            [PY, "-c", CHILD, str(home / "voice"), *([str(clips)] if clips else [])],
            capture_output=True, text=True, env=env, cwd=home, timeout=600, check=False,
        )  # fmt: skip
    finally:
        remove(home)
    if done.returncode != 0:
        raise SystemExit(f"a run failed:\n{done.stderr}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    expected = tree if tree is not None else ROOT
    assert str(result["package"]).startswith(str(expected)), result["package"]
    result["warnings"] = [line for line in done.stderr.splitlines() if "warning" in line.lower()]
    return result


def summary(runs: list[dict[str, Any]]) -> dict[str, float]:
    totals = [float(r["seconds"]) for r in runs]
    slowest = [max(r["clips"]) for r in runs]
    return {
        "runs": len(runs),
        "median_s": median(totals),
        "p95_s": percentile(totals, 0.95),
        "max_s": max(totals),
        "slowest_clip_s": max(slowest),
        "clips_over_10_s": sum(1 for r in runs for c in r["clips"] if c > 10.0),
        "median_cpu_s": median([float(r["cpu_seconds"]) for r in runs]),
        "clips_per_run": len(runs[0]["clips"]),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--baseline", default=None, help="commit (default: merge-base with main)")
    parser.add_argument("--busy", type=int, default=2, help="spinning processes beside")
    parser.add_argument("--chunks", type=int, default=4)
    parser.add_argument("--chunk-clips", type=int, default=500)
    parser.add_argument("--quick", action="store_true", help="5 runs and 1 chunk of 100 each")
    args = parser.parse_args()
    runs = 5 if args.quick else args.runs
    chunks, chunk_clips = (1, 100) if args.quick else (args.chunks, args.chunk_clips)
    commit = args.baseline or merge_base()
    tree = baseline_package(commit)
    spinning = [multiprocessing.Process(target=busy, daemon=True) for _ in range(args.busy)]
    for process in spinning:
        process.start()
    try:
        figures, many, results, load_before = measure(tree, runs, chunks, chunk_clips)
    finally:
        for process in spinning:
            process.terminate()
            process.join()
    report(commit, args.busy, figures, many, results, load_before, chunks, chunk_clips)


def measure(
    tree: Path, runs: int, chunks: int, chunk_clips: int
) -> tuple[
    dict[str, dict[str, float]], dict[str, list[float]], dict[str, list[dict[str, Any]]], float
]:
    """The render-sized runs and the chunks of sentences, the two codes taking turns."""
    load_before = load_average()
    results: dict[str, list[dict[str, Any]]] = {"baseline": [], "new": []}
    for index in range(runs):
        for name, where in (("baseline", tree), ("new", None)):
            result = one_run(where)
            results[name].append(result)
            print(f"run {index + 1}/{runs} {name}: {result['seconds']:.2f} s", flush=True)
    many: dict[str, list[float]] = {"baseline": [], "new": []}
    for index in range(chunks):
        for name, where in (("baseline", tree), ("new", None)):
            result = one_run(where, chunk_clips)
            many[name] += result["clips"]
            print(f"chunk {index + 1}/{chunks} {name}: {result['seconds']:.1f} s", flush=True)
    figures = {name: summary(found) for name, found in results.items()}
    return figures, many, results, load_before


def report(
    commit: str,
    spinning: int,
    figures: dict[str, dict[str, float]],
    many: dict[str, list[float]],
    results: dict[str, list[dict[str, Any]]],
    load_before: float,
    chunks: int,
    chunk_clips: int,
) -> None:
    """Print the tables and write bench/out/tts_cold.json."""
    runs = len(results["new"])
    rows = [
        [f"{name} ({commit[:7]})" if name == "baseline" else name, f["runs"], f["median_s"],
         f["p95_s"], f["max_s"], f["slowest_clip_s"], f["clips_over_10_s"], f["median_cpu_s"]]
        for name, f in figures.items()
    ]  # fmt: skip
    print_table(
        f"cold synthesis of a render's {figures['new']['clips_per_run']} clips (s),"
        f" {runs} runs each, beside {spinning} spinning processes",
        ["code", "runs", "median", "p95", "max", "slowest clip", "clips > 10 s", "median CPU"],
        rows,
    )
    print_table(
        f"{chunks} runs of {chunk_clips} sentences each: every clip (s)",
        ["code", "clips", "median", "p99", "p99.9", "max", "clips > 10 s"],
        [[name, len(clips), median(clips), percentile(clips, 0.99), percentile(clips, 0.999),
          max(clips), sum(1 for c in clips if c > 10.0)] for name, clips in many.items()],
    )  # fmt: skip
    warnings = {name: sorted({w for r in found for w in r["warnings"]})
                for name, found in results.items()}  # fmt: skip
    path = write_result(
        "tts_cold",
        {
            "baseline_commit": commit,
            "spinning_processes": spinning,
            "figures": figures,
            "warnings": warnings,
            "totals": {name: [r["seconds"] for r in found] for name, found in results.items()},
            "many_clips": {
                name: {
                    "clips": len(clips),
                    "median_s": median(clips),
                    "p99_s": percentile(clips, 0.99),
                    "p999_s": percentile(clips, 0.999),
                    "max_s": max(clips),
                    "over_10_s": sorted(c for c in clips if c > 10.0),
                }
                for name, clips in many.items()
            },
            "slowest_clips": {
                name: [max(r["clips"]) for r in found] for name, found in results.items()
            },
            "load_average": [load_before, load_average()],
        },
    )
    print(f"\nwrote {path}")


if __name__ == "__main__":
    main()
