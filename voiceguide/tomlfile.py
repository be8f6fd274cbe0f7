"""Parsing a user's TOML text: every way it can fail becomes one problem with its line.

tomllib raises more than TOMLDecodeError on hostile text: ValueError for an integer of more
than 4300 digits (Python's guard against quadratic int parsing) and RecursionError for arrays
or inline tables nested a few hundred deep. The settings file and routines both read TOML
through here, so neither can end in a traceback.
"""

from __future__ import annotations

import re
import sys
import tomllib
from typing import Any

_AT_LINE = re.compile(r"\s*\(at line (\d+), column \d+\)")


class TomlError(Exception):
    """Why a TOML text cannot be read: `problem` in words, `line` where (None: unknown)."""

    def __init__(self, problem: str, line: int | None) -> None:
        super().__init__(problem if line is None else f"line {line}: {problem}")
        self.problem = problem
        self.line = line


def parse_toml(text: str) -> dict[str, Any]:
    """The TOML document in `text`; TomlError (with the line, where known) if it is not one."""
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        match = _AT_LINE.search(str(err))
        line = int(match.group(1)) if match else None
        raise TomlError(f"TOML syntax error: {_AT_LINE.sub('', str(err))}", line) from None
    except ValueError:
        # The only ValueError tomllib lets out: an integer too long for int().
        digits = sys.get_int_max_str_digits()
        line = _long_number_line(text, digits)
        raise TomlError(f"a number of more than {digits} digits", line) from None
    except RecursionError:
        raise TomlError("arrays or tables nested too deep (a few hundred levels)", None) from None


def _long_number_line(text: str, digits: int) -> int | None:
    match = re.search(rf"[0-9_]{{{digits + 1},}}", text)
    return None if match is None else text.count("\n", 0, match.start()) + 1
