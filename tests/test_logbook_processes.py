"""The log across processes: two writers at once, and a player killed mid-session."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from voiceguide.logbook import LogStore

REPO = Path(__file__).resolve().parents[1]

# Writes 50 sessions as soon as the go-file appears: either live ones (the player's
# calls) or manual ones (a `log add` from another terminal).
WRITER = """
import sys, time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from voiceguide.logbook import LogStore

db, go, kind = sys.argv[1], Path(sys.argv[2]), sys.argv[3]
while not go.exists():
    time.sleep(0.001)
base = datetime(2026, 3, 1, tzinfo=UTC)
with LogStore(db) as store:
    for n in range(50):
        when = base + timedelta(minutes=n)
        if kind == "live":
            session = store.begin_session("hands-on-pumping", store.next_first_side(), when)
            store.step_done(session, "massage", 0.0)
            store.end_session(session, when + timedelta(minutes=1), True, None)
        else:
            store.add_manual(when, 10.0, 10.0, note=f"manual-{n}")
print("done")
"""

# Begins a session, records two steps, says so, then sleeps until it is killed.
KILLED_PLAYER = """
import sys, time
from datetime import UTC, datetime
from voiceguide.logbook import LogStore

store = LogStore(sys.argv[1])
session = store.begin_session("hands-on-pumping", "left", datetime.now(UTC))
store.step_done(session, "massage", 0.0)
store.step_done(session, "pump", 360.0)
print(session, flush=True)
time.sleep(60)
"""


def _python(code: str, *args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.Popen(
        [sys.executable, "-c", code, *args],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.parametrize("existing", [True, False], ids=["existing-log", "fresh-path"])
def test_two_processes_write_at_once(tmp_path: Path, existing: bool) -> None:
    db = tmp_path / "log.sqlite3"
    if existing:
        LogStore(db).close()
    go = tmp_path / "go"
    writers = [_python(WRITER, str(db), str(go), kind) for kind in ("live", "manual")]
    time.sleep(0.3)  # both interpreters started and waiting
    go.touch()
    for writer in writers:
        out, err = writer.communicate(timeout=60)
        assert writer.returncode == 0, err
        assert out.strip() == "done"
    with LogStore(db) as store:
        sessions = store.sessions()
        assert store.integrity_check() == "ok"
    assert len(sessions) == 100
    assert sum(1 for s in sessions if s.source == "live" and s.steps == ("massage",)) == 50
    assert {s.note for s in sessions if s.source == "manual"} == {f"manual-{n}" for n in range(50)}


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")
def test_sigkill_mid_session_leaves_a_sound_log(tmp_path: Path) -> None:
    db = tmp_path / "log.sqlite3"
    player = _python(KILLED_PLAYER, str(db))
    assert player.stdout is not None
    line = player.stdout.readline()
    assert line.strip().isdigit(), player.stderr.read() if player.stderr else ""
    session_id = int(line)
    player.send_signal(signal.SIGKILL)
    player.communicate(timeout=10)
    assert player.returncode == -signal.SIGKILL

    # Plain sqlite3 first: the file as the killed process left it (with its WAL).
    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    conn.close()

    with LogStore(db) as store:
        assert store.integrity_check() == "ok"
        record = store.get(session_id)
    assert record.ended_at is None
    assert record.finished is None
    assert record.status == "unfinished"
    assert record.steps == ("massage", "pump")
    assert record.pumping_seconds == 360.0
