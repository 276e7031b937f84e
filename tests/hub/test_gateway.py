"""dask-gateway behind the hub, on the session's real local node (its gateway is enabled).

Two researchers of this module's own: dana (project nordic-gwas, may open dk) and erik
(uk-study). Tests run in file order: the last one stops dana's server.
"""

from __future__ import annotations

import json
import pwd
import re
import time

import httpx
import psutil
import pytest

from tests.hub.test_local_node import ALLELE_COUNTS, bcftools_counts
from tresor.core.catalogue import load_catalogue
from tresor.node import isolation
from tresor.node.accounts_os import user_account
from tresor.node.gateway import PREFIX, proxy_address

pytestmark = pytest.mark.slow

#: allele counts on 2 gateway workers, then what the workers are and may do
GATEWAY_KERNEL = (
    """
import httpx, os, psutil, zarr, tresor
client = tresor.cluster(workers=2)
client.wait_for_workers(2, timeout=300)
"""
    + ALLELE_COUNTS
    + """
graph = dict(ds.call_genotype.data.__dask_graph__())
source = next(v for k, v in graph.items() if str(k).startswith("original-"))

def write_through_store(source):
    a = source  # the dataset's array as the worker received it
    while not isinstance(a, zarr.Array):
        a = a._array if hasattr(a, "_array") else a.array
    try:
        a[0, 0, 0] = 1
    except Exception as e:
        return f"{type(e).__name__}: {e}"
    return "written"

def open_chunk_for_writing(store):
    chunk = next(os.path.join(d, f) for d, _, files in os.walk(os.path.join(store, "call_genotype"))
                 for f in files if not f.startswith("."))
    try:
        open(chunk, "r+b").close()
        opened = "allowed"
    except PermissionError:
        opened = "PermissionError"
    return {"euid": os.geteuid(), "write_bits": os.stat(chunk).st_mode & 0o222, "open": opened}

def lineage():
    return [[p.pid, " ".join(p.cmdline())] for p in psutil.Process().parents()]

print(json.dumps({
    "cluster": client.cluster.name,
    "workers": len(client.scheduler_info()["workers"]),
    "kernel_pid": os.getpid(),
    "worker_uids": sorted(set(client.run(os.getuid).values())),
    "lineage": list(client.run(lineage).values()),
    "write_through_store": client.submit(write_through_store, source, pure=False).result(),
    "chunk": client.submit(open_chunk_for_writing, ds.attrs["tresor_store_path"]).result(),
    "dashboard": client.dashboard_link,
    "dashboard_status": httpx.get(HUB + client.dashboard_link.lstrip("/")).status_code,
}))
"""
)

#: the same counts on a LocalCluster in the server; its dashboard through the server's narrow route
LOCAL_KERNEL = (
    """
import httpx, os, tresor
client = tresor.cluster(gateway=False)
"""
    + ALLELE_COUNTS
    + """
token = os.environ["JUPYTERHUB_API_TOKEN"]
auth = {"Authorization": f"token {token}"}
page = httpx.get(HUB + client.dashboard_link.lstrip("/"), headers=auth)
generic = client.dashboard_link.replace("/tresor/dask/", "/proxy/")
closed = httpx.get(HUB + generic.lstrip("/"), headers=auth)
print(json.dumps({"dashboard": client.dashboard_link, "dashboard_status": page.status_code,
                  "dashboard_is_dask": "Dask" in page.text, "generic": generic,
                  "generic_status": closed.status_code}))
"""
)


def json_lines(stdout: str) -> list[dict]:
    """JSON objects printed by the kernel (a progress bar may share their line, before a \\r)."""
    out = []
    for line in stdout.splitlines():
        line = re.sub(r"\x1b\[[0-9;]*[A-Za-z]", "", line).rsplit("\r", 1)[-1].strip()
        if line.startswith("{"):
            out.append(json.loads(line))
    return out


#: dask_gateway clients stay referenced until the interpreter exits (closed at the end of the
#: module): when collected, their __del__ closes them again, which raises after close() and
#: deadlocks when it happens on their own loop thread.
_CLIENTS: list = []


