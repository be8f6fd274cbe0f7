"""Milk amounts: millilitres in the log, ml or US fluid ounces on screen and on input."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from voiceguide.errors import BadInputError

Unit = Literal["ml", "oz"]
UNITS: tuple[Unit, ...] = ("ml", "oz")
ML_PER_OZ = 29.5735
"""One US fluid ounce in millilitres (what pump bottles and NICU charts mean by oz)."""
MAX_ML_PER_SIDE = 1000.0
"""More than this from one breast in one session is surely a typo (about 34 oz)."""
UNMEASURED = "-"
"""How an amount nobody measured is shown: unknown, never as zero."""
PARTLY_MEASURED = " + ?"
"""After a sum some of whose amounts were not measured: the sum is a lower bound."""


@dataclass(frozen=True)
class AmountSum:
    """Milk amounts added up: the sum of those measured, and how many were not measured.

    An amount nobody measured is unknown, not zero: shown as "-" when nothing was measured,
    and the sum is marked as partial when some were measured and some not.
    """

    ml: float = 0.0
    measured: int = 0
    unmeasured: int = 0

    @classmethod
    def of(cls, amounts_ml: Iterable[float | None]) -> AmountSum:
        """The sum of amounts in ml, None meaning not measured."""
        amounts = list(amounts_ml)
        known = [amount for amount in amounts if amount is not None]
        return cls(sum(known, 0.0), len(known), len(amounts) - len(known))

    def __add__(self, other: AmountSum) -> AmountSum:
        return AmountSum(
            self.ml + other.ml, self.measured + other.measured, self.unmeasured + other.unmeasured
        )

    @property
    def unknown(self) -> bool:
        """Nothing measured, though there was something to measure."""
        return self.measured == 0 and self.unmeasured > 0

    @property
    def partial(self) -> bool:
        """Some amounts measured and some not: the sum is a lower bound."""
        return self.measured > 0 and self.unmeasured > 0


def parse_unit(text: str) -> Unit:
    """Accept "ml" or "oz" (any case); anything else is a BadInputError listing the choices."""
    unit = text.strip().lower()
    if unit not in UNITS:
        raise BadInputError(f"unknown unit {text!r}: use ml or oz")
    return unit


def to_ml(amount: float, unit: Unit) -> float:
    """Convert an amount given in `unit` to millilitres."""
    return amount * ML_PER_OZ if unit == "oz" else float(amount)


def from_ml(amount_ml: float, unit: Unit) -> float:
    """Convert millilitres to `unit`."""
    return amount_ml / ML_PER_OZ if unit == "oz" else float(amount_ml)


def format_amount(amount_ml: float | None, unit: Unit, *, with_unit: bool = True) -> str:
    """Show an amount: whole ml, or ounces to one decimal; None (not measured) as a dash.

    The one place amounts are converted for display and rounded: from the exact ml.
    """
    if amount_ml is None:
        return UNMEASURED
    value = from_ml(amount_ml, unit)
    text = f"{value:.0f}" if unit == "ml" else f"{value:.1f}"
    return f"{text} {unit}" if with_unit else text


def format_sum(total: AmountSum, unit: Unit, *, with_unit: bool = True) -> str:
    """Show a sum: "-" when nothing was measured, "60 ml + ?" when only some amounts were."""
    if total.unknown:
        return UNMEASURED
    text = format_amount(total.ml, unit, with_unit=with_unit)
    return text + PARTLY_MEASURED if total.partial else text


def amount_to_ml(side: str, amount: float | None, unit: Unit) -> float | None:
    """Validate an amount given in `unit` and return it in ml (None: not measured).

    Negative, non-finite and over-1000-ml amounts raise BadInputError naming the side.
    """
    if amount is None:
        return None
    if not math.isfinite(amount):
        raise BadInputError(f"{side} amount is not a number")
    if amount < 0:
        raise BadInputError(f"{side} amount cannot be negative ({amount:g} {unit})")
    amount_ml = to_ml(amount, unit)
    if amount_ml > MAX_ML_PER_SIDE:
        shown = f"{amount:g} {unit}" if unit == "ml" else f"{amount:g} oz ({amount_ml:.0f} ml)"
        raise BadInputError(
            f"{side} amount {shown} is over {MAX_ML_PER_SIDE:.0f} ml per side; "
            "check the number and the unit"
        )
    return amount_ml
