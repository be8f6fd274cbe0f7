"""Voice commands: the command table, the grammars built from it, spoken amounts."""

from __future__ import annotations

import pytest

from voiceguide.errors import BadInputError
from voiceguide.listen import grammar
from voiceguide.listen.amounts import ml_phrases, oz_phrases, parse_amount, say_amount
from voiceguide.listen.listener import Answer, answer_for
from voiceguide.listen.recognizer import check_wake_phrase, unknown_words


def test_command_grammar_holds_exactly_wake_phrase_and_each_command() -> None:
    text = grammar.commands_jsgf("voice guide")
    assert "public <command> = voice guide [" in text  # alone, it matches but means nothing
    for words, command, _ in grammar.COMMAND_PHRASES:
        assert words in text
        assert grammar.command_for(f"voice guide {words}", "voice guide") == command


def test_ignored_phrases_are_sentences_that_mean_nothing() -> None:
    text = grammar.commands_jsgf("voice guide")
    for phrase in grammar.IGNORED_PHRASES:
        assert f"( {phrase} )" in text
        assert grammar.command_for(f"voice guide {phrase}", "voice guide") is None
        assert grammar.means_nothing(f"voice guide {phrase}", "voice guide")
    assert grammar.means_nothing("voice guide", "voice guide")
    assert not grammar.means_nothing("voice guide stop session", "voice guide")
    assert not set(grammar.IGNORED_PHRASES) & set(grammar.COMMANDS)


@pytest.mark.parametrize(
    "sentence",
    [
        "voice guide",
        "voice guide start again",
        "next step",
        "guide next step",
        "voice guide next step from the top",
        "voice guide more",
        "",
        # the one-word forms that were misheard ("back" as "stop") are not commands
        "voice guide back",
        "voice guide next",
        "voice guide step",
        "voice guide go",
        "voice guide stop",  # a hesitation after the wake phrase sounded most like it
    ],
)
def test_only_a_whole_sentence_is_a_command(sentence: str) -> None:
    assert grammar.command_for(sentence, "voice guide") is None


def test_command_names_are_the_ones_the_session_knows() -> None:
    assert set(grammar.COMMANDS.values()) == {
        "next", "back", "pause", "resume", "repeat", "extend", "how-long", "stop",
    }  # fmt: skip
    assert grammar.COMMANDS["continue"] == "resume"
    assert grammar.COMMANDS["from the top"] == "back"
    assert grammar.COMMANDS["next step"] == "next"
    assert "back" not in grammar.COMMANDS and "next" not in grammar.COMMANDS
    assert grammar.COMMANDS["one more minute"] == "extend"


def test_the_readme_lists_exactly_the_spoken_commands() -> None:
    from pathlib import Path

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    table = readme[readme.index("### Voice commands") :]
    table = table[: table.index("Anything else is ignored")]
    said = {
        phrase
        for line in table.splitlines()
        if line.startswith('| "voice guide ')
        for phrase in line.split("|")[1].replace('"voice guide ', '"').replace("...", "").split("/")
    }
    assert {p.strip().strip('"').strip() for p in said} == set(grammar.COMMANDS)


def test_help_rows_come_from_the_table_one_per_command() -> None:
    rows = grammar.help_rows()
    assert len(rows) == len(set(grammar.COMMANDS.values()))
    assert ('"resume" / "continue"', "resume after a pause") in rows


def test_every_grammar_word_is_in_the_dictionary() -> None:
    assert unknown_words(grammar.grammar_words("voice guide")) == []


def test_wake_phrase_with_an_unknown_word_names_it() -> None:
    assert check_wake_phrase("  Voice   GUIDE ") == "voice guide"
    assert check_wake_phrase("computer") == "computer"
    with pytest.raises(BadInputError, match="'zorblax'"):
        check_wake_phrase("hey zorblax")
    with pytest.raises(BadInputError, match="one or two words"):
        check_wake_phrase("hello there voice guide")


def test_every_millilitre_amount_from_5_to_500_reads_back() -> None:
    values = {parse_amount(p, "ml") for p in ml_phrases()}
    assert values == {float(v) for v in range(5, 501, 5)}
    assert parse_amount("sixty", "ml") == 60
    assert parse_amount("fifty five", "ml") == 55
    assert parse_amount("one hundred twenty five", "ml") == 125
    assert parse_amount("one hundred and twenty five mils", "ml") == 125
    assert parse_amount("five hundred", "ml") == 500