@pytest.fixture(scope="module")
def gateway_as(local_node):
    """gateway_as(token): a dask-gateway client with someone's hub token, as in their kernel.

    They share one event loop thread (each would start its own, and on a busy machine a new loop
    thread may take longer to start than distributed allows).
    """
    from dask_gateway import Gateway
    from dask_gateway.auth import JupyterHubAuth
    from distributed.utils import LoopRunner

    runner = LoopRunner()
    runner.start()
    _CLIENTS.append(runner)

    def connect(token: str) -> Gateway:
        gateway = Gateway(
            address=f"{local_node.url}{PREFIX.lstrip('/')}",
            proxy_address=proxy_address(local_node.site),
            auth=JupyterHubAuth(api_token=token),
            loop=runner.loop,
        )
        _CLIENTS.append(gateway)
        return gateway

    yield connect
    for client in reversed(_CLIENTS):  # clusters, then gateways, then their loop
        if client is runner:
            runner.stop()
        else:
            client.close()


async def tls_handshake(address: str, security, timeout: str = "30s") -> None:
    """Open a connection to a scheduler through the gateway's TLS proxy, as a Client would."""
    from distributed.comm import connect

    comm = await connect(address, timeout=timeout, **security.get_connection_args("client"))
    await comm.close()


def cluster_processes(name: str) -> list[psutil.Process]:
    """Scheduler and worker processes of a gateway cluster (they carry its name)."""
    found = []
    for p in psutil.process_iter():
        try:
            if p.environ().get("DASK_GATEWAY_CLUSTER_NAME") == name:
                found.append(p)
        except (psutil.AccessDenied, psutil.NoSuchProcess, psutil.ZombieProcess):
            pass
    return found


