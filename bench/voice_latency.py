"""Issue 10: voice command latency end to end, from the end of the spoken words to the effect
in the speaker's sound, on the test rig (a private PulseAudio: "speaker", a 40 ms loopback
into "room", the microphone on room's monitor).

It runs the rig's two command tests of tests/test_voice_session.py (`voiceguide start
--listen` on the demo; talkers played into the room at 0 dB speech-to-echo) N times. Each
test finds, in the recording of the speaker, when each command's effect began and notes it
(VOICEGUIDE_LATENCY_RECORD):
- next: the next step's announcement begins;
- pause: the sound has gone silent (after its 80 ms fade);
- resume: the sound is back;
- stop: the sound has gone silent.

The effect is what the listener hears: the voice detector's hang-over (0.3 s, during which
the utterance is decoded) and the edit margin (the output's 300 ms device buffer + 50 ms) lie
inside it.

    .venv/bin/python bench/voice_latency.py [--runs 5]

Target (issue 10): <= 0.8 s median. About 3.5 minutes a run.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (
    PY,
    ROOT,
    load_average,
    median,
    print_table,
    remove,
    scratch_dir,
    spread,
    verdict,
    write_result,
)

TESTS = [
    "tests/test_voice_session.py",
    "-k",
    "commands_said_over_the_demo or spoken_amounts",
]
TARGET_SECONDS = 0.8


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    folder = scratch_dir("voice-latency-")
    record = folder / "latencies.jsonl"
    runs = []
    try:
        for index in range(args.runs):
            load = load_average()
            started = time.perf_counter()
            done = subprocess.run(
                [PY, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                 f"--basetemp={folder / f'run{index}'}", *TESTS],
                cwd=ROOT, capture_output=True, text=True, check=False,
                env={**os.environ, "VOICEGUIDE_LATENCY_RECORD": str(record)},
            )  # fmt: skip
            lines = done.stdout.strip().splitlines()
            summary = lines[-1] if lines else ""
            seconds = time.perf_counter() - started
            run = {"load": load, "passed": done.returncode == 0, "summary": summary}
            if done.returncode != 0:
                run["output"] = lines[-60:]  # what failed, kept with the figures
            runs.append(run)
            print(f"run {index + 1}: {summary} in {seconds:.0f} s, load {load:.2f} at start",
                  flush=True)  # fmt: skip
        measured = [json.loads(line) for line in record.read_text().splitlines()] if (
            record.is_file()) else []  # fmt: skip
    finally:
        remove(folder)
    by_command: dict[str, list[float]] = {}
    for entry in measured:
        by_command.setdefault(entry["command"], []).append(entry["seconds"])
    every = [s for values in by_command.values() for s in values]
    rows = [(c, len(v), median(v), spread(v)) for c, v in sorted(by_command.items())]
    rows.append(("all", len(every), median(every), spread(every)))
    print_table(
        "End of the words -> effect in the speaker's sound, seconds",
        ["command", "n", "median", "range"],
        rows,
    )
    ok = bool(every) and median(every) <= TARGET_SECONDS
    print(f"\ntarget: median <= {TARGET_SECONDS} s: {verdict(ok)}")
    path = write_result(
        "voice_latency",
        {"runs": runs, "latencies": by_command, "median_seconds": median(every)},
    )
    print(f"figures: {path}")
    return 0 if all(r["passed"] for r in runs) else 1


if __name__ == "__main__":
    raise SystemExit(main())