@pytest.mark.parametrize("words", ["fifty three", "five hundred five", "zero", "sixty sixty", ""])
def test_other_numbers_are_not_amounts(words: str) -> None:
    assert parse_amount(words, "ml") is None


def test_ounces_in_halves_up_to_sixteen() -> None:
    values = {parse_amount(p, "oz") for p in oz_phrases()}
    assert values == {v / 2 for v in range(1, 33)}
    assert parse_amount("two and a half", "oz") == 2.5
    assert parse_amount("half", "oz") == 0.5
    assert parse_amount("sixteen ounces", "oz") == 16
    assert parse_amount("sixteen and a half", "oz") is None


def test_amount_grammars_list_every_phrase_and_skip() -> None:
    ml = grammar.amount_jsgf("ml")
    assert "( one hundred [ and ] twenty five )" in ml and "| skip;" in ml
    assert ml.count(" | ") == 99 + 2 + 1  # between 100 values, 3 units, then skip
    assert "( two and a half )" in grammar.amount_jsgf("oz")
    assert "yes" in grammar.yes_no_jsgf() and "nope" in grammar.yes_no_jsgf()


def test_a_refused_amount_is_left_out_of_the_grammar() -> None:
    ml = grammar.amount_jsgf("ml", {150.0})
    assert "( one hundred [ and ] fifty )" not in ml
    assert "( one hundred [ and ] fifteen )" in ml and "( fifty )" in ml and "| skip;" in ml
    assert ml.count(" | ") == 98 + 2 + 1
    oz = grammar.amount_jsgf("oz", {2.5, 16.0})
    assert "( two and a half )" not in oz and "( sixteen )" not in oz
    assert "( two )" in oz and "( fifteen and a half )" in oz


def test_read_back_wording() -> None:
    assert say_amount(65, "ml") == "sixty five millilitres"
    assert say_amount(2.5, "oz") == "two and a half ounces"
    assert say_amount(1, "oz") == "one ounce"
    assert say_amount(0.5, "oz") == "half an ounce"


def test_answers_carry_their_value() -> None:
    assert answer_for("amount-ml", "one hundred and five") == Answer(
        "amount-ml", "one hundred and five", 105.0
    )
    assert answer_for("amount-oz", "skip") == Answer("amount-oz", "skip", "skip")
    assert answer_for("yes-no", "yeah") == Answer("yes-no", "yeah", "yes")
    assert answer_for("yes-no", "maybe") is None


def test_no_sound_server_is_one_clear_error(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    from voiceguide.listen.capture import NoInputError, resolve_source

    monkeypatch.setenv("PULSE_SERVER", f"unix:{tmp_path}/nothing-here")
    with pytest.raises(NoInputError, match=r"no sound server.*keys still work"):
        resolve_source(None)


def test_listening_settings(tmp_path) -> None:
    from voiceguide.config import load_config

    path = tmp_path / "config.toml"
    path.write_text('listen = true\nwake_word = "hey guide"\ninput_source = "usb-mic"\n')
    config = load_config(path)
    assert (config.listen, config.wake_word, config.input_source) == (True, "hey guide", "usb-mic")
    path.write_text("listen = 1\n")
    with pytest.raises(BadInputError, match="listen: expected bool"):
        load_config(path)
    path.write_text('wake_word = "hello there voice guide"\n')
    with pytest.raises(BadInputError, match="wake_word: expected one or two words"):
        load_config(path)


def test_a_read_back_says_hundreds_with_and() -> None:
    assert say_amount(120, "ml") == "one hundred and twenty millilitres"


def test_the_examples_shown_are_commands() -> None:
    """The listening line and --help name phrases to say: each must be one ("voice guide
    next" is not, since "next" alone was misheard)."""
    said = grammar.examples("hey there").split(", ")
    assert said[0].startswith('"hey there ')
    for phrase in said:
        words = phrase.strip('"').removeprefix("... ").removeprefix("hey there ")
        assert grammar.command_for(f"hey there {words}", "hey there") is not None, phrase
    assert said[-1] == '"... stop session"'
