#!/usr/bin/env python3
"""Generate voiceguide's bundled audio (music bed and chimes) from code, so the licence is ours.

    .venv/bin/python audio/make_audio.py           # write bed.ogg, chime.wav, chime-end.wav
    .venv/bin/python audio/make_audio.py --check   # measure the files that are there now

Needs numpy and ffmpeg (with libvorbis). Everything is seeded, so two runs on the same ffmpeg give
byte-identical files (ffmpeg runs with bitexact flags).

How the bed is built
--------------------
* The whole bed is rendered into one circular buffer exactly BED_SECONDS long. Any note or
  reverb tail that runs past the end wraps round onto the start, and every pad oscillator and LFO
  runs a whole number of cycles per loop (a multiple of 1/BED_SECONDS Hz, which moves a pitch by
  well under a cent), so the end flows into the start exactly like any other instant.
* The chord sequence is circular too: a pitch held across the loop point is one note, not a
  release followed by a new attack. The file starts a few seconds into the first chord (not on a
  chord change), and no bell phrase sounds near the loop point, so the bed starts at its normal
  level and the last second sounds like the first.
* Music: slow diatonic chords (a seeded random walk with voice leading, in D major with sections in
  G major), common tones tied across chord changes, a soft bass, an occasional quiet octave
  shimmer, and sparse phrases of soft felt-piano/bell notes over the major pentatonic. Sections of
  1-2 minutes vary the harmonic rhythm, mood, brightness, register and density of the phrases.
* Reverb, low-pass and high-pass are one pass in the frequency domain, which is a circular
  convolution, so they wrap seamlessly too. Loudness is set to TARGET_LUFS with BS.1770 K-weighting
  computed from the same spectrum (Parseval; the bed is steady, so the gates drop no block and this
  equals the integrated loudness).
* Vorbis codes each end of the file on its own, so the decoded samples either side of the loop
  point carry independent coding error. The encoder runs at high quality (the bed is soft and
  slow, so the file stays small) and the decoded seam is measured; if it is not clean, the file is
  encoded again from another start point in LOOP_WINDOW_S (candidates ordered by how evenly the
  second either side balances; at most MAX_ENCODES tries, the best is kept).
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import itertools
import re
import subprocess
import sys
import tempfile
import time
import wave
from dataclasses import dataclass
from pathlib import Path

import numpy as np

SR = 44_100
BED_SECONDS = 640  # 10 min 40 s
BED_FRAMES = SR * BED_SECONDS
# The bed is synthesised at a quarter of the rate (everything in it is below 5 kHz) and brought up
# to 44.1 kHz in the frequency domain, by zero-padding its spectrum: exact for a periodic signal.
SYNTH_RATE = SR // 4
SYNTH_FRAMES = SYNTH_RATE * BED_SECONDS
SEED = 20_240_607
TARGET_LUFS = -20.0
CHIME_PEAK_DBFS = -6.0
VORBIS_QUALITY = 10  # ~75 kb/s on this material; the coding error at the seam is what matters
# Where the file may start, in seconds into the first chord (which lasts at least
# FIRST_CHORD_MIN_S): past the chord's attack and the previous chord's release.
LOOP_WINDOW_S = (5.0, 8.0)
FIRST_CHORD_MIN_S = 14.0
BELL_QUIET_S = (9.5, 1.5)  # no bell onset this long before / after the loop window
MAX_ENCODES = 3

HERE = Path(__file__).resolve().parent
BED_PATH = HERE / "bed.ogg"
CHIME_PATH = HERE / "chime.wav"
CHIME_END_PATH = HERE / "chime-end.wav"

TWO_PI = 2.0 * np.pi

# ---------------------------------------------------------------------------------------------
# Small helpers
# ---------------------------------------------------------------------------------------------


def midi_hz(midi: float) -> float:
    return float(440.0 * 2.0 ** ((midi - 69.0) / 12.0))


def loop_freq(hz: float) -> float:
    """Round a frequency to a whole number of cycles per bed loop, so it wraps without a seam."""
    return round(hz * BED_SECONDS) / BED_SECONDS


OSC_BLOCK = 4096


@functools.lru_cache(maxsize=4096)
def _rotations(freq_hz: float, rate: int) -> np.ndarray:
    return np.exp(1j * TWO_PI * (freq_hz / rate) * np.arange(OSC_BLOCK)).astype(np.complex64)


def osc(
    freq_hz: float, start: int, n: int, offset: float = 0.0, rate: int = SYNTH_RATE
) -> np.ndarray:
    """exp(i*theta) (complex64) of an oscillator at absolute samples start .. start+n-1.

    theta = 2*pi*(freq*k/rate + offset), built as exact (float64) block-start phasors times one
    table of in-block rotations: cheap, and it never drifts. Working from absolute sample numbers
    keeps every note of one pitch phase-coherent, and with loop_freq() frequencies sample
    k + SYNTH_FRAMES has the same phase as sample k. Harmonics are powers of the result.
    """
    n_blocks = -(-n // OSC_BLOCK)
    block_starts = start + OSC_BLOCK * np.arange(n_blocks, dtype=np.int64)
    cycles = np.mod(block_starts * (freq_hz / rate) + offset, 1.0)
    starts = np.exp(1j * TWO_PI * cycles).astype(np.complex64)
    return (starts[:, None] * _rotations(freq_hz, rate)[None, :]).ravel()[:n]


def raised_cosine(n: int) -> np.ndarray:
    """0 -> 1 over n samples, with zero slope at both ends."""
    x = np.arange(n, dtype=np.float32) / np.float32(max(n, 1))
    return (0.5 - 0.5 * np.cos(np.float32(np.pi) * x)).astype(np.float32)


def add_circular(buf: np.ndarray, start: int, sig: np.ndarray) -> None:
    """buf[..., start:start+len] += sig, wrapping round the end of buf."""
    n_buf = buf.shape[-1]
    n = sig.shape[-1]
    if n > n_buf:
        raise ValueError("signal longer than the loop")
    start %= n_buf
    end = start + n
    if end <= n_buf:
        buf[..., start:end] += sig
    else:
        k = n_buf - start
        buf[..., start:] += sig[..., :k]
        buf[..., : end - n_buf] += sig[..., k:]


def pan_gains(pan: np.ndarray | float) -> tuple[np.ndarray, np.ndarray]:
    """Equal-power pan, 0 = left, 1 = right."""
    theta = np.asarray(pan, dtype=np.float32) * np.float32(np.pi / 2)
    return np.cos(theta), np.sin(theta)


def k_weighting_power(freqs: np.ndarray, rate: int = SR) -> np.ndarray:
    """|H(f)|^2 of the ITU-R BS.1770 K-weighting: +4 dB shelf and 38 Hz high-pass (RBJ biquads)."""
    z1 = np.exp(-1j * TWO_PI * freqs / rate)
    z2 = z1 * z1

    def biquad(b: tuple[float, float, float], a: tuple[float, float, float]) -> np.ndarray:
        return np.abs((b[0] + b[1] * z1 + b[2] * z2) / (a[0] + a[1] * z1 + a[2] * z2)) ** 2

    amp = 10 ** (4.0 / 40.0)  # high shelf, +4 dB, 1500 Hz, Q 1/sqrt(2)
    w0 = TWO_PI * 1500.0 / rate
    alpha = np.sin(w0) / (2.0 / np.sqrt(2.0))
    cw = np.cos(w0)
    sa = 2.0 * np.sqrt(amp) * alpha
    shelf = biquad(
        (
            amp * ((amp + 1) + (amp - 1) * cw + sa),
            -2 * amp * ((amp - 1) + (amp + 1) * cw),
            amp * ((amp + 1) + (amp - 1) * cw - sa),
        ),
        (
            (amp + 1) - (amp - 1) * cw + sa,
            2 * ((amp - 1) - (amp + 1) * cw),
            (amp + 1) - (amp - 1) * cw - sa,
        ),
    )
    w0 = TWO_PI * 38.0 / rate  # high-pass, 38 Hz, Q 0.5
    alpha = np.sin(w0) / (2.0 * 0.5)
    cw = np.cos(w0)
    hp = biquad(((1 + cw) / 2, -(1 + cw), (1 + cw) / 2), (1 + alpha, -2 * cw, 1 - alpha))
    return shelf * hp


def in_circular_window(t: float, lo: float, hi: float) -> bool:
    """Is time t (s) inside [lo, hi] on the loop's circular time line?"""
    return (t - lo) % BED_SECONDS <= (hi - lo)


