"""Shared helpers for the benchmarks: paths, generated audio, timed child processes, tables.

Everything a benchmark writes goes under bench/out/ (gitignored): generated test audio is
cached in bench/out/audio/, scratch homes and files live in bench/out/tmp/ and are removed,
and each benchmark leaves its figures in bench/out/<name>.json.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
OUT = BENCH / "out"
AUDIO_CACHE = OUT / "audio"
SCRATCH = OUT / "tmp"
TESTS = ROOT / "tests"
PY = sys.executable
RATE = 44_100
MB = 1024 * 1024


@dataclass(frozen=True)
class Tree:
    """A checkout of voiceguide to measure: its own venv's Python runs its own code.

    The scripts measure this checkout by default; `--baseline DIR` adds another one (for
    example an older commit in a `git worktree`, with its own `make venv`), measured in the
    same run, its runs taking turns with this checkout's so that both see the same load.
    """

    label: str
    root: Path
    python: str
    """Its .venv's interpreter. Run it with cwd=root: `python -m voiceguide` and `python -c`
    put the working directory first on sys.path, so a run started in another checkout would
    import that checkout's code."""
    env: tuple[tuple[str, str], ...] = ()
    """Extra environment for its runs (a variant: the same code with other packages)."""

    def with_path(self, folder: str) -> Tree:
        """This tree with `folder` first on PYTHONPATH: packages installed there with
        `pip install --target` (another version of a dependency) replace the venv's."""
        where = Path(folder).resolve()
        found = sorted(where.glob("*.dist-info"))
        names = ", ".join(d.name.removesuffix(".dist-info").replace("-", " ") for d in found)
        return Tree(f"{self.label}, {names or where.name}", self.root, self.python,
                    (("PYTHONPATH", str(where)),))  # fmt: skip

    def accepts(self, command: str, option: str) -> bool:
        """Whether `voiceguide COMMAND --help` lists OPTION (older trees lack some)."""
        done = subprocess.run(
            [self.python, "-m", "voiceguide", command, "--help"],
            capture_output=True,
            text=True,
            check=False,
            cwd=self.root,
            env={**os.environ, "COLUMNS": "200"},
        )
        return option in done.stdout


CURRENT = Tree("current", ROOT, PY)


def baseline_tree(folder: str) -> Tree:
    """The checkout at `folder`, run by its own .venv (made with `make venv` there)."""
    root = Path(folder).resolve()
    python = root / ".venv" / "bin" / "python"
    if not (root / "voiceguide").is_dir() or not python.is_file():
        raise SystemExit(f"{root}: not a voiceguide checkout with a .venv (run make venv there)")
    return Tree(f"baseline {tree_commit(root)}", root, str(python))


