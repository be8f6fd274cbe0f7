"""Rich consoles for the CLI layer only (the core never imports rich)."""

from __future__ import annotations

from rich.console import Console


def console() -> Console:
    return Console(highlight=False)


def error_console() -> Console:
    return Console(stderr=True, highlight=False)


def warn(message: str) -> None:
    error_console().print(f"warning: {message}", markup=False, soft_wrap=True)
