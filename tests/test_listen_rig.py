"""Voice commands live, on the rig: a private PulseAudio where the session plays into "speaker",
a 40 ms loopback carries it into "room" (the echo), and the microphone is room's monitor.
Test talkers (espeak-ng variants, never the program's own voice) play into "room"."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import numpy as np
import pytest

from voiceguide.listen.align import LEAD_SECONDS, MAX_LEAD_SECONDS
from voiceguide.listen.capture import NoInputError
from voiceguide.listen.listener import CommandListener

from listen_helpers import (
    ClockPlayed,
    at_level,
    play_into_room,
    read_wav,
    render_session,
    rms,
    speak,
)

pytestmark = pytest.mark.sound


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory) -> np.ndarray:
    """The demo routine rendered: music and the program's speech, 44.1 kHz stereo."""
    return render_session(tmp_path_factory.mktemp("render"))


def described(listener: CommandListener) -> list[tuple[float, str, float, bool, float]]:
    """What the listener heard: (stream second, words, fit, echo ready, echo share), for
    failure messages."""
    return [
        (
            round(h.start_sample / 16_000, 1),
            h.recognition.words,
            round(h.recognition.fit, 1),
            h.echo_ready,
            round(h.echo_share, 2),
        )
        for h in listener.heard
    ] + [("delays", listener.delay_estimates)]  # type: ignore[list-item]


def listener_threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name.startswith("voiceguide-")]


class Run:
    def __init__(self) -> None:
        self.commands: list[tuple[float, str]] = []
        self.warnings: list[str] = []
        self.started = time.monotonic()

    def command(self, name: str) -> None:
        self.commands.append((time.monotonic() - self.started, name))


def run_session(
    samples: np.ndarray,
    talk: list[tuple[float, str, str]],
    folder: Path,
    room: str = "room",
    **options: object,
) -> tuple[Run, CommandListener]:
    played = ClockPlayed(samples)
    run = Run()
    listener = CommandListener(played, run.command, run.warnings.append, **options)  # type: ignore[arg-type]
    listener.start()
    played.start()
    level = rms(samples.mean(axis=1))  # 0 dB speech-to-echo: the loopback is at 100 %
    talkers = []
    try:
        for at, text, voice in talk:
            clip = at_level(speak(text, voice), level)
            while time.monotonic() - run.started < at:
                time.sleep(0.02)
            talkers.append(play_into_room(clip, folder, f"talk{at:g}", room))
        while time.monotonic() - run.started < len(samples) / 44_100 + 1.5:
            time.sleep(0.05)
    finally:
        for thread in talkers:
            thread.join(timeout=10)
        played.stop()
        listener.close()
    return run, listener


TALK = [
    (14.0, "voice guide next step", "en-us+klatt"),
    (21.0, "the weather is nice today", "en+m3"),
    (28.0, "voice guide pause", "en-us+f2"),
    (35.0, "voice guide how long", "en-us+klatt"),
]
SAID = ["next", "pause", "how-long"]


@pytest.fixture(scope="module")
def spoken(
    rig, session, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Run, CommandListener, Path]:
    """42 s of the demo with TALK said into the room, run once for the tests that read it."""
    folder = tmp_path_factory.mktemp("spoken")
    with pytest.MonkeyPatch.context() as patch:
        for key, value in rig.env.items():  # this process's parec and pactl: on the rig
            patch.setenv(key, value)
        run, listener = run_session(
            session[: 44_100 * 42], TALK, folder, debug_audio_dir=folder / "debug"
        )
    return run, listener, folder


def test_talk_in_the_room_is_never_taken_for_another_command(
    spoken: tuple[Run, CommandListener, Path],
) -> None:
    run, listener, folder = spoken
    heard = [name for _, name in run.commands]
    # Nothing wrong, nothing invented, in order (under load too: what is not sure is refused).
    assert all(name in SAID for name in heard), (run.commands, described(listener))
    assert heard == sorted(heard, key=SAID.index), (run.commands, described(listener))
    assert run.warnings == []
    assert listener_threads() == []
    # The echo was found where the reference leads it (the delay tracker agrees).
    lags = [lag for lag, _ in listener.delay_estimates]
    assert lags, "no echo delay measured"
    assert LEAD_SECONDS * 16_000 / 2 <= lags[-1] <= MAX_LEAD_SECONDS * 16_000, lags
    # The debug option (and only it) records the microphone and the aligned reference.
    mic = read_wav(folder / "debug" / "mic.wav")
    ref = read_wav(folder / "debug" / "reference.wav")
    assert len(mic) == len(ref) > 16_000 * 40


