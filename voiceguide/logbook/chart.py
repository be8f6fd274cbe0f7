"""A PNG bar chart of milk per day: left and right stacked, sessions counted above each bar."""

from __future__ import annotations

import contextlib
import io
import os
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

from voiceguide.files import PRIVATE_MODE, check_target, make_private_folder, write_file
from voiceguide.logbook.records import DayTotals
from voiceguide.logbook.units import Unit, from_ml

WIDTH_PX = 1000
HEIGHT_PX = 600
DPI = 100
LEFT_COLOUR = "#4c72b0"
RIGHT_COLOUR = "#dd8452"


UNMEASURED_MARK = "*"
"""After a day's session count when some of its amounts were not measured (not zero)."""


def render_chart(
    per_day: Sequence[DayTotals],
    path_png: Path,
    unit: Unit = "ml",
    *,
    force: bool = False,
    inputs: Iterable[Path] = (),
    matplotlib_dir: Path | None = None,
) -> int:
    """Draw `per_day` (oldest first) into a 1000x600 PNG; returns the number of bar groups.

    One group per day, empty days included; bars show the measured amounts, and a day
    with amounts not measured is marked. Written user-only (0600): it is health data.
    An existing file is replaced only with `force`, never one of `inputs` (the log's own
    files): see voiceguide.files.check_target. matplotlib keeps its font cache in
    `matplotlib_dir` (voiceguide's cache), not in the home folder.
    """
    inputs = tuple(inputs)
    check_target(path_png, force=force, inputs=inputs)  # before drawing: refusing costs nothing
    # Imported here, not at module level: matplotlib costs about half a second of start-up.
    with _matplotlib_config(matplotlib_dir):
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

    # A bare Figure on the Agg canvas: no pyplot, no global state, no display needed.
    figure = Figure(figsize=(WIDTH_PX / DPI, HEIGHT_PX / DPI), dpi=DPI)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    positions = list(range(len(per_day)))
    left = [from_ml(day.left_ml, unit) for day in per_day]
    right = [from_ml(day.right_ml, unit) for day in per_day]
    totals = [a + b for a, b in zip(left, right, strict=True)]
    left_bars = axes.bar(positions, left, color=LEFT_COLOUR, label="left")
    axes.bar(positions, right, bottom=left, color=RIGHT_COLOUR, label="right")
    crowded = len(per_day) > 10
    for position, total, day in zip(positions, totals, per_day, strict=True):
        if crowded:
            label = str(day.sessions)
        else:
            label = "1 session" if day.sessions == 1 else f"{day.sessions} sessions"
        if day.amounts.unmeasured:
            label += UNMEASURED_MARK
        axes.annotate(
            label,
            (position, total),
            xytext=(0, 4),
            textcoords="offset points",
            ha="center",
            va="bottom",
            fontsize=9,
        )
    if crowded:
        axes.set_xticks(positions, [d.day.strftime("%d %b") for d in per_day], rotation=60)
    else:
        axes.set_xticks(positions, [d.day.strftime("%a %d %b") for d in per_day])
    peak = max(totals, default=0.0)
    axes.set_ylim(0, peak * 1.15 if peak > 0 else 1)
    axes.set_ylabel(f"milk ({unit})")
    first = per_day[0].day.isoformat() if per_day else ""
    last = per_day[-1].day.isoformat() if per_day else ""
    title = f"Milk expressed per day, {first} to {last}"
    notes = ["number above a bar: sessions"] if crowded else []
    if any(day.amounts.unmeasured for day in per_day):
        notes.append(f"{UNMEASURED_MARK} some amounts not measured")
    axes.set_title(f"{title} ({'; '.join(notes)})" if notes else title)
    axes.legend(loc="best")
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI)
    write_file(path_png, buffer.getvalue(), mode=PRIVATE_MODE, force=force, inputs=inputs)
    return len(left_bars)


@contextlib.contextmanager
def _matplotlib_config(folder: Path | None) -> Iterator[None]:
    """While matplotlib is imported, MPLCONFIGDIR names `folder` (made 0700), so its
    configuration and font cache are not written to ~/.config and ~/.cache, and the umask
    keeps its files user-only (it writes them with the process's umask).

    A folder that cannot be made is replaced by a temporary one, removed afterwards. A
    user's own MPLCONFIGDIR is left alone.
    """
    if folder is None or "MPLCONFIGDIR" in os.environ:
        yield
        return
    with contextlib.ExitStack() as stack:
        try:
            make_private_folder(folder)
        except OSError:
            folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="voiceguide-")))
        os.environ["MPLCONFIGDIR"] = str(folder)
        umask = os.umask(0o077)
        try:
            yield
        finally:
            os.umask(umask)
            del os.environ["MPLCONFIGDIR"]  # read at import: matplotlib keeps its own copy
