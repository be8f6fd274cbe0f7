"""The live tests under load: two busy processes on a 2-core machine, N runs in a row.

Prints, per run, whether the live tests passed and how long they took, then the medians.
The baseline is one run on the idle machine, in the same invocation.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LIVE_TESTS = ["tests/test_live.py", "tests/test_sinks.py", "-m", "sound"]


def busy() -> None:
    while True:
        pass


def run_live_tests() -> tuple[bool, float, str]:
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *LIVE_TESTS],
        cwd=ROOT, capture_output=True, text=True, check=False,
    )  # fmt: skip
    lines = result.stdout.strip().splitlines()
    return result.returncode == 0, time.perf_counter() - started, lines[-1] if lines else ""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--no-baseline", action="store_true")
    args = parser.parse_args()
    print(f"machine: {os.cpu_count()} cores; load average {os.getloadavg()[0]:.2f}")
    if not args.no_baseline:
        ok, seconds, summary = run_live_tests()
        print(f"idle baseline: {'pass' if ok else 'FAIL'} in {seconds:.1f} s ({summary})")
    load = [multiprocessing.Process(target=busy, daemon=True) for _ in range(2)]
    for process in load:
        process.start()
    durations, passed = [], 0
    try:
        for run in range(1, args.runs + 1):
            ok, seconds, summary = run_live_tests()
            passed += ok
            durations.append(seconds)
            print(f"loaded run {run}: {'pass' if ok else 'FAIL'} in {seconds:.1f} s ({summary})",
                  flush=True)  # fmt: skip
    finally:
        for process in load:
            process.terminate()
    print(f"under two busy processes: {passed} of {args.runs} runs passed, "
          f"median {statistics.median(durations):.1f} s")  # fmt: skip
    return 0 if passed == args.runs else 1


if __name__ == "__main__":
    sys.exit(main())