def tree_commit(root: Path) -> str:
    return subprocess.run(
        ["git", "-C", str(root), "rev-parse", "--short", "HEAD"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()


def ensure_out() -> None:
    for folder in (OUT, AUDIO_CACHE, SCRATCH):
        folder.mkdir(parents=True, exist_ok=True)


def scratch_dir(prefix: str) -> Path:
    """A fresh folder under bench/out/tmp/ (the caller removes it with `remove`)."""
    ensure_out()
    return Path(tempfile.mkdtemp(prefix=prefix, dir=SCRATCH))


def remove(folder: Path) -> None:
    shutil.rmtree(folder, ignore_errors=True)


def median(values: Sequence[float]) -> float:
    return float(statistics.median(values)) if values else float("nan")


def spread(values: Sequence[float]) -> str:
    """min-max of the runs, for the tables."""
    if not values:
        return "-"
    return f"{min(values):.3g}-{max(values):.3g}"


def load_average() -> float:
    return os.getloadavg()[0]


# -- generated audio ---------------------------------------------------------------------------
def generate_music(
    path: Path,
    seconds: float,
    *,
    freqs: tuple[float, float] = (220.0, 331.0),
    noise: float = 0.08,
    level_db: float = 0.0,
    seed: int = 1,
    bitrate: str = "128k",
) -> Path:
    """A stereo 44.1 kHz mp3 of two sines and pink noise with a slow tremolo (cached by name).

    Made by ffmpeg's lavfi sources, so nothing is downloaded and nothing is committed.
    """
    if path.is_file() and path.with_suffix(path.suffix + ".ok").is_file():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    graph = (
        f"[0][1][2]amix=inputs=3,aformat=channel_layouts=stereo,"
        f"tremolo=f=0.5:d=0.4,volume={level_db}dB"
    )
    tmp = path.with_name(f".{path.name}.part.mp3")
    command = [
        "ffmpeg",
        "-nostdin",
        "-v",
        "error",
        "-y",
        "-f",
        "lavfi",
        "-i",
        f"sine=frequency={freqs[0]}:sample_rate={RATE}:duration={seconds}",
        "-f",
        "lavfi",
        "-i",
        f"sine=frequency={freqs[1]}:sample_rate={RATE}:duration={seconds}",
        "-f",
        "lavfi",
        "-i",
        f"anoisesrc=color=pink:amplitude={noise}:sample_rate={RATE}:duration={seconds}:seed={seed}",
        "-filter_complex",
        graph,
        "-ar",
        str(RATE),
        "-ac",
        "2",
        "-c:a",
        "libmp3lame",
        "-b:a",
        bitrate,
        str(tmp),
    ]
    subprocess.run(command, check=True)
    tmp.replace(path)
    path.with_suffix(path.suffix + ".ok").write_text("generated by bench/common.py\n")
    return path


def generate_many(specs: list[tuple[Path, dict[str, object]]], workers: int = 2) -> None:
    """Generate several files (two ffmpeg encoders at a time on this 2-core machine)."""
    missing = [(p, kw) for p, kw in specs if not p.with_suffix(p.suffix + ".ok").is_file()]
    if not missing:
        return
    print(f"generating {len(missing)} test audio file(s) in {AUDIO_CACHE} ...", flush=True)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        list(pool.map(lambda item: generate_music(item[0], **item[1]), missing))  # type: ignore[arg-type]


def audio_seconds(path: Path) -> float:
    done = subprocess.run(
        ["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", str(path)],
        capture_output=True,
        text=True,
        check=True,
    )
    return float(done.stdout.strip())


# -- child processes ---------------------------------------------------------------------------
@dataclass
class ChildRun:
    """One measured child: wall time seen from here, its own and its descendants' peak RSS."""

    returncode: int
    wall_seconds: float
    self_maxrss_mb: float
    """Peak RSS of the Python process itself (getrusage(RUSAGE_SELF) inside the child)."""
    children_maxrss_mb: float
    """Largest ru_maxrss among its children. Not ffmpeg's own footprint: a forked child is
    charged the parent's resident pages until it execs, so this is mostly the parent again."""
    cpu_seconds: float
    children_cpu_seconds: float
    """CPU of the children it waited for (ffmpeg decoders, the speech worker)."""
    stdout: str
    stderr: str


def run_measured(
    args: Sequence[str],
    env: dict[str, str] | None = None,
    timeout: float = 1800,
    tree: Tree = CURRENT,
) -> ChildRun:
    """Run `python <args>` through bench/rss_wrapper.py and read back its peak memory.

    `args` are what would follow `python` on a command line: ["-m", "voiceguide", ...] or
    ["script.py", ...]. The wrapper runs them in its own interpreter (the Tree's) and,
    at exit, writes getrusage(RUSAGE_SELF) and getrusage(RUSAGE_CHILDREN) to a JSON file.
    """
    ensure_out()
    fd, report_name = tempfile.mkstemp(prefix="rss-", suffix=".json", dir=SCRATCH)
    os.close(fd)
    report = Path(report_name)
    started = time.perf_counter()
    done = subprocess.run(
        [tree.python, str(BENCH / "rss_wrapper.py"), str(report), *args],
        cwd=tree.root,
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        stdin=subprocess.DEVNULL,
        timeout=timeout,
        check=False,
    )
    wall = time.perf_counter() - started
    try:
        data = json.loads(report.read_text())
    except (OSError, ValueError):
        data = {}
    finally:
        report.unlink(missing_ok=True)
    return ChildRun(
        done.returncode,
        wall,
        data.get("self_maxrss_kb", float("nan")) / 1024,
        data.get("children_maxrss_kb", float("nan")) / 1024,
        data.get("cpu_seconds", float("nan")),
        data.get("children_cpu_seconds", float("nan")),
        done.stdout,
        done.stderr,
    )


def run_timed(
    command: Sequence[str], env: dict[str, str] | None = None, cwd: Path | None = None
) -> float:
    """Wall seconds of one command (output discarded); raises if it fails."""
    started = time.perf_counter()
    subprocess.run(
        list(command),
        check=True,
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=None if env is None else {**os.environ, **env},
    )
    return time.perf_counter() - started


def baseline_package(commit: str) -> Path:
    """The package as it was at `commit`, extracted under bench/out/ (cached by commit id).

    A child run with PYTHONPATH set to it imports that voiceguide instead of this one, so a
    baseline is measured in the same run as the change, the two taking turns.
    """
    full = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", commit],
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    folder = OUT / f"baseline-{full[:10]}"
    if not (folder / "voiceguide" / "__init__.py").is_file():
        ensure_out()
        folder.mkdir(parents=True, exist_ok=True)
        archive = subprocess.run(
            ["git", "-C", str(ROOT), "archive", full, "voiceguide"],
            capture_output=True, check=True,
        ).stdout  # fmt: skip
        subprocess.run(["tar", "-x", "-C", str(folder)], input=archive, check=True)
    return folder


def merge_base(branch: str = "main") -> str:
    """Where this branch left `branch`: the default baseline."""
    return subprocess.run(
        ["git", "-C", str(ROOT), "merge-base", "HEAD", branch],
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip


def percentile(values: Sequence[float], fraction: float) -> float:
    """The nearest-rank percentile (0.95: the value 95 % of the runs stay at or under)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * fraction // 1))
    return float(ordered[int(rank) - 1])


def voiceguide_env(home: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {"VOICEGUIDE_HOME": str(home), "PYTHONDONTWRITEBYTECODE": "1"}
    env.update(extra or {})
    return env


# -- reporting ---------------------------------------------------------------------------------
def print_table(title: str, headers: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    cells = [[str(h) for h in headers], *[[_cell(c) for c in row] for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    print(f"\n{title}")
    for index, row in enumerate(cells):
        print(
            "  "
            + "  ".join(
                c.ljust(w) if i == 0 else c.rjust(w)
                for i, (c, w) in enumerate(zip(row, widths, strict=True))
            )
        )
        if index == 0:
            print("  " + "  ".join("-" * w for w in widths))


def _cell(value: object) -> str:
    if isinstance(value, float):
        if value != value:  # NaN
            return "-"
        return f"{value:.3f}" if abs(value) < 10 else f"{value:.1f}"
    return str(value)


def verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


def write_result(name: str, data: dict[str, object]) -> Path:
    ensure_out()
    data = {
        "benchmark": name,
        "date": time.strftime("%Y-%m-%d %H:%M:%S %z"),
        "machine": machine_info(),
        **data,
    }
    path = OUT / f"{name}.json"
    path.write_text(json.dumps(data, indent=2) + "\n")
    return path


def cpu_info() -> dict[str, str]:
    """The first CPU's name, family, model and widest vector instructions. The name alone does
    not tell machines apart ("AMD EPYC"), and the voice figures move with the vector path the
    arithmetic takes (BENCHMARKS.md, section 6, rounds 9 and 10)."""
    fields: dict[str, str] = {}
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, _, value = line.partition(":")
            key = key.strip()
            if not key and fields:
                break  # the end of the first CPU's block
            fields.setdefault(key, value.strip())
    except OSError:
        pass
    flags = set(fields.get("flags", "").split())
    simd = next((name for name in ("avx512f", "avx2", "avx", "sse4_2") if name in flags), "?")
    return {
        "cpu": fields.get("model name", ""),
        "cpu_family_model": f"{fields.get('cpu family', '?')}/{fields.get('model', '?')}",
        "cpu_simd": simd,
    }


def machine_info() -> dict[str, object]:
    mem_kb = 0
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_kb = int(line.split()[1])
    except OSError:
        pass
    os_name = platform.platform()
    try:
        for line in Path("/etc/os-release").read_text().splitlines():
            if line.startswith("PRETTY_NAME="):
                os_name = line.split("=", 1)[1].strip('"')
    except OSError:
        pass
    ffmpeg = subprocess.run(["ffmpeg", "-version"], capture_output=True, text=True, check=False)
    return {
        "nproc": os.cpu_count(),
        **cpu_info(),
        "ram_gib": round(mem_kb / 1024 / 1024, 1),
        "os": os_name,
        "kernel": platform.release(),
        "python": platform.python_version(),
        "ffmpeg": ffmpeg.stdout.splitlines()[0] if ffmpeg.stdout else "?",
        "load_average_1min": round(load_average(), 2),
        "git": git_state(),
    }


def git_state() -> str:
    """The commit measured, and whether the package had uncommitted changes at the time."""
    head = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    dirty = subprocess.run(
        ["git", "-C", str(ROOT), "status", "--porcelain", "--", "voiceguide"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    return f"{head}{' + uncommitted changes in voiceguide/' if dirty else ''}"
