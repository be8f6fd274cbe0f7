"""Recorded prompts: the time to make a clip of a user's sound file, cold and warm, against a
synthesized clip of the same sentence measured in the same run; and the speech level.

Each run is a new interpreter that makes one clip, timed from after voiceguide's own imports
(which a start has paid anyway; pydub's, inside the loader, is counted):
- recorded, cold: an empty clip cache (pydub's import, ffprobe and ffmpeg, silence, soxr);
- recorded, warm: the clip cached by a run before (what every later start does);
- synthesized, cold and warm: the same sentence through `Voice.clip` (the default engine),
  the baseline: what the line cost before it was recorded.
The recordings are espeak-ng speech with 0.8 s and 0.6 s of quiet noise around it, encoded by
ffmpeg (mp3, m4a, ogg, wav, flac), made once in bench/out/audio/. The runs take turns.

Then the level: the peak and RMS of the synthesized clips of hands-on-pumping (what recordings
are brought to), and of the recordings after loading.

    .venv/bin/python bench/recorded_prompts.py [--runs 7] [--quick]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import wave
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (
    AUDIO_CACHE,
    PY,
    ROOT,
    load_average,
    median,
    print_table,
    remove,
    scratch_dir,
    spread,
    write_result,
)

SENTENCE = "Start the pump now, and relax your shoulders while the milk flows."
FORMATS = {
    "mp3": ["-c:a", "libmp3lame", "-b:a", "192k", "-ar", "44100"],
    "m4a": ["-c:a", "aac", "-b:a", "192k", "-ar", "48000", "-ac", "2"],
    "ogg": ["-c:a", "libvorbis", "-q:a", "6", "-ar", "32000"],
    "wav": ["-c:a", "pcm_s16le"],
    "flac": ["-c:a", "flac", "-ar", "48000", "-ac", "2"],
}

CHILD = r"""
import json, sys, time
from pathlib import Path
kind, source, cache = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
from voiceguide.audioclip import load_clip
from voiceguide.speech.voice import Voice, VoiceSettings
started = time.perf_counter()  # the imports a start has paid anyway are not counted
if kind == "recorded":
    clip = load_clip(source, peak_dbfs=-3.0, max_seconds=60.0, cut_longer=False,
                     cache_dir=cache).samples
else:
    voice = Voice(VoiceSettings(), cache)
    clip = voice.clip(sys.argv[4])
    voice.close()
print(json.dumps({"seconds": time.perf_counter() - started, "frames": len(clip),
                  "pydub": "pydub" in sys.modules}))
