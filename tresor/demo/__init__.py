"""Simulated demo cohorts: three countries with distinct demography, phenotypes with known causes.

Nothing is downloaded. One pipeline, :func:`simulate_plan`, runs msprime once for a :class:`Plan`
(so that cohorts share variants the way real national cohorts do), cuts the samples into cohorts
and writes for each a bgzipped, indexed VCF (with a small fraction of missing calls), a VCF Zarr
store converted by bio2zarr, and plink2 phenotype and covariate files (``#IID`` header). The
causal variants go to ``causal_variants.tsv`` so notebooks and tests can check that a GWAS finds
them. :func:`simulate_cohorts` makes the three demo cohorts (dk, se, uk) a node registers;
:func:`simulate_cohort` makes one large cohort drawn from all three for the benchmarks.

- :mod:`tresor.demo.simulation`: the parameters and the plan; genotypes, phenotypes, missing
  calls in memory.
- :mod:`tresor.demo.files`: the pipeline; VCF, VCF Zarr, phenotype files, staging.
- :mod:`tresor.demo.registration`: the catalogue entries; a node's demo cohorts at first start.

Tooling: it uses the core (:mod:`tresor.core`) and never the node runtime or the airlock.
"""

from tresor.demo.files import (
    CohortFiles,
    simulate_cohort,
    simulate_cohorts,
    simulate_plan,
    write_vcf,
)
from tresor.demo.registration import (
    COHORT_TITLES,
    demo_cohorts_missing,
    ensure_demo_cohorts,
    register_cohorts,
)
from tresor.demo.simulation import (
    BINARY,
    COHORTS,
    QUANTITATIVE,
    CohortParameters,
    DemoParameters,
    ModelParameters,
    Plan,
    demography,
    simulate,
)

__all__ = [
    "BINARY",
    "COHORTS",
    "COHORT_TITLES",
    "QUANTITATIVE",
    "CohortFiles",
    "CohortParameters",
    "DemoParameters",
    "ModelParameters",
    "Plan",
    "demo_cohorts_missing",
    "demography",
    "ensure_demo_cohorts",
    "register_cohorts",
    "simulate",
    "simulate_cohort",
    "simulate_cohorts",
    "simulate_plan",
    "write_vcf",
]
