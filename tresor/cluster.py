"""``tresor.cluster()``: a Dask client for the researcher, sized for where it runs.

- On a node with dask-gateway (the hub gives the server ``DASK_GATEWAY__ADDRESS``), the cluster
  comes from the gateway: schedulers and workers on other machines (Slurm jobs or Kubernetes pods)
  within the researcher's limits, stopped when their server stops or the cluster idles.
- Otherwise a ``LocalCluster`` inside the researcher's server, sized from the server's CPU and
  memory limits: cgroup quotas and CPU affinity (read by Dask) and the ``CPU_LIMIT`` /
  ``MEM_LIMIT`` variables JupyterHub spawners set; a quarter of the memory stays with the kernel.

Either way the client's dashboard link goes through the hub, and computations that take more
than a couple of seconds show a progress bar.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import os
import sys
import types
import warnings
from collections.abc import Mapping

from tresor.core.errors import ConfigError

#: share of the server's memory left to the kernel (and JupyterLab) beside a LocalCluster
KERNEL_MEMORY_SHARE = 0.25

#: seconds a computation runs before its progress bar appears
PROGRESS_AFTER = 2.0

_clients: dict[str, object] = {}


@dataclasses.dataclass(frozen=True)
class ServerLimits:
    """What this server may use: CPUs (may be fractional) and memory in bytes."""

    cpus: float
    memory: int


def server_limits(environ: Mapping[str, str] | None = None) -> ServerLimits:
    """The smallest of: the machine, its cgroup limits and CPU affinity, CPU_LIMIT and MEM_LIMIT."""
    import dask.system
    import distributed.system

    environ = os.environ if environ is None else environ
    cpus: float = dask.system.cpu_count()  # affinity and cgroup v1/v2 CPU quota
    memory = distributed.system.memory_limit()  # host, cgroup v1/v2 limits, RLIMIT_RSS
    if (value := _positive(environ, "CPU_LIMIT", float)) is not None:
        cpus = min(cpus, value)
    if (value := _positive(environ, "MEM_LIMIT", int)) is not None:
        memory = min(memory, value)
    return ServerLimits(cpus=cpus, memory=memory)


def _positive(environ: Mapping[str, str], name: str, kind: type) -> float | int | None:
    raw = environ.get(name, "").strip()
    if not raw:
        return None
    try:
        value = kind(float(raw)) if kind is int else kind(raw)
    except ValueError:
        value = None
    if value is None or value <= 0:
        warnings.warn(
            f"{name}={raw!r} is not a positive number; ignoring it (tell a node admin)",
            stacklevel=3,
        )
        return None
    return value


@dataclasses.dataclass(frozen=True)
class LocalClusterSize:
    n_workers: int
    threads_per_worker: int
    memory_limit: int  # per worker, bytes


def local_cluster_size(limits: ServerLimits) -> LocalClusterSize:
    """Worker processes and threads as Dask would choose for the CPUs; memory split between them."""
    from distributed.deploy.utils import nprocesses_nthreads

    threads = max(1, math.floor(limits.cpus))
    n_workers, per_worker = nprocesses_nthreads(threads)
    memory = int(limits.memory * (1 - KERNEL_MEMORY_SHARE)) // n_workers
    return LocalClusterSize(n_workers, per_worker, memory)


def gateway_enabled() -> bool:
    """True when this server was given a dask-gateway address by the hub."""
    import dask

    try:
        import dask_gateway  # noqa: F401 - registers the gateway config defaults
    except ImportError:  # pragma: no cover - dask-gateway is installed with the node
        return False
    return bool(dask.config.get("gateway.address", None))


def cluster(*, workers: int | None = None, gateway: bool | None = None):
    """A Dask client for your analyses, set as the default for ``.compute()``.

    Parameters
    ----------
    workers
        Gateway: how many workers to start (default: adapt between 1 and your limit as work
        comes and goes). Local: worker processes (default: sized from your server's limits).
    gateway
        ``None`` (default): the node's dask-gateway when it has one, else a LocalCluster.
        ``False``: always a LocalCluster in your server. ``True``: the gateway, or an error.

    Returns
    -------
    distributed.Client
        Calling ``tresor.cluster()`` again returns the same client (the default for
        ``.compute()`` is the one made last). A gateway cluster made here
        stops when this kernel ends; an existing cluster of yours (from dask-labextension, or a
        kernel that died) is reused instead of starting another. Either way the gateway stops
        your clusters when your server stops, and idle ones after the node's idle timeout.
    """
    if workers is not None and workers < 1:
        raise ValueError(f"workers must be at least 1, not {workers}")
    use_gateway = gateway_enabled() if gateway is None else gateway
    if use_gateway and not gateway_enabled():
        raise ConfigError(
            "this node has no dask-gateway (DASK_GATEWAY__ADDRESS is not set in your server); "
            "use tresor.cluster() for a cluster in your server, or ask a node admin to enable "
            "[gateway] in the site config"
        )
    kind = "gateway" if use_gateway else "local"
    client = _clients.get(kind)
    if client is not None and client.status == "running":
        if workers is not None:
            client.cluster.scale(workers)
        return client
    client = _gateway_client(workers) if use_gateway else _local_client(workers)
    _clients[kind] = client
    return client


def _local_client(workers: int | None):
    from distributed import LocalCluster

    size = local_cluster_size(server_limits())
    if workers is not None:
        memory = size.memory_limit * size.n_workers // workers
        size = LocalClusterSize(workers, size.threads_per_worker, memory)
    local = LocalCluster(
        n_workers=size.n_workers,
        threads_per_worker=size.threads_per_worker,
        memory_limit=size.memory_limit,
        processes=True,
        host="127.0.0.1",
        dashboard_address="127.0.0.1:0",  # a free port, reached through the hub's proxy
    )
    return _progress_client()(local, set_as_default=True)


def _gateway_client(workers: int | None):
    from dask_gateway import Gateway

    # kept for the kernel's life: a dask_gateway client closed earlier prints an error when it
    # is garbage-collected (its __del__ closes it again)
    gw = _clients.setdefault("gateway-api", Gateway())
    mine = gw.list_clusters()  # pending and running clusters of this researcher only
    if mine:
        # made elsewhere (an earlier kernel, dask-labextension): this kernel leaves it running
        remote = gw.connect(mine[0].name, shutdown_on_close=False)
    else:
        remote = gw.new_cluster(shutdown_on_close=True)  # ends with this kernel
    if workers is None:
        remote.adapt(minimum=1)
    else:
        remote.scale(workers)
    return _progress_client()(remote, security=remote.security, set_as_default=True)


@functools.cache
def _progress_client():
    """distributed.Client whose blocking computations show a progress bar after a moment."""
    from distributed import Client, wait
    from distributed.client import futures_of
    from distributed.diagnostics.progressbar import TextProgressBar

    class ProgressClient(Client):
        """A Client whose blocking computations show a text progress bar after a moment.

        Quick computations print nothing; ones still running after ``PROGRESS_AFTER`` seconds
        draw distributed's own progress bar until they finish. The dashboard (its link is in the
        client's summary; dask-labextension shows it inside JupyterLab) has the detail.
        """

        def get(self, dsk, keys, *args, sync=True, asynchronous=None, **kwargs):
            if not sync or asynchronous or self.asynchronous:
                return super().get(dsk, keys, *args, sync=sync, asynchronous=asynchronous, **kwargs)
            packed = super().get(dsk, keys, *args, sync=False, **kwargs)
            futures = futures_of(packed)
            try:
                try:
                    wait(futures, timeout=PROGRESS_AFTER)
                except TimeoutError:
                    TextProgressBar(futures, scheduler=self.scheduler.address, complete=True)
                return self.gather(packed, direct=kwargs.get("direct"))
            finally:
                for future in futures:
                    future.release()

    ProgressClient.__module__ = __name__
    return ProgressClient


class _CallableModule(types.ModuleType):
    """``tresor.cluster`` is this module, and calling it calls :func:`cluster`: researchers
    write ``tresor.cluster()`` and ``from tresor.cluster import server_limits`` alike."""

    def __call__(self, *args, **kwargs):
        return cluster(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
