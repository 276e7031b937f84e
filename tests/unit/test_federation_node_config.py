"""A node in a federation: the ``[federation]`` policy in the site config, the agent as a hub
service whose token the airlock takes as the federation account, and no login for it."""

from __future__ import annotations

import sys

import pytest
from traitlets.config import Config

from airlock.api.deps import ACCESS_SCOPE, user_from_model
from airlock.config import Settings
from tresor.core.errors import ConfigError
from tresor.core.site import load_site_config
from tresor.node.accounts import AccountStore
from tresor.node.profiles import configure, prepare

BASE = """
[accounts]
researchers = ["ann", "federation"]
airlock_reviewers = ["rev1", "rev2"]
admins = ["adm"]
[projects.nordic]
members = ["ann", "federation"]
[projects.local-only]
members = ["ann"]
"""

FEDERATION = """
[federation]
enabled = true
registry = "registry.toml"
poll_seconds = 5
analyses = ["allele_counts"]
datasets = ["dk"]
projects = { "nordic-gwas" = "nordic" }
"""


def site_with(tmp_path, federation: str = FEDERATION, base: str = BASE):
    path = tmp_path / "site.toml"
    path.write_text(f'state_dir = "{tmp_path / "state"}"\n{base}{federation}')
    return load_site_config(path)


def test_federation_policy__paths_defaults_and_groups(tmp_path):
    site = site_with(tmp_path)
    f = site.federation
    assert f.enabled and f.account == "federation" and f.projects == {"nordic-gwas": "nordic"}
    assert site.federation_registry_path == tmp_path / "registry.toml"  # relative to the file
    # the agent's own directory (an isolated node's agent account owns it), unless a node made
    # before 2026-12 still has its key in the secrets directory, until a start moves it
    assert site.federation_agent_key_path == site.state_path / "federation" / "agent_key.pem"
    site.legacy_federation_agent_key_path.parent.mkdir(parents=True)
    site.legacy_federation_agent_key_path.write_text("key")
    assert site.federation_agent_key_path == site.legacy_federation_agent_key_path
    (site.state_path / "federation").mkdir()  # both: the new one wins
    (site.state_path / "federation" / "agent_key.pem").write_text("key")
    assert site.federation_agent_key_path == site.state_path / "federation" / "agent_key.pem"
    assert site.groups_of("federation") == {"researchers", "nordic"}
    assert "federation" not in site.login_users and "ann" in site.login_users
    assert site.airlock_service_url.endswith(":8090/services/airlock/")
    off = site_with(tmp_path, federation="")
    assert not off.federation.enabled and "federation" in off.login_users


@pytest.mark.parametrize(
    ("federation", "message"),
    [
        ("[federation]\nenabled = true\n", "federation.registry is required"),
        (
            FEDERATION.replace('"nordic" }', '"local-only" }'),
            "must be a member of project 'local-only'",
        ),
        (FEDERATION.replace('"nordic" }', '"nowhere" }'), "'nowhere', which is not a project"),
        (FEDERATION + 'account = "ann2"\n', "must be listed in accounts.researchers"),
        (FEDERATION + 'account = "Fed"\n', "federation.account 'Fed' is not allowed"),
        (FEDERATION + 'address = "https://dk.example"\n', "federation.address"),
    ],
    ids=["no-registry", "not-a-member", "unknown-project", "not-a-researcher", "bad-name",
         "no-addresses"],
)  # fmt: skip
def test_federation_policy__refuses_what_would_not_work(tmp_path, federation, message):
    with pytest.raises(ConfigError, match=message):
        site_with(tmp_path, federation)


def test_federation_policy__the_account_is_no_reviewer(tmp_path):
    base = BASE.replace(
        'airlock_reviewers = ["rev1", "rev2"]', 'airlock_reviewers = ["federation"]'
    )
    with pytest.raises(ConfigError, match="may not be a reviewer or an admin"):
        site_with(tmp_path, base=base)


def test_hub__runs_the_agent_as_a_service_the_account_never_logs_in(tmp_path, monkeypatch):
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    site = site_with(tmp_path)
    passwords = prepare(site)
    assert "federation" not in passwords and "ann" in passwords
    assert "federation" not in AccountStore(site.state_path / "secrets" / "accounts.json").names()
    c = Config()
    configure(c, site)
    assert "federation" not in c.Authenticator.allowed_users
    services = {s["name"]: s for s in c.JupyterHub.services}
    agent = services["federation-agent"]
    token = (site.state_path / "secrets" / "federation_agent_token").read_text().strip()
    assert agent["api_token"] == token
    assert agent["command"] == [sys.executable, "-P", "-m", "tresor", "federation", "agent"]
    assert agent["environment"]["TRESOR_AIRLOCK_URL"] == site.airlock_service_url
    assert agent["environment"]["HTTPS_PROXY"] == "http://proxy.example:3128"
    assert "url" not in agent  # nothing connects to it
    role = next(r for r in c.JupyterHub.load_roles if r["name"] == "tresor-federation-agent")
    assert role == {
        "name": "tresor-federation-agent",
        "description": role["description"],
        "scopes": [ACCESS_SCOPE],
        "services": ["federation-agent"],
    }


def test_airlock__takes_the_agent_service_as_the_federation_account(tmp_path):
    settings = Settings.from_site(site_with(tmp_path))
    assert settings.federation_service == "federation-agent"
    model = {"kind": "service", "name": "federation-agent", "scopes": [ACCESS_SCOPE]}
    user = user_from_model(model, {ACCESS_SCOPE}, settings)
    assert user.name == "federation" and user.federation_agent
    assert user.groups == {"researchers", "nordic"}
    other = {"kind": "service", "name": "idle-culler", "scopes": [ACCESS_SCOPE]}
    from airlock.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied, match="not services"):
        user_from_model(other, {ACCESS_SCOPE}, settings)
    with pytest.raises(PermissionDenied, match="does not allow access"):
        user_from_model({**model, "scopes": []}, {ACCESS_SCOPE}, settings)
    # a hub *user* named like the account is not the agent: it cannot bind requests
    login = user_from_model(
        {"kind": "user", "name": "federation", "groups": ["researchers"], "scopes": [ACCESS_SCOPE]},
        {ACCESS_SCOPE},
        settings,
    )
    assert not login.federation_agent
    without = Settings.from_site(site_with(tmp_path, federation=""))
    with pytest.raises(PermissionDenied, match="not services"):
        user_from_model(model, {ACCESS_SCOPE}, without)
