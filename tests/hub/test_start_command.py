"""The README's first command over a node's life: it brings up the node and prints the logins;
Ctrl-C stops every process it started (hub, proxy, services, spawned servers) within 10 s and
frees every port; the node starts again from any working directory; the hub brings a killed
airlock back, which finishes an interrupted release; a node killed outright leaves processes
that the next start names and refuses, and ``--stop-stale`` stops; the same as an ordinary user.

One scenario per user, to start as few nodes as possible.
"""

from __future__ import annotations

import hashlib
import os
import pwd
import re
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import httpx
import psutil
import pytest

from tests.hub.node import NodeCommand, command_line, node_ports, port_free, write_site_config
from tresor.core.paths import REPO_ROOT
from tresor.core.site import SiteConfig, load_site_config
from tresor.node import terms
from tresor.node.processes import listeners

pytestmark = pytest.mark.slow

LOCAL_NODE = ["bash", str(REPO_ROOT / "scripts" / "local-node.sh")]
TRESOR = str(REPO_ROOT / ".venv" / "bin" / "tresor")
#: Ctrl-C stops everything within this many seconds (the README's promise)
STOP_SECONDS = 10
#: what a release needs: a file the node's real checks pass
RESULT = b"variant,ALT_CT\n1:1:A:G,40\n"


