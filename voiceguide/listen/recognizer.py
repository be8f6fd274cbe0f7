"""pocketsphinx on one utterance at a time, against one of the fixed grammars.

Everything comes from the pocketsphinx wheel (acoustic model, dictionary): nothing is
downloaded. A grammar decoder always finds *some* path through its grammar, so a result is
kept only if
- it is a whole sentence of the grammar, and not one that means nothing (the wake phrase
  alone, or followed by an ignored phrase: sentences of the command grammar so that such
  talk is not forced into the command that fits it least badly),
- it explains the sound nearly as well as free phone decoding does (`fit`: grammar path
  score minus phone-loop path score, per 10 ms frame: spoken commands score well above
  MIN_FIT, other talk and the program's own speech mostly below), and
- it is clearly better than the best different sentence in the decoder's n-best list
  (`margin`, in log units): close calls are dropped, since a wrong action is worse than none.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Collection
from dataclasses import dataclass

import numpy as np

from voiceguide.errors import BadInputError, VoiceguideError
from voiceguide.listen import grammar
from voiceguide.listen.amounts import parse_amount
from voiceguide.listen.format import LISTEN_RATE_HZ

MIN_MARGIN = {"commands": 300, "amount-ml": 0, "amount-oz": 0, "yes-no": 400}
"""Log units (base 1.0001) by which the best sentence must beat the best different one.
For commands, 300: in bench/voice_eval.py (5 ratios x 64 commands, 2.1 h of command-free
sound) every wrong decoding of a command had a margin of 177 or less; of the other sounds
that passed the fit and echo checks none lay between 0 and 474, so no sound is acted on at
300 that was not at 400; and right decodings at 370-397 had been refused (BENCHMARKS.md,
section 6).
An amount is read back and saved only on a spoken "yes", so a close call between
neighbouring numbers ("sixty five" / "seventy five") is better asked about than dropped:
it only has to be the n-best list's own first choice."""
MIN_FIT = {"commands": 4.0, "amount-ml": -8.0, "amount-oz": -8.0, "yes-no": 0.0}
"""Grammar minus phone-loop score per frame (log units) below which a sentence is rejected.
Answers are short (a one-word amount or "no" scores -5 to 0) and an amount is read back
before anything is saved; a "yes" saves, so it must fit as well as a command's words."""
SAFE_ANSWERS = frozenset({"no"})
"""Meanings acted on at the amounts' fit: refusing a read-back saves nothing."""
NBEST = 20
NOTHING = "(no command)"
"""The meaning of the wake phrase said on its own, or followed by an ignored phrase."""
NO_SENTENCE = "no sentence"
"""Refused: no whole sentence of the grammar that means something was heard."""
UNCLEAR = "unclear"
"""Refused: the sentence explains the sound too poorly against free phone decoding (MIN_FIT)."""
CLOSE_CALL = "close call"
"""Refused: another meaning in the n-best list came too close (MIN_MARGIN)."""


_JSGF: dict[str, Callable[[frozenset[float]], str]] = {
    "amount-ml": lambda refused: grammar.amount_jsgf("ml", refused),
    "amount-oz": lambda refused: grammar.amount_jsgf("oz", refused),
    "yes-no": lambda _refused: grammar.yes_no_jsgf(),
}
"""The answer grammars, by mode, without the amounts refused (the command grammar depends on
the wake phrase)."""


class RecognizerError(VoiceguideError):
    """pocketsphinx is missing or could not load its model."""


def _is_filler(word: str) -> bool:
    """Silence, noise and the decoder's empty transitions, not words of the grammar."""
    return word.startswith(("<", "[", "("))


