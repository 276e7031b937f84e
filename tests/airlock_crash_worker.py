"""A process that forks one worker per crash point, for the airlock crash and fault tests.

The test starts ``python -m tests.airlock_crash_worker`` once (imports paid once), then writes
``SETTINGS_JSON REQUEST_ID POINT EVENTS_FILE MODE`` lines to its stdin. For each line it forks
a worker that opens the airlock afresh and makes the final approval of the request (which
releases it). Every durable step the worker takes (each fsync, rename and database commit) is
numbered in EVENTS_FILE. At step POINT, in MODE ``kill`` the worker writes
``EVENTS_FILE.paused`` and waits, and the test kills it with SIGKILL; in MODE ``fail`` the step
raises OSError (ENOSPC: the disk is full) once, and the worker goes on (exit 0 when the
approval returned, 1 when it raised). The forker answers ``pid N`` and then ``exit STATUS``.
"""

from __future__ import annotations

import errno
import os
import sys
import time
from pathlib import Path

from sqlalchemy import event
from sqlalchemy.orm import Session

from airlock.config import Settings
from airlock.domain import User
from airlock.enums import Decision
from tests.airlock_support import USERS, make_airlock


def worker(settings_path: str, request_id: str, point: int, events: str, mode: str) -> None:
    count = 0

    def step(name: str) -> None:
        nonlocal count
        count += 1
        with open(events, "a") as f:
            f.write(f"{count} {name}\n")
        if count == point and mode == "fail":
            raise OSError(errno.ENOSPC, f"No space left on device (injected at {name})")
        if count == point:
            Path(events + ".paused").write_text(name)
            time.sleep(3600)  # killed here

    settings = Settings.model_validate_json(Path(settings_path).read_text())
    airlock = make_airlock(settings)
    for name in ("fsync", "rename", "replace"):
        original = getattr(os, name)

        def wrapped(*args, _original=original, _name=name, **kwargs):
            step(f"before {_name}")
            return _original(*args, **kwargs)

        setattr(os, name, wrapped)
    event.listen(airlock.dal.engine, "commit", lambda conn: step("before commit"))
    event.listen(Session, "after_commit", lambda session: step("after commit"))
    airlock.decide(User("reviewer2", USERS["reviewer2"]), request_id, Decision.APPROVE)


def main() -> None:
    for line in sys.stdin:
        settings_path, request_id, point, events, mode = line.split()
        pid = os.fork()
        if pid == 0:
            try:
                worker(settings_path, request_id, int(point), events, mode)
            except BaseException as e:
                print(f"worker failed: {e!r}", file=sys.stderr, flush=True)
                os._exit(1)
            os._exit(0)
        print(f"pid {pid}", flush=True)
        _, status = os.waitpid(pid, 0)
        print(f"exit {os.waitstatus_to_exitcode(status)}", flush=True)


if __name__ == "__main__":
    main()