def wait_for(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := predicate():
            return value
        time.sleep(0.5)
    raise TimeoutError(what)


def shadowing_folders(*directories: Path) -> None:
    """Folders named like the packages the node runs, where a working directory on ``sys.path``
    would import them instead (the airlock's own store directory is one)."""
    for directory in directories:
        for package in ("airlock/store", "tresor/core", "jupyterhub_idle_culler"):
            (directory / package).mkdir(parents=True, exist_ok=True)


def stop_and_check(node: NodeCommand, *, twice: bool = False) -> float:
    """Ctrl-C (twice: a second one a second later): within STOP_SECONDS every process the
    command started is gone and every port of the node is free."""
    started = node.processes()
    assert len(started) > 3, [command_line(p) for p in started]
    sent = time.monotonic()
    node.ctrl_c()
    if twice:
        time.sleep(1)
        node.ctrl_c()
    _gone, alive = psutil.wait_procs(started, timeout=STOP_SECONDS)
    took = time.monotonic() - sent
    assert alive == [], (took, [command_line(p) for p in alive], node.output()[-4000:])
    assert node.process.wait(1) is not None
    assert [p for p in node_ports(node.site) if not port_free(p)] == []
    return took


def interrupted_release(site: SiteConfig) -> str:
    """A request approved by two reviewers whose release was cut short: the process that made
    the final approval died right after committing it, before writing the bundle.

    Made with the airlock's own workflow objects on the node's database, as the service makes
    it; the death is a BaseException, which no handler in the workflow catches.
    """
    from airlock.app import build_airlock
    from airlock.config import Settings
    from airlock.domain import User
    from airlock.enums import Decision, RequestStatus

    class Died(BaseException):
        pass

    def user(name: str) -> User:
        return User(name, frozenset(g for g, m in site.hub_groups.items() if name in m))

    airlock = build_airlock(Settings.from_site(site))
    try:
        workspace = site.workspaces_path / "researcher1"
        workspace.mkdir(mode=0o700, parents=True, exist_ok=True)
        (workspace / "freq.csv").write_bytes(RESULT)
        researcher = user("researcher1")
        request = airlock.create_request(researcher, "nordic-gwas")
        airlock.add_file(
            researcher,
            request.id,
            path="freq.csv",
            description="counts",
            disclosure_control=">= 10",
        )
        airlock.submit(researcher, request.id)
        airlock.decide(user("reviewer1"), request.id, Decision.APPROVE)

        def die(*args, **kwargs):
            raise Died

        airlock.release = die
        with pytest.raises(Died):
            airlock.decide(user("reviewer2"), request.id, Decision.APPROVE)
        assert airlock.get_request(user("reviewer1"), request.id).status == RequestStatus.APPROVED
        assert not (airlock.settings.outbox_dir / f"{site.node_name}-{request.id}").exists()
        return request.id
    finally:
        airlock.dal.engine.dispose()


def released_bundle(site: SiteConfig, request_id: str) -> Path:
    """The request's bundle, after checking that the request is released and the bundle
    verifies with the public key the airlock serves through the proxy."""
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    from airlock import bundles
    from airlock.app import build_airlock
    from airlock.config import Settings
    from airlock.domain import User
    from airlock.enums import RequestStatus

    pem = httpx.get(site.public_url + "services/airlock/api/public-key", timeout=10)
    airlock = build_airlock(Settings.from_site(site))
    try:
        request = airlock.get_request(
            User("reviewer1", frozenset({"airlock-reviewers"})), request_id
        )
        assert request.status == RequestStatus.RELEASED
        bundle = airlock.bundle_path(request)
    finally:
        airlock.dal.engine.dispose()
    report = bundles.verify_bundle(bundle, load_pem_public_key(pem.content))
    assert report.ok, report.problems
    assert (bundle / "files" / "freq.csv").read_bytes() == RESULT
    return bundle


def login_and_spawn(node: NodeCommand, password: str) -> None:
    """researcher1 logs in and starts a server the way a browser does."""
    with httpx.Client(base_url=node.site.public_url, follow_redirects=True, timeout=60) as web:
        web.get("hub/login")
        web.post(
            "hub/login",
            data={
                "username": "researcher1",
                "password": password,
                "_xsrf": web.cookies.get("_xsrf"),
            },
        )
        form = web.get("hub/spawn")
        if f'name="{terms.FIELD}"' in form.text:  # first login: the data use terms' checkbox
            version = re.search(rf'name="{terms.FIELD}" value="([^"]+)"', form.text).group(1)
            web.post(
                str(form.url),
                data={terms.FIELD: version, "_xsrf": web.cookies.get("_xsrf")},
            )
    wait_for(
        lambda: any("jupyterhub.singleuser" in command_line(p) for p in node.processes()),
        120,
        "single-user server did not start",
    )


def test_node_life__ctrl_c_restart_elsewhere_airlock_crash_stale_processes(tmp_path):
    site = load_site_config(write_site_config(tmp_path, demo_samples=30))
    elsewhere = tmp_path / "elsewhere"
    shadowing_folders(elsewhere)
    nodes: list[NodeCommand] = []

    def command(name: str) -> NodeCommand:
        nodes.append(NodeCommand(site, tmp_path / f"{name}.log"))
        return nodes[-1]

    try:
        # -- first start, with the README's command: logins shown once, a server spawned -----
        first = command("first").start(LOCAL_NODE, cwd=elsewhere)
        first.wait_up()
        text = first.output()
        assert site.public_url in text
        passwords = dict(re.findall(r"^\s+(\w+)\s+password (\S+)", text, re.M))
        assert set(passwords) == set(site.accounts.all_users)
        assert len(set(passwords.values())) == len(passwords)  # generated, all different
        login_and_spawn(first, passwords["researcher1"])
        commands = "\n".join(command_line(p) for p in first.processes())
        assert "zombie" not in commands, commands
        for part in ("configurable-http-proxy", "-m airlock", "idle_culler", "singleuser"):
            assert part in commands
        stop_and_check(first)

        # -- second start, from a directory whose folders are named like the node's packages,
        # with the state directory holding such folders too (the airlock's store is one)
        assert (site.state_path / "airlock" / "store").is_dir()
        shadowing_folders(site.state_path)
        second = command("second").start([TRESOR, "node", "start"], cwd=elsewhere)
        second.wait_up()

        # -- the airlock killed while the hub runs comes back and finishes the release --------
        request_id = interrupted_release(site)
        killed = second.find("-m airlock")
        killed.kill()
        # JupyterHub polls its managed services every 30 s and starts a stopped one again
        wait_for(
            lambda: second.serves() and second.find("-m airlock").pid != killed.pid,
            90,
            f"the airlock did not come back:\n{second.output()[-4000:]}",
        )
        released_bundle(site, request_id)
        assert f"recovery: released {request_id}" in second.output()

        # -- the node killed outright: its processes hold the ports; the next start refuses
        # naming them, and --stop-stale stops them and starts -------------------------------
        os.kill(second.process.pid, signal.SIGKILL)
        second.process.wait(10)
        stale = [p for p in second.seen.values() if p.is_running() and p.pid != second.process.pid]
        held = listeners(node_ports(site))
        assert set(held) == node_ports(site)  # what the next start trips on: the hub runs on
        assert set(held.values()) <= {p.pid for p in stale}
        refused = command("refused").start([TRESOR, "node", "start"], cwd=elsewhere)
        assert refused.wait_exit(60) != 0
        message = refused.output()
        for port, pid in held.items():
            assert str(port) in message and f"pid {pid}" in message, message
        assert "--stop-stale" in message, message
        assert all(p.is_running() for p in stale)  # refused, touched nothing
        assert "Starting managed service" not in message  # refused before starting anything

        third = command("third").start([TRESOR, "node", "start", "--stop-stale"], cwd=elsewhere)
        third.wait_up()
        assert not [p for p in stale if p.is_running()], [
            (p.pid, p.status(), command_line(p)) for p in stale if p.is_running()
        ]
        for p in stale:
            assert f"pid {p.pid}" in third.output()  # says what it stopped
        # a second Ctrl-C does not wait for the orderly stop, which a frozen airlock holds up
        third.find("-m airlock").suspend()
        took = stop_and_check(third, twice=True)
        assert took < 1 + 4, took
    finally:
        for node in nodes:
            node.kill_all()


def ordinary_user() -> dict:
    """Popen arguments that run a command as an ordinary user (``nobody`` when the tests run
    as root, else the tests' own user)."""
    if os.geteuid() != 0:
        return {}
    entry = pwd.getpwnam("nobody")
    return {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": []}


def can_run(python: Path, as_user: dict) -> bool:
    try:
        probe = subprocess.run(
            [str(python), "-c", "import tresor.node.start, airlock, jupyterhub"],
            cwd="/",
            capture_output=True,
            check=False,
            **as_user,
        )
    except OSError:  # e.g. the interpreter lives under a directory only root may enter
        return False
    return probe.returncode == 0


def readable_runtime(as_user: dict, into: Path) -> Path:
    """A checkout with its runtime that ``as_user`` can read and execute, as README says a node
    run by an ordinary user needs: this one if it is (an ordinary user's own checkout), else a
    copy of its files with a venv made from Debian's python3.11 and exactly constraints.txt (CI
    clones into a directory only root may enter, with a venv on root's pyenv Python)."""
    if not as_user or can_run(REPO_ROOT / ".venv" / "bin" / "python", as_user):
        return REPO_ROOT
    root = into / "tresor"
    listed = subprocess.run(
        ["git", "ls-files", "-z"], cwd=REPO_ROOT, capture_output=True, check=True
    ).stdout.split(b"\0")
    for name in filter(None, (n.decode() for n in listed)):
        if (REPO_ROOT / name).is_file():
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO_ROOT / name, root / name)
    shutil.copytree(REPO_ROOT / "node_modules", root / "node_modules", symlinks=True)
    uv = str(REPO_ROOT / ".venv" / "bin" / "uv")
    python = root / ".venv" / "bin" / "python"
    subprocess.run(
        [uv, "venv", "-q", "--python", "/usr/bin/python3.11", str(python.parent.parent)], check=True
    )
    for args in (["-r", "constraints.txt"], ["--no-deps", "-e", "."]):
        subprocess.run(
            [uv, "pip", "install", "-q", "--compile-bytecode", "--python", str(python), *args],
            cwd=root,
            check=True,
        )
    # what scripts/bootstrap.sh records, so that local-node.sh finds the venv current
    lock = (root / "constraints.txt").read_bytes() + (root / "pyproject.toml").read_bytes()
    (root / ".venv" / ".tresor-lock-sha256").write_text(hashlib.sha256(lock).hexdigest() + "\n")
    subprocess.run(["chmod", "-R", "a+rX", str(into)], check=True)
    assert can_run(python, as_user), f"{as_user} cannot run the runtime in {root}"
    return root


def test_node_life__ordinary_user_start_stop_start():
    """As an ordinary user: start, Ctrl-C (a frozen airlock does not hold the stop up beyond
    10 s), start again from another directory, Ctrl-C; a start that fails half-way."""
    as_user = ordinary_user()
    home = Path(tempfile.mkdtemp(prefix="tresor-user-"))  # pytest's tmp_path is root's only
    copies = Path(tempfile.mkdtemp(prefix="tresor-runtime-"))
    try:
        os.chmod(copies, 0o755)
        runtime = readable_runtime(as_user, copies)
        local_node = ["bash", str(runtime / "scripts" / "local-node.sh")]
        tresor = str(runtime / ".venv" / "bin" / "tresor")
        site = load_site_config(write_site_config(home, demo=False))
        elsewhere = home / "elsewhere"
        shadowing_folders(elsewhere)
        if as_user:
            for path in (home, *home.rglob("*")):
                os.chown(path, as_user["user"], as_user["group"])
        env = {"PATH": os.environ["PATH"], "HOME": str(home), "LANG": "C.UTF-8"}
        nodes = []
        try:
            nodes.append(NodeCommand(site, home / "first.log"))
            nodes[-1].start(local_node, cwd=elsewhere, env=dict(env), **as_user).wait_up()
            if as_user:
                assert {p.uids().real for p in nodes[-1].processes()} == {as_user["user"]}
            # it cannot isolate researchers, and says so loudly (tresor.node.isolation.warning)
            said = nodes[-1].output()
            assert "researchers are NOT isolated" in said, said[-3000:]
            assert "not started as root" in said and "every dataset" in said
            nodes[-1].find("-m airlock").suspend()
            stop_and_check(nodes[-1])
            shadowing_folders(site.state_path)
            nodes.append(NodeCommand(site, home / "second.log"))
            nodes[-1].start([tresor, "node", "start"], cwd=elsewhere, env=dict(env), **as_user)
            nodes[-1].wait_up()
            stop_and_check(nodes[-1])

            # a start that fails half-way (the airlock cannot start, so the hub exits) leaves
            # no proxy or service behind on the node's ports
            outbox = site.state_path / "airlock" / "outbox"
            shutil.rmtree(outbox)
            outbox.write_text("not a directory")
            nodes.append(NodeCommand(site, home / "failed.log"))
            nodes[-1].start([tresor, "node", "start"], cwd=elsewhere, env=dict(env), **as_user)
            assert nodes[-1].wait_exit(120) != 0
            assert "the hub exited with status 1" in nodes[-1].output()
            assert "configurable-http-proxy" in " ".join(nodes[-1].commands.values())
            assert [p for p in nodes[-1].seen.values() if p.is_running()] == []
            assert [p for p in node_ports(site) if not port_free(p)] == []
        finally:
            for node in nodes:
                node.kill_all()
    finally:
        shutil.rmtree(home, ignore_errors=True)
        shutil.rmtree(copies, ignore_errors=True)
