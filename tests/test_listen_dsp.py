"""Voice commands: the reference resampler, the echo canceller, delay estimate and alignment."""

from __future__ import annotations

import numpy as np
import pytest

from voiceguide.listen.aec import EchoCanceller
from voiceguide.listen.align import (
    LEAD_SECONDS,
    DelayTracker,
    ReferenceAligner,
    estimate_delay,
)
from voiceguide.listen.reference import array_fetcher, resample

RATE = 44_100


def stereo_sine(freq: float, seconds: float, amplitude: float = 10_000) -> np.ndarray:
    t = np.arange(int(seconds * RATE)) / RATE
    x = np.rint(np.sin(2 * np.pi * freq * t) * amplitude).astype(np.int16)
    return np.stack([x, x], axis=1)


def db(x: np.ndarray) -> float:
    return float(10 * np.log10(np.mean(x.astype(np.float64) ** 2) + 1e-9))


def test_reference_is_the_played_sound_at_16_khz() -> None:
    fetch = array_fetcher(stereo_sine(1000, 3))
    out = resample(fetch, 0, 0, 32_000).astype(np.float64)
    expected = np.sin(2 * np.pi * 1000 * np.arange(32_000) / 16_000) * 10_000
    error = out[1000:31_000] - expected[1000:31_000]
    assert db(error) - db(expected) < -60


def test_reference_drops_what_16_khz_cannot_hold() -> None:
    out = resample(array_fetcher(stereo_sine(12_000, 2)), 0, 0, 16_000)
    assert db(out[500:-500]) - db(np.full(1, 7071.0)) < -60


def test_reference_is_the_same_whatever_the_block_size() -> None:
    fetch = array_fetcher(np.random.default_rng(1).integers(-9000, 9000, (RATE, 2), dtype=np.int16))
    whole = resample(fetch, 500, 0, 8000)
    blocks = np.concatenate(
        [resample(fetch, 500, a, n) for a, n in ((0, 160), (160, 3), (163, 7837))]
    )
    assert np.array_equal(whole, blocks)


def echo_of(ref: np.ndarray, delay: int, seed: int = 3) -> np.ndarray:
    rng = np.random.default_rng(seed)
    h = np.zeros(delay + 1200)
    h[delay] = 0.6
    h[delay + 1 :] = rng.standard_normal(1199) * 0.05 * np.exp(-np.arange(1199) / 300)
    return np.convolve(ref.astype(np.float64), h)[: len(ref)]


@pytest.mark.parametrize("residual", [False, True])
def test_echo_canceller_removes_the_echo_of_the_reference(residual: bool) -> None:
    rng = np.random.default_rng(2)
    ref = np.rint(rng.standard_normal(16_000 * 15) * 3000).astype(np.int16)
    mic = np.rint(echo_of(ref, 600) + rng.standard_normal(len(ref)) * 5).astype(np.int16)
    canceller = EchoCanceller(residual_suppression=residual)
    out = canceller.process(mic, ref)
    canceller.close()
    canceller.close()
    late = slice(10 * 16_000, None)
    assert db(mic[late]) - db(out[late]) > 25


def test_echo_canceller_keeps_the_talker() -> None:
    rng = np.random.default_rng(4)
    ref = np.rint(rng.standard_normal(16_000 * 12) * 3000).astype(np.int16)
    talker = np.zeros(len(ref))
    talker[11 * 16_000 :] = np.sin(np.arange(16_000) * 2 * np.pi * 300 / 16_000) * 2000
    mic = np.rint(echo_of(ref, 600) + talker).astype(np.int16)
    out = EchoCanceller().process(mic, ref)
    kept = slice(11 * 16_000 + 800, None)
    assert abs(db(out[kept]) - db(talker[kept])) < 3


def test_echo_canceller_wants_whole_matching_frames() -> None:
    canceller = EchoCanceller()
    with pytest.raises(ValueError, match="whole 10 ms frames"):
        canceller.process(np.zeros(100, np.int16), np.zeros(100, np.int16))


