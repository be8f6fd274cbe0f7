"""Routines as the user writes them: TOML in, validated `Routine` out, errors with file and key."""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from voiceguide.config import BOUNDS
from voiceguide.errors import BadInputError, RoutineError, one_line, shown
from voiceguide.reading import decode_text, read_user_file
from voiceguide.routine.durations import format_minutes, parse_seconds
from voiceguide.tomlfile import TomlError, parse_toml

FORMAT_VERSION = 1
MAX_ROUTINE_BYTES = 1 << 20
"""The built-in routine is 6 KB; a routine of 1 MiB would take hours to say."""
MAX_TEXT_CHARS = 1000
"""One spoken text (a step's `say`, a cue, an intro line): about a minute of speech. The speech
engines take time and memory beyond all proportion on long texts (20,000 characters: 61 s
and 1.9 GB), and nobody follows a minute of instructions with busy hands."""
MAX_SPOKEN_CHARS = 20_000
"""All of a routine's texts together: about 20 minutes of speech at 150 words a minute (the
built-in routine has 3,000). Bounds the time `routines check` and a render spend on speech."""
MAX_STEPS = 100
"""A step too short for its announcement and chime grows to fit them: the step count bounds
how much a session can grow beyond its steps' durations (the built-in routine has 6)."""
MAX_TEXTS = 500
"""Spoken texts in all (steps, cues, intro, closing): each is a clip to synthesize."""
MAX_PATH_CHARS = 4096
"""A recording's path: at most PATH_MAX (4096 bytes on Linux)."""
CUE_KINDS = ("tip", "say")
BUILTIN_SOURCE = "built-in:"
"""How `Routine.source` starts for a routine shipped with voiceguide (no file of the user's)."""


@dataclass(frozen=True)
class DurationRange:
    """How long a step lasts: a default, and the range the user may move it within."""

    min_seconds: float
    default_seconds: float
    max_seconds: float

    @classmethod
    def fixed(cls, seconds: float) -> DurationRange:
        return cls(seconds, seconds, seconds)

    @property
    def is_range(self) -> bool:
        return self.min_seconds != self.max_seconds


@dataclass(frozen=True)
class Recording:
    """A line the routine gives as a sound file (`say_audio`) instead of a text to synthesize.

    Equal by path: one file said in several places is one clip.
    """

    path: Path
    """The file: as written in the routine, relative to the routine's folder."""
    where: str = field(default="", compare=False)
    """The key that names it (`steps[1].say_audio`), for errors."""
    line: int | None = field(default=None, compare=False)

    @property
    def caption(self) -> str:
        """What the screen shows while it plays (its words are not known)."""
        return f"[{one_line(self.path.name)}]"


Line = str | Recording
"""A spoken line: a text the speech engine says, or a recording of the routine's."""


def caption(line: Line) -> str:
    """A line as the screen and the events show it."""
    return line.caption if isinstance(line, Recording) else line


@dataclass(frozen=True)
class ProgramAudio:
    """The routine's `[audio]` table: recordings of the program's own lines (None, or no
    step numbers: synthesized) and the routine's own chimes."""

    step_numbers: tuple[Recording, ...] = ()
    """"Step 2 of 6.", one recording a step."""
    halfway: Recording | None = None
    one_minute: Recording | None = None
    summary: Recording | None = None
    """In place of "You did 3 steps in 9 minutes."."""
    chime: Recording | None = None
    end_chime: Recording | None = None

    def recordings(self) -> list[Recording]:
        """The spoken ones (the chimes are not lines: a bad chime file is only a warning)."""
        optional = (self.halfway, self.one_minute, self.summary)
        return [*self.step_numbers, *(r for r in optional if r is not None)]


@dataclass(frozen=True)
class StepCue:
    """An extra spoken line inside a step, `at_seconds` from its start (negative: from its end)."""

    at_seconds: float
    text: Line
    kind: str = "tip"


@dataclass(frozen=True)
class Step:
    id: str
    title: str
    say: Line
    duration: DurationRange
    music: bool
    cues: tuple[StepCue, ...] = ()
    pumping: bool = False


