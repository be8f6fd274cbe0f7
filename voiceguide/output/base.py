"""The sink protocol every output implements."""

from __future__ import annotations

from typing import Protocol

import numpy as np


class Sink(Protocol):
    """Receives int16 stereo blocks in order; `close()` finishes the output."""

    name: str

    def open(self, sample_rate_hz: int, total_frames: int) -> None: ...

    def write(self, block: np.ndarray) -> None: ...

    def close(self) -> None: ...

    def abort(self) -> None:
        """Stop at once and discard what is unfinished (Ctrl-C)."""
        ...
