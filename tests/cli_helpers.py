"""Run the command line as a user would: in this process (CliRunner) or as a real process.

Both return the exit code as `returncode` with `stdout` and `stderr`, so a test reads the same
either way. Use `invoke` unless the test is about the entry point itself (signals, `python -m`,
what a fresh interpreter imports) or needs the sound server.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from typer.testing import CliRunner

from voiceguide.cli import app


@dataclass(frozen=True)
class Ran:
    """What a user sees of one command: its exit code and its two streams."""

    returncode: int
    stdout: str
    stderr: str


def invoke(
    *args: str | Path, env: Mapping[str, str | None] | None = None, input: str | None = None
) -> Ran:
    """The root app through typer's CliRunner: the same lines and exit codes as the real thing.

    An exception that escaped the app is raised here, with its traceback, instead of being
    reported as exit code 1.
    """
    result = CliRunner().invoke(app, [str(arg) for arg in args], env=env, input=input)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return Ran(result.exit_code, result.stdout, result.stderr)


def run_cli(
    *args: str,
    timeout: float = 300,
    env: Mapping[str, str | None] | None = None,
    cwd: Path | None = None,
) -> subprocess.CompletedProcess[str]:
    """`python -m voiceguide ARGS` in a new process.

    `env` changes this process's environment for the child: a value of None removes the name.
    """
    full_env = dict(os.environ)
    for name, value in (env or {}).items():
        if value is None:
            full_env.pop(name, None)
        else:
            full_env[name] = value
    return subprocess.run(
        [sys.executable, "-m", "voiceguide", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=full_env,
        cwd=cwd,
        check=False,
    )


def make_device(path: Path) -> Path:
    """A character device node (like /dev/null) at `path`, or skip where nodes cannot be made.

    Tests never aim at the real /dev/null or /dev/full: code that failed to refuse a device
    would rename its temporary file over the machine's own device (as root, it can).
    """
    import pytest

    try:
        os.mknod(path, 0o666 | stat.S_IFCHR, os.makedev(1, 3))
    except PermissionError:
        pytest.skip("making a device node needs root (CAP_MKNOD)")
    return path
