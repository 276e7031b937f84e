"""On an embedded node started as root, the federation agent runs as the federation account's
OS account, never as root: it holds its key, reads only the datasets its projects are granted,
calls out to the coordinator (which researchers' accounts cannot), and no server runs as it.

A node of its own (named "fedagent", so its accounts and firewall table are not the session
node's), with a federation registry that names it and a recording coordinator on loopback: the
agent's first signed poll arriving there shows it read its key, the registry and the site
config as that account, and that the firewall let it out.
"""

from __future__ import annotations

import grp
import http.server
import json
import os
import pwd
import secrets
import threading
import time

import psutil
import pytest

from tests.federation.keys import EPOCH, key_entry, write_registry
from tests.hub.node import LocalNode, open_directory, write_site_config
from tresor.core.errors import ConfigError
from tresor.core.site import load_site_config
from tresor.demo import ensure_demo_cohorts
from tresor.federation.signing import generate_private_key, verify_call
from tresor.node import isolation
from tresor.node.accounts_os import dataset_group, user_account
from tresor.node.processes import node_ports
from tresor.node.start import guard_datasets, prepare

pytestmark = pytest.mark.slow

NODE = "fedagent"


class RecordingCoordinator(http.server.ThreadingHTTPServer):
    """Answers every poll with no requests; keeps what each call carried."""

    def __init__(self) -> None:
        self.calls: list[dict] = []
        super().__init__(("127.0.0.1", 0), self._Handler)

    class _Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            self.server.calls.append(
                {"path": self.path, "headers": dict(self.headers), "body": body}
            )
            answer = json.dumps({"requests": [], "ignored": []}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *args) -> None:
            pass


def _site_text(directory, registry) -> str:
    text = write_site_config(directory).read_text()
    text = text.replace('node_name = "demo"', f'node_name = "{NODE}"')
    text = text.replace(
        'researchers = ["researcher1", "researcher2"]',
        'researchers = ["researcher1", "researcher2", "federation"]',
    )
    text = text.replace('members = ["researcher2"]', 'members = ["researcher2", "federation"]')
    return text + (
        "\n[federation]\nenabled = true\n"
        f'registry = "{registry}"\npoll_seconds = 1\nanalyses = ["allele_counts"]\n'
        'datasets = ["uk"]\nprojects = { uk-study = "uk-study" }\n'
    )


@pytest.fixture(scope="module")
def agent_node():
    coordinator = RecordingCoordinator()
    threading.Thread(target=coordinator.serve_forever, daemon=True).start()
    with open_directory("tresor-fedagent-") as directory:
        registry = directory / "registry.toml"
        path = directory / "site.toml"
        path.write_text(_site_text(directory, registry))
        site = load_site_config(path)
        # where nodes before 2026-12 kept the key: the isolated start moves it to the agent
        legacy = site.legacy_federation_agent_key_path
        agent_key = generate_private_key(legacy)
        coordinator_key = generate_private_key(directory / "coordinator.pem")
        document = {
            "federation": "test",
            "coordinator": {
                "url": f"http://127.0.0.1:{coordinator.server_address[1]}",
                "keys": [key_entry(coordinator_key, EPOCH)],
            },
            "nodes": {
                NODE: {
                    "country": "DK",
                    "release_keys": [key_entry(generate_private_key(directory / "r.pem"), EPOCH)],
                    "agent_keys": [key_entry(agent_key, EPOCH)],
                }
            },
        }
        write_registry(registry, document)
        os.chmod(registry, 0o644)  # the admins ship it readable: it holds public keys only
        passwords = prepare(site)
        ensure_demo_cohorts(site, progress=lambda m: None)
        guard_datasets(site)
        node = LocalNode(site=site, passwords=passwords, admin_token=secrets.token_hex(32))
        node.start()
        try:
            yield node, coordinator, legacy, agent_key
        finally:
            node.stop()
            coordinator.shutdown()


def test_agent_runs_as_its_account_with_its_key_its_datasets_and_a_way_out(agent_node):
    node, coordinator, legacy, agent_key = agent_node
    site = node.site
    account = user_account(NODE, "federation")
    deadline = time.monotonic() + 60
    while not coordinator.calls and time.monotonic() < deadline:
        time.sleep(0.5)
    assert coordinator.calls, f"the agent never polled the coordinator:\n{node.log_tail()}"
    poll = coordinator.calls[0]
    assert poll["path"] == "/api/node/poll"
    signed = verify_call(poll["headers"], "POST", poll["path"], poll["body"],
                         keys_for=lambda node, when: [agent_key.public_key()])  # fmt: skip
    assert signed.node == NODE
    # which a researcher's account could not have reached: it is not one of the node's ports
    assert coordinator.server_address[1] not in set(node_ports(site))

    # the agent under the hub is the federation account's process, not root's
    agents = [
        p
        for p in (psutil.Process(pid) for pid in node.descendant_pids())
        if p.cmdline()[-2:] == ["federation", "agent"]
    ]
    assert agents, node.log_tail()
    assert {p.username() for p in agents} == {account}

    # its key moved out of the secrets directory, which stays closed to it
    key = site.federation_agent_key_path
    assert not legacy.exists() and key.parent == site.federation_state_path
    info = key.stat()
    assert pwd.getpwuid(info.st_uid).pw_name == account and info.st_mode & 0o077 == 0
    assert site.federation_state_path.stat().st_mode & 0o077 == 0
    assert (site.state_path / "secrets").stat().st_mode & 0o007 == 0

    # the node's grants decide: uk-study is granted uk, not dk or se
    members = {d: grp.getgrnam(dataset_group(NODE, d)).gr_mem for d in ("dk", "se", "uk")}
    assert account in members["uk"]
    assert account not in members["dk"] and account not in members["se"]


def test_no_server_runs_as_the_agents_account(agent_node):
    """Even an admin who creates the hub user and accepts the terms for it gets no server."""
    node = agent_node[0]
    node.create_user("federation", [])
    with pytest.raises(RuntimeError, match="spawn failed"):
        node.start_server("federation")
    assert "runs the agent only, never a notebook server" in node.log_tail(400)
    user = node.api("GET", "/users/federation").json()
    assert not user.get("servers") and not user.get("pending")
    account = user_account(NODE, "federation")
    singleuser = [p for p in psutil.process_iter(["username", "cmdline"])
                  if p.info["username"] == account
                  and "jupyterhub-singleuser" in " ".join(p.info["cmdline"] or [])]  # fmt: skip
    assert not singleuser


def test_a_registry_the_agents_account_cannot_read_stops_the_start(agent_node):
    node = agent_node[0]
    registry = node.site.federation_registry_path
    os.chmod(registry, 0o600)
    try:
        with pytest.raises(
            ConfigError, match=r"cannot be read by the agent's account .*chmod 0644"
        ):
            isolation.prepare(node.site)
    finally:
        os.chmod(registry, 0o644)
    isolation.prepare(node.site)  # as the next start would: nothing left half done
