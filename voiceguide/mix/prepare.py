"""Assemble a session from options: routine, voice, plan, music, renderer (render and start)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from voiceguide.audioformat import seconds_to_frames
from voiceguide.config import Config
from voiceguide.errors import BadInputError
from voiceguide.mix.chimes import own_chimes, session_chimes
from voiceguide.mix.plan import (
    Plan,
    PlanSettings,
    build_plan,
    estimate_frames,
    first_texts,
    step_texts,
)
from voiceguide.mix.renderer import MixLevels, Renderer
from voiceguide.music import bundled
from voiceguide.music.stream import MusicStream
from voiceguide.music.track import Track
from voiceguide.paths import Paths
from voiceguide.routine.load import BUILTIN_SOURCE, Line, Recording, Routine, resolve
from voiceguide.sides import SIDE_CHOICES, SIDES
from voiceguide.speech import hibari_engine
from voiceguide.speech.engines import NATURAL, choose_engine
from voiceguide.speech.espeak import check_voice
from voiceguide.speech.recorded import load_recordings
from voiceguide.speech.voice import Voice, VoiceSettings

log = logging.getLogger(__name__)

Warn = Callable[[str], None]


@dataclass(frozen=True)
class SessionOptions:
    """What the user chose for one session (None: the config file's value)."""

    routine: str | None = None
    music: str | None = None
    no_music: bool = False
    voice: str | None = None
    speech_engine: str | None = None
    rate_wpm: int | None = None
    speech_level_db: float | None = None
    music_level_db: float | None = None
    first_side: str | None = None
    """The side massaged first; None: the live session's alternation (left for a render)."""
    include_first_run: bool = False
    shuffle_seed: int | None = None
    step_seconds: dict[str, float] = field(default_factory=dict)


@dataclass
class Session:
    """A routine ready to play: its voice, music and chimes, and the current plan and renderer."""

    routine: Routine
    settings: PlanSettings
    voice: Voice
    music: MusicStream | None
    music_description: str
    chime: np.ndarray
    end_chime: np.ndarray
    levels: MixLevels
    recordings: dict[Recording, np.ndarray] = field(default_factory=dict)
    """The routine's recordings, all loaded before the session starts (load_recordings)."""
    chime_files: tuple[Path, ...] = ()
    """Own chime files (config.toml or the routine), whether they could be used or not."""
    plan: Plan = field(init=False)
    renderer: Renderer = field(init=False)

    def __post_init__(self) -> None:
        self.replan(self.settings)

    def clip(self, line: Line) -> np.ndarray:
        """A line's clip: a recording (int16 stereo), or the voice's (int16 mono)."""
        if isinstance(line, Recording):
            return self.recordings[line]
        return self.voice.clip(line)

    def ready_frames(self, line: Line) -> int | None:
        """The clip's length if it is ready (a recording always is), without synthesizing."""
        if isinstance(line, Recording):
            return len(self.recordings[line])
        return self.voice.ready_frames(line)

    def clip_frames(self, line: Line) -> int:
        """The clip's real length once synthesized, a generous estimate until then."""
        ready = self.ready_frames(line)
        return estimate_frames(line) if ready is None else ready

    def pending_texts(self) -> list[str]:
        """Spoken texts of the current plan not synthesized yet, in the order they are due."""
        texts = dict.fromkeys(c.text for c in self.plan.cues if c.spoken)
        return [t for t in texts if isinstance(t, str) and self.voice.ready_frames(t) is None]

    def finish_voice(self) -> bool:
        """Synthesize every pending clip; True if there were any (the plan should be rebuilt)."""
        pending = self.pending_texts()
        for text in pending:
            self.voice.clip(text)
        return bool(pending)

    def replan(self, settings: PlanSettings) -> Plan:
        """A new plan and renderer for changed settings (durations); the music stream is kept."""
        self.settings = settings
        self.plan = build_plan(
            self.routine, settings, self.clip_frames, len(self.chime), len(self.end_chime)
        )
        self.renderer = Renderer(
            self.plan, self.clip, self.chime, self.end_chime, self.music, self.levels
        )
        return self.plan

    def input_files(self) -> tuple[Path, ...]:
        """The files this session reads: its routine file, its recordings and chimes, and every
        track."""
        routine = () if self.routine.source.startswith(BUILTIN_SOURCE) else (self.routine.source,)
        tracks = self.music.tracks if self.music is not None else ()
        sounds = [*(recording.path for recording in self.recordings), *self.chime_files]
        return (*(Path(name) for name in routine), *sounds, *(track.path for track in tracks))

    def close(self) -> None:
        if self.music is not None:
            self.music.close()
        self.voice.close()


def voice_settings(config: Config, options: SessionOptions) -> VoiceSettings:
    """The engine, voice and rate: the options, then config.toml, then the defaults."""
    voice = options.voice if options.voice is not None else config.voice
    return VoiceSettings(
        engine=choose_engine(options.speech_engine or config.speech_engine, voice),
        voice=voice,
        rate_wpm=options.rate_wpm or config.rate_wpm,
    )


def check_voice_settings(chosen: VoiceSettings, warn: Warn) -> None:
    """BadInputError for a voice the engine does not have; a warning for one of another
    language than the routine's English."""
    if chosen.engine == NATURAL:
        hibari_engine.check_voice(chosen.voice)
        return
    if chosen.voice:
        language = check_voice(chosen.voice)
        if language is not None and not language.lower().startswith("en"):
            warn(
                f"voice {chosen.voice!r} speaks {language}; the routine's words are English and"
                " will be read with that language's sounds (see `voiceguide voices`)"
            )


def plan_settings(config: Config, options: SessionOptions) -> PlanSettings:
    side = options.first_side or SIDES[0]
    if side not in SIDES:
        raise BadInputError(f"--first-side: expected {SIDE_CHOICES}, got {side!r}")
    return PlanSettings(
        first_side=side,
        include_first_run=options.include_first_run,
        duck_db=config.duck_db,
        step_seconds=dict(options.step_seconds),
    )


def planned_seconds(
    routine: Routine, config: Config, paths: Paths, warn: Warn = lambda _problem: None
) -> float:
    """How long a session of `routine` lasts as `start` plays it after the first run: the
    one length shown everywhere (announcements, cues, chimes and the closing included).

    Clips are synthesized (and cached) where missing, and the routine's recordings and own
    chimes loaded, so the length is the real one; a bad recording is a RoutineError.
    """
    options = SessionOptions()
    recordings = load_recordings(routine, paths.clip_cache_dir)
    chime, end_chime = session_chimes(config, routine, paths, warn)
    voice = Voice(voice_settings(config, options), paths.voice_cache_dir)

    def frames(line: Line) -> int:
        return len(recordings[line] if isinstance(line, Recording) else voice.clip(line))

    try:
        plan = build_plan(
            routine, plan_settings(config, options), frames, len(chime), len(end_chime)
        )
    finally:
        voice.close()
    return plan.total_frames / plan.sample_rate_hz


def shortest_frames(config: Config, options: SessionOptions, paths: Paths) -> int:
    """A lower bound of the session's length, known before any clip is synthesized: the
    plan with every clip and chime of no length (each step still lasts its duration)."""
    routine = resolve(options.routine or config.routine, paths.routines_dir)
    plan = build_plan(routine, plan_settings(config, options), lambda _text: 0, 0, 0)
    return plan.total_frames


def bed_track() -> Track:
    """The bundled music bed (already at the loudness target)."""
    path = bundled.bed_path()
    frames = bundled.ogg_frames(path)
    if frames is None:
        # Imported only here: the playlists package is not needed to play the bundled bed.
        from voiceguide.music.playlists.probe import run_ffprobe

        frames = seconds_to_frames(run_ffprobe(path).duration_seconds)
    return Track(path, frames, 0.0, "Bundled music bed")


def music_stream(
    config: Config, options: SessionOptions, paths: Paths, warn: Warn
) -> tuple[MusicStream | None, str]:
    """The music for the session and a description of it for the user."""
    if options.no_music:
        return None, "no music"
    source = options.music or config.default_playlist
    if source:
        from voiceguide.music.playlists.resolve import resolve_tracks, shuffle_tracks

        tracks, warnings = resolve_tracks(source, paths, target_lufs=config.music_loudness_lufs)
        for warning in warnings:
            warn(warning)
        if options.shuffle_seed is not None:
            tracks = shuffle_tracks(tracks, options.shuffle_seed)
        if tracks:
            crossfade = seconds_to_frames(config.crossfade_seconds)
            described = f"{len(tracks)} track{'s' if len(tracks) != 1 else ''} from {source}"
            return MusicStream(tracks, crossfade), described
        warn(f"{source}: nothing playable; playing the bundled music instead")
    # The bed is made to loop seamlessly, so no crossfade at its seam.
    return MusicStream([bed_track()], crossfade_frames=0), "the bundled music"


def prepare_session(
    config: Config, options: SessionOptions, paths: Paths, warn: Warn, *, eager: bool = True
) -> Session:
    """Everything needed to render.

    `eager`: synthesize (or load) every clip now, as a render needs. Otherwise only those
    spoken before step 2, so a live session starts at once; `finish_voice` does the rest.
    """
    routine = resolve(options.routine or config.routine, paths.routines_dir)
    settings = plan_settings(config, options)
    chosen = voice_settings(config, options)
    check_voice_settings(chosen, warn)
    # The routine's recordings first: a bad one stops everything before any other work.
    recordings = load_recordings(routine, paths.clip_cache_dir)
    chime, end_chime = session_chimes(config, routine, paths, warn)
    voice = Voice(chosen, paths.voice_cache_dir)
    music: MusicStream | None = None
    try:
        lines = step_texts(routine, settings) if eager else first_texts(routine, settings)
        texts = [line for line in lines if isinstance(line, str)]
        if any(voice.ready_frames(text) is None for text in texts):
            voice.start_engine()  # the natural voice loads (0.5 s) while the rest is set up
        music, description = music_stream(config, options, paths, warn)
        if music is not None:
            music.prefetch()  # ffmpeg starts while the speech is made: 0.05 s idle, 2 s loaded
        levels = MixLevels(
            speech_db=options.speech_level_db
            if options.speech_level_db is not None
            else config.speech_level_db,
            music_db=options.music_level_db
            if options.music_level_db is not None
            else config.music_level_db,
        )
        for text in texts:
            voice.clip(text)
        chime_files = tuple(path for path, _where in own_chimes(config, routine, paths).values())
        session = Session(
            routine, settings, voice, music, description, chime, end_chime, levels, recordings,
            chime_files,
        )  # fmt: skip
        if eager:
            session.finish_voice()  # the closing summary, whose text depends on the timeline
            session.replan(settings)
    except BaseException:
        # The music's decoder and the voice's engine (a worker process for the natural
        # voice) were started above: nothing may outlive a session that never began.
        if music is not None:
            music.close()
        voice.close()
        raise
    return session
