"""AppContext: one per command run, made by the root callback; each part is made on first use."""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING

from voiceguide.errors import VoiceguideError, from_os_error

if TYPE_CHECKING:
    import typer
    from rich.console import Console

    from voiceguide.clock import Clock
    from voiceguide.config import Config
    from voiceguide.paths import Paths


class AppContext:
    """The user's folders, settings, clock and consoles for one command.

    Nothing is read or created until a command asks for it, so `--help` works even with a
    broken config.toml, and a command that needs no settings never reads them.
    """

    def __init__(self, unresolved: Paths, clock: Clock) -> None:
        self._unresolved = unresolved
        self.clock = clock

    @classmethod
    def from_environment(cls) -> AppContext:
        """Folders from VOICEGUIDE_HOME or platformdirs (resolved now, created on first use)."""
        from voiceguide.clock import SystemClock
        from voiceguide.paths import Paths

        return cls(Paths.from_environment(), SystemClock())

    @cached_property
    def paths(self) -> Paths:
        """The user's folders, created (user-only) the first time a command needs them."""
        try:
            self._unresolved.ensure()
        except OSError as err:
            where = err.filename or self._unresolved.data_dir
            problem = from_os_error(err, where, doing="cannot create voiceguide's folder")
            raise VoiceguideError(
                f"{problem} (set VOICEGUIDE_HOME to a folder you can write to)"
            ) from None
        return self._unresolved

    @property
    def unmade_paths(self) -> Paths:
        """The user's folders, not created: for commands that only read."""
        return self._unresolved

    @cached_property
    def config(self) -> Config:
        """config.toml, read once (a missing file means defaults)."""
        from voiceguide.config import load_config

        return load_config(self._unresolved.config_file)

    @cached_property
    def out(self) -> Console:
        """Standard output (rich)."""
        from voiceguide.cli.console import console

        return console()

    @cached_property
    def err(self) -> Console:
        """Standard error (rich): progress, warnings, errors."""
        from voiceguide.cli.console import error_console

        return error_console()


def app_context(ctx: typer.Context) -> AppContext:
    """The AppContext the root callback put in `ctx.obj` (every command runs under the root)."""
    found = ctx.find_object(AppContext)
    if found is None:
        raise RuntimeError(
            f"{ctx.command_path}: run it through voiceguide.cli.app (no AppContext in ctx.obj)"
        )
    return found
