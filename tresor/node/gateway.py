"""dask-gateway behind the hub: the gateway's configuration, its hub service, the servers' env.

The gateway is a hub-managed service (``/services/dask-gateway/``). It authenticates every request
with JupyterHub (``JupyterHubAuthenticator`` with ``jupyterhub_service_name``), so a researcher's
hub token is all a kernel needs, and only tokens holding ``access:services!service=dask-gateway``
(researchers and their servers, see :mod:`tresor.node.roles`) get in. A cluster belongs to the
researcher who made it: others can neither list nor connect to it (dask-gateway checks the owner;
the scheduler only accepts TLS clients holding the cluster's own certificate).

This module builds configuration (it does not import dask-gateway-server) and prepares the files
that configuration reads (:func:`prepare`); the classes that run inside the gateway are in
:mod:`tresor.node.gateway_backends`, and the file that ``dask-gateway-server -f`` loads is
``tresor/node/dask_gateway_config.py``.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlsplit

from traitlets.config import Config

from tresor.core.secrets import ensure_private_dir, ensure_secret, read_secret
from tresor.core.site import SiteConfig
from tresor.node.processes import python_module
from tresor.node.roles import GATEWAY_SERVICE, gateway_service_role

#: where the hub's proxy sends gateway traffic; the gateway's own proxy serves under it too
PREFIX = f"/services/{GATEWAY_SERVICE}"

#: the config file dask-gateway-server loads (it calls configure_gateway)
CONFIG_FILE = Path(__file__).with_name("dask_gateway_config.py")

#: tresor's backends: dask-gateway's own, plus per-researcher limits and server-bound lifetime
BACKEND_CLASSES = {
    "local": "tresor.node.gateway_backends.TresorLocalBackend",
    "slurm": "tresor.node.gateway_backends.TresorSlurmBackend",
    "kubernetes": "tresor.node.gateway_backends.TresorKubeBackend",
}

#: the dashboard of a LocalCluster in a researcher's server, through the hub and the server's
#: narrow dashboard route (tresor.lab.dashboards: a kernel's own cluster only); distributed fills
#: {JUPYTERHUB_SERVICE_PREFIX} from the environment and {port} itself
LOCAL_DASHBOARD_LINK = "{JUPYTERHUB_SERVICE_PREFIX}tresor/dask/{port}/status"


def gateway_paths(site: SiteConfig) -> dict[str, Path]:
    state = site.state_path
    return {
        "token": state / "secrets" / "dask_gateway_service_token",
        "clusters": state / "dask-gateway" / "clusters",
    }


def prepare(site: SiteConfig) -> None:
    """The gateway's hub token and, for a hub-run local backend, its clusters directory."""
    paths = gateway_paths(site)
    ensure_secret(paths["token"])
    if not site.gateway.url and site.gateway.backend == "local":
        ensure_private_dir(paths["clusters"].parent)
        ensure_private_dir(paths["clusters"])


def proxy_address(site: SiteConfig) -> str:
    """Where kernels reach the schedulers' TLS proxy: the gateway's host, on its TLS port."""
    host = urlsplit(site.gateway.url).hostname or "127.0.0.1"
    return site.gateway.proxy_address or f"gateway://{host}:{site.gateway.scheduler_port}"


def hub_tls_files(environ: Mapping[str, str]) -> dict[str, str]:
    """The internal-SSL files the gateway talks to the hub API with, if the hub requires them.

    A hub-managed gateway gets ``JUPYTERHUB_SSL_*`` from the hub; the gateway container of the
    docker profile from its environment file (``ansible/roles/dask_gateway``).
    """
    files = {
        "tls_key": environ.get("JUPYTERHUB_SSL_KEYFILE", ""),
        "tls_cert": environ.get("JUPYTERHUB_SSL_CERTFILE", ""),
        "tls_ca": environ.get("JUPYTERHUB_SSL_CLIENT_CA", ""),
    }
    return files if files["tls_key"] and files["tls_cert"] else {}


