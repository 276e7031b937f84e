"""A federated request from the researcher to the merged result, through three nodes' agents
and airlocks (uk behind a real hub), and everything the federation refuses.

The analysis and merge are the real ones when installed, else the STUBS of
tests.federation.stubs (``STUBBED`` says which): the protocol is what is tested here; the
merge's exactness on every analysis is tested with the analyses themselves.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

import tresor.federation as fed
from tests.federation.bundles import archive_of, make_bundle
from tests.federation.fixture import PROJECT, Federation, wait_until
from tests.federation.stubs import allele_counts, install
from tresor.core.bundles import unpack_bundle, verify_bundle
from tresor.federation.coordinator.states import REPORTABLE
from tresor.federation.crate import SignedCrate
from tresor.federation.refusal import SignedRefusal
from tresor.federation.signing import fingerprint, sign_call, verify_call
from tresor.io import open_store

pytestmark = pytest.mark.slow
STUBBED = install()
KEY = ["#CHROM", "POS", "REF", "ALT"]


@pytest.fixture(scope="module")
def counted(federation: Federation):
    """One federated allele count over dk, se and uk: requested by the researcher, run by each
    agent, approved by each node's two reviewers, merged. Returns what the steps saw."""
    kw = federation.client_kw()
    made = fed.request(
        "allele_counts", project=PROJECT, targets={n: n for n in ("dk", "se", "uk")}, **kw
    )
    in_review = federation.wait_in_review(made.id, ["dk", "se", "uk"])
    reported = wait_until(
        lambda: (
            (s := fed.status(made.id, **kw)).nodes == dict.fromkeys(("dk", "se", "uk"), "in_review")
            and s
        ),
        "every node to report in_review",
    )
    released = {name: federation.approve_all(name, made.id) for name in ("dk", "se", "uk")}
    result = fed.result(made.id, federation.root / "results", wait=300, poll_seconds=1, **kw)
    return {
        "request": made,
        "in_review": in_review,
        "reported": reported,
        "released": released,
        "result": result,
        "final": fed.status(made.id, **kw),
    }


def test_federated_allele_count__end_to_end_exact_and_only_released_bytes_leave(
    federation: Federation, counted
):
    made, final = counted["request"], counted["final"]
    assert made.nodes == dict.fromkeys(("dk", "se", "uk"), "waiting")
    # every airlock shows its reviewers which federated request and crate the outputs answer
    for name, entry in counted["in_review"].items():
        assert entry["federation"] == {"request_id": made.id, "crate_sha256": made.crate_sha256}
        assert entry["requester"] == "federation" and entry["project"] == PROJECT, name
    for name, released in counted["released"].items():
        assert len(released) == 1 and sorted(released[0]["approvals"]) == [
            "reviewer1",
            "reviewer2",
        ], name
    assert final.state == "merged", final
    assert final.nodes == dict.fromkeys(("dk", "se", "uk"), "released")

    # merged AC and AN equal the pooled count over the concatenated cohorts (as simulated),
    # exactly, on every variant that every node reports (the others are merged over fewer
    # nodes, marked), also where uk's store has REF and ALT swapped: uk's counts were flipped
    merged = merged_counts(counted["result"])
    stores = {n: open_store(federation.cohorts[n].store) for n in ("dk", "se", "uk")}
    threshold = federation.nodes["dk"].site.airlock.checks.min_minor_allele_count
    pooled = pooled_counts(stores, threshold)
    assert len(pooled) > 50, "too few variants shared by the three cohorts to test anything"
    joined = pooled.merge(merged, on=KEY, how="left", suffixes=("", "_merged"), indicator=True)
    assert (joined["_merge"] == "both").all(), joined[joined["_merge"] != "both"].head()
    assert (joined["ALT_CTS_merged"].astype(np.int64) == joined["ALT_CTS"]).all()
    assert (joined["OBS_CT_merged"].astype(np.int64) == joined["OBS_CT"]).all()
    swapped = joined.merge(federation.swapped, on=KEY)
    assert len(swapped) == len(federation.swapped) > 0
    assert (swapped["FLAGS"] == "flipped=uk").all() and (swapped["NODES"] == "dk,se,uk").all()
    assert (joined["FLAGS"] == "flipped=uk").sum() == len(swapped), "flipped where not swapped"

    # the result names every node's bundle by the SHA-256 of its signed manifest
    text = "".join(p.read_text(errors="ignore") for p in counted["result"].rglob("*.json"))
    status = fed.client.Client(**federation.client_kw()).call("GET", f"requests/{made.id}")
    for target in status["targets"]:
        assert target["manifest_sha256"] and target["manifest_sha256"] in text, target["node"]

    # every byte that left a node is a signed poll or a bundle its two reviewers released
    for name in ("dk", "se", "uk"):
        polls, bundles = check_traffic(federation, name)
        assert polls >= 2 and bundles.count(made.id) == 1, (name, polls, bundles)
    # and the coordinator opened no connection to anyone: it only accepted
    assert federation.monitor.outgoing == []
    assert federation.monitor.accepted > 0


