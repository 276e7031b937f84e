"""The dask-gateway configuration tresor generates, loaded by dask-gateway-server's own classes.

No gateway, Slurm or Kubernetes runs here: the generated config file is loaded by the
``DaskGateway`` application as ``dask-gateway-server -f`` would, its backend and cluster config
classes are instantiated from it, and the Slurm job and Kubernetes pod that dask-gateway would
submit are built from the result.
"""

from __future__ import annotations

import getpass
import types

import pytest
from dask_gateway_server.app import DaskGateway
from traitlets.config import Config

from tresor.core.errors import ConfigError
from tresor.core.site import load_site_config
from tresor.node import gateway as gw
from tresor.node import roles
from tresor.node.profiles import configure, prepare

GATEWAY = """
[gateway]
enabled = true
backend = "{backend}"
{url}max_clusters_per_user = 2
max_cores_per_user = 8
max_memory_per_user = "32 GiB"
worker_cores = 2
worker_memory = "4 GiB"
idle_timeout_seconds = 900

[gateway.slurm]
partition = "genomics"
account = "tre-dk"
image = "/opt/tresor/tresor-notebook.sif"
datasets_dir = "/srv/tresor/datasets"

[gateway.kubernetes]
namespace = "tresor"
image = "registry.example.org/tresor-notebook:1.0"
datasets_claim = "dk-datasets"
"""


def site_with(tmp_path, backend: str, url: str = ""):
    path = tmp_path / "site.toml"
    path.write_text(
        f'state_dir = "{tmp_path / "state"}"\n'
        '[accounts]\nresearchers = ["ann"]\n'
        + GATEWAY.format(backend=backend, url=url and f'url = "{url}"\n')
    )
    return load_site_config(path)


def load_as_dask_gateway(tmp_path, site, monkeypatch) -> DaskGateway:
    """Write the config file and load it into dask-gateway-server's application."""
    c = Config()
    gw.configure_gateway(c, site)
    path = tmp_path / "dask_gateway_config.py"
    path.write_text(gw.config_text(c))
    monkeypatch.setenv("JUPYTERHUB_API_TOKEN", "0" * 64)
    monkeypatch.setenv("JUPYTERHUB_API_URL", "http://127.0.0.1:8081/hub/api")
    app = DaskGateway()
    app.load_config_file(str(path))
    return app


def check_limits(backend, cluster_config):
    # each of 2 clusters gets half of 8 cores and 32 GiB; workers: (4 - 1 scheduler) // 2
    assert backend.max_clusters_per_user == 2
    assert cluster_config.cluster_max_cores == 4
    assert cluster_config.cluster_max_memory == 16 * 2**30
    assert cluster_config.cluster_max_workers == 1
    assert cluster_config.worker_cores == 2
    assert cluster_config.idle_timeout == 900


def test_slurm_config__loads_and_submits_jobs_in_the_notebook_image(tmp_path, monkeypatch):
    from dask_gateway_server.auth import JupyterHubAuthenticator
    from dask_gateway_server.backends.jobqueue.slurm import SlurmBackend, SlurmClusterConfig

    app = load_as_dask_gateway(tmp_path, site_with(tmp_path, "slurm"), monkeypatch)
    auth = app.authenticator_class(parent=app)
    assert isinstance(auth, JupyterHubAuthenticator)
    assert auth.jupyterhub_service_name == roles.GATEWAY_SERVICE
    assert auth.use_service_access_scopes
    backend = app.backend_class(parent=app, api_url="http://gateway.example:8095/api")
    assert isinstance(backend, SlurmBackend)
    config = backend.cluster_config_class(parent=backend)
    assert isinstance(config, SlurmClusterConfig)
    check_limits(backend, config)
    assert (config.partition, config.account) == ("genomics", "tre-dk")

    # the job dask-gateway would hand to sbatch for a worker
    cluster = types.SimpleNamespace(
        name="c1", username=getpass.getuser(), config=config, token="t",
        scheduler_address="tls://node7:8786",
    )  # fmt: skip
    worker = types.SimpleNamespace(name="w1", cluster=cluster)
    cmd, env, script = backend.get_submit_cmd_env_stdin(cluster, worker)
    assert "--partition=genomics" in cmd and "--account=tre-dk" in cmd
    assert "--cpus-per-task=2" in cmd
    run = "apptainer exec --bind /srv/tresor/datasets:/srv/tresor/datasets:ro"
    assert f"{run} /opt/tresor/tresor-notebook.sif dask worker tls://node7:8786" in script
    assert env["DASK_DISTRIBUTED__COMM__REQUIRE_ENCRYPTION"] == "True"
    # and the scheduler job, in the same image
    _, _, script = backend.get_submit_cmd_env_stdin(cluster)
    assert f"{run} /opt/tresor/tresor-notebook.sif dask scheduler --protocol tls" in script


