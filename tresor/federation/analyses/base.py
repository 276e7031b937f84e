"""What every registered analysis shares: its declaration, the node's inputs, the Parquet tables
it writes block by block, and its manifest.

A node runs an analysis over one dataset (a lazy VCF Zarr Dataset) and its phenotype table; the
outputs are Parquet tables, sorted as the store is (contig, position), one row group per block
of variants and never spanning two contigs (the merge reads them a row group at a time), plus
``manifest.json``. Only biallelic sites are analysed: a multi-allelic site is skipped and counted
in the manifest, so every row is one REF/ALT pair that the merge can align across nodes.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import os
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import xarray as xr
from pydantic import BaseModel, ConfigDict

from tresor.core.errors import TresorError
from tresor.core.version import __version__

#: the analysis manifest's file name, beside the tables
MANIFEST = "manifest.json"

#: the columns that name a variant in every output table, in this order
VARIANT_COLUMNS = ("CHROM", "POS", "REF", "ALT")
VARIANT_FIELDS = (
    pa.field("CHROM", pa.string(), nullable=False),
    pa.field("POS", pa.int64(), nullable=False),
    pa.field("REF", pa.string(), nullable=False),
    pa.field("ALT", pa.string(), nullable=False),
)

#: how missing calls enter each kind of statistic (written into every manifest)
MISSING_RULES = {
    "not-counted": (
        "a call with a missing allele is not counted: AN is twice the number of called samples "
        "(plink2's rule for hard calls)"
    ),
    "mean-imputed-within-node": (
        "a missing call is replaced by the node's mean ALT dosage over the analysed samples with "
        "a call, so every sample with the phenotype and covariates is in every variant's "
        "statistics and C'C is the node's, once; this differs from plink2's and tresor.stats' "
        "local GWAS, which leave out the samples missing at each variant"
    ),
    "excluded-per-variant": (
        "per variant, samples with a missing call are left out of the regression, as plink2 --glm "
        "and tresor.stats.gwas_linear do; N is per variant"
    ),
}


class AnalysisError(TresorError, ValueError):
    """An analysis that cannot run on this node's data, with what to change."""