@dataclass(frozen=True)
class Routine:
    name: str
    title: str
    description: str
    intro: tuple[Line, ...]
    closing: tuple[Line, ...]
    steps: tuple[Step, ...]
    source: str
    """Where it came from: a file path, or "built-in:NAME"."""
    intro_first_run: tuple[Line, ...] = ()
    """Spoken before the intro on the first session only (what it is, the safety line)."""
    intro_music: bool = False
    counts: bool = True
    """Its sessions count in the pumping log (goal, alternating sides): it has pumping steps
    and does not say `counts = false` (a demo, a practice routine)."""
    audio: ProgramAudio = ProgramAudio()

    def recordings(self) -> list[Recording]:
        """Every recording the routine says, each once, in the order of the file."""
        lines: list[Line] = [*self.intro_first_run, *self.intro]
        for step in self.steps:
            lines += [step.say, *(cue.text for cue in step.cues)]
        lines += self.closing
        found = [line for line in lines if isinstance(line, Recording)]
        return list(dict.fromkeys([*found, *self.audio.recordings()]))


_TOP_KEYS = {
    "format", "name", "title", "description", "counts", "intro", "closing", "steps", "audio",
}  # fmt: skip
AUDIO_SUFFIX = "_audio"
"""`say_audio` instead of `say`: a recording instead of a text."""
_SECTION_KEYS = {"say", "say_audio", "first_run", "first_run_audio", "music"}
_CLOSING_KEYS = {"say", "say_audio"}
_STEP_KEYS = {"id", "title", "say", "say_audio", "duration", "music", "pumping", "cues"}
_RANGE_KEYS = {"min", "default", "max"}
_CUE_KEYS = {"at", "say", "say_audio", "kind"}
_AUDIO_KEYS = {"step_numbers", "halfway", "one_minute", "summary", "chime", "end_chime"}
PLACEHOLDERS = ("first", "second")
"""{first} and {second} become the side massaged first and the other one."""
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_PLACEHOLDER = re.compile(r"\{([^{}\s]*)\}")
_ID = re.compile(r"^[a-z0-9][a-z0-9_-]*$")