def wait_until(check, timeout: float = 90, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := check():
            return result
        time.sleep(1)
    raise TimeoutError(f"{what} not reached in {timeout}s")


@pytest.fixture(scope="module")
def tokens(local_node):
    """Hub tokens of dana, erik and reviewer1; dana's server runs. The users go afterwards."""
    local_node.create_user("dana", ["researchers", "nordic-gwas"])
    local_node.create_user("erik", ["researchers", "uk-study"])
    local_node.start_server("dana")
    yield {name: local_node.user_token(name) for name in ("dana", "erik", "reviewer1")}
    for name in ("dana", "erik"):
        if local_node.api("GET", f"/users/{name}").json().get("servers"):
            local_node.stop_server(name)
        assert local_node.api("DELETE", f"/users/{name}").status_code == 204


def test_gateway_cluster__two_workers_count_alleles_like_local_cluster_and_bcftools(
    local_node, tokens, gateway_as
):
    """dana's kernel: tresor.cluster() asks the gateway, scales to 2 workers, counts alleles.
    A LocalCluster in her server and bcftools give the same counts."""
    hub = f"HUB = {local_node.url!r}\n"
    ran = local_node.run_in_kernel("dana", tokens["dana"], hub + GATEWAY_KERNEL)
    assert ran["error"] is None, ran
    remote, info = json_lines(ran["stdout"])
    ran = local_node.run_in_kernel("dana", tokens["dana"], hub + LOCAL_KERNEL)
    assert ran["error"] is None, ran
    local, local_info = json_lines(ran["stdout"])

    assert remote == local
    ref = bcftools_counts(
        load_catalogue(local_node.site.catalogue_path)["dk"].store.parent / "dk.vcf.gz"
    )
    assert remote["an"] == ref["an"].tolist()
    assert [",".join(map(str, row[: len(r.split(","))])) for row, r in zip(
        remote["ac"], ref["ac"], strict=True
    )] == ref["ac"].tolist()  # fmt: skip

    # two workers, started by the gateway service (not by the kernel), on the gateway's proxy
    assert info["workers"] == 2
    if isolation.active(local_node.site):  # the researcher's own account, as the kernel's
        assert info["worker_uids"] == [pwd.getpwnam(user_account("demo", "dana")).pw_uid]
    for parents in info["lineage"]:
        assert any("dask_gateway_server" in cmd for _, cmd in parents), parents
        assert info["kernel_pid"] not in [pid for pid, _ in parents]
    assert info["dashboard"] == f"{PREFIX}/clusters/{info['cluster']}/status"
    assert info["dashboard_status"] == 200
    # a LocalCluster's dashboard comes through the server's narrow route (tresor.lab.dashboards),
    # while the generic /proxy/<port>/ route to the same port stays closed (tresor.node.lockdown)
    assert local_info["dashboard"].startswith("/user/dana/tresor/dask/")
    assert local_info["dashboard_status"] == 200 and local_info["dashboard_is_dask"]
    assert local_info["generic"].startswith("/user/dana/proxy/")
    assert local_info["generic_status"] in (403, 404)

    # workers receive the dataset through a read-only store; its files have no write bits
    assert info["write_through_store"].startswith("ValueError: store was opened in read-only")
    assert info["chunk"]["write_bits"] == 0
    if info["chunk"]["euid"] != 0:  # root ignores file modes (the embedded node in CI)
        assert info["chunk"]["open"] == "PermissionError"

    # the cluster made in the kernel ended with the kernel
    dana = gateway_as(tokens["dana"])
    wait_until(lambda: not dana.list_clusters(), what="dana's kernel cluster to stop")
    wait_until(lambda: not cluster_processes(info["cluster"]), what="its processes to end")


@pytest.fixture(scope="module")
def danas_cluster(tokens, gateway_as):
    """A cluster of dana's that nothing in her server will close (as from a crashed kernel)."""
    gateway = gateway_as(tokens["dana"])
    wait_until(lambda: not gateway.list_clusters(), what="dana to have no cluster")
    cluster = gateway.new_cluster(shutdown_on_close=False)
    _CLIENTS.append(cluster)
    cluster.scale(1)
    wait_until(lambda: len(cluster_processes(cluster.name)) >= 2, what="scheduler and a worker")
    yield cluster
    if gateway.list_clusters():  # the last test stops it, unless it failed
        gateway.stop_cluster(cluster.name)


def test_gateway__a_second_researcher_can_neither_list_nor_connect(
    local_node, tokens, danas_cluster, gateway_as
):
    from aiohttp import ClientResponseError
    from distributed.security import Security

    name = danas_cluster.name
    erik = gateway_as(tokens["erik"])
    assert erik.list_clusters() == []
    for attempt in (
        lambda: erik.get_cluster(name),  # what connect() asks first, for the TLS credentials
        lambda: erik.scale_cluster(name, 3),
        lambda: erik.stop_cluster(name),
    ):
        with pytest.raises(ClientResponseError) as refused:
            attempt()
        assert refused.value.status == 403
    # the scheduler's TLS proxy: only the cluster's own certificate gets through
    address = f"{proxy_address(local_node.site)}/{name}"
    with pytest.raises((OSError, TimeoutError)):
        # (on the clients' loop thread; refused handshakes are retried until the timeout)
        erik.sync(tls_handshake, address, Security.temporary(), timeout="8s")
    erik.sync(tls_handshake, address, danas_cluster.security)  # the owner's certificate

    # accounts without the gateway's access scope are not let in at all
    with pytest.raises(ClientResponseError) as refused:
        gateway_as(tokens["reviewer1"]).list_clusters()
    assert refused.value.status == 401


def test_gateway__one_cluster_per_researcher_on_this_node(
    local_node, tokens, danas_cluster, gateway_as
):
    assert [c.name for c in gateway_as(tokens["dana"]).list_clusters()] == [danas_cluster.name]
    # the gateway's REST API directly: a refused GatewayCluster() would leave a half-made client
    refused = httpx.post(
        f"{local_node.url}{PREFIX.lstrip('/')}/api/v1/clusters/",
        headers={"Authorization": f"jupyterhub {tokens['dana']}"},
        json={"cluster_options": {}},
        timeout=60,
    )
    assert refused.status_code == 422
    assert "dana already has 1 active Dask cluster" in refused.json()["error"]


def test_gateway__stopping_the_server_removes_the_cluster(
    local_node, tokens, danas_cluster, gateway_as
):
    """Nothing in dana's server would stop this cluster: the gateway sees the server gone."""
    assert cluster_processes(danas_cluster.name)
    local_node.stop_server("dana")
    dana = gateway_as(tokens["dana"])
    wait_until(lambda: not dana.list_clusters(), what="the gateway to stop dana's cluster")
    wait_until(
        lambda: dana.get_cluster(danas_cluster.name).status.name == "STOPPED",
        what="the cluster to be reported stopped",
    )
    assert not cluster_processes(danas_cluster.name)
