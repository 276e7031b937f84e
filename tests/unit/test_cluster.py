"""tresor.cluster() without a gateway: a LocalCluster sized from the server's limits."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
import time

import numpy as np
import pytest

import tresor
from tresor.cluster import (
    KERNEL_MEMORY_SHARE,
    ServerLimits,
    local_cluster_size,
    server_limits,
)
from tresor.core.errors import ConfigError
from tresor.io import open_store
from tresor.node.gateway import LOCAL_DASHBOARD_LINK

GiB = 2**30
#: the module (the name tresor.cluster is the function)
cluster_module = importlib.import_module("tresor.cluster")


def test_server_limits__cpu_and_mem_limit_from_the_spawner_lower_the_machine():
    machine = server_limits({})
    limited = server_limits({"CPU_LIMIT": "0.5", "MEM_LIMIT": str(GiB)})
    assert limited == ServerLimits(cpus=0.5, memory=min(GiB, machine.memory))
    # limits above the machine's change nothing
    assert server_limits({"CPU_LIMIT": "4096", "MEM_LIMIT": str(2**60)}) == machine


@pytest.mark.parametrize("value", ["lots", "-1", "0"])
def test_server_limits__nonsense_limits_are_ignored_with_a_warning(value):
    with pytest.warns(UserWarning, match="CPU_LIMIT"):
        assert server_limits({"CPU_LIMIT": value}) == server_limits({})


def test_server_limits__kernel_limits_cpu_affinity_and_rss_rlimit_are_seen():
    """Limits the kernel enforces on this process (as a cgroup would): CPU affinity, RLIMIT_RSS."""
    code = (
        "import os, resource, json\n"
        "os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})\n"
        f"resource.setrlimit(resource.RLIMIT_RSS, ({3 * GiB}, {3 * GiB}))\n"
        "from tresor.cluster import server_limits\n"
        "l = server_limits({})\n"
        "print(json.dumps([l.cpus, l.memory]))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert json.loads(out) == [1, min(3 * GiB, server_limits({}).memory)]


@pytest.mark.parametrize("cpus", [0.5, 1, 2, 2.5, 3, 8, 17])
def test_local_cluster_size__uses_whole_cpus_and_leaves_memory_for_the_kernel(cpus):
    size = local_cluster_size(ServerLimits(cpus=cpus, memory=16 * GiB))
    assert size.n_workers * size.threads_per_worker == max(1, int(cpus))
    assert size.n_workers * size.memory_limit <= 16 * GiB * (1 - KERNEL_MEMORY_SHARE)
    assert size.memory_limit >= 16 * GiB * (1 - KERNEL_MEMORY_SHARE) / size.n_workers - 1


def test_cluster__bad_requests_say_what_is_wrong(monkeypatch):
    monkeypatch.delenv("DASK_GATEWAY__ADDRESS", raising=False)
    with pytest.raises(ConfigError, match="no dask-gateway"):
        tresor.cluster(gateway=True)
    with pytest.raises(ValueError, match="at least 1"):
        tresor.cluster(workers=0)


@pytest.fixture
def local_client(monkeypatch):
    """tresor.cluster() in a server limited to 1 CPU and 2 GiB by the spawner's variables."""
    monkeypatch.delenv("DASK_GATEWAY__ADDRESS", raising=False)
    monkeypatch.setenv("CPU_LIMIT", "1")
    monkeypatch.setenv("MEM_LIMIT", str(2 * GiB))
    client = tresor.cluster()
    try:
        yield client
    finally:
        cluster_module._clients.clear()
        client.close()
        client.cluster.close()


def test_cluster__local_cluster_sized_from_limits_counts_like_numpy(local_client, demo_cohorts):
    workers = local_client.scheduler_info()["workers"].values()
    assert [(w["nthreads"], w["memory_limit"]) for w in workers] == [
        (1, int(2 * GiB * (1 - KERNEL_MEMORY_SHARE)))
    ]
    assert tresor.cluster() is local_client  # one cluster per kernel

    ds = open_store(demo_cohorts["dk"].store)
    g = ds.call_genotype.data
    an = (g >= 0).sum(axis=(1, 2)).compute()  # the default scheduler is now this client
    ref = ds.call_genotype.values
    np.testing.assert_array_equal(an, (ref >= 0).sum(axis=(1, 2)))


def test_cluster__long_computations_show_progress(local_client, capsys, monkeypatch):
    import dask
    import dask.array as da

    def slow(block):
        time.sleep(0.3)
        return block

    x = da.ones(6, chunks=1).map_blocks(slow)
    monkeypatch.setattr(cluster_module, "PROGRESS_AFTER", 600)
    assert dask.compute(x.sum())[0] == 6
    assert "Completed" not in capsys.readouterr().out  # done before the bar was due
    monkeypatch.setattr(cluster_module, "PROGRESS_AFTER", 0.2)
    assert dask.compute((x + 1).sum())[0] == 12
    assert "100% Completed" in capsys.readouterr().out


def test_cluster__dashboard_link_template_resolves_inside_the_server(monkeypatch):
    """The template the hub puts in every server, as distributed fills it in: the narrow
    dashboard route of tresor.lab (tresor/dask/<port>), never the generic /proxy/<port>."""
    import dask
    from distributed.utils import format_dashboard_link

    monkeypatch.setenv("JUPYTERHUB_SERVICE_PREFIX", "/user/ann/")
    with dask.config.set({"distributed.dashboard.link": LOCAL_DASHBOARD_LINK}):
        assert format_dashboard_link("127.0.0.1", 8787) == "/user/ann/tresor/dask/8787/status"