def configure_gateway(
    c: Config,
    site: SiteConfig,
    *,
    python: str = sys.executable,
    environ: Mapping[str, str] = os.environ,
) -> None:
    """Set dask-gateway-server traits on ``c`` from the site config's ``[gateway]`` section.

    ``python`` is the interpreter of the researcher environment for the local backend; Slurm and
    Kubernetes run the notebook image's environment instead.
    """
    g = site.gateway
    c.DaskGateway.backend_class = BACKEND_CLASSES[g.backend]
    c.DaskGateway.authenticator_class = "dask_gateway_server.auth.JupyterHubAuthenticator"
    # token and hub API URL come from the service environment the hub sets
    c.JupyterHubAuthenticator.jupyterhub_service_name = GATEWAY_SERVICE
    c.JupyterHubAuthenticator.use_service_access_scopes = True
    for key, path in hub_tls_files(environ).items():
        setattr(c.JupyterHubAuthenticator, key, path)
        setattr(c.TresorClusterPolicy, key, path)

    # per researcher: a number of clusters, each with an equal share of the cores and memory
    c.TresorClusterPolicy.max_clusters_per_user = g.max_clusters_per_user
    c.TresorClusterPolicy.server_check_period = g.server_check_seconds
    c.ClusterConfig.cluster_max_cores = g.max_cores_per_user / g.max_clusters_per_user
    c.ClusterConfig.cluster_max_memory = int(g.max_memory_per_user) // g.max_clusters_per_user
    c.ClusterConfig.worker_cores = g.worker_cores
    c.ClusterConfig.worker_memory = int(g.worker_memory)
    c.ClusterConfig.scheduler_cores = g.scheduler_cores
    c.ClusterConfig.scheduler_memory = int(g.scheduler_memory)
    c.ClusterConfig.idle_timeout = float(g.idle_timeout_seconds)
    # distributed 2026 has `dask scheduler` / `dask worker`, not dask-scheduler / dask-worker
    c.ClusterConfig.scheduler_cmd = ["dask", "scheduler"]
    c.ClusterConfig.worker_cmd = ["dask", "worker"]
    {"local": _local_backend, "slurm": _slurm_backend, "kubernetes": _kubernetes_backend}[
        g.backend
    ](c, site, python)


def _local_backend(c: Config, site: SiteConfig, python: str) -> None:
    """Scheduler and workers are processes of the gateway's OS user, in this environment; on an
    isolated node, of the researcher's account, in the shared runtime."""
    from tresor.node.isolation import Record, assess

    record = Record.load(site) if not site.gateway.url else None
    if record is not None and assess(site).enabled:
        c.DaskGateway.backend_class = "tresor.node.gateway_backends.TresorAccountsLocalBackend"
        c.TresorAccountsLocalBackend.node_name = site.node_name
        c.TresorAccountsLocalBackend.python_path = record.code
        python = record.python
    bin_dir = Path(python).parent
    # loopback when the hub runs the gateway; its own container's interfaces when it is external
    host = "" if site.gateway.url else "127.0.0.1"
    c.DaskGateway.address = f"127.0.0.1:{site.gateway.api_port}"
    c.ClusterConfig.scheduler_cmd = [str(bin_dir / "dask"), "scheduler"]
    c.ClusterConfig.worker_cmd = [str(bin_dir / "dask"), "worker"]
    c.LocalBackend.clusters_directory = str(gateway_paths(site)["clusters"])
    # dask-gateway's own proxy: HTTP (API, dashboards) behind the hub's, TLS to schedulers
    c.Proxy.address = f"{host}:{site.gateway.port}"
    c.Proxy.tcp_address = f"{host}:{site.gateway.scheduler_port}"
    c.Proxy.prefix = PREFIX


def _slurm_backend(c: Config, site: SiteConfig, python: str) -> None:
    """Every scheduler and worker is a Slurm job of the researcher, inside the notebook image."""
    s = site.gateway.slurm
    c.DaskGateway.address = f"127.0.0.1:{site.gateway.api_port}"
    c.SlurmClusterConfig.partition = s.partition
    c.SlurmClusterConfig.account = s.account
    c.SlurmClusterConfig.qos = s.qos
    c.SlurmClusterConfig.staging_directory = s.staging_directory
    # schedulers on compute nodes report to the gateway through its HTTP proxy: not loopback
    c.Proxy.address = f":{site.gateway.port}"
    c.Proxy.tcp_address = f":{site.gateway.scheduler_port}"
    c.Proxy.prefix = PREFIX
    if s.image:
        run = ["apptainer", "exec", "--bind", f"{s.datasets_dir}:{s.datasets_dir}:ro", s.image]
        c.SlurmClusterConfig.scheduler_cmd = [*run, "dask", "scheduler"]
        c.SlurmClusterConfig.worker_cmd = [*run, "dask", "worker"]


