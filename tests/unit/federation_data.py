"""Node outputs and hand-made bundles for the federation unit tests (no coordinator, no keys).

A bundle here has the layout of an airlock bundle (files/ and manifest.json with the files'
hashes and the federation binding); its signature is not made, because the merge trusts the
verification that comes before it.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import xarray as xr

from tresor.core.bundles import VerifiedBundle
from tresor.federation.analyses import REGISTRY, phenotype_table
from tresor.io import open_store

REQUEST = "req-0001"
CRATE = "c" * 64
MAC = 10


def open_cohort(cohort) -> xr.Dataset:
    ds = open_store(cohort.store)
    ds.attrs.update(tresor_dataset_id=cohort.cohort, genome_build="GRCh38")
    return ds


def run_analysis(cohort, name: str, params: dict, out: Path, ds: xr.Dataset | None = None) -> Path:
    ds = open_cohort(cohort) if ds is None else ds
    phenotypes = phenotype_table([cohort.pheno, cohort.covar])
    REGISTRY[name].run(ds, phenotypes, params, min_minor_allele_count=MAC, out_dir=out)
    return out


def make_bundle(
    root: Path,
    node: str,
    outputs: Path,
    *,
    request_id: str = REQUEST,
    crate_sha256: str = CRATE,
) -> VerifiedBundle:
    """A bundle directory of ``outputs`` (an analysis' out_dir) as the node's airlock would
    release it for the request."""
    directory = root / f"{node}-{request_id}"
    target = directory / "files" / "federation" / request_id
    shutil.copytree(outputs, target)
    files = []
    for p in sorted(target.iterdir()):
        data = p.read_bytes()
        files.append(
            {
                "name": p.relative_to(directory / "files").as_posix(),
                "sha256": hashlib.sha256(data).hexdigest(),
                "size": len(data),
            }
        )
    manifest = {
        "format": "tresor-airlock-bundle/1",
        "files": files,
        "federation": {"request_id": request_id, "crate_sha256": crate_sha256},
    }
    data = (json.dumps(manifest, indent=2, sort_keys=True) + "\n").encode()
    (directory / "manifest.json").write_bytes(data)
    return VerifiedBundle(node, directory, manifest, hashlib.sha256(data).hexdigest())
