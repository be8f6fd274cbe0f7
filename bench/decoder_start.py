"""How long a new music decoder takes to its first samples, idle and beside busy processes.

    .venv/bin/python bench/decoder_start.py [--reps 15] [--busy 0 2 4] [--quick]

The live producer renders 3 s ahead and needs a track's first samples by the time they are
due; ffmpeg starts with the process's background priority (`voiceguide/priority.py`). Each
rep opens a `Decoder` on the bundled music and times `read(4096)`, at two nice values of the
ffmpeg process: the background level (5 below the main thread, as now) and 10, where it ran
when the producer (itself at 5) started it and lowered it by 5 again (its reader thread is at
5 in both arms). Busy processes spin at the main thread's priority in this session, so they
compete inside the same scheduler group, as the program's own bursts do. Prints medians and
the ratio to the idle median of the same arm, measured in the same run.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import load_average, machine_info, median, print_table, write_result

from voiceguide.music.bundled import bed_path
from voiceguide.music.decoder import Decoder
from voiceguide.priority import background_nice, lower_this_thread

FIRST_READ_FRAMES = 4096


def spin() -> None:
    while True:
        pass


def first_samples_seconds(extra_nice: int) -> float:
    """Open a decoder from a background thread, as the producer does; time its first read."""
    result: list[float] = []

    def run() -> None:
        lower_this_thread()
        started = time.perf_counter()
        decoder = Decoder(bed_path())
        try:
            if extra_nice and decoder._process is not None:
                os.setpriority(
                    os.PRIO_PROCESS, decoder._process.pid, background_nice() + extra_nice
                )
            decoder.read(FIRST_READ_FRAMES)
            result.append(time.perf_counter() - started)
        finally:
            decoder.close()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    return result[0]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reps", type=int, default=15)
    parser.add_argument("--busy", type=int, nargs="+", default=[0, 2, 4])
    parser.add_argument("--quick", action="store_true", help="3 reps")
    args = parser.parse_args()
    if args.quick:
        args.reps = 3
    info = machine_info()
    print(", ".join(f"{key}: {value}" for key, value in info.items()))
    arms = {f"nice {background_nice()} (now)": 0, f"nice {background_nice() + 5} (before)": 5}
    figures: dict[str, dict[int, list[float]]] = {arm: {} for arm in arms}
    loads: dict[int, float] = {}
    for busy in args.busy:
        spinners = [multiprocessing.Process(target=spin, daemon=True) for _ in range(busy)]
        for process in spinners:
            process.start()
        time.sleep(1.0)
        loads[busy] = load_average()
        try:
            for _ in range(args.reps):  # the arms take turns, so both see the same load
                for arm, extra in arms.items():
                    figures[arm].setdefault(busy, []).append(first_samples_seconds(extra))
        finally:
            for process in spinners:
                process.kill()
                process.join()
    rows = []
    for arm, by_busy in figures.items():
        idle = median(by_busy[args.busy[0]])
        for busy, values in by_busy.items():
            m = median(values)
            rows.append(
                [arm, busy, f"{loads[busy]:.1f}", f"{m:.3f}", f"{max(values):.3f}",
                 f"{m / idle:.1f}"]
            )  # fmt: skip
    print_table(
        f"first {FIRST_READ_FRAMES} frames of a new decoder, {args.reps} reps",
        ["ffmpeg at", "busy processes", "load", "median s", "max s", f"× busy {args.busy[0]}"],
        rows,
    )
    write_result("decoder_start", {"machine": info, "figures": figures, "loads": loads})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
