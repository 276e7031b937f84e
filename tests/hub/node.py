"""A real local tresor node for tests: JupyterHub + configurable-http-proxy on loopback.

Started from the repository's jupyterhub_config.py (through jupyterhub_test_config.py, which adds
one admin service token for the tests), with a temporary state directory, free ports and small
demo cohorts prepared by the same code as `tresor node start`.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psutil

from tresor.core.paths import REPO_ROOT
from tresor.core.site import SiteConfig, load_site_config
from tresor.demo import ensure_demo_cohorts
from tresor.node.processes import listeners, python_module
from tresor.node.start import guard_datasets, prepare

HERE = Path(__file__).resolve().parent


@contextlib.contextmanager
def open_directory(prefix: str):
    """A new directory every account may enter (not list), removed afterwards: started as
    root, a node in it isolates researchers with OS accounts, which pytest's root-only
    temporary directories would not let through (tresor.node.isolation.assess)."""
    path = Path(tempfile.mkdtemp(prefix=prefix))
    os.chmod(path, 0o711)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def write_site_config(
    directory: Path,
    *,
    demo_samples: int = 60,
    gateway: bool = False,
    demo: bool = True,
    discovery: bool = False,
) -> Path:
    """A site config like config/site.local.toml, with its own state dir, ports and small demo.

    ``gateway=True`` enables dask-gateway (local backend) on free ports; it looks for clusters of
    stopped servers every 2 s instead of 15 s, so tests of that rule wait briefly.
    ``demo=False``: no demo cohorts (a start that needs no data prepares faster).
    ``discovery=True``: the node's own Beacon on a free port.
    """
    text = (REPO_ROOT / "config" / "site.local.toml").read_text()
    base = {
        "port = 8000": f"port = {free_port()}",
        "hub_port = 8081": f"hub_port = {free_port()}",
        "proxy_api_port = 8001": f"proxy_api_port = {free_port()}",
        "port = 8090": f"port = {free_port()}",
        "samples_per_cohort = 300": f"samples_per_cohort = {demo_samples}",
        "contig_length = 2_000_000": "contig_length = 400_000",
    }
    if not demo:
        base["[demo]\nenabled = true"] = "[demo]\nenabled = false"
    for old, new in base.items():
        assert old in text, old
        text = text.replace(old, new)
    text = f'state_dir = "{directory / "state"}"\n' + text
    if gateway:
        text += (
            "\n[gateway]\nenabled = true\n"
            f"port = {free_port()}\nscheduler_port = {free_port()}\napi_port = {free_port()}\n"
            "server_check_seconds = 2\n"
        )
    if discovery:
        text += f"\n[discovery]\nenabled = true\nport = {free_port()}\n"
    path = directory / "site.toml"
    path.write_text(text)
    return path


@dataclass
class LocalNode:
    site: SiteConfig
    passwords: dict[str, str]
    admin_token: str
    process: subprocess.Popen | None = None
    log_path: Path | None = None
    _descendants: set[int] = field(default_factory=set)

    @property
    def url(self) -> str:
        return self.site.public_url

    @property
    def state_dir(self) -> Path:
        return self.site.state_path

    # -- lifecycle ------------------------------------------------------------------------
    @classmethod
    def create(
        cls, directory: Path, *, gateway: bool = False, discovery: bool = False
    ) -> LocalNode:
        site = load_site_config(write_site_config(directory, gateway=gateway, discovery=discovery))
        passwords = prepare(site)
        ensure_demo_cohorts(site, progress=lambda m: None)
        guard_datasets(site)  # as tresor node prepare does after the demo cohorts
        return cls(site=site, passwords=passwords, admin_token=secrets.token_hex(32))

    def start(self, timeout: float = 90, env: dict[str, str] | None = None) -> None:
        """Start the hub (``env``: more environment, e.g. a federation agent's proxy)."""
        env = {**os.environ, **(env or {})}
        env.update(
            TRESOR_SITE_CONFIG=str(self.site.source),
            TRESOR_REAL_HUB_CONFIG=str(REPO_ROOT / "jupyterhub_config.py"),
            TRESOR_TEST_ADMIN_TOKEN=self.admin_token,
        )
        self.log_path = self.state_dir / "jupyterhub-test.log"
        log = open(self.log_path, "wb")  # noqa: SIM115 - kept open for the hub's lifetime
        self.process = subprocess.Popen(
            python_module("jupyterhub", "-f", str(HERE / "jupyterhub_test_config.py")),
            cwd=self.state_dir,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"hub exited at start:\n{self.log_tail()}")
            try:
                if httpx.get(self.url + "hub/api/", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.3)
        raise TimeoutError(f"hub did not answer within {timeout}s:\n{self.log_tail()}")

    def stop(self) -> None:
        """Ctrl-C, as a person would; then make sure nothing the hub started survives."""
        if self.process is None:
            return
        pids = self.descendant_pids()
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()
        for pid in pids:
            with contextlib.suppress(psutil.NoSuchProcess):
                psutil.Process(pid).kill()
        self.process = None

    def descendant_pids(self) -> set[int]:
        try:
            return {p.pid for p in psutil.Process(self.process.pid).children(recursive=True)}
        except psutil.NoSuchProcess:
            return set()

    def log_tail(self, lines: int = 60) -> str:
        if not self.log_path or not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    # -- REST -------------------------------------------------------------------------------
    def api(self, method: str, path: str, token: str | None = None, **kw) -> httpx.Response:
        headers = {"Authorization": f"token {token or self.admin_token}"}
        return httpx.request(method, self.url + "hub/api" + path, headers=headers, timeout=60, **kw)

    def user_token(self, name: str) -> str:
        r = self.api("POST", f"/users/{name}/tokens", json={"note": "tresor tests"})
        r.raise_for_status()
        return r.json()["token"]

    def create_user(self, name: str, groups: list[str]) -> None:
        r = self.api("POST", f"/users/{name}")
        assert r.status_code in (201, 409), r.text
        for group in groups:
            self.api("POST", f"/groups/{group}/users", json={"users": [name]}).raise_for_status()

    def start_server(self, name: str, timeout: float = 120) -> None:
        """Start ``name``'s server through the REST API, accepting the node's data use terms
        for them (the start's ``user_options``), as the spawn page's checkbox would."""
        from tresor.node import terms

        accept = {terms.FIELD: terms.current(self.site).version}
        r = self.api("POST", f"/users/{name}/server", json=accept)
        if r.status_code not in (201, 202, 400):  # 400: already running
            raise RuntimeError(f"spawn failed ({r.status_code}): {r.text}\n{self.log_tail()}")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            model = self.api("GET", f"/users/{name}").json()
            server = model.get("servers", {}).get("")
            if server and server.get("ready"):
                return
            if not server and not model.get("pending"):
                raise RuntimeError(f"server of {name} did not start:\n{self.log_tail()}")
            time.sleep(0.5)
        raise TimeoutError(f"server of {name} not ready in {timeout}s:\n{self.log_tail()}")

    def forget_terms(self, *users: str) -> None:
        """As on their first day: ``users`` have no server and have accepted no terms."""
        from tresor.node import terms

        for user in users:
            if self.api("GET", f"/users/{user}").json().get("servers"):
                self.stop_server(user)
        store = self.state_dir / terms.STORE
        if store.exists():
            keep = [a for a in store.read_text().splitlines() if json.loads(a)["user"] not in users]
            store.write_text("".join(line + "\n" for line in keep))

    def stop_server(self, name: str) -> None:
        r = self.api("DELETE", f"/users/{name}/server")
        assert r.status_code in (202, 204), r.text
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if not self.api("GET", f"/users/{name}").json().get("servers"):
                return
            time.sleep(0.5)
        raise TimeoutError(f"server of {name} did not stop")

    # -- kernels, through the proxy -----------------------------------------------------------
    def run_in_kernel(self, user: str, token: str, code: str, kernel: str = "tresor") -> dict:
        """Run ``code`` in a new kernel of ``user``'s server over the kernel websocket.

        Returns {"stdout": str, "error": None | {"ename", "evalue"}}.
        """
        import websocket

        base = f"{self.url}user/{user}/api/kernels"
        headers = {"Authorization": f"token {token}"}
        r = httpx.post(base, headers=headers, json={"name": kernel}, timeout=60)
        r.raise_for_status()
        kernel_id = r.json()["id"]
        ws_url = base.replace("http://", "ws://") + f"/{kernel_id}/channels"
        ws = websocket.create_connection(
            ws_url, header=[f"Authorization: token {token}"], timeout=300
        )
        try:
            msg_id = uuid.uuid4().hex
            ws.send(
                json.dumps(
                    {
                        "header": {
                            "msg_id": msg_id,
                            "username": user,
                            "session": uuid.uuid4().hex,
                            "msg_type": "execute_request",
                            "version": "5.3",
                        },
                        "parent_header": {},
                        "metadata": {},
                        "channel": "shell",
                        "buffers": [],
                        "content": {
                            "code": code,
                            "silent": False,
                            "store_history": False,
                            "user_expressions": {},
                            "allow_stdin": False,
                            "stop_on_error": True,
                        },
                    }
                )
            )
            stdout, error, replied, idle = [], None, False, False
            while not (replied and idle):
                msg = json.loads(ws.recv())
                if msg.get("parent_header", {}).get("msg_id") != msg_id:
                    continue
                kind = msg["msg_type"]
                if kind == "stream" and msg["content"]["name"] == "stdout":
                    stdout.append(msg["content"]["text"])
                elif kind == "error":
                    error = {k: msg["content"][k] for k in ("ename", "evalue")}
                elif kind == "execute_reply":
                    replied = True
                elif kind == "status" and msg["content"]["execution_state"] == "idle":
                    idle = True
            return {"stdout": "".join(stdout), "error": error}
        finally:
            ws.close()
            httpx.delete(f"{base}/{kernel_id}", headers=headers, timeout=60)


def node_ports(site: SiteConfig) -> set[int]:
    """Every port a local node (without the gateway) listens on: proxy, proxy API, hub, airlock."""
    return {site.hub.port, site.hub.proxy_api_port, site.hub.hub_port, site.airlock.port}


def port_free(port: int) -> bool:
    """A new node could listen on ``port`` (as the hub and the proxy do: SO_REUSEADDR)."""
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


@dataclass
class NodeCommand:
    """``tresor node start`` (or scripts/local-node.sh) as a person runs it in a terminal: in a
    process group of its own, so :meth:`ctrl_c` delivers SIGINT to the group as a terminal does.

    Every process seen under it is remembered with its command line (:meth:`processes`), so a
    failed test can still stop the proxy and services, which run in sessions of their own.
    """

    site: SiteConfig
    log_path: Path
    process: subprocess.Popen | None = None
    seen: dict[int, psutil.Process] = field(default_factory=dict)
    commands: dict[int, str] = field(default_factory=dict)  # of the processes seen

    def start(self, argv: list[str], cwd: Path, **popen) -> NodeCommand:
        env = popen.pop("env", None) or dict(os.environ)
        env["TRESOR_SITE_CONFIG"] = str(self.site.source)
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                argv,
                cwd=cwd,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                **popen,
            )
        return self

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_up(self, timeout: float = 180) -> None:
        """Until the hub and the airlock answer through the proxy, from processes under this
        command (not an earlier node's) on every port of the node."""
        deadline = time.monotonic() + timeout
        ports = node_ports(self.site)
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the node exited at start:\n{self.output()[-6000:]}")
            held = listeners(ports)
            mine = {p.pid for p in self.processes()}
            if set(held) == ports and set(held.values()) <= mine and self.serves():
                return
            time.sleep(0.5)
        raise TimeoutError(f"the node did not come up in {timeout}s:\n{self.output()[-6000:]}")

    def wait_exit(self, timeout: float) -> int:
        """The command's exit status, noting the processes under it meanwhile."""
        deadline = time.monotonic() + timeout
        while self.process.poll() is None and time.monotonic() < deadline:
            self.processes()
            time.sleep(0.1)
        return self.process.wait(1)

    def serves(self) -> bool:
        """The hub's API and the airlock's public key answer through the proxy."""
        try:
            hub = httpx.get(self.site.public_url + "hub/api/", timeout=5)
            key = httpx.get(self.site.public_url + "services/airlock/api/public-key", timeout=5)
        except httpx.TransportError:
            return False
        return hub.status_code == 200 and key.status_code == 200

    def processes(self) -> list[psutil.Process]:
        """The command's process and its descendants now (and remembers them)."""
        try:
            root = psutil.Process(self.process.pid)
            found = [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            found = []
        for p in found:
            if p.pid not in self.seen:
                self.seen[p.pid] = p
                self.commands[p.pid] = command_line(p)
        return found

    def find(self, *parts: str) -> psutil.Process:
        """The one process under the command whose command line contains every part."""
        matches = [p for p in self.processes() if all(x in command_line(p) for x in parts)]
        assert len(matches) == 1, [command_line(p) for p in self.processes()]
        return matches[0]

    def ctrl_c(self) -> None:
        os.killpg(self.process.pid, signal.SIGINT)

    def kill_all(self) -> None:
        """Leave nothing behind (a failed test): every process ever seen under the command."""
        if self.process is None:
            return
        self.processes()
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signal.SIGKILL)
        for p in self.seen.values():
            with contextlib.suppress(psutil.NoSuchProcess):
                p.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(10)


def command_line(p: psutil.Process) -> str:
    try:
        return " ".join(p.cmdline())
    except psutil.ZombieProcess:
        return f"<zombie {p.pid}>"
    except psutil.NoSuchProcess:
        return ""
