"""Issue 3: time from `voiceguide start --routine demo` to the first sound a listener hears.

A private PulseAudio with a null sink (tests/soundserver.py) stands in for the sound card and
`parec` records its monitor. The clock starts when the process is launched (as if Enter had
just been pressed on the command line) and stops at the arrival of the first recorded frame
with |sample| > 100 (Recording.time_of: the monotonic time the chunk holding it arrived).
The session is then stopped with SIGINT. Beside the wall time, the CPU time the voiceguide
process had used when its sound arrived (utime + stime, /proc/PID/stat): other jobs on a
shared machine stretch the wall time much more than the CPU time.

- cold: a fresh VOICEGUIDE_HOME (the demo's clips are synthesized before playback starts).
- warm: the same home, second run (clips read from the voice cache).

Two ways Python finds voiceguide's own code (`--bytecode`):
- source: no bytecode for voiceguide, compiled at every start (PYTHONDONTWRITEBYTECODE=1 and
  an editable install: a clone run with `make`). Libraries have theirs (pip compiles them).
- compiled: every module's bytecode made beforehand (PYTHONPYCACHEPREFIX, filled by one
  untimed run), as after `pip install` of a wheel or any second run without the variable.

The demo plan itself starts with a short silence (lead-in) before the intro is spoken; the
table shows it and the startup latency without it. Baselines, same run: `python -c pass` and
`python -c "import voiceguide.cli"`; with `--baseline DIR`, also every figure for another
checkout (its own .venv), the two taking turns run by run.

`--engine NAME` passes `--engine NAME` to `start` (each tree's venv must have that engine:
hibari, the natural voice, needs `make natural`); by default, the engine `start` chooses.

Targets (issue 3): <= 1.0 s cold, <= 0.5 s warm (the "house" issue: <= 0.45 s warm); the
same for the natural voice (issue 12: <= 1.0 s cold, <= 0.5 s warm).

    .venv/bin/python bench/first_sound.py [--reps N] [--quick] [--baseline DIR] [--engine E]
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
import wave
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (
    CURRENT,
    PY,
    RATE,
    TESTS,
    Tree,
    baseline_tree,
    load_average,
    median,
    print_table,
    remove,
    run_timed,
    scratch_dir,
    spread,
    verdict,
    voiceguide_env,
    write_result,
)

sys.path.insert(0, str(TESTS))

THRESHOLD = 100
TIMEOUT_SECONDS = 60.0
TARGET_COLD = 1.0
TARGET_WARM = 0.45
BYTECODE = ("source", "compiled")
CLK_TCK = os.sysconf("SC_CLK_TCK")


def first_loud_frame(frames: np.ndarray) -> int | None:
    loud = np.flatnonzero(np.abs(frames.astype(np.int32)).max(axis=1) > THRESHOLD)
    return int(loud[0]) if len(loud) else None


def cpu_seconds(pid: int) -> float:
    """utime + stime of a running process (all its threads), from /proc/PID/stat."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def python_env(bytecode: str, pycache: Path) -> dict[str, str]:
    """The environment for one way of finding voiceguide's code (see the module docstring)."""
    env = dict(os.environ)
    if bytecode == "source":
        env["PYTHONDONTWRITEBYTECODE"] = "1"
        env.pop("PYTHONPYCACHEPREFIX", None)
    else:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(pycache)
    return env