# ---------------------------------------------------------------------------------------------
# Instruments
# ---------------------------------------------------------------------------------------------


def bell_tone(
    freq: float,
    n: int,
    rng: np.random.Generator,
    *,
    decay_s: float = 2.2,
    attack_s: float = 0.008,
    brightness: float = 1.0,
    start: int = 0,
    rate: int = SYNTH_RATE,
) -> np.ndarray:
    """A soft felt-piano / small-bell note: near-harmonic partials, the upper ones dying faster.

    Mono float32, peak about 1. `start` is the absolute sample position (phase only).
    """
    ratios = np.array([1.0, 2.0, 3.0, 4.0, 5.4])
    ratios = ratios * np.sqrt(1.0 + 0.0004 * ratios**2)  # slight piano-like stretch
    amps = np.array([1.0, 0.32, 0.11, 0.05, 0.02]) * brightness ** np.arange(5)
    amps[0] = 1.0
    taus = decay_s / ratios**0.85
    t = np.arange(n, dtype=np.float32) / np.float32(rate)
    out = np.zeros(n, dtype=np.float32)
    for ratio, amp, tau, off in zip(ratios, amps, taus, rng.random(len(ratios)), strict=True):
        if freq * ratio > min(5000.0, 0.45 * rate):
            continue
        decay = np.exp(t * np.float32(-1.0 / tau))
        out += np.float32(amp) * decay * osc(freq * ratio, start, n, float(off), rate).imag
    # a quiet second string a hair sharp, for warmth (slow beating)
    decay = np.exp(t * np.float32(-1.0 / (0.8 * taus[0])))
    out += np.float32(0.35) * decay * osc(freq * 2 ** (1.2 / 1200), start, n, 0.37, rate).imag
    n_attack = max(1, round(attack_s * rate))
    out[:n_attack] *= raised_cosine(n_attack)
    return out


def pad_tone(
    freq: float,
    start: int,
    n: int,
    *,
    brightness: float,
    detune_cents: float,
    phases: np.ndarray,
    lfo_cycles: int,
    harmonics: int = 4,
) -> np.ndarray:
    """A warm pad voice with slow breathing.

    One oscillator carries the soft harmonic series; two more, detuned either side, are mostly
    harmonics: that gives a gentle chorus shimmer without a tremolo on the fundamental.
    """
    amps = np.array([1.0, 0.34, 0.13, 0.05, 0.02])[:harmonics] * brightness ** np.arange(harmonics)
    out = np.zeros(n, dtype=np.float32)
    for k, cents in enumerate((0.0, -detune_cents, detune_cents)):
        f = loop_freq(freq * 2 ** (cents / 1200))
        z = osc(f, start, n, float(phases[k]))
        fund, harm = (1.0, 1.0) if k == 0 else (0.22, 0.6)
        out += np.float32(fund) * z.imag
        zh = z.copy()
        for h in range(1, harmonics):
            zh *= z
            if f * (h + 1) < 5000:
                out += np.float32(harm * amps[h]) * zh.imag
    lfo = osc(lfo_cycles / BED_SECONDS, start, n, float(phases[3])).imag
    out *= np.float32(1.0 / 1.6) * (np.float32(0.85) + np.float32(0.15) * lfo)
    return out