@pytest.mark.xfail(
    strict=False,
    reason="commands are missed under harsh load: with two busy processes in the tests' own"
    " session (bench/live_under_load.py --same-session) 2 of 4 runs heard one command of three:"
    " one said about a second after the reference re-anchored (playhead estimates late by"
    " hundreds of ms) was refused for the re-warm-up ('next step' in one run, 'pause' in the"
    " other), and 'how long', with the echo leaking around it, was refused for voice outside"
    " its words (once decoded as 'pause'); never a wrong command. With a second move no longer"
    " restarting the whole warm-up, 3 of 4 (the miss: 'next step' 8 s after two moves that came"
    " before the first warm-up was done, and 'how long' refused by the echo gate). 5 of 5 passed"
    " with the busy processes in sessions of their own (load 2-2.7), and every CI run (issue 10)",
)
def test_most_commands_said_in_the_room_are_acted_on(
    spoken: tuple[Run, CommandListener, Path],
) -> None:
    run, listener, _ = spoken
    assert len(run.commands) >= len(SAID) - 1, (run.commands, described(listener))


def test_program_sound_alone_is_never_a_command(
    rig_env, session, tmp_path: Path, voiceguide_home: Path
) -> None:
    """Once expected to fail under load (at load average 8-10 the program's own speech was
    heard as "how long", before the linear echo gate); since, 9 of 9 runs beside two busy
    processes, in sessions of their own or in the tests' own (bench/live_under_load.py)."""
    run, listener = run_session(session[: 44_100 * 60], [], tmp_path)
    assert run.commands == [], described(listener)
    assert run.warnings == []
    assert listener_threads() == []
    # Privacy: without the debug option, no audio file is written anywhere we own.
    assert not [
        p
        for p in (*tmp_path.rglob("*.wav"), *voiceguide_home.rglob("*.wav"))
        if "talk" not in p.name
    ]


def test_commands_are_acted_on_when_the_program_is_not_in_the_microphone(
    rig_env, session, tmp_path: Path
) -> None:
    """Headphones: the session plays into "speaker" as always, but the microphone is a room
    that only the talkers reach. There is no echo to cancel, so the canceller never shows that
    it works; the commands are taken all the same."""
    module = rig_env.pactl(
        "load-module", "module-null-sink", "sink_name=quiet", "rate=44100", "channels=2"
    ).strip()
    try:
        talk = [
            (14.0, "voice guide next step", "en-us+klatt"),
            (21.0, "the weather is nice today", "en+m3"),
            (28.0, "voice guide pause", "en-us+f2"),
        ]
        run, listener = run_session(
            session[: 44_100 * 34], talk, tmp_path, room="quiet", source="quiet.monitor"
        )
    finally:
        rig_env.pactl("unload-module", module)
    assert [name for _, name in run.commands] == ["next", "pause"], described(listener)
    assert run.warnings == []
    assert listener_threads() == []


def test_no_such_input_is_one_clear_error(rig_env) -> None:
    played = ClockPlayed(np.zeros((44_100, 2), dtype=np.int16))
    listener = CommandListener(played, print, print, source="no-such-microphone")
    with pytest.raises(NoInputError, match=r"no input named 'no-such-microphone'.*keys still work"):
        listener.start()
    listener.close()
    assert listener_threads() == []


def test_input_that_goes_away_warns_once_and_the_session_goes_on(rig_env) -> None:
    module = rig_env.pactl(
        "load-module", "module-null-sink", "sink_name=gone", "rate=44100"
    ).strip()
    played = ClockPlayed(np.zeros((44_100 * 30, 2), dtype=np.int16))
    commands: list[str] = []
    warnings: list[str] = []
    listener = CommandListener(played, commands.append, warnings.append, source="gone.monitor")
    listener.start()
    played.start()
    try:
        time.sleep(1.0)
        assert listener.listening
        rig_env.pactl("unload-module", module)
        deadline = time.monotonic() + 5
        while not warnings and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.5)
    finally:
        played.stop()
        listener.close()
    assert len(warnings) == 1 and "went away" in warnings[0], warnings
    assert "keys still work" in warnings[0]
    assert not listener.listening
    assert listener_threads() == []