class Parameters(BaseModel):
    """Base of every analysis' parameters: unknown keys are errors, values are frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True)


#: columns that name a row of a per-variant table (and its stratum or predictor)
ROW_KEY_COLUMNS = ("CHROM", "POS", "REF", "ALT", "STRATUM", "PREDICTOR")


@dataclasses.dataclass(frozen=True)
class OutputKind:
    """One output table as the airlock's kind registry needs it (data, not code).

    ``people`` and ``alleles`` name the columns that count individuals and alleles, which the
    disclosure rules (minimum cell count, minor allele count) apply to; ``keys`` the columns
    that name a row, by which the release ledger matches the rows of two releases
    (differencing; default: those of :data:`ROW_KEY_COLUMNS` the table has); ``flags`` boolean
    columns that are neither (e.g. SUPPRESSED: the row's counts are withheld, null).
    """

    name: str
    file: str
    description: str
    columns: tuple[str, ...]
    people: tuple[str, ...] = ()
    alleles: tuple[str, ...] = ()
    per_variant: bool = True
    keys: tuple[str, ...] = ()
    flags: tuple[str, ...] = ()

    @property
    def row_keys(self) -> tuple[str, ...]:
        return self.keys or tuple(c for c in self.columns if c in ROW_KEY_COLUMNS)

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.name,
            "file": self.file,
            "description": self.description,
            "columns": list(self.columns),
            "counts_of_people": list(self.people),
            "counts_of_alleles": list(self.alleles),
            "row_keys": list(self.row_keys),
            "flags": list(self.flags),
            "per_variant": self.per_variant,
        }


class Analysis:
    """A registered analysis: name, version, parameters, outputs and how to run it.

    Subclasses set the class attributes and implement :meth:`analyse`, which :meth:`run` calls.
    """

    name: ClassVar[str]
    version: ClassVar[str]
    #: one sentence for reviewers (the agent uses it as the files' context in the airlock)
    description: ClassVar[str] = ""
    Parameters: ClassVar[type[Parameters]]
    outputs: ClassVar[tuple[OutputKind, ...]]
    missing_genotype_rule: ClassVar[str]

    @property
    def output_kinds(self) -> tuple[str, ...]:
        return tuple(o.name for o in self.outputs)

    def output(self, name: str) -> OutputKind:
        """The output kind ``name`` (e.g. ``allele_counts``, without the prefix) of this one."""
        for o in self.outputs:
            if o.name.rsplit(".", 1)[-1] == name or o.name == name:
                return o
        raise KeyError(name)

    def parameters(self, values: dict[str, Any] | Parameters) -> Parameters:
        """Validated parameters (raises pydantic's ValidationError on unknown or bad keys)."""
        if isinstance(values, self.Parameters):
            return values
        return self.Parameters.model_validate(values)

    def run(
        self,
        ds: xr.Dataset,
        phenotypes: pd.DataFrame | None,
        params: dict[str, Any] | Parameters,
        *,
        min_minor_allele_count: int,
        out_dir: Path,
        min_cell_count: int | None = None,
    ) -> list[Path]:
        """Validate ``params``, make ``out_dir`` (empty or new) and :meth:`analyse` into it under
        the node's thresholds; returns the files written."""
        params = self.parameters(params)
        out = prepare_out_dir(out_dir)
        limits = self.node_thresholds(min_minor_allele_count, min_cell_count)
        return self.analyse(ds, phenotypes, params, out, limits)

    def node_thresholds(
        self, min_minor_allele_count: int, min_cell_count: int | None
    ) -> tuple[int, int]:
        """The node's (minor allele count, cell count), checked, as :meth:`analyse` gets them."""
        return thresholds(min_minor_allele_count, min_cell_count)

    def analyse(
        self,
        ds: xr.Dataset,
        phenotypes: pd.DataFrame | None,
        params: Any,
        out: Path,
        limits: tuple[int, int],
    ) -> list[Path]:
        """Write the outputs and the manifest into ``out``; returns their paths. ``params`` are
        this analysis' validated :attr:`Parameters`."""
        raise NotImplementedError


# -- the node's inputs --------------------------------------------------------------------------
def dataset_identity(ds: xr.Dataset) -> dict[str, str]:
    """The dataset id and genome build the catalogue gave the Dataset (tresor.open_dataset)."""
    missing = [k for k in ("tresor_dataset_id", "genome_build") if k not in ds.attrs]
    if missing:
        raise AnalysisError(
            f"the dataset has no {', '.join(missing)} attribute; open it with "
            "tresor.open_dataset(id), or set ds.attrs['tresor_dataset_id'] and "
            "ds.attrs['genome_build'] from its catalogue entry"
        )
    return {"id": str(ds.attrs["tresor_dataset_id"]), "genome_build": str(ds.attrs["genome_build"])}


def sample_ids(ds: xr.Dataset) -> list[str]:
    return [str(s) for s in np.asarray(ds["sample_id"].values).tolist()]


def phenotype_table(paths: Iterable[str | os.PathLike]) -> pd.DataFrame:
    """The node's phenotype and covariate files (plink2 format) as one table indexed by IID."""
    from tresor.stats.phenotypes import read_table

    tables = [read_table(p) for p in paths]
    if not tables:
        raise AnalysisError("no phenotype files given")
    out = tables[0]
    for t in tables[1:]:
        out = out.join(t[[c for c in t.columns if c not in out.columns]], how="outer")
    return out


def numeric_columns(
    ds: xr.Dataset, phenotypes: pd.DataFrame | None, names: Sequence[str]
) -> np.ndarray:
    """(samples, len(names)) float over ``ds``'s samples, NaN where missing or absent."""
    from tresor.stats.phenotypes import MISSING

    if not names:
        return np.empty((ds.sizes["samples"], 0))
    if phenotypes is None:
        raise AnalysisError(f"this analysis needs the phenotype table (columns {list(names)})")
    ids = sample_ids(ds)
    table = phenotypes.copy()
    table.index = table.index.astype(str)
    if table.index.intersection(ids).empty:
        raise AnalysisError(
            "none of the phenotype table's sample IDs is a sample of the dataset; its index must "
            "hold the dataset's sample IDs (IID)"
        )
    table = table.reindex(ids)
    columns = []
    for name in names:
        if name not in table:
            known = ", ".join(map(str, table.columns)) or "none"
            raise AnalysisError(f"the phenotype table has no column {name!r} (columns: {known})")
        text = table[name].where(~table[name].astype(str).isin(MISSING))
        values = pd.to_numeric(text, errors="coerce")
        if (text.notna() & values.isna()).any():
            raise AnalysisError(
                f"column {name!r} has non-numeric values; code categories as numbers or 0/1 columns"
            )
        columns.append(values.to_numpy(dtype=float))
    return np.column_stack(columns)


# -- reading the store block by block ---------------------------------------------------------
LABELS = ("variant_contig", "variant_position", "variant_allele")


@dataclasses.dataclass
class Block:
    """One computed block of variants: its labels, which rows are biallelic, and the values."""

    data: xr.Dataset
    contig: np.ndarray  # contig names (object)
    pos: np.ndarray
    ref: np.ndarray
    alt: np.ndarray
    biallelic: np.ndarray  # bool


def iter_variant_blocks(ds: xr.Dataset, names: Sequence[str]) -> Iterator[Block]:
    """Computed blocks of ``ds[names]`` plus the variant labels, aligned to the store's chunks:
    at most two blocks in memory, whatever the number of variants."""
    from tresor.stats.tables import iter_blocks

    contigs = np.asarray([str(c) for c in np.asarray(ds["contig_id"].values).tolist()], object)
    for block in iter_blocks(ds, [*LABELS, *names], progress=False):
        alleles = np.asarray(block["variant_allele"].values).astype(object)
        n_alleles = (alleles != "").sum(axis=1)
        alt = alleles[:, 1] if alleles.shape[1] > 1 else np.full(len(alleles), "", object)
        yield Block(
            data=block,
            contig=contigs[np.asarray(block["variant_contig"].values, dtype=np.int64)],
            pos=np.asarray(block["variant_position"].values, dtype=np.int64),
            ref=alleles[:, 0],
            alt=alt,
            biallelic=n_alleles == 2,
        )


# -- writing ------------------------------------------------------------------------------------
class TableWriter:
    """A Parquet table written row group by row group, one contig per row group."""

    def __init__(self, path: Path, schema: pa.Schema) -> None:
        self.path = path
        self.schema = schema
        self.rows = 0
        self.rows_by_contig: dict[str, int] = {}
        self._writer = pq.ParquetWriter(path, schema, compression="zstd")

    def write(self, columns: dict[str, Any]) -> None:
        """Append rows (every schema column given, same length), split at contig changes."""
        table = pa.table({f.name: columns[f.name] for f in self.schema}, schema=self.schema)
        if table.num_rows == 0:
            return
        chrom = np.asarray(columns["CHROM"], dtype=object)
        cuts = [0, *(np.flatnonzero(chrom[1:] != chrom[:-1]) + 1).tolist(), len(chrom)]
        for a, b in itertools.pairwise(cuts):
            self._writer.write_table(table.slice(a, b - a))
            self.rows_by_contig[chrom[a]] = self.rows_by_contig.get(chrom[a], 0) + (b - a)
        self.rows += table.num_rows

    def close(self) -> None:
        self._writer.close()

    def summary(self) -> dict[str, Any]:
        return {
            "file": self.path.name,
            "rows": self.rows,
            "rows_by_contig": self.rows_by_contig,
            "columns": self.schema.names,
        }


@dataclasses.dataclass
class Tally:
    """How many variants the store had, were skipped as multi-allelic, and were not reported."""

    in_store: int = 0
    multiallelic_skipped: int = 0
    not_reported: int = 0

    def add(self, block: Block, reported: np.ndarray) -> None:
        self.in_store += len(reported)
        self.multiallelic_skipped += int((~block.biallelic).sum())
        self.not_reported += int((block.biallelic & ~reported).sum())

    def as_dict(self) -> dict[str, int]:
        reported = self.in_store - self.multiallelic_skipped - self.not_reported
        return {**dataclasses.asdict(self), "reported": reported}


def allele_count_ok(count: np.ndarray, total: np.ndarray, threshold: int) -> np.ndarray:
    """True where both allele counts (ALT and REF) are 0 or at least ``threshold``: the minor
    allele count rule on every non-zero allele count of a row."""
    other = total - count
    return ((count == 0) | (count >= threshold)) & ((other == 0) | (other >= threshold))


def write_manifest(
    out_dir: Path,
    analysis: Analysis,
    params: Parameters,
    ds: xr.Dataset,
    *,
    outputs: dict[str, dict[str, Any]],
    tally: Tally,
    analysed: int,
    thresholds: tuple[int, int],
    extra: dict[str, Any] | None = None,
) -> Path:
    """``manifest.json``: what was run, on what, with which rules, and how many rows came out."""
    contigs = [str(c) for c in np.asarray(ds["contig_id"].values).tolist()]
    manifest = {
        "analysis": analysis.name,
        "version": analysis.version,
        "parameters": params.model_dump(mode="json"),
        "dataset": dataset_identity(ds),
        "contigs": contigs,
        "samples": {"in_store": ds.sizes["samples"], "analysed": analysed},
        "variants": tally.as_dict(),
        "thresholds": {
            "min_minor_allele_count": thresholds[0],
            "min_cell_count": thresholds[1],
        },
        "missing_genotype_rule": analysis.missing_genotype_rule,
        "missing_genotypes": MISSING_RULES[analysis.missing_genotype_rule],
        "sites": "biallelic sites only; multi-allelic sites are skipped and counted",
        "outputs": outputs,
        "output_kinds": {o.name: o.to_dict() for o in analysis.outputs},
        "tresor_version": __version__,
        **(extra or {}),
    }
    path = out_dir / MANIFEST
    path.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    return path


def prepare_out_dir(out_dir: str | os.PathLike) -> Path:
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    if any(out.iterdir()):
        raise AnalysisError(f"{out} is not empty; give an empty or new directory for the outputs")
    return out


def thresholds(min_minor_allele_count: int, min_cell_count: int | None) -> tuple[int, int]:
    """(minor allele count, cell count); the cell count defaults to the allele count's."""
    if min_minor_allele_count < 1:
        raise AnalysisError("the minor allele count threshold must be at least 1")
    cell = min_minor_allele_count if min_cell_count is None else min_cell_count
    return min_minor_allele_count, cell
