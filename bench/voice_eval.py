"""Voice commands offline: a simulated room around a rendered session, run through the pipeline.

Material (cached in bench/out/voice/):
- reference: `voiceguide render` of hands-on-pumping (music + the program's own speech).
- echo: the reference, resampled to 16 kHz by ffmpeg (not by our resampler, as PulseAudio
  would for the microphone) and convolved with a synthetic room impulse response: 37 ms
  delay, exponentially decaying noise tail with RT60 0.3 s.
- commands: "voice guide <command>" spoken by espeak-ng variants unlike the program's voice
  (the program uses the default en-us voice), random rate and pitch, at random times, through
  a short near-field response, scaled to a speech-to-echo ratio: utterance RMS against the
  RMS of the whole echo signal.
- pump noise: band-passed noise bursts at about 1 Hz, 18 dB under the voice.

The pipeline is the one the live listener runs (voiceguide.listen.pipeline), fed 1 s blocks
with the reference resampled by voiceguide.listen.reference, aligned sample for sample (the
echo's own 37 ms delay lies inside the canceller's tail).

    .venv/bin/python bench/voice_eval.py                 # everything (a few minutes)
    .venv/bin/python bench/voice_eval.py --only commands --ratios 0
    .venv/bin/python bench/voice_eval.py --only false --renders 2
    .venv/bin/python bench/voice_eval.py --only clean --draws 2     # the words alone, no echo
    .venv/bin/python bench/voice_eval.py --only wake --draws 2      # "voice guide hello"
    .venv/bin/python bench/voice_eval.py --only phrasings           # "voice guide start again"
    .venv/bin/python bench/voice_eval.py --only headphones --sessions 3  # no echo in the mic
    .venv/bin/python bench/voice_eval.py --only amounts --amounts 240
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import statistics
import subprocess
import sys
import time
import wave
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from common import OUT, generate_music, print_table, write_result

from voiceguide.listen import grammar
from voiceguide.listen.format import FRAME_SAMPLES, LISTEN_RATE_HZ
from voiceguide.listen.pipeline import MAX_ECHO_LINEAR, MAX_ECHO_SHARE, Heard, Pipeline
from voiceguide.listen.reference import array_fetcher, resample

VOICE_OUT = OUT / "voice"
HOME = VOICE_OUT / "home"
PY = sys.executable
RATE = LISTEN_RATE_HZ

TEST_VOICES = [
    "en-us+f2",
    "en+m3",
    "en-gb+f4",
    "en-us+klatt",
    "en+f3",
    "en-gb-x-rp+m7",
    "en-029+f1",
    "en-gb-scotland+m4",
    "en+klatt3",
    "en-us-nyc+f5",
]
"""espeak-ng variants for the test talkers: none is the program's own default en-us voice."""

DISTRACTORS = [
    "the weather is nice today",
    "can you pass me the bottle",
    "next time we should start earlier",
    "voice guide",
    "guide me to the kitchen",
    "I need a little more time",
    "stop it please",
    "how long did the baby sleep",
    "voice guide banana",
    "pause the television",
    "one more minute and I am done",
    "go back to bed",
    "repeat after me",
    "the voice on the radio",
    "what a good guide",
]
"""Room talk that is not a command (some share words with the grammar)."""

RENDER_VARIANTS: list[list[str]] = [
    [],
    ["--first-side", "right", "--rate", "170"],
    ["--music", "@music-a", "--rate", "135"],
    ["--music-level", "3", "--speech-level", "-2"],
    ["--music", "@music-b", "--first-side", "right"],
    ["--rate", "160", "--music-level", "-3"],
]
"""Different sessions for the command-free hours (6 x 21.4 min = 2.1 h)."""


# -- material ------------------------------------------------------------------------------------
def render_reference(index: int) -> Path:
    """A rendered hands-on-pumping session (44.1 kHz stereo WAV), cached."""
    path = VOICE_OUT / f"ref{index}.wav"
    if path.is_file():
        return path
    VOICE_OUT.mkdir(parents=True, exist_ok=True)
    args = []
    for given in RENDER_VARIANTS[index]:
        arg = given
        if given.startswith("@music-"):
            seed = 11 if arg.endswith("a") else 12
            freqs = (196.0, 294.0) if arg.endswith("a") else (262.0, 392.0)
            arg = str(generate_music(VOICE_OUT / f"{arg[1:]}.mp3", 1400, freqs=freqs, seed=seed))
        args.append(arg)
    env = {**os.environ, "VOICEGUIDE_HOME": str(HOME)}
    cmd = [PY, "-m", "voiceguide", "render", "--routine", "hands-on-pumping", *args]
    subprocess.run([*cmd, "-o", str(path)], check=True, env=env, capture_output=True)
    return path