@dataclass(frozen=True)
class Recognition:
    words: str
    """The recognised sentence (a whole grammar sentence), or "" for none."""
    score: int
    """Path score of the best sentence (log units, 0 is best)."""
    margin: int | None
    """How far ahead of the best different sentence (None: no other sentence in the n-best)."""
    frames: int
    fit: float = 0.0
    """Grammar minus phone-loop path score per frame (higher: the grammar explains it)."""
    mode: str = "commands"
    spans: tuple[tuple[str, int, int], ...] = ()
    """The best path's words and fillers ("<sil>", "[NOISE]"): (word, first frame, last frame)."""
    ignored: str = ""
    """The sentence heard when it is one that means nothing (the wake phrase alone, or followed
    by an ignored phrase); `words` is "" then, and `fit` is that sentence's. Only to tell the
    user why nothing was done."""

    @property
    def word_spans(self) -> list[tuple[int, int]]:
        """First and last frame of each of the sentence's words (fillers excluded)."""
        return [(a, b) for word, a, b in self.spans if not _is_filler(word)]

    def refusal(self) -> str | None:
        """Why the sentence is not acted on (NO_SENTENCE, UNCLEAR or CLOSE_CALL), or None."""
        min_fit = MIN_FIT[self.mode]
        if self.mode == "yes-no" and grammar.YES_NO_PHRASES.get(self.words) in SAFE_ANSWERS:
            min_fit = MIN_FIT["amount-ml"]
        if not self.words:
            return NO_SENTENCE
        if self.fit < min_fit:
            return UNCLEAR
        if self.margin is not None and self.margin < MIN_MARGIN[self.mode]:
            return CLOSE_CALL
        return None

    @property
    def accepted(self) -> bool:
        return self.refusal() is None


def _search_name(mode: str, refused: frozenset[float]) -> str:
    """The decoder's search for a mode and the amounts left out of it."""
    return f"{mode}-refused" if refused else mode


def _decoder_module():
    try:
        import pocketsphinx
    except ImportError as err:  # pragma: no cover - a broken install
        raise RecognizerError(f"voice commands need pocketsphinx: {err}") from None
    return pocketsphinx


def _new_decoder():
    ps = _decoder_module()
    # dither: the echo canceller can output exact digital silence, whose log energy breaks
    # the features (measured: 24 % of clean commands lost their last word without it).
    # dict=None: only the grammar's words are added (the full dictionary costs ~25 MB).
    # bestpath=False: the sentence is the Viterbi path's. The lattice's best path came back
    # empty for 5 of 200 clean commands (no lattice node reached the grammar's end), and it
    # scored the fit on another scale than the phone loop's Viterbi path.
    return ps.Decoder(
        lm=None,
        dict=None,
        loglevel="FATAL",
        dither=True,
        seed=1,
        samprate=LISTEN_RATE_HZ,
        bestpath=False,
    )


def pronunciations(words: set[str]) -> dict[str, str]:
    """Dictionary entries ("word" or "word(2)" -> phones) for `words`, from the wheel's CMUdict."""
    path = _decoder_module().get_model_path("en-us/cmudict-en-us.dict")
    entries: dict[str, str] = {}
    with open(path, encoding="utf-8") as lines:
        for line in lines:
            key, _, phones = line.strip().partition(" ")
            if key.split("(", 1)[0] in words:
                entries[key] = phones.split("#", 1)[0].strip()
    return entries


def unknown_words(words: set[str]) -> list[str]:
    """Those of `words` the recognizer's dictionary does not know."""
    known = {key.split("(", 1)[0] for key in pronunciations(words)}
    return sorted(words - known)


def check_wake_phrase(phrase: str) -> str:
    """The normalised wake phrase; BadInputError naming any word the dictionary lacks."""
    wake = grammar.normalise_wake_phrase(phrase)
    missing = unknown_words(set(wake.split()))
    if missing:
        raise BadInputError(
            f"wake phrase {phrase!r}: the recognizer does not know {', '.join(map(repr, missing))}"
            " (choose common English words)"
        )
    return wake