"""


def make_recordings() -> dict[str, Path]:
    folder = AUDIO_CACHE / "recorded"
    folder.mkdir(parents=True, exist_ok=True)
    speech = folder / "speech.wav"
    if not speech.exists():
        subprocess.run(
            ["espeak-ng", "-v", "en-gb-x-rp+f4", "-s", "135", "-w", str(speech), SENTENCE],
            check=True, capture_output=True, env={"PULSE_SERVER": "unix:/dev/null/none"},
        )  # fmt: skip
    found = {}
    for fmt, codec in FORMATS.items():
        target = folder / f"prompt.{fmt}"
        if not target.exists():
            subprocess.run(
                ["ffmpeg", "-nostdin", "-loglevel", "error", "-y",
                 "-f", "lavfi", "-i", "anoisesrc=a=0.0003:r=22050:d=0.8",
                 "-i", str(speech), "-f", "lavfi", "-i", "anoisesrc=a=0.0003:r=22050:d=0.6",
                 "-filter_complex", "[0][1][2]concat=n=3:v=0:a=1", *codec, str(target)],
                check=True,
            )  # fmt: skip
        found[fmt] = target
    return found


def run(kind: str, source: Path, cache: Path, text: str = "") -> dict:
    done = subprocess.run(
        [PY, "-c", CHILD, kind, str(source), str(cache), text],
        capture_output=True, text=True, check=True, cwd=ROOT,
    )  # fmt: skip
    return json.loads(done.stdout.strip().splitlines()[-1])


def levels() -> dict[str, dict[str, float]]:
    """Peak and RMS (dBFS) of the synthesized clips of hands-on-pumping and of the loaded
    recordings, from one in-process pass."""
    from voiceguide.audioclip import load_clip
    from voiceguide.mix.plan import PlanSettings, step_texts
    from voiceguide.routine.load import load_builtin
    from voiceguide.speech.voice import Voice, VoiceSettings

    home = scratch_dir("levels-")
    try:
        voice = Voice(VoiceSettings(), home / "voice")
        texts = step_texts(load_builtin("hands-on-pumping"), PlanSettings())
        synthesized = [voice.clip(t) for t in texts if isinstance(t, str)]
        voice.close()
        recorded = [
            load_clip(p, peak_dbfs=-3.0, max_seconds=60, cut_longer=False, cache_dir=home).samples
            for p in make_recordings().values()
        ]
    finally:
        remove(home)

    def db(clips: list[np.ndarray]) -> dict[str, float]:
        rms = [float(np.sqrt(np.mean((c.astype(np.float64) / 32768) ** 2))) for c in clips]
        peaks = [float(np.abs(c.astype(np.float64)).max() / 32768) for c in clips]
        return {
            "peak_dbfs_median": round(20 * np.log10(median(peaks)), 2),
            "rms_dbfs_median": round(20 * np.log10(median(rms)), 2),
            "rms_dbfs_min": round(20 * np.log10(min(rms)), 2),
            "rms_dbfs_max": round(20 * np.log10(max(rms)), 2),
            "clips": len(clips),
        }

    return {"synthesized": db(synthesized), "recorded": db(recorded)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--quick", action="store_true", help="2 runs")
    args = parser.parse_args()
    runs = 2 if args.quick else args.runs
    recordings = make_recordings()
    with wave.open(str(AUDIO_CACHE / "recorded" / "speech.wav")) as wav:
        speech_seconds = wav.getnframes() / wav.getframerate()
    loads = [load_average()]
    times: dict[str, list[float]] = {}
    for index in range(runs):
        for fmt, source in recordings.items():
            cache = scratch_dir("clips-")
            try:
                cold = run("recorded", source, cache)
                warm = run("recorded", source, cache)
                assert cold["pydub"] and not warm["pydub"], "a warm load imported pydub"
                times.setdefault(f"recorded {fmt}, cold", []).append(cold["seconds"])
                times.setdefault(f"recorded {fmt}, warm", []).append(warm["seconds"])
            finally:
                remove(cache)
        cache = scratch_dir("voice-")
        try:
            # A new sentence each run: the engine's own caches cannot help the cold one.
            text = f"{SENTENCE} ({index})"
            times.setdefault("synthesized, cold", []).append(
                run("voice", cache, cache, text)["seconds"]
            )
            times.setdefault("synthesized, warm", []).append(
                run("voice", cache, cache, text)["seconds"]
            )
        finally:
            remove(cache)
        loads.append(load_average())
    base = {temp: median(times[f"synthesized, {temp}"]) for temp in ("cold", "warm")}
    rows = [
        [name, f"{median(values):.3f}", spread(values),
         f"{median(values) / base[name.rsplit(', ', 1)[1]]:.2f}"]
        for name, values in times.items()
    ]  # fmt: skip
    print_table(
        f"One clip, in a new interpreter ({speech_seconds:.1f} s of speech, {runs} runs, s)",
        ["clip", "median", "range", "/ synthesized"],
        rows,
    )
    level = levels()
    print_table(
        "Levels (dBFS)",
        ["clips", "peak (median)", "RMS median", "RMS min", "RMS max", "n"],
        [[name, *values.values()] for name, values in level.items()],
    )
    write_result(
        "recorded_prompts",
        {"runs": runs, "times": times, "levels": level, "load_average": loads},
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