def read_wav(path: Path) -> np.ndarray:
    with wave.open(str(path), "rb") as w:
        data = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")
        return data.reshape(-1, w.getnchannels())


def to_16k(samples: np.ndarray, rate: int) -> np.ndarray:
    """Mono float at 16 kHz via ffmpeg's resampler (independent of the one under test)."""
    pcm = np.ascontiguousarray(samples, dtype="<i2").tobytes()
    channels = 1 if samples.ndim == 1 else samples.shape[1]
    out = subprocess.run(
        [
            "ffmpeg",
            "-v",
            "error",
            "-f",
            "s16le",
            "-ar",
            str(rate),
            "-ac",
            str(channels),
            "-i",
            "pipe:0",
            "-f",
            "s16le",
            "-ar",
            str(RATE),
            "-ac",
            "1",
            "pipe:1",
        ],
        input=pcm,
        capture_output=True,
        check=True,
    ).stdout
    return np.frombuffer(out, dtype="<i2").astype(np.float64)


def room_response(
    rng: np.random.Generator, delay_s: float, rt60_s: float, drr_db: float
) -> np.ndarray:
    """Direct path after `delay_s`, then an exponentially decaying noise tail (RT60)."""
    length = int((delay_s + rt60_s * 1.2) * RATE)
    h = np.zeros(length)
    d = int(delay_s * RATE)
    h[d] = 1.0
    t = np.arange(length - d - 1) / RATE
    tail = rng.standard_normal(len(t)) * np.exp(-6.91 * t / rt60_s)
    # Scale the tail to the direct-to-reverberant ratio.
    tail *= 10 ** (-drr_db / 20) / np.sqrt(np.sum(tail**2))
    h[d + 1 :] += tail
    return h


def fft_convolve(x: np.ndarray, h: np.ndarray) -> np.ndarray:
    n = len(x) + len(h) - 1
    size = 1 << (n - 1).bit_length()
    return np.fft.irfft(np.fft.rfft(x, size) * np.fft.rfft(h, size), size)[: len(x)]


