"""The music stream: tracks end to end with crossfades, looped, read at any music frame."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from voiceguide.audioformat import CHANNELS, MIX_RATE_HZ, db_to_gain
from voiceguide.errors import MusicError
from voiceguide.music.decoder import Decoder
from voiceguide.music.track import Track

log = logging.getLogger(__name__)

_SKIP_LIMIT_FRAMES = 20 * MIX_RATE_HZ  # beyond this, a new ffmpeg with -ss is cheaper
_HISTORY_FRAMES = 30 * MIX_RATE_HZ  # re-reads this far back (pause, resume) cost no decoding
# A decoder started mid-file starts this much earlier, on a 10 ms grid, and discards the lead:
# right after a seek MP3 (bit reservoir), AAC and Opus (priming) decode wrong or silent samples,
# and a resampler (48 kHz files) starts on another phase unless the seek is on a whole sample
# of every common rate. With both, a seek gives the samples of decoding from the start.
_SEEK_PREROLL_FRAMES = MIX_RATE_HZ // 4
_SEEK_GRID_FRAMES = MIX_RATE_HZ // 100
_START_AHEAD_FRAMES = 10 * MIX_RATE_HZ
"""The next track's decoder starts this long before the track does: a new ffmpeg took up to
2.2 s to its first samples on a loaded machine, and the live player needs them 3 s ahead."""


@dataclass(frozen=True)
class _Occurrence:
    """The k-th play of a track in the endless looped sequence."""

    k: int
    track: Track
    start_frame: int  # in music time
    fade_in_frames: int
    fade_out_frames: int

    @property
    def end_frame(self) -> int:
        return self.start_frame + self.track.duration_frames


def equal_power_ramp(frames: int) -> np.ndarray:
    """A fade-in curve (sin), computed once per length; fade-out is the reverse."""
    if frames <= 0:
        return np.ones(0, dtype=np.float32)
    x = (np.arange(frames, dtype=np.float64) + 0.5) / frames
    return np.sin(x * np.pi / 2).astype(np.float32)


class _History:
    """A ring of the most recently produced music frames."""

    def __init__(self, capacity_frames: int) -> None:
        self._ring = np.zeros((capacity_frames, CHANNELS), dtype=np.float32)
        self._capacity = capacity_frames
        self._end_frame = 0
        self._length = 0

    def holds(self, music_frame: int) -> bool:
        return self._end_frame - self._length <= music_frame < self._end_frame

    def held_frames(self, music_frame: int, n_frames: int) -> int:
        """How many frames from `music_frame` on (at most `n_frames`) are held."""
        if not self.holds(music_frame):
            return 0
        return min(n_frames, self._end_frame - music_frame)

    def copy_out(self, music_frame: int, out: np.ndarray) -> int:
        """Copy the leading part of [music_frame, ...) that is held into `out`; returns frames."""
        n = self.held_frames(music_frame, len(out))
        if not n:
            return 0
        index = np.arange(music_frame, music_frame + n) % self._capacity
        out[:n] = self._ring[index]
        return n

    def append(self, music_frame: int, block: np.ndarray) -> None:
        if music_frame != self._end_frame:
            self._length = 0  # a jump: what is held no longer leads up to here
        end_frame = music_frame + len(block)
        if len(block) > self._capacity:
            block = block[-self._capacity :]
            music_frame = end_frame - self._capacity
        first = music_frame % self._capacity
        n = len(block)
        head = min(n, self._capacity - first)
        self._ring[first : first + head] = block[:head]
        self._ring[: n - head] = block[head:]
        self._end_frame = end_frame
        self._length = min(self._capacity, self._length + n)


def _open_decoder(track: Track, offset: int) -> Decoder:
    """A decoder started a little before `offset`, on the seek grid; once the reader skips
    to `offset`, its samples equal those of decoding from the start. It returns at once:
    the skip, which waits for ffmpeg, is the reader's."""
    start = max(0, (offset - _SEEK_PREROLL_FRAMES) // _SEEK_GRID_FRAMES * _SEEK_GRID_FRAMES)
    return Decoder(track.path, start)


class MusicStream:
    """`read(music_frame, n)` -> float32 (n, 2), the same samples however it is called."""

    def __init__(self, tracks: Sequence[Track], crossfade_frames: int, loop: bool = True) -> None:
        if not tracks:
            raise MusicError("no playable music")
        self.tracks = list(tracks)
        self.crossfade_frames = max(0, crossfade_frames)
        self.loop = loop
        self._occurrences: list[_Occurrence] = []
        self._decoders: dict[int, Decoder] = {}
        self._ramps: dict[int, np.ndarray] = {}
        self._history = _History(_HISTORY_FRAMES)

    def _xfade(self, a: Track, b: Track) -> int:
        return min(self.crossfade_frames, a.duration_frames // 2, b.duration_frames // 2)

    def _occurrence(self, k: int) -> _Occurrence | None:
        while len(self._occurrences) <= k:
            index = len(self._occurrences)
            if not self.loop and index >= len(self.tracks):
                return None
            track = self.tracks[index % len(self.tracks)]
            if index == 0:
                start, fade_in = 0, 0
            else:
                previous = self._occurrences[-1]
                fade_in = self._xfade(previous.track, track)
                start = previous.end_frame - fade_in
            next_track = self.tracks[(index + 1) % len(self.tracks)]
            fade_out = self._xfade(track, next_track)
            self._occurrences.append(_Occurrence(index, track, start, fade_in, fade_out))
        return self._occurrences[k]

    def _ramp(self, frames: int) -> np.ndarray:
        ramp = self._ramps.get(frames)
        if ramp is None:
            ramp = self._ramps[frames] = equal_power_ramp(frames)
        return ramp

    def read(self, music_frame: int, n_frames: int) -> np.ndarray:
        """A fresh float32 array (the caller may change it in place)."""
        if not self._history.holds(music_frame):
            out = self._produce(music_frame, n_frames)
            self._history.append(music_frame, out)
            return out
        # Serve what was already produced (re-reads after pause or back), decode the rest.
        out = np.zeros((n_frames, CHANNELS), dtype=np.float32)
        served = self._history.copy_out(music_frame, out)
        if served < n_frames:
            out[served:] = self._produce(music_frame + served, n_frames - served)
            self._history.append(music_frame + served, out[served:])
        return out

    def _start_ahead(self, k: int, music_frame: int) -> None:
        """Start the decoders of occurrence `k` and the ones after it that begin within
        `_START_AHEAD_FRAMES` of `music_frame`."""
        while (occ := self._occurrence(k)) is not None:
            if occ.start_frame - music_frame > _START_AHEAD_FRAMES:
                return
            if occ.k not in self._decoders:
                self._decoders[occ.k] = _open_decoder(occ.track, 0)
            k += 1

    def ready(self, music_frame: int, n_frames: int) -> bool:
        """True when `read` of these frames would not wait for ffmpeg.

        When it would, the decoders it needs are started now: they decode while the caller
        does other work (the live player renders what is ready, and comes back).
        """
        start = music_frame + self._history.held_frames(music_frame, n_frames)
        end = music_frame + n_frames
        ready = True
        k = self._first_occurrence_at(start)
        while start < end and (occ := self._occurrence(k)) is not None and occ.start_frame < end:
            a, b = max(start, occ.start_frame), min(end, occ.end_frame)
            if b > a:
                offset = a - occ.start_frame
                decoder = self._decoder_near(occ, offset)
                skip = offset - decoder.position_frame
                ready &= decoder.exhausted or decoder.can_read(skip + b - a)
            k += 1
        return ready

    def prefetch(self, music_frame: int = 0) -> None:
        """Start decoding from `music_frame` now, so that its first read does not wait."""
        self.ready(music_frame, 1)

    def _decoder_near(self, occ: _Occurrence, offset: int) -> Decoder:
        """The occurrence's decoder, at `offset` or a short skip before it (opened if not)."""
        decoder = self._decoders.get(occ.k)
        if decoder is not None:
            distance = offset - decoder.position_frame
            if distance == 0 or (0 < distance <= _SKIP_LIMIT_FRAMES and not decoder.exhausted):
                return decoder
            decoder.close()
        decoder = self._decoders[occ.k] = _open_decoder(occ.track, offset)
        return decoder

    def _produce(self, music_frame: int, n_frames: int) -> np.ndarray:
        end = music_frame + n_frames
        k = self._first_occurrence_at(music_frame)
        parts: list[tuple[int, np.ndarray]] = []
        while True:
            occ = self._occurrence(k)
            if occ is None or occ.start_frame >= end:
                break
            a = max(music_frame, occ.start_frame)
            b = min(end, occ.end_frame)
            if b > a:
                parts.append((a - music_frame, self._occurrence_block(occ, a, b)))
            k += 1
        self._close_before(music_frame)
        self._start_ahead(k, end)  # k: the first occurrence that begins at or after `end`
        if len(parts) == 1 and parts[0][0] == 0 and len(parts[0][1]) == n_frames:
            return parts[0][1]  # one track covers the block: no mixing needed
        out = np.zeros((n_frames, CHANNELS), dtype=np.float32)
        for start, block in parts:
            out[start : start + len(block)] += block
        return out

    def _first_occurrence_at(self, music_frame: int) -> int:
        k = 0
        # Occurrences are appended in order; find the first one still sounding at music_frame.
        while True:
            occ = self._occurrence(k)
            if occ is None or occ.end_frame > music_frame:
                return k
            k += 1

    def _occurrence_block(self, occ: _Occurrence, a: int, b: int) -> np.ndarray:
        offset = a - occ.start_frame
        n = b - a
        decoder = self._decoder_near(occ, offset)
        decoder.skip(offset - decoder.position_frame)
        if decoder.position_frame != offset:  # the file ended before it: silence from here
            decoder.position_frame = offset
        pcm = decoder.read(n)
        if len(pcm) == n:
            block = pcm.astype(np.float32)
            block *= np.float32(db_to_gain(occ.track.gain_db) / 32768.0)
        else:
            block = np.zeros((n, CHANNELS), dtype=np.float32)
            block[: len(pcm)] = pcm.astype(np.float32) * np.float32(
                db_to_gain(occ.track.gain_db) / 32768.0
            )
            if offset == 0 and len(pcm) == 0:
                log.warning("%s: could not decode any audio", occ.track.path)
        if decoder.exhausted:
            # The file ended (early, if its length was estimated): the rest stays silent.
            decoder.position_frame = offset + n
        fade_start = occ.track.duration_frames - occ.fade_out_frames
        fading_in = occ.fade_in_frames and offset < occ.fade_in_frames
        fading_out = occ.fade_out_frames and offset + n > fade_start
        if not (fading_in or fading_out):
            return block
        positions = np.arange(offset, offset + n)
        if fading_in:
            ramp = self._ramp(occ.fade_in_frames)
            inside = positions < occ.fade_in_frames
            block[inside] *= ramp[positions[inside]][:, None]
        if fading_out:
            ramp = self._ramp(occ.fade_out_frames)[::-1]
            inside = positions >= fade_start
            block[inside] *= ramp[positions[inside] - fade_start][:, None]
        return block

    def _close_before(self, music_frame: int) -> None:
        for k in [k for k in self._decoders if self._occurrences[k].end_frame <= music_frame]:
            self._decoders.pop(k).close()

    def close(self) -> None:
        for decoder in self._decoders.values():
            decoder.close()
        self._decoders.clear()
