"""gwas_summary_statistics: the node's own linear GWAS, per variant, for a meta-analysis.

The regression is ``tresor.stats``' linear regression as plink2 --glm does it (samples with a
missing call left out per variant, covariates, intercept), reported for the ALT allele whatever
plink2's A1 would be (BETA of REF dosage is minus BETA of ALT dosage), so that every node's
rows point the same way before alignment. A1_FREQ is the ALT frequency over the samples in the
regression. Rows only where the minor allele count over those samples reaches the node's
threshold, OBS_CT reaches the minimum cell count, and the fit has no error code.
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

FILE = "gwas_summary_statistics.parquet"
SCHEMA = pa.schema(
    [
        *VARIANT_FIELDS,
        pa.field("A1", pa.string(), False),
        pa.field("A1_FREQ", pa.float64(), False),
        pa.field("OBS_CT", pa.int64(), False),
        pa.field("BETA", pa.float64(), False),
        pa.field("SE", pa.float64(), False),
        pa.field("T_STAT", pa.float64(), False),
        pa.field("P", pa.float64(), False),
    ]
)


class GwasSummaryStatistics(Analysis):
    name = "gwas_summary_statistics"
    description = (
        "Federated GWAS meta-analysis: BETA, SE, P, N and allele frequency per variant "
        "above the minor allele count threshold"
    )
    version = "1"
    Parameters = GwasParameters
    missing_genotype_rule = "excluded-per-variant"
    outputs = (
        OutputKind(
            name="federation.gwas_summary_statistics",
            file=FILE,
            description=(
                "Per biallelic variant: BETA, SE, T_STAT, P of the ALT allele (A1), its "
                "frequency A1_FREQ and the samples in the regression OBS_CT"
            ),
            columns=tuple(SCHEMA.names),
            people=("OBS_CT",),
            alleles=("A1_FREQ",),
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
        from tresor.stats.association import (
            linear_regression_statistics,
            solve_linear_regression,
        )

        min_minor_allele_count, min_cell_count = limits
        design = build_design(ds, phenotypes, params, min_cell_count)
        ds = linear_regression_statistics(
            count_genotypes(ds), design.phenotype(), design.covariate_array(params.covariates)
        )
        ds = solve_linear_regression(ds)
        k = len(params.predictors)
        names = [
            "variant_linreg_n",
            "variant_linreg_xtx",
            "variant_glm_a1",
            "variant_glm_beta",
            "variant_glm_se",
            "variant_glm_stat",
            "variant_glm_p_value",
            "variant_glm_error",
        ]
        kind = self.outputs[0]
        writer = TableWriter(out / kind.file, SCHEMA)
        tally = Tally()
        try:
            for block in iter_variant_blocks(ds, names):
                d = block.data
                n_obs = d["variant_linreg_n"].values
                ac = d["variant_linreg_xtx"].values[:, 0, k]
                with np.errstate(invalid="ignore", divide="ignore"):
                    freq = ac / (2.0 * n_obs)
                # biallelic: the tested allele is ALT (column 1) or, when ALT is the major
                # allele, REF (column 0) with the opposite sign
                alt_tested = d["variant_glm_a1"].values[:, 1]
                col = np.where(alt_tested, 1, 0)
                rows = np.arange(len(col))
                sign = np.where(alt_tested, 1.0, -1.0)
                beta = sign * d["variant_glm_beta"].values[rows, col]
                se = d["variant_glm_se"].values[rows, col]
                stat = sign * d["variant_glm_stat"].values[rows, col]
                p = d["variant_glm_p_value"].values[rows, col]
                err = d["variant_glm_error"].values[rows, col]
                mac = np.minimum(ac, 2 * n_obs - ac)
                ok = (
                    block.biallelic
                    & (mac >= min_minor_allele_count)
                    & (n_obs >= min_cell_count)
                    & (err == 0)
                    & np.isfinite(beta)
                    & np.isfinite(se)
                )
                tally.add(block, ok)
                writer.write(
                    {
                        "CHROM": block.contig[ok],
                        "POS": block.pos[ok],
                        "REF": block.ref[ok],
                        "ALT": block.alt[ok],
                        "A1": block.alt[ok],
                        "A1_FREQ": freq[ok],
                        "OBS_CT": n_obs[ok].astype(np.int64),
                        "BETA": beta[ok],
                        "SE": se[ok],
                        "T_STAT": stat[ok],
                        "P": p[ok],
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
            analysed=design.n,
            thresholds=limits,
            extra={"predictors": list(params.predictors)},
        )
        return [writer.path, manifest]
