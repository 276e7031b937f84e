"""allele_frequency_summary: a dataset's allele-frequency summary and its description, for
discovery (the coordinator's Beacon and portal; docs/discovery.md).

Writes ``allele_frequencies.parquet`` (per released variant: ``ALL`` and, where the node
declares strata such as sex and none is suppressed, one row per group) under the disclosure
rules of :mod:`tresor.discovery.summary` with the floor max(``min_count``, 10, the node's
thresholds), and ``dataset.jsonld``, the dataset's HealthDCAT-AP description
(:mod:`tresor.discovery.dcat`). Both go through the node's airlock like any output.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import xarray as xr
from pydantic import Field

from tresor.discovery import summary as rules
from tresor.federation.analyses.base import (
    VARIANT_FIELDS,
    Analysis,
    OutputKind,
    Parameters,
    TableWriter,
    Tally,
    iter_variant_blocks,
    sample_ids,
    write_manifest,
)

_COUNTS = (
    "variant_allele_count",
    "variant_allele_hom_count",
    "variant_allele_het_count",
    "variant_n_called",
    "variant_n_haploid",
)
#: rows buffered before a row group is written (bigger groups compress better; the Beacon
#: reads one group per lookup)
ROW_GROUP = 32_768
DESCRIPTION = "dataset.jsonld"


class SummaryParameters(Parameters):
    """``min_count``: the federation's minimum; the node's floor is never below it, nor below 10."""

    min_count: int = Field(default=rules.DEFAULT_FLOOR, ge=rules.DEFAULT_FLOOR, le=1000)


def strata_groups(
    ds: xr.Dataset, phenotypes: pd.DataFrame | None, columns: tuple[str, ...], f: int
) -> tuple[list[str], list[np.ndarray], dict[str, str]]:
    """(labels, sample indices per group, column -> why it was not used) for the declared
    stratum columns; a column whose smallest group is below the floor is left out."""
    labels: list[str] = []
    groups: list[np.ndarray] = []
    skipped: dict[str, str] = {}
    if phenotypes is None or not columns:
        return labels, groups, skipped
    table = phenotypes.copy()
    table.index = table.index.astype(str)
    table = table.reindex(sample_ids(ds))
    for column in columns:
        if column not in table.columns:
            skipped[column] = "not in the phenotype table"
            continue
        raw = table[column].tolist()
        values = rules.sex_labels(raw) if column == "sex" else [
            "unknown" if v is None or (isinstance(v, float) and np.isnan(v)) else str(v)
            for v in raw
        ]  # fmt: skip
        names = sorted(set(values))
        sizes = {n: values.count(n) for n in names}
        if not rules.usable_strata(sizes, f):
            skipped[column] = f"a group has fewer than {f} samples"
            continue
        array = np.asarray(values, dtype=object)
        for name in names:
            labels.append(f"{column}={name}")
            groups.append(np.flatnonzero(array == name))
    return labels, groups, skipped


def _counts(block: xr.Dataset, i: int) -> rules.Counts:
    ac = block[f"variant_allele_count__{i}"].values
    hom = block[f"variant_allele_hom_count__{i}"].values
    het = block[f"variant_allele_het_count__{i}"].values
    haploid = block[f"variant_n_haploid__{i}"].values
    hap_alt = ac[:, 1] - het[:, 1] - 2 * hom[:, 1]
    return rules.Counts(
        ac=ac[:, 1],
        an=ac[:, 0] + ac[:, 1],
        called=block[f"variant_n_called__{i}"].values,
        hom_ref=hom[:, 0],
        het=het[:, 1],
        hom_alt=hom[:, 1],
        hap_ref=haploid - hap_alt,
        hap_alt=hap_alt,
    )


def summary_columns(
    d: rules.Decision, rows: list[rules.Counts], labels: list[str]
) -> dict[str, Any]:
    """The table's count columns for one block (rows variant-major, ``ALL`` first)."""
    mask = d.rows

    def take(values: list[np.ndarray], shown: np.ndarray) -> pa.Array:
        stacked = np.stack(values, axis=1)
        return pa.array(stacked[mask], mask=~shown[mask], type=pa.int64())

    columns: dict[str, Any] = {
        "STRATUM": np.broadcast_to(np.asarray([rules.ALL, *labels], object), mask.shape)[mask],
        "AC": take([c.ac for c in rows], d.alleles),
        "AN": take([c.an for c in rows], d.alleles),
        "SUPPRESSED": ~d.alleles[mask],
    }
    for name, attr in zip(
        rules.GENOTYPES, ("hom_ref", "het", "hom_alt", "hap_ref", "hap_alt"), strict=True
    ):
        columns[name] = take([getattr(c, attr) for c in rows], d.genotypes)
    return columns