# ---------------------------------------------------------------------------------------------
# Composition
# ---------------------------------------------------------------------------------------------

KEYS = {"D": 2, "G": 7}
MAJOR_PENTA = (0, 2, 4, 7, 9)
DEGREE_ROOT = {"I": 0, "ii": 2, "iii": 4, "IV": 5, "V": 7, "vi": 9}
# chord tones in semitones above the key tonic: variants of (core, optional colour tones)
DEGREE_TONES: dict[str, list[tuple[tuple[int, ...], tuple[int, ...]]]] = {
    "I": [((0, 4, 7), (2, 11))],
    "ii": [((2, 5, 9), (0,))],
    "iii": [((4, 7, 11), (2,))],
    "IV": [((5, 9, 0), (4, 7))],
    "V": [((7, 11, 2), (9,)), ((7, 0, 2), (9,))],  # plain or sus4
    "vi": [((9, 0, 4), (7, 11))],
}
TRANSITIONS = {
    "I": {"IV": 3.0, "vi": 3.0, "ii": 1.5, "iii": 1.0, "V": 1.0},
    "ii": {"V": 2.0, "IV": 1.0, "I": 1.5, "vi": 1.0, "iii": 0.5},
    "iii": {"vi": 3.0, "IV": 2.0, "ii": 1.0, "I": 0.5},
    "IV": {"I": 3.0, "ii": 1.5, "vi": 1.5, "V": 1.5, "iii": 0.5},
    "V": {"I": 2.0, "vi": 2.5, "IV": 1.5, "ii": 0.5},
    "vi": {"IV": 3.0, "ii": 2.0, "iii": 1.0, "I": 1.5, "V": 1.0},
}
PAD_RANGE = (52, 74)  # E3 .. D5
BASS_RANGE = (38, 49)  # D2 .. C#3


@dataclass
class Section:
    start: int
    end: int
    key: str
    chord_s: tuple[float, float]
    minor_bias: float
    brightness: float
    colour_p: float
    shimmer: bool
    bell_gap_s: float
    bell_register: tuple[int, int]
    bell_ioi: float


@dataclass
class Chord:
    start: int
    key: str
    degree: str
    tones: tuple[int, ...]  # pitch classes, colour tone included
    voicing: tuple[int, ...]  # MIDI notes of the pad
    bass: int
    section: Section


def plan_sections(rng: np.random.Generator) -> list[Section]:
    bounds = [0]
    while True:
        length = rng.uniform(75, 125)
        if BED_SECONDS - bounds[-1] - length < 60:
            bounds.append(BED_SECONDS)
            break
        bounds.append(bounds[-1] + round(length))
    sections: list[Section] = []
    for i, (a, b) in enumerate(itertools.pairwise(bounds)):
        key = "D" if i == 0 or sections[-1].key == "G" or rng.random() < 0.6 else "G"
        sections.append(
            Section(
                start=a * SYNTH_RATE,
                end=b * SYNTH_RATE,
                key=key,
                chord_s=((8.0, 12.0), (10.0, 15.0), (12.0, 18.0))[rng.integers(3)],
                minor_bias=float(rng.choice([1.0, 1.0, 1.8, 2.5])),
                brightness=float(rng.uniform(0.7, 1.1)),
                colour_p=float(rng.uniform(0.2, 0.7)),
                shimmer=bool(rng.random() < 0.45),
                bell_gap_s=float(rng.uniform(8.0, 24.0)),
                bell_register=((67, 79), (71, 83), (74, 86))[rng.integers(3)],
                bell_ioi=float(rng.uniform(0.8, 1.25)),
            )
        )
    return sections


def voicing_candidates(tones: set[int], required: set[int]) -> list[tuple[int, ...]]:
    pitches = [p for p in range(PAD_RANGE[0], PAD_RANGE[1] + 1) if p % 12 in tones]
    out: list[tuple[int, ...]] = []
    for combo in itertools.combinations(pitches, 4):
        if not required <= {p % 12 for p in combo}:
            continue
        gaps = np.diff(combo)
        if gaps.min() < 2 or not 9 <= combo[-1] - combo[0] <= 19:
            continue
        if any(g < 3 and lo < 57 for g, lo in zip(gaps, combo, strict=False)):
            continue  # no muddy seconds low down
        out.append(combo)
    return out


def choose_voicing(
    rng: np.random.Generator,
    tones: set[int],
    required: set[int],
    prev: tuple[int, ...],
    target: tuple[int, ...] | None,
) -> tuple[int, ...]:
    """Smooth voice leading from `prev` (and into `target`), with some seeded variety."""
    cands = voicing_candidates(tones, required) or voicing_candidates(tones, set())
    arr = np.array(cands)
    cost = np.abs(arr - np.array(prev)).sum(axis=1).astype(float)
    cost += 0.25 * np.abs(arr.mean(axis=1) - 62.0)
    if target is not None:
        cost += np.abs(arr - np.array(target)).sum(axis=1)
    cost += rng.gumbel(0.0, 1.6, len(cost))
    return tuple(int(p) for p in arr[int(np.argmin(cost))])