def test_refusals__each_says_which_check_and_why(federation: Federation, counted, tmp_path):
    made = counted["request"]
    kw = federation.client_kw()
    other = fed.request("allele_counts", project=PROJECT, targets={"dk": "dk"}, **kw)
    dk = federation.nodes["dk"]
    genuine = next((federation.data_dir / "bundles" / made.id).glob("dk-*"))
    parquet = {
        "allele_counts.parquet": (next(genuine.joinpath("files").rglob("*.parquet")).read_bytes())
    }

    def post(request_id: str, bundle, node: str = "dk"):
        body = archive_of(bundle)
        path = f"/api/node/requests/{request_id}/bundle"
        headers = sign_call(federation.nodes[node].keys.agent, node, "POST", path, body)
        import httpx

        return httpx.post(federation.coordinator_url + path, content=body, headers=headers)

    # a tampered bundle
    tampered = tmp_path / "tampered" / genuine.name
    shutil.copytree(genuine, tampered)
    target = next(p for p in (tampered / "files").rglob("*") if p.is_file())
    target.chmod(0o644)
    target.write_bytes(target.read_bytes() + b"\x00")
    r = post(made.id, tampered)
    assert r.status_code == 422 and r.json()["check"] == "tampered", r.text
    assert "does not match the SHA-256" in r.json()["detail"]

    # a bundle replayed from another request
    r = post(other.id, genuine)
    assert r.status_code == 422 and r.json()["check"] == "replayed", r.text
    assert f"not request {other.id}" in r.json()["detail"]

    # a call signed with an agent key that claims to be a release: a bundle signed by dk's
    # agent key (and signed as a call with it too)
    agent_signed = make_bundle(
        tmp_path / "agent",
        dk.keys.agent,
        node="dk",
        request_id=other.id,
        crate_sha256=other.crate_sha256,
        files=parquet,
    )
    r = post(other.id, agent_signed)
    assert r.status_code == 422 and r.json()["check"] == "agent key", r.text
    assert "can never sign a release" in r.json()["detail"]

    # a bundle signed with dk's retired release key, after its end
    retired_key = dk.keys.retired_release[0][0]
    retired = make_bundle(
        tmp_path / "retired",
        retired_key,
        node="dk",
        request_id=other.id,
        crate_sha256=other.crate_sha256,
        files=parquet,
    )
    r = post(other.id, retired)
    assert r.status_code == 422 and r.json()["check"] == "retired key", r.text
    assert "retired at its release time" in r.json()["detail"]

    # a bundle from a node the registry does not name, imported as a file
    stranger = make_bundle(
        tmp_path / "xx",
        Ed25519PrivateKey.generate(),
        node="xx",
        request_id=other.id,
        crate_sha256=other.crate_sha256,
        files=parquet,
    )
    archive = tmp_path / "xx.bundle.tar"
    archive.write_bytes(archive_of(stranger))
    done = federation.tresor(
        "federation",
        "import",
        str(archive),
        "--request",
        other.id,
        *federation._coordinator_args(),
        check=False,
    )
    assert done.returncode == 1
    assert "unknown node" in done.stderr and "'xx', which the registry" in done.stderr
    # a node cannot send another node's release
    r = post(other.id, genuine, node="se")
    assert r.status_code == 422 and "sends only its own releases" in r.json()["detail"]
    # none of these moved the request on
    assert fed.status(other.id, **kw).nodes["dk"] in ("waiting", "running", "in_review")

    # a node's policy: dk does not offer se's dataset; its agent says so, nothing runs
    unwanted = fed.request("allele_counts", project=PROJECT, targets={"dk": "se"}, **kw)
    refused = wait_until(
        lambda: (s := fed.status(unwanted.id, **kw)).done and s, "dk to refuse the request"
    )
    assert refused.state == "failed" and refused.nodes == {"dk": "refused"}
    assert "does not offer dataset se to the federation" in refused.reasons["dk"]
    assert not (dk.state / "workspaces" / "federation" / "federation" / unwanted.id).exists()


