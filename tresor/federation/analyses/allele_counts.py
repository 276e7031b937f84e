"""allele_counts: AC, AN and genotype counts per variant, optionally per stratum (e.g. sex).

Disclosure rules applied in the node, before the airlock sees the table:
- a variant is reported only where, in every stratum, the ALT and the REF allele counts are
  each 0 or at least the node's minor allele count threshold; otherwise none of its rows is
  written (suppressing one stratum alone would leave it as the total minus the others);
- genotype counts of a row are null unless each non-zero one is at least the minimum cell
  count (they count people); AC and AN stay.
Strata partition the samples: each value of the column is one stratum, samples without a value
are the stratum ``<column>=NA``, and ``ALL`` is every sample.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import xarray as xr
from pydantic import Field

from tresor.federation.analyses.base import (
    VARIANT_FIELDS,
    Analysis,
    AnalysisError,
    OutputKind,
    Parameters,
    TableWriter,
    Tally,
    allele_count_ok,
    iter_variant_blocks,
    numeric_columns,
    write_manifest,
)

GENOTYPE_COLUMNS = ("HOM_REF_CT", "HET_REF_ALT_CTS", "TWO_ALT_GENO_CTS")
ALL = "ALL"
_COUNTS = (
    "variant_allele_count",
    "variant_allele_hom_count",
    "variant_allele_het_count",
)


class AlleleCountParameters(Parameters):
    """``stratify_by``: a numeric column of the phenotype/covariate table (e.g. ``sex``)."""

    stratify_by: str | None = Field(default=None, pattern=r"^[A-Za-z_][A-Za-z0-9_.-]{0,63}$")


def stratum_labels(values: np.ndarray, column: str) -> tuple[list[str], np.ndarray]:
    """(labels, code per sample): ``column=value`` for each value, ``column=NA`` for missing."""
    labels = []
    codes = np.full(len(values), -1)
    present = ~np.isnan(values)
    for i, v in enumerate(np.unique(values[present])):
        labels.append(f"{column}={v:g}")
        codes[values == v] = i
    if (~present).any():
        codes[~present] = len(labels)
        labels.append(f"{column}=NA")
    return labels, codes


def count_table(
    block_counts: list[dict[str, np.ndarray]],
    labels: list[str],
    rows: np.ndarray,
    min_cell_count: int,
) -> dict[str, Any]:
    """The output columns (without the variant labels) for the reported ``rows`` of a block:
    one row per variant and stratum, variant-major."""
    n_rows = int(rows.sum())
    columns: dict[str, Any] = {}
    per_stratum = []
    for counts in block_counts:
        ac = counts["ac"][rows]
        an = counts["an"][rows]
        geno = np.stack([counts["hom_ref"][rows], counts["het"][rows], counts["hom_alt"][rows]], 1)
        shown = ((geno == 0) | (geno >= min_cell_count)).all(axis=1)
        per_stratum.append((ac, an, geno, shown))
    s = len(block_counts)

    def interleave(arrays: list[np.ndarray]) -> np.ndarray:
        return np.stack(arrays, axis=1).reshape(n_rows * s, *arrays[0].shape[1:])

    if labels:
        columns["STRATUM"] = np.tile(np.asarray(labels, dtype=object), n_rows)
    columns["AC"] = interleave([p[0] for p in per_stratum])
    columns["AN"] = interleave([p[1] for p in per_stratum])
    geno = interleave([p[2] for p in per_stratum])
    shown = interleave([p[3] for p in per_stratum])
    for j, name in enumerate(GENOTYPE_COLUMNS):
        columns[name] = pa.array(geno[:, j], mask=~shown, type=pa.int64())
    return columns


class AlleleCounts(Analysis):
    name = "allele_counts"
    description = (
        "Federated allele counts: AC, AN and genotype counts per variant, rows below the "
        "node's minor allele count threshold not written"
    )
    version = "1"
    Parameters = AlleleCountParameters
    missing_genotype_rule = "not-counted"
    outputs = (
        OutputKind(
            name="federation.allele_counts",
            file="allele_counts.parquet",
            description=(
                "Per biallelic variant (and stratum): ALT allele count AC, allele number AN, "
                "genotype counts; rows whose allele counts fall below the node's threshold are "
                "not written"
            ),
            columns=("CHROM", "POS", "REF", "ALT", "STRATUM", "AC", "AN", *GENOTYPE_COLUMNS),
            people=GENOTYPE_COLUMNS,
            alleles=("AC", "AN"),
        ),
    )

    def analyse(
        self,
        ds: xr.Dataset,
        phenotypes: pd.DataFrame | None,
        params: Any,
        out: Path,
        limits: tuple[int, int],
    ) -> list[Path]:
        from tresor.stats.aggregation import count_genotypes

        min_minor_allele_count, min_cell_count = limits
        stratified = params.stratify_by is not None
        if stratified:
            values = numeric_columns(ds, phenotypes, [params.stratify_by])[:, 0]
            labels, codes = stratum_labels(values, params.stratify_by)
            groups = [np.flatnonzero(codes == i) for i in range(len(labels))]
            if len(labels) > 20:
                raise AnalysisError(
                    f"{params.stratify_by!r} has {len(labels)} values; strata are for a few "
                    "categories (such as sex), not for a continuous covariate"
                )
            small = [
                f"{lab} ({len(i)})"
                for lab, i in zip(labels, groups, strict=True)
                if len(i) < min_cell_count
            ]
            if small:
                raise AnalysisError(
                    f"strata with fewer samples than the node's minimum cell count "
                    f"{min_cell_count}: {', '.join(small)}; every variant would be suppressed. "
                    "Stratify by a column that every sample has, in groups that are large enough"
                )
        else:
            labels, groups = [], [None]
        names = []
        for i, idx in enumerate(groups):
            part = ds if idx is None else ds.isel(samples=idx)
            counts = count_genotypes(part, merge=False)[list(_COUNTS)]
            for var in _COUNTS:
                ds = ds.assign({f"{var}__{i}": counts[var]})
                names.append(f"{var}__{i}")

        fields = list(VARIANT_FIELDS)
        if stratified:
            fields.append(pa.field("STRATUM", pa.string(), nullable=False))
        fields += [pa.field("AC", pa.int64(), False), pa.field("AN", pa.int64(), False)]
        fields += [pa.field(c, pa.int64()) for c in GENOTYPE_COLUMNS]
        kind = self.outputs[0]
        writer = TableWriter(out / kind.file, pa.schema(fields))
        tally = Tally()
        try:
            for block in iter_variant_blocks(ds, names):
                per_group = []
                for i in range(len(groups)):
                    ac = block.data[f"variant_allele_count__{i}"].values
                    hom = block.data[f"variant_allele_hom_count__{i}"].values
                    het = block.data[f"variant_allele_het_count__{i}"].values
                    per_group.append(
                        {
                            "ac": ac[:, 1],
                            "an": ac[:, 0] + ac[:, 1],
                            "hom_ref": hom[:, 0],
                            "het": het[:, 1],
                            "hom_alt": hom[:, 1],
                        }
                    )
                if stratified:  # the total as the sum of the strata: one pass over the calls
                    total = {k: sum(g[k] for g in per_group) for k in per_group[0]}
                    per_group = [total, *per_group]
                ok = block.biallelic.copy()
                for g in per_group:
                    ok &= allele_count_ok(g["ac"], g["an"], min_minor_allele_count)
                tally.add(block, ok)
                columns = count_table(
                    per_group, [ALL, *labels] if stratified else [], ok, min_cell_count
                )
                s = len(per_group)
                for name, values in (
                    ("CHROM", block.contig),
                    ("POS", block.pos),
                    ("REF", block.ref),
                    ("ALT", block.alt),
                ):
                    columns[name] = np.repeat(values[ok], s)
                writer.write(columns)
        finally:
            writer.close()
        manifest = write_manifest(
            out,
            self,
            params,
            ds,
            outputs={kind.name: writer.summary()},
            tally=tally,
            analysed=ds.sizes["samples"],
            thresholds=limits,
            extra={"strata": [ALL, *labels] if stratified else None},
        )
        return [writer.path, manifest]