def time_to_first_sound(
    server: object, home: Path, tree: Tree, base_env: dict[str, str], engine: str | None = None
) -> dict[str, float]:
    """Launch `voiceguide start --routine demo`, wait for sound, stop it with SIGINT."""
    from soundserver import Recorder

    env = {**base_env, **dict(tree.env), **server.env, "VOICEGUIDE_HOME": str(home)}  # type: ignore[attr-defined]
    with Recorder(server) as recording:  # type: ignore[arg-type]
        launched = time.monotonic()
        process = subprocess.Popen(
            [
                tree.python,
                "-m",
                "voiceguide",
                "start",
                "--routine",
                "demo",
                *(["--engine", engine] if engine else []),
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            env=env,
            cwd=tree.root,
        )
        frame = None
        cpu = float("nan")
        scanned = 0
        deadline = launched + TIMEOUT_SECONDS
        while frame is None and time.monotonic() < deadline:
            time.sleep(0.01)
            heard = recording.frames()
            found = first_loud_frame(heard[scanned:])
            if found is not None:
                frame = scanned + found
                cpu = cpu_seconds(process.pid)
            scanned = max(0, len(heard) - 1)
            if process.poll() is not None:
                break
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        stderr = process.stderr.read().decode(errors="replace") if process.stderr else ""
        if process.stderr is not None:
            process.stderr.close()
    if frame is None:
        raise RuntimeError(f"no sound within {TIMEOUT_SECONDS} s; stderr: {stderr[-2000:]}")
    return {"seconds": recording.time_of(frame) - launched, "cpu_seconds": cpu}


def planned_lead_in(home: Path, tree: Tree, engine: str | None = None) -> float:
    """Seconds from the start of the demo's plan to its first frame above the threshold."""
    out = home / "demo.wav"
    done = subprocess.run(
        [
            tree.python,
            "-m",
            "voiceguide",
            "render",
            "--routine",
            "demo",
            "-o",
            str(out),
            *(["--engine", engine] if engine else []),
        ],
        env={**os.environ, **voiceguide_env(home)},
        cwd=tree.root,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(done.stderr)
    with wave.open(str(out), "rb") as wav:
        data = np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2").reshape(-1, 2)
    out.unlink()
    frame = first_loud_frame(data)
    return float("nan") if frame is None else frame / RATE


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reps", type=int, default=None, help="repetitions (default 5)")
    parser.add_argument("--quick", action="store_true", help="two repetitions")
    parser.add_argument("--baseline", metavar="DIR", help="also measure this checkout")
    parser.add_argument(
        "--with-path",
        metavar="DIR",
        help="also measure this checkout with DIR first on PYTHONPATH (another version of a"
        " dependency, installed there with pip install --target)",
    )
    parser.add_argument(
        "--bytecode", choices=[*BYTECODE, "both"], default="both", help="see the docstring"
    )
    parser.add_argument("--engine", help="the speech engine `start` uses (default: its own)")
    args = parser.parse_args()
    reps = args.reps or (2 if args.quick else 5)
    variants = [CURRENT.with_path(args.with_path)] if args.with_path else []
    baseline = baseline_tree(args.baseline) if args.baseline else None
    trees = [CURRENT, *variants] + ([baseline] if baseline else [])
    modes = BYTECODE if args.bytecode == "both" else (args.bytecode,)

    from soundserver import PulseServer

    load_before = load_average()
    print(
        f"voiceguide start --routine demo, first sound; engine {args.engine or '(default)'};"
        f" x{reps}; {', '.join(modes)};"
        f" {' vs '.join(t.label for t in trees)}; load {load_before:.2f}",
        flush=True,
    )
    folder = scratch_dir("first-sound-")
    server = PulseServer(folder / "pulse")
    server.start()
    # runs[(tree label, bytecode, "cold"|"warm")] = list of {"seconds", "cpu_seconds"}
    runs: dict[tuple[str, str, str], list[dict[str, float]]] = {}
    bare: list[float] = []
    imports: dict[str, list[float]] = {t.label: [] for t in trees}
    lead_in: dict[str, float] = {}
    loads: list[float] = [load_before]
    try:
        envs = {
            (t.label, mode): python_env(mode, folder / f"pycache-{i}")
            for i, t in enumerate(trees)
            for mode in modes
        }
        for tree in trees:  # untimed: fills each compiled tree's bytecode cache
            for mode in modes:
                if mode == "compiled":
                    time_to_first_sound(
                        server, folder / "warm-up", tree, envs[tree.label, mode], args.engine
                    )
                    remove(folder / "warm-up")
        for index in range(reps):
            order = trees if index % 2 == 0 else trees[::-1]  # A B, then B A: no fixed order
            bare.append(run_timed([PY, "-c", "pass"]))
            for tree in order:
                imports[tree.label].append(
                    run_timed(
                        [tree.python, "-c", "import voiceguide.cli"],
                        {"PYTHONDONTWRITEBYTECODE": "1", **dict(tree.env)},
                        cwd=tree.root,
                    )
                )
            for mode in modes:
                for t_index, tree in enumerate(order):
                    home = folder / f"home-{index}-{mode}-{t_index}"
                    env = envs[tree.label, mode]
                    for state in ("cold", "warm"):
                        run = time_to_first_sound(server, home, tree, env, args.engine)
                        runs.setdefault((tree.label, mode, state), []).append(run)
                    cold, warm = (
                        runs[tree.label, mode, k][-1]["seconds"] for k in ("cold", "warm")
                    )
                    print(f"  {tree.label:>16} {mode:>8}: cold {cold:.3f} s, warm {warm:.3f} s",
                          flush=True)  # fmt: skip
                    if index == reps - 1 and tree.label not in lead_in:
                        lead_in[tree.label] = planned_lead_in(home, tree, args.engine)
                    remove(home)
            loads.append(load_average())
    finally:
        server.stop()
        remove(folder)

    print(
        "\nplanned silence before the first sound in the demo plan: "
        + ", ".join(f"{label} {v * 1000:.0f} ms" for label, v in lead_in.items())
        + f"; load {load_before:.2f} -> {load_average():.2f} (max {max(loads):.2f})"
    )
    rows: list[list[object]] = [["python -c pass", "", reps, median(bare), spread(bare), "", ""]]
    for tree in trees:
        took = imports[tree.label]
        rows.append(['python -c "import voiceguide.cli"', tree.label, reps, median(took),
                     spread(took), "", ""])  # fmt: skip
    for mode in modes:
        for state in ("cold", "warm"):
            for tree in trees:
                these = runs[tree.label, mode, state]
                walls = [r["seconds"] for r in these]
                cpus = [r["cpu_seconds"] for r in these]
                rows.append([f"first sound, {state}, {mode}", tree.label, len(these),
                             median(walls), spread(walls), median(walls) - lead_in[tree.label],
                             median(cpus)])  # fmt: skip
    print_table(
        "Launch to first audible sample (|x| > 100), seconds; CPU = voiceguide's own by then",
        ["what", "tree", "n", "median s", "range s", "minus lead-in s", "CPU s"],
        rows,
    )
    ratios: dict[str, dict[str, float]] = {}
    if baseline is not None:
        ratio_rows = []
        for tree in trees[:-1]:
            for mode in modes:
                for state in ("cold", "warm"):
                    now = runs[tree.label, mode, state]
                    before = runs[baseline.label, mode, state]
                    wall = median([r["seconds"] for r in now]) / median(
                        [r["seconds"] for r in before]
                    )
                    paired = [a["seconds"] / b["seconds"] for a, b in zip(now, before, strict=True)]
                    cpu = median([r["cpu_seconds"] for r in now]) / median(
                        [r["cpu_seconds"] for r in before]
                    )
                    ratios[f"{tree.label} | {state} {mode}"] = {
                        "wall": wall,
                        "paired": median(paired),
                        "cpu": cpu,
                    }
                    ratio_rows.append([tree.label, f"{state}, {mode}", wall, median(paired),
                                       spread(paired), cpu])  # fmt: skip
        print_table(
            f"Against {baseline.label} (below 1: faster now)",
            ["tree", "first sound", "wall (medians)", "wall (paired)", "paired range", "CPU"],
            ratio_rows,
        )
    targets = []
    for mode in modes:
        cold_s = median([r["seconds"] for r in runs[CURRENT.label, mode, "cold"]])
        warm_s = median([r["seconds"] for r in runs[CURRENT.label, mode, "warm"]])
        targets.append([f"cold <= {TARGET_COLD} s ({mode})", f"{cold_s:.3f} s",
                        verdict(cold_s <= TARGET_COLD)])  # fmt: skip
        targets.append([f"warm <= {TARGET_WARM} s ({mode})", f"{warm_s:.3f} s",
                        verdict(warm_s <= TARGET_WARM)])  # fmt: skip
    print_table("Targets (this checkout)", ["target", "measured", "verdict"], targets)
    path = write_result(
        f"first_sound-{args.engine}" if args.engine else "first_sound",
        {
            "engine": args.engine,
            "trees": {t.label: str(t.root) for t in trees},
            "runs": {" | ".join(key): value for key, value in runs.items()},
            "ratios_current_over_baseline": ratios,
            "python_bare_s": bare,
            "import_cli_s": imports,
            "plan_lead_in_s": lead_in,
            "threshold": THRESHOLD,
            "load_before": load_before,
            "load_per_rep": loads,
            "load_after": load_average(),
        },
    )
    print(f"\nfigures: {path}")


if __name__ == "__main__":
    main()
