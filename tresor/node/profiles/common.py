"""What every profile shares: the state directory's files, the secrets preparation makes, and
the hub, proxy, roles, groups and services settings.

A profile passes in what it does differently (:class:`Profile`); nothing is undone afterwards.
:func:`prepare` creates files, :func:`configure` only reads them.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from tresor.core.errors import ConfigError
from tresor.core.paths import REPO_ROOT
from tresor.core.secrets import ensure_private_dir, ensure_secret, read_secret
from tresor.core.site import BEACON_SERVICE, SiteConfig
from tresor.node import gateway, roles, terms
from tresor.node.processes import python_module

#: the secrets every profile reads (keys of :func:`state_paths`), with the Ansible role that
#: also writes each on a production node
GENERATED_SECRETS = {
    "cookie_secret": "hub",
    "proxy_token": "hub",
    "culler_token": "hub",
    "airlock_token": "airlock",
}


@dataclass(frozen=True)
class Profile:
    """What a profile sets differently in the settings all profiles share."""

    #: where the hub API listens: loopback, or every interface of the hub's own container
    hub_ip: str
    #: the proxy's API: ``https`` with internal SSL
    proxy_scheme: str
    #: hub groups: loaded from the site config at each start (True), or set by the
    #: authenticator at each login (False; ``load_groups`` stays empty)
    load_groups: bool
    #: the airlock: started and stopped by the hub (True), or run in its own container, the hub
    #: only routing to it (False)
    hub_runs_airlock: bool
    #: the hub database; None: SQLite in the state directory
    db_url: str | None = None


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
        # the federation agent's hub service token ([federation] enabled)
        "federation_token": state / "secrets" / "federation_agent_token",
        # the node's own Beacon's hub service token ([discovery] enabled)
        "beacon_token": state / "secrets" / "beacon_service_token",
        "airlock_dir": state / "airlock",
        # the working directory of the services the hub starts: empty, so that nothing a
        # service or its children run relative to it finds data (they also run python -P)
        "services_cwd": state / "services",
        "internal_ssl": state / "internal-ssl",  # JupyterHub's certificates (docker profile)
    }


def prepared_secret(path: Path, role: str = "hub") -> str:
    """A secret that :func:`prepare` made (on a production node also the Ansible ``role``)."""
    return read_secret(
        path, made_by=f"`tresor node prepare` (on a production node also the Ansible {role} role)"
    )


def prepare(site: SiteConfig) -> dict[str, Path]:
    """Private state, secrets and workspaces directories, and the secrets :func:`configure`
    reads (generated once, mode 0600). Returns the paths."""
    paths = state_paths(site)
    private = ("state", "secrets", "services_cwd")
    for directory in (*(paths[key] for key in private), site.workspaces_path):
        ensure_private_dir(directory)
    for key in GENERATED_SECRETS:
        ensure_secret(paths[key])
    if site.federation.enabled:
        ensure_secret(paths["federation_token"])
    if site.discovery.enabled:
        ensure_secret(paths["beacon_token"])
    if site.gateway.enabled:
        gateway.prepare(site)
    return paths


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


def configure(c, site: SiteConfig, profile: Profile) -> dict[str, Path]:
    """The shared settings: hub and proxy addresses, secrets, pid files, database, roles,
    groups, login rules, the airlock and idle-culler services, dask. Returns the paths."""
    paths = state_paths(site)
    secrets = {key: prepared_secret(paths[key], role) for key, role in GENERATED_SECRETS.items()}
    # -- hub and proxy ---------------------------------------------------------------------
    c.JupyterHub.ip = site.hub.ip
    c.JupyterHub.port = site.hub.port
    c.JupyterHub.hub_ip = profile.hub_ip
    c.JupyterHub.hub_port = site.hub.hub_port
    c.ConfigurableHTTPProxy.api_url = (
        f"{profile.proxy_scheme}://127.0.0.1:{site.hub.proxy_api_port}"
    )
    c.ConfigurableHTTPProxy.command = proxy_command()
    c.ConfigurableHTTPProxy.auth_token = secrets["proxy_token"]
    c.ConfigurableHTTPProxy.pid_file = str(paths["state"] / "jupyterhub-proxy.pid")
    c.JupyterHub.cookie_secret_file = str(paths["cookie_secret"])
    c.JupyterHub.db_url = profile.db_url or f"sqlite:///{paths['hub_db']}"
    c.JupyterHub.pid_file = str(paths["state"] / "jupyterhub.pid")
    # -- who may do what ---------------------------------------------------------------------
    c.JupyterHub.load_roles = roles.hub_roles()
    c.JupyterHub.load_groups = (
        {name: {"users": members} for name, members in site.hub_groups.items()}
        if profile.load_groups
        else {}
    )
    c.Authenticator.allow_all = False
    c.Authenticator.allowed_users = set(site.login_users)
    c.Authenticator.admin_users = set()  # the admins group has a scoped role instead
    c.Spawner.server_token_scopes = roles.SERVER_TOKEN_SCOPES
    c.Spawner.default_url = "/lab"
    terms.configure(c, site)  # login page; no server before the data use terms are accepted
    # -- services --------------------------------------------------------------------------
    c.JupyterHub.services = [
        airlock_service(site, secrets["airlock_token"], hub_runs_it=profile.hub_runs_airlock),
        {
            "name": "idle-culler",
            "api_token": secrets["culler_token"],
            "command": python_module(
                "jupyterhub_idle_culler", f"--timeout={site.hub.idle_timeout_seconds}"
            ),
        },
    ]
    if site.federation.enabled:
        token = prepared_secret(paths["federation_token"], "federation_agent")
        c.JupyterHub.services.append(
            federation_agent_service(site, token, hub_runs_it=profile.hub_runs_airlock)
        )
        c.JupyterHub.load_roles.append(roles.federation_agent_role(site.federation.hub_service))
    # tresor.airlock.submit() in a notebook talks to the airlock with the server's hub token
    c.Spawner.environment = {"TRESOR_AIRLOCK_URL": site.airlock_service_url}
    if site.discovery.enabled:
        token = prepared_secret(paths["beacon_token"])
        c.JupyterHub.services.append(beacon_service(site, token))
        c.Spawner.environment["TRESOR_BEACON_URL"] = site.beacon_service_url
    gateway.configure_hub(c, site)
    for service in c.JupyterHub.services:
        if "command" in service:  # the hub starts it: never in a directory holding data
            service["cwd"] = str(paths["services_cwd"])
    return paths


#: the node's egress proxy settings, passed on to the federation agent (the hub gives managed
#: services only the variables it is told to)
PROXY_VARIABLES = ("HTTPS_PROXY", "HTTP_PROXY", "NO_PROXY", "https_proxy", "http_proxy", "no_proxy")


def federation_agent_service(site: SiteConfig, api_token: str, *, hub_runs_it: bool) -> dict:
    """The hub's entry for the federation agent: no web page, a token that the airlock takes as
    the federation account; with ``hub_runs_it``, the command the hub starts and restarts."""
    service = {"name": site.federation.hub_service, "api_token": api_token, "display": False}
    if not hub_runs_it:  # production: a systemd unit (ansible/roles/federation_agent)
        return service
    environment = {
        "TRESOR_SITE_CONFIG": str(site.source or ""),
        "TRESOR_STATE_DIR": str(site.state_path),
        "TRESOR_AIRLOCK_URL": site.airlock_service_url,
    }
    environment.update({k: os.environ[k] for k in PROXY_VARIABLES if k in os.environ})
    return service | {
        "command": python_module("tresor", "federation", "agent"),
        "environment": environment,
    }


def beacon_service(site: SiteConfig, api_token: str) -> dict:
    """The hub's entry for the node's own Beacon (``tresor discovery beacon``), which the hub
    starts; it asks the hub who holds each token and needs no scopes of its own."""
    return {
        "name": BEACON_SERVICE,
        "url": f"http://127.0.0.1:{site.discovery.port}",
        "api_token": api_token,
        "display": False,  # an API for kernels and tokens, no page to open
        "command": python_module("tresor", "discovery", "beacon"),
        "environment": {
            "TRESOR_SITE_CONFIG": str(site.source or ""),
            "TRESOR_STATE_DIR": str(site.state_path),
        },
    }


def airlock_service(site: SiteConfig, api_token: str, *, hub_runs_it: bool) -> dict:
    """The hub's airlock service entry; with ``hub_runs_it``, the command the hub starts."""
    service = {
        "name": "airlock",
        "display": True,
        "url": site.airlock_url,
        "api_token": api_token,
        "oauth_no_confirm": True,
    }
    if not hub_runs_it:
        return service
    return service | {
        "command": python_module("airlock", "serve", "--port", str(site.airlock.port)),
        "environment": {
            "TRESOR_SITE_CONFIG": str(site.source or ""),
            "TRESOR_STATE_DIR": str(site.state_path),
        },
    }
