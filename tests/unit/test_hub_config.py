"""The hub configuration built from a site config, without starting a hub."""

import pytest
from traitlets.config import Config

from tresor.core.errors import ConfigError
from tresor.core.site import ROLE_GROUPS, load_site_config
from tresor.node import roles
from tresor.node.profiles import configure, prepare


@pytest.fixture
def site(tmp_path):
    path = tmp_path / "site.toml"
    path.write_text(
        f'state_dir = "{tmp_path / "state"}"\n'
        '[accounts]\nresearchers = ["ann"]\nairlock_reviewers = ["rev"]\nadmins = ["adm"]\n'
        '[projects.nordic]\nmembers = ["ann"]\n'
    )
    return load_site_config(path)


def test_configure_local__loopback_sqlite_no_allow_all(site):
    prepare(site)
    c = Config()
    configure(c, site)
    assert c.JupyterHub.ip == "127.0.0.1"
    assert c.JupyterHub.db_url.startswith("sqlite:///")
    assert c.Authenticator.allow_all is False
    assert c.Authenticator.allowed_users == {"ann", "rev", "adm"}
    assert c.Authenticator.admin_users == set()
    assert c.JupyterHub.load_groups["nordic"] == {"users": ["ann"]}
    assert {s["name"] for s in c.JupyterHub.services} == {"airlock", "idle-culler"}
    secrets = site.state_path / "secrets"
    for name in ("jupyterhub_cookie_secret", "proxy_auth_token", "airlock_service_token"):
        assert (secrets / name).stat().st_mode & 0o077 == 0


def test_configure__reads_the_prepared_secrets_and_makes_none(site):
    with pytest.raises(
        ConfigError, match=r"jupyterhub_cookie_secret does not exist; `tresor node prepare`"
    ):
        configure(Config(), site)
    assert not site.state_path.exists()
    prepare(site)
    token = site.state_path / "secrets" / "airlock_service_token"
    c = Config()
    configure(c, site)
    services = {s["name"]: s for s in c.JupyterHub.services}
    assert services["airlock"]["api_token"] == token.read_text().strip()
    token.unlink()
    with pytest.raises(ConfigError, match=rf"{token} does not exist; `tresor node prepare`"):
        configure(Config(), site)
    assert not token.exists()


def test_configure_local__refuses_a_public_address(tmp_path):
    path = tmp_path / "site.toml"
    path.write_text(f'state_dir = "{tmp_path}/s"\n[hub]\nip = "0.0.0.0"\n')
    with pytest.raises(ConfigError, match="loopback only"):
        configure(Config(), load_site_config(path))


def test_configure_docker__fails_with_a_clear_message(tmp_path):
    path = tmp_path / "site.toml"
    path.write_text('profile = "docker"\n')
    with pytest.raises(ConfigError, match="profile 'docker'"):
        configure(Config(), load_site_config(path))


def test_hub_roles__every_role_group_has_a_role():
    assigned = {g for r in roles.hub_roles() for g in r.get("groups", [])}
    assert assigned == set(ROLE_GROUPS)


def test_hub_roles__least_privilege():
    by_name = {r["name"]: set(r["scopes"]) for r in roles.hub_roles()}
    # no one gets JupyterHub's "self" (which includes tokens and admin of oneself)
    assert all("self" not in scopes for scopes in by_name.values())
    # admins cannot open researchers' servers; reviewers get no server at all
    assert not any(s.startswith("access:servers") for s in by_name["tresor-admin"])
    assert not any("servers" in s for s in by_name["tresor-airlock-reviewer"])
    assert not any(s.startswith("tokens") for scopes in by_name.values() for s in scopes)


def test_services_and_servers__python_safe_path_in_an_empty_directory(tmp_path):
    """Every Python process the hub starts runs ``python -P -m``: a folder named like a module
    in its working directory is never imported; services run in the empty services dir."""
    from tresor.node.spawner import TresorLocalSpawner

    path = tmp_path / "site.toml"
    path.write_text(f'state_dir = "{tmp_path / "state"}"\n[gateway]\nenabled = true\n')
    site = load_site_config(path)
    prepare(site)
    c = Config()
    configure(c, site)
    started = [s for s in c.JupyterHub.services if "command" in s]
    assert {s["name"] for s in started} == {"airlock", "idle-culler", "dask-gateway"}
    cwd = site.state_path / "services"
    for service in started:
        assert service["command"][1:3] == ["-P", "-m"], service
        assert service["cwd"] == str(cwd)
    assert cwd.is_dir() and not any(cwd.iterdir())
    assert TresorLocalSpawner().cmd[1:3] == ["-P", "-m"]
