"""Turn a site config into JupyterHub configuration: the ``local`` and ``docker`` profiles.

Called from ``jupyterhub_config.py`` as ``configure(c, load_site_config())``; it only sets traits.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from tresor.core.errors import ConfigError
from tresor.core.paths import REPO_ROOT
from tresor.core.secrets import ensure_private_dir, ensure_secret
from tresor.core.site import SiteConfig
from tresor.node import gateway, roles

#: the airlock's path, on the hub's public URL and on the service itself
AIRLOCK_PREFIX = "/services/airlock/"


def proxy_command() -> list[str]:
    """configurable-http-proxy installed by the project (npm), else one on PATH."""
    local = REPO_ROOT / "node_modules" / ".bin" / "configurable-http-proxy"
    if local.exists():
        return [str(local)]
    if found := shutil.which("configurable-http-proxy"):
        return [found]
    raise ConfigError(
        "configurable-http-proxy is not installed; run scripts/bootstrap.sh (it runs npm ci) "
        "or: npm install configurable-http-proxy"
    )


def state_paths(site: SiteConfig) -> dict[str, Path]:
    """Files the hub keeps in the state directory."""
    state = site.state_path
    return {
        "state": state,
        "secrets": state / "secrets",
        "accounts": state / "secrets" / "accounts.json",
        "jupyter": state / "jupyter",
        "hub_db": state / "jupyterhub.sqlite",
        "cookie_secret": state / "secrets" / "jupyterhub_cookie_secret",
        "proxy_token": state / "secrets" / "proxy_auth_token",
        "airlock_token": state / "secrets" / "airlock_service_token",
        "culler_token": state / "secrets" / "idle_culler_token",
        "airlock_dir": state / "airlock",
    }


def configure(c, site: SiteConfig) -> None:
    """Apply the site's profile to the JupyterHub config object ``c``."""
    if site.profile == "local":
        configure_local(c, site)
    elif site.profile == "docker":
        from tresor.node.docker_profile import configure_docker

        configure_docker(c, site)
    else:  # pragma: no cover - SiteConfig validation allows only these two
        raise ConfigError(f"unknown profile {site.profile!r}")


def configure_common(c, site: SiteConfig, paths: dict[str, Path]) -> None:
    """Settings both profiles share: roles, groups, services, culling, no allow_all."""
    c.JupyterHub.load_roles = roles.hub_roles()
    c.JupyterHub.load_groups = {
        name: {"users": members} for name, members in site.hub_groups.items()
    }
    c.Authenticator.allow_all = False
    c.Authenticator.allowed_users = set(site.accounts.all_users)
    c.Authenticator.admin_users = set()  # the admins group has a scoped role instead
    c.Spawner.server_token_scopes = roles.SERVER_TOKEN_SCOPES
    c.Spawner.default_url = "/lab"
    c.JupyterHub.services = [
        {
            "name": "airlock",
            "display": True,
            "url": site.airlock_url,
            "api_token": ensure_secret(paths["airlock_token"]),
            "oauth_no_confirm": True,
            "command": [sys.executable, "-m", "airlock", "serve", "--port", str(site.airlock.port)],
            "environment": {
                "TRESOR_SITE_CONFIG": str(site.source or ""),
                "TRESOR_STATE_DIR": str(site.state_path),
            },
        },
        {
            "name": "idle-culler",
            "api_token": ensure_secret(paths["culler_token"]),
            "command": [
                sys.executable,
                "-m",
                "jupyterhub_idle_culler",
                f"--timeout={site.hub.idle_timeout_seconds}",
            ],
        },
    ]
    # tresor.airlock.submit() in a notebook talks to the airlock with the server's hub token
    c.Spawner.environment = {"TRESOR_AIRLOCK_URL": f"{site.airlock_url}{AIRLOCK_PREFIX}"}
    gateway.configure_hub(c, site)


def configure_hub_and_proxy(
    c, site: SiteConfig, *, hub_ip: str, proxy_scheme: str, db_url: str | None
) -> dict[str, Path]:
    """What every profile sets alike: the private state and secrets directories, the hub's
    and proxy's addresses, the proxy token and cookie secret (generated at first start), pid
    files and the hub database (``db_url``; None: SQLite in the state dir). Returns the paths."""
    paths = state_paths(site)
    ensure_private_dir(paths["state"])
    ensure_private_dir(paths["secrets"])
    c.JupyterHub.ip = site.hub.ip
    c.JupyterHub.port = site.hub.port
    c.JupyterHub.hub_ip = hub_ip
    c.JupyterHub.hub_port = site.hub.hub_port
    c.ConfigurableHTTPProxy.api_url = f"{proxy_scheme}://127.0.0.1:{site.hub.proxy_api_port}"
    c.ConfigurableHTTPProxy.command = proxy_command()
    c.ConfigurableHTTPProxy.auth_token = ensure_secret(paths["proxy_token"])
    c.ConfigurableHTTPProxy.pid_file = str(paths["state"] / "jupyterhub-proxy.pid")
    c.JupyterHub.cookie_secret_file = str(paths["cookie_secret"])
    ensure_secret(paths["cookie_secret"])
    c.JupyterHub.db_url = db_url or f"sqlite:///{paths['hub_db']}"
    c.JupyterHub.pid_file = str(paths["state"] / "jupyterhub.pid")
    return paths


def configure_local(c, site: SiteConfig) -> None:
    """The embedded default: loopback only, local processes, SQLite, local accounts."""
    from tresor.node.auth import TresorLocalAuthenticator
    from tresor.node.spawner import TresorLocalSpawner

    if site.hub.ip not in ("127.0.0.1", "localhost", "::1"):
        raise ConfigError(
            f"the local profile listens on loopback only, not {site.hub.ip!r}; "
            "use the docker profile for a node that others reach"
        )
    paths = configure_hub_and_proxy(c, site, hub_ip="127.0.0.1", proxy_scheme="http", db_url=None)

    c.JupyterHub.authenticator_class = TresorLocalAuthenticator
    c.TresorLocalAuthenticator.accounts_file = str(paths["accounts"])

    c.JupyterHub.spawner_class = TresorLocalSpawner
    c.TresorLocalSpawner.workspaces_root = str(site.workspaces_path)
    c.TresorLocalSpawner.jupyter_data_dir = str(paths["jupyter"])
    c.TresorLocalSpawner.catalogue_dir = str(site.catalogue_path)
    c.Spawner.http_timeout = 60
    c.Spawner.start_timeout = 120
    configure_common(c, site, paths)
