"""Fuzzing the parsers of user files: any text or bytes either parse or give BadInputError.

The routine, settings, playlist (M3U, PLS) and CSV readers are fed arbitrary bytes, arbitrary
text, and documents of the right shape with wild values in them (NaN, huge integers, nested
arrays, control characters, wrong types). Each must return, or raise a BadInputError (exit 2)
whose message names the file: never another exception, which a user would see as exit 1.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from voiceguide.config import Config, load_config
from voiceguide.errors import BadInputError, ExitStatus
from voiceguide.logbook.exchange import CSV_COLUMNS, read_csv
from voiceguide.music.playlists.m3u import parse_m3u
from voiceguide.music.playlists.pls import parse_pls
from voiceguide.routine.load import Routine, load_file, parse_routine

FUZZ = settings(
    max_examples=200,
    deadline=None,  # a loaded 2-core machine makes single examples slow now and then
    database=None,  # nothing written into the clone; a failure prints how to reproduce it
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# -- values a hostile file may hold --------------------------------------------------------------

NUMBERS = st.one_of(
    st.integers(),
    st.integers(min_value=-(10**4000), max_value=10**4000),
    st.floats(),  # NaN and both infinities included
    st.sampled_from([0, -1, 0.0, -0.0, 1e-300, 1e300, 2**63, 2.1e14, 7200, 7200.5, 10800]),
)
DURATION_TEXT = st.one_of(
    st.sampled_from(["90s", "6m", "1m30s", "-30s", "2h", "3h", "nan", "inf", "1e400", "0", "1_0"]),
    st.from_regex(r"-?[0-9]{1,400}(\.[0-9]{0,5})?\s*[hms]?", fullmatch=True),
    st.text(max_size=12),
)
SCALARS = st.one_of(st.booleans(), NUMBERS, st.text(max_size=40), DURATION_TEXT)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(st.text(max_size=6), inner, max_size=3),
    ),
    max_leaves=8,
)


@dataclass(frozen=True)
class Nested:
    """An array nested `levels` deep, written out only as TOML (hypothesis could not print it)."""

    levels: int


WILD = st.one_of(VALUES, st.integers(min_value=200, max_value=3000).map(Nested))


def toml_value(value: Any) -> str:
    """`value` as a TOML inline value (TOML has no null: None never occurs here)."""
    if isinstance(value, Nested):
        return "[" * value.levels + "1" + "]" * value.levels
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)  # JSON's escapes are TOML's, for what json.dumps writes
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{json.dumps(k)} = {toml_value(v)}" for k, v in value.items()) + "}"
    raise TypeError(value)


def toml_document(table: dict[str, Any]) -> str:
    return "".join(f"{json.dumps(key)} = {toml_value(value)}\n" for key, value in table.items())


def either(good: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Mostly a value of the right shape, sometimes anything at all."""
    return st.one_of(good, good, good, WILD)


DURATIONS = either(
    st.one_of(
        NUMBERS,
        DURATION_TEXT,
        st.fixed_dictionaries({"min": NUMBERS, "default": NUMBERS, "max": NUMBERS}),
        st.fixed_dictionaries(
            {"min": DURATION_TEXT, "default": DURATION_TEXT, "max": DURATION_TEXT}
        ),
    )
)
SAY = either(st.one_of(st.just("Go."), st.text(max_size=60), st.text(min_size=990, max_size=1010)))
CUES = st.lists(
    st.fixed_dictionaries(
        {"say": SAY},
        optional={"at": DURATIONS, "kind": either(st.sampled_from(["tip", "say", "shout"]))},
    ),
    max_size=3,
)
STEP = st.fixed_dictionaries(
    {
        "id": either(st.sampled_from(["a", "b", "A b"])),
        "title": SAY,
        "say": SAY,
        "duration": DURATIONS,
    },
    optional={"cues": either(CUES), "music": WILD, "pumping": either(st.booleans())},
)
ROUTINE = st.fixed_dictionaries(
    {"format": either(st.just(1)), "title": SAY, "steps": either(st.lists(STEP, max_size=4))},
    optional={
        "name": WILD,
        "description": SAY,
        "counts": WILD,
        "intro": either(st.fixed_dictionaries({}, optional={"say": SAY, "first_run": SAY})),
        "closing": WILD,
        "colour": WILD,
    },
)
SETTINGS = st.dictionaries(
    st.one_of(
        st.sampled_from([f.name for f in Config.__dataclass_fields__.values()]), st.text(max_size=8)
    ),
    WILD,
    max_size=4,
)


# -- the check every parser must pass ----------------------------------------------------------


def parses_or_names_the_file(parse: Callable[[], object], source: str) -> None:
    try:
        parse()
    except BadInputError as err:
        assert err.exit_status == ExitStatus.BAD_INPUT
        message = str(err)
        assert message.startswith(source), message
        assert "\n" not in message, message
        assert len(message) < 2000, message[:200]


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


def written(folder: Path, name: str, data: bytes) -> Path:
    path = folder / name
    path.write_bytes(data)
    return path


# -- routines ------------------------------------------------------------------------------------


@FUZZ
@given(text=st.text(max_size=2000))
def test_routine_text(text: str) -> None:
    parses_or_names_the_file(lambda: parse_routine(text, "fuzz.toml", "fuzz"), "fuzz.toml")


