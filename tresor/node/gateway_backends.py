"""dask-gateway backends as tresor runs them: upstream's, plus two rules of the node.

1. A researcher may hold at most ``max_clusters_per_user`` active clusters (dask-gateway limits
   cores and memory per cluster, not clusters per user). Each cluster's cores and memory are an
   equal share of the researcher's limits (``ClusterConfig.cluster_max_*``, set by
   :func:`tresor.node.gateway.configure_gateway`), so together they stay within them.
2. A cluster lives only while its owner's notebook server runs. Every ``server_check_period``
   seconds the gateway asks the hub (scope ``read:servers``) whether each cluster owner still has a
   server, and stops the clusters of those who do not: a stopped, culled or deleted server takes
   its clusters with it, whoever stopped it and however it ended. Idle clusters of running servers
   stop after ``ClusterConfig.idle_timeout``.

Imported only inside the gateway process (``dask-gateway-server -f dask_gateway_config.py``).
"""

from __future__ import annotations

import asyncio
import os
import pwd
import ssl
from urllib.parse import quote

import aiohttp
from dask_gateway_server.backends.base import PublicException
from dask_gateway_server.backends.local import LocalBackend, UnsafeLocalBackend
from traitlets import Float, Integer, Unicode, default
from traitlets.config import LoggingConfigurable


class TresorClusterPolicy(LoggingConfigurable):
    """Mixed in before a dask-gateway backend: clusters per researcher, server-bound lifetime."""

    max_clusters_per_user = Integer(
        1,
        min=1,
        config=True,
        help="""Most active (pending or running) clusters one researcher may hold at a time.

        Checked when a cluster is requested; with one gateway process (local and Slurm backends)
        the check and the creation cannot interleave with another request.
        """,
    )
    server_check_period = Float(
        15,
        min=0.5,
        config=True,
        help="""Seconds between checks for clusters whose owner has no running server.""",
    )
    hub_api_url = Unicode(
        config=True,
        help="""The hub's REST API, e.g. ``http://127.0.0.1:8081/hub/api``.

        Default: ``JUPYTERHUB_API_URL``, which the hub sets for a managed service.
        """,
    )
    hub_api_token = Unicode(
        config=True,
        help="""The gateway service's hub token (it needs ``read:servers`` only).

        Default: ``JUPYTERHUB_API_TOKEN``, which the hub sets for a managed service.
        """,
    )

    tls_key = Unicode(
        "",
        config=True,
        help="""Client key for the hub API when the hub requires internal SSL.

        Set with ``tls_cert`` and ``tls_ca`` by :func:`tresor.node.gateway.configure_gateway`
        from ``JUPYTERHUB_SSL_*``, the same files dask-gateway's JupyterHubAuthenticator uses.
        """,
    )
    tls_cert = Unicode("", config=True, help="""Client certificate for the hub API.""")
    tls_ca = Unicode("", config=True, help="""CA bundle the hub's certificate is checked with.""")

    @default("hub_api_url")
    def _default_hub_api_url(self) -> str:
        return os.environ.get("JUPYTERHUB_API_URL", "")

    @default("hub_api_token")
    def _default_hub_api_token(self) -> str:
        return os.environ.get("JUPYTERHUB_API_TOKEN", "")

    # -- rule 1: clusters per researcher ---------------------------------------------------
    async def process_cluster_options(self, user, request):
        options, config = await super().process_cluster_options(user, request)
        # no await between this count and the caller creating the cluster
        active = await self.list_clusters(username=user.name)
        if len(active) >= self.max_clusters_per_user:
            raise PublicException(
                f"{user.name} already has {len(active)} active Dask cluster(s), the most this "
                "node allows. Reuse it (tresor.cluster() connects to it) or shut it down first "
                "(cluster.shutdown(), or Gateway().stop_cluster(name))."
            )
        return options, config

    # -- rule 2: no cluster outlives its owner's server --------------------------------------
    async def setup(self, app):
        await super().setup(app)
        if not (self.hub_api_url and self.hub_api_token):
            raise ValueError(
                "TresorClusterPolicy needs the hub's API URL and a token with read:servers "
                "(JUPYTERHUB_API_URL / JUPYTERHUB_API_TOKEN, set when the hub runs the gateway)"
            )
        self._hub = aiohttp.ClientSession(
            headers={"Authorization": f"token {self.hub_api_token}"},
            timeout=aiohttp.ClientTimeout(total=30),
            connector=aiohttp.TCPConnector(ssl=self._hub_ssl_context()),
        )
        self._server_watch = asyncio.ensure_future(self._watch_servers())

    def _hub_ssl_context(self) -> ssl.SSLContext | bool:
        """The internal-SSL client context, or aiohttp's default checks (True)."""
        if not (self.tls_key and self.tls_cert):
            return True
        context = ssl.create_default_context(cafile=self.tls_ca or None)
        context.load_cert_chain(self.tls_cert, self.tls_key)
        return context

    async def cleanup(self):
        if watch := getattr(self, "_server_watch", None):
            watch.cancel()
        if hub := getattr(self, "_hub", None):
            await hub.close()
        await super().cleanup()

    async def _watch_servers(self) -> None:
        while True:
            await asyncio.sleep(self.server_check_period)
            try:
                await self.stop_clusters_without_server()
            except asyncio.CancelledError:
                raise
            except Exception:
                self.log.exception("Checking cluster owners' servers failed; will retry")

    async def stop_clusters_without_server(self) -> list[str]:
        """Stop every active cluster whose owner has no server; returns their names."""
        by_owner: dict[str, list[str]] = {}
        for cluster in await self.list_clusters():
            by_owner.setdefault(cluster.username, []).append(cluster.name)
        stopped = []
        for owner, names in by_owner.items():
            if await self._server_running(owner):
                continue
            for name in names:
                self.log.info("Stopping cluster %s: owner %s has no running server", name, owner)
                await self.stop_cluster(name)
                stopped.append(name)
        return stopped

    async def _server_running(self, username: str) -> bool:
        """Ask the hub. Unknown users (and services) have none; on hub errors assume one runs."""
        url = f"{self.hub_api_url.rstrip('/')}/users/{quote(username, safe='')}"
        async with self._hub.get(url) as response:
            if response.status == 404:
                return False
            if response.status != 200:
                raise RuntimeError(f"hub answered {response.status} for {url}")
            model = await response.json()
        if "servers" not in model:
            raise RuntimeError(
                "the hub did not show servers: the gateway service's role needs read:servers"
            )
        return bool(model["servers"])


