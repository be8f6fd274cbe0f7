"""The spoken command table and the JSGF grammars built from it (one declaration each).

A command is one breath, wake phrase first: "voice guide next". The grammar holds exactly
wake phrase + one command phrase, so the recognizer can only ever return a whole command or
nothing; partial matches are never acted on.

The amount modes (after a session) need no wake phrase: the program has just asked.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable

from voiceguide.errors import BadInputError
from voiceguide.listen.amounts import grammar_body, ml_phrases, oz_phrases

DEFAULT_WAKE_PHRASE = "voice guide"

COMMAND_PHRASES: tuple[tuple[str, str, str], ...] = (
    # (words after the wake phrase, command name, what it does: for help and README tables)
    ("next step", "next", "next step now"),
    ("from the top", "back", "back to the start of this step"),
    ("pause", "pause", "pause"),
    ("resume", "resume", "resume after a pause"),
    ("continue", "resume", "resume after a pause"),
    ("repeat", "repeat", "repeat this step's instructions"),
    ("more time", "extend", "one more minute on this step"),
    ("one more minute", "extend", "one more minute on this step"),
    ("how long", "how-long", "say the time left in this step"),
    ("stop session", "stop", "stop the session"),
)
"""The one declaration of the spoken commands.

Two words where one was misheard: in a quiet room, said twice by each of the 10 test
talkers, "back" alone was heard as "stop" (which ends the session) 9 times in 20 and "next"
alone was refused as a close call 4 times; "next step" was never taken for another command
(BENCHMARKS.md, section 6). "stop session", because "stop" alone was what a hesitation after
the wake phrase sounded most like: "voice guide, uh" was heard as "voice guide stop" 14 times
in 64 (8 talkers, 8 hesitations and short words), "voice guide stop session" never. "from the
top", because "go back", which replaced "back", was the weakest phrase under the program's
sound: in 960 commands (5 ratios, 3 sessions each) it was missed 13 times in 93 and taken for
another command 3 times; "from the top" was missed once in 93, and the commands wrongly acted
on fell from 4 to 1 ("start again": 5). The one-word forms are not in the grammar."""

COMMANDS: dict[str, str] = {words: command for words, command, _ in COMMAND_PHRASES}
"""Command words -> command name."""

IGNORED_PHRASES = ("start again", "start over")
"""Sentences after the wake phrase that mean nothing, as the wake phrase alone does: heard, and
ignored. Without them "voice guide start again" was heard as "voice guide stop session",
which ends the session, 18 times in 20, and "... start over" 10 times in 20, at fits up to
17 that no threshold refuses (BENCHMARKS.md, section 6)."""

YES_NO_PHRASES: dict[str, str] = {
    "yes": "yes",
    "yeah": "yes",
    "correct": "yes",
    "no": "no",
    "nope": "no",
    "wrong": "no",
}
SKIP_WORDS = "skip"

MODES = ("commands", "amount-ml", "amount-oz", "yes-no")


def _alternatives(phrases: Iterable[str]) -> str:
    return " | ".join(f"( {p} )" if " " in p else p for p in phrases)


def normalise_wake_phrase(phrase: str) -> str:
    """Lower case, single spaces; one or two words, else BadInputError."""
    words = phrase.lower().split()
    if not 1 <= len(words) <= 2:
        raise BadInputError(f"wake phrase {phrase!r}: expected one or two words")
    return " ".join(words)


def commands_jsgf(wake_phrase: str) -> str:
    """The command grammar: wake phrase then exactly one command phrase or ignored phrase, or
    the wake phrase alone. Alone it means nothing; it is there so that a wake phrase said on
    its own (a pause after it, or talk) has a sentence of its own to match, instead of being
    forced into the command that fits it least badly: "voice guide" alone was acted on as
    "voice guide stop" 5 times in 31 (BENCHMARKS.md, section 6)."""
    return (
        "#JSGF V1.0;\ngrammar commands;\n"
        f"public <command> = {wake_phrase} [ {_alternatives([*COMMANDS, *IGNORED_PHRASES])} ];\n"
    )


def amount_jsgf(unit: str, refused: Collection[float] = ()) -> str:
    """An amount in millilitres ("ml") or ounces ("oz") other than those `refused`, or "skip"."""
    return (
        f"#JSGF V1.0;\ngrammar amount_{unit};\n"
        f"public <amount> = {grammar_body(unit, refused)} | {SKIP_WORDS};\n"
    )


def yes_no_jsgf() -> str:
    return f"#JSGF V1.0;\ngrammar yes_no;\npublic <answer> = {_alternatives(YES_NO_PHRASES)};\n"


def grammar_words(wake_phrase: str) -> set[str]:
    """Every word any grammar can use (all must be in the recognizer's dictionary)."""
    words = set(wake_phrase.split())
    for phrase in [
        *COMMANDS,
        *IGNORED_PHRASES,
        *ml_phrases(),
        *oz_phrases(),
        SKIP_WORDS,
        *YES_NO_PHRASES,
    ]:
        words.update(phrase.split())
    return words


def means_nothing(words: str, wake_phrase: str) -> bool:
    """Whether a recognised sentence is one of the grammar's that mean nothing: the wake phrase
    alone, or followed by one of IGNORED_PHRASES."""
    return words == wake_phrase or any(words == f"{wake_phrase} {p}" for p in IGNORED_PHRASES)


def command_for(words: str, wake_phrase: str) -> str | None:
    """The command name for a recognised sentence, None unless it is a whole grammar match."""
    prefix = wake_phrase + " "
    if not words.startswith(prefix):
        return None
    return COMMANDS.get(words[len(prefix) :])


EXAMPLE_COMMANDS = ("next", "pause", "stop")
"""The commands the listening line and --help name as examples."""


def examples(wake_phrase: str = DEFAULT_WAKE_PHRASE) -> str:
    """ "voice guide next step", "... pause", "... stop session": the first phrase of each of
    EXAMPLE_COMMANDS, the wake phrase written once."""
    phrases = [next(w for w, c, _ in COMMAND_PHRASES if c == name) for name in EXAMPLE_COMMANDS]
    return ", ".join([f'"{wake_phrase} {phrases[0]}"', *(f'"... {p}"' for p in phrases[1:])])


def help_rows() -> list[tuple[str, str]]:
    """(what to say, what it does) for the help text and README, one row per command."""
    rows: dict[str, tuple[list[str], str]] = {}
    for words, command, description in COMMAND_PHRASES:
        rows.setdefault(command, ([], description))[0].append(words)
    return [
        (" / ".join(f'"{w}"' for w in said), description) for said, description in rows.values()
    ]
