"""The pumping log: sessions recorded live or by hand, stats, chart, export and import.

The live player needs only `LogStore` (see its module docstring for the recorder calls)
and `end_of_session_sentence`.
"""

from __future__ import annotations

from voiceguide.logbook.dbfile import LogFileError
from voiceguide.logbook.phrases import end_of_session_sentence, ordinal
from voiceguide.logbook.records import DayTotals, LogStats, SessionRecord
from voiceguide.logbook.store import LogStore, LogWriteError, UnknownSessionError

__all__ = [
    "DayTotals",
    "LogFileError",
    "LogStats",
    "LogStore",
    "LogWriteError",
    "SessionRecord",
    "UnknownSessionError",
    "end_of_session_sentence",
    "ordinal",
]
