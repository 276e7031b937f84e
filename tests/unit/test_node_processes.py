"""Finding what an earlier start of a node left running: only the same processes (never a
reused pid), named with their ports in the refusal, and only those stopped by --stop-stale."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time

import psutil
import pytest

from tests.hub.node import free_port
from tresor.core.errors import TresorError
from tresor.core.site import load_site_config
from tresor.node import processes
from tresor.node.start import clear_previous

#: a process that listens on the port given as its argument (argv[2] names it)
LISTENER = """
import socket, sys, time
s = socket.socket()
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen()
print("up", flush=True)
time.sleep(120)
"""


@pytest.fixture
def spawned(tmp_path):
    """Start helper processes; all are killed at the end."""
    started: list[subprocess.Popen] = []
    script = tmp_path / "listener.py"
    script.write_text(LISTENER)

    def spawn(port: int = 0, name: str = "helper") -> psutil.Process:
        p = subprocess.Popen(
            [sys.executable, str(script), str(port or free_port()), name],
            stdout=subprocess.PIPE,
            text=True,
        )
        started.append(p)
        assert p.stdout.readline() == "up\n"
        return psutil.Process(p.pid)

    yield spawn
    for p in started:
        with contextlib.suppress(ProcessLookupError):
            p.kill()
        p.wait()


@pytest.fixture
def site(tmp_path):
    path = tmp_path / "site.toml"
    path.write_text(
        f'state_dir = "{tmp_path / "state"}"\n'
        f"[hub]\nport = {free_port()}\nhub_port = {free_port()}\nproxy_api_port = {free_port()}\n"
        f"[airlock]\nport = {free_port()}\n"
    )
    site = load_site_config(path)
    site.state_path.mkdir(mode=0o700)
    return site


def test_recorded_processes__the_same_process_only(site, spawned):
    state = site.state_path
    recorded = spawned()
    processes.write_record(state, [recorded])
    assert [p.pid for p in processes.recorded_processes(state)] == [recorded.pid]
    # the pid now belongs to a process that started at another time: a reused pid
    entry = f'"started": {recorded.create_time()}'
    text = (state / processes.RECORD_FILE).read_text()
    assert entry in text
    shifted = text.replace(entry, f'"started": {recorded.create_time() - 60}')
    (state / processes.RECORD_FILE).write_text(shifted)
    assert processes.recorded_processes(state) == []

    # JupyterHub's pid files: the program they name, started before the file was written
    proxy = spawned(name="configurable-http-proxy")
    pid_file = state / "jupyterhub-proxy.pid"
    pid_file.write_text(str(proxy.pid))
    (state / "jupyterhub.pid").write_text(str(recorded.pid))  # not a jupyterhub
    assert [p.pid for p in processes.recorded_processes(state)] == [proxy.pid]
    before = proxy.create_time() - 60
    os.utime(pid_file, (before, before))  # the file is older than the process: another one
    assert processes.recorded_processes(state) == []


def test_clear_previous__names_them_and_stops_only_this_nodes(site, spawned):
    stale = spawned(site.hub.hub_port, name="stale-hub")
    processes.write_record(site.state_path, [stale])
    foreign = spawned(site.airlock.port, name="someone-else")

    with pytest.raises(TresorError) as refused:
        clear_previous(site, stop_stale=False)
    message = str(refused.value)
    assert f"pid {stale.pid}" in message and "stale-hub" in message
    assert f"holds port {site.hub.hub_port} (the hub)" in message
    assert "tresor node start --stop-stale" in message
    assert f"port {site.airlock.port} (the airlock) is in use by pid {foreign.pid}" in message
    assert "which this node did not start" in message
    assert stale.is_running() and foreign.is_running()  # refusing touches nothing

    said, command = [], processes.command_line(stale)
    with pytest.raises(TresorError) as still:
        clear_previous(site, stop_stale=True, echo=said.append)
    assert said == [f"stopping pid {stale.pid}  {command}"]
    assert not stale.is_running()
    assert foreign.is_running()  # never stops another program's process
    assert f"pid {stale.pid}" not in str(still.value)
    assert f"in use by pid {foreign.pid}" in str(still.value)

    foreign.kill()
    foreign.wait(10)
    deadline = time.monotonic() + 10
    while processes.listeners([site.airlock.port]) and time.monotonic() < deadline:
        time.sleep(0.1)
    clear_previous(site, stop_stale=False)  # nothing left: the node may start