def room_echo(ref_path: Path, played: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The reference through the room (cached per rendered file: the response is drawn first
    from each seed's generator, so the generator is advanced the same way either way)."""
    response = room_response(rng, 0.037, 0.3, 3.0)
    cache = ref_path.with_suffix(f".echo-{hashlib.sha1(response.tobytes()).hexdigest()[:10]}.npy")
    if cache.is_file():
        return np.load(cache).astype(np.float64)
    echo = fft_convolve(to_16k(played, 44_100), response)
    _save_atomic(cache, echo.astype(np.float32))
    return echo


def speak(text: str, voice: str, rate_wpm: int, pitch: int) -> np.ndarray:
    """espeak-ng to 16 kHz float, trimmed of leading and trailing silence (cached)."""
    cache = VOICE_OUT / "speech" / f"{voice}_{rate_wpm}_{pitch}_{text.replace(' ', '_')}.npy"
    if cache.is_file():
        return np.load(cache)
    cache.parent.mkdir(parents=True, exist_ok=True)
    clip = _speak(text, voice, rate_wpm, pitch)
    _save_atomic(cache, clip)
    return clip


def _save_atomic(path: Path, array: np.ndarray) -> None:
    """Written aside, then renamed: workers that speak the same words at once (the two
    arms of the amounts) read either no file or a whole one ("No data left in file")."""
    aside = path.with_name(f".{path.name}.{os.getpid()}.npy")
    np.save(aside, array)
    os.replace(aside, path)


def _speak(text: str, voice: str, rate_wpm: int, pitch: int) -> np.ndarray:
    wav = subprocess.run(
        [
            "espeak-ng",
            "-a",
            "100",
            "-v",
            voice,
            "-s",
            str(rate_wpm),
            "-p",
            str(pitch),
            "--stdout",
            text,
        ],
        capture_output=True,
        check=True,
    ).stdout
    raw = np.frombuffer(wav[44:], dtype="<i2")
    x = to_16k(raw, 22_050)
    loud = np.flatnonzero(np.abs(x) > 200)
    return x[loud[0] : loud[-1] + 1] if len(loud) else x


def pump_noise(rng: np.random.Generator, n: int) -> np.ndarray:
    """Band-passed noise bursts at ~1 Hz (an electric breast pump's rhythm), unit RMS."""
    noise = rng.standard_normal(n)
    spectrum = np.fft.rfft(noise)
    freqs = np.fft.rfftfreq(n, 1 / RATE)
    spectrum[(freqs < 150) | (freqs > 1800)] = 0
    band = np.fft.irfft(spectrum, n)
    envelope = np.zeros(n)
    t = 0.0
    while t < n / RATE:
        a, b = int(t * RATE), int(min(t + 0.45, n / RATE) * RATE)
        envelope[a:b] = np.hanning(2 * (b - a) + 2)[1 : b - a + 1] if b > a else 0
        t += 1.0 + rng.uniform(-0.08, 0.08)
    out = band * envelope
    return out / np.sqrt(np.mean(out**2))


@dataclass
class Truth:
    start: int
    end: int
    text: str
    command: str | None  # None: a distractor, must yield nothing
    voice: str


def build_mic(
    ref_path: Path,
    *,
    seed: int,
    ratio_db: float,
    n_commands: int,
    n_distractors: int = 0,
    with_noise: bool = True,
    with_echo: bool = True,
) -> tuple[np.ndarray, np.ndarray, list[Truth]]:
    """(mic int16 16 kHz, reference int16 stereo 44.1 kHz, truth) for one simulated session.
    Without `with_echo` the program plays but does not reach the microphone (headphones): the
    voice keeps the level it would have had against the echo."""
    rng = np.random.default_rng(seed)
    played = read_wav(ref_path)
    echo = room_echo(ref_path, played, rng)
    echo_rms = float(np.sqrt(np.mean(echo**2)))
    voice_rms = echo_rms * 10 ** (ratio_db / 20)
    near = room_response(rng, 0.002, 0.3, 12.0)
    speech = np.zeros_like(echo)
    truths: list[Truth] = []
    total = n_commands + n_distractors
    # Random times, at least 7 s apart, after the first 12 s (the canceller converging).
    slots = np.sort(rng.choice(np.arange(12, int(len(echo) / RATE) - 6, 7), total, replace=False))
    kinds = [True] * n_commands + [False] * n_distractors
    rng.shuffle(kinds)
    for i, (slot, is_command) in enumerate(zip(slots, kinds, strict=True)):
        voice = TEST_VOICES[i % len(TEST_VOICES)]
        if is_command:
            words, command, _ = grammar.COMMAND_PHRASES[rng.integers(len(grammar.COMMAND_PHRASES))]
            text = f"voice guide {words}"
        else:
            text, command = DISTRACTORS[rng.integers(len(DISTRACTORS))], None
        clip = speak(text, voice, int(rng.integers(130, 191)), int(rng.integers(25, 76)))
        clip = fft_convolve(clip, near)
        clip *= voice_rms / np.sqrt(np.mean(clip**2))
        start = int((slot + rng.uniform(0, 3)) * RATE)
        speech[start : start + len(clip)] += clip[: len(speech) - start]
        truths.append(Truth(start, start + len(clip), text, command, voice))
    mic = echo + speech if with_echo else speech
    if with_noise:
        mic += pump_noise(rng, len(echo)) * voice_rms * 10 ** (-18 / 20)
    peak = np.max(np.abs(mic))
    if peak > 30_000:
        mic *= 30_000 / peak
    return np.rint(mic).astype(np.int16), played, truths


# -- running -------------------------------------------------------------------------------------
def run_pipeline(
    mic: np.ndarray, played: np.ndarray, *, block_s: float = 1.0, **options: object
) -> tuple[list[Heard], float, list[str]]:
    """Heard utterances, CPU seconds, warnings."""
    warnings: list[str] = []
    pipeline = Pipeline(warnings.append, **options)  # type: ignore[arg-type]
    fetch = array_fetcher(played)
    block = int(block_s * RATE) // FRAME_SAMPLES * FRAME_SAMPLES
    usable = len(mic) // FRAME_SAMPLES * FRAME_SAMPLES
    heard: list[Heard] = []
    cpu0 = time.process_time()
    for at in range(0, usable, block):
        n = min(block, usable - at)
        ref = resample(fetch, 0, at, n)
        heard.extend(pipeline.feed(mic[at : at + n], ref))
    cpu = time.process_time() - cpu0
    pipeline.close()
    return heard, cpu, warnings


def _record(h: Heard) -> tuple[object, ...]:
    """(start s, words, fit, margin, passed the echo checks, accepted, voice outside the
    words s): enough to score the same run again offline at other thresholds."""
    r = h.recognition
    gate = h.echo_ready and h.echo_share <= MAX_ECHO_SHARE and h.echo_linear <= MAX_ECHO_LINEAR
    return (
        round(h.start_sample / RATE, 1),
        r.words,
        round(r.fit, 2),
        r.margin,
        gate,
        h.accepted,
        round(h.voice_outside_seconds, 2),
    )


def score(heard: list[Heard], truths: list[Truth], wake: str = "voice guide") -> dict[str, object]:
    slack = int(0.5 * RATE)
    results = {"correct": 0, "wrong": 0, "missed": 0, "false": 0, "distractor_hits": 0}
    latencies: list[float] = []
    used: set[int] = set()
    details = []
    for truth in truths:
        hits = [
            (i, h)
            for i, h in enumerate(heard)
            if h.accepted
            and h.end_sample >= truth.start - slack
            and h.start_sample <= truth.end + slack
        ]
        used.update(i for i, _ in hits)
        got = [grammar.command_for(h.recognition.words, wake) for _, h in hits]
        near = [
            _record(h)
            for h in heard
            if h.end_sample >= truth.start - slack and h.start_sample <= truth.end + slack
        ]
        details.append((truth.voice, truth.text, got, near))
        if truth.command is None:
            results["distractor_hits"] += len(got)
            continue
        if truth.command in got:
            results["correct"] += 1
            h = hits[got.index(truth.command)][1]
            # Decoding began when the sound was complete, during the hang-over.
            done = max(h.cut_sample / RATE, h.ready_sample / RATE + h.decode_seconds)
            latencies.append(done - truth.end / RATE)
        else:
            results["missed"] += 1
        results["wrong"] += sum(1 for g in got if g != truth.command)
    results["false"] = sum(1 for i, h in enumerate(heard) if h.accepted and i not in used)
    return {**results, "latencies": latencies, "details": details}


def commands_case(args: tuple[float, int, int, dict[str, object], bool]) -> dict[str, object]:
    ratio, seed, n_commands, options, with_echo = args
    mic, played, truths = build_mic(
        render_reference(0), seed=seed, ratio_db=ratio, n_commands=n_commands, with_echo=with_echo
    )
    heard, cpu, warnings = run_pipeline(mic, played, **options)
    result = score(heard, truths)
    seconds = len(mic) / RATE
    accepted = [h for h in heard if h.accepted]
    return {
        "ratio_db": ratio,
        "seed": seed,
        "options": options,
        "echo": with_echo,
        "commands": n_commands,
        "audio_seconds": seconds,
        "cpu_seconds": cpu,
        "utterances": len(heard),
        "accepted": len(accepted),
        "warnings": warnings,
        **result,
        "margins_correct": [h.recognition.margin for h in accepted],
        "fits": [_record(h) for h in heard if h.recognition.words],
        "voices": sorted({t.voice for t in truths}),
    }


def false_case(args: tuple[int, int, dict[str, object]]) -> dict[str, object]:
    index, seed, options = args
    mic, played, truths = build_mic(
        render_reference(index), seed=seed, ratio_db=0.0, n_commands=0, n_distractors=60
    )
    heard, cpu, warnings = run_pipeline(mic, played, **options)
    result = score(heard, truths)
    accepted = [
        (round(h.start_sample / RATE, 1), h.recognition.words, h.recognition.margin)
        for h in heard
        if h.accepted
    ]
    fits = [_record(h) for h in heard if h.recognition.words]
    return {
        "render": index,
        "seed": seed,
        "options": options,
        "audio_seconds": len(mic) / RATE,
        "cpu_seconds": cpu,
        "utterances": len(heard),
        "accepted": accepted,
        "distractors": len(truths),
        "distractor_hits": result["distractor_hits"],
        "details": result["details"],
        "false": result["false"],  # accepted outside any room talk: the program or music
        "fits": fits,
        "warnings": warnings,
    }


def _hear_in_quiet(
    pipeline: Pipeline,
    text: str,
    voice: str,
    rng: np.random.Generator,
    near: np.ndarray,
    *,
    rates: tuple[int, int] = (130, 181),
    pitches: tuple[int, int] = (30, 71),
) -> list[Heard]:
    """`text` said once in a quiet room (light noise, nothing playing): what the pipeline heard."""
    clip = fft_convolve(
        speak(text, voice, int(rng.integers(*rates)), int(rng.integers(*pitches))), near
    )
    clip *= 3000 / np.sqrt(np.mean(clip**2))
    stream = rng.normal(0, 3000 * 10 ** (-35 / 20), int(3.5 * RATE) + len(clip))
    stream[RATE : RATE + len(clip)] += clip
    mic = np.rint(stream[: len(stream) // FRAME_SAMPLES * FRAME_SAMPLES]).astype(np.int16)
    return pipeline.feed(mic, np.zeros_like(mic))


def _say_and_hear(
    pipeline: Pipeline, text: str, voice: str, rng: np.random.Generator, near: np.ndarray
) -> str:
    """One answer in a quiet room: the words heard, or ""."""
    accepted = [
        h.recognition.words for h in _hear_in_quiet(pipeline, text, voice, rng, near) if h.accepted
    ]
    return accepted[0] if accepted else ""


def amounts_case(args: tuple[str, int, int, bool]) -> dict[str, object]:
    """Spoken amounts with read-back, as `SpokenAmounts` asks them: say the amount, hear it
    read back, say yes or no; up to TRIES tries per amount. With `refuse`, the value just
    refused is left out of the next try's grammar (the product's rule); without it, every
    try hears the whole grammar (the rule before, measured in the same run as a baseline).

    A value is saved only after a heard "yes"; a wrong value is saved only if the talker's
    "no" is heard as "yes"."""
    from voiceguide.listen.amounts import ml_phrases, oz_phrases, parse_amount, say_amount
    from voiceguide.listen.listener import answer_for
    from voiceguide.live.voice import TRIES

    unit, trials, seed, refuse = args
    rng = np.random.default_rng(seed)
    near = room_response(rng, 0.002, 0.3, 12.0)
    mode = f"amount-{unit}"
    phrases: dict[float, list[str]] = {}
    for phrase in ml_phrases() if unit == "ml" else oz_phrases():
        value = parse_amount(phrase, unit)
        assert value is not None
        phrases.setdefault(value, []).append(phrase)
    values = sorted(phrases)
    first_right = nothing_first = wrong_first = saved_wrong = 0
    saved_right_by_try = [0] * TRIES
    log = []
    for trial in range(trials):
        voice = TEST_VOICES[trial % len(TEST_VOICES)]
        truth = values[int(rng.integers(len(values)))]
        options = phrases[truth]
        text = options[int(rng.integers(len(options)))]
        # Each trial's sounds from a generator of its own, and a fresh pipeline (its voice
        # detector's state): both rules hear the same first tries.
        sounds = np.random.default_rng([seed, trial])
        pipeline = Pipeline(lambda _m: None)
        refused: tuple[float, ...] = ()
        for attempt in range(TRIES):
            pipeline.recognizer.set_mode(mode, refused if refuse else ())
            refused = ()
            words = _say_and_hear(pipeline, text, voice, sounds, near)
            answer = answer_for(mode, words) if words else None
            value = answer.value if answer is not None else None
            if attempt == 0:
                first_right += value == truth
                nothing_first += value is None
                wrong_first += value is not None and value != truth
            if not isinstance(value, int | float):
                continue  # nothing heard, or "skip"
            pipeline.recognizer.set_mode("yes-no")
            reply = "yes" if value == truth else "no"
            heard = _say_and_hear(pipeline, reply, voice, sounds, near)
            confirmed = answer_for("yes-no", heard) if heard else None
            log.append((voice, text, attempt + 1, say_amount(float(value), unit), reply, heard))
            if confirmed is not None and confirmed.value == "yes":
                if value == truth:
                    saved_right_by_try[attempt] += 1
                else:
                    saved_wrong += 1
                break
            if confirmed is not None:
                refused = (value,)
        pipeline.close()
    return {
        "unit": unit, "trials": trials, "refuse": refuse, "first_try_right": first_right,
        "first_try_nothing": nothing_first, "first_try_wrong": wrong_first,
        "saved_right_by_try": saved_right_by_try,
        "saved_right": sum(saved_right_by_try), "saved_wrong": saved_wrong, "log": log,
    }  # fmt: skip


def clean_case(args: tuple[int, int]) -> dict[str, object]:
    """Every command phrase by every test talker in a quiet room (nothing playing, light
    noise 35 dB under the voice), `draws` random rates and pitches each: what the recognizer
    does with the words alone, before any echo. Decides the wording of the commands."""
    draws, seed = args
    rng = np.random.default_rng(seed)
    near = room_response(rng, 0.002, 0.3, 12.0)
    pipeline = Pipeline(lambda _m: None)
    counts = {"said": 0, "right": 0, "wrong": 0, "nothing": 0}
    errors = []
    for voice in TEST_VOICES:
        for words, command, _ in grammar.COMMAND_PHRASES:
            for _ in range(draws):
                text = f"{grammar.DEFAULT_WAKE_PHRASE} {words}"
                heard = _hear_in_quiet(pipeline, text, voice, rng, near, rates=(130, 191))
                got = [grammar.command_for(h.recognition.words, grammar.DEFAULT_WAKE_PHRASE)
                       for h in heard if h.accepted]  # fmt: skip
                counts["said"] += 1
                if got == [command]:
                    counts["right"] += 1
                    continue
                counts["wrong" if got else "nothing"] += 1
                errors.append((voice, words, got, [_record(h) for h in heard]))
    pipeline.close()
    return {**counts, "draws": draws, "errors": errors}


AFTER_WAKE = [
    "uh", "um", "banana", "hello", "thanks", "what", "hey", "listen", "help", "baby", "quiet",
    "honey",
]  # fmt: skip
"""Words said after the wake phrase in `--only wake`: hesitations and other talk, none of
them a command."""


PHRASINGS = [
    "start again", "start over", "restart", "go back", "stop", "stop it", "stop now",
    "end session", "finish", "skip", "skip step", "next one", "hold on", "wait", "be quiet",
    "again",
]  # fmt: skip
"""Other ways to say a command, not in the grammar (`--only phrasings`): what people may say
instead of the table's words. The one that must never happen is "stop" (it ends the session)
for anything but "stop"-like words."""


def wake_case(args: tuple[int, int, list[str]]) -> dict[str, object]:
    """The wake phrase followed by words that are no command ("voice guide hello"), by every
    test talker in a quiet room, `draws` random rates and pitches each: how often such talk
    is acted on, and as what, in all and by words (a wrong action is worse than none)."""
    draws, seed, words_said = args
    rng = np.random.default_rng(seed)
    near = room_response(rng, 0.002, 0.3, 12.0)
    pipeline = Pipeline(lambda _m: None)
    said = 0
    acted: dict[str, int] = {}
    by_words: dict[str, dict[str, int]] = {}
    for voice in TEST_VOICES:
        for word in words_said:
            for _ in range(draws):
                text = f"{grammar.DEFAULT_WAKE_PHRASE} {word}"
                for h in _hear_in_quiet(pipeline, text, voice, rng, near, rates=(130, 191)):
                    command = grammar.command_for(h.recognition.words, grammar.DEFAULT_WAKE_PHRASE)
                    if h.accepted and command is not None:
                        acted[command] = acted.get(command, 0) + 1
                        mine = by_words.setdefault(word, {})
                        mine[command] = mine.get(command, 0) + 1
                said += 1
    pipeline.close()
    return {
        "said": said, "acted_on": sum(acted.values()), "as": acted, "draws": draws,
        "by_words": by_words,
    }  # fmt: skip


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def cost_case(_: object = None) -> dict[str, object]:
    """Live-like cost: 20 ms blocks (what parec delivers), 120 s of the 0 dB material."""
    mic, played, _truths = build_mic(render_reference(0), seed=99, ratio_db=0.0, n_commands=10)
    mic, played = mic[: 120 * RATE], played[: 120 * 44_100]
    before = rss_mb()
    heard, cpu, _ = run_pipeline(mic, played, block_s=0.02)
    after = rss_mb()
    return {
        "audio_seconds": 120.0,
        "cpu_seconds": cpu,
        "cpu_fraction": cpu / 120.0,
        "rss_before_mb": before,
        "rss_after_mb": after,
        "rss_added_mb": after - before,
        "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "utterances": len(heard),
    }


RATIOS_DB = (12.0, 6.0, 0.0, -6.0, -12.0)
KINDS = [
    "commands",
    "false",
    "cost",
    "baseline",
    "headphones",
    "amounts",
    "clean",
    "wake",
    "phrasings",
]
"""What `--only` can ask for; everything by default."""


def _ratio_seed(ratio_db: float) -> int:
    """The session drawn for a ratio: the same whichever ratios one run asks for."""
    return 1000 + (RATIOS_DB.index(ratio_db) if ratio_db in RATIOS_DB else int(ratio_db) % 97)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--only",
        choices=KINDS,
        action="append",
    )
    parser.add_argument("--draws", type=int, default=2, help="clean: rates/pitches per phrase")
    parser.add_argument("--ratios", type=float, nargs="*", default=list(RATIOS_DB))
    parser.add_argument("--commands", type=int, default=64)
    parser.add_argument(
        "--sessions", type=int, default=1, help="commands: sessions per ratio (other seeds)"
    )
    parser.add_argument(
        "--amounts", type=int, default=60, help="amounts: ml amounts said (2/3 as many in oz)"
    )
    parser.add_argument("--renders", type=int, default=len(RENDER_VARIANTS))
    parser.add_argument(
        "--first-render", type=int, default=0, help="false: skip the renders before this one"
    )
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--residual", action="store_true", help="speexdsp residual echo suppression"
    )
    parser.add_argument("--hangover", type=float, default=None)
    parser.add_argument("--tag", default="")
    args = parser.parse_args()
    only = set(args.only or KINDS)
    options: dict[str, object] = {"residual_suppression": args.residual}
    if args.hangover is not None:
        options["hangover_seconds"] = args.hangover
    for i in range(args.renders):
        render_reference(i)
    out: dict[str, object] = {"options": options}
    started = time.perf_counter()
    with ProcessPoolExecutor(max_workers=args.workers) as pool:
        jobs = {}
        if "commands" in only:
            jobs["commands"] = [
                pool.submit(
                    commands_case, (r, _ratio_seed(r) + 100 * k, args.commands, options, True)
                )
                for r in args.ratios
                for k in range(args.sessions)
            ]
        if "headphones" in only:
            jobs["headphones"] = [
                pool.submit(
                    commands_case, (0.0, _ratio_seed(0.0) + 100 * k, args.commands, options, False)
                )
                for k in range(args.sessions)
            ]
        if "baseline" in only:
            jobs["baseline"] = [
                pool.submit(
                    commands_case,
                    (
                        0.0,
                        _ratio_seed(0.0),
                        args.commands,
                        {**options, "echo_cancelling": False},
                        True,
                    ),
                )
            ]
        if "false" in only:
            jobs["false"] = [
                pool.submit(false_case, (i, 2000 + i, options))
                for i in range(args.first_render, args.renders)
            ]
        if "cost" in only:
            jobs["cost"] = [pool.submit(cost_case)]
        if "clean" in only:
            jobs["clean"] = [pool.submit(clean_case, (args.draws, 4000))]
        if "wake" in only:
            jobs["wake"] = [pool.submit(wake_case, (args.draws, 5000, AFTER_WAKE))]
        if "phrasings" in only:
            jobs["phrasings"] = [pool.submit(wake_case, (args.draws, 5000, PHRASINGS))]
        if "amounts" in only:
            jobs["amounts"] = [
                pool.submit(amounts_case, (unit, trials, seed, refuse))
                for unit, trials, seed in (
                    ("ml", args.amounts, 3000),
                    ("oz", args.amounts * 2 // 3, 3001),
                )
                for refuse in (True, False)
            ]
        # Each result is also appended to a .partial.jsonl as it lands: a long run that is
        # stopped keeps what it measured.
        partial = OUT / f"voice_eval{'_' + args.tag if args.tag else ''}.partial.jsonl"
        partial.unlink(missing_ok=True)
        kinds = {f: k for k, v in jobs.items() for f in v}
        for future in as_completed(kinds):
            with partial.open("a") as out_file:
                out_file.write(json.dumps({"kind": kinds[future], **future.result()}) + "\n")
        results = {k: [f.result() for f in v] for k, v in jobs.items()}
    out.update(results)
    out["wall_seconds"] = time.perf_counter() - started

    if any(kind in results for kind in ("commands", "baseline", "headphones")):
        rows = []
        for r in (
            results.get("commands", [])
            + [{**b, "ratio_db": "0 (no AEC)"} for b in results.get("baseline", [])]
            + [{**h, "ratio_db": "headphones"} for h in results.get("headphones", [])]
        ):
            n = r["commands"]
            lat = r["latencies"]
            rows.append(
                [
                    r["ratio_db"],
                    r["seed"],
                    n,
                    f"{100 * r['correct'] / n:.1f} %",
                    r["wrong"],
                    r["missed"],
                    r["false"],
                    f"{statistics.median(lat):.2f}" if lat else "-",
                    f"{r['cpu_seconds'] / r['audio_seconds'] * 100:.1f} %",
                ]
            )
        print_table(
            "Voice commands by speech-to-echo ratio",
            [
                "ratio dB",
                "seed",
                "commands",
                "correct",
                "wrong",
                "missed",
                "false",
                "median latency s",
                "CPU",
            ],
            rows,
        )
        if args.sessions > 1:
            pooled: dict[float, list[int]] = {}
            for r in results.get("commands", []):
                total = pooled.setdefault(r["ratio_db"], [0, 0, 0])
                total[0] += r["commands"]
                total[1] += r["correct"]
                total[2] += r["wrong"]
            print_table(
                f"Pooled over {args.sessions} sessions per ratio",
                ["ratio dB", "commands", "correct", "wrong"],
                [[k, n, f"{100 * c / n:.1f} %", w] for k, (n, c, w) in pooled.items()],
            )
    if "false" in results:
        hours = sum(r["audio_seconds"] for r in results["false"]) / 3600
        false = sum(r["false"] for r in results["false"])
        hits = sum(r["distractor_hits"] for r in results["false"])
        distractors = sum(r["distractors"] for r in results["false"])
        print_table(
            "Command-free sessions",
            ["hours", "false commands", "per hour", "distractor utterances", "acted on"],
            [[f"{hours:.2f}", false, f"{false / hours:.2f}", distractors, hits]],
        )
        for r in results["false"]:
            if r["accepted"]:
                print("  false:", r["render"], r["accepted"])
    if "cost" in results:
        c = results["cost"][0]
        print_table(
            "Cost (20 ms blocks, 120 s)",
            ["CPU of one core", "RSS added MB", "peak RSS MB"],
            [
                [
                    f"{100 * c['cpu_fraction']:.1f} %",
                    f"{c['rss_added_mb']:.1f}",
                    f"{c['maxrss_mb']:.1f}",
                ]
            ],
        )
    if "amounts" in results:
        rows = [
            [
                a["unit"], "left out" if a["refuse"] else "offered again", a["trials"],
                f"{100 * a['first_try_right'] / a['trials']:.1f} %",
                a["first_try_wrong"], a["first_try_nothing"],
                " / ".join(str(sum(a["saved_right_by_try"][: i + 1]))
                           for i in range(len(a["saved_right_by_try"]))),
                a["saved_wrong"],
            ]
            for a in results["amounts"]
        ]  # fmt: skip
        print_table(
            "Spoken amounts (read-back, yes/no, up to 3 tries)",
            [
                "unit",
                "value refused",
                "amounts",
                "right 1st try",
                "wrong 1st",
                "nothing 1st",
                "saved right by try 1/2/3",
                "saved wrong",
            ],
            rows,
        )
    if "clean" in results:
        c = results["clean"][0]
        print_table(
            "Commands in a quiet room (no echo)",
            ["said", "right", "wrong", "nothing"],
            [[c["said"], c["right"], c["wrong"], c["nothing"]]],
        )
        for error in c["errors"]:
            print("  ", error[:3])
    if "wake" in results:
        w = results["wake"][0]
        print_table(
            'The wake phrase, then a word that is no command ("voice guide hello"), quiet room',
            ["said", "acted on", "as"],
            [[w["said"], w["acted_on"], ", ".join(f"{k} {v}" for k, v in sorted(w["as"].items()))]],
        )
    if "phrasings" in results:
        w = results["phrasings"][0]
        print_table(
            "Other ways to say a command (not in the grammar), quiet room: acted on, as",
            ["said after the wake phrase", "acted on", "as"],
            [
                [words, sum(n.values()), ", ".join(f"{k} {v}" for k, v in sorted(n.items()))]
                for words, n in w["by_words"].items()
            ],
        )
    name = "voice_eval" + (f"_{args.tag}" if args.tag else "")
    path = write_result(name, out)
    print(f"\nwrote {path} in {out['wall_seconds']:.0f} s")


if __name__ == "__main__":
    main()
