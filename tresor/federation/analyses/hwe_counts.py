"""hwe_counts: genotype counts per biallelic variant, for a pooled Hardy-Weinberg test.

The exact test needs the three genotype counts, which add up across nodes. A variant is
reported only where its allele counts pass the minor allele count rule and each non-zero
genotype count is at least the minimum cell count (they count people).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import xarray as xr

from tresor.federation.analyses.base import (
    VARIANT_FIELDS,
    Analysis,
    OutputKind,
    Parameters,
    TableWriter,
    Tally,
    allele_count_ok,
    iter_variant_blocks,
    write_manifest,
)

GENOTYPE_COLUMNS = ("HOM_REF_CT", "HET_REF_ALT_CTS", "TWO_ALT_GENO_CTS")


class HweParameters(Parameters):
    """No parameters: every biallelic variant of the dataset."""


class HweCounts(Analysis):
    name = "hwe_counts"
    description = (
        "Federated Hardy-Weinberg: genotype counts per variant, rows with small cells not written"
    )
    version = "1"
    Parameters = HweParameters
    missing_genotype_rule = "not-counted"
    outputs = (
        OutputKind(
            name="federation.hwe_counts",
            file="hwe_counts.parquet",
            description="Per biallelic variant: genotype counts (hom REF, het, hom ALT)",
            columns=("CHROM", "POS", "REF", "ALT", *GENOTYPE_COLUMNS),
            people=GENOTYPE_COLUMNS,
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
        ds = count_genotypes(ds)
        kind = self.outputs[0]
        schema = pa.schema(
            [*VARIANT_FIELDS, *(pa.field(c, pa.int64(), False) for c in GENOTYPE_COLUMNS)]
        )
        writer = TableWriter(out / kind.file, schema)
        tally = Tally()
        try:
            for block in iter_variant_blocks(
                ds, ["variant_allele_hom_count", "variant_allele_het_count"]
            ):
                hom = block.data["variant_allele_hom_count"].values
                het = block.data["variant_allele_het_count"].values
                geno = np.stack([hom[:, 0], het[:, 1], hom[:, 1]], axis=1)
                ac = geno[:, 1] + 2 * geno[:, 2]
                an = 2 * geno.sum(axis=1)
                ok = (
                    block.biallelic
                    & allele_count_ok(ac, an, min_minor_allele_count)
                    & ((geno == 0) | (geno >= min_cell_count)).all(axis=1)
                )
                tally.add(block, ok)
                writer.write(
                    {
                        "CHROM": block.contig[ok],
                        "POS": block.pos[ok],
                        "REF": block.ref[ok],
                        "ALT": block.alt[ok],
                        **{c: geno[ok, j] for j, c in enumerate(GENOTYPE_COLUMNS)},
                    }
                )
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
        )
        return [writer.path, manifest]
