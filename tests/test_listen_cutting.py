"""Cutting utterances and deciding on them: decoding during the hang-over, and the voice a
sentence leaves outside its words. Real espeak-ng talkers, the real Silero detector and
pocketsphinx; the microphone is fed in the live listener's 20 ms blocks."""

from __future__ import annotations

import numpy as np
import pytest

from voiceguide.listen import grammar
from voiceguide.listen.format import LISTEN_RATE_HZ
from voiceguide.listen.pipeline import MAX_VOICE_OUTSIDE_SECONDS, Heard, Pipeline, voice_outside
from voiceguide.listen.recognizer import Recognition, Recognizer
from voiceguide.listen.vad import END_HANGOVER_SECONDS, TRAIL_SECONDS, Utterance, UtteranceCutter

from listen_helpers import speak

BLOCK_SAMPLES = 320  # 20 ms, as parec delivers
PAUSE_SECONDS = 0.25
"""After "voice guide": past the early hand-on, within the hang-over (0.2-0.3 s kept one
utterance for these talkers; 0.4 s cut it in two)."""


def quiet_room(*clips: np.ndarray, gap_seconds: float = 1.0) -> np.ndarray:
    """The clips one after another, with silence around them and a little noise under all."""
    gap = np.zeros(int(gap_seconds * LISTEN_RATE_HZ))
    parts = [gap]
    for clip in clips:
        parts += [clip.astype(np.float64), gap]
    x = np.concatenate(parts)
    x += np.random.default_rng(5).normal(0, 20, len(x))
    x = x[: len(x) // BLOCK_SAMPLES * BLOCK_SAMPLES]
    return np.clip(np.rint(x), -32768, 32767).astype(np.int16)


def trimmed(clip: np.ndarray) -> np.ndarray:
    """The clip from its first to its last loud sample (espeak-ng pads its words with quiet)."""
    loud = np.flatnonzero(np.abs(clip) > 200)
    return clip[loud[0] : loud[-1] + 1]


def cut(mic: np.ndarray) -> list[Utterance]:
    cutter = UtteranceCutter()
    return [
        u
        for a in range(0, len(mic), BLOCK_SAMPLES)
        for u in cutter.feed(mic[a : a + BLOCK_SAMPLES])
    ]


def hear(mic: np.ndarray, pipeline: Pipeline | None = None) -> list[Heard]:
    if pipeline is None:
        pipeline = Pipeline(pytest.fail)
    silent = np.zeros(BLOCK_SAMPLES, dtype=np.int16)
    try:
        return [
            h
            for a in range(0, len(mic), BLOCK_SAMPLES)
            for h in pipeline.feed(mic[a : a + BLOCK_SAMPLES], silent)
        ]
    finally:
        pipeline.close()


def test_an_utterance_is_handed_on_once_its_sound_is_complete_then_confirmed() -> None:
    """The early hand-on holds exactly the sound of the final one, and comes as soon as the
    trailing margin is there: the rest of the hang-over is left for decoding."""
    utterances = cut(quiet_room(speak("voice guide next step", "en-us+klatt")))
    assert [u.final for u in utterances] == [False, True]
    early, final = utterances
    assert early.first_sample == final.first_sample
    np.testing.assert_array_equal(early.samples, final.samples)
    np.testing.assert_array_equal(early.voiced, final.voiced)
    assert early.end_sample == final.end_sample
    trail = TRAIL_SECONDS * LISTEN_RATE_HZ
    assert early.first_sample + len(early.samples) == early.end_sample + trail
    assert trail <= early.cut_sample - early.end_sample < trail + 512  # one detector window
    assert final.cut_sample - early.cut_sample >= 0.1 * LISTEN_RATE_HZ
    assert abs(final.cut_sample - final.end_sample - END_HANGOVER_SECONDS * LISTEN_RATE_HZ) < 512


class _RecordingCutter(UtteranceCutter):
    """The real cutter, keeping what it hands on."""

    def __init__(self) -> None:
        super().__init__()
        self.handed_on: list[Utterance] = []

    def feed(self, samples: np.ndarray) -> list[Utterance]:
        utterances = super().feed(samples)
        self.handed_on += utterances
        return utterances


def test_a_command_is_decoded_during_the_hang_over() -> None:
    """What is acted on at the end of the hang-over was decoded before it, and is exactly the
    result of decoding the final utterance then: the same sound (the pipeline's own cut of the
    cleaned stream, early and final) gives the same sentence, score and fit."""
    mic = quiet_room(speak("voice guide pause", "en-us+f2"))
    pipeline = Pipeline(pytest.fail)
    recording = pipeline._cutter = _RecordingCutter()
    (one,) = hear(mic, pipeline)
    assert one.accepted, one
    assert grammar.command_for(one.recognition.words, "voice guide") == "pause"
    assert one.ready_sample < one.cut_sample
    assert [u.final for u in recording.handed_on] == [False, True]
    final = recording.handed_on[-1]
    again = Recognizer().recognize(final.samples)
    assert (again.words, again.score, again.fit) == (
        one.recognition.words,
        one.recognition.score,
        one.recognition.fit,
    )


def test_voice_that_goes_on_after_a_pause_is_heard_whole() -> None:
    """ "voice guide", a pause long enough for the early hand-on but shorter than the
    hang-over, then "next step": one command, from the whole sentence. The early decoding of
    "voice guide" alone (which the grammar forces into some command) is never acted on."""
    wake = trimmed(speak("voice guide", "en+m3"))
    rest = trimmed(speak("next step", "en+m3"))
    pause = np.zeros(int(PAUSE_SECONDS * LISTEN_RATE_HZ), dtype=np.int16)
    mic = quiet_room(np.concatenate([wake, pause, rest]))
    utterances = cut(mic)
    assert [u.final for u in utterances].count(True) == 1, utterances
    first_early = utterances[0]
    assert not first_early.final
    assert first_early.end_sample < (1.0 + PAUSE_SECONDS) * LISTEN_RATE_HZ + len(wake)
    heard = hear(mic)
    assert len(heard) == 1, heard
    assert grammar.command_for(heard[0].recognition.words, "voice guide") == "next"
    assert heard[0].accepted, heard[0]


def test_talk_whose_words_lie_under_silence_is_not_a_command() -> None:
    """The grammar explains other talk as some command, with most of the talk put under
    <sil>: here "voice guide resume", which passes the fit and the n-best margin. The voice
    outside the sentence's words refuses it."""
    (heard,) = hear(quiet_room(speak("next time we should start earlier", "en-us+klatt", 160)))
    assert grammar.command_for(heard.recognition.words, "voice guide") == "resume", heard
    assert heard.recognition.accepted, heard  # what the decoder alone would have acted on
    assert heard.voice_outside_seconds > MAX_VOICE_OUTSIDE_SECONDS, heard
    assert not heard.accepted
    (heard,) = hear(quiet_room(speak("the weather is nice today", "en-us+f2", 140)))
    assert heard.voice_outside_seconds > MAX_VOICE_OUTSIDE_SECONDS, heard
    assert not heard.accepted


@pytest.mark.parametrize("voice", ["en-us+klatt", "en-gb+f4", "en+m3"])
@pytest.mark.parametrize("words", ["next step", "one more minute", "stop session"])
def test_a_command_leaves_little_voice_outside_its_words(voice: str, words: str) -> None:
    (heard,) = hear(quiet_room(speak(f"voice guide {words}", voice)))
    assert heard.recognition.words, heard
    assert heard.voice_outside_seconds <= MAX_VOICE_OUTSIDE_SECONDS / 2, heard


def test_voice_under_silence_between_words_counts_as_outside() -> None:
    """The program's "Music can help the milk flow", left over by the canceller on the rig,
    was decoded as "voice guide how [1 s of <sil>] long" and acted on: silence inside the
    sentence hides voice as well as silence around it. (Spans as pocketsphinx gave them.)"""
    spans = (
        ("<sil>", 0, 35),
        ("voice", 36, 58),
        ("guide", 59, 79),
        ("(NULL)", 79, 79),
        ("how", 80, 103),
        ("<sil>", 104, 203),
        ("long", 204, 264),
    )
    recognition = Recognition("voice guide how long", 0, None, 280, 5.3, spans=spans)
    voiced = np.zeros(280, dtype=bool)
    voiced[30:275] = True
    assert voice_outside(recognition, voiced) == pytest.approx((6 + 100 + 10) / 100)
    voiced[104:204] = False  # a pause between the words, heard as one
    assert voice_outside(recognition, voiced) == pytest.approx(0.16)
