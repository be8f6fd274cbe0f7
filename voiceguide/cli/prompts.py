"""Questions asked at the keyboard after a session: the amounts, one side at a time."""

from __future__ import annotations

import math

from rich.console import Console

from voiceguide.errors import VoiceguideError
from voiceguide.logbook.units import amount_to_ml, parse_unit


class KeyboardAmounts:
    """Asks "Amount, left side (ml, Enter to skip):" until the answer is a usable number."""

    def __init__(self, errors: Console) -> None:
        self.errors = errors

    def ask(self, side: str, unit: str) -> float | None:
        example = "60" if unit == "ml" else "2.5"
        while True:
            answer = input(f"Amount, {side} side ({unit}, Enter to skip): ").strip()
            if not answer:
                return None
            try:
                value = float(answer.replace(",", "."))
            except ValueError:
                value = math.nan
            if not math.isfinite(value):
                self.errors.print(
                    f"  Please type a number of {unit}, like {example}, or press Enter to skip.",
                    markup=False,
                )
                continue
            try:
                amount_to_ml(side, value, parse_unit(unit))
            except VoiceguideError as err:
                self.errors.print(f"  {err}. Please type it again.", markup=False)
                continue
            return value
