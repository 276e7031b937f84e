"""The embedded default profile: loopback only, local processes, SQLite, local accounts.

Started as root it isolates researchers with OS accounts (:mod:`tresor.node.isolation`);
otherwise it runs every server as its own user and says loudly what that leaves open.
"""

from __future__ import annotations

from tresor.core.errors import ConfigError
from tresor.core.site import BEACON_SERVICE, SiteConfig
from tresor.node import accounts_os, isolation
from tresor.node.accounts import AccountStore
from tresor.node.kernelspec import install_kernelspec, install_labextension
from tresor.node.profiles import common

PROFILE = common.Profile(
    hub_ip="127.0.0.1", proxy_scheme="http", load_groups=True, hub_runs_airlock=True
)


def prepare(site: SiteConfig) -> dict[str, str]:
    """The shared secrets, the local accounts and the kernelspec the servers use; started as
    root, the isolation (accounts, runtime, modes, firewall).

    Returns new accounts' passwords (shown once, stored only as hashes)."""
    paths = common.prepare(site)
    new_passwords = AccountStore(paths["accounts"]).ensure(site.login_users)
    assessment = isolation.assess(site)
    if assessment.enabled:
        record = isolation.prepare(site)
        python = record.python
    else:
        if site.isolation == "required":
            raise ConfigError(
                'the site config requires isolation ("required"), which this start cannot '
                "provide: " + "; ".join(assessment.reasons)
            )
        isolation.clear_record(site)
        python = None
    kernelspec = {"python": python} if python else {}
    install_kernelspec(paths["jupyter"], catalogue=site.catalogue_path, **kernelspec)
    install_labextension(paths["jupyter"])
    return new_passwords


def configure(c, site: SiteConfig) -> None:
    """Apply the local profile to the JupyterHub config object ``c``."""
    from tresor.node.auth import TresorLocalAuthenticator
    from tresor.node.spawner import TresorLocalSpawner

    if site.hub.ip not in ("127.0.0.1", "localhost", "::1"):
        raise ConfigError(
            f"the local profile listens on loopback only, not {site.hub.ip!r}; "
            "use the docker profile for a node that others reach"
        )
    paths = common.configure(c, site, PROFILE)

    c.JupyterHub.authenticator_class = TresorLocalAuthenticator
    c.TresorLocalAuthenticator.accounts_file = str(paths["accounts"])

    c.JupyterHub.spawner_class = TresorLocalSpawner
    c.TresorLocalSpawner.workspaces_root = str(site.workspaces_path)
    c.TresorLocalSpawner.jupyter_data_dir = str(paths["jupyter"])
    c.TresorLocalSpawner.catalogue_dir = str(site.catalogue_path)
    c.Spawner.http_timeout = 60
    c.Spawner.start_timeout = 120
    record = isolation.Record.load(site) if isolation.assess(site).enabled else None
    if record is None:
        return
    c.TresorLocalSpawner.isolated = True
    c.TresorLocalSpawner.site_config = str(site.source or "")
    c.TresorLocalSpawner.runtime_python = record.python
    c.TresorLocalSpawner.runtime_code = record.code
    accounts = {"airlock": record.airlock_account}
    if site.discovery.enabled:
        accounts[BEACON_SERVICE] = accounts_os.beacon_account(site.node_name)
    if (agent := isolation.agent_user(site)) is not None:
        accounts[site.federation.hub_service] = accounts_os.user_account(site.node_name, agent)
    for service in c.JupyterHub.services:
        if service["name"] in accounts:  # its own account, from the shared runtime
            service["user"] = accounts[service["name"]]
            service["command"] = [record.python, *service["command"][1:]]
            service["environment"] = {
                **service["environment"],
                "TRESOR_SITE_CONFIG": record.site_config,
                "PYTHONPATH": record.code,
            }
