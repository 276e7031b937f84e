"""The embedded node started as root keeps researchers apart as production does: each server runs
as the researcher's own account, grants are file permissions, the node's secrets are out of
reach, and researchers' accounts reach nothing but the node's services.

On the session's node (started as root in a directory every account can enter, as
/var/lib/tresor is); every probe runs in a real kernel of a real server, as an attacker with a
researcher's login would.
"""

from __future__ import annotations

import json
import os
import socket
import textwrap
import threading
import time

import httpx
import psutil
import pytest

from tests.hub.node import LocalNode
from tresor.core.catalogue import load_catalogue
from tresor.ingest import grant, revoke
from tresor.node import isolation
from tresor.node.accounts_os import airlock_account, user_account

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(os.geteuid() != 0, reason="isolation needs the node started as root"),
]


@pytest.fixture(scope="module")
def node(local_node):
    """The session's node (tests/conftest.py), which the tests, run as root, start isolated."""
    assert isolation.active(local_node.site), isolation.assess(local_node.site).reasons
    return local_node


def run(node: LocalNode, user: str, code: str) -> dict:
    """Run ``code`` in a new kernel of ``user``'s server; it prints one JSON object."""
    node.start_server(user)
    try:
        out = node.run_in_kernel(user, node.user_token(user), textwrap.dedent(code))
    except httpx.HTTPStatusError as e:
        raise AssertionError(node.log_tail(80)) from e
    assert out["error"] is None, (out, node.log_tail())
    return json.loads(out["stdout"].strip().splitlines()[-1])


PROBE = """
import json, os, socket

def can(action, *args):
    try:
        action(*args)
        return True
    except OSError:
        return False

def read(path):
    with open(path, "rb") as f:
        f.read(1)

def write(directory):
    with open(os.path.join(directory, "planted"), "w") as f:
        f.write("x")

def connect(host, port):
    with socket.create_connection((host, port), timeout=3):
        pass
"""


def listening(host: str, port: int = 0) -> socket.socket:
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((host, port))
    s.listen()
    return s


def account_pids(node: LocalNode, user: str) -> list[int]:
    name = user_account(node.site.node_name, user)
    return [p.pid for p in psutil.process_iter(["username"]) if p.info["username"] == name]


def test_researcher2_kernel_cannot_reach_what_is_not_theirs(node):
    site = node.site
    catalogue = load_catalogue(site.catalogue_path)
    dk, uk = catalogue["dk"], catalogue["uk"]
    run(node, "researcher1", "print('{}')")  # researcher1's server runs, with a workspace
    victim = account_pids(node, "researcher1")
    assert victim
    state = site.state_path
    private = [
        *(p for p in (state / "secrets").rglob("*") if p.is_file()),
        state / "jupyterhub.sqlite",
        *(p for p in (state / "airlock").rglob("*") if p.is_file()),
        *(p for p in (state / "users" / "researcher1").rglob("*") if p.is_file()),
    ]
    assert any(p.name == "airlock_signing_key.pem" for p in private)
    assert any(p.name == "airlock.sqlite" for p in private)
    outside = listening("127.0.0.2")
    well_known = listening("127.0.0.1", 0)
    low = None
    for port in range(20000, 20100):  # a loopback service outside the ephemeral range
        try:
            low = listening("127.0.0.1", port)
            break
        except OSError:
            continue
    assert low is not None
    well_known.close()
    try:
        found = run(
            node,
            "researcher2",
            PROBE
            + f"""
targets = {{
    "dk store": can(os.listdir, {str(dk.store)!r}),
    "dk zarr metadata": can(read, {str(dk.store / "zarr.json")!r})
        or can(read, {str(dk.store / ".zmetadata")!r}),
    "dk phenotypes": can(read, {str(dk.phenotypes["pheno"])!r}),
    "dk vcf": can(read, {str(dk.store.parent / "dk.vcf.gz")!r}),
    "researcher1 workspace list": can(os.listdir, {str(site.workspaces_path / "researcher1")!r}),
    "researcher1 workspace write": can(write, {str(site.workspaces_path / "researcher1")!r}),
    "researcher1 environ": any(can(read, f"/proc/{{pid}}/environ") for pid in {victim!r}),
    "private files": [p for p in {[str(p) for p in private]!r} if can(read, p)],
    "write uk store": can(write, {str(uk.store)!r}),
    "write dk store": can(write, {str(dk.store)!r}),
    "127.0.0.2": can(connect, "127.0.0.2", {outside.getsockname()[1]}),
    "loopback service": can(connect, "127.0.0.1", {low.getsockname()[1]}),
    "the hub": can(connect, "127.0.0.1", {site.hub.hub_port}),
    "the airlock": can(connect, "127.0.0.1", {site.airlock.port}),
    "uk (granted)": can(os.listdir, {str(uk.store)!r}),
    "own workspace write": can(write, "."),
    "uid": os.getuid(),
}}
print(json.dumps(targets))
""",
        )
    finally:
        outside.close()
        low.close()
    assert found.pop("uid") == psutil.Process(account_pids(node, "researcher2")[0]).uids().real
    assert found == {
        "dk store": False,
        "dk zarr metadata": False,
        "dk phenotypes": False,
        "dk vcf": False,
        "researcher1 workspace list": False,
        "researcher1 workspace write": False,
        "researcher1 environ": False,
        "private files": [],
        "write uk store": False,
        "write dk store": False,
        "127.0.0.2": False,
        "loopback service": False,
        "the hub": True,
        "the airlock": True,
        "uk (granted)": True,
        "own workspace write": True,
    }
    # root can reach what the firewall keeps from researcher2 (the probe itself is sound)
    with socket.create_connection(("127.0.0.1", site.hub.hub_port), timeout=3):
        pass


