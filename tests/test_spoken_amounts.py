"""The spoken-amounts dialogue's bookkeeping: what is asked, what is left out of the next
answer's grammar, what is saved. The listener here answers from a script; the same dialogue
on the real sound server, with real talkers, is test_voice_session's spoken-amounts test, and
the grammar without the refused value is test_listen_recognizer's."""

from __future__ import annotations

from collections.abc import Collection
from types import SimpleNamespace

from voiceguide.listen.listener import Answer
from voiceguide.live.voice import TRIES, SpokenAmounts


class ScriptedListener:
    """Answers from a list (None: nobody answered in time); notes what each question left out."""

    def __init__(self, answers: list[Answer | None]) -> None:
        self.answers = answers
        self.asked: list[tuple[str, tuple[float, ...]]] = []

    def ask(
        self, mode: str, timeout_seconds: float, refused: Collection[float] = ()
    ) -> Answer | None:
        self.asked.append((mode, tuple(refused)))
        return self.answers.pop(0)


def amount(value: float) -> Answer:
    return Answer("amount-ml", str(value), value)


def reply(word: str) -> Answer:
    return Answer("yes-no", word, word)


def dialogue(answers: list[Answer | None]) -> tuple[float | None, ScriptedListener, list[str]]:
    listener = ScriptedListener(answers)
    said: list[str] = []
    value = SpokenAmounts(SimpleNamespace(listener=listener), said.append).ask("left", "ml")  # type: ignore[arg-type]
    assert not listener.answers, "the dialogue stopped before the script did"
    return value, listener, said


def test_the_value_refused_is_left_out_of_the_next_answer_only() -> None:
    # 150 refused, then 155 refused (150 offered again), then 115 confirmed.
    value, listener, said = dialogue(
        [amount(150), reply("no"), amount(155), reply("no"), amount(115), reply("yes")]
    )
    assert value == 115
    assert listener.asked == [
        ("amount-ml", ()),
        ("yes-no", ()),
        ("amount-ml", (150,)),
        ("yes-no", ()),
        ("amount-ml", (155,)),
        ("yes-no", ()),
    ]
    assert said[-1] == "Saved."


def test_no_answer_to_the_read_back_refuses_nothing_and_saves_nothing() -> None:
    value, listener, said = dialogue([amount(60), None, None, amount(60), None])
    assert value is None
    assert [refused for mode, refused in listener.asked if mode == "amount-ml"] == [()] * TRIES
    assert said[-1] == "No amount for the left side."
