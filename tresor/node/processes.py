"""The processes a local node runs: how they are started, recorded, found again and stopped.

Every Python process the node starts runs ``python -P -m MODULE`` (:func:`python_module`): the
working directory never joins ``sys.path``, so no folder in it (the airlock's own
``<state>/airlock/store``, a researcher's ``tresor/``) can stand in for a module.

The supervisor of ``tresor node start`` (:mod:`tresor.node.supervisor`) records every process
under it in ``<state>/node-processes.json``; JupyterHub writes ``jupyterhub.pid`` and
``jupyterhub-proxy.pid``. A later start reads them to find what a node killed outright left
behind (:func:`find_stale`): a pid counts only if the process now at that pid started when the
record says (or, for JupyterHub's pid files, runs that program and is older than the file), so a
reused pid is never taken for the node's.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import psutil

from tresor.core.site import SiteConfig

#: the supervisor's record of every process under it (pid, start time, command)
RECORD_FILE = "node-processes.json"
#: JupyterHub's own pid files in the state directory, with the program each names
HUB_PID_FILES = {"jupyterhub.pid": "jupyterhub", "jupyterhub-proxy.pid": "configurable-http-proxy"}


def python_module(module: str, *args: str) -> list[str]:
    """``python -P -m module args``: this environment's Python, safe from the working dir."""
    return [sys.executable, "-P", "-m", module, *args]


def node_ports(site: SiteConfig) -> dict[int, str]:
    """The ports this node's processes listen on, with what listens there."""
    ports = {
        site.hub.port: "the proxy",
        site.hub.proxy_api_port: "the proxy's API",
        site.hub.hub_port: "the hub",
    }
    if site.profile == "local":  # the docker profile's airlock runs in its own container
        ports[site.airlock.port] = "the airlock"
    if site.discovery.enabled:
        ports[site.discovery.port] = "the node's own Beacon"
    g = site.gateway
    if g.enabled and not g.url:  # the hub runs dask-gateway
        ports.update(
            {
                g.port: "dask-gateway",
                g.scheduler_port: "dask-gateway's scheduler proxy",
                g.api_port: "dask-gateway's API",
            }
        )
    return ports


def command_line(p: psutil.Process, limit: int = 160) -> str:
    try:
        text = " ".join(p.cmdline()) or p.name()
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        text = "?"
    return text if len(text) <= limit else text[: limit - 3] + "..."


# -- the record ---------------------------------------------------------------------------------
def write_record(state: Path, processes: Iterable[psutil.Process]) -> None:
    """Replace the record with ``processes`` (atomically; owner-only like the state dir)."""
    entries = []
    for p in processes:
        with contextlib.suppress(psutil.Error):
            entries.append({"pid": p.pid, "started": p.create_time(), "command": command_line(p)})
    path = state / RECORD_FILE
    tmp = path.with_name(f".{RECORD_FILE}.tmp")
    tmp.write_text(json.dumps({"processes": entries}, indent=1))
    tmp.chmod(0o600)
    os.replace(tmp, path)


def remove_record(state: Path) -> None:
    (state / RECORD_FILE).unlink(missing_ok=True)


def recorded_processes(state: Path) -> list[psutil.Process]:
    """The recorded processes and JupyterHub's pid files' that still run (same process, not a
    reused pid)."""
    found: dict[int, psutil.Process] = {}
    with contextlib.suppress(FileNotFoundError, ValueError, KeyError, TypeError):
        for entry in json.loads((state / RECORD_FILE).read_text())["processes"]:
            with contextlib.suppress(psutil.Error):
                p = psutil.Process(int(entry["pid"]))
                if abs(p.create_time() - float(entry["started"])) < 0.05:
                    found[p.pid] = p
    for name, program in HUB_PID_FILES.items():
        path = state / name
        with contextlib.suppress(FileNotFoundError, ValueError, psutil.Error):
            p = psutil.Process(int(path.read_text().strip()))
            written = path.stat().st_mtime
            if program in " ".join(p.cmdline()) and p.create_time() <= written + 1:
                found[p.pid] = p
    return list(found.values())


