"""dask-gateway behind the hub, on the session's real local node (its gateway is enabled).

Two researchers of this module's own: dana (project nordic-gwas, may open dk) and erik
(uk-study). Tests run in file order: the last one stops dana's server.
"""

from __future__ import annotations

import json
import re
import time

import psutil
import pytest

from tests.hub.test_local_node import ALLELE_COUNTS, bcftools_counts
from tresor.catalogue import load_catalogue
from tresor.hub.gateway import PREFIX, proxy_address

pytestmark = [
    pytest.mark.slow,
    # dask_gateway.Gateway.__del__ calls close() again after its event loop has stopped
    pytest.mark.filterwarnings("ignore:Exception ignored in. <function Gateway.__del__"),
]

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
    "lineage": list(client.run(lineage).values()),
    "write_through_store": client.submit(write_through_store, source, pure=False).result(),
    "chunk": client.submit(open_chunk_for_writing, ds.attrs["tresor_store_path"]).result(),
    "dashboard": client.dashboard_link,
    "dashboard_status": httpx.get(HUB + client.dashboard_link.lstrip("/")).status_code,
}))
"""
)

#: the same counts on a LocalCluster in the server; its dashboard through the hub's proxy
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
print(json.dumps({"dashboard": client.dashboard_link, "dashboard_status": page.status_code,
                  "dashboard_is_dask": "Dask" in page.text}))
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


def gateway_as(node, token: str):
    """A dask-gateway client with someone's hub token, as their kernel would have."""
    from dask_gateway import Gateway
    from dask_gateway.auth import JupyterHubAuth

    return Gateway(
        address=f"{node.url}{PREFIX.lstrip('/')}",
        proxy_address=proxy_address(node.site),
        auth=JupyterHubAuth(api_token=token),
    )


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
    local_node.create_user("dana", ["researchers", "nordic-gwas"])
    local_node.create_user("erik", ["researchers", "uk-study"])
    local_node.start_server("dana")
    return {name: local_node.user_token(name) for name in ("dana", "erik", "reviewer1")}


def test_gateway_cluster__two_workers_count_alleles_like_local_cluster_and_bcftools(
    local_node, tokens
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
    for parents in info["lineage"]:
        assert any("dask_gateway_server" in cmd for _, cmd in parents), parents
        assert info["kernel_pid"] not in [pid for pid, _ in parents]
    assert info["dashboard"] == f"{PREFIX}/clusters/{info['cluster']}/status"
    assert info["dashboard_status"] == 200
    assert local_info["dashboard"].startswith("/user/dana/proxy/")
    assert local_info["dashboard_status"] == 200 and local_info["dashboard_is_dask"]

    # workers receive the dataset through a read-only store; its files have no write bits
    assert info["write_through_store"].startswith("ValueError: store was opened in read-only")
    assert info["chunk"]["write_bits"] == 0
    if info["chunk"]["euid"] != 0:  # root ignores file modes (the embedded node in CI)
        assert info["chunk"]["open"] == "PermissionError"

    # the cluster made in the kernel ended with the kernel
    with gateway_as(local_node, tokens["dana"]) as dana:
        wait_until(lambda: not dana.list_clusters(), what="dana's kernel cluster to stop")
    wait_until(lambda: not cluster_processes(info["cluster"]), what="its processes to end")


@pytest.fixture(scope="module")
def danas_cluster(local_node, tokens):
    """A cluster of dana's that nothing in her server will close (as from a crashed kernel)."""
    gateway = gateway_as(local_node, tokens["dana"])
    wait_until(lambda: not gateway.list_clusters(), what="dana to have no cluster")
    cluster = gateway.new_cluster(shutdown_on_close=False)
    cluster.scale(1)
    wait_until(lambda: len(cluster_processes(cluster.name)) >= 2, what="scheduler and a worker")
    yield cluster
    cluster.close()
    gateway.close()


def test_gateway__a_second_researcher_can_neither_list_nor_connect(
    local_node, tokens, danas_cluster
):
    from aiohttp import ClientResponseError
    from distributed import Client
    from distributed.security import Security

    name = danas_cluster.name
    erik = gateway_as(local_node, tokens["erik"])
    assert erik.list_clusters() == []
    for attempt in (
        lambda: erik.connect(name),
        lambda: erik.scale_cluster(name, 3),
        lambda: erik.stop_cluster(name),
    ):
        with pytest.raises(ClientResponseError) as refused:
            attempt()
        assert refused.value.status == 403
    # the scheduler's TLS proxy: only the cluster's own certificate gets through
    address = f"{proxy_address(local_node.site)}/{name}"
    with pytest.raises((OSError, TimeoutError)):
        Client(address, security=Security.temporary(), timeout="15s")
    with Client(address, security=danas_cluster.security, timeout="60s") as owner:
        assert owner.submit(sum, [1, 2]).result() == 3
    erik.close()

    # accounts without the gateway's access scope are not let in at all
    reviewer = gateway_as(local_node, tokens["reviewer1"])
    with reviewer, pytest.raises(ClientResponseError) as refused:
        reviewer.list_clusters()
    assert refused.value.status == 401


def test_gateway__one_cluster_per_researcher_on_this_node(local_node, tokens, danas_cluster):
    with gateway_as(local_node, tokens["dana"]) as dana:
        assert [c.name for c in dana.list_clusters()] == [danas_cluster.name]
        with pytest.raises(ValueError, match="dana already has 1 active Dask cluster"):
            dana.new_cluster()


def test_gateway__stopping_the_server_removes_the_cluster(local_node, tokens, danas_cluster):
    """Nothing in dana's server would stop this cluster: the gateway sees the server gone."""
    assert cluster_processes(danas_cluster.name)
    local_node.stop_server("dana")
    with gateway_as(local_node, tokens["dana"]) as dana:
        wait_until(lambda: not dana.list_clusters(), what="the gateway to stop dana's cluster")
        wait_until(
            lambda: dana.get_cluster(danas_cluster.name).status.name == "STOPPED",
            what="the cluster to be reported stopped",
        )
    assert not cluster_processes(danas_cluster.name)
