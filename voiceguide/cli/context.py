"""AppContext: built once per command, carried everywhere; nothing is resolved at import."""

from __future__ import annotations

from dataclasses import dataclass, field

from voiceguide.clock import Clock, SystemClock
from voiceguide.config import Config, load_config
from voiceguide.paths import Paths


@dataclass
class AppContext:
    paths: Paths
    config: Config
    clock: Clock = field(default_factory=SystemClock)

    @classmethod
    def from_environment(cls) -> AppContext:
        """Resolve the user's directories (made now, user-only) and read the settings file."""
        paths = Paths.from_environment()
        paths.ensure()
        return cls(paths=paths, config=load_config(paths.config_file))