# -- what holds the ports -----------------------------------------------------------------------
def listeners(ports: Iterable[int]) -> dict[int, int | None]:
    """Port -> pid of the process listening on it (None: another user's, not visible)."""
    wanted = set(ports)
    return {
        c.laddr.port: c.pid
        for c in psutil.net_connections(kind="inet")
        if c.status == psutil.CONN_LISTEN and c.laddr.port in wanted
    }


@dataclass
class Stale:
    """A previous node's processes that still run, and ports held by processes not the node's."""

    site: SiteConfig
    processes: list[psutil.Process] = field(default_factory=list)
    ports: dict[int, list[int]] = field(default_factory=dict)  # pid -> the node ports it holds
    foreign: dict[int, int | None] = field(default_factory=dict)  # port -> pid

    def __bool__(self) -> bool:
        return bool(self.processes or self.foreign)

    def _ports_text(self, ports: Iterable[int]) -> str:
        names = node_ports(self.site)
        return ", ".join(f"{port} ({names[port]})" for port in sorted(ports))

    def describe(self) -> str:
        """The refusal: each process with pid, command and ports; what to do."""
        lines = []
        if self.processes:
            lines.append(
                "processes of an earlier start of this node still run (state directory "
                f"{self.site.state_path}; if the node runs in another terminal, Ctrl-C there):"
            )
            for p in self.processes:
                held = self.ports.get(p.pid)
                where = f"\n      holds port {self._ports_text(held)}" if held else ""
                lines.append(f"  pid {p.pid}  {command_line(p)}{where}")
            lines.append("Stop them with:  tresor node start --stop-stale")
        for port, pid in sorted(self.foreign.items()):
            who = "a process this user cannot see"
            if pid is not None:
                with contextlib.suppress(psutil.Error):
                    who = f"pid {pid} ({command_line(psutil.Process(pid))})"
            lines.append(
                f"port {self._ports_text([port])} is in use by {who}, which this node did not "
                "start: stop it, or give the node other ports in the site config "
                f"({self.site.source or 'config/site.local.toml'})"
            )
        return "\n".join(lines)


def find_stale(site: SiteConfig) -> Stale:
    """What a previous start of this node left running, and who else holds its ports."""
    stale = Stale(site, processes=recorded_processes(site.state_path))
    ours = {p.pid for p in stale.processes}
    for port, pid in listeners(node_ports(site)).items():
        if pid in ours:
            stale.ports.setdefault(pid, []).append(port)
        else:
            stale.foreign[port] = pid
    return stale


# -- stopping -----------------------------------------------------------------------------------
def stop(processes: Iterable[psutil.Process], *, term_seconds: float = 3.0) -> list[psutil.Process]:
    """SIGTERM, then SIGKILL whatever still runs after ``term_seconds``. Returns those that
    could not be stopped (another user's)."""
    processes = list(processes)
    for p in processes:
        with contextlib.suppress(psutil.NoSuchProcess, psutil.AccessDenied):
            p.terminate()  # psutil checks the pid is still this process
    _gone, alive = psutil.wait_procs(processes, timeout=term_seconds)
    for p in alive:
        with contextlib.suppress(psutil.NoSuchProcess, psutil.AccessDenied):
            p.kill()
    _gone, alive = psutil.wait_procs(alive, timeout=3)
    return alive


def wait_ports_free(ports: Iterable[int], timeout: float = 10) -> dict[int, int | None]:
    """Wait until nothing listens on ``ports``; returns what still does."""
    ports = set(ports)
    deadline = time.monotonic() + timeout
    while (held := listeners(ports)) and time.monotonic() < deadline:
        time.sleep(0.2)
    return held
