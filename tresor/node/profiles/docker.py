"""The production profile: DockerSpawner on an internal network, PostgreSQL, OIDC login.

The hub runs in its own container, attached to an edge network (users reach the proxy) and to
an internal network with no route out, where every single-user server runs. Host paths under
``/srv/tresor`` are mounted at the same paths in the hub container, so the paths the hub reads
and the paths it asks Docker to mount agree. Ansible (``ansible/roles/hub``, ``airlock``,
``dask_gateway``) writes the site config and the secret files this profile reads; the hub
container runs :func:`prepare` (``tresor node prepare``) before JupyterHub.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from tresor.core.errors import ConfigError
from tresor.core.secrets import check_private_file
from tresor.core.site import DockerSettings, SiteConfig
from tresor.node.profiles import common
from tresor.node.roles import GATEWAY_SERVICE

#: the command the single-user container runs (fixed here, not taken from the image)
SINGLEUSER_CMD = ["jupyterhub-singleuser"]


def read_secret_file(path: Path, what: str) -> str:
    """The stripped content of a secret file that only its owner can read."""
    if not path.is_file():
        raise ConfigError(
            f"{what} file {path} does not exist; the hub role of ansible/ writes it from the "
            "vault (or create it by hand with mode 0600)"
        )
    check_private_file(path)
    value = path.read_text(encoding="utf-8").strip()
    if not value:
        raise ConfigError(f"{what} file {path} is empty")
    return value


def database_url(docker: DockerSettings) -> str:
    """The hub's PostgreSQL URL, refusing anything but PostgreSQL (never echoing a password)."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    url = read_secret_file(docker.database_url_file, "database URL")
    try:
        driver = make_url(url).drivername
    except ArgumentError:
        driver = ""
    if not driver.startswith("postgresql"):
        raise ConfigError(
            f"database URL in {docker.database_url_file} is not a PostgreSQL URL; write "
            "postgresql+psycopg://USER:PASSWORD@HOST:5432/DATABASE"
        )
    return url


def container_security(docker: DockerSettings) -> dict:
    """Host-config settings for every single-user container: least privilege, bounded."""
    return {
        "cap_drop": ["ALL"],
        "security_opt": ["no-new-privileges:true"],
        "read_only": True,
        "tmpfs": {"/tmp": f"rw,nosuid,nodev,size={docker.tmp_size}"},  # noqa: S108
        "pids_limit": docker.pids_limit,
        "memswap_limit": docker.mem_limit,  # no swap beyond the memory limit
        "ipc_mode": "private",
        "init": True,
    }


def prepare(site: SiteConfig) -> dict[str, str]:
    """The shared secrets and, with internal SSL, the certificates of the airlock, gateway and
    federation agent containers. No local accounts (people log in with OIDC), so no passwords
    to show.

    The containers' certificates must be signed by the CA the hub then uses. JupyterHub makes
    its CAs at its own start, but only those its store lacks, and has no hook between making
    them and serving; so this step, run before the hub (the hub image runs ``tresor node
    prepare`` first), makes the CAs in the hub's store as JupyterHub would
    (:mod:`tresor.node.internal_ssl`) and the hub reuses them.
    """
    from tresor.node.internal_ssl import external_service_certs

    paths = common.prepare(site)
    docker = _docker_settings(site)
    if docker.internal_ssl:
        ssl_dir = paths["internal_ssl"]
        external_service_certs(
            ssl_dir, "airlock", [docker.airlock_hostname], owner_uid=docker.airlock_uid
        )
        if site.gateway.enabled:
            gateway_host = urlsplit(site.gateway.url).hostname
            external_service_certs(ssl_dir, GATEWAY_SERVICE, [gateway_host])
        if site.federation.enabled:  # the agent's container calls the airlock with it
            name = site.federation.hub_service
            external_service_certs(ssl_dir, name, [name], owner_uid=docker.notebook_uid)
    return {}


def _docker_settings(site: SiteConfig) -> DockerSettings:
    """The site's ``[docker]`` section, which this profile needs."""
    if site.docker is None:  # pragma: no cover - SiteConfig validation requires the section
        raise ConfigError(f"site config {site.source}: profile 'docker' needs a [docker] section")
    return site.docker


