"""The sounds that ship with voiceguide: package voiceguide.sounds (audio/ in the repository)."""

from __future__ import annotations

import struct
import wave
from importlib import resources
from pathlib import Path

import numpy as np

from voiceguide.audioformat import CHANNELS, MIX_RATE_HZ
from voiceguide.errors import VoiceguideError

BED_FILE = "bed.ogg"
CHIME_FILE = "chime.wav"
END_CHIME_FILE = "chime-end.wav"
SOUNDS_PACKAGE = "voiceguide.sounds"


def audio_dir() -> Path:
    """The folder of the bundled sounds, wherever voiceguide is installed."""
    try:
        folder = resources.files(SOUNDS_PACKAGE)
    except ModuleNotFoundError:
        raise VoiceguideError(
            f"voiceguide is installed without its bundled sounds ({SOUNDS_PACKAGE}): reinstall it"
        ) from None
    # ffmpeg and wave need real files: pip always unpacks wheels, so this is a folder.
    if not isinstance(folder, Path) or not (folder / CHIME_FILE).is_file():
        raise VoiceguideError(
            f"{folder}: bundled sounds are missing (in a clone of voiceguide: make audio)"
        )
    return folder


def load_chime(name: str) -> np.ndarray:
    """A bundled chime as int16 stereo at the mix rate."""
    path = audio_dir() / name
    with wave.open(str(path), "rb") as wav:
        if wav.getframerate() != MIX_RATE_HZ or wav.getsampwidth() != 2:
            raise VoiceguideError(f"{path}: expected 16-bit audio at {MIX_RATE_HZ} Hz")
        channels = wav.getnchannels()
        data = np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2").reshape(-1, channels)
    if channels == 1:
        data = np.repeat(data, CHANNELS, axis=1)
    return data.astype(np.int16)


def bed_path() -> Path:
    return audio_dir() / BED_FILE


def ogg_frames(path: Path) -> int | None:
    """Length of an Ogg Vorbis file in frames, from its last page (exact, and no ffprobe)."""
    try:
        with path.open("rb") as stream:
            stream.seek(0, 2)
            size = stream.tell()
            stream.seek(max(0, size - 65536))
            tail = stream.read()
    except OSError:
        return None
    page = tail.rfind(b"OggS")
    if page < 0 or len(tail) < page + 14:
        return None
    granule = struct.unpack("<q", tail[page + 6 : page + 14])[0]
    return granule if granule > 0 else None
