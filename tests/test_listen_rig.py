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


@pytest.mark.xfail(
    strict=False,
    reason="voice commands are not reliable yet on a loaded machine: at load average 8-10 on 2"
    " cores the program's own speech was once heard as 'how long', and a spoken 'next' was"
    " missed in 1 of 2 end-to-end runs; with the linear echo gate it passed 2 of 2 at load 2"
    " and failed 1 of 1 at load 6 (issue 10 stays open)",
)
def test_commands_spoken_in_the_room_are_acted_on(rig_env, session, tmp_path: Path) -> None:
    talk = [
        (14.0, "voice guide next step", "en-us+klatt"),
        (21.0, "the weather is nice today", "en+m3"),
        (28.0, "voice guide pause", "en-us+f2"),
        (35.0, "voice guide how long", "en-us+klatt"),
    ]
    run, listener = run_session(
        session[: 44_100 * 42], talk, tmp_path, debug_audio_dir=tmp_path / "debug"
    )
    said = ["next", "pause", "how-long"]
    heard = [name for _, name in run.commands]
    # Nothing wrong, nothing invented, in order; at most one missed.
    assert all(name in said for name in heard), (run.commands, described(listener))
    assert heard == sorted(heard, key=said.index), (run.commands, described(listener))
    assert len(heard) >= 2, (run.commands, described(listener))
    assert run.warnings == []
    assert listener_threads() == []
    # The echo was found where the reference leads it (the delay tracker agrees).
    lags = [lag for lag, _ in listener.delay_estimates]
    assert lags, "no echo delay measured"
    assert LEAD_SECONDS * 16_000 / 2 <= lags[-1] <= MAX_LEAD_SECONDS * 16_000, lags
    # The debug option (and only it) records the microphone and the aligned reference.
    mic = read_wav(tmp_path / "debug" / "mic.wav")
    ref = read_wav(tmp_path / "debug" / "reference.wav")
    assert len(mic) == len(ref) > 16_000 * 40


@pytest.mark.xfail(
    strict=False,
    reason="voice commands are not reliable yet on a loaded machine: at load average 8-10 on 2"
    " cores the program's own speech was once heard as 'how long'; with the linear echo gate"
    " it passed 3 of 3 at load 2-6, too few at load 8-10 to call it fixed (issue 10 stays open)",
)
def test_program_sound_alone_is_never_a_command(
    rig_env, session, tmp_path: Path, voiceguide_home: Path
) -> None:
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