class _Reader:
    """Walks the parsed TOML, turning every problem into a RoutineError with the key path."""

    def __init__(self, source: str, text: str, folder: Path) -> None:
        self.source = source
        self.text = text
        self.folder = folder
        self.spoken_chars = 0
        self.spoken_texts = 0

    def fail(self, where: str, problem: str) -> RoutineError:
        return RoutineError(self.source, where, problem, _line_of(self.text, where))

    def table(self, value: object, where: str, allowed: set[str]) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(where, "expected a table")
        for key in value:
            if key not in allowed:
                path = f"{where}.{key}" if where else key
                raise self.fail(path, f"unknown key (allowed: {', '.join(sorted(allowed))})")
        return value

    def text_value(self, table: dict[str, Any], key: str, where: str, *, required: bool) -> str:
        path = f"{where}.{key}" if where else key
        if key not in table:
            if required:
                raise self.fail(where, f"missing {key!r}")
            return ""
        value = table[key]
        if not isinstance(value, str) or not value.strip():
            raise self.fail(path, "expected non-empty text")
        return self.checked_text(value, path)

    def lines(self, value: object, where: str) -> tuple[str, ...]:
        items = [value] if isinstance(value, str) else value
        if not isinstance(items, list) or not all(isinstance(i, str) and i.strip() for i in items):
            raise self.fail(where, "expected text or a list of texts")
        return tuple(self.spoken(self.checked_text(i, where), where) for i in items)

    def recording(self, value: object, where: str) -> Recording:
        """A sound file's path, relative to the routine's folder (`~` is the home folder)."""
        if not isinstance(value, str) or not value.strip():
            raise self.fail(where, "expected the path of a sound file")
        if len(value) > MAX_PATH_CHARS:
            raise self.fail(where, f"a path of more than {MAX_PATH_CHARS} characters")
        control = _CONTROL.search(value)
        if control:
            raise self.fail(where, f"control character \\x{ord(control.group()):02x} in the path")
        try:
            written = Path(value).expanduser()
        except RuntimeError:  # ~name of a user who does not exist
            raise self.fail(where, f"{shown(value)}: no such user's home folder") from None
        # Absolute (not resolved: a link stays a link), so every message shows where it is.
        path = Path(os.path.abspath(self.folder / written))
        # The line is found by the key path without an index ("intro.say_audio").
        return Recording(path, where, _line_of(self.text, re.sub(r"\[\d+\]$", "", where)))

    def said(
        self, table: dict[str, Any], key: str, where: str, *, required: bool, single: bool = False
    ) -> tuple[Line, ...]:
        """The lines of `key` (text or a list of texts) or of `key_audio` (a path or a list
        of paths), counted against the routine's limits; both at once is an error. `single`:
        one text or one path, no list (a step's or a cue's `say`)."""
        audio_key = key + AUDIO_SUFFIX
        path = f"{where}.{key}" if where else key
        audio_path = path + AUDIO_SUFFIX
        if key in table and audio_key in table:
            raise self.fail(where, f"give {key!r} or {audio_key!r}, not both")
        if key in table:
            if single:
                return (self.spoken(self.text_value(table, key, where, required=True), path),)
            return self.lines(table[key], path)
        if audio_key not in table:
            if required:
                raise self.fail(where, f"missing {key!r} (or {audio_key!r})")
            return ()
        value = table[audio_key]
        many = isinstance(value, list) and not single
        items = value if many else [value]
        if not items:
            raise self.fail(audio_path, "expected the path of a sound file, or a list of them")
        found: list[Line] = []
        for index, item in enumerate(items):
            item_where = f"{audio_path}[{index}]" if many else audio_path
            found.append(self.counted(self.recording(item, item_where), item_where))
        return tuple(found)

    def counted(self, recording: Recording, where: str) -> Recording:
        """A recording counts as one of the routine's spoken texts (each is a clip)."""
        self.spoken_texts += 1
        if self.spoken_texts > MAX_TEXTS:
            raise self.fail(where, f"the routine has more than {MAX_TEXTS} spoken texts")
        return recording

    def spoken(self, text: str, where: str) -> str:
        """`text`, counted against the routine's limits on speech."""
        self.spoken_chars += len(text)
        self.spoken_texts += 1
        if self.spoken_chars > MAX_SPOKEN_CHARS:
            raise self.fail(
                where,
                f"the routine says more than {MAX_SPOKEN_CHARS:,} characters in all "
                "(about 20 minutes of speech)",
            )
        if self.spoken_texts > MAX_TEXTS:
            raise self.fail(where, f"the routine has more than {MAX_TEXTS} spoken texts")
        return text

    def checked_text(self, value: str, where: str) -> str:
        """Whitespace folded; a placeholder other than {first}/{second} is an error (a typo
        such as {thrid} would otherwise be spoken literally)."""
        if len(value) > MAX_TEXT_CHARS:
            raise self.fail(
                where,
                f"text of {len(value):,} characters; at most {MAX_TEXT_CHARS:,} "
                "(about a minute of speech)",
            )
        control = _CONTROL.search(value.replace("\n", " ").replace("\t", " "))
        if control:
            code = f"\\x{ord(control.group()):02x}"
            raise self.fail(
                where, f"control character {code} in the text (a terminal would act on it)"
            )
        for name in _PLACEHOLDER.findall(value):
            if name not in PLACEHOLDERS:
                known = " or ".join(f"{{{p}}}" for p in PLACEHOLDERS)
                raise self.fail(where, f"unknown placeholder {{{name}}} (use {known})")
        return " ".join(value.split())

    def flag(self, table: dict[str, Any], key: str, where: str, default: bool) -> bool:
        value = table.get(key, default)
        if not isinstance(value, bool):
            raise self.fail(f"{where}.{key}" if where else key, "expected true or false")
        return value

    def seconds(self, value: object, where: str) -> float:
        """A duration within a step's bounds (finite, positive, at most 2 h)."""
        try:
            seconds = parse_seconds(value)
        except ValueError as err:
            raise self.fail(where, str(err)) from None
        longest = BOUNDS["step_seconds"].high
        if seconds > longest:
            raise self.fail(
                where, f"{shown(value)} is longer than a step may last ({format_minutes(longest)})"
            )
        return seconds

    def duration(self, value: object, where: str) -> DurationRange:
        if isinstance(value, dict):
            table = self.table(value, where, _RANGE_KEYS)
            for key in ("min", "default", "max"):
                if key not in table:
                    raise self.fail(where, f"a range needs min, default and max (missing {key!r})")
            low = self.seconds(table["min"], f"{where}.min")
            default = self.seconds(table["default"], f"{where}.default")
            high = self.seconds(table["max"], f"{where}.max")
            if low > high:
                low_shown, high_shown = _as_written(table["min"]), _as_written(table["max"])
                raise self.fail(where, f"min ({low_shown}) is greater than max ({high_shown})")
            if not low <= default <= high:
                raise self.fail(f"{where}.default", "default must lie between min and max")
            return DurationRange(low, default, high)
        return DurationRange.fixed(self.seconds(value, where))


