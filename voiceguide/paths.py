"""Where voiceguide keeps its files: platformdirs, or everything under VOICEGUIDE_HOME."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import platformdirs

from voiceguide.files import make_private_folder

APP_NAME = "voiceguide"


@dataclass(frozen=True)
class Paths:
    """The user's directories; nothing is created until `ensure()` is called."""

    config_dir: Path
    data_dir: Path
    cache_dir: Path

    @classmethod
    def from_environment(cls, environ: dict[str, str] | None = None) -> Paths:
        """Resolve the directories, honouring VOICEGUIDE_HOME (tests, portable setups)."""
        env = os.environ if environ is None else environ
        home = env.get("VOICEGUIDE_HOME")
        if home:
            root = Path(home).expanduser()
            return cls(root / "config", root / "data", root / "cache")
        return cls(
            Path(platformdirs.user_config_dir(APP_NAME)),
            Path(platformdirs.user_data_dir(APP_NAME)),
            Path(platformdirs.user_cache_dir(APP_NAME)),
        )

    @property
    def config_file(self) -> Path:
        return self.config_dir / "config.toml"

    @property
    def routines_dir(self) -> Path:
        return self.config_dir / "routines"

    @property
    def playlists_dir(self) -> Path:
        return self.data_dir / "playlists"

    @property
    def log_db(self) -> Path:
        return self.data_dir / "log.sqlite3"

    @property
    def voice_cache_dir(self) -> Path:
        return self.cache_dir / "voice"

    @property
    def clip_cache_dir(self) -> Path:
        """Recorded prompts and own chimes, as processed (voiceguide/audioclip.py)."""
        return self.cache_dir / "clips"

    @property
    def loudness_cache_file(self) -> Path:
        return self.cache_dir / "loudness.json"

    def ensure(self) -> None:
        """Create the directories and any missing parent (user-only, whatever the umask: the
        data dir holds health data)."""
        for directory in (self.config_dir, self.data_dir, self.cache_dir):
            make_private_folder(directory)