def test_offline_node__crates_in_and_bundles_and_signed_refusals_out_as_files(
    federation: Federation, tmp_path
):
    kw = federation.client_kw()
    se = federation.nodes["se"]
    made = fed.request("allele_counts", project=PROJECT, targets={"se": "se"}, **kw)
    federation.stop_agent(se)  # se now takes requests as files only
    try:
        # and one se refuses: it does not offer dataset dk
        unwanted = fed.request("allele_counts", project=PROJECT, targets={"se": "dk"}, **kw)
        inbox, outbox = tmp_path / "inbox", tmp_path / "outbox"
        inbox.mkdir()
        federation.tresor(
            "federation",
            "export-crate",
            made.id,
            "--out",
            str(inbox / f"{made.id}.crate.json"),
            *federation._coordinator_args(),
        )
        # the researcher's API gives the same signed crate
        crate = fed.client.Client(**kw).call("GET", f"requests/{unwanted.id}/crate")
        SignedCrate.from_json(crate).write(inbox / f"{unwanted.id}.crate.json")
        # and a crate whose signature does not verify: another request id written into it
        document = json.loads((inbox / f"{made.id}.crate.json").read_text())
        forged_id = "f" * 32
        document["crate"] = document["crate"].replace(made.id, forged_id)
        (inbox / "forged.crate.json").write_text(json.dumps(document))

        def offline_cycle():
            env = federation._agent_env(se)
            env.pop("HTTP_PROXY"), env.pop("http_proxy")
            federation.tresor(
                "federation",
                "agent",
                "--offline",
                "--once",
                "--inbox",
                str(inbox),
                "--outbox",
                str(outbox),
                env=env,
            )

        def import_(path: Path, request_id: str):
            return federation.tresor("federation", "import", str(path), "--request", request_id,
                                     *federation._coordinator_args())  # fmt: skip

        offline_cycle()
        # refusals leave as statements signed with se's agent key (each refusal to import one
        # is tested without this federation: test_federation_trust, test_federation_coordinator)
        forged = SignedRefusal.from_bytes((outbox / f"{forged_id}.refused.json").read_bytes())
        assert forged.refusal.node == "se" and "signature does not verify" in forged.refusal.reason
        refusal = outbox / f"{unwanted.id}.refused.json"
        assert SignedRefusal.from_bytes(refusal.read_bytes()).signed_by == fingerprint(
            se.keys.agent
        )
        assert "accepted the refusal of node se" in import_(refusal, unwanted.id).stdout
        final = fed.status(unwanted.id, **kw)
        assert final.state == "failed" and final.nodes == {"se": "refused"}
        assert "does not offer dataset dk to the federation" in final.reasons["se"]

        assert federation.queue(se, made.id), "the offline agent submitted nothing"
        federation.approve_all("se", made.id)
        offline_cycle()
        bundle = outbox / f"se-{made.id}.bundle.tar"
        assert bundle.is_file()
        received = unpack_bundle(bundle.read_bytes(), tmp_path / "check")
        assert verify_bundle(received, se.keys.release.public_key()).ok
        assert "accepted the bundle of node se" in import_(bundle, made.id).stdout
        final = wait_until(lambda: (s := fed.status(made.id, **kw)).done and s, "the merge")
        assert final.state == "merged" and final.nodes == {"se": "released"}
        assert not [e for e in se.proxy.recorded() if made.id in e.body.decode(errors="ignore")]
    finally:
        federation.start_agent(se)


