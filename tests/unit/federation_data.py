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

import numpy as np
import pandas as pd
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


# -- the pooled references -------------------------------------------------------------------
def genotypes(cohort) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """One row per biallelic site of the cohort's store: key and ALT dosage per sample (NaN
    for a missing call), computed directly from the arrays (the reference, not tresor.stats)."""
    ds = open_cohort(cohort).load()
    alleles = ds["variant_allele"].values.astype(object)
    biallelic = (alleles != "").sum(axis=1) == 2
    g = ds["call_genotype"].values.astype(float)
    g[g < 0] = np.nan
    dosage = g.sum(axis=2)  # NaN when either allele is missing
    contigs = ds["contig_id"].values.astype(object)[ds["variant_contig"].values]
    keys = pd.DataFrame(
        {
            "CHROM": contigs,
            "POS": ds["variant_position"].values,
            "REF": alleles[:, 0],
            "ALT": alleles[:, 1],
        }
    )[biallelic].reset_index(drop=True)
    return keys, dosage[biallelic], ds["sample_id"].values.astype(object).astype(str)


def pooled_fit(
    cohort_data, phenotypes, key, nodes, phenotype: str = "ldl", covariates=("age", "sex")
):
    """statsmodels OLS over the concatenated cohorts in ``nodes`` (``cohort_data[node]``: what
    :func:`genotypes` returns): one intercept per cohort, the covariates and the dosage
    mean-imputed within each cohort (over its analysed samples). (BETA, SE) of the dosage."""
    import statsmodels.api as sm

    xs, ys = [], []
    for i, c in enumerate(nodes):
        keys, dosage, ids = cohort_data[c]
        row = np.flatnonzero(
            (keys["CHROM"] == key[0])
            & (keys["POS"] == key[1])
            & (keys["REF"] == key[2])
            & (keys["ALT"] == key[3])
        )[0]
        table = phenotypes[c].reindex(ids)
        y = pd.to_numeric(table[phenotype], errors="coerce").to_numpy()
        z = table[list(covariates)].astype(float).to_numpy()
        keep = ~np.isnan(y)
        g = dosage[row][keep]
        g = np.where(np.isnan(g), np.nanmean(g), g)
        cohort = np.zeros((keep.sum(), len(nodes)))
        cohort[:, i] = 1
        xs.append(np.column_stack([cohort, z[keep], g]))
        ys.append(y[keep])
    fit = sm.OLS(np.concatenate(ys), np.concatenate(xs)).fit()
    return fit.params[-1], fit.bse[-1]
