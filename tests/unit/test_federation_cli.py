"""``tresor federation merge``: signed bundles in, merged tables out; tampering refused."""

from __future__ import annotations

import hashlib
import os

from click.testing import CliRunner
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from airlock.bundles import public_key_pem, write_bundle
from tests.unit.federation_data import CRATE, REQUEST, run_analysis
from tresor.cli import cli


def signed_bundle(tmp_path, node, outputs):
    key = Ed25519PrivateKey.generate()
    (tmp_path / f"{node}.pub").write_bytes(public_key_pem(key.public_key()))
    sources, files = {}, []
    for p in sorted(outputs.iterdir()):
        name = f"federation/{REQUEST}/{p.name}"
        data = p.read_bytes()
        files.append({"name": name, "sha256": hashlib.sha256(data).hexdigest(), "size": len(data)})
        sources[name] = p
    manifest = {"files": files, "federation": {"request_id": REQUEST, "crate_sha256": CRATE}}
    return write_bundle(tmp_path / "outbox", f"{node}-bundle", manifest, sources, key)


def test_federation_merge__verifies_and_merges_signed_bundles(demo_cohorts, tmp_path):
    bundles = [
        signed_bundle(tmp_path, c, run_analysis(demo_cohorts[c], "hwe_counts", {}, tmp_path / c))
        for c in ("dk", "se")
    ]
    keys = [f"--public-key={c}={tmp_path / f'{c}.pub'}" for c in ("dk", "se")]
    runner = CliRunner()
    result = runner.invoke(
        cli,
        ["federation", "merge", *map(str, bundles), "--out", str(tmp_path / "m"), *keys,
         "--request-id", REQUEST],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "federated.hardy\t(airlock checks: pass)" in result.output
    assert (tmp_path / "m" / "ro-crate-metadata.json").is_file()

    table = next((bundles[1] / "files").rglob("hwe_counts.parquet"))
    os.chmod(table, 0o644)
    table.write_bytes(table.read_bytes() + b"x")
    result = runner.invoke(
        cli, ["federation", "merge", *map(str, bundles), "--out", str(tmp_path / "n"), *keys]
    )
    assert result.exit_code != 0
    assert "not a bundle signed by any given node" in result.output
    assert "does not match the SHA-256" in result.output

    result = runner.invoke(
        cli,
        ["federation", "merge", str(bundles[0]), "--out", str(tmp_path / "o"), *keys,
         "--request-id", "req-9"],
    )  # fmt: skip
    assert result.exit_code == 1
    assert "answers request req-0001, not req-9" in result.output