def compose(rng: np.random.Generator) -> tuple[list[Section], list[Chord]]:
    sections = plan_sections(rng)
    chords: list[Chord] = []
    history: list[str] = []
    prev_voicing: tuple[int, ...] = (54, 57, 62, 66)
    first_voicing: tuple[int, ...] | None = None
    for sec in sections:
        t = sec.start / SYNTH_RATE
        end_s = sec.end / SYNTH_RATE
        lo, hi = sec.chord_s
        first_in_section = True
        while True:
            d = rng.uniform(lo, hi)
            if not chords:  # the loop point sits inside the first chord
                d = max(d, FIRST_CHORD_MIN_S + rng.uniform(0.0, 3.0))
            last_in_section = end_s - (t + d) < 0.6 * lo
            if last_in_section:
                d = end_s - t
            if first_in_section:
                degree = "I"
            else:
                options = dict(TRANSITIONS[history[-1]])
                for deg in options:
                    if deg in history[-3:]:
                        options[deg] *= 0.35  # avoid rocking between two chords
                    if deg in ("ii", "iii", "vi"):
                        options[deg] *= sec.minor_bias
                if last_in_section:
                    options.pop("I", None)  # the next section starts on its I
                names = list(options)
                w = np.array([options[k] for k in names])
                degree = names[rng.choice(len(names), p=w / w.sum())]
            variants = DEGREE_TONES[degree]
            core, colours = variants[rng.integers(len(variants))]
            tonic = KEYS[sec.key]
            tones = {(tonic + c) % 12 for c in core}
            required = set(tones)
            if rng.random() < sec.colour_p:
                colour = (tonic + colours[rng.integers(len(colours))]) % 12
                tones.add(colour)
                required.add(colour)
            last_overall = last_in_section and sec is sections[-1]
            target = first_voicing if last_overall else None  # lead back into the first chord
            voicing = choose_voicing(rng, tones, required, prev_voicing, target)
            first_voicing = first_voicing or voicing
            root = (tonic + DEGREE_ROOT[degree]) % 12
            bass = next(p for p in range(BASS_RANGE[0], BASS_RANGE[1] + 1) if p % 12 == root)
            chords.append(
                Chord(
                    start=round(t * SYNTH_RATE),
                    key=sec.key,
                    degree=degree,
                    tones=tuple(sorted(tones)),
                    voicing=voicing,
                    bass=bass,
                    section=sec,
                )
            )
            history.append(degree)
            prev_voicing = voicing
            first_in_section = False
            t += d
            if last_in_section:
                break
    return sections, chords


def tied_notes(layer: list[set[int]], starts: list[int]) -> list[tuple[int, int, int, int]]:
    """Circular runs of a pitch over consecutive chords -> (pitch, first chord, start, end).

    start/end are sample positions; end may pass SYNTH_FRAMES (the note wraps round), and a pitch
    held in every chord gives end - start == SYNTH_FRAMES.
    """
    k = len(layer)
    times = [*starts, SYNTH_FRAMES]
    notes = []
    for pitch in sorted(set().union(*layer)):
        member = [pitch in s for s in layer]
        if all(member):
            notes.append((pitch, 0, 0, SYNTH_FRAMES))
            continue
        for i in range(k):
            if member[i] and not member[i - 1]:
                j = i
                while member[j % k]:
                    j += 1
                end = times[j] if j <= k else times[j - k] + SYNTH_FRAMES
                notes.append((pitch, i, times[i], end))
    return notes


@dataclass
class Bed:
    """The rendered loop in composition time (chord 0 starts at frame 0), float32 (n, 2)."""

    frames: np.ndarray
    sections: list[Section]
    chords: list[Chord]
    counts: dict[str, int]


def render_pad_layer(
    mix: np.ndarray,
    chords: list[Chord],
    layer: list[set[int]],
    *,
    gain: float,
    attack_s: float,
    release_s: float,
    harmonics: int,
    detune: float,
    pan_spread: float,
    brightness: float | None = None,
) -> int:
    """Render one layer's tied notes into the circular stereo mix, a cache-sized chunk at a time."""
    chunk = 1 << 15
    notes = tied_notes(layer, [c.start for c in chords])
    for pitch, ci, start, end in notes:
        held = end - start
        note_rng = np.random.default_rng([SEED, pitch, ci, harmonics])
        lfo_cycles = int(note_rng.integers(25, 90))
        phases = note_rng.random(4)
        drift_f = int(note_rng.integers(10, 40)) / BED_SECONDS
        drift_phase = float(note_rng.random())
        if held >= SYNTH_FRAMES:  # sounds all the way round the loop
            n, att, rel = SYNTH_FRAMES, 0, 0
        else:
            rel = min(round(release_s * SYNTH_RATE), SYNTH_FRAMES - held)
            att = min(round(attack_s * SYNTH_RATE), held)
            n = held + rel
        b = chords[ci].section.brightness if brightness is None else brightness
        base_pan = 0.5 + pan_spread * np.sin(pitch * 2.39996)  # pitches spread over the field
        for c0 in range(0, n, chunk):
            m = min(chunk, n - c0)
            sig = pad_tone(
                midi_hz(pitch),
                start + c0,
                m,
                brightness=b,
                detune_cents=detune,
                phases=phases,
                lfo_cycles=lfo_cycles,
                harmonics=harmonics,
            )
            idx = np.arange(c0, c0 + m, dtype=np.float32)
            env = np.full(m, gain, dtype=np.float32)
            if c0 < att:
                a = idx < att
                env[a] *= 0.5 - 0.5 * np.cos(np.float32(np.pi / att) * idx[a])
            if c0 + m > held and rel:
                r = idx >= held
                env[r] *= 0.5 + 0.5 * np.cos(np.float32(np.pi / rel) * (idx[r] - held))
            sig *= env
            drift = osc(drift_f, start + c0, m, drift_phase).imag
            gl, gr = pan_gains(np.clip(base_pan + np.float32(0.08) * drift, 0.0, 1.0))
            add_circular(mix, start + c0, np.stack([sig * gl, sig * gr]))
    return len(notes)


