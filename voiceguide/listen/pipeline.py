"""The listening chain on two aligned streams: microphone + reference -> heard sentences.

echo canceller (speexdsp) -> utterance cutter (Silero) -> recognizer (grammar) -> checks.
An utterance is decoded as soon as the cutter hands it on early, and its result kept until
the cutter confirms the end (the same sound comes again, final): see voiceguide/listen/vad.py.
A sentence that leaves more than MAX_VOICE_OUTSIDE_SECONDS of the detector's voice outside
its words is not a command: other talk, mostly under <sil>.
Commands are acted on only while the canceller is known to work, since the program's own
speech leaking through can sound like a command to the grammar:
- it has had WARMUP_SECONDS of sound to learn the room (it converges in 8-10 s; the live
  listener asks for REWARM_SECONDS more whenever it moves the reference, `restart_warmup`), and
- over the ERLE_SECONDS before the utterance it took at least MIN_ERLE_DB off the microphone
  (echo return loss enhancement: a reference out of step with the echo, e.g. after playback
  stalled, cancels nothing),
or when the program's sound does not reach the microphone at all (headphones: nothing to
cancel, so no warm-up and no ERLE to wait for): the canceller has never cancelled anything in
this session and the microphone before the utterance does not correlate with the reference
(MIN_ECHO_CORRELATION); or when nothing was playing during the utterance and the
QUIET_BEFORE_SECONDS before it (no echo can be in it then, whatever the canceller knows).
In any case only if the cleaned utterance itself is not the reference: neither correlates
with it at one lag (MAX_ECHO_SHARE: the program's speech that got through, e.g. just after
playback stalled) nor is largely a linear filtering of it (MAX_ECHO_LINEAR: what a canceller
that has not converged yet leaves of the program's speech).

The same object serves the live listener (blocks of a few 10 ms frames) and the offline
benchmark (whole files, block by block), so what is measured is what runs. It never raises
into its caller for a failure of its parts: the first failure of each kind goes to `warn`
and that part is bypassed (no canceller: the raw microphone) or listening stops (no
recognizer).
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from voiceguide.listen.aec import EchoCanceller
from voiceguide.listen.capture import NO_INPUT_HINT
from voiceguide.listen.format import FRAME_SAMPLES, FRAME_SECONDS, LISTEN_RATE_HZ
from voiceguide.listen.recognizer import NO_SENTENCE, Recognition, Recognizer
from voiceguide.listen.vad import Utterance, UtteranceCutter

WARMUP_SECONDS = 8.0
REWARM_SECONDS = 2.0
"""Sound needed again after the reference moved: the canceller has learned the room and
re-adapts to a shift within a second or two; the ERLE and echo checks guard the rest (every
program utterance refused for a restarted 8 s warm-up in the rig runs was also refused by
MAX_ECHO_SHARE or MAX_ECHO_LINEAR, and the full restart cost a spoken "next" 3 s after a move)."""
QUIET_RMS = 30.0
"""A reference 10 ms frame below this RMS (of 32768) counts as nothing playing."""
ERLE_SECONDS = 2.0
MIN_ERLE_DB = 3.0
"""ERLE of the median 10 ms frame of the ERLE_SECONDS: 7-39 dB when cancelling, even under
pump strokes at +12 dB; under 3 dB with the reference out of step (rig under heavy load)."""
MIN_LEAD_IN_SECONDS = 0.5
"""Sound of the reference within the ERLE_SECONDS needed to judge the canceller by them."""
MIN_ECHO_CORRELATION = 0.2
"""Peak normalised correlation (within ECHO_SHARE_LAG_SECONDS) of the raw microphone over the
ERLE_SECONDS before an utterance with the reference, from which the program's sound counts as
in the microphone. Measured (bench/voice_eval.py, one session of 64 commands each): with the
echo and pump noise, 0.22-0.83 at +12 dB speech-to-echo and 0.38-0.93 at 0 to -12 dB; with
no echo at all (headphones), 0.01-0.12. Without this, the ERLE check refused 57 of 64 commands
spoken while headphones played (the canceller had nothing to take off)."""
MAX_ECHO_SHARE = 0.4
"""Peak normalised correlation of the cleaned utterance with the reference above which the
utterance is taken for an echo the canceller missed (measured: spoken commands 0.03-0.21,
the program's speech through a reference 250-400 ms out of step 0.74-0.91)."""
ECHO_SHARE_LAG_SECONDS = 0.5
QUIET_BEFORE_SECONDS = ECHO_SHARE_LAG_SECONDS
"""Silence of the reference before an utterance that makes it echo-free: the echo trails the
reference by well under this (the aligner keeps it within MAX_LEAD_SECONDS)."""
MAX_ECHO_LINEAR = 0.2
"""Share of the cleaned utterance's energy (100-4000 Hz) that a linear filter of the
reference explains, above which the utterance is taken for the program's own sound. Measured
on the rig (demo, 0 dB): spoken commands 0.00-0.10; the program's speech a canceller 10-70 s
into the session left behind mostly 0.25-0.75 (two such utterances decoded as "voice guide
next", fit 16, share 0.30, and "voice guide pause", fit 8, share 0.27, were refused by this
alone); on the 0 dB bench material at most 0.139 of 60 rightly decoded commands."""
MAX_VOICE_OUTSIDE_SECONDS = 0.5
"""Voice (as the detector heard it) that the best path put under silence or noise, before
the sentence's first word, after its last or between two, above which the utterance is not
a command. The grammar always finds *some* sentence: other talk ("next time we should start
earlier") was decoded as "voice guide resume" with most of its words under <sil>, and the
program's own speech on the rig as "voice guide how [1 s of <sil>] long". Measured
(bench/voice_eval.py, 320 commands at +12 to -12 dB, 360 sentences of room talk): spoken
commands left 0.0-0.38 s outside (one 0.6 s, at -12 dB), such talk 0.62-1.15 s; at 0.5 s
the talk acted on fell from 55 to 31 sentences, and a wrong command at -6 dB went."""
ECHO = "echo"
"""Refused: the program's own sound may be in it (the canceller not known to work, or what it
left correlates with the reference)."""
VOICE_OUTSIDE = "voice outside"
"""Refused: more than MAX_VOICE_OUTSIDE_SECONDS of voice outside the sentence's words."""
LINEAR_SEGMENT_SAMPLES = 4096
"""256 ms segments: the echo's delay and the room's tail fit inside one."""
LINEAR_BAND_HZ = (100.0, 4000.0)
_ACTIVITY_SECONDS = 10.0


@dataclass(frozen=True)
class Heard:
    """One utterance and what the grammar made of it."""

    recognition: Recognition
    mode: str
    start_sample: int
    end_sample: int
    cut_sample: int
    """The stream position at which the utterance was known to be over (the hang-over)."""
    decode_seconds: float
    """Time taken to decode it and run the echo checks."""
    echo_ready: bool = True
    """The canceller had learned the room, or the program's sound does not reach the
    microphone, or nothing played during the utterance."""
    echo_share: float = 0.0
    """Peak normalised correlation of the cleaned utterance with the reference (0..1)."""
    echo_linear: float = 0.0
    """Share of the cleaned utterance's energy a linear filter of the reference explains."""
    voice_outside_seconds: float = 0.0
    """Voice outside the sentence's words, around or between them (MAX_VOICE_OUTSIDE_SECONDS)."""
    ready_sample: int = 0
    """The stream position at which decoding began: its sound was complete (the cutter hands
    an utterance on early, so that it is decoded during the rest of the hang-over)."""

    def refusal(self) -> str | None:
        """Why the utterance is not acted on (NO_SENTENCE, ECHO, VOICE_OUTSIDE, UNCLEAR or
        CLOSE_CALL, in that order), or None: the one declaration of what is accepted."""
        said = self.recognition.refusal()
        if said == NO_SENTENCE:
            return said
        if not (
            self.echo_ready
            and self.echo_share <= MAX_ECHO_SHARE
            and self.echo_linear <= MAX_ECHO_LINEAR
        ):
            return ECHO
        if self.mode == "commands" and self.voice_outside_seconds > MAX_VOICE_OUTSIDE_SECONDS:
            return VOICE_OUTSIDE
        return said

    @property
    def accepted(self) -> bool:
        return self.refusal() is None


def peak_correlation(x: np.ndarray, ref: np.ndarray) -> float:
    """Peak normalised cross-correlation of `x` with `ref` within ECHO_SHARE_LAG_SECONDS either
    way (0..1): how much of `x` is `ref`, in step or not."""
    a = x.astype(np.float64)
    r = ref.astype(np.float64)
    n = 1 << (2 * len(a) - 1).bit_length()
    corr = np.fft.irfft(np.fft.rfft(a, n) * np.conj(np.fft.rfft(r, n)), n)
    lag = int(ECHO_SHARE_LAG_SECONDS * LISTEN_RATE_HZ)
    window = np.concatenate([corr[-lag:], corr[: lag + 1]])
    return float(np.max(np.abs(window)) / (np.linalg.norm(a) * np.linalg.norm(r) + 1e-9))


def linear_share(x: np.ndarray, ref: np.ndarray) -> float:
    """Share of `x`'s energy in LINEAR_BAND_HZ that a linear time-invariant filter of `ref`
    explains (energy-weighted magnitude-squared coherence over Welch segments, a quarter apart)."""
    size = LINEAR_SEGMENT_SAMPLES
    if len(x) < size:
        x, ref = np.pad(x, (0, size - len(x))), np.pad(ref, (0, size - len(ref)))
    hop = size // 4
    starts = np.arange(0, len(x) - size + 1, hop)
    window = np.hanning(size)
    index = starts[:, None] + np.arange(size)
    xs = np.fft.rfft(x.astype(np.float64)[index] * window, axis=1)
    rs = np.fft.rfft(ref.astype(np.float64)[index] * window, axis=1)
    cross = np.mean(xs * np.conj(rs), axis=0)
    x_power = np.mean(np.abs(xs) ** 2, axis=0)
    r_power = np.mean(np.abs(rs) ** 2, axis=0)
    hz = np.fft.rfftfreq(size, 1 / LISTEN_RATE_HZ)
    band = (hz >= LINEAR_BAND_HZ[0]) & (hz <= LINEAR_BAND_HZ[1])
    explained = np.abs(cross[band]) ** 2 / (r_power[band] + 1e-9)
    return float(np.sum(explained) / (np.sum(x_power[band]) + 1e-9))


def voice_outside(recognition: Recognition, voiced: np.ndarray | None) -> float:
    """Seconds of voice outside the recognised sentence's words: before the first, after the
    last or between two (0 if nothing was recognised)."""
    words = recognition.word_spans
    if not words or voiced is None:
        return 0.0
    inside = np.zeros(len(voiced), dtype=bool)
    for first, last in words:
        inside[first : last + 1] = True
    return float(np.count_nonzero(voiced & ~inside) * FRAME_SECONDS)


class Pipeline:
    def __init__(
        self,
        warn: Callable[[str], None],
        *,
        wake_phrase: str = "voice guide",
        echo_cancelling: bool = True,
        residual_suppression: bool = False,
        hangover_seconds: float | None = None,
    ) -> None:
        self._warn = warn
        self.recognizer = Recognizer(wake_phrase)
        self._aec: EchoCanceller | None = (
            EchoCanceller(residual_suppression=residual_suppression) if echo_cancelling else None
        )
        self._cutter = (
            UtteranceCutter()
            if hangover_seconds is None
            else UtteranceCutter(hangover_seconds=hangover_seconds)
        )
        self._failed = False
        self._early: tuple[tuple[int, int, str, frozenset[float]], Heard] | None = None
        self._gate = echo_cancelling  # without a canceller by choice (a baseline), no gate
        self.samples_in = 0
        self._warm_frames = 0
        self._learned = False  # the full warm-up was reached once: the canceller knows the room
        frames = int(_ACTIVITY_SECONDS * LISTEN_RATE_HZ) // FRAME_SAMPLES
        self._activity = np.zeros(frames, dtype=bool)  # rings, per 10 ms frame: reference sounding,
        self._mic_power = np.zeros(frames)  # microphone power,
        self._out_power = np.zeros(frames)  # power after the canceller,
        self._warm_at = np.zeros(frames, dtype=np.int64)  # warm-up frames counted by then
        self._ref_history = np.zeros(frames * FRAME_SAMPLES, dtype=np.int16)
        self._mic_history = np.zeros(frames * FRAME_SAMPLES, dtype=np.int16)  # never leaves
        self.echo_heard = False
        """The canceller has taken MIN_ERLE_DB off the microphone at some point of this session
        (after its warm-up): there is an echo path, so the program's sound reaches the
        microphone, and from then on the ERLE is always asked for."""

    def restart_warmup(self) -> None:
        """The reference moved: the canceller must re-adapt (REWARM_SECONDS of sound once it
        has learned the room, a move during that re-warm-up included; the full warm-up if it
        never finished one). Utterances that began before count as cold.

        Under load the aligner moved the reference twice within 0.2 s; the second move found
        the warm-up short of full and restarted all 8 s, so on the rig a "voice guide pause"
        3.8 s later was refused."""
        full = round(WARMUP_SECONDS / FRAME_SECONDS)
        self._learned = self._learned or self._warm_frames >= full
        if self._learned:
            rewarm = full - round(REWARM_SECONDS / FRAME_SECONDS)
            self._warm_frames = min(self._warm_frames, rewarm)
        else:
            self._warm_frames = 0
        self._warm_at[:] = 0

    def _note(self, ref: np.ndarray, mic: np.ndarray, clean: np.ndarray) -> None:
        def power(x: np.ndarray) -> np.ndarray:
            return np.mean(x.reshape(-1, FRAME_SAMPLES).astype(np.float64) ** 2, axis=1)

        active = np.sqrt(power(ref)) > QUIET_RMS
        first = (self.samples_in // FRAME_SAMPLES) % len(self._activity)
        index = (first + np.arange(len(active))) % len(self._activity)
        self._activity[index] = active
        self._mic_power[index] = power(mic)
        at = (self.samples_in + np.arange(len(ref))) % len(self._ref_history)
        self._ref_history[at] = ref
        self._mic_history[at] = mic
        self._out_power[index] = power(clean)
        self._warm_at[index] = self._warm_frames + np.cumsum(active)
        self._warm_frames += int(np.count_nonzero(active))

    def _reference_of(self, clean: np.ndarray, first_sample: int) -> np.ndarray | None:
        """The reference under an utterance; None if it is silent or no longer held."""
        size = len(self._ref_history)
        if first_sample < self.samples_in - size:
            return None
        ref = self._ref_history[np.arange(first_sample, first_sample + len(clean)) % size]
        return ref if np.any(ref) else None

    def _echo_linear(self, clean: np.ndarray, first_sample: int) -> float:
        """How much of the cleaned utterance a linear filter of the reference explains."""
        ref = self._reference_of(clean, first_sample)
        return 0.0 if ref is None else linear_share(clean, ref)

    def _echo_share(self, clean: np.ndarray, first_sample: int) -> float:
        """How much of the cleaned utterance is the reference (an echo the canceller missed)."""
        ref = self._reference_of(clean, first_sample)
        return 0.0 if ref is None else peak_correlation(clean, ref)

    def _echo_ready(self, start_sample: int, end_sample: int) -> bool:
        if not self._gate:
            return True
        size = len(self._activity)
        oldest = self.samples_in // FRAME_SAMPLES - size
        end = end_sample // FRAME_SAMPLES + 1
        quiet_from = start_sample // FRAME_SAMPLES - int(QUIET_BEFORE_SECONDS / FRAME_SECONDS)
        if not np.any(self._activity[np.arange(max(quiet_from, oldest), end) % size]):
            return True  # nothing played: nothing to cancel
        before = start_sample // FRAME_SAMPLES - int(ERLE_SECONDS / FRAME_SECONDS)
        ring = np.arange(max(before, oldest), end) % size
        lead_in = ring[: max(start_sample // FRAME_SAMPLES - max(before, oldest), 0)]
        lead_in = lead_in[self._activity[lead_in]]
        judged = len(lead_in) >= MIN_LEAD_IN_SECONDS / FRAME_SECONDS
        if judged and not self.echo_heard and not self._in_microphone(lead_in):
            return True  # the program does not reach the microphone (headphones): no echo
        # Warm-up as it stood when the utterance began (the worker may be running behind).
        start_frame = max(start_sample // FRAME_SAMPLES, oldest)
        warm = self._warm_at[start_frame % size] if start_frame >= 0 else 0
        if warm * FRAME_SAMPLES < WARMUP_SECONDS * LISTEN_RATE_HZ:
            return False
        if not judged:
            return True  # too little sound before it to judge; the warm-up has passed
        return self._cancelling(lead_in)

    def _in_microphone(self, frames: np.ndarray) -> bool:
        """Whether the raw microphone over `frames` (ring indices) correlates with the
        reference: the program's sound reaches it, cancelled or not."""
        samples = (frames[:, None] * FRAME_SAMPLES + np.arange(FRAME_SAMPLES)).ravel()
        correlation = peak_correlation(self._mic_history[samples], self._ref_history[samples])
        return correlation >= MIN_ECHO_CORRELATION

    def _cancelling(self, frames: np.ndarray) -> bool:
        """Whether the canceller took MIN_ERLE_DB off the microphone over `frames` (ring
        indices); once it has, `echo_heard`. The ERLE of the median frame: pump strokes (loud,
        uncancellable, about half the frames) summed over the lead-in hid a canceller that
        worked (1.3-2.0 dB where the median frame had 7-39 dB, with the voice 12 dB over the
        echo); a reference out of step stays near 0 dB either way."""
        erle_db = np.median(
            10 * np.log10((self._mic_power[frames] + 1.0) / (self._out_power[frames] + 1.0))
        )
        if erle_db < MIN_ERLE_DB:
            return False
        self.echo_heard = True
        return True

    def _track_echo(self, frames_fed: int) -> None:
        """Sets `echo_heard` once the canceller has taken MIN_ERLE_DB off the microphone over
        the last ERLE_SECONDS of sound after the warm-up (checked every ERLE_SECONDS until
        then), so that a reference that later goes out of step is caught even if it shares
        nothing with the echo."""
        size = len(self._activity)
        check = int(ERLE_SECONDS / FRAME_SECONDS)
        now = self.samples_in // FRAME_SAMPLES
        if self.echo_heard or self._aec is None or now // check == (now - frames_fed) // check:
            return
        if self._warm_frames * FRAME_SAMPLES < WARMUP_SECONDS * LISTEN_RATE_HZ:
            return
        ring = np.arange(now - min(check, size), now) % size
        ring = ring[self._activity[ring]]
        if len(ring) >= MIN_LEAD_IN_SECONDS / FRAME_SECONDS:
            self._cancelling(ring)

    def feed(self, mic: np.ndarray, ref: np.ndarray) -> list[Heard]:
        """Whole 10 ms frames of microphone and aligned reference (int16 mono, 16 kHz)."""
        if self._failed:
            return []
        assert len(mic) == len(ref) and len(mic) % FRAME_SAMPLES == 0
        clean = mic
        if self._aec is not None:
            try:
                clean = self._aec.process(mic, ref)
            except Exception as err:  # never into the audio path: go on without it
                self._warn(f"echo cancelling failed ({err}); listening goes on without it")
                self._aec.close()
                self._aec = None
        self._note(ref, mic, clean)
        self.samples_in += len(mic)
        self._track_echo(len(mic) // FRAME_SAMPLES)
        heard: list[Heard] = []
        try:
            for utterance in self._cutter.feed(clean):
                recognizer = self.recognizer
                key = (
                    utterance.first_sample,
                    len(utterance.samples),
                    recognizer.mode,
                    recognizer.refused,
                )
                if not utterance.final:
                    self._early = (key, self._hear(utterance))
                    continue
                early, self._early = self._early, None
                if early is not None and early[0] == key:
                    heard.append(dataclasses.replace(early[1], cut_sample=utterance.cut_sample))
                else:
                    heard.append(self._hear(utterance))
        except Exception as err:  # never into the audio path: listening stops, keys go on
            self._warn(f"speech recognition failed ({err}); listening is off; {NO_INPUT_HINT}")
            self._failed = True
        return heard

    def _hear(self, utterance: Utterance) -> Heard:
        started = time.perf_counter()
        recognition = self.recognizer.recognize(utterance.samples)
        return Heard(
            recognition,
            self.recognizer.mode,
            utterance.start_sample,
            utterance.end_sample,
            utterance.cut_sample,
            time.perf_counter() - started,
            self._echo_ready(utterance.start_sample, utterance.end_sample),
            self._echo_share(utterance.samples, utterance.first_sample),
            self._echo_linear(utterance.samples, utterance.first_sample),
            voice_outside(recognition, utterance.voiced),
            utterance.cut_sample,
        )

    @property
    def failed(self) -> bool:
        """Recognition failed and listening stopped (the warning said so)."""
        return self._failed

    @property
    def seconds_in(self) -> float:
        return self.samples_in / LISTEN_RATE_HZ

    def close(self) -> None:
        if self._aec is not None:
            self._aec.close()
