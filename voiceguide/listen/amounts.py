"""Spoken amounts: the phrases a grammar accepts and the value each one means.

Millilitres in steps of 5 up to 500 ("sixty", "fifty five", "one hundred and twenty five"),
ounces in halves up to 16 ("two and a half", "half"), each optionally followed by its unit
("mils", "ounces"). Phrases and values come from one table per unit, so the grammar and the
parser cannot disagree.
"""

from __future__ import annotations

from collections.abc import Collection
from functools import cache

ML_STEP = 5
ML_MAX = 500
OZ_MAX = 16.0

_ONES = (
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
)
_TENS = ("", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety")
ML_UNITS = ("milliliters", "mils", "mil")
OZ_UNITS = ("ounces", "ounce")


def number_words(value: int) -> list[str]:
    """Every way we accept to say a whole number from 1 to 999 ("one hundred and five")."""
    if not 0 < value < 1000:
        raise ValueError(f"{value} is out of range")
    if value < 20:
        return [_ONES[value]]
    if value < 100:
        tens, ones = divmod(value, 10)
        return [_TENS[tens] if ones == 0 else f"{_TENS[tens]} {_ONES[ones]}"]
    hundreds, rest = divmod(value, 100)
    head = f"{_ONES[hundreds]} hundred"
    if rest == 0:
        return [head]
    return [f"{head} {words}" for words in number_words(rest)] + [
        f"{head} and {words}" for words in number_words(rest)
    ]


@cache
def _ml_table() -> dict[str, int]:
    table: dict[str, int] = {}
    for value in range(ML_STEP, ML_MAX + 1, ML_STEP):
        for words in number_words(value):
            table[words] = value
    return table


@cache
def _oz_table() -> dict[str, float]:
    table: dict[str, float] = {"half": 0.5, "a half": 0.5}
    for whole in range(1, int(OZ_MAX) + 1):
        for words in number_words(whole):
            table[words] = float(whole)
            if whole < OZ_MAX:
                table[f"{words} and a half"] = whole + 0.5
    return table


def ml_phrases() -> list[str]:
    """Every millilitre phrase we accept, alone and with a unit word after it."""
    return [f"{p} {u}".strip() for p in _ml_table() for u in ("", *ML_UNITS)]


def oz_phrases() -> list[str]:
    return [f"{p} {u}".strip() for p in _oz_table() for u in ("", *OZ_UNITS)]


def grammar_body(unit: str, refused: Collection[float] = ()) -> str:
    """The JSGF expansion for amounts in `unit`: one alternative per value ("and" optional),
    then an optional unit word; values in `refused` are left out. Factored so: the flat list
    of every phrase made decoding 8 times slower (1.2-2.4 s of CPU per answer)."""
    table = _ml_table() if unit == "ml" else _oz_table()
    alternatives = []
    for phrase, value in table.items():
        if " hundred and " in phrase or value in refused:
            continue  # "and": covered by the optional "and" of the phrase without it
        alternatives.append(phrase.replace(" hundred ", " hundred [ and ] "))
    units = ML_UNITS if unit == "ml" else OZ_UNITS
    return f"( {' | '.join(f'( {a} )' for a in alternatives)} ) [ {' | '.join(units)} ]"


def parse_amount(words: str, unit: str) -> float | None:
    """The value of a recognised amount phrase in `unit` ("ml" or "oz"); None if it is none.

    "skip" is not an amount: callers check for it first (grammar.SKIP_WORDS).
    """
    units = ML_UNITS if unit == "ml" else OZ_UNITS
    table: dict[str, float] = {**(_ml_table() if unit == "ml" else _oz_table())}
    phrase = " ".join(words.split())
    for name in units:
        if phrase.endswith(" " + name):
            phrase = phrase[: -len(name) - 1]
            break
    return table.get(phrase)


def say_amount(value: float, unit: str) -> str:
    """The read-back wording: "sixty five millilitres", "two and a half ounces"."""
    if unit == "ml":
        # The last form is the one with "and": "one hundred and twenty".
        return f"{number_words(round(value))[-1]} millilitres"
    whole = int(value)
    if value == 0.5:
        return "half an ounce"
    words = number_words(whole)[0] + (" and a half" if value - whole == 0.5 else "")
    return f"{words} {'ounce' if value == 1 else 'ounces'}"
