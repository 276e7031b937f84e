"""STUBS, for the protocol tests only, until the registered analyses and the merge land
(``tresor.federation.analyses`` and ``tresor.federation.merge``, built in parallel).

:func:`install` registers them the way the real ones are found (``REGISTRY`` in
``tresor.federation.analyses``, ``merge`` in ``tresor.federation.merge``) only when those
modules do not exist; once they do, the tests run the real ones. The stubs follow the shared
interface (docs: /work/federation-plan.md): an allele count per biallelic variant (plink2's
``ALT_CTS`` and ``OBS_CT``), rows below the node's minor allele count dropped, and a merge
that sums the counts of each variant over the nodes (a variant missing from a node's table is
marked incomplete, its sums left empty).
"""

from __future__ import annotations

import importlib
import json
import sys
import types
from pathlib import Path

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict

COLUMNS = ["#CHROM", "POS", "ID", "REF", "ALT", "ALT_CTS", "OBS_CT"]
KEY = ["#CHROM", "POS", "REF", "ALT"]


class AlleleCountsParameters(BaseModel):
    model_config = ConfigDict(extra="forbid")


class StubAlleleCounts:
    """STUB of the registered analysis ``allele_counts``."""

    name = "allele_counts"
    version = "0+stub"
    Parameters = AlleleCountsParameters
    output_kinds = ("allele_counts",)
    disclosure_control = "STUB allele counts: rows below the minor allele count threshold dropped"

    def run(self, dataset, phenotypes, params, *, min_minor_allele_count: int, out_dir: Path,
            min_cell_count: int | None = None):  # fmt: skip
        table = allele_counts(dataset)
        minor = np.minimum(table["ALT_CTS"], table["OBS_CT"] - table["ALT_CTS"])
        kept = table[minor >= min_minor_allele_count]
        out = Path(out_dir) / "allele_counts.parquet"
        kept.to_parquet(out, index=False)
        manifest = Path(out_dir) / "manifest.json"
        manifest.write_text(
            json.dumps(
                {
                    "analysis": self.name,
                    "version": self.version,
                    "dataset": dataset.attrs.get("tresor_dataset_id"),
                    "genome_build": dataset.attrs.get("genome_build"),
                    "rows": len(kept),
                    "suppressed_rows": len(table) - len(kept),
                },
                indent=1,
            )
        )
        return [out, manifest]


def allele_counts(dataset) -> pd.DataFrame:
    """ALT_CTS and OBS_CT of every biallelic variant of a VCF Zarr dataset (missing calls are
    not counted): also the tests' pooled reference."""
    alleles = np.asarray(dataset["variant_allele"].values).astype(object).astype(str)
    biallelic = (alleles[:, 1] != "") & ((alleles.shape[1] < 3) | (alleles[:, 2:] == "").all(1))
    g = dataset["call_genotype"].data
    alt = np.asarray((g == 1).sum(axis=(1, 2)).compute())
    called = np.asarray((g >= 0).sum(axis=(1, 2)).compute())
    contigs = np.asarray(dataset["contig_id"].values).astype(object).astype(str)
    chrom = contigs[np.asarray(dataset["variant_contig"].values)]
    pos = np.asarray(dataset["variant_position"].values)
    table = pd.DataFrame(
        {
            "#CHROM": chrom,
            "POS": pos,
            "ID": [f"{c}:{p}:{a[0]}:{a[1]}" for c, p, a in zip(chrom, pos, alleles, strict=True)],
            "REF": alleles[:, 0],
            "ALT": alleles[:, 1],
            "ALT_CTS": alt.astype(np.int64),
            "OBS_CT": called.astype(np.int64),
        }
    )
    return table[biallelic].reset_index(drop=True)


def stub_merge(bundles, out_dir: Path, *, request_id=None, crate_sha256=None):
    """STUB of ``tresor.federation.merge.merge``: sums per variant over the nodes' bundles."""
    merged = None
    for bundle in bundles:
        (path,) = bundle.files_dir.rglob("allele_counts.parquet")
        table = pd.read_parquet(path)[KEY + COLUMNS[5:]]
        table = table.rename(
            columns={"ALT_CTS": f"AC_{bundle.node}", "OBS_CT": f"AN_{bundle.node}"}
        )
        merged = table if merged is None else merged.merge(table, on=KEY, how="outer")
    nodes = [b.node for b in bundles]
    merged["COMPLETE"] = merged[[f"AC_{n}" for n in nodes]].notna().all(axis=1)
    merged["ALT_CTS"] = merged[[f"AC_{n}" for n in nodes]].sum(axis=1, min_count=len(nodes))
    merged["OBS_CT"] = merged[[f"AN_{n}" for n in nodes]].sum(axis=1, min_count=len(nodes))
    merged = merged.sort_values(["#CHROM", "POS", "REF", "ALT"])
    merged[[*KEY, "ALT_CTS", "OBS_CT", "COMPLETE"]].to_parquet(
        Path(out_dir) / "allele_counts.merged.parquet", index=False
    )
    (Path(out_dir) / "provenance.json").write_text(
        json.dumps(
            {
                "stub": True,
                "bundles": [
                    {"node": b.node, "manifest_sha256": b.manifest_sha256} for b in bundles
                ],
            },
            indent=1,
        )
    )
    return None


def install() -> list[str]:
    """Register the stubs where the real modules are missing; returns the stubbed names."""
    import tresor.federation

    stubbed = []
    try:  # a directory left without __init__.py would import as an empty namespace package
        if not hasattr(importlib.import_module("tresor.federation.analyses"), "REGISTRY"):
            raise ModuleNotFoundError("tresor.federation.analyses")
    except ModuleNotFoundError:
        analyses = types.ModuleType("tresor.federation.analyses")
        analyses.REGISTRY = {"allele_counts": StubAlleleCounts()}
        sys.modules["tresor.federation.analyses"] = analyses
        tresor.federation.analyses = analyses
        stubbed.append("analyses")
    try:
        if not hasattr(importlib.import_module("tresor.federation.merge"), "merge"):
            raise ModuleNotFoundError("tresor.federation.merge")
    except ModuleNotFoundError:
        merge = types.ModuleType("tresor.federation.merge")
        merge.merge = stub_merge
        sys.modules["tresor.federation.merge"] = merge
        tresor.federation.merge = merge
        stubbed.append("merge")
    return stubbed
