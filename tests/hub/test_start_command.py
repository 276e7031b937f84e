"""The README's first command: it brings up the node, prints the logins, and Ctrl-C stops
every process it started (hub, proxy, services and spawned servers)."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import time

import httpx
import psutil
import pytest

from tests.hub.node import write_site_config
from tresor.core.paths import REPO_ROOT
from tresor.core.site import load_site_config

pytestmark = pytest.mark.slow


def wait_for(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := predicate():
            return value
        time.sleep(0.5)
    raise TimeoutError(what)


def test_local_node_command__logins_then_ctrl_c_stops_everything(tmp_path):
    site = load_site_config(write_site_config(tmp_path, demo_samples=30))
    env = dict(os.environ, TRESOR_SITE_CONFIG=str(site.source))
    out = tmp_path / "out.log"
    with open(out, "wb") as log:
        proc = subprocess.Popen(
            ["bash", str(REPO_ROOT / "scripts" / "local-node.sh")],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:

        def hub_up():
            assert proc.poll() is None, out.read_text()
            try:
                return httpx.get(site.public_url + "hub/api/", timeout=2).status_code == 200
            except httpx.TransportError:
                return False

        wait_for(hub_up, 180, "hub did not come up")
        text = out.read_text()
        assert site.public_url in text
        passwords = dict(re.findall(r"^\s+(\w+)\s+password (\S+)", text, re.M))
        assert set(passwords) == set(site.accounts.all_users)
        assert len(set(passwords.values())) == len(passwords)  # generated, all different

        # log in and spawn a server the way a browser does
        with httpx.Client(base_url=site.public_url, follow_redirects=True, timeout=60) as web:
            web.get("hub/login")
            web.post(
                "hub/login",
                data={
                    "username": "researcher1",
                    "password": passwords["researcher1"],
                    "_xsrf": web.cookies.get("_xsrf"),
                },
            )
            web.get("hub/spawn")

        def command_lines(processes) -> str:
            lines = []
            for p in processes:
                try:
                    lines.append(" ".join(p.cmdline()))
                except psutil.ZombieProcess:
                    lines.append(f"<zombie {p.pid}>")
                except psutil.NoSuchProcess:
                    pass
            return "\n".join(lines)

        def server_running():
            return "jupyterhub.singleuser" in command_lines(psutil.Process(proc.pid).children(True))

        wait_for(server_running, 120, "single-user server did not start")
        started = psutil.Process(proc.pid).children(recursive=True)
        commands = command_lines(started)
        assert "zombie" not in commands, commands
        for part in (
            "configurable-http-proxy",
            "-m airlock",
            "jupyterhub_idle_culler",
            "jupyterhub.singleuser",
        ):
            assert part in commands

        proc.send_signal(signal.SIGINT)  # Ctrl-C
        proc.wait(60)
        _gone, alive = psutil.wait_procs(started, timeout=15)
        assert alive == [], [p.cmdline() for p in alive]
    finally:
        if proc.poll() is None:  # the test failed: leave nothing behind
            leftovers = psutil.Process(proc.pid).children(recursive=True)
            os.killpg(proc.pid, signal.SIGKILL)
            for p in leftovers:  # the proxy and services run in sessions of their own
                with contextlib.suppress(psutil.NoSuchProcess):
                    p.kill()