def configure(c, site: SiteConfig) -> None:
    """Apply the production profile to the JupyterHub config object ``c``."""
    from tresor.node.docker_spawner import TresorDockerSpawner
    from tresor.node.oidc import TresorOIDCAuthenticator

    docker = _docker_settings(site)
    # -- hub and proxy; memberships come from the authenticator at each login (manage_groups);
    # the airlock and gateway run in their own containers: the hub routes to them
    profile = common.Profile(
        hub_ip="0.0.0.0",  # noqa: S104 - in its container, reached on the internal network
        proxy_scheme="https" if docker.internal_ssl else "http",
        load_groups=False,
        hub_runs_airlock=False,
        db_url=database_url(docker),
    )
    paths = common.configure(c, site, profile)
    ssl_dir = paths["internal_ssl"]
    c.JupyterHub.hub_connect_ip = docker.hub_hostname
    c.JupyterHub.internal_ssl = docker.internal_ssl
    c.JupyterHub.internal_certs_location = str(ssl_dir)
    c.JupyterHub.trusted_alt_names = [f"DNS:{docker.hub_hostname}"]
    if docker.tls_cert_file and docker.tls_key_file:
        c.JupyterHub.ssl_cert = str(docker.tls_cert_file)
        c.JupyterHub.ssl_key = str(docker.tls_key_file)

    # -- login: OIDC, groups from the site config plus mapped claims ---------------------------
    oidc = docker.oidc
    c.JupyterHub.authenticator_class = TresorOIDCAuthenticator
    auth = c.TresorOIDCAuthenticator
    auth.login_service = oidc.display_name
    auth.client_id = oidc.client_id
    auth.client_secret = read_secret_file(oidc.client_secret_file, "OIDC client secret")
    auth.authorize_url = oidc.authorize_url
    auth.token_url = oidc.token_url
    auth.userdata_url = oidc.userdata_url
    auth.oauth_callback_url = oidc.callback_url
    auth.scope = list(oidc.scope)
    auth.username_claim = oidc.username_claim
    auth.groups_claim = oidc.groups_claim
    auth.group_map = dict(oidc.group_map)
    auth.manage_groups = True
    auth.site_groups = {
        user: sorted(g for g, members in site.hub_groups.items() if user in members)
        for user in site.login_users
    }

    # -- single-user containers ----------------------------------------------------------------
    c.JupyterHub.spawner_class = TresorDockerSpawner
    spawner = c.TresorDockerSpawner
    spawner.image = docker.image
    spawner.allowed_images = {}  # users cannot choose an image
    spawner.pull_policy = "never"  # only images an admin loaded onto the node
    spawner.remove = True
    spawner.prefix = "tresor"  # containers are tresor-<username>
    spawner.cmd = SINGLEUSER_CMD
    spawner.network_name = docker.internal_network
    spawner.use_internal_ip = True
    spawner.use_internal_hostname = docker.internal_ssl  # certificates name the container
    spawner.client_kwargs = {"version": docker.api_version}
    spawner.mem_limit = docker.mem_limit
    spawner.cpu_limit = docker.cpu_limit
    spawner.notebook_dir = "/home/tresor"
    spawner.workspace_path = "/home/tresor"
    spawner.catalogue_dir = str(site.catalogue_path)
    spawner.data_root = str(docker.data_root)
    spawner.workspaces_root = str(site.workspaces_path)
    spawner.notebook_uid = docker.notebook_uid
    spawner.notebook_gid = docker.notebook_gid
    spawner.certs_volume_name = str(ssl_dir / "servers" / "{username}")
    spawner.extra_create_kwargs = {
        "user": f"{docker.notebook_uid}:{docker.notebook_gid}",
        "working_dir": "/home/tresor",
    }
    spawner.extra_host_config = container_security(docker)
    c.Spawner.disable_user_config = True
    c.Spawner.http_timeout = 120
    c.Spawner.start_timeout = 300
