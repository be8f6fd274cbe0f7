"""Render a whole session into a sink, block by block, reporting progress."""

from __future__ import annotations

from collections.abc import Callable

from voiceguide.audioformat import MIX_RATE_HZ
from voiceguide.mix.renderer import Renderer
from voiceguide.output.base import Sink

DEFAULT_BLOCK_FRAMES = 4 * MIX_RATE_HZ  # 4 s: per-block overhead negligible, progress still smooth


def render_to_sink(
    renderer: Renderer,
    total_frames: int,
    sink: Sink,
    progress: Callable[[int, int], None] | None = None,
    block_frames: int = DEFAULT_BLOCK_FRAMES,
) -> int:
    """Write frames [0, total_frames) to `sink`; returns the frames written.

    On any error (or Ctrl-C) the sink is aborted, so no half-written file is left.
    """
    sink.open(renderer.plan.sample_rate_hz, total_frames)
    try:
        frame = 0
        while frame < total_frames:
            n = min(block_frames, total_frames - frame)
            sink.write(renderer.render(frame, n))
            frame += n
            if progress is not None:
                progress(frame, total_frames)
    except BaseException:
        sink.abort()
        raise
    sink.close()
    return frame