def parse_routine(text: str, source: str, name: str, folder: Path | None = None) -> Routine:
    """Validate routine TOML text; `source` names the file in every error.

    Recordings' paths are relative to `folder` (by default the folder of the file `source`).
    """
    text = text.removeprefix("\ufeff")  # a BOM, as an editor on Windows writes
    try:
        data = parse_toml(text)
    except TomlError as err:
        raise RoutineError(source, "", err.problem, err.line) from None
    reader = _Reader(source, text, Path(source).parent if folder is None else folder)
    top = reader.table(data, "", _TOP_KEYS)
    version = top.get("format")
    # `format = true` and `format = 1.0` equal 1 in Python; only the integer 1 is the format.
    if type(version) is not int or version != FORMAT_VERSION:
        got = str(version).lower() if isinstance(version, bool) else shown(version)
        raise reader.fail("format", f"expected format = {FORMAT_VERSION}, got {got}")
    display_name = reader.text_value(top, "name", "", required=False) or name
    title = reader.text_value(top, "title", "", required=True)
    description = reader.text_value(top, "description", "", required=False)
    intro_table = reader.table(top.get("intro", {}), "intro", _SECTION_KEYS)
    closing_table = reader.table(top.get("closing", {}), "closing", _CLOSING_KEYS)
    intro = reader.said(intro_table, "say", "intro", required=False)
    first_run = reader.said(intro_table, "first_run", "intro", required=False)
    closing = reader.said(closing_table, "say", "closing", required=False)
    raw_steps = top.get("steps")
    if not raw_steps:
        raise reader.fail("steps", "the routine has no steps")
    if not isinstance(raw_steps, list):
        raise reader.fail("steps", "expected [[steps]] tables")
    if len(raw_steps) > MAX_STEPS:
        raise reader.fail(f"steps[{MAX_STEPS}]", f"more than {MAX_STEPS} steps")
    steps: list[Step] = []
    for index, raw in enumerate(raw_steps):
        steps.append(_read_step(reader, raw, f"steps[{index}]"))
    seen: set[str] = set()
    for index, step in enumerate(steps):
        if step.id in seen:
            raise reader.fail(f"steps[{index}].id", f"duplicate step id {step.id!r}")
        seen.add(step.id)
    _check_session_length(reader, steps)
    audio = _read_audio(reader, top.get("audio", {}), len(steps))
    return Routine(
        name=display_name,
        title=title,
        description=description,
        intro=intro,
        closing=closing,
        steps=tuple(steps),
        source=source,
        intro_first_run=first_run,
        intro_music=reader.flag(intro_table, "music", "intro", False),
        counts=reader.flag(top, "counts", "", True) and any(s.pumping for s in steps),
        audio=audio,
    )