def render_bells(
    bells: np.ndarray, rng: np.random.Generator, sections: list[Section], chords: list[Chord]
) -> int:
    """Sparse phrases over the key's major pentatonic, landing on a chord tone."""
    starts = [c.start for c in chords]
    quiet = (LOOP_WINDOW_S[0] - BELL_QUIET_S[0], LOOP_WINDOW_S[1] + BELL_QUIET_S[1])
    note_len = 7 * SYNTH_RATE
    count = 0

    def chord_at(t: float) -> Chord:
        frame = round(t * SYNTH_RATE) % SYNTH_FRAMES
        return chords[int(np.searchsorted(starts, frame, "right")) - 1]

    def chord_tones(scale: list[int], t: float) -> list[int]:
        tones = chord_at(t).tones
        return [i for i, p in enumerate(scale) if p % 12 in tones]

    for sec in sections:
        tonic = KEYS[sec.key]
        lo, hi = sec.bell_register
        scale = [p for p in range(lo, hi + 1) if (p - tonic) % 12 in MAJOR_PENTA]
        t = sec.start / SYNTH_RATE + rng.uniform(2.0, sec.bell_gap_s)
        while t < sec.end / SYNTH_RATE - 3.0:
            n_notes = int(rng.integers(2, 6))
            idx = int(rng.choice(chord_tones(scale, t)))
            vel = rng.uniform(0.65, 0.95)
            phrase = []
            for k in range(n_notes):
                if k == n_notes - 1:  # land on a chord tone
                    cur = idx
                    idx = min(chord_tones(scale, t), key=lambda i: (abs(i - cur), i))
                dyad = bool(rng.random() < 0.15 and idx >= 2)  # a soft third below
                phrase.append(
                    (
                        t,
                        scale[idx],
                        scale[idx - 2] if dyad else None,
                        vel,
                        float(rng.uniform(1.8, 2.8)),
                        float(rng.uniform(0.006, 0.012)),
                        float(np.clip(0.5 + rng.normal(0, 0.18), 0.15, 0.85)),
                    )
                )
                idx = int(np.clip(idx + rng.choice([-2, -1, -1, 1, 1, 2]), 0, len(scale) - 1))
                vel *= rng.uniform(0.8, 1.0)
                t += rng.uniform(0.6, 1.6) * sec.bell_ioi
            t += rng.uniform(3.0, 2.0 * sec.bell_gap_s)
            if any(in_circular_window(p[0], *quiet) for p in phrase):
                continue  # keep the loop point free of bells
            for onset, pitch, below, v, decay, attack, pan in phrase:
                start = round(onset * SYNTH_RATE)
                note_rng = np.random.default_rng([SEED, start])
                sig = bell_tone(
                    midi_hz(pitch),
                    note_len,
                    note_rng,
                    decay_s=decay,
                    attack_s=attack,
                    brightness=sec.brightness,
                    start=start,
                )
                if below is not None:
                    sig += np.float32(0.6) * bell_tone(
                        midi_hz(below), note_len, note_rng, decay_s=2.0, start=start
                    )
                sig *= np.float32(v)
                gl, gr = pan_gains(pan)
                add_circular(bells, start, np.stack([sig * gl, sig * gr]))
                count += 1
    return count


def reverb_ir(
    rng: np.random.Generator, seconds: float = 4.5, predelay_s: float = 0.02, rate: int = SYNTH_RATE
) -> np.ndarray:
    """Diffuse reverb tail: decaying noise, longer-lived in the lows, unit energy."""
    n = round(seconds * rate)
    spec = np.fft.rfft(rng.standard_normal(n))
    freqs = np.fft.rfftfreq(n, 1.0 / rate)
    t = np.arange(n) / rate
    low = 1.0 / (1.0 + (freqs / 500.0) ** 4)
    high = 1.0 / (1.0 + (2500.0 / np.maximum(freqs, 1e-3)) ** 4)
    mid = np.clip(1.0 - low - high, 0.0, None)
    ir = np.zeros(n)
    for mask, t60 in ((low, 3.8), (mid, 3.0), (high, 1.6)):
        ir += np.fft.irfft(spec * mask, n) * np.exp(-6.91 * t / t60)
    ir *= np.minimum(1.0, t / 0.06) ** 2  # diffuse build-up, no hard early reflection
    ir = np.concatenate([np.zeros(round(predelay_s * rate)), ir])
    return (ir / np.sqrt(np.sum(ir**2))).astype(np.float32)


