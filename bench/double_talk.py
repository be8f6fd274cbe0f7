"""Commands said over the program's own speech against commands said between its words.

    .venv/bin/python bench/double_talk.py

Reads the last `bench/voice_eval.py --only commands` run (bench/out/voice_eval.json), rebuilds
each session's truth from its seed (the same draws: nothing is decoded again), and splits the
commands by whether they overlap a spoken cue of the rendered session. Prints right, wrong and
missed per speech-to-echo ratio for both groups.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import OUT, PY, print_table, scratch_dir
from voice_eval import HOME, RATE, build_mic, render_reference

from voiceguide.audioformat import MIX_RATE_HZ


def spoken_spans_seconds() -> list[tuple[float, float]]:
    """(start, end) of every spoken cue of the session the commands are said over."""
    folder = scratch_dir("double-talk")
    cues = folder / "cues.json"
    env = {**os.environ, "VOICEGUIDE_HOME": str(HOME)}
    subprocess.run(
        [PY, "-m", "voiceguide", "render", "--routine", "hands-on-pumping",
         "-o", str(folder / "ref.wav"), "--cues-json", str(cues)],
        check=True, env=env, capture_output=True,
    )  # fmt: skip
    plan = json.loads(cues.read_text())
    return [
        (c["start_frame"] / MIX_RATE_HZ, c["end_frame"] / MIX_RATE_HZ)
        for c in plan["cues"]
        if c["text"]
    ]


def main() -> int:
    result = json.loads((OUT / "voice_eval.json").read_text())
    spans = spoken_spans_seconds()
    counts: dict[tuple[float, str], list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for record in result["commands"]:
        _mic, _played, truths = build_mic(
            render_reference(0), seed=record["seed"], ratio_db=record["ratio_db"],
            n_commands=record["commands"], with_echo=record["echo"],
        )  # fmt: skip
        assert len(truths) == len(record["details"])
        for truth, (_voice, said, got, _near) in zip(truths, record["details"], strict=True):
            assert said == truth.text
            a, b = truth.start / RATE, truth.end / RATE
            over = any(s < b and a < e for s, e in spans)
            row = counts[(record["ratio_db"], "over the program's speech" if over else "clear")]
            right = truth.command in got
            row[0] += 1
            row[1] += right
            row[2] += sum(1 for g in got if g != truth.command)
            row[3] += not right
    rows = [
        [f"{ratio:+g}", group, n, right, wrong, missed, f"{100 * right / n:.1f}"]
        for (ratio, group), (n, right, wrong, missed) in sorted(
            counts.items(), key=lambda item: (-item[0][0], item[0][1])
        )
    ]
    print_table(
        "commands by overlap with the program's speech",
        ["dB", "said", "commands", "right", "wrong", "missed", "right %"],
        rows,
    )
    for group in ("clear", "over the program's speech"):
        total = [sum(v[i] for (_, g), v in counts.items() if g == group) for i in range(4)]
        print(f"{group}: {total[1]} of {total[0]} right, {total[2]} wrong, {total[3]} missed")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
