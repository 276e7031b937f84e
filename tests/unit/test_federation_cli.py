"""``tresor federation merge``: released bundles in, verified against the registry and the
request's signed crate, merged tables out; a refused bundle stops it with which check and why."""

from __future__ import annotations

import datetime as dt
import os
import uuid

from click.testing import CliRunner

from tests.federation.bundles import make_bundle
from tests.federation.keys import NodeKeys, new_key, registry_document, write_registry
from tests.unit.federation_data import run_analysis
from tresor.cli import cli
from tresor.federation.crate import FederatedRequest, Target, sign_request

NODES = ("dk", "se")


def signed_request(coordinator, created_at: dt.datetime) -> tuple[FederatedRequest, object]:
    request = FederatedRequest(
        request_id=uuid.uuid4().hex,
        federation="demo",
        coordinator_url="https://coord.example",
        created_at=created_at,
        requester="alice",
        project="nordic-gwas",
        analysis="hwe_counts",
        analysis_version="1",
        parameters={},
        targets=tuple(Target(n, n) for n in NODES),
    )
    return request, sign_request(request, coordinator)


def test_federation_merge__verifies_against_the_registry_and_the_request_crate(
    demo_cohorts, tmp_path
):
    coordinator = new_key()
    keys = {n: NodeKeys(n, n.upper(), new_key(), new_key()) for n in NODES}
    registry = tmp_path / "registry.toml"
    write_registry(
        registry,
        registry_document("demo", "https://coord.example", coordinator, list(keys.values())),
    )
    made = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=10)
    request, crate = signed_request(coordinator, made)
    crate_file = crate.write(tmp_path / f"{request.request_id}.crate.json")
    outputs = {
        n: run_analysis(demo_cohorts[n], "hwe_counts", {}, tmp_path / "out" / n) for n in NODES
    }

    def bundle(node, *, key=None, answers=(request, crate), root="bundles"):
        files = {
            f"federation/{answers[0].request_id}/{p.name}": p.read_bytes()
            for p in sorted(outputs[node].iterdir())
        }
        return make_bundle(
            tmp_path / root / node,
            key or keys[node].release,
            node=node,
            request_id=answers[0].request_id,
            crate_sha256=answers[1].sha256,
            files=files,
        )

    def run(*bundles, out="m", crate=crate_file):
        return CliRunner().invoke(
            cli,
            ["federation", "merge", *map(str, bundles), "--out", str(tmp_path / out),
             "--registry", str(registry), "--crate", str(crate)],
        )  # fmt: skip

    bundles = [bundle(n) for n in NODES]
    result = run(*bundles)
    assert result.exit_code == 0, result.output
    assert "federated.hardy\t(airlock checks: pass)" in result.output
    assert (tmp_path / "m" / "ro-crate-metadata.json").is_file()
    assert request.request_id in (tmp_path / "m" / "merge.json").read_text()

    # a file changed after release
    table = next((bundles[1] / "files").rglob("hwe_counts.parquet"))
    os.chmod(table, 0o644)
    table.write_bytes(table.read_bytes() + b"x")
    result = run(*bundles, out="n")
    assert result.exit_code == 1
    assert f"{bundles[1]}: bundle refused (tampered)" in result.output
    assert "does not match the SHA-256" in result.output
    assert not (tmp_path / "n").exists()

    # a bundle released for another request
    other, other_crate = signed_request(coordinator, made)
    replayed = bundle("se", answers=(other, other_crate), root="other")
    result = run(bundles[0], replayed, out="o")
    assert result.exit_code == 1
    assert "bundle refused (replayed)" in result.output
    assert f"not request {request.request_id}" in result.output

    # signed by a key the registry does not give se, and by se's agent key
    stranger = bundle("se", key=new_key(), root="stranger")
    result = run(bundles[0], stranger, out="p")
    assert result.exit_code == 1
    assert "bundle refused (signature)" in result.output
    assert "does not verify with any release key of node se" in result.output
    agent_signed = bundle("se", key=keys["se"].agent, root="agent")
    result = run(bundles[0], agent_signed, out="q")
    assert "bundle refused (agent key)" in result.output

    # a request crate someone other than the coordinator signed
    _, forged = signed_request(new_key(), made)
    result = run(*bundles, out="r", crate=forged.write(tmp_path / "forged.crate.json"))
    assert result.exit_code == 1
    assert "signature does not verify with any coordinator key" in result.output