def test_researcher1_opens_dk_in_the_kernel_and_in_a_local_cluster(node):
    found = run(
        node,
        "researcher1",
        """
import json, tresor
from dask.distributed import Client, LocalCluster
ds = tresor.open_dataset("dk")
here = int(ds.call_genotype.sum().compute(scheduler="synchronous"))
with LocalCluster(n_workers=1, threads_per_worker=1, processes=True) as cluster, Client(cluster):
    there = int(ds.call_genotype.sum().compute())
    address = cluster.scheduler_address
import ipykernel  # the kernel talks to its server over Unix sockets, not loopback ports
with open(ipykernel.get_connection_file()) as f:
    transport = json.load(f)["transport"]
print(json.dumps({"here": here, "there": there, "address": address, "transport": transport}))
""",
    )
    assert found["here"] == found["there"] > 0
    assert found["address"].startswith("tls://")  # only researcher1's certificate gets in
    assert found["transport"] == "ipc"


def test_researcher2_cannot_use_researcher1s_local_cluster(node):
    """A LocalCluster researcher1 left running listens on loopback, which researcher2 may
    reach; its TLS wants researcher1's own certificate, so researcher2's client gets nowhere."""
    workspace = node.site.workspaces_path / "researcher1"
    address_file, done_file = workspace / ".cluster-address", workspace / ".cluster-done"
    for path in (address_file, done_file):
        path.unlink(missing_ok=True)
    hold = f"""
import pathlib, time
from dask.distributed import LocalCluster
with LocalCluster(n_workers=1, threads_per_worker=1, processes=True) as cluster:
    pathlib.Path({str(address_file)!r}).write_text(cluster.scheduler_address)
    deadline = time.monotonic() + 150
    while not pathlib.Path({str(done_file)!r}).exists() and time.monotonic() < deadline:
        time.sleep(0.5)
print("{{}}")
"""
    holder = threading.Thread(target=run, args=(node, "researcher1", hold), daemon=True)
    holder.start()
    try:
        deadline = time.monotonic() + 120
        while not address_file.exists() and time.monotonic() < deadline:
            time.sleep(0.5)
        address = address_file.read_text()
        host, port = address.split("://")[1].rsplit(":", 1)
        found = run(
            node,
            "researcher2",
            PROBE
            + f"""
from distributed import Client

def client(address):
    try:
        Client(address, timeout=15).close()
        return "connected"
    except Exception as e:
        return f"{{type(e).__name__}}: {{e}}"[:300]

print(json.dumps({{
    "port": can(connect, {host!r}, {int(port)}),
    "client": client({address!r}),
    "plain tcp": client({address.replace("tls://", "tcp://")!r}),
}}))
""",
        )
    finally:
        done_file.touch()
        holder.join(180)
    assert found["port"] is True  # the firewall lets loopback ephemeral ports through
    assert found["client"].startswith("FatalCommClosedError: TLS certificate does not match")
    assert found["plain tcp"].startswith("RuntimeError: encryption required")


def test_grant_counts_from_the_next_start_and_revocation_stops_the_server(node):
    site = node.site
    dk = load_catalogue(site.catalogue_path)["dk"]
    code = PROBE + f"print(json.dumps({{'dk': can(os.listdir, {str(dk.store)!r})}}))"
    assert run(node, "researcher2", code) == {"dk": False}
    grant(site, "dk", ["uk-study"])
    try:
        assert run(node, "researcher2", code) == {"dk": False}  # the running server: not yet
        node.stop_server("researcher2")
        assert run(node, "researcher2", code) == {"dk": True}
    finally:
        revoke(site, "dk", ["uk-study"])
    # the revocation stopped every process of researcher2's account
    deadline = time.monotonic() + 30
    while account_pids(node, "researcher2") and time.monotonic() < deadline:
        time.sleep(0.5)
    assert account_pids(node, "researcher2") == []
    wait_stopped(node, "researcher2")
    assert run(node, "researcher2", code) == {"dk": False}


def wait_stopped(node: LocalNode, user: str) -> None:
    """Until the hub has noticed the server is gone (it polls), or stops it itself."""
    r = node.api("DELETE", f"/users/{user}/server")
    assert r.status_code in (202, 204, 400), r.text
    deadline = time.monotonic() + 60
    while node.api("GET", f"/users/{user}").json().get("servers") and time.monotonic() < deadline:
        time.sleep(0.5)


def test_services_run_as_their_accounts_and_the_state_directory_is_closed(node):
    site = node.site
    key = httpx.get(site.public_url + "services/airlock/api/public-key", timeout=10)
    assert key.status_code == 200
    under_hub = [psutil.Process(pid) for pid in node.descendant_pids()]
    airlock = [p for p in under_hub if p.cmdline()[-4:-2] == ["airlock", "serve"]]
    assert {p.username() for p in airlock} == {airlock_account(site.node_name)}
    state = site.state_path
    assert (state / "secrets").stat().st_mode & 0o007 == 0
    assert (state / "airlock").stat().st_mode & 0o077 == 0
    workspace = (state / "workspaces" / "researcher1").stat()
    assert workspace.st_mode & 0o007 == 0 and workspace.st_mode & 0o020 == 0
