"""``tresor node start`` stays the parent of the hub, so that Ctrl-C stops everything, quickly.

JupyterHub starts configurable-http-proxy, its managed services and the single-user servers in
sessions of their own: a terminal's Ctrl-C reaches only the hub, whose orderly stop takes each
service in turn, and a hub that dies leaves them running on the node's ports. So the hub runs as
a child, in its own process group, and this process

- on the first Ctrl-C (or SIGTERM, SIGHUP) passes one SIGINT to the hub (its orderly stop);
- on a second Ctrl-C, or :data:`GRACE_SECONDS` after the first, kills the hub and every process
  under it (SIGTERM, then SIGKILL after :data:`TERM_SECONDS`): all stopped within 10 s;
- after the hub exits, for whatever reason, stops what it left behind;
- adopts the orphans of the hub (Linux "child subreaper"), so what the hub started stays under
  it even when the hub dies, and records every process under it in the state directory
  (:mod:`tresor.node.processes`), so that a start after this process was killed outright can
  name and stop what is left.

The hub restarts a managed service that exits (JupyterHub polls them every 30 s); the airlock
then finishes any release a crash interrupted (:meth:`airlock.workflow.Airlock.recover`).
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import subprocess
import sys
import time

import psutil

from tresor.core.paths import REPO_ROOT
from tresor.core.site import SiteConfig
from tresor.node import processes

#: time the hub has for its orderly stop after the first Ctrl-C
GRACE_SECONDS = 5.0
#: then SIGTERM to everything left, and SIGKILL after this
TERM_SECONDS = 2.0
#: how often the processes under us are listed (recorded, exited orphans collected)
SCAN_SECONDS = 1.0

_PR_SET_CHILD_SUBREAPER = 36


def hub_argv() -> list[str]:
    """The command that runs JupyterHub with tresor's config file."""
    return processes.python_module("jupyterhub", "-f", str(REPO_ROOT / "jupyterhub_config.py"))


def say(message: str) -> None:
    print(f"tresor node: {message}", file=sys.stderr, flush=True)


def adopt_orphans() -> bool:
    """Become the child subreaper (Linux): processes orphaned under us are re-parented here."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0
    except (OSError, AttributeError):  # not Linux
        return False


class Supervisor:
    """Runs the hub until it exits, then stops everything under it; see the module docstring."""

    def __init__(self, site: SiteConfig) -> None:
        self.site = site
        self.state = site.state_path
        self.me = psutil.Process()
        self.stop_requests = 0
        self.hub: subprocess.Popen | None = None
        self._recorded: set[tuple[int, float]] = set()

    def _on_signal(self, signum, frame) -> None:
        self.stop_requests += 1

    def run(self) -> int:
        """Start the hub and supervise it; returns the exit status for the command."""
        adopt_orphans()
        for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(s, self._on_signal)
        env = dict(os.environ)
        if self.site.source:
            env["TRESOR_SITE_CONFIG"] = str(self.site.source)
        self.hub = subprocess.Popen(hub_argv(), cwd=self.state, env=env, process_group=0)
        handled, deadline, next_scan = 0, None, 0.0
        try:
            while self.hub.poll() is None:
                if self.stop_requests > handled:
                    handled = self.stop_requests
                    if handled == 1:
                        say("stopping (Ctrl-C again to kill at once)")
                        self.hub.send_signal(signal.SIGINT)
                        deadline = time.monotonic() + GRACE_SECONDS
                if handled >= 2 or (deadline and time.monotonic() > deadline):
                    late = f"the hub did not stop in {GRACE_SECONDS:.0f} s: stopping all it started"
                    say("killing the hub and everything it started" if handled >= 2 else late)
                    self.hub.kill()
                    self.hub.wait()
                    break
                if time.monotonic() >= next_scan:
                    self._record_and_reap()
                    next_scan = time.monotonic() + SCAN_SECONDS
                time.sleep(0.1)
        finally:
            left = self._stop_all(at_once=handled >= 2)
            if left:
                say(f"could not stop: {', '.join(str(p.pid) for p in left)}")
            else:
                processes.remove_record(self.state)
        if handled:  # stopped on request
            return 1 if left else 0
        say(f"the hub exited with status {self.hub.returncode}; nothing it started runs now")
        return self.hub.returncode or 1

    def _under_us(self) -> list[psutil.Process]:
        try:
            return self.me.children(recursive=True)
        except psutil.Error:
            return []

    def _record_and_reap(self) -> None:
        """Bring the record of processes up to date; collect adopted orphans that exited
        (never the hub: Popen waits for it)."""
        procs = [self.me, *self._under_us()]
        keys = set()
        for p in procs:
            with contextlib.suppress(psutil.Error):
                keys.add((p.pid, p.create_time()))
        if keys != self._recorded:
            processes.write_record(self.state, procs)
            self._recorded = keys
        for p in procs[1:]:
            with contextlib.suppress(psutil.Error, ChildProcessError):
                orphan = p.ppid() == self.me.pid and p.pid != self.hub.pid
                if orphan and p.status() == psutil.STATUS_ZOMBIE:
                    os.waitpid(p.pid, os.WNOHANG)

    def _stop_all(self, *, at_once: bool) -> list[psutil.Process]:
        """Stop every process under us and any recorded one still running; returns the ones
        that would not stop. A few rounds: a dying hub may have started one more."""
        left: list[psutil.Process] = []
        for _ in range(3):
            targets = {p.pid: p for p in self._under_us()}
            targets.update(
                (p.pid, p) for p in processes.recorded_processes(self.state) if p.pid != self.me.pid
            )
            if not targets:
                return []
            if at_once:
                for p in targets.values():
                    with contextlib.suppress(psutil.Error):
                        p.kill()
                _gone, left = psutil.wait_procs(list(targets.values()), timeout=2)
            else:
                left = processes.stop(targets.values(), term_seconds=TERM_SECONDS)
        return left


def run_hub(site: SiteConfig) -> int:
    """Run the hub under a :class:`Supervisor` in the state directory; returns its status."""
    os.umask(0o077)  # hub database, logs and workspaces: owner only
    sys.stdout.flush()
    return Supervisor(site).run()
