"""The registered analyses: the only code a node runs for a federated request.

``REGISTRY[name]`` is an :class:`Analysis` with a ``version``, a pydantic ``Parameters`` model
(unknown keys are errors), its ``outputs`` (Parquet tables, described for the airlock's kind
registry) and ``run(ds, phenotypes, params, *, min_minor_allele_count, out_dir)``, which writes
the tables and ``manifest.json`` (analysis, version, parameters, dataset, genome build, row
counts, the missing-genotype rule) into ``out_dir``.

    from tresor.federation.analyses import REGISTRY, phenotype_table
    ds = tresor.open_dataset("dk")
    REGISTRY["allele_counts"].run(ds, None, {}, min_minor_allele_count=10, out_dir=out)
"""

from __future__ import annotations

from tresor.federation.analyses.allele_counts import AlleleCounts
from tresor.federation.analyses.allele_frequency_summary import AlleleFrequencySummary
from tresor.federation.analyses.base import (
    MANIFEST,
    Analysis,
    AnalysisError,
    OutputKind,
    phenotype_table,
)
from tresor.federation.analyses.hwe_counts import HweCounts
from tresor.federation.analyses.linear_gwas import LinearGwasSufficientStatistics
from tresor.federation.analyses.summary_statistics import GwasSummaryStatistics

REGISTRY: dict[str, Analysis] = {
    a.name: a
    for a in (
        AlleleCounts(),
        HweCounts(),
        LinearGwasSufficientStatistics(),
        GwasSummaryStatistics(),
        AlleleFrequencySummary(),
    )
}


def output_kinds() -> dict[str, dict]:
    """Every registered output kind (name -> columns, counts of people, counts of alleles), for
    the airlock's registry of recognised output kinds."""
    return {o.name: o.to_dict() for a in REGISTRY.values() for o in a.outputs}


__all__ = [
    "MANIFEST",
    "REGISTRY",
    "Analysis",
    "AnalysisError",
    "OutputKind",
    "output_kinds",
    "phenotype_table",
]