def test_kubernetes_config__loads_and_makes_read_only_worker_pods(tmp_path, monkeypatch):
    from dask_gateway_server.backends.kubernetes import KubeBackend, KubeClusterConfig
    from dask_gateway_server.backends.kubernetes.controller import KubeController

    site = site_with(tmp_path, "kubernetes", url="http://traefik-dask-gateway.tresor")
    app = load_as_dask_gateway(tmp_path, site, monkeypatch)
    assert "address" not in app.config.DaskGateway  # the chart's, not ours
    backend = app.backend_class(parent=app)
    assert isinstance(backend, KubeBackend)
    assert backend.hub_api_url == site.gateway.kubernetes.hub_api_url
    config = backend.cluster_config_class(parent=backend)
    assert isinstance(config, KubeClusterConfig)
    check_limits(backend, config)
    assert config.namespace == "tresor"

    # the pods the chart's controller would create from this cluster config
    controller = KubeController(
        config=app.config, gateway_instance="tresor", api_url="http://api-dask-gateway/api"
    )
    worker = controller.make_pod("tresor", "c1", config, is_worker=True)
    (container,) = worker["spec"]["containers"]
    assert container["image"] == "registry.example.org/tresor-notebook:1.0"
    assert container["args"][:3] == ["dask", "worker", "tls://dask-c1.tresor:8786"]
    datasets = [m for m in container["volumeMounts"] if m["name"] == "tresor-datasets"]
    assert datasets == [
        {"name": "tresor-datasets", "mountPath": "/srv/tresor/datasets", "readOnly": True}
    ]
    claims = [v for v in worker["spec"]["volumes"] if "persistentVolumeClaim" in v]
    assert claims == [
        {
            "name": "tresor-datasets",
            "persistentVolumeClaim": {"claimName": "dk-datasets", "readOnly": True},
        }
    ]
    assert worker["spec"]["securityContext"]["runAsNonRoot"] is True
    assert worker["spec"]["automountServiceAccountToken"] is False
    assert container["securityContext"]["allowPrivilegeEscalation"] is False
    scheduler = controller.make_pod("tresor", "c1", config)
    (container,) = scheduler["spec"]["containers"]
    assert container["args"][:2] == ["dask", "scheduler"]
    assert "tresor-datasets" not in str(scheduler)  # only workers read data
    # the chart runs the gateway: the hub only routes to gateway.url
    prepare(site)
    c = Config()
    configure(c, site)
    service = next(s for s in c.JupyterHub.services if s["name"] == "dask-gateway")
    assert service["url"] == "http://traefik-dask-gateway.tresor"
    assert "command" not in service


def test_local_config__loads_with_this_environment_and_loopback_only(tmp_path, monkeypatch):
    from tresor.node.gateway_backends import TresorLocalBackend

    site = site_with(tmp_path, "local")
    app = load_as_dask_gateway(tmp_path, site, monkeypatch)
    backend = app.backend_class(parent=app)
    assert isinstance(backend, TresorLocalBackend)
    config = backend.cluster_config_class(parent=backend)
    check_limits(backend, config)
    assert config.scheduler_cmd[1:] == ["scheduler"] and config.scheduler_cmd[0].endswith("dask")
    assert app.address.startswith("127.0.0.1:")
    proxy = app.config.Proxy
    assert proxy.address.startswith("127.0.0.1:") and proxy.tcp_address.startswith("127.0.0.1:")
    assert proxy.prefix == "/services/dask-gateway"
    # the gateway's hub token is not passed on to schedulers and workers (they run user code)
    assert "JUPYTERHUB_API_TOKEN" not in backend.inherited_environment


