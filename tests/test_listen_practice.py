"""`voiceguide listen`: practising the commands with nothing playing, each utterance explained.

The explanations are checked on the recognizer's own result records; the command end to end on
the rig (soundserver.rig_server), with test talkers played into the room.
"""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from voice_session_helpers import pulse_env

from voiceguide.listen.pipeline import MAX_VOICE_OUTSIDE_SECONDS, Heard
from voiceguide.listen.practice import TALK_FIT, explain
from voiceguide.listen.recognizer import MIN_FIT, MIN_MARGIN, Recognition

from cli_helpers import run_cli
from listen_helpers import LISTEN_RATE_HZ, at_level, speak, write_wav

WAKE = "voice guide"


def heard(
    words: str = "",
    *,
    fit: float = 12.0,
    margin: int | None = None,
    ignored: str = "",
    outside_seconds: float = 0.0,
    echo_ready: bool = True,
) -> Heard:
    recognition = Recognition(words, -4000, margin, 150, fit, "commands", (), ignored)
    return Heard(
        recognition, "commands", 16_000, 40_000, 44_800, 0.1, echo_ready,
        voice_outside_seconds=outside_seconds,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("utterance", "line"),
    [
        (heard("voice guide next step"), "heard: next"),
        (heard("voice guide one more minute", margin=900), "heard: extend"),
        (heard(ignored=WAKE), '"voice guide" alone (say the wake phrase and the command in one'),
        (heard(ignored="voice guide start again"), '"voice guide start again" is not a command'),
        # Talk that only landed on a sentence meaning nothing, or on a command, fits it poorly.
        (heard(ignored=WAKE, fit=MIN_FIT["commands"] - 0.5), "no command in it"),
        (heard("voice guide resume", fit=TALK_FIT - 0.5), "no command in it"),
        (heard(), "no command in it"),
        (heard("voice guide pause", fit=MIN_FIT["commands"] - 0.5), "? not clear enough"),
        (
            heard("voice guide pause", margin=MIN_MARGIN["commands"] - 1),
            '"voice guide pause"? too much like something else',
        ),
        (
            heard("voice guide resume", outside_seconds=MAX_VOICE_OUTSIDE_SECONDS + 0.2),
            "other words around it: say only the command",
        ),
        (heard("voice guide resume", echo_ready=False), "the program's own sound"),
    ],
)
def test_each_utterance_is_explained(utterance: Heard, line: str) -> None:
    said = explain(utterance, WAKE)
    assert line in said
    assert said.startswith("heard: ") == utterance.accepted


def test_the_wake_phrase_is_checked_before_anything_listens() -> None:
    result = run_cli("listen", "--wake-word", "zorblax", timeout=60)
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip().splitlines() == [
        "error: wake phrase 'zorblax': the recognizer does not know 'zorblax' (choose common"
        " English words)"
    ]


@pytest.mark.sound
def test_commands_said_into_the_room_are_heard_and_other_talk_explained(
    rig, tmp_path: Path
) -> None:
    said = [
        ("voice guide next step", "en-us+f2"),
        ("the weather is nice today", "en+m3"),
        ("voice guide pause", "en-gb+f4"),
        ("voice guide start again", "en+klatt3"),
    ]
    # Synthesized first: espeak-ng is slow on a loaded machine, and the talk is timed.
    clips = [
        write_wav(tmp_path / f"talk{i}.wav", at_level(speak(text, voice), 3000), LISTEN_RATE_HZ)
        for i, (text, voice) in enumerate(said)
    ]
    env = pulse_env(rig.env, tmp_path / "home")
    process = subprocess.Popen(
        [sys.executable, "-m", "voiceguide", "listen"],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
        text=True, start_new_session=True,  # its own process group, as a terminal's job
    )  # fmt: skip
    assert process.stdout is not None and process.stderr is not None
    try:
        ready, _, _ = select.select([process.stderr], [], [], 60)  # the models load first
        assert ready, "no 'Listening on' line within 60 s"
        first = process.stderr.readline()
        assert first.startswith("Listening on room.monitor, with nothing playing"), first
        for clip in clips:
            subprocess.run(["paplay", "-d", "room", str(clip)], env=env, check=True, timeout=30)
            time.sleep(1.5)  # the voice detector's hang-over, and a gap
        os.killpg(process.pid, signal.SIGINT)  # Ctrl-C at a terminal reaches the whole group
        out, err = process.communicate(timeout=20)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    lines = out.splitlines()
    assert process.returncode == 130, (out, err)
    assert [line.split("] ", 1)[1] for line in lines if "] heard: " in line] == [
        "heard: next",
        "heard: pause",
    ], out
    refused = [line.split("not acted on: ", 1)[1] for line in lines if "] not acted on: " in line]
    assert any(line.startswith("no command in it") for line in refused), out  # the weather
    assert '"voice guide start again" is not a command' in refused, out
    # No traceback and no warning; on a loaded machine the listener may say it fell behind.
    *before, last = err.strip().splitlines()
    assert last == "2 commands heard.", err
    assert all(line.startswith("warning: voice commands fall behind") for line in before), err


@pytest.mark.sound
def test_no_microphone_is_one_line_without_the_keys_hint(rig, tmp_path: Path) -> None:
    env = pulse_env(rig.env, tmp_path / "home")
    result = run_cli("listen", "--input", "no-such-mic", timeout=60, env=env)
    assert result.returncode == 1, result.stderr
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("error: listening is off: no input named 'no-such-mic' (inputs: ")
    assert "room.monitor" in line and "keys" not in line


@pytest.mark.sound
def test_seconds_ends_the_practice_by_itself(rig, tmp_path: Path) -> None:
    env = pulse_env(rig.env, tmp_path / "home")
    result = run_cli("listen", "--seconds", "2", timeout=60, env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""  # nothing was said
    assert result.stderr.strip().splitlines()[-1] == "0 commands heard."
