"""Run every benchmark, one after another, and print their tables (`make bench`).

    .venv/bin/python bench/run_all.py [--quick] [--only NAME ...]

--quick: fewer repetitions and a 2-minute live soak instead of 10 minutes (for trials; the
figures in BENCHMARKS.md come from a full run). Each benchmark leaves its figures in
bench/out/<name>.json; this script adds bench/out/summary.txt (everything it printed).
Nothing is written outside bench/out/.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import BENCH, OUT, PY, ensure_out, machine_info

BENCHMARKS = (
    "render_full",
    "first_sound",
    "playlist_memory",
    "live_soak",
    "resample",
    "recorded_prompts",
    "decoder_start",
)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions, short soak")
    parser.add_argument("--only", nargs="+", choices=BENCHMARKS, help="run only these")
    args = parser.parse_args()
    ensure_out()
    summary = OUT / "summary.txt"
    failed = []
    with summary.open("w", encoding="utf-8") as log:

        def say(text: str) -> None:
            print(text, flush=True)
            log.write(text + "\n")
            log.flush()

        info = machine_info()
        say(
            f"voiceguide benchmarks, {time.strftime('%Y-%m-%d %H:%M')}"
            f"{' (quick)' if args.quick else ''}"
        )
        say(", ".join(f"{key}: {value}" for key, value in info.items()))
        for name in args.only or BENCHMARKS:
            say(f"\n=== {name} ===")
            started = time.perf_counter()
            command = [PY, str(BENCH / f"{name}.py")] + (["--quick"] if args.quick else [])
            process = subprocess.Popen(
                command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
            )
            assert process.stdout is not None
            for line in process.stdout:
                say(line.rstrip("\n"))
            code = process.wait()
            say(f"--- {name}: exit {code}, {time.perf_counter() - started:.0f} s")
            if code != 0:
                failed.append(name)
        say(f"\nfigures: {OUT}/*.json; this log: {summary}")
        if failed:
            say(f"FAILED: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
