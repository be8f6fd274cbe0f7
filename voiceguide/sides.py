"""The two sides (breasts) a session alternates between: declared once, used everywhere."""

from __future__ import annotations

from typing import Literal, get_args

Side = Literal["left", "right"]
SIDES: tuple[Side, ...] = get_args(Side)
"""In the order they are shown: left first, in tables, prompts and exports."""
SIDE_CHOICES = " or ".join(SIDES)
"""For messages: "left or right"."""


def other_side(side: str) -> Side:
    """The side that is not `side` ("right" for "left", "left" for anything else)."""
    return SIDES[1] if side == SIDES[0] else SIDES[0]
