"""The node's own Beacon in the site config and the hub's configuration: a hub service with a
token of its own, researchers' and their servers' tokens let in, the embedded profile only."""

from __future__ import annotations

import sys

import pytest
from traitlets.config import Config

from tresor.core.errors import ConfigError
from tresor.core.site import load_site_config
from tresor.node import processes
from tresor.node.profiles import configure, prepare
from tresor.node.roles import (
    ADMIN_SCOPES,
    BEACON_ACCESS,
    RESEARCHER_SCOPES,
    REVIEWER_SCOPES,
    SERVER_TOKEN_SCOPES,
)

BASE = """
[accounts]
researchers = ["ann"]
airlock_reviewers = ["rev1", "rev2"]
admins = ["adm"]
"""


def site_with(tmp_path, discovery: str = "[discovery]\nenabled = true\nport = 8123\n"):
    path = tmp_path / "site.toml"
    path.write_text(f'state_dir = "{tmp_path / "state"}"\n{BASE}{discovery}')
    return load_site_config(path)


def test_hub__starts_the_beacon_as_a_service_researchers_tokens_reach(tmp_path):
    site = site_with(tmp_path)
    assert site.discovery_path == site.state_path / "discovery"
    assert processes.node_ports(site)[8123] == "the node's own Beacon"
    prepare(site)
    c = Config()
    configure(c, site)
    services = {s["name"]: s for s in c.JupyterHub.services}
    beacon = services["beacon"]
    token = (site.state_path / "secrets" / "beacon_service_token").read_text().strip()
    assert beacon["api_token"] == token and beacon["url"] == "http://127.0.0.1:8123"
    assert beacon["command"] == [sys.executable, "-P", "-m", "tresor", "discovery", "beacon"]
    assert beacon["cwd"] == str(site.state_path / "services") and not beacon["display"]
    # it asks the hub about tokens only: no role of its own
    assert not [r for r in c.JupyterHub.load_roles if "beacon" in r.get("services", [])]
    assert c.Spawner.environment["TRESOR_BEACON_URL"] == "http://127.0.0.1:8000/services/beacon/"
    assert BEACON_ACCESS in RESEARCHER_SCOPES and BEACON_ACCESS in SERVER_TOKEN_SCOPES
    assert BEACON_ACCESS not in REVIEWER_SCOPES and BEACON_ACCESS not in ADMIN_SCOPES


def test_hub__no_beacon_unless_enabled(tmp_path):
    site = site_with(tmp_path, discovery="")
    prepare(site)
    c = Config()
    configure(c, site)
    assert "beacon" not in {s["name"] for s in c.JupyterHub.services}
    assert "TRESOR_BEACON_URL" not in c.Spawner.environment
    assert not (site.state_path / "secrets" / "beacon_service_token").exists()


@pytest.mark.parametrize(
    ("discovery", "message"),
    [
        ("[discovery]\nenabled = true\nport = 8090\n", "discovery.port 8090 is taken"),
        ("[discovery]\nenabled = true\nper_minute = 0\n", "per_minute"),
        ("[discovery]\nenabled = true\nbeacon = true\n", "beacon"),
    ],
    ids=["airlock-port", "no-rate", "unknown-key"],
)
def test_site_config__refuses_what_would_not_work(tmp_path, discovery, message):
    with pytest.raises(ConfigError, match=message):
        site_with(tmp_path, discovery)
