"""Run the real airlock service (uvicorn, real database and directories) as a subprocess for
the concurrency and crash tests, where no hub runs: tokens are resolved by
tests.airlock_support.FixedIdentities.

    python -m tests.airlock_server SETTINGS_JSON PORT

At start it recovers and checkpoints the audit log as ``python -m airlock serve`` does. For
the crash tests, ``AIRLOCK_TEST_EVENTS=FILE`` appends the name of every durable step taken
while serving a request (fsync, rename, database commit) to FILE, and
``AIRLOCK_TEST_PAUSE_AT=N`` makes the N-th such step write ``FILE.paused`` and wait there, so
the test can kill the process with SIGKILL at exactly that point; ``AIRLOCK_TEST_FAIL_ON=NAME``
makes the first step of that name (e.g. ``before rename``) raise OSError as on a full disk.
"""

from __future__ import annotations

import errno
import os
import sys
import threading
import time
from pathlib import Path

import uvicorn
from sqlalchemy import event
from sqlalchemy.orm import Session

from airlock.config import Settings
from tests.airlock_support import make_airlock, make_app

_lock = threading.Lock()
_armed = threading.Event()  # set by the first POST: readiness probes before it count nothing
_failed = threading.Event()  # AIRLOCK_TEST_FAIL_ON has struck (once)
_count = 0


def _step(name: str) -> None:
    global _count
    events = os.environ.get("AIRLOCK_TEST_EVENTS")
    if not events or not _armed.is_set():
        return
    if name == os.environ.get("AIRLOCK_TEST_FAIL_ON") and not _failed.is_set():
        _failed.set()
        raise OSError(errno.ENOSPC, f"No space left on device (injected at {name})")
    with _lock:
        _count += 1
        n = _count
        with open(events, "a") as f:
            f.write(f"{n} {name}\n")
    if n == int(os.environ.get("AIRLOCK_TEST_PAUSE_AT", "0")):
        Path(events + ".paused").write_text(name)
        time.sleep(3600)  # the test kills us here


def _wrap(module, name: str) -> None:
    original = getattr(module, name)

    def wrapped(*args, **kwargs):
        _step(f"before {name}")
        result = original(*args, **kwargs)
        _step(f"after {name}")
        return result

    setattr(module, name, wrapped)


def main() -> None:
    settings = Settings.model_validate_json(Path(sys.argv[1]).read_text())
    port = int(sys.argv[2])
    airlock = make_airlock(settings)
    for line in airlock.recover():
        print(f"recovery: {line}", file=sys.stderr, flush=True)
    airlock.anchor_audit_head()
    for name in ("fsync", "rename", "replace"):
        _wrap(os, name)
    event.listen(airlock.dal.engine, "commit", lambda conn: _step("before commit"))
    event.listen(Session, "after_commit", lambda session: _step("after commit"))
    app = make_app(airlock)

    @app.middleware("http")
    async def arm(request, call_next):
        if request.method == "POST":
            _armed.set()
        return await call_next(request)

    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")


if __name__ == "__main__":
    main()