def render_bed(rng: np.random.Generator) -> Bed:
    sections, chords = compose(rng)
    n_total = SYNTH_FRAMES
    mix = np.zeros((2, n_total), dtype=np.float32)
    counts = {"chords": len(chords)}
    counts["pad notes"] = render_pad_layer(
        mix,
        chords,
        [set(c.voicing) for c in chords],
        gain=0.22,
        attack_s=3.0,
        release_s=5.0,
        harmonics=4,
        detune=4.0,
        pan_spread=0.3,
    )
    counts["bass notes"] = render_pad_layer(
        mix,
        chords,
        [{c.bass} for c in chords],
        gain=0.20,
        attack_s=3.5,
        release_s=5.0,
        harmonics=3,
        detune=1.0,
        pan_spread=0.0,
        brightness=0.6,
    )
    counts["shimmer notes"] = render_pad_layer(
        mix,
        chords,
        [{max(c.voicing) + 12} if c.section.shimmer else set() for c in chords],
        gain=0.045,
        attack_s=6.0,
        release_s=7.0,
        harmonics=1,
        detune=3.0,
        pan_spread=0.35,
    )

    bells = np.zeros((2, n_total), dtype=np.float32)
    counts["bell notes"] = render_bells(bells, rng, sections, chords)
    # balance: the loud end of a bell note a few dB above the pads' average level
    pad_rms = float(np.sqrt(np.mean(np.square(mix, dtype=np.float64))))
    bell_peak = float(np.percentile(np.abs(bells[:, bells[0] != 0]), 99.9))
    mix += bells * np.float32(1.5 * pad_rms / bell_peak)
    del bells

    # one frequency-domain pass per channel: reverb (circular), high-pass, low-pass
    freqs = np.fft.rfftfreq(n_total, 1.0 / SYNTH_RATE)
    tone = 1.0 / np.sqrt(1.0 + (freqs / 4500.0) ** 4)  # gentle 2nd-order low-pass
    tone *= 1.0 / np.sqrt(1.0 + (32.0 / np.maximum(freqs, 1e-3)) ** 4)  # and high-pass
    tone[-1] = 0.0  # nothing at the synthesis Nyquist frequency
    wet = 0.62 / np.sqrt(1.0 + (freqs / 2800.0) ** 2)  # darker reverb
    dry = 0.78
    spectra = []
    for ch in range(2):
        tail = reverb_ir(np.random.default_rng([SEED, 99, ch]))
        h = np.fft.rfft(tail, n_total)  # zero-padded to the loop: circular convolution
        spectra.append(np.fft.rfft(mix[ch]) * ((dry + wet * h) * tone).astype(np.complex64))
    del mix

    # K-weighted power from the spectrum (Parseval): the loudness of the output, which has the
    # same spectrum below 5.5 kHz and nothing above
    kw = k_weighting_power(freqs)
    power = sum(float(np.sum(kw[1:] * np.abs(spec[1:]) ** 2)) * 2.0 for spec in spectra)
    lufs = -0.691 + 10.0 * np.log10(power / n_total**2)
    gain = np.float32(10 ** ((TARGET_LUFS - lufs) / 20.0) * (BED_FRAMES / n_total))
    out = np.empty((BED_FRAMES, 2), dtype=np.float32)
    full = np.zeros(BED_FRAMES // 2 + 1, dtype=np.complex64)
    for ch, spec in enumerate(spectra):
        full[: len(spec)] = spec * gain
        out[:, ch] = np.fft.irfft(full, BED_FRAMES)
    return Bed(out, sections, chords, counts)


# ---------------------------------------------------------------------------------------------
# Encoding the bed, with a clean seam
# ---------------------------------------------------------------------------------------------


def encode_vorbis(path: Path, frames: np.ndarray) -> None:
    cmd = [
        "ffmpeg",
        "-v",
        "error",
        "-y",
        "-f",
        "f32le",
        "-ar",
        str(SR),
        "-ac",
        "2",
        "-i",
        "pipe:0",
        "-c:a",
        "libvorbis",
        "-q:a",
        str(VORBIS_QUALITY),
        "-map_metadata",
        "-1",
        "-fflags",
        "+bitexact",
        "-flags:a",
        "+bitexact",
        "-f",
        "ogg",
        str(path),
    ]
    subprocess.run(cmd, input=np.ascontiguousarray(frames, dtype="<f4").tobytes(), check=True)


def decode(path: Path) -> np.ndarray:
    """Decode with ffmpeg as the player does (s16le, stereo, 44.1 kHz) -> (n, 2) float64."""
    raw = subprocess.run(
        ["ffmpeg", "-v", "error", "-i", str(path), "-f", "s16le", "-ac", "2", "-ar", str(SR), "-"],
        capture_output=True,
        check=True,
    ).stdout
    return np.frombuffer(raw, dtype="<i2").reshape(-1, 2).astype(np.float64) / 32768.0


def ordinary_figures(x: np.ndarray, stride: int = 1) -> dict[str, np.ndarray]:
    """Per-channel statistics of sample steps |x[n]-x[n-1]| and second differences."""
    steps = np.abs(np.diff(x, axis=0))[::stride]
    d2 = np.abs(x[2:] - 2 * x[1:-1] + x[:-2])[::stride]
    return {
        "step_p50": np.percentile(steps, 50, axis=0),
        "step_p99": np.percentile(steps, 99, axis=0),
        "step_max": steps.max(axis=0),
        "d2_p99": np.percentile(d2, 99, axis=0),
        "d2_p999": np.percentile(d2, 99.9, axis=0),
    }


def seam_figures(x: np.ndarray) -> dict[str, np.ndarray]:
    """Step and second difference across the loop point (last frame -> first frame)."""
    wrap = np.vstack([x[-2:], x[:2]])
    return {
        "seam_step": np.abs(x[0] - x[-1]),
        "seam_d2": np.abs(wrap[2:] - 2 * wrap[1:-1] + wrap[:-2]).max(axis=0),
    }


def seam_badness(seam: dict[str, np.ndarray], ordinary: dict[str, np.ndarray]) -> float:
    """<= 1 when the step across the loop point is within the 99th percentile of ordinary steps
    and its second difference (what a click excites) within the 99.9th."""
    return float(
        max(
            np.max(seam["seam_step"] / ordinary["step_p99"]),
            np.max(seam["seam_d2"] / ordinary["d2_p999"]),
        )
    )


def loop_candidates(frames: np.ndarray) -> list[tuple[float, float]]:
    """Start points in LOOP_WINDOW_S (0.1 s apart) as (seconds, |RMS of 1 s before - 1 s after|
    in dB), best balanced first."""
    out = []
    for start_s in np.arange(LOOP_WINDOW_S[0], LOOP_WINDOW_S[1] + 1e-9, 0.1):
        k = round(start_s * SR)
        before = np.mean(np.square(frames[k - SR : k], dtype=np.float64))
        after = np.mean(np.square(frames[k : k + SR], dtype=np.float64))
        out.append((round(float(start_s), 1), abs(10 * np.log10(before / after))))
    return sorted(out, key=lambda c: c[1])


def write_bed(bed: Bed) -> tuple[float, int]:
    """Encode from the first candidate start whose decoded seam is clean (else the best)."""
    ordinary = ordinary_figures(bed.frames, stride=4)
    best: tuple[float, float, bytes] | None = None
    attempt = 0
    with tempfile.TemporaryDirectory() as tmp:
        trial = Path(tmp) / "bed.ogg"
        for start_s, rms_diff in loop_candidates(bed.frames)[:MAX_ENCODES]:
            attempt += 1
            encode_vorbis(trial, np.roll(bed.frames, -round(start_s * SR), axis=0))
            decoded = decode(trial)
            if len(decoded) != BED_FRAMES:
                raise RuntimeError(f"decoded {len(decoded)} frames, expected {BED_FRAMES}")
            seam = seam_figures(decoded)
            badness = seam_badness(seam, ordinary)
            print(
                f"  start {start_s:.1f} s into the first chord (1 s RMS either side differs by "
                f"{rms_diff:.2f} dB): decoded seam step {seam['seam_step'].round(4)}, 2nd diff "
                f"{seam['seam_d2'].round(5)} -> {badness:.2f} of the limit"
            )
            if best is None or badness < best[0]:
                best = (badness, start_s, trial.read_bytes())
            if badness <= 1.0:
                break
    assert best is not None
    BED_PATH.write_bytes(best[2])
    return best[1], attempt


# ---------------------------------------------------------------------------------------------
# Chimes
# ---------------------------------------------------------------------------------------------


def render_chime(
    notes: list[tuple[float, float, float, float, float]], total_s: float, seed: int
) -> np.ndarray:
    """notes: (onset s, MIDI, velocity, pan, decay s) -> (n, 2) float32, peak 1.0, ending in
    exact silence."""
    rng = np.random.default_rng([SEED, seed])
    n = round(total_s * SR)
    out = np.zeros((2, n), dtype=np.float32)
    for onset, midi, vel, pan, decay in notes:
        s = round(onset * SR)
        sig = bell_tone(
            midi_hz(midi), n - s, rng, decay_s=decay, attack_s=0.008, brightness=0.85, rate=SR
        ) * np.float32(vel)
        gl, gr = pan_gains(pan)
        out[0, s:] += sig * gl
        out[1, s:] += sig * gr
    for ch in range(2):  # a little short, dark room so the bell does not sound dry
        ir = reverb_ir(
            np.random.default_rng([SEED, seed, ch]), seconds=0.9, predelay_s=0.012, rate=SR
        )
        m = n + len(ir)
        wet = np.fft.irfft(np.fft.rfft(out[ch], m) * np.fft.rfft(ir, m), m)[:n]
        out[ch] += np.float32(0.28) * wet.astype(np.float32)
    fade = round(0.3 * n)  # fade the last 30 % to exact zero, then 5 ms of digital silence
    out[:, n - fade :] *= raised_cosine(fade)[::-1]
    out[:, n - round(0.005 * SR) :] = 0.0
    out /= np.abs(out).max()
    return out.T


def write_wav(path: Path, data: np.ndarray, peak_dbfs: float) -> None:
    pcm = np.round(data * (10 ** (peak_dbfs / 20.0)) * 32767.0).astype("<i2")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(SR)
        w.writeframes(pcm.tobytes())


def write_chimes() -> None:
    # step chime: A5 then F#5, a falling major third that ends open rather than final
    chime = render_chime([(0.0, 81, 1.0, 0.45, 0.55), (0.28, 78, 0.9, 0.55, 0.7)], 1.2, 1)
    write_wav(CHIME_PATH, chime, CHIME_PEAK_DBFS)
    # session finished: F#5, E5, D5 (3-2-1 coming to rest on the tonic); the last rings longer
    # over a quiet D4
    end = render_chime(
        [
            (0.0, 78, 1.0, 0.42, 0.6),
            (0.42, 76, 0.9, 0.58, 0.6),
            (0.86, 74, 0.95, 0.5, 1.1),
            (0.86, 62, 0.3, 0.5, 1.1),
        ],
        2.5,
        2,
    )
    write_wav(CHIME_END_PATH, end, CHIME_PEAK_DBFS)


def generate() -> None:
    t0 = time.perf_counter()
    write_chimes()
    print(f"chimes written ({time.perf_counter() - t0:.1f} s)")
    bed = render_bed(np.random.default_rng(SEED))
    t1 = time.perf_counter()
    print(
        f"bed rendered in {t1 - t0:.1f} s: " + ", ".join(f"{v} {k}" for k, v in bed.counts.items())
    )
    for sec in bed.sections:
        print(
            f"  {sec.start / SYNTH_RATE:5.0f} s  key {sec.key}  chords every "
            f"{sec.chord_s[0]:.0f}-{sec.chord_s[1]:.0f} s  minor bias {sec.minor_bias}  "
            f"shimmer {sec.shimmer}  "
            f"bell phrases every ~{sec.bell_gap_s:.0f} s  register {sec.bell_register}"
        )
    print(
        "  progression: "
        + " ".join(f"{c.degree}" if c.key == "D" else f"{c.key}:{c.degree}" for c in bed.chords)
    )
    start_s, attempts = write_bed(bed)
    print(
        f"{BED_PATH.name} written ({attempts} encode(s), starts {start_s:.1f} s into the "
        f"first chord); total {time.perf_counter() - t0:.1f} s"
    )


# ---------------------------------------------------------------------------------------------
# Verification
# ---------------------------------------------------------------------------------------------


def ebur128(path: Path) -> dict[str, float]:
    err = subprocess.run(
        ["ffmpeg", "-nostats", "-i", str(path), "-af", "ebur128=peak=true", "-f", "null", "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stderr
    summary = err[err.rfind("Summary:") :]

    def grab(label: str) -> float:
        m = re.search(rf"{label}:\s+(-?[\d.]+|-inf)", summary)
        return float(m.group(1)) if m else float("nan")

    return {"I": grab("I"), "LRA": grab("LRA"), "TP": grab("Peak")}


def db(x: float) -> float:
    return float(20.0 * np.log10(max(x, 1e-12)))


def check() -> bool:
    ok = True

    def verdict(cond: bool, text: str) -> None:
        nonlocal ok
        ok &= bool(cond)
        print(f"  [{'ok' if cond else 'FAIL'}] {text}")

    for path in (BED_PATH, CHIME_PATH, CHIME_END_PATH):
        digest = hashlib.sha256(path.read_bytes()).hexdigest()[:16]
        print(f"{path.name}: {path.stat().st_size / 1e6:.2f} MB, sha256 {digest}...")

    print(f"{BED_PATH.name}:")
    x = decode(BED_PATH)
    verdict(
        len(x) == BED_FRAMES,
        f"decoded length {len(x)} frames = {len(x) / SR:.3f} s (generated {BED_FRAMES})",
    )
    fig = ordinary_figures(x)
    seam = seam_figures(x)
    rank = np.mean(np.abs(np.diff(x, axis=0)) < seam["seam_step"], axis=0)
    print(
        f"    ordinary steps |x[n]-x[n-1]| L/R: median {fig['step_p50'].round(4)}, "
        f"99th pct {fig['step_p99'].round(4)}, max {fig['step_max'].round(4)}"
    )
    verdict(
        bool(np.all(seam["seam_step"] <= fig["step_p99"])),
        f"step across the loop point {seam['seam_step'].round(4)} "
        f"(percentile rank among ordinary steps {np.round(100 * rank).astype(int)})",
    )
    verdict(
        bool(np.all(seam["seam_d2"] <= fig["d2_p999"])),
        f"2nd difference across the loop point {seam['seam_d2'].round(5)} "
        f"(ordinary: 99th pct {fig['d2_p99'].round(5)}, 99.9th {fig['d2_p999'].round(5)})",
    )
    rms_end = db(float(np.sqrt(np.mean(x[-SR:] ** 2))))
    rms_start = db(float(np.sqrt(np.mean(x[:SR] ** 2))))
    verdict(
        abs(rms_end - rms_start) <= 1.0,
        f"RMS last 1 s {rms_end:.2f} dBFS, first 1 s {rms_start:.2f} dBFS "
        f"(differ by {abs(rms_end - rms_start):.2f} dB)",
    )
    win = x[: len(x) // SR * SR].reshape(-1, SR, 2)
    rms_1s = 20 * np.log10(np.sqrt(np.mean(win**2, axis=(1, 2))))
    print(
        f"    1 s RMS over the bed: min {rms_1s.min():.1f}, median {np.median(rms_1s):.1f}, "
        f"max {rms_1s.max():.1f} dBFS; largest change between neighbouring seconds "
        f"{np.abs(np.diff(rms_1s)).max():.1f} dB"
    )
    mono = x.mean(axis=1)
    spec = np.zeros(SR // 2 + 1)
    for k in range(0, len(mono) - SR, 10 * SR):  # one second in every ten
        spec += np.abs(np.fft.rfft(mono[k : k + SR] * np.hanning(SR))) ** 2
    f = np.fft.rfftfreq(SR, 1.0 / SR)
    rel = [10 * np.log10(spec[f > lim].sum() / spec.sum() + 1e-30) for lim in (2000, 5000, 10000)]
    print(
        f"    energy above 2 / 5 / 10 kHz: {rel[0]:.1f} / {rel[1]:.1f} / {rel[2]:.1f} dB re total"
    )
    m = ebur128(BED_PATH)
    verdict(
        abs(m["I"] - TARGET_LUFS) <= 0.5,
        f"integrated loudness {m['I']:.1f} LUFS (loudness range {m['LRA']:.1f} LU)",
    )
    verdict(m["TP"] < -3.0, f"true peak {m['TP']:.1f} dBFS (sample peak {db(np.abs(x).max()):.1f})")

    for path, want_s in ((CHIME_PATH, 1.2), (CHIME_END_PATH, 2.5)):
        print(f"{path.name}:")
        with wave.open(str(path), "rb") as w:
            fmt = (w.getnchannels(), w.getframerate(), w.getsampwidth())
            pcm = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").reshape(-1, 2)
        verdict(fmt == (2, SR, 2), f"format: {fmt[0]} channels, {fmt[1]} Hz, {8 * fmt[2]}-bit")
        verdict(abs(len(pcm) / SR - want_s) < 0.01, f"duration {len(pcm) / SR:.3f} s")
        peak = db(np.abs(pcm).max() / 32767.0)
        verdict(abs(peak - CHIME_PEAK_DBFS) <= 0.5, f"sample peak {peak:.2f} dBFS")
        silent_tail = int(np.abs(pcm[::-1]).max(axis=1).nonzero()[0][0])
        verdict(
            silent_tail > 0 and not pcm[0].any(),
            f"starts at 0, ends in {silent_tail / SR * 1000:.1f} ms of exact silence",
        )
        env = np.abs(pcm.astype(float)).max(axis=1)
        rise = int(np.argmax(env >= 0.9 * env[: SR // 5].max()))
        verdict(
            rise / SR >= 0.004,
            f"first note reaches 90 % of its peak after {rise / SR * 1000:.1f} ms",
        )
        m = ebur128(path)
        print(f"    integrated {m['I']:.1f} LUFS, true peak {m['TP']:.1f} dBFS")
    print("all checks passed" if ok else "SOME CHECKS FAILED")
    return ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--check", action="store_true", help="measure the files that are there")
    args = parser.parse_args(argv)
    if args.check:
        return 0 if check() else 1
    generate()
    return 0


if __name__ == "__main__":
    sys.exit(main())
