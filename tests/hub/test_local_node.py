"""The local node end to end: a real hub, proxy, spawner and kernel, over the REST API."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.conftest import bcftools_counts
from tresor.core.catalogue import load_catalogue
from tresor.ingest import STOP_AFTER_ENV
from tresor.node import isolation

pytestmark = pytest.mark.slow

ALLELE_COUNTS = """
import json
import numpy as np
import tresor
ds = tresor.open_dataset("dk")
g = ds.call_genotype.data                      # dask, (variants, samples, ploidy)
n_alleles = int(ds.sizes["alleles"])
ac = np.stack([(g == a).sum(axis=(1, 2)) for a in range(1, n_alleles)], axis=1).compute()
an = (g >= 0).sum(axis=(1, 2)).compute()
print(json.dumps({"positions": ds.variant_position.values.tolist(),
                  "contigs": ds.contig_id.values[ds.variant_contig.values].tolist(),
                  "ac": ac.tolist(), "an": an.tolist(),
                  "chunked": isinstance(ds.call_genotype.data, type(g))}))
"""


def test_hub__only_allowed_accounts_and_no_allow_all(local_node):
    users = {u["name"] for u in local_node.api("GET", "/users").json()}
    assert users == set(local_node.site.accounts.all_users)
    groups = {g["name"]: set(g["users"]) for g in local_node.api("GET", "/groups").json()}
    assert groups["researchers"] == {"researcher1", "researcher2"}
    assert groups["nordic-gwas"] == {"researcher1"}


def test_hub__login_with_generated_password_only(local_node):
    import httpx

    with httpx.Client(base_url=local_node.url, follow_redirects=False) as client:
        page = client.get("hub/login")
        xsrf = client.cookies.get("_xsrf")
        assert page.status_code == 200 and xsrf
        bad = client.post(
            "hub/login", data={"username": "researcher1", "password": "wrong", "_xsrf": xsrf}
        )
        assert bad.status_code == 403
        good = client.post(
            "hub/login",
            data={
                "username": "researcher1",
                "_xsrf": xsrf,
                "password": local_node.passwords["researcher1"],
            },
        )
        assert good.status_code == 302


def test_researcher_kernel__allele_counts_equal_bcftools(local_node):
    """A new researcher: created and spawned through the REST API; code runs in the tresor kernel
    through the proxy's kernel websocket; counts from tresor.open_dataset equal bcftools'."""
    local_node.create_user("alice", ["researchers", "nordic-gwas"])
    token = local_node.user_token("alice")
    local_node.start_server("alice")
    result = local_node.run_in_kernel("alice", token, ALLELE_COUNTS)
    assert result["error"] is None, result
    ours = json.loads(result["stdout"])

    ref = bcftools_counts(
        load_catalogue(local_node.site.catalogue_path)["dk"].store.parent / "dk.vcf.gz"
    )
    assert ours["chunked"]
    assert ours["positions"] == ref["pos"].tolist()
    assert ours["contigs"] == ref["chrom"].tolist()
    assert ours["an"] == ref["an"].tolist()
    alt_counts = [
        ",".join(str(c) for c in row[: len(ref_ac.split(","))])
        for row, ref_ac in zip(ours["ac"], ref["ac"], strict=True)
    ]
    assert alt_counts == ref["ac"].tolist()
    # the padding columns of bi-allelic rows hold no calls
    assert all(
        sum(row[len(r.split(",")) :]) == 0 for row, r in zip(ours["ac"], ref["ac"], strict=True)
    )


def test_researcher_kernel__refused_without_a_grant(local_node):
    """researcher2 is only in project uk-study: dk is refused with who to ask, uk opens."""
    token = local_node.user_token("researcher2")
    local_node.start_server("researcher2")
    refused = local_node.run_in_kernel(
        "researcher2", token, 'import tresor\ntresor.open_dataset("dk")'
    )
    assert refused["error"]["ename"] == "AccessDeniedError"
    assert "researcher2 has no grant for dataset 'dk'" in refused["error"]["evalue"]
    assert "data access committee" in refused["error"]["evalue"]
    allowed = local_node.run_in_kernel(
        "researcher2",
        token,
        'import tresor\nprint(tresor.open_dataset("uk").sizes["samples"])\n'
        'print(",".join(tresor.datasets()["id"]))',
    )
    assert allowed["error"] is None, allowed
    samples, listed = allowed["stdout"].split()
    assert int(samples) == local_node.site.demo.samples_per_cohort
    assert listed == "uk"


def test_reviewer__cannot_start_a_server(local_node):
    token = local_node.user_token("reviewer1")
    r = local_node.api("POST", "/users/reviewer1/server", token=token)
    assert r.status_code == 403


def test_datasets_add__on_the_running_node_granted_researcher_sees_it_others_refused(
    local_node, vcf_fixtures
):
    """An admin adds a VCF to the running embedded node; the conversion, interrupted after
    its first partition, finishes on the rerun; researcher1 (project nordic-gwas) finds the
    dataset in tresor.datasets() and opens it, from the next start of her server on a node
    started as root (a running server keeps the groups it started with); researcher2
    (uk-study only) is refused."""
    local_node.start_server("researcher1")  # runs while the dataset is added
    vcf = vcf_fixtures["sex_chromosomes"].vcf
    argv = [sys.executable, "-m", "tresor", "datasets", "add", str(vcf), "--id", "sexchr",
            "--title", "chr21 and chrX", "--grant", "nordic-gwas", "--workers", "1"]  # fmt: skip
    env = {**os.environ, "TRESOR_SITE_CONFIG": str(local_node.site.source)}
    stopped = subprocess.run(
        argv, env={**env, STOP_AFTER_ENV: "explode-partition"}, capture_output=True, text=True
    )
    assert stopped.returncode == 130, stopped.stderr
    assert "sexchr" not in load_catalogue(local_node.site.catalogue_path)
    done = subprocess.run(argv, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "resuming: 1 of 2 partitions already exploded" in done.stderr
    assert "registered sexchr" in done.stdout

    code = (
        "import tresor\n"
        'print(",".join(tresor.datasets()["id"]))\n'
        'ds = tresor.open_dataset("sexchr")\n'
        'print(ds.sizes["samples"], ds.sizes["variants"], int((ds.call_genotype == -2).sum()))'
    )
    token = local_node.user_token("researcher1")
    if isolation.active(local_node.site):
        early = local_node.run_in_kernel("researcher1", token, code)
        assert early["error"]["ename"] == "PermissionError", early
        local_node.stop_server("researcher1")
    local_node.start_server("researcher1")
    seen = local_node.run_in_kernel("researcher1", token, code)
    assert seen["error"] is None, seen
    listed, sizes = seen["stdout"].strip().splitlines()
    assert "sexchr" in listed.split(",")
    # 20 men x 80 chrX variants: haploid calls hold -2 in the second slot
    assert sizes.split() == ["40", "280", "1600"]

    local_node.start_server("researcher2")
    refused = local_node.run_in_kernel("researcher2", local_node.user_token("researcher2"), code)
    assert refused["error"]["ename"] == "AccessDeniedError"
    assert "researcher2 has no grant for dataset 'sexchr'" in refused["error"]["evalue"]
    assert "sexchr" not in refused["stdout"]


def test_lockdown__no_download_routes_no_proxy_no_terminals(local_node):
    """The local profile locks single-user servers down as the notebook image does: files leave
    through the airlock only (tresor.node.lockdown, images/notebook/jupyter)."""
    import httpx

    token = local_node.user_token("researcher1")
    local_node.start_server("researcher1")
    server = f"{local_node.url}user/researcher1/"
    headers = {"Authorization": f"token {token}"}
    with httpx.Client(headers=headers, timeout=30) as web:
        web.put(server + "api/contents/result.csv", json={
            "type": "file", "format": "text", "content": "a,b\n1,2\n"
        }).raise_for_status()  # fmt: skip
        assert web.get(server + "api/contents/result.csv").status_code == 200  # the editor's
        for path in (
            "files/result.csv",
            "files/result.csv?download=1",
            "nbconvert/html/result.csv",
            f"proxy/{local_node.site.hub.hub_port}/hub/api/",
            f"proxy/127.0.0.1:{local_node.site.hub.hub_port}/hub/api/",
            f"proxy/absolute/{local_node.site.hub.hub_port}/",
        ):
            answer = web.get(server + path)
            assert answer.status_code in (403, 404), (path, answer.status_code)
            assert "a,b" not in answer.text
        assert web.get(server + "api/terminals").status_code == 404
        assert web.post(server + "api/terminals").status_code == 404
