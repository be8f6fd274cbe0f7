"""A routine of 10,000 steps: memory, and what rendering a block costs at the start and the end.

A live `start` of a 10,000-step routine reached 889 MB after 60 s, and a render of one was at
50 % after 300 s. This measures what grows with the number of steps, at the library level, in
a new interpreter per code version:

- memory: the peak RSS after every spoken clip of the session has been asked for once, as
  `start`'s background voice and a render's eager pass ask for them. The voice cache is filled
  beforehand with a 1-second clip per text (under the cache keys voiceguide uses), so no time
  goes to speech synthesis: what is measured is what the process keeps.
- time per block: the mean wall time of `Timeline.render` over 20 blocks of 4 s (with the
  bundled music; after one block that starts the decoder), at the start of the session and
  at its end, and of the timeline's
  `events_between` over 200 windows of 1/8 s (what the live display asks for each tick).

The baseline is the package at another commit (default: where this branch left main),
imported through PYTHONPATH from a copy extracted by git; the two take turns (--reps times
each, medians shown) on copies of the same prepared cache.

    .venv/bin/python bench/many_steps.py [--steps 10000] [--reps 3] [--baseline COMMIT] [--quick]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import wave
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (
    PY,
    ROOT,
    baseline_package,
    load_average,
    median,
    merge_base,
    print_table,
    remove,
    scratch_dir,
    write_result,
)

from voiceguide.mix.plan import PlanSettings, step_texts
from voiceguide.routine.load import parse_routine
from voiceguide.speech.voice import VoiceSettings, cache_key

RATE = 44_100
STEP_SECONDS = 10

CHILD = r"""
import json, resource, sys, time
from pathlib import Path

import voiceguide
from voiceguide.config import load_config
from voiceguide.mix.prepare import SessionOptions, prepare_session
from voiceguide.mix.timeline import Timeline
from voiceguide.paths import Paths

BLOCK = 4 * 44_100


def peak_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def mean_block_ms(timeline, first, count):
    started = time.perf_counter()
    for index in range(count):
        timeline.render(first + index * BLOCK, BLOCK)
    return (time.perf_counter() - started) / count * 1000


def main():
    paths = Paths.from_environment()
    paths.ensure()
    config = load_config(paths.config_file)
    options = SessionOptions(routine=sys.argv[1])
    started = time.perf_counter()
    session = prepare_session(config, options, paths, lambda _: None, eager=False)
    result = {"package": voiceguide.__file__, "prepare_s": time.perf_counter() - started,
              "peak_mb_prepared": peak_mb()}
    started = time.perf_counter()
    for text in dict.fromkeys(cue.text for cue in session.plan.cues if cue.spoken):
        session.voice.clip(text)
    session.finish_voice()
    session.replan(session.settings)
    result["all_clips_s"] = time.perf_counter() - started
    result["peak_mb_all_clips"] = peak_mb()
    timeline = Timeline(session.renderer)
    total = session.plan.total_frames
    result["session_hours"] = total / 44_100 / 3600
    timeline.render(0, BLOCK)  # the music decoder starts: not part of a block's cost
    result["block_ms_start"] = mean_block_ms(timeline, BLOCK, 20)
    result["block_ms_end"] = mean_block_ms(timeline, total - 21 * BLOCK, 20)
    window = 44_100 // 8
    middle = total // 2
    started = time.perf_counter()
    for index in range(200):
        list(timeline.events_between(middle + index * window, middle + (index + 1) * window))
    result["events_ms"] = (time.perf_counter() - started) / 200 * 1000
    result["peak_mb_end"] = peak_mb()
    session.close()
    print(json.dumps(result))


if __name__ == "__main__":
    main()