class Recognizer:
    """One decoder holding every grammar; `set_mode` picks the one used for the next utterance."""

    def __init__(self, wake_phrase: str = grammar.DEFAULT_WAKE_PHRASE) -> None:
        self.wake_phrase = check_wake_phrase(wake_phrase)
        self._decoder = _new_decoder()
        for word, phones in pronunciations(grammar.grammar_words(self.wake_phrase)).items():
            self._decoder.add_word(word, phones, False)
        self._decoder.add_jsgf_string("commands", grammar.commands_jsgf(self.wake_phrase))
        self._loaded = {"commands"}
        self._decoder.add_allphone_file(
            "phones", _decoder_module().get_model_path("en-us/en-us-phone.lm.bin")
        )
        self._logmath = self._decoder.get_logmath()
        self.mode = "commands"
        self.refused: frozenset[float] = frozenset()
        """Amounts left out of the amount grammar in use."""
        self._decoder.activate_search(self._search)

    @property
    def _search(self) -> str:
        return _search_name(self.mode, self.refused)

    def set_mode(self, mode: str, refused: Collection[float] = ()) -> None:
        """ "commands", "amount-ml", "amount-oz" or "yes-no".

        `refused`: amounts the user has just said no to, left out of an amount grammar, so
        that the same sound is not heard as the same wrong value again: "one hundred fifteen"
        was read back as "one hundred and fifty" twice running (BENCHMARKS.md, section 6)."""
        if mode not in grammar.MODES:
            raise ValueError(f"unknown listening mode {mode!r} (known: {', '.join(grammar.MODES)})")
        left_out = frozenset(refused) if mode.startswith("amount-") else frozenset()
        if (mode, left_out) == (self.mode, self.refused):
            return
        search = _search_name(mode, left_out)
        if left_out or search not in self._loaded:
            # Built on first use (the millilitre grammar alone holds 5.7 MB, which a session
            # that is only listening for commands does not need); 10 ms each.
            self._decoder.add_jsgf_string(search, _JSGF[mode](left_out))
            self._loaded.add(search)
        self._decoder.activate_search(search)
        self.mode, self.refused = mode, left_out

    def _log(self, value: float) -> int:
        return int(self._logmath.log(value)) if value > 0 else -(2**31)

    def recognize(self, samples: np.ndarray) -> Recognition:
        """Decode one utterance (int16 mono at 16 kHz, with some silence around it)."""
        decoder = self._decoder
        audio = np.ascontiguousarray(samples, dtype=np.int16).tobytes()
        self._decode(audio)
        frames = decoder.n_frames()
        hyp = decoder.hyp()
        if hyp is None or not hyp.hypstr:
            return Recognition("", 0, None, frames, mode=self.mode)
        words = hyp.hypstr
        mine = self._meaning(words)
        if mine is None:
            return Recognition("", self._log(hyp.score), None, frames, mode=self.mode)
        if mine == NOTHING:
            # Its fit tells "voice guide" said alone from other talk landing on that sentence
            # (what the sentence is there for); it is never acted on either way.
            best = self._log(hyp.score)
            fit = (best - self._phone_score(audio)) / max(frames, 1)
            return Recognition("", best, None, frames, fit, self.mode, ignored=words)
        best = self._log(hyp.score)
        # The n-best list comes from the lattice, scored on its own scale: compare within it.
        same: int | None = None
        other_best: int | None = None
        for other in itertools.islice(decoder.nbest(), NBEST):
            meaning = None if other is None else self._meaning(other.hypstr)
            if meaning is None:
                continue
            score = self._log(other.score)
            if meaning == mine:
                same = score if same is None else max(same, score)
            else:
                other_best = score if other_best is None else max(other_best, score)
        margin = None if other_best is None else (same if same is not None else best) - other_best
        spans = tuple(
            (seg.word, seg.start_frame, seg.end_frame)
            for seg in decoder.seg()
            if seg.end_frame >= seg.start_frame
        )
        fit = (best - self._phone_score(audio)) / max(frames, 1)
        return Recognition(words, best, margin, frames, fit, self.mode, spans)

    def _decode(self, audio: bytes) -> None:
        """One whole utterance through the active search, from fresh features: the noise
        removal's estimate and the dither's generator otherwise run on from the sound decoded
        before, so the same utterance decoded differently after other sounds, and the grammar
        and the phone loop, decoding it one after the other, saw it differently (the fit of a
        "pause" moved by up to 0.25 with what came before). Rebuilding them costs 0.1 ms."""
        decoder = self._decoder
        decoder.reinit_feat()
        decoder.start_utt()
        decoder.process_raw(audio, full_utt=True)
        decoder.end_utt()

    def _phone_score(self, audio: bytes) -> int:
        """Path score of free phone decoding of the same sound (the best any words could do)."""
        decoder = self._decoder
        decoder.activate_search("phones")
        try:
            self._decode(audio)
            hyp = decoder.hyp()
            return self._log(hyp.score) if hyp is not None else 0
        finally:
            decoder.activate_search(self._search)

    def _meaning(self, words: str) -> str | float | None:
        """What a sentence means in the current mode (None: not a whole grammar sentence).
        Sentences that mean the same ("resume" / "continue", "twelve" / "twelve ounces") do
        not compete for the margin."""
        if self.mode == "commands":
            if grammar.means_nothing(words, self.wake_phrase):
                return NOTHING  # competes for the margin, never acted on
            return grammar.command_for(words, self.wake_phrase)
        if self.mode == "yes-no":
            return grammar.YES_NO_PHRASES.get(words)
        if words == grammar.SKIP_WORDS:
            return words
        return parse_amount(words, "ml" if self.mode == "amount-ml" else "oz")
