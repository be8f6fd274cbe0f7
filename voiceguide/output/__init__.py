"""Where rendered frames go: one protocol, implementations chosen by name."""

from __future__ import annotations

from pathlib import Path

from voiceguide.errors import BadInputError
from voiceguide.output.base import Sink
from voiceguide.output.file import FileSink
from voiceguide.output.null import NullSink

SINK_NAMES = ("simpleaudio", "file", "null")


def make_sink(name: str, path: Path | None = None) -> Sink:
    """A sink by name; an unknown name lists the choices (no silent fallback)."""
    if name == "file":
        if path is None:
            raise BadInputError("the file sink needs an output path (-o FILE)")
        return FileSink(path)
    if name == "null":
        return NullSink()
    if name == "simpleaudio":
        from voiceguide.output.simpleaudio import SimpleaudioSink

        return SimpleaudioSink()
    raise BadInputError(f"unknown sink {name!r} (choices: {', '.join(SINK_NAMES)})")


__all__ = ["SINK_NAMES", "FileSink", "NullSink", "Sink", "make_sink"]
