"""Voice commands as a front end of a live session, next to the keys; and spoken amounts.

The listening pipeline lives in voiceguide/listen/ (microphone, echo canceller fed with the
exact samples played, voice detector, grammar recognizer). This module connects it to a
LiveSession: what the player played is the echo canceller's reference, each accepted command
acts through the session's controls and is acknowledged (a soft tone, or a few words where
nothing else would be heard), and after the session the amounts can be said, one side at a
time, each read back and saved only on a spoken "yes".

Threads: the listener calls `_on_command` from its worker thread; the session's controls are
thread-safe, and the "heard" event reaches the display through the session's own loop.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from voiceguide.audioformat import frames_to_seconds
from voiceguide.listen.amounts import say_amount
from voiceguide.live.events import Event, SessionListener
from voiceguide.routine.durations import spoken_length

if TYPE_CHECKING:
    from voiceguide.listen.listener import CommandListener
    from voiceguide.live.session import LiveSession

log = logging.getLogger(__name__)

ANSWER_SECONDS = 8.0
"""How long an answer is waited for after a question."""
TRIES = 3
"""Questions per side before it is skipped."""
SPOKEN_ACKS = {"extend": "One more minute."}
"""Commands whose effect cannot be heard at once get words; the others get the tone."""
SILENT_ACKS = ("pause", "stop", "how-long")
"""Their effect is the acknowledgement: the sound fades, or the answer is spoken."""
UNIT_WORDS = {"ml": "millilitres", "oz": "ounces"}


class PlayerAudio:
    """What the listener needs of the player: the playhead while sound plays, and the exact
    samples played (the echo canceller's reference)."""

    def __init__(self, session: LiveSession) -> None:
        self._session = session

    def playhead_frame(self) -> int | None:
        """The frame heard now: the output's playhead, timed from the start call. The device
        buffer is what the server reads ahead, not a delay of the first sample: taking it off
        put the reference 280 ms early at every start on the rig (the delay tracker's first
        correction, -3,812 to -3,977 samples, in every run), and the move that corrected it
        restarted the canceller's warm-up."""
        output = self._session.conductor.player.sink
        return output.playhead_frame() if output.playing else None

    def played(self, start_frame: int, n_frames: int) -> np.ndarray:
        return self._session.conductor.player.sink.played(start_frame, n_frames)


class VoiceControl(SessionListener):
    """Listens during the session and turns accepted commands into the session's controls."""

    def __init__(
        self,
        session: LiveSession,
        warn: Callable[[str], None],
        *,
        wake_phrase: str,
        source: str | None = None,
        debug_audio_dir: Path | None = None,
    ) -> None:
        from voiceguide.listen.listener import CommandListener

        self.session = session
        self.warn = warn
        self.listener: CommandListener = CommandListener(
            PlayerAudio(session),
            self._on_command,
            warn,
            wake_phrase=wake_phrase,
            source=source,
            debug_audio_dir=debug_audio_dir,
        )
        self.heard: list[str] = []

    def start(self) -> bool:
        """Start listening; False (and one warning) when there is no microphone."""
        from voiceguide.listen.capture import NoInputError

        try:
            self.listener.start()
        except NoInputError as err:
            self.warn(str(err))  # it says "listening is off: ...; keys still work" itself
            return False
        return True

    def _on_command(self, command: str) -> None:
        """From the listener's thread: act, acknowledge, and tell the display."""
        self.heard.append(command)
        conductor = self.session.conductor
        conductor.note(Event("heard", conductor.player.playhead_frame(), None, command))
        try:
            self._act(command)
        except Exception:  # a failed acknowledgement must never stop the session
            log.warning("voice command %s failed", command, exc_info=True)

    def _act(self, command: str) -> None:
        session, conductor = self.session, self.session.conductor
        paused = conductor.player.paused
        if command == "pause":
            if not paused:
                session.pause()
        elif command == "resume":
            if paused:
                session.resume()
                conductor.tone_now()
        elif command == "stop":
            session.request_stop()
        elif command == "how-long":
            conductor.say_now(self._how_long())
        elif not paused:  # next, back, repeat, extend act on sound that plays
            getattr(session, _CONTROLS[command])()
            if command in SPOKEN_ACKS:
                conductor.say_now(SPOKEN_ACKS[command])
            else:
                conductor.tone_now()

    def _how_long(self) -> str:
        conductor = self.session.conductor
        left = conductor.step_left_seconds()
        if left is not None:
            return f"About {spoken_length(left)} left in this step."
        session_left = frames_to_seconds(
            conductor.timeline.end_frame - conductor.player.playhead_frame()
        )
        return f"About {spoken_length(session_left)} left in the session."

    def on_end(self, outcome: str) -> None:
        """Commands end with the sound; the listener stays for the amounts."""

    def close(self) -> None:
        self.listener.close()


_CONTROLS = {"next": "next_step", "back": "back", "repeat": "repeat", "extend": "extend"}


class SpokenAmounts:
    """AmountAsker by voice: "How much on the left?" -> "sixty" -> "Left, sixty millilitres.
    Say yes or no." -> "yes". Nothing is saved without a spoken yes."""

    def __init__(self, control: VoiceControl, say: Callable[[str], None]) -> None:
        self.control = control
        self.say = say

    def ask(self, side: str, unit: str) -> float | None:
        listener = self.control.listener
        refused: tuple[float, ...] = ()
        for _ in range(TRIES):
            self.say(f"How much on the {side}? Say a number of {UNIT_WORDS[unit]}, or skip.")
            # The value just refused is not offered again at once: the same words would be
            # misheard the same way. Only the last one, so a "yes" misheard as "no" can be
            # put right at the next try.
            answer = listener.ask(f"amount-{unit}", ANSWER_SECONDS, refused)
            refused = ()
            if answer is None:
                continue
            if answer.value == "skip":
                self.say(f"{side.capitalize()} skipped.")
                return None
            value = float(answer.value)
            self.say(f"{side.capitalize()}, {say_amount(value, unit)}. Say yes or no.")
            confirmed = listener.ask("yes-no", ANSWER_SECONDS)
            if confirmed is not None and confirmed.value == "yes":
                self.say("Saved.")
                return value
            if confirmed is not None:
                refused = (value,)
        self.say(f"No amount for the {side} side.")
        return None