@FUZZ
@given(document=ROUTINE)
def test_routine_documents_with_wild_values(document: dict[str, Any]) -> None:
    text = toml_document(document)
    routine = None

    def parse() -> None:
        nonlocal routine
        routine = parse_routine(text, "fuzz.toml", "fuzz")

    parses_or_names_the_file(parse, "fuzz.toml")
    if isinstance(routine, Routine):  # what passed is within every limit render applies
        for step in routine.steps:
            span = step.duration
            assert 0 < span.min_seconds <= span.default_seconds <= span.max_seconds <= 7200
            assert all(math.isfinite(cue.at_seconds) for cue in step.cues)
        assert sum(step.duration.max_seconds for step in routine.steps) <= 3 * 3600


@FUZZ
@given(data=st.binary(max_size=2000))
def test_routine_file_bytes(folder: Path, data: bytes) -> None:
    path = written(folder, "routine.toml", data)
    parses_or_names_the_file(lambda: load_file(path), str(path))


# -- settings ------------------------------------------------------------------------------------


@FUZZ
@given(data=st.binary(max_size=2000))
def test_settings_file_bytes(folder: Path, data: bytes) -> None:
    path = written(folder, "config.toml", data)
    parses_or_names_the_file(lambda: load_config(path), str(path))


@FUZZ
@given(document=SETTINGS)
def test_settings_documents_with_wild_values(folder: Path, document: dict[str, Any]) -> None:
    path = written(folder, "config.toml", toml_document(document).encode())
    parses_or_names_the_file(lambda: load_config(path), str(path))


# -- playlists -----------------------------------------------------------------------------------

PLAYLIST_LINES = st.lists(
    st.one_of(
        st.text(max_size=40),
        st.sampled_from(["#EXTM3U", "[playlist]", "NumberOfEntries=2", "", "#EXTINF:", "File1="]),
        st.builds(lambda n, t: f"#EXTINF:{n},{t}", NUMBERS, st.text(max_size=20)),
        st.builds(
            lambda k, n, v: f"{k}{n}={v}",
            st.sampled_from(["File", "Title", "Length", "file"]),
            st.integers(min_value=-5, max_value=10**30),
            st.one_of(st.text(max_size=30), NUMBERS.map(str)),
        ),
        st.sampled_from(["file:///music/a.mp3", "file://%ZZ", "http://x/y", "C:\\Music\\a.mp3"]),
    ),
    max_size=12,
)


@FUZZ
@given(data=st.binary(max_size=2000), suffix=st.sampled_from([".m3u", ".m3u8"]))
def test_m3u_bytes(folder: Path, data: bytes, suffix: str) -> None:
    path = written(folder, f"list{suffix}", data)
    parses_or_names_the_file(lambda: parse_m3u(path), str(path))


@FUZZ
@given(lines=PLAYLIST_LINES, ending=st.sampled_from(["\n", "\r\n", "\r"]))
def test_m3u_lines(folder: Path, lines: list[str], ending: str) -> None:
    path = written(folder, "list.m3u8", ending.join(lines).encode("utf-8", "surrogatepass"))
    parses_or_names_the_file(lambda: parse_m3u(path), str(path))


@FUZZ
@given(data=st.binary(max_size=2000))
def test_pls_bytes(folder: Path, data: bytes) -> None:
    path = written(folder, "list.pls", data)
    parses_or_names_the_file(lambda: parse_pls(path), str(path))


@FUZZ
@given(lines=PLAYLIST_LINES)
def test_pls_lines(folder: Path, lines: list[str]) -> None:
    path = written(
        folder, "list.pls", "\n".join(["[playlist]", *lines]).encode("utf-8", "surrogatepass")
    )
    parses_or_names_the_file(lambda: parse_pls(path), str(path))


# -- the log's CSV -------------------------------------------------------------------------------

CELLS = st.one_of(
    st.text(max_size=30),
    NUMBERS.map(str),
    st.sampled_from(["", "1", "0", "true", "left", "right", "live", "manual", "[]", '["a"]']),
    st.sampled_from(["2026-01-30T15:04:42+00:00", "0001-01-01T00:00:00-05:00"]),
    st.from_regex(
        r"[0-9]{1,4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}(:[0-9]{2})?[+-][0-9]{2}:[0-9]{2}",
        fullmatch=True,
    ),
    st.integers(min_value=1, max_value=5000).map(lambda n: "[" * n),
)


@FUZZ
@given(data=st.binary(max_size=2000))
def test_csv_bytes(folder: Path, data: bytes) -> None:
    path = written(folder, "log.csv", data)
    parses_or_names_the_file(lambda: read_csv(path), str(path))


@FUZZ
@given(
    rows=st.lists(
        st.lists(CELLS, min_size=len(CSV_COLUMNS), max_size=len(CSV_COLUMNS) + 1), max_size=4
    )
)
def test_csv_rows_with_wild_cells(folder: Path, rows: list[list[str]]) -> None:
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(CSV_COLUMNS)
    writer.writerows(rows)
    path = written(folder, "log.csv", text.getvalue().encode("utf-8", "surrogatepass"))
    parses_or_names_the_file(lambda: read_csv(path), str(path))