def test_hub_config__gateway_service_role_and_server_environment(tmp_path):
    site = site_with(tmp_path, "local")
    prepare(site)
    c = Config()
    configure(c, site)
    service = next(s for s in c.JupyterHub.services if s["name"] == "dask-gateway")
    assert service["url"] == f"http://127.0.0.1:{site.gateway.port}"
    assert service["command"][-2:] == ["-f", str(gw.CONFIG_FILE)]
    token = site.state_path / "secrets" / "dask_gateway_service_token"
    assert token.stat().st_mode & 0o077 == 0
    assert service["api_token"] == token.read_text().strip()
    assert (site.state_path / "dask-gateway" / "clusters").stat().st_mode & 0o777 == 0o700
    role = next(r for r in c.JupyterHub.load_roles if r["name"] == "tresor-dask-gateway")
    assert role["scopes"] == ["read:servers"] and role["services"] == ["dask-gateway"]
    env = c.Spawner.environment  # a dict, or a pending update when no profile set one
    env = env.get_value({}) if hasattr(env, "get_value") else env
    assert env["DASK_GATEWAY__ADDRESS"] == f"{site.public_url}services/dask-gateway"
    assert env["DASK_GATEWAY__AUTH__TYPE"] == "jupyterhub"
    assert env["DASK_DISTRIBUTED__DASHBOARD__LINK"].endswith("tresor/dask/{port}/status")
    # researchers and their servers' tokens may use the gateway; reviewers and admins may not
    by_name = {r["name"]: r["scopes"] for r in c.JupyterHub.load_roles}
    assert roles.GATEWAY_ACCESS in by_name["tresor-researcher"]
    assert roles.GATEWAY_ACCESS in c.Spawner.server_token_scopes
    assert roles.GATEWAY_ACCESS not in by_name["tresor-airlock-reviewer"]
    assert roles.GATEWAY_ACCESS not in by_name["tresor-admin"]


def test_hub_config__missing_gateway_token_names_what_makes_it(tmp_path):
    site = site_with(tmp_path, "local")
    prepare(site)
    (site.state_path / "secrets" / "dask_gateway_service_token").unlink()
    missing = r"dask_gateway_service_token does not exist; `tresor node prepare`"
    with pytest.raises(ConfigError, match=missing):
        configure(Config(), site)


def test_hub_config__gateway_off_by_default(tmp_path):
    path = tmp_path / "site.toml"
    path.write_text(f'state_dir = "{tmp_path / "state"}"\n')
    site = load_site_config(path)
    prepare(site)
    c = Config()
    configure(c, site)
    assert "dask-gateway" not in {s["name"] for s in c.JupyterHub.services}
    assert "tresor-dask-gateway" not in {r["name"] for r in c.JupyterHub.load_roles}


@pytest.mark.parametrize(
    ("section", "problem"),
    [
        ("max_cores_per_user = 1", "cannot hold the scheduler"),
        ('max_memory_per_user = "2 GiB"\nmax_clusters_per_user = 2', "cannot hold the scheduler"),
        ('backend = "yarn"', "gateway.backend"),
        ("idle_timeout_seconds = 5", "idle_timeout_seconds"),
        ('[gateway.slurm]\nimage = "/my images/nb.sif"', "white space"),
        ("port = 8000", "must differ"),
    ],
)
def test_gateway_settings__bad_values_are_refused(tmp_path, section, problem):
    path = tmp_path / "site.toml"
    path.write_text(f"[gateway]\nenabled = true\n{section}\n")
    with pytest.raises(ConfigError, match=problem):
        load_site_config(path)
