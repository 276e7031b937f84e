"""linear_gwas_sufficient_statistics: what a pooled linear GWAS needs from one node.

With C the node's covariates (intercept first) over the n samples that have the phenotype y
and every covariate, and g a variant's ALT dosage, the node releases:
- once (``linear_gwas_node_statistics.parquet``, one row per predictor): n, C'C, C'y, y'y;
- per variant (``linear_gwas_statistics.parquet``): C'g, g'g, g'y, and AC/AN of the ALT allele
  over the analysed samples with a call.

Missing calls are mean-imputed within the node (g = the node's mean dosage over the analysed
samples with a call), so every variant has the same n samples and C'C stays the node's: no
per-variant sum over the few samples missing at one variant is ever released. plink2 and
``tresor.stats.gwas_linear`` leave those samples out instead; the results differ slightly at
variants with missing calls. Per-variant rows only where the node's minor allele count reaches
its threshold (g'y of a singleton is one person's phenotype).

The statistics come from :func:`tresor.stats.linear_regression_statistics` (which drops the
missing calls) with the imputation added back exactly, per variant:
C'g = C_o'g_o + m C_m'1, g'g = g_o'g_o + m^2 n_m, g'y = g_o'y_o + m y_m'1, where o are the
samples with a call, m = the missing ones, and m (the mean) = 1'g_o / n_o.
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
    TableWriter,
    Tally,
    iter_variant_blocks,
    write_manifest,
)
from tresor.federation.analyses.design import GwasParameters, build_design

NODE_FILE = "linear_gwas_node_statistics.parquet"
VARIANT_FILE = "linear_gwas_statistics.parquet"


def node_statistics_schema(predictors: tuple[str, ...]) -> pa.Schema:
    return pa.schema(
        [
            pa.field("PREDICTOR", pa.string(), False),
            pa.field("N", pa.int64(), False),
            pa.field("YTY", pa.float64(), False),
            pa.field("CTY", pa.float64(), False),
            *(pa.field(f"CTC_{p}", pa.float64(), False) for p in predictors),
        ]
    )


def variant_statistics_schema(predictors: tuple[str, ...]) -> pa.Schema:
    return pa.schema(
        [
            *VARIANT_FIELDS,
            pa.field("AC", pa.int64(), False),
            pa.field("AN", pa.int64(), False),
            *(pa.field(f"CG_{p}", pa.float64(), False) for p in predictors),
            pa.field("GG", pa.float64(), False),
            pa.field("GY", pa.float64(), False),
        ]
    )


def imputed_statistics(
    xtx: np.ndarray, xty: np.ndarray, n_called: np.ndarray, ctc: np.ndarray, cty: np.ndarray, n: int
) -> dict[str, np.ndarray]:
    """Mean-imputed C'g (variants, k), g'g, g'y and the allele counts from the per-variant
    statistics over the samples with a call (tresor.stats.linear_regression_statistics'
    predictors: the k covariates, then the REF and ALT1 dosages of a biallelic site)."""
    k = ctc.shape[0]
    ref, g = k, k + 1
    sum_g = xtx[:, 0, g]
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(n_called > 0, sum_g / np.maximum(n_called, 1), 0.0)
    missing_c = ctc[:, 0][None, :] - xtx[:, :k, 0]  # sum of each covariate over missing samples
    missing_y = cty[0] - xty[:, 0]
    n_missing = n - n_called
    return {
        "CG": xtx[:, :k, g] + mean[:, None] * missing_c,
        "GG": xtx[:, g, g] + mean**2 * n_missing,
        "GY": xty[:, g] + mean * missing_y,
        "AC": np.rint(sum_g).astype(np.int64),
        # REF + ALT dosages of a call are its ploidy: a haploid call adds one allele
        "AN": np.rint(xtx[:, 0, ref] + sum_g).astype(np.int64),
    }


class LinearGwasSufficientStatistics(Analysis):
    name = "linear_gwas_sufficient_statistics"
    description = (
        "Federated linear GWAS: the node's n, C'C, C'y, y'y once and C'g, g'g, g'y per "
        "variant above the minor allele count threshold"
    )
    version = "1"
    Parameters = GwasParameters
    missing_genotype_rule = "mean-imputed-within-node"
    outputs = (
        OutputKind(
            name="federation.linear_gwas_node_statistics",
            file=NODE_FILE,
            description="The node's n, C'C, C'y, y'y over the analysed samples, per predictor",
            columns=("PREDICTOR", "N", "YTY", "CTY", "CTC_<predictor>..."),
            people=("N",),
            per_variant=False,
        ),
        OutputKind(
            name="federation.linear_gwas_statistics",
            file=VARIANT_FILE,
            description=(
                "Per biallelic variant whose minor allele count reaches the node's threshold: "
                "C'g, g'g, g'y with missing calls mean-imputed within the node, AC and AN"
            ),
            columns=("CHROM", "POS", "REF", "ALT", "AC", "AN", "CG_<predictor>...", "GG", "GY"),
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
        from tresor.stats.association import linear_regression_statistics

        min_minor_allele_count, min_cell_count = limits
        design = build_design(ds, phenotypes, params, min_cell_count)
        c = design.covariates[design.include]
        y = design.y[design.include]
        ctc, cty, yty, n = c.T @ c, c.T @ y, float(y @ y), design.n
        predictors = params.predictors
        node_kind, variant_kind = self.outputs
        node_table = pa.table(
            {
                "PREDICTOR": list(predictors),
                "N": [n] * len(predictors),
                "YTY": [yty] * len(predictors),
                "CTY": cty,
                **{f"CTC_{p}": ctc[:, j] for j, p in enumerate(predictors)},
            },
            schema=node_statistics_schema(predictors),
        )
        import pyarrow.parquet as pq

        pq.write_table(node_table, out / node_kind.file)

        ds = linear_regression_statistics(
            ds, design.phenotype(), design.covariate_array(params.covariates)
        )
        k = len(predictors)
        if list(ds["predictors"].values[k : k + 2]) != ["REF", "ALT1"]:  # pragma: no cover
            raise RuntimeError("tresor.stats' regression predictors changed: update this analysis")
        writer = TableWriter(out / variant_kind.file, variant_statistics_schema(predictors))
        names = ["variant_linreg_n", "variant_linreg_xtx", "variant_linreg_xty"]
        tally = Tally()
        try:
            for block in iter_variant_blocks(ds, names):
                stats = imputed_statistics(
                    block.data["variant_linreg_xtx"].values,
                    block.data["variant_linreg_xty"].values,
                    block.data["variant_linreg_n"].values,
                    ctc,
                    cty,
                    n,
                )
                mac = np.minimum(stats["AC"], stats["AN"] - stats["AC"])
                ok = block.biallelic & (mac >= min_minor_allele_count)
                tally.add(block, ok)
                writer.write(
                    {
                        "CHROM": block.contig[ok],
                        "POS": block.pos[ok],
                        "REF": block.ref[ok],
                        "ALT": block.alt[ok],
                        "AC": stats["AC"][ok],
                        "AN": stats["AN"][ok],
                        **{f"CG_{p}": stats["CG"][ok, j] for j, p in enumerate(predictors)},
                        "GG": stats["GG"][ok],
                        "GY": stats["GY"][ok],
                    }
                )
        finally:
            writer.close()
        manifest = write_manifest(
            out,
            self,
            params,
            ds,
            outputs={
                node_kind.name: {
                    "file": node_kind.file,
                    "rows": len(predictors),
                    "columns": node_table.schema.names,
                },
                variant_kind.name: writer.summary(),
            },
            tally=tally,
            analysed=n,
            thresholds=limits,
            extra={"predictors": list(predictors)},
        )
        return [out / node_kind.file, writer.path, manifest]