def _read_audio(reader: _Reader, raw: object, step_count: int) -> ProgramAudio:
    """The `[audio]` table: recordings of the program's own lines, and the routine's chimes."""
    table = reader.table(raw, "audio", _AUDIO_KEYS)

    def one(key: str) -> Recording | None:
        if key not in table:
            return None
        return reader.counted(reader.recording(table[key], f"audio.{key}"), f"audio.{key}")

    numbers: tuple[Recording, ...] = ()
    if "step_numbers" in table:
        raw_numbers = table["step_numbers"]
        if not isinstance(raw_numbers, list) or len(raw_numbers) != step_count:
            raise reader.fail(
                "audio.step_numbers",
                f"expected a list of {step_count} sound files, one for each step",
            )
        numbers = tuple(
            reader.counted(reader.recording(item, f"audio.step_numbers[{i}]"), "audio")
            for i, item in enumerate(raw_numbers)
        )
    chimes = {
        key: reader.recording(table[key], f"audio.{key}") if key in table else None
        for key in ("chime", "end_chime")
    }
    return ProgramAudio(
        step_numbers=numbers,
        halfway=one("halfway"),
        one_minute=one("one_minute"),
        summary=one("summary"),
        **chimes,
    )


def _read_step(reader: _Reader, raw: object, where: str) -> Step:
    table = reader.table(raw, where, _STEP_KEYS)
    step_id = reader.text_value(table, "id", where, required=True)
    if not _ID.match(step_id):
        raise reader.fail(f"{where}.id", "use lower-case letters, digits, '-' or '_'")
    title = reader.text_value(table, "title", where, required=True)
    (say,) = reader.said(table, "say", where, required=True, single=True)
    if "duration" not in table:
        raise reader.fail(where, "missing 'duration'")
    duration = reader.duration(table["duration"], f"{where}.duration")
    pumping = reader.flag(table, "pumping", where, False)
    music = reader.flag(table, "music", where, pumping)
    cues = []
    raw_cues = table.get("cues", [])
    if not isinstance(raw_cues, list):
        raise reader.fail(f"{where}.cues", "expected [[steps.cues]] tables")
    for index, raw_cue in enumerate(raw_cues):
        cue_where = f"{where}.cues[{index}]"
        cue = reader.table(raw_cue, cue_where, _CUE_KEYS)
        (text,) = reader.said(cue, "say", cue_where, required=True, single=True)
        kind = cue.get("kind", "tip")
        if kind not in CUE_KINDS:
            raise reader.fail(f"{cue_where}.kind", f"expected one of {', '.join(CUE_KINDS)}")
        at = cue.get("at", "30s")
        from_end = isinstance(at, str) and at.strip().startswith("-")
        magnitude = at.strip()[1:] if isinstance(at, str) and from_end else at
        at_seconds = reader.seconds(magnitude, f"{cue_where}.at")
        if at_seconds >= duration.max_seconds:
            raise reader.fail(f"{cue_where}.at", "lies beyond the end of the step")
        cues.append(StepCue(-at_seconds if from_end else at_seconds, text, kind))
    return Step(step_id, title, say, duration, music, tuple(cues), pumping)


def _as_written(value: object) -> str:
    """A duration as the user wrote it (7m, 90), cut short if it is long."""
    text = str(value) if isinstance(value, int | float) else value
    return text if isinstance(text, str) and len(text) <= 60 else shown(value)


def _check_session_length(reader: _Reader, steps: list[Step]) -> None:
    """Every step at its longest, the steps must fit in a session (config.BOUNDS)."""
    longest = BOUNDS["session_seconds"].high
    total = 0.0
    for index, step in enumerate(steps):
        total += step.duration.max_seconds
        if total > longest:
            raise reader.fail(
                f"steps[{index}].duration",
                f"the steps up to this one last {format_minutes(total)} (each at its longest);"
                f" a session may last at most {format_minutes(longest)}",
            )


