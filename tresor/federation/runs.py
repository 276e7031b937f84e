"""A registered analysis over one of this node's catalogue datasets, as the node runs it: for
a federated request (the agent) or for the node's own discovery summaries (``tresor discovery
summarize``). The same inputs either way: the store read-only, the dataset's identity and
catalogue entry in its attributes, its phenotype files, and the node's thresholds."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tresor.core.airlock_config import CheckThresholds
from tresor.core.catalogue import DatasetEntry
from tresor.federation.analyses import Analysis


def phenotypes_of(entry: DatasetEntry) -> Any:
    """The dataset's phenotype and covariate files as one table indexed by IID, or None."""
    from tresor.stats.phenotypes import read_table

    tables = [read_table(entry.phenotypes[k]) for k in ("pheno", "covar") if k in entry.phenotypes]
    if not tables:
        return None
    table = tables[0]
    for other in tables[1:]:
        table = table.join(other[[c for c in other.columns if c not in table.columns]])
    return table


def run_on_dataset(
    analysis: Analysis,
    entry: DatasetEntry,
    parameters: Any,
    *,
    node: str,
    thresholds: CheckThresholds,
    out_dir: Path,
) -> list[Path]:
    """Run ``analysis`` over ``entry``'s store into ``out_dir`` (empty or new) under the node's
    minor allele count and cell count; returns the files it wrote."""
    from tresor.io import open_store

    dataset = open_store(entry.store)
    dataset.attrs.update(
        tresor_dataset_id=entry.id,
        tresor_title=entry.title,
        genome_build=entry.genome_build,
        tresor_node=node,
        tresor_catalogue_entry=entry,  # what a dataset description is written from
    )
    analysis.run(
        dataset,
        phenotypes_of(entry),
        parameters,
        min_minor_allele_count=thresholds.min_minor_allele_count,
        min_cell_count=thresholds.min_cell_count,
        out_dir=out_dir,
    )
    return sorted(p for p in Path(out_dir).rglob("*") if p.is_file() and not p.is_symlink())