class AlleleFrequencySummary(Analysis):
    name = "allele_frequency_summary"
    version = "1"
    description = (
        "Allele-frequency summary for discovery (Beacon and portal): AC, AN and genotype counts "
        "per variant seen at least floor times, suppressed symmetrically below the floor, strata "
        "collapsed to the total; and the dataset's HealthDCAT-AP description"
    )
    disclosure_control = (
        "floor = max(federation minimum, 10, node thresholds); variants seen fewer than floor "
        "times left out; AC and AN-AC withheld together when either is below the floor; strata "
        "collapsed to the total when any is withheld; counts by sex only when every group "
        "reaches the floor"
    )
    Parameters = SummaryParameters
    missing_genotype_rule = "not-counted"
    outputs = (
        OutputKind(
            name="discovery.allele_frequencies",
            file="allele_frequencies.parquet",
            description=(
                "Per biallelic variant seen at least floor times: AC, AN and genotype counts for "
                "all samples (STRATUM ALL) and, where none is withheld, for each declared group; "
                "withheld counts are null with SUPPRESSED true"
            ),
            columns=rules.COLUMNS,
            people=rules.GENOTYPES,
            alleles=("AC", "AN"),
            keys=("CHROM", "POS", "REF", "ALT", "STRATUM"),
            flags=("SUPPRESSED",),
        ),
        OutputKind(
            name="discovery.dataset_description",
            file=DESCRIPTION,
            description=(
                "The dataset's HealthDCAT-AP description (JSON-LD): title, description, access "
                "procedure, data use conditions, number of individuals and, where every group "
                "reaches the floor, the numbers by sex"
            ),
            columns=(),
            people=("healthdcatap:numberOfUniqueIndividuals", "tresor:samplesBySex"),
            per_variant=False,
        ),
    )

    def node_thresholds(
        self, min_minor_allele_count: int, min_cell_count: int | None
    ) -> tuple[int, int]:
        """As given, unchecked: the floor is the largest of them, ``min_count`` and 10."""
        return min_minor_allele_count, min_cell_count or 0

    def analyse(
        self,
        ds: xr.Dataset,
        phenotypes: pd.DataFrame | None,
        params: Any,
        out: Path,
        limits: tuple[int, int],
    ) -> list[Path]:
        from tresor.core.catalogue import DatasetEntry
        from tresor.discovery import dcat
        from tresor.stats.aggregation import count_genotypes

        f = rules.floor(params.min_count, *limits)
        entry = catalogue_entry(ds)
        labels, groups, skipped = strata_groups(ds, phenotypes, entry.strata, f)
        parts: list[np.ndarray | None] = groups if groups else [None]
        names = []
        for i, idx in enumerate(parts):
            part = ds if idx is None else ds.isel(samples=idx)
            counts = count_genotypes(part, merge=False)[list(_COUNTS)]
            for var in _COUNTS:
                ds = ds.assign({f"{var}__{i}": counts[var]})
                names.append(f"{var}__{i}")
        # with several stratum columns, the first column's groups sum to the total
        first = [i for i, lab in enumerate(labels) if lab.split("=")[0] == labels[0].split("=")[0]]

        fields = [*VARIANT_FIELDS, pa.field("STRATUM", pa.string(), False)]
        fields += [pa.field(c, pa.int64()) for c in ("AC", "AN", *rules.GENOTYPES)]
        fields.append(pa.field("SUPPRESSED", pa.bool_(), False))
        kind = self.outputs[0]
        writer = TableWriter(out / kind.file, pa.schema(fields))
        tally = Tally()
        buffered: list[dict[str, Any]] = []

        def flush() -> None:
            if buffered:
                writer.write({k: _concat([b[k] for b in buffered]) for k in buffered[0]})
                buffered.clear()

        try:
            for block in iter_variant_blocks(ds, names):
                strata = [_counts(block.data, i) for i in range(len(parts))] if groups else []
                total = (
                    rules.Counts.total([strata[i] for i in first])
                    if groups
                    else _counts(block.data, 0)
                )
                decision = rules.decide(total, strata, f, block.biallelic)
                tally.add(block, decision.released)
                columns = summary_columns(decision, [total, *strata], labels)
                per_variant = decision.rows.sum(axis=1)
                for name, values in (("CHROM", block.contig), ("POS", block.pos),
                                     ("REF", block.ref), ("ALT", block.alt)):  # fmt: skip
                    columns[name] = np.repeat(values, per_variant)
                buffered.append(columns)
                if sum(len(b["POS"]) for b in buffered) >= ROW_GROUP:
                    flush()
            flush()
        finally:
            writer.close()

        by_sex = None
        if "sex" in entry.strata and phenotypes is not None and "sex" in phenotypes.columns:
            table = phenotypes.copy()
            table.index = table.index.astype(str)
            sexes = table.reindex(sample_ids(ds))["sex"].tolist()
            by_sex = rules.sex_counts(rules.sex_labels(sexes), f)
        node = str(ds.attrs.get("tresor_node", "local"))
        entry = DatasetEntry(**{**entry.__dict__, "n_samples": int(ds.sizes["samples"])})
        graph = dcat.catalogue_graph([(entry, by_sex)], node=node)
        description = out / DESCRIPTION
        description.write_text(dcat.serialize(graph, "jsonld"))
        manifest = write_manifest(
            out,
            self,
            params,
            ds,
            outputs={kind.name: writer.summary()},
            tally=tally,
            analysed=ds.sizes["samples"],
            thresholds=(f, f),
            extra={
                "floor": f,
                "strata": [rules.ALL, *labels],
                "strata_not_used": skipped,
                "description": DESCRIPTION,
                "node": node,
            },
        )
        return [writer.path, description, manifest]


def _concat(parts: list) -> Any:
    if isinstance(parts[0], pa.Array):
        return pa.concat_arrays(parts)
    return np.concatenate(parts)


def catalogue_entry(ds: xr.Dataset) -> Any:
    """The dataset's catalogue entry, as the agent passes it (``ds.attrs``), else a minimal one
    from the id, title and build."""
    from tresor.core.catalogue import DatasetEntry

    data = ds.attrs.get("tresor_catalogue_entry")
    if isinstance(data, DatasetEntry):
        return data
    ident = str(ds.attrs.get("tresor_dataset_id", "dataset"))
    return DatasetEntry(
        id=ident,
        title=str(ds.attrs.get("tresor_title", ident)),
        store=Path("/"),
        genome_build=str(ds.attrs.get("genome_build", "GRCh38")),
        n_samples=int(ds.sizes["samples"]),
    )