def _kubernetes_backend(c: Config, site: SiteConfig, python: str) -> None:
    """Scheduler and worker pods of the notebook image; datasets mounted read-only in workers."""
    k = site.gateway.kubernetes
    # the Helm chart runs the gateway (its address, proxy and instance are the chart's); the
    # token comes from JUPYTERHUB_API_TOKEN, which the chart sets
    c.JupyterHubAuthenticator.jupyterhub_api_url = k.hub_api_url
    c.TresorClusterPolicy.hub_api_url = k.hub_api_url
    if k.namespace:
        c.KubeClusterConfig.namespace = k.namespace
    c.KubeClusterConfig.image = k.image
    c.KubeClusterConfig.image_pull_policy = k.image_pull_policy
    not_root = {
        "runAsNonRoot": True,
        "runAsUser": k.run_as_user,
        "runAsGroup": k.run_as_user,
    }
    locked = {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}}
    c.KubeClusterConfig.worker_extra_pod_config = {
        "automountServiceAccountToken": False,
        "securityContext": not_root,
        "volumes": [
            {
                "name": "tresor-datasets",
                "persistentVolumeClaim": {"claimName": k.datasets_claim, "readOnly": True},
            }
        ],
    }
    c.KubeClusterConfig.worker_extra_container_config = {
        "securityContext": locked,
        "volumeMounts": [
            {"name": "tresor-datasets", "mountPath": k.datasets_dir, "readOnly": True}
        ],
    }
    c.KubeClusterConfig.scheduler_extra_pod_config = {
        "automountServiceAccountToken": False,
        "securityContext": not_root,
    }
    c.KubeClusterConfig.scheduler_extra_container_config = {"securityContext": locked}


def config_text(c: Config) -> str:
    """``c`` as the Python lines of a dask-gateway config file (e.g. Helm ``extraConfig``)."""
    lines = ["# dask-gateway-server configuration generated by tresor from the site config", ""]
    for section in sorted(c):
        for key in sorted(c[section]):
            lines.append(f"c.{section}.{key} = {c[section][key]!r}")
    return "\n".join(lines) + "\n"


def gateway_service(site: SiteConfig) -> dict:
    """The hub's service entry; the hub routes ``PREFIX`` to it.

    With ``gateway.url`` empty (local profile, local and Slurm backends) the hub starts and stops
    the gateway. With it set, something else runs the gateway and the hub only routes to it,
    with the same token: the ``tresor-dask-gateway`` container in the docker profile (its
    environment file holds the token file's content), the dask-gateway Helm chart with the
    Kubernetes backend (``gateway.auth.jupyterhub.apiToken``).
    """
    token = read_secret(
        gateway_paths(site)["token"],
        made_by="`tresor node prepare` (on a production node also the Ansible dask_gateway role)",
    )
    service = {"name": GATEWAY_SERVICE, "api_token": token}
    if site.gateway.url:
        return service | {"url": site.gateway.url}
    return service | {
        "url": f"http://127.0.0.1:{site.gateway.port}",
        "command": python_module("dask_gateway_server", "-f", str(CONFIG_FILE)),
        "environment": {
            "TRESOR_SITE_CONFIG": str(site.source or ""),
            "TRESOR_STATE_DIR": str(site.state_path),
        },
    }


def singleuser_environment(site: SiteConfig) -> dict[str, str]:
    """Dask settings for every researcher's server: dashboard link, and the gateway if enabled."""
    env = {"DASK_DISTRIBUTED__DASHBOARD__LINK": LOCAL_DASHBOARD_LINK}
    if site.gateway.enabled:
        # kernels call an external gateway directly (the internal network), a hub-run one
        # through the hub's proxy; browsers always through the hub (PUBLIC_ADDRESS)
        base = site.gateway.url + "/" if site.gateway.url else site.public_url
        env.update(
            {
                "DASK_GATEWAY__ADDRESS": f"{base}{PREFIX.lstrip('/')}",
                "DASK_GATEWAY__PUBLIC_ADDRESS": PREFIX,
                "DASK_GATEWAY__PROXY_ADDRESS": proxy_address(site),
                "DASK_GATEWAY__AUTH__TYPE": "jupyterhub",
                # dask-labextension's "new cluster" button asks the gateway too
                "DASK_LABEXTENSION__FACTORY__MODULE": "dask_gateway",
                "DASK_LABEXTENSION__FACTORY__CLASS": "GatewayCluster",
            }
        )
    return env


def configure_hub(c, site: SiteConfig) -> None:
    """The hub side: Dask settings in every server's environment; the gateway service if enabled.

    Called from :func:`tresor.node.profiles.common.configure` after the other services.
    """
    c.Spawner.environment.update(singleuser_environment(site))
    if site.gateway.enabled:
        c.JupyterHub.services.append(gateway_service(site))
        c.JupyterHub.load_roles.append(gateway_service_role())