def test_delay_estimate_finds_the_echo() -> None:
    ref = np.random.default_rng(5).standard_normal(48_000) * 3000
    found = estimate_delay(echo_of(ref, 700), ref, 8000)
    assert found is not None
    assert found[0] == 700 and found[1] > 8


class Played:
    """A playhead that moves with a test's clock, read a little late each time."""

    def __init__(self) -> None:
        self.sound = np.random.default_rng(6).integers(-8000, 8000, (RATE * 20, 2), dtype=np.int16)
        self.fetch = array_fetcher(self.sound)


def feed(
    aligner: ReferenceAligner, seconds: float, start_time: float, frame0: int, moving: bool = True
):
    rng = np.random.default_rng(7)
    chunks, time = [], start_time
    for _ in range(int(seconds / 0.02)):
        time += 0.02
        late = rng.uniform(0, 0.012)
        playhead = frame0 + int((time + late - start_time) * RATE) if moving else frame0
        chunks.append(aligner.reference(320, playhead, time + late))
    return np.concatenate(chunks), time


def test_aligner_places_the_reference_once_and_keeps_it_through_jitter() -> None:
    played = Played()
    aligner = ReferenceAligner(played.fetch, latency_seconds=0.1)
    ref, _ = feed(aligner, 5, 100.0, 10_000)
    assert aligner.reanchors == 1
    # The reference is a clean resampling of the played sound from the anchor on.
    anchor_sample, anchor_frame = aligner._anchor
    assert np.array_equal(ref, resample(played.fetch, anchor_frame, -anchor_sample, len(ref)))
    # ... at latency - lead behind the playhead of the first read (late by up to 12 ms).
    assert anchor_sample == 319
    expected = 10_000 + 0.02 * RATE - (0.1 - LEAD_SECONDS) * RATE
    assert 0 <= anchor_frame - expected <= 0.012 * RATE + 1


def test_aligner_gives_silence_while_paused_and_re_anchors_on_resume() -> None:
    played = Played()
    aligner = ReferenceAligner(played.fetch, latency_seconds=0.05)
    _, time = feed(aligner, 1, 100.0, 5000)
    paused, time = feed(aligner, 1, time, 60_000, moving=False)
    assert not paused[int(0.1 * 16_000) :].any()
    resumed, _ = feed(aligner, 1, time, 60_000)
    assert resumed[800:].any()
    assert aligner.reanchors == 2


def test_correct_delay_moves_the_echo_to_the_lead() -> None:
    played = Played()
    aligner = ReferenceAligner(played.fetch, latency_seconds=0.05)
    feed(aligner, 1, 100.0, 5000)
    before = aligner._anchor
    aligner.correct_delay(0)  # the echo sits right on the reference: it needs 40 ms more lead
    after = aligner._anchor
    assert before is not None and after is not None
    assert after[1] - before[1] == round(LEAD_SECONDS * RATE)
    assert aligner.latency_seconds == pytest.approx(0.05 - LEAD_SECONDS, abs=1e-4)


def test_delay_tracker_asks_for_a_correction_only_when_two_estimates_agree() -> None:
    rng = np.random.default_rng(8)
    ref = rng.standard_normal(16_000 * 8) * 3000
    tracker = DelayTracker()
    wrong = echo_of(ref, 100)  # 6 ms: too little lead
    answers = [tracker.feed(wrong[a : a + 320], ref[a : a + 320]) for a in range(0, len(ref), 320)]
    lags = [a for a in answers if a is not None]
    assert lags == [100]
    good = echo_of(ref, 640)
    tracker = DelayTracker()
    assert all(
        tracker.feed(good[a : a + 320], ref[a : a + 320]) is None for a in range(0, len(ref), 320)
    )
    assert tracker.estimates and all(lag == 640 for lag, _ in tracker.estimates)
