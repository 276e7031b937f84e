"""The dashboard of a Dask cluster that one of this server's kernels runs, and nothing else.

jupyter-server-proxy's generic ``/proxy/<port>/`` stays closed (tresor.node.lockdown): it would
serve whatever web server a kernel started, files included. This route,
``tresor/dask/<port>/<dashboard page>``, proxies only

- to a port that a process of one of this server's kernels listens on (the scheduler of a
  ``LocalCluster`` lives in the kernel), on loopback, and so only of the server's own account;
- the dashboard's own pages, plots, their websockets and static files.

``DASK_DISTRIBUTED__DASHBOARD__LINK`` points ``client.dashboard_link`` here, so dask-labextension
shows the plots inside JupyterLab. A gateway cluster's dashboard comes through the hub from the
gateway's own proxy instead (tresor.node.gateway).
"""

from __future__ import annotations

import asyncio
import re

import psutil
from jupyter_server.utils import url_path_join
from jupyter_server_proxy.handlers import LocalProxyHandler, ProxyHandler
from tornado import web

#: what a Dask dashboard serves (distributed.http and its Bokeh applications)
DASHBOARD_PATH = re.compile(
    r"^/(?!.*\.\.)(?:(?:status|workers|tasks|system|profile|profile-server|graph|groups|exceptions|gpu"
    r"|individual-[a-z0-9-]+)(?:/ws|/autoload\.js)?|individual-plots\.json|sitemap\.json"
    r"|statics/[\w./-]+|info/[\w./-]*)$"
)
LOOPBACK = {"127.0.0.1", "::1", "0.0.0.0", "::"}  # noqa: S104 - addresses compared, not bound


def listening_pid(port: int) -> int | None:
    """The process listening on ``port`` on loopback, if it is one of this account's."""
    for c in psutil.net_connections(kind="tcp"):
        listening = c.status == psutil.CONN_LISTEN and c.laddr
        if listening and c.laddr.port == port and c.laddr.ip in LOOPBACK:
            return c.pid
    return None


def kernel_pids(kernel_manager) -> set[int]:
    """The processes of the server's running kernels."""
    pids = set()
    for kernel_id in kernel_manager.list_kernel_ids():
        provisioner = getattr(kernel_manager.get_kernel(kernel_id), "provisioner", None)
        if pid := getattr(provisioner, "pid", None):
            pids.add(pid)
    return pids


def served_by_kernel(port: int, kernels: set[int]) -> bool:
    """Whether a kernel in ``kernels`` (or a process it started) listens on ``port``."""
    pid = listening_pid(port)
    if pid is None:
        return False
    try:
        process = psutil.Process(pid)
        return pid in kernels or any(p.pid in kernels for p in process.parents())
    except psutil.Error:
        return False


class DashboardProxyHandler(LocalProxyHandler):
    """``tresor/dask/<port>/<path>``: HTTP and websockets to a kernel's Dask dashboard."""

    async def prepare(self, *args, **kwargs) -> None:
        await super().prepare(*args, **kwargs)  # authenticated as the server's own user
        path = self.path_kwargs.get("proxied_path") or "/"
        if not DASHBOARD_PATH.match(path):
            raise web.HTTPError(404, "only a Dask dashboard's pages are served here")
        port = int(self.path_kwargs["port"])
        kernels = kernel_pids(self.kernel_manager)
        if not await asyncio.to_thread(served_by_kernel, port, kernels):
            raise web.HTTPError(
                403,
                f"no Dask dashboard of one of your kernels listens on port {port}; start a "
                "cluster with tresor.cluster() in a notebook and use its dashboard_link",
            )

    def proxy(self, port, proxied_path):
        return ProxyHandler.proxy(self, "127.0.0.1", port, proxied_path)

    async def open(self, port, proxied_path):
        return await self.proxy_open("127.0.0.1", port, proxied_path)


def handlers(base_url: str) -> list[tuple[str, type]]:
    route = url_path_join(base_url, "tresor", "dask", r"(?P<port>\d+)(?P<proxied_path>/.*)?")
    return [(route, DashboardProxyHandler)]