# -- helpers ----------------------------------------------------------------------------------
def merged_counts(directory) -> pd.DataFrame:
    """The merged allele count table of a result (the stub's Parquet or the merge's
    ``federated.acount``), with #CHROM, POS, REF, ALT, ALT_CTS, OBS_CT."""
    for path in sorted(directory.rglob("*")):
        if path.suffix == ".parquet":
            table = pd.read_parquet(path)
        elif path.name.endswith(".acount"):
            table = pd.read_csv(path, sep="\t", dtype={"#CHROM": str})
        else:
            continue
        if {"ALT_CTS", "OBS_CT"} <= set(table.columns):
            if "POS" not in table:
                parts = table["ID"].str.split(":", expand=True)
                table["POS"] = parts[1].astype(np.int64)
            return table.dropna(subset=["ALT_CTS", "OBS_CT"])
    raise AssertionError(f"no merged allele count table in {directory}")


def pooled_counts(stores: dict, threshold: int) -> pd.DataFrame:
    """AC and AN over the three cohorts' genotypes concatenated, on the biallelic variants
    every node reports (present in each store, minor allele count >= threshold in each)."""
    per_node = {}
    for name, ds in stores.items():
        counts = allele_counts(ds)
        minor = np.minimum(counts["ALT_CTS"], counts["OBS_CT"] - counts["ALT_CTS"])
        counts["row"] = counts.index
        per_node[name] = counts[minor >= threshold].set_index(KEY)["row"]
    common = sorted(set.intersection(*(set(rows.index) for rows in per_node.values())))
    genotypes = []
    for name, ds in stores.items():
        biallelic = allele_rows(ds)
        rows = biallelic[per_node[name].loc[common].to_numpy()]
        genotypes.append(np.asarray(ds["call_genotype"].values)[rows])
    g = np.concatenate(genotypes, axis=1)  # variants x (all samples) x ploidy
    return pd.DataFrame(common, columns=KEY).assign(
        ALT_CTS=(g == 1).sum(axis=(1, 2)), OBS_CT=(g >= 0).sum(axis=(1, 2))
    )


def allele_rows(ds) -> np.ndarray:
    """Store rows of the biallelic variants, in the order of :func:`allele_counts`."""
    alleles = np.asarray(ds["variant_allele"].values).astype(object).astype(str)
    biallelic = (alleles[:, 1] != "") & ((alleles.shape[1] < 3) | (alleles[:, 2:] == "").all(1))
    return np.flatnonzero(biallelic)


BUNDLE_PATH = re.compile(r"^/api/node/requests/([0-9a-f]{32})/bundle$")


def check_traffic(federation: Federation, name: str) -> tuple[int, list[str]]:
    """Every request node ``name``'s agent sent through its proxy (for every test so far): a
    poll (statuses only) or a bundle that verifies with the node's release key and that two of
    its reviewers, neither the requester, approved; each a call signed with the node's agent
    key. Returns the number of polls and the request ids the bundles answered."""
    node = federation.nodes[name]
    release = node.keys.release.public_key()
    polls, bundles = 0, []
    for n, exchange in enumerate(node.proxy.recorded()):
        assert exchange.url.startswith(federation.coordinator_url + "/api/node/"), exchange.url
        timestamp = float(
            exchange.headers.get("X-Tresor-Timestamp") or exchange.headers["x-tresor-timestamp"]
        )
        call = verify_call(
            exchange.headers,
            exchange.method,
            exchange.path,
            exchange.body,
            keys_for=federation.registry.agent_public_keys,
            now=timestamp,
        )
        assert call.node == name
        if exchange.path == "/api/node/poll":
            body = json.loads(exchange.body)
            assert set(body) == {"statuses"}, body
            for status in body["statuses"]:
                assert set(status) <= {"request_id", "status", "reason"}, status
                assert status["status"] in REPORTABLE and len(status.get("reason", "")) <= 2000
            polls += 1
            continue
        bundle_of = BUNDLE_PATH.match(exchange.path)
        assert bundle_of, exchange.path
        received = unpack_bundle(exchange.body, federation.root / f"sent-{name}-{n}")
        report = verify_bundle(received, release)
        assert report.ok, report.problems
        manifest = report.manifest
        assert manifest["node"] == name
        round_ = manifest["request"]["round"]
        approvers = {
            r["reviewer"]
            for r in manifest["reviews"]
            if r["round"] == round_ and r["decision"] == "approve"
        }
        assert len(approvers) >= 2 and approvers <= set(node.reviewers), approvers
        assert manifest["request"]["requester"] not in approvers
        assert dt.datetime.fromisoformat(manifest["released_at"])
        assert manifest["federation"]["request_id"] == bundle_of[1]
        bundles.append(bundle_of[1])
    return polls, bundles
