"""The node's own Beacon on the session's node (tests/conftest.py ``local_node``, [discovery]
on): ``tresor discovery summarize`` as root, the hub's ``beacon`` service serving the node's
counts to a researcher's token and kernel and to no one else, as an account of its own that
reads the summaries and nothing else of the node."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import textwrap

import httpx
import numpy as np
import pandas as pd
import psutil
import pytest

from tests.hub.test_isolation import PROBE as ISOLATION_PROBE
from tresor.core.catalogue import load_catalogue
from tresor.io import open_store
from tresor.node import isolation
from tresor.node.accounts_os import beacon_account, lookup
from tresor.node.runtime import SYSTEM_PYTHON

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(os.geteuid() != 0, reason="the node's accounts need the node as root"),
]


@pytest.fixture(scope="module")
def node(local_node):
    """The session's node, isolated, with dk's summary made as an admin makes it."""
    assert isolation.active(local_node.site), isolation.assess(local_node.site).reasons
    done = subprocess.run(
        [sys.executable, "-m", "tresor", "discovery", "summarize", "dk"],
        env={**os.environ, "TRESOR_SITE_CONFIG": str(local_node.site.source)},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    return local_node


def shown_variant(node) -> tuple[dict, tuple[int, int]]:
    """A variant of dk's summary with its counts shown, and its AC and AN from the store."""
    table = pd.read_parquet(node.site.discovery_path / "dk" / "allele_frequencies.parquet")
    row = table[(table["STRATUM"] == "ALL") & ~table["SUPPRESSED"]].iloc[len(table) // 3]
    ds = open_store(load_catalogue(node.site.catalogue_path)["dk"].store)
    i = int(np.flatnonzero(np.asarray(ds["variant_position"].values) == row["POS"])[0])
    g = np.asarray(ds["call_genotype"][i].values)
    params = {"referenceName": row["CHROM"], "start": int(row["POS"]) - 1,
              "referenceBases": row["REF"], "alternateBases": row["ALT"],
              "requestedGranularity": "record"}  # fmt: skip
    return params, (int((g == 1).sum()), int((g >= 0).sum()))


def node_counts(answer: dict, node_name: str) -> tuple[int, int]:
    (result,) = answer["response"]["resultSets"][0]["results"]
    (population,) = result["frequencyInPopulations"]
    total = next(f for f in population["frequencies"] if f["population"] == node_name)
    return total["alleleCount"], total["alleleNumber"]


def test_node_beacon__a_researchers_token_gets_the_nodes_counts_and_no_token_nothing(node):
    url = node.site.beacon_service_url
    params, expected = shown_variant(node)
    token = {"Authorization": f"token {node.user_token('researcher1')}"}
    r = httpx.get(f"{url}g_variants", params=params, headers=token, timeout=60)
    assert r.status_code == 200, (r.text, node.log_tail())
    assert node_counts(r.json(), node.site.node_name) == expected
    for path in ("", "info", "datasets", "g_variants"):
        anonymous = httpx.get(f"{url}{path}", params=params, timeout=60)
        assert anonymous.status_code == 401, path
        assert "send your hub token" in anonymous.json()["error"]["errorMessage"]
    reviewer = {"Authorization": f"token {node.user_token('reviewer1')}"}
    refused = httpx.get(f"{url}g_variants", params=params, headers=reviewer, timeout=60)
    assert refused.status_code == 403  # a reviewer's token does not hold the Beacon's scope
    forged = httpx.get(f"{url}g_variants", params=params, timeout=60,
                       headers={"Authorization": "token not-a-hub-token"})  # fmt: skip
    assert forged.status_code == 401


def test_node_beacon__a_researchers_kernel_queries_it_with_its_server_token(node):
    params, expected = shown_variant(node)
    node.start_server("researcher1")
    code = textwrap.dedent(
        f"""
        import json, os, urllib.parse, urllib.request
        query = urllib.parse.urlencode({params!r})
        request = urllib.request.Request(
            os.environ["TRESOR_BEACON_URL"] + "g_variants?" + query,
            headers={{"Authorization": "token " + os.environ["JUPYTERHUB_API_TOKEN"]}},
        )
        with urllib.request.urlopen(request, timeout=60) as response:
            print(json.dumps(json.load(response)))
        """
    )
    out = node.run_in_kernel("researcher1", node.user_token("researcher1"), code)
    assert out["error"] is None, (out, node.log_tail())
    answer = json.loads(out["stdout"].strip().splitlines()[-1])
    assert node_counts(answer, node.site.node_name) == expected


#: test_isolation's probe helpers (can, read, connect), run over targets given as JSON
PROBE = (
    ISOLATION_PROBE
    + """
import sys
actions = {"read": read, "list": os.listdir, "connect": connect}
targets = json.loads(sys.argv[1])
print(json.dumps({name: can(actions[kind], *args) for name, (kind, *args) in targets.items()}))
"""
)


def test_node_beacon__runs_as_its_own_account_that_reads_only_the_summaries(node):
    site = node.site
    account = lookup(beacon_account(site.node_name))
    assert account is not None
    port = site.discovery.port
    (listener,) = [c.pid for c in psutil.net_connections("tcp")
                   if c.status == psutil.CONN_LISTEN and c.laddr.port == port]  # fmt: skip
    assert psutil.Process(listener).uids().real == account.uid
    summary = site.discovery_path / "dk"
    for path, mode in ((site.discovery_path, 0o750), (summary, 0o750),
                       (summary / "manifest.json", 0o640)):  # fmt: skip
        info = path.stat()
        assert (info.st_uid, info.st_gid, info.st_mode & 0o777) == (0, account.gid, mode), path
    dk = load_catalogue(site.catalogue_path)["dk"]
    state = site.state_path
    outside = socket.socket()
    outside.bind(("127.0.0.2", 0))
    outside.listen()
    targets = {
        "summary": ["read", str(summary / "allele_frequencies.parquet")],
        "dk store": ["list", str(dk.store)],
        "dk phenotypes": ["read", str(dk.phenotypes["pheno"])],
        "its own token file": ["read", str(state / "secrets" / "beacon_service_token")],
        "hub database": ["read", str(state / "jupyterhub.sqlite")],
        "airlock database": ["read", str(state / "airlock" / "airlock.sqlite")],
        "a workspace": ["list", str(site.workspaces_path / "researcher1")],
        "the hub": ["connect", "127.0.0.1", site.hub.hub_port],
        "127.0.0.2": ["connect", "127.0.0.2", outside.getsockname()[1]],
    }
    try:
        done = subprocess.run(
            [str(SYSTEM_PYTHON), "-I", "-c", PROBE, json.dumps(targets)],
            user=account.uid,
            group=account.gid,
            extra_groups=[],
            cwd="/",
            capture_output=True,
            text=True,
            timeout=60,
        )
    finally:
        outside.close()
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {
        "summary": True,
        "dk store": False,
        "dk phenotypes": False,
        "its own token file": False,
        "hub database": False,
        "airlock database": False,
        "a workspace": False,
        "the hub": True,
        "127.0.0.2": False,
    }