"""


def routine_toml(steps: int) -> str:
    lines = ['format = 1', 'name = "many"', 'title = "Many steps"',
             '[intro]', 'say = "Many steps."', '[closing]', 'say = "Done."']  # fmt: skip
    for index in range(steps):
        lines += [
            "[[steps]]",
            f'id = "s{index}"',
            f'title = "Step {index}"',
            f'say = "Do thing {index}."',
            f'duration = "{STEP_SECONDS}s"',
            f"music = {'true' if index % 2 else 'false'}",
        ]
    return "\n".join(lines) + "\n"


def fill_cache(folder: Path, routine_text: str) -> int:
    """A 1-second quiet tone for every text of the plan, under voiceguide's cache key."""
    routine = parse_routine(routine_text, "many.toml", "many")
    folder.mkdir(parents=True, exist_ok=True)
    tone = (np.sin(np.arange(RATE) * 2 * np.pi * 440 / RATE) * 3000).astype("<i2").tobytes()
    texts = step_texts(routine, PlanSettings())
    for text in texts:
        with wave.open(str(folder / f"{cache_key(VoiceSettings(), text)}.wav"), "wb") as wav:
            wav.setnchannels(1)
            wav.setsampwidth(2)
            wav.setframerate(RATE)
            wav.writeframes(tone)
    return len(texts)


def run(routine: Path, home: Path, tree: Path | None) -> dict[str, float]:
    env = {**os.environ, "VOICEGUIDE_HOME": str(home), "PYTHONDONTWRITEBYTECODE": "1"}
    if tree is not None:
        env["PYTHONPATH"] = str(tree)
    done = subprocess.run(
        [PY, "-c", CHILD, str(routine)],
        capture_output=True, text=True, env=env, cwd=home, timeout=3600, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        raise SystemExit(f"a run failed:\n{done.stderr}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    expected = tree if tree is not None else ROOT
    assert str(result["package"]).startswith(str(expected)), result["package"]
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=10_000)
    parser.add_argument("--baseline", default=None, help="commit (default: merge-base with main)")
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="2,000 steps, once each")
    args = parser.parse_args()
    steps = 2_000 if args.quick else args.steps
    reps = 1 if args.quick else args.reps
    commit = args.baseline or merge_base()
    tree = baseline_package(commit)
    work = scratch_dir("many-steps-")
    try:
        routine = work / "many.toml"
        routine.write_text(routine_toml(steps))
        filled = fill_cache(work / "prepared" / "voice", routine.read_text())
        print(f"{steps} steps, {filled} clips in the prepared cache", flush=True)
        load_before = load_average()
        runs: dict[str, list[dict[str, float]]] = {"baseline": [], "new": []}
        for _ in range(reps):
            for name, where in (("baseline", tree), ("new", None)):
                home = work / name
                shutil.copytree(work / "prepared", home / "cache")
                runs[name].append(run(routine, home, where))
                remove(home)
                print(f"{name}: {json.dumps(runs[name][-1])}", flush=True)
    finally:
        remove(work)
    results = {
        name: {key: median([r[key] for r in found]) for key in found[0] if key != "package"}
        for name, found in runs.items()
    }
    keys = [
        ("prepare_s", "prepare (s)"),
        ("all_clips_s", "every clip asked once (s)"),
        ("peak_mb_prepared", "peak RSS prepared (MB)"),
        ("peak_mb_all_clips", "peak RSS every clip (MB)"),
        ("block_ms_start", "4 s block at the start (ms)"),
        ("block_ms_end", "4 s block at the end (ms)"),
        ("events_ms", "events of 1/8 s (ms)"),
    ]
    print_table(
        f"{steps} steps of {STEP_SECONDS} s ({results['new']['session_hours']:.1f} h session),"
        f" medians of {reps} runs",
        ["", f"baseline ({commit[:7]})", "new"],
        [[label, results["baseline"][key], results["new"][key]] for key, label in keys],
    )
    path = write_result(
        "many_steps",
        {"baseline_commit": commit, "steps": steps, "reps": reps, "medians": results,
         "runs": runs, "load_average": [load_before, load_average()]},
    )  # fmt: skip
    print(f"\nwrote {path}")


if __name__ == "__main__":
    main()
