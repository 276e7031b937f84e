"""The demo cohorts in a node's catalogue: registered with their grants, made at first start."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from tresor.demo.files import CohortFiles, simulate_cohorts
from tresor.demo.simulation import BINARY, COHORTS, QUANTITATIVE, DemoParameters

if TYPE_CHECKING:  # pragma: no cover
    from tresor.core.site import SiteConfig

COHORT_TITLES = {
    "dk": "Danish demo cohort (simulated)",
    "se": "Swedish demo cohort (simulated)",
    "uk": "UK demo cohort (simulated)",
}

#: what a data user reads about each demo cohort (HealthDCAT-AP, docs/discovery.md)
COHORT_DESCRIPTIONS = {
    cohort: {
        "keywords": ("simulated", "msprime", "LDL cholesterol", "type 2 diabetes", cohort),
        "population": f"{population} (simulated with msprime)",
        "countries": (country,),
        "temporal_start": "2020-01-01",
        "temporal_end": "2025-12-31",
        "variant_types": ("SNV",),
        "duo": ("DUO:0000042", "DUO:0000019"),
        "access_procedure": (
            "Send a research proposal to the data access committee; approved projects analyse "
            "the data inside the node and take results out through its airlock."
        ),
        "contact_email": "dac@tresor.invalid",
        "publisher": f"tresor demo node ({cohort})",
        "strata": ("sex",),
    }
    for cohort, population, country in (
        ("dk", "adults of a Danish-like population", "DK"),
        ("se", "adults of a Swedish-like population", "SE"),
        ("uk", "adults of a British-like population", "GB"),
    )
}


def register_cohorts(
    written: list[CohortFiles], catalogue: Path, grants: dict[str, list[str]]
) -> list[Path]:
    """Add each demo cohort to the catalogue, granted to the groups in ``grants[cohort]``."""
    from tresor.core.catalogue import DatasetEntry, register_dataset

    return [
        register_dataset(
            DatasetEntry(
                id=c.cohort,
                title=COHORT_TITLES[c.cohort],
                description=(
                    "Simulated with msprime: three cohorts (dk, se, uk) with distinct demography, "
                    f"phenotypes {QUANTITATIVE} (quantitative) and {BINARY} (binary, 1=control "
                    "2=case) with known causal variants, covariates age and sex."
                ),
                genome_build="GRCh38",
                store=c.store,
                n_samples=c.n_samples,
                n_variants=c.n_variants,
                phenotypes={"pheno": c.pheno, "covar": c.covar},
                grants=tuple(grants.get(c.cohort, ())),
                contact="the demo node's data access committee (dac@tresor.invalid)",
                **COHORT_DESCRIPTIONS[c.cohort],
            ),
            catalogue,
        )
        for c in written
    ]


def demo_cohorts_missing(site: SiteConfig) -> bool:
    """True when the demo cohorts are not all registered with an existing store."""
    from tresor.core.catalogue import load_catalogue

    catalogue = load_catalogue(site.catalogue_path)
    return any(c not in catalogue or not catalogue[c].store.exists() for c in COHORTS)


def ensure_demo_cohorts(site: SiteConfig, *, progress: Callable[[str], None] = print) -> None:
    """Simulate and register the site's demo cohorts if it wants them and they are missing."""
    if not (site.demo.enabled and demo_cohorts_missing(site)):
        return
    params = DemoParameters(
        samples_per_cohort=site.demo.samples_per_cohort,
        contigs=site.demo.contigs,
        contig_length=site.demo.contig_length,
        seed=site.demo.seed,
    )
    written = simulate_cohorts(site.demo_data_path, params, progress=progress)
    register_cohorts(written, site.catalogue_path, site.demo.grants)