class TresorLocalBackend(TresorClusterPolicy, UnsafeLocalBackend):
    """The embedded node: scheduler and workers are local processes of the gateway's OS user.

    Upstream's ``LocalBackend`` would run them as each researcher's OS account, which the embedded
    node does not have; production uses the Slurm or Kubernetes backend for that separation.
    """


class TresorAccountsLocalBackend(TresorClusterPolicy, LocalBackend):
    """The isolated embedded node: scheduler and workers run as the researcher's own account
    (``tresor-<node>-<user>``), so they read only the datasets the researcher may.

    Upstream's ``LocalBackend`` maps a hub user to an OS account of the same name; here the
    node's naming does. Its working-directory setup is replaced too: upstream hands the
    ownership of every character of the certificate paths to the user (``paths.extend``), the
    first of which is ``/``.
    """

    node_name = Unicode(config=True, help="""The node's name, part of every account's name.""")
    python_path = Unicode(
        "", config=True, help="""PYTHONPATH of schedulers and workers: the node's code."""
    )

    def _account(self, username: str) -> pwd.struct_passwd:
        from tresor.node.accounts_os import user_account

        return pwd.getpwnam(user_account(self.node_name, username))

    def set_file_permissions(self, paths, username):
        account = self._account(username)
        for path in paths:
            os.chown(path, account.pw_uid, account.pw_gid)

    def make_preexec_fn(self, cluster):  # pragma: no cover - runs in the child
        account = self._account(cluster.username)
        groups = os.getgrouplist(account.pw_name, account.pw_gid)
        workdir = cluster.state["workdir"]

        def preexec():
            os.setgid(account.pw_gid)
            os.setgroups(groups)
            os.setuid(account.pw_uid)
            os.umask(0o077)
            os.chdir(workdir)

        return preexec

    def setup_working_directory(self, cluster):
        workdir = os.path.join(self.clusters_directory, cluster.name)
        certs, logs = self.get_certs_directory(workdir), self.get_logs_directory(workdir)
        for path in (workdir, certs, logs):
            os.makedirs(path, 0o700, exist_ok=True)
        cert_path, key_path = self._get_tls_paths(workdir)
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL
        for path, data in ((cert_path, cluster.tls_cert), (key_path, cluster.tls_key)):
            with os.fdopen(os.open(path, flags, 0o600), "wb") as f:
                f.write(data)
        self.set_file_permissions([workdir, certs, logs, cert_path, key_path], cluster.username)
        return workdir

    def get_env(self, cluster):
        env = super().get_env(cluster)
        env["HOME"] = cluster.state["workdir"]
        if self.python_path:
            env["PYTHONPATH"] = self.python_path
        return env


def __getattr__(name: str):
    """The Slurm and Kubernetes backends, defined on first use (their imports are heavy)."""
    if name == "TresorSlurmBackend":
        from dask_gateway_server.backends.jobqueue.slurm import SlurmBackend

        cls = type(name, (TresorClusterPolicy, SlurmBackend), {"__doc__": _SLURM_DOC})
    elif name == "TresorKubeBackend":
        from dask_gateway_server.backends.kubernetes import KubeBackend

        cls = type(name, (TresorClusterPolicy, KubeBackend), {"__doc__": _KUBE_DOC})
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    cls.__module__ = __name__
    globals()[name] = cls
    return cls


_SLURM_DOC = """Slurm: every scheduler and worker is a job submitted as the researcher (sudo -u)."""
_KUBE_DOC = """Kubernetes: scheduler and worker pods; with several gateway replicas the cluster
count per researcher is checked per replica (use a ResourceQuota per namespace as well)."""
