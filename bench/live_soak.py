"""Issue 3: a long live session through a real sound server: memory, CPU and drift.

The script writes a test routine (5 pumping steps with music, 2 minutes each for the default
10-minute run; --minutes N scales them) and a generated 3-minute mp3 that loops under it. It
renders the routine once with --cues-json (the reference: what the plan says a listener should
hear; this also fills the voice and loudness caches), then plays it with `voiceguide start`
into a private PulseAudio null sink while `parec` records the monitor (tests/soundserver.py).

While it plays, /proc/PID/status (VmRSS, VmHWM) and /proc/PID/stat (utime + stime) of the
voiceguide process are read every second; ffmpeg decoders (its children) are tracked apart.

Reported:
- memory: VmRSS and VmHWM at minute 1 and at the end, and the VmRSS slope after minute 1;
- CPU: utime + stime over wall time, % of one core (whole run, and after minute 1);
- drift: recorded frames between the first and the last audible sample (|x| > 100) minus the
  same span in the reference render, in ms; and the same span on the wall clock (arrival
  times of the recorded chunks); plus whether the recording is sample-identical to the render;
- event lag: when the "step N" line appears on stdout vs when that step is heard.

Targets (issue 3): memory <= 150 MB and flat, CPU <= 5 %.

`--tree DIR` plays another checkout (its own .venv) instead of this one, and writes
live_soak-baseline.json. A soak takes about 3 % of a core, so two (this checkout's and a
baseline's) can run at the same time, and then both see the same load.

    .venv/bin/python bench/live_soak.py [--minutes 10] [--tree DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import threading
import time
import wave
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (
    AUDIO_CACHE,
    CURRENT,
    OUT,
    RATE,
    TESTS,
    baseline_tree,
    generate_music,
    load_average,
    print_table,
    remove,
    scratch_dir,
    verdict,
    voiceguide_env,
    write_result,
)

sys.path.insert(0, str(TESTS))

THRESHOLD = 100
STEPS = 5
TARGET_MB = 150.0
TARGET_FLAT_MB = 5.0  # "flat": VmRSS grows by less than this from minute 1 to the end
TARGET_CPU = 5.0
ANCHOR_FRAMES = int(0.3 * RATE)
SEARCH_FRAMES = 2 * RATE
CLK_TCK = os.sysconf("SC_CLK_TCK")


def routine_toml(step_seconds: float) -> str:
    steps = []
    for index in range(STEPS):
        steps.append(
            f'[[steps]]\nid = "pump-{index + 1}"\ntitle = "Pump, part {index + 1}"\n'
            f'say = "Keep pumping, part {index + 1}. Massage gently while the pump works."\n'
            f'duration = "{step_seconds:g}s"\npumping = true\n'
        )
    return (
        'format = 1\nname = "soak"\ntitle = "Soak test"\n'
        'description = "Five pumping steps with music, for the live soak benchmark."\n\n'
        '[intro]\nsay = "This is the soak test. Music plays in every step."\n\n'
        '[closing]\nsay = "That was the soak test."\n\n' + "\n".join(steps)
    )


@dataclass
class Sample:
    t: float  # seconds since launch
    rss_kb: int
    hwm_kb: int
    ticks: int  # utime + stime of the voiceguide process


@dataclass
class Monitor:
    pid: int
    launched: float
    samples: list[Sample] = field(default_factory=list)
    child_ticks: dict[int, int] = field(default_factory=dict)
    child_rss_kb: int = 0
    stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        while not self.stop.is_set():
            sample = self._sample()
            if sample is None:
                return
            self.samples.append(sample)
            self._scan_children()
            self.stop.wait(1.0)

    def _sample(self) -> Sample | None:
        try:
            status = Path(f"/proc/{self.pid}/status").read_text()
            stat = Path(f"/proc/{self.pid}/stat").read_text()
        except OSError:
            return None
        values = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        if "VmRSS" not in values:  # a zombie: the process has ended
            return None
        fields = stat.rsplit(")", 1)[1].split()
        return Sample(
            time.monotonic() - self.launched,
            int(values["VmRSS"].split()[0]),
            int(values["VmHWM"].split()[0]),
            int(fields[11]) + int(fields[12]),
        )

    def _scan_children(self) -> None:
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                if int(fields[1]) != self.pid:
                    continue
                self.child_ticks[int(entry.name)] = int(fields[11]) + int(fields[12])
                rss = int(fields[21]) * os.sysconf("SC_PAGE_SIZE") // 1024
                self.child_rss_kb = max(self.child_rss_kb, rss)
            except (OSError, IndexError, ValueError):
                continue


def read_wav(path: Path) -> np.ndarray:
    with wave.open(str(path), "rb") as wav:
        return np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2").reshape(-1, 2)


def audible_span(frames: np.ndarray) -> tuple[int, int]:
    loud = np.flatnonzero(np.abs(frames.astype(np.int32)).max(axis=1) > THRESHOLD)
    if not len(loud):
        raise RuntimeError("nothing audible")
    return int(loud[0]), int(loud[-1])


def longest_zero_run(frames: np.ndarray) -> int:
    silent = np.all(frames == 0, axis=1).astype(np.int8)
    if not silent.any():
        return 0
    edges = np.diff(np.concatenate([[0], silent, [0]]))
    return int((np.flatnonzero(edges == -1) - np.flatnonzero(edges == 1)).max())


def locate(heard: np.ndarray, reference: np.ndarray, ref_frame: int, guess: int) -> int | None:
    """Recording frame where reference[ref_frame:] (0.3 s of it) is heard, near `guess`.

    Exact match at `guess` first; otherwise the best normalised cross-correlation within
    SEARCH_FRAMES either side (None if nothing matches well: that cue is not in the recording).
    """
    template = reference[ref_frame : ref_frame + ANCHOR_FRAMES]
    if len(template) < ANCHOR_FRAMES or not np.abs(template).max():
        return None
    if np.array_equal(heard[guess : guess + ANCHOR_FRAMES], template):
        return guess
    lo = max(0, guess - SEARCH_FRAMES)
    window = heard[lo : guess + SEARCH_FRAMES + ANCHOR_FRAMES, 0].astype(np.float64)
    if len(window) < ANCHOR_FRAMES:
        return None
    t = template[:, 0].astype(np.float64)
    n = len(window) + len(t)
    size = 1 << (n - 1).bit_length()
    corr = np.fft.irfft(np.fft.rfft(window, size) * np.conj(np.fft.rfft(t, size)), size)
    corr = corr[: len(window) - len(t) + 1]
    # Energy of each window position, by running sums: np.convolve with a box of 0.3 s took
    # minutes per cue (it convolves directly), this takes milliseconds.
    running = np.concatenate([[0.0], np.cumsum(window**2)])
    energy = running[len(t) :] - running[: len(running) - len(t)]
    score = corr / np.sqrt(np.maximum(energy, 1e-9) * float((t**2).sum()))
    best = int(np.argmax(score))
    return lo + best if score[best] > 0.95 else None


def at_time(samples: list[Sample], t: float) -> Sample:
    for sample in samples:
        if sample.t >= t:
            return sample
    return samples[-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--minutes", type=float, default=10.0, help="session length (10)")
    parser.add_argument("--quick", action="store_true", help="a 2-minute session")
    parser.add_argument(
        "--save-audio", action="store_true", help="keep recording + reference in bench/out/"
    )
    parser.add_argument("--tree", metavar="DIR", help="play this checkout instead (baseline)")
    args = parser.parse_args()
    tree = baseline_tree(args.tree) if args.tree else CURRENT
    minutes = 2.0 if args.quick and args.minutes == 10.0 else args.minutes
    step_seconds = round(minutes * 60 / STEPS)

    from soundserver import PulseServer, Recorder

    music = generate_music(AUDIO_CACHE / "music-3min-soak.mp3", 180.0, freqs=(196.0, 294.0), seed=7)
    folder = scratch_dir("soak-")
    home = folder / "home"
    routine = folder / "soak.toml"
    routine.write_text(routine_toml(step_seconds))
    env = {**os.environ, **voiceguide_env(home)}
    ref_wav, plan_json = folder / "reference.wav", folder / "plan.json"
    load_before = load_average()
    print(
        f"live soak of {tree.label}: {STEPS} steps x {step_seconds} s with {music.name} looped;"
        f" load {load_before:.2f}",
        flush=True,
    )
    done = subprocess.run(
        [
            tree.python,
            "-m",
            "voiceguide",
            "render",
            "--routine",
            str(routine),
            "--music",
            str(music),
            "-o",
            str(ref_wav),
            "--cues-json",
            str(plan_json),
        ],
        env=env,
        cwd=tree.root,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        remove(folder)
        raise RuntimeError(done.stderr)
    plan = json.loads(plan_json.read_text())
    reference = read_wav(ref_wav)
    ref_first, _ref_last = audible_span(reference)
    plan_seconds = plan["total_frames"] / RATE
    print(f"  reference rendered: {plan_seconds / 60:.2f} min; playing live ...", flush=True)

    server = PulseServer(folder / "pulse")
    server.start()
    lines: list[tuple[float, str]] = []
    try:
        with Recorder(server) as recording:
            launched = time.monotonic()
            process = subprocess.Popen(
                [
                    tree.python,
                    "-m",
                    "voiceguide",
                    "start",
                    "--routine",
                    str(routine),
                    "--music",
                    str(music),
                ],
                env={**env, **server.env},
                cwd=tree.root,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            monitor = Monitor(process.pid, launched)
            watcher = threading.Thread(target=monitor.run, daemon=True)
            watcher.start()

            def read_stdout() -> None:
                assert process.stdout is not None
                for line in process.stdout:
                    lines.append((time.monotonic(), line.rstrip("\n")))

            reader = threading.Thread(target=read_stdout, daemon=True)
            reader.start()
            try:
                code = process.wait(timeout=plan_seconds + 120)
            except subprocess.TimeoutExpired:
                process.kill()
                code = process.wait()
            ended = time.monotonic()
            monitor.stop.set()
            watcher.join(timeout=5)
            reader.join(timeout=5)
            stderr = process.stderr.read() if process.stderr else ""
    finally:
        server.stop()
    heard = recording.frames()
    if args.save_audio:
        arrivals = np.array(recording.arrivals)
        np.savez(
            OUT / "live_soak_audio.npz",
            heard=heard,
            reference=reference,
            arrivals=arrivals,
            launched=launched,
        )
        (OUT / "live_soak_plan.json").write_text(json.dumps(plan))
        (OUT / "live_soak_stdout.txt").write_text(
            "".join(f"{t - launched:.3f} {line}\n" for t, line in lines) + stderr
        )
    remove(folder)
    if code != 0:
        raise RuntimeError(f"voiceguide start exited {code}: {stderr[-2000:]}")

    # -- drift and exactness ------------------------------------------------------------------
    # The live session may end differently from the render (`start` adds a logbook sentence
    # to the closing), so drift is measured at anchors both share: each cue's onset, found
    # in the recording by its first 0.3 s of the reference mix.
    rec_first, _rec_last = audible_span(heard)
    offset = rec_first - ref_first
    same = heard[offset : offset + len(reference)]
    compared = min(len(same), len(reference))
    differs = np.flatnonzero(np.any(same[:compared] != reference[:compared], axis=1))
    identical_until = int(differs[0]) if len(differs) else compared
    anchors = []
    for cue in plan["cues"]:
        found = locate(heard, reference, cue["start_frame"], cue["start_frame"] + offset)
        if found is not None:
            anchors.append((cue, found - (cue["start_frame"] + offset)))
    last_cue, last_drift = anchors[-1] if anchors else (None, 0)
    # Where the drift changes between two anchors, sound was inserted (+) or lost (-) there.
    jumps = []
    previous = 0
    for cue, drift in anchors:
        if drift != previous:
            jumps.append((cue["start_frame"] / RATE, (drift - previous) / RATE * 1000))
            previous = drift
    # The sound server's clock against the wall clock: arrival of each anchor vs the plan.
    start_t = recording.time_of(rec_first)
    planned_t = np.array([(c["start_frame"] - ref_first) / RATE for c, _ in anchors])
    arrived_t = np.array(
        [recording.time_of(c["start_frame"] + offset + d) - start_t for c, d in anchors]
    )
    lateness = arrived_t - planned_t - np.array([d / RATE for _, d in anchors])
    ppm = float(np.polyfit(planned_t, lateness, 1)[0] * 1e6) if len(anchors) > 2 else float("nan")
    span_frames = (last_cue["start_frame"] - ref_first) if last_cue else 0
    wall_drift = float("nan")
    if last_cue is not None:
        heard_at = last_cue["start_frame"] + offset + last_drift
        wall_span = recording.time_of(heard_at) - recording.time_of(rec_first)
        wall_drift = wall_span - span_frames / RATE
    music_gaps = [
        longest_zero_run(heard[s["start_frame"] + offset : s["end_frame"] + offset])
        for s in plan["music_spans"]
    ]
    ref_gaps = [
        longest_zero_run(reference[s["start_frame"] : s["end_frame"]]) for s in plan["music_spans"]
    ]
    step_lines = []
    for arrived, line in lines:
        match = re.search(r"\] step (\d+):", line)
        if match:
            step = plan["steps"][int(match.group(1)) - 1]
            heard_at = recording.time_of(offset + step["start_frame"])
            step_lines.append((int(match.group(1)), arrived - heard_at))

    # -- memory and CPU -----------------------------------------------------------------------
    samples = monitor.samples
    total = ended - launched
    early_t = min(60.0, total / 2)
    early = at_time(samples, early_t)
    last = samples[-1]
    after = [s for s in samples if s.t >= early.t]
    slope = float(np.polyfit([s.t / 60 for s in after], [s.rss_kb / 1024 for s in after], 1)[0])
    cpu_all = last.ticks / CLK_TCK / last.t * 100
    cpu_steady = (last.ticks - early.ticks) / CLK_TCK / max(last.t - early.t, 1e-9) * 100
    child_cpu = sum(monitor.child_ticks.values()) / CLK_TCK / total * 100
    peak_hwm = max(s.hwm_kb for s in samples) / 1024
    growth = (last.rss_kb - early.rss_kb) / 1024

    warnings = [line for line in stderr.splitlines() if line.startswith(("warning:", "error:"))]
    for line in warnings:
        print(f"  voiceguide said: {line}")
    print(
        f"\nplan {plan_seconds / 60:.2f} min; played {total / 60:.2f} min (launch to exit); "
        f"{len(samples)} samples; load {load_before:.2f} -> {load_average():.2f}"
    )
    print_table(
        "Memory of the voiceguide process (MB)",
        ["when", "t s", "VmRSS", "VmHWM"],
        [
            [f"minute {early.t / 60:.0f}", early.t, early.rss_kb / 1024, early.hwm_kb / 1024],
            ["end", last.t, last.rss_kb / 1024, last.hwm_kb / 1024],
            ["VmRSS slope after minute 1 (MB/min)", "", slope, ""],
            ["largest ffmpeg child VmRSS", "", monitor.child_rss_kb / 1024, ""],
        ],
    )
    print_table(
        "CPU (% of one core)",
        ["what", "%"],
        [
            ["voiceguide, launch to last sample", cpu_all],
            [f"voiceguide, minute {early.t / 60:.0f} to end", cpu_steady],
            ["ffmpeg decoders (its children)", child_cpu],
        ],
    )
    print_table(
        "Drift: recording vs reference render, at the cue onsets both share",
        ["what", "value"],
        [
            ["cue onsets found in the recording", f"{len(anchors)} of {len(plan['cues'])}"],
            ["span: first sound to last cue found (s)", span_frames / RATE],
            ["recorded - planned frames over that span (ms)", last_drift / RATE * 1000],
            [
                "largest |drift| at any cue onset (ms)",
                max((abs(d) for _, d in anchors), default=0) / RATE * 1000,
            ],
            ["wall clock (chunk arrivals) - planned, same span (ms)", wall_drift * 1000],
            ["sound server clock vs wall clock (ppm, fit over cues)", ppm],
            *[
                [f"sound {'inserted' if ms > 0 else 'lost'} before the cue at {t:.0f} s (ms)", ms]
                for t, ms in jumps
            ],
            ["recording sample-identical to the render for (s)", identical_until / RATE],
            ["reference length (s)", len(reference) / RATE],
            ["longest digital silence in music, recording (ms)", max(music_gaps) / RATE * 1000],
            ["longest digital silence in music, render (ms)", max(ref_gaps) / RATE * 1000],
            *[[f"'step {n}' line printed after heard (ms)", lag * 1000] for n, lag in step_lines],
        ],
    )
    print_table(
        "Targets",
        ["target", "measured", "verdict"],
        [
            [
                f"peak memory <= {TARGET_MB:.0f} MB",
                f"{peak_hwm:.1f} MB (VmHWM)",
                verdict(peak_hwm <= TARGET_MB),
            ],
            [
                f"flat: VmRSS growth after minute 1 < {TARGET_FLAT_MB:.0f} MB",
                f"{growth:+.1f} MB ({slope:+.2f} MB/min)",
                verdict(abs(growth) < TARGET_FLAT_MB),
            ],
            [
                f"CPU <= {TARGET_CPU:.0f} % (launch to end)",
                f"{cpu_all:.1f} %",
                verdict(cpu_all <= TARGET_CPU),
            ],
        ],
    )
    path = write_result(
        "live_soak" if tree is CURRENT else "live_soak-baseline",
        {
            "tree": {tree.label: str(tree.root)},
            "minutes": minutes,
            "step_seconds": step_seconds,
            "plan_seconds": plan_seconds,
            "played_seconds": total,
            "memory": {
                "early_t": early.t,
                "early_rss_mb": early.rss_kb / 1024,
                "early_hwm_mb": early.hwm_kb / 1024,
                "end_t": last.t,
                "end_rss_mb": last.rss_kb / 1024,
                "end_hwm_mb": last.hwm_kb / 1024,
                "rss_slope_mb_per_min": slope,
                "growth_mb": growth,
                "largest_child_rss_mb": monitor.child_rss_kb / 1024,
                "series": [(round(s.t, 1), s.rss_kb, s.hwm_kb, s.ticks) for s in samples],
            },
            "cpu_percent": {"all": cpu_all, "after_minute_1": cpu_steady, "children": child_cpu},
            "drift": {
                "span_s": span_frames / RATE,
                "frames_ms": last_drift / RATE * 1000,
                "max_abs_ms": max((abs(d) for _, d in anchors), default=0) / RATE * 1000,
                "anchors_found": len(anchors),
                "cues": len(plan["cues"]),
                "wall_ms": wall_drift * 1000,
                "clock_ppm": ppm,
                "jumps_ms": jumps,
                "anchor_lateness_ms": [
                    (round(t, 2), round(x * 1000, 2))
                    for t, x in zip(planned_t.tolist(), lateness.tolist(), strict=True)
                ],
                "identical_s": identical_until / RATE,
                "reference_s": len(reference) / RATE,
                "longest_music_silence_ms": max(music_gaps) / RATE * 1000,
                "longest_music_silence_render_ms": max(ref_gaps) / RATE * 1000,
                "step_line_lag_ms": [(n, lag * 1000) for n, lag in step_lines],
            },
            "warnings": warnings,
            "load_before": load_before,
            "load_after": load_average(),
        },
    )
    print(f"\nfigures: {path}")


if __name__ == "__main__":
    main()