def _line_of(text: str, where: str) -> int | None:
    """Best-effort line number of a key path like `steps[2].duration.min` in TOML source."""
    if not where:
        return None
    lines = text.splitlines()
    start = 0
    parts = where.split(".")
    for part in parts:
        match = re.fullmatch(r"(\w+)\[(\d+)\]", part)
        if match:
            key, wanted = match.group(1), int(match.group(2))
            header = re.compile(rf"^\s*\[\[\s*(?:[\w.]+\.)?{re.escape(key)}\s*\]\]")
            count = -1
            for number in range(start, len(lines)):
                if header.match(lines[number]):
                    count += 1
                    if count == wanted:
                        start = number
                        break
            else:
                return None
        else:
            key_line = re.compile(rf"^\s*(?:\[\s*)?(?:[\w.]+\.)?{re.escape(part)}\s*[=\]]")
            for number in range(start, len(lines)):
                if key_line.match(lines[number]):
                    start = number
                    break
            else:
                return start + 1 if start else None
    return start + 1


def texts_saying(routine: Routine, phrase: str) -> list[str]:
    """Where the routine's spoken texts contain `phrase` (as whole words, any case): a wake
    phrase the program says itself could be heard as a command."""
    pattern = re.compile(rf"\b{re.escape(' '.join(phrase.split()))}\b", re.IGNORECASE)
    places: list[tuple[str, Line]] = [
        (f"intro.say[{i}]", text) for i, text in enumerate(routine.intro)
    ]
    places += [(f"intro.first_run[{i}]", text) for i, text in enumerate(routine.intro_first_run)]
    for index, step in enumerate(routine.steps):
        places += [(f"steps[{index}].title", step.title), (f"steps[{index}].say", step.say)]
        places += [(f"steps[{index}].cues[{c}].say", cue.text) for c, cue in enumerate(step.cues)]
    places += [(f"closing.say[{i}]", text) for i, text in enumerate(routine.closing)]
    # A recording's words are not known: only texts are searched.
    return [
        f"{routine.source}: {where}"
        for where, text in places
        if isinstance(text, str) and pattern.search(text)
    ]


def builtin_names() -> list[str]:
    """Names of the routines shipped inside the package."""
    folder = resources.files("voiceguide.routine") / "builtin"
    names = (p.name.removesuffix(".toml") for p in folder.iterdir() if p.name.endswith(".toml"))
    return sorted(names)


def load_builtin(name: str) -> Routine:
    folder = resources.files("voiceguide.routine") / "builtin"
    resource = folder / f"{name}.toml"
    text = resource.read_text(encoding="utf-8")
    base = folder if isinstance(folder, Path) else None
    return parse_routine(text, f"{BUILTIN_SOURCE}{name}", name, base)


def load_file(path: Path) -> Routine:
    """The routine in the TOML file at `path` (RoutineError or BadInputError, naming it)."""
    data = read_user_file(path, limit_bytes=MAX_ROUTINE_BYTES, what="routine")
    return parse_routine(decode_text(data, path), str(path), path.stem)


def user_routine_files(routines_dir: Path) -> list[Path]:
    """The `*.toml` names in the routines folder, whatever they are (load_file checks each)."""
    if not routines_dir.is_dir():
        return []
    return sorted(routines_dir.glob("*.toml"))


def resolve(spec: str, routines_dir: Path) -> Routine:
    """A routine by file path, user routine name, or built-in name, in that order."""
    path = Path(spec).expanduser()
    if spec.endswith(".toml") or _stat_mode(path, stat.S_ISREG):
        return load_file(path)
    user = routines_dir / f"{spec}.toml"
    # Anything of that name in the routines folder is meant as the routine: load_file says
    # what is wrong with a FIFO or a broken link there.
    if _stat_mode(user, lambda mode: not stat.S_ISDIR(mode), follow=False):
        return load_file(user)
    if spec in builtin_names():
        return load_builtin(spec)
    known = sorted({*builtin_names(), *(p.stem for p in user_routine_files(routines_dir))})
    raise BadInputError(f"unknown routine {shown(spec)} (known: {', '.join(known)})")


def _stat_mode(path: Path, test: Callable[[int], bool], *, follow: bool = True) -> bool:
    """`test(mode)` of what is at `path`; False if nothing is (or the name is too long)."""
    try:
        found = os.stat(path) if follow else os.lstat(path)
    except (OSError, ValueError):
        return False
    return test(found.st_mode)
