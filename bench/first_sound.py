"""Issue 3: time from `voiceguide start --routine demo` to the first sound a listener hears.

A private PulseAudio with a null sink (tests/soundserver.py) stands in for the sound card and
`parec` records its monitor. The clock starts when the process is launched (as if Enter had
just been pressed on the command line) and stops at the arrival of the first recorded frame
with |sample| > 100 (Recording.time_of: the monotonic time the chunk holding it arrived).
The session is then stopped with SIGINT.

- cold: a fresh VOICEGUIDE_HOME (the demo's clips are synthesized before playback starts).
- warm: the same home, second run (clips read from the voice cache).

The demo plan itself starts with a short silence (lead-in) before the intro is spoken; the
table shows it and the startup latency without it. Baselines, same run: `python -c pass` and
`python -c "import voiceguide.cli"`.

Targets (issue 3): <= 1.0 s cold, <= 0.5 s warm.

    .venv/bin/python bench/first_sound.py [--reps N] [--quick]
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
    PY,
    RATE,
    TESTS,
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
TARGET_WARM = 0.5


def first_loud_frame(frames: np.ndarray) -> int | None:
    loud = np.flatnonzero(np.abs(frames.astype(np.int32)).max(axis=1) > THRESHOLD)
    return int(loud[0]) if len(loud) else None


def time_to_first_sound(server: object, home: Path) -> dict[str, float]:
    """Launch `voiceguide start --routine demo`, wait for sound, stop it with SIGINT."""
    from soundserver import Recorder

    env = {**os.environ, **server.env, **voiceguide_env(home)}  # type: ignore[attr-defined]
    with Recorder(server) as recording:  # type: ignore[arg-type]
        launched = time.monotonic()
        process = subprocess.Popen(
            [PY, "-m", "voiceguide", "start", "--routine", "demo"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            env=env,
        )
        frame = None
        scanned = 0
        deadline = launched + TIMEOUT_SECONDS
        while frame is None and time.monotonic() < deadline:
            time.sleep(0.01)
            heard = recording.frames()
            found = first_loud_frame(heard[scanned:])
            if found is not None:
                frame = scanned + found
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
    return {"seconds": recording.time_of(frame) - launched}


def planned_lead_in(home: Path) -> float:
    """Seconds from the start of the demo's plan to its first frame above the threshold."""
    out = home / "demo.wav"
    done = subprocess.run(
        [PY, "-m", "voiceguide", "render", "--routine", "demo", "-o", str(out)],
        env={**os.environ, **voiceguide_env(home)},
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
    args = parser.parse_args()
    reps = args.reps or (2 if args.quick else 5)

    from soundserver import PulseServer

    load_before = load_average()
    print(
        f"voiceguide start --routine demo, first sound; x{reps}; load {load_before:.2f}", flush=True
    )
    folder = scratch_dir("first-sound-")
    server = PulseServer(folder / "pulse")
    server.start()
    cold: list[float] = []
    warm: list[float] = []
    bare: list[float] = []
    imports: list[float] = []
    homes: list[Path] = []
    try:
        for index in range(reps):
            home = folder / f"home-{index}"
            homes.append(home)
            bare.append(run_timed([PY, "-c", "pass"]))
            imports.append(run_timed([PY, "-c", "import voiceguide.cli"]))
            cold.append(time_to_first_sound(server, home)["seconds"])
            warm.append(time_to_first_sound(server, home)["seconds"])
            print(
                f"  cold {cold[-1]:.3f} s, warm {warm[-1]:.3f} s, import {imports[-1]:.3f} s",
                flush=True,
            )
        lead_in = planned_lead_in(homes[-1])
    finally:
        server.stop()
        remove(folder)

    rows = [
        ["python -c pass", reps, median(bare), spread(bare), "-"],
        ['python -c "import voiceguide.cli"', reps, median(imports), spread(imports), "-"],
        [
            "start: first sound, cold voice cache",
            reps,
            median(cold),
            spread(cold),
            median(cold) - lead_in,
        ],
        [
            "start: first sound, warm voice cache",
            reps,
            median(warm),
            spread(warm),
            median(warm) - lead_in,
        ],
    ]
    print(
        f"\nplanned silence before the first sound in the demo plan: {lead_in * 1000:.0f} ms;"
        f" load {load_before:.2f} -> {load_average():.2f}"
    )
    print_table(
        "Time to first audible sample (|x| > 100) after launch, seconds",
        ["what", "n", "median s", "range s", "minus lead-in s"],
        rows,
    )
    print_table(
        "Targets",
        ["target", "measured", "verdict"],
        [
            [
                f"cold <= {TARGET_COLD} s",
                f"{median(cold):.3f} s",
                verdict(median(cold) <= TARGET_COLD),
            ],
            [
                f"warm <= {TARGET_WARM} s",
                f"{median(warm):.3f} s",
                verdict(median(warm) <= TARGET_WARM),
            ],
        ],
    )
    path = write_result(
        "first_sound",
        {
            "cold_s": cold,
            "warm_s": warm,
            "python_bare_s": bare,
            "import_cli_s": imports,
            "plan_lead_in_s": lead_in,
            "threshold": THRESHOLD,
            "load_before": load_before,
            "load_after": load_average(),
        },
    )
    print(f"\nfigures: {path}")


if __name__ == "__main__":
    main()
