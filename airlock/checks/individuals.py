"""Individual-level content in tables: one row (or column) per person is never released.

- a column named like a person's identifier (``IID``, ``FID``, ``sample_id``, ``participant``,
  ``patient_id``, ``eid``, ...);
- a cell or column name equal to a sample ID of the node's datasets (``context.sample_ids``);
- a genotype-like matrix: many columns of 0/1/2 dosages (with at least one 2, so tables of
  0/1 flags do not trip it) or of VCF calls such as ``0/1`` and ``0|1``;
- principal component scores (``PC1``, ``PC2``, ... without a count column): one row per person.

Sample IDs shorter than four characters, and numeric ones shorter than six digits, are not
matched: they would match ordinary values (``1``, ``2023``) and cannot be told apart.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator

import numpy as np
import pandas as pd

from airlock.checks.cells import Chunk, TableContext, report_cells, tokens
from airlock.checks.findings import FindingSink, Location, Verdict

RULE_ID_COLUMN = "individual-level.id-column"
RULE_SAMPLE_ID = "individual-level.sample-id"
RULE_GENOTYPES = "individual-level.genotypes"
RULE_ONE_ROW = "individual-level.one-row-per-sample"

_ID_COLUMN = re.compile(
    r"^(f?iid\d*|fid\d*|eid|mrn|ssn|cpr(_(nr|no|number))?|personnummer|nhs_(number|no|num)|"
    r"(sample|participant|patient|subject|person|individual|indiv|donor|proband)s?"
    r"_?(id|ids|name|no|nr|code|number)|sample|participant|patient|subject|person|individual|"
    r"indiv|donor|proband)$"
)
_GT_STRING = re.compile(r"^[0-9.]{1,2}([/|][0-9.]{1,2})+$")
_PC = re.compile(r"^pc_?\d+$")
_GENO_VALUES = np.array([0.0, 1.0, 2.0, -1.0, -9.0])


def id_column_name(name: str) -> bool:
    return bool(_ID_COLUMN.match("_".join(tokens(name))))


@functools.lru_cache(maxsize=4)
def matchable_ids(sample_ids: frozenset[str]) -> frozenset[str]:
    """The sample IDs that can be matched without tripping on ordinary values."""
    return frozenset(s for s in sample_ids if len(s) >= 4 and not (s.isdigit() and len(s) < 6))


def sample_ids_in(text_parts: list[str], ids: frozenset[str]) -> list[str]:
    return [p for p in text_parts if p in ids]


class IndividualRules:
    def __init__(self, ctx: TableContext) -> None:
        self.ctx = ctx
        self.ids = matchable_ids(ctx.context.sample_ids)
        self.numeric_ids = {int(s) for s in self.ids if s.isdigit()}
        sink = ctx.sink
        for name in ctx.names:
            if id_column_name(name):
                sink.add(
                    RULE_ID_COLUMN,
                    Verdict.BLOCK,
                    f"Column {name} looks like an identifier of people: a table with one row "
                    "per person is individual-level data, which never leaves the node. Release "
                    "aggregates (counts, means) over groups of people instead.",
                    Location(row=0, column=name),
                )
            parts = [name, *re.split(r"[_:|/ ]+", name)]
            if hits := sample_ids_in(parts, self.ids):
                sink.add(
                    RULE_SAMPLE_ID,
                    Verdict.BLOCK,
                    f"Column name {name} contains the sample ID {_masked(hits[0])} of a dataset "
                    "on this node: one column per person is individual-level data. Release "
                    "aggregates instead.",
                    Location(row=0, column=name),
                )
        self.geno_numeric: dict[int, bool] = {}
        self.geno_strings: set[int] = set()
        self.saw_two = False
        for i in range(len(ctx.names)):
            series = ctx.first[i]
            if series.dtype.kind in "iuf" and series.notna().any():
                self.geno_numeric[i] = True
            elif series.dtype == object:
                present = series.dropna().astype(str)
                # a sample first: most text columns fail at once
                if (
                    len(present)
                    and all(_GT_STRING.match(v) for v in present.iloc[:50])
                    and present.str.match(_GT_STRING).all()
                ):
                    self.geno_strings.add(i)
        pcs = [n for n in ctx.names if _PC.match("_".join(tokens(n)))]
        if (
            len(pcs) >= 2
            and not ctx.per_variant
            and not any(re.fullmatch(r"n|count|n_\w+", "_".join(tokens(n))) for n in ctx.names)
        ):
            sink.add(
                RULE_ONE_ROW,
                Verdict.BLOCK,
                f"Columns {', '.join(pcs[:4])} look like principal component scores, one row "
                "per person: individual-level data. Release a plot, or means per group with "
                "their counts, instead.",
                Location(row=0, column=pcs[0]),
            )

    def feed(self, chunk: Chunk) -> None:
        frame = chunk.frame
        for i in list(self.geno_numeric):
            if frame[i].dtype.kind not in "iuf":
                del self.geno_numeric[i]
                continue
            values = frame[i].to_numpy(dtype=np.float64, na_value=np.nan)
            present = values[~np.isnan(values)]
            if not np.isin(present, _GENO_VALUES).all():
                del self.geno_numeric[i]
            elif not self.saw_two and np.any(present == 2):
                self.saw_two = True
        if self.ids:
            for col in range(frame.shape[1]):
                self._match_ids(chunk, col)

    def _match_ids(self, chunk: Chunk, col: int) -> None:
        series = chunk.frame[col]
        if series.dtype == object:
            uniques = pd.unique(series.dropna())
            hits = {u for u in uniques if isinstance(u, str) and u in self.ids}
        elif series.dtype.kind in "iu" and self.numeric_ids:
            hits = set(np.intersect1d(series.to_numpy(), list(self.numeric_ids)).tolist())
        else:
            return
        if not hits:
            return
        mask = series.isin(hits).to_numpy()
        report_cells(
            self.ctx.sink,
            RULE_SAMPLE_ID,
            Verdict.BLOCK,
            mask,
            chunk,
            self.ctx.names[col],
            lambda i: _masked(str(series.iloc[i])),
            lambda i: (
                f"This cell is a sample ID of a dataset on this node: values that name "
                f"people are individual-level data. Remove the column {self.ctx.names[col]} or "
                "aggregate over people."
            ),
        )

    def finish(self, rows: int) -> None:
        columns = sorted(self.geno_strings | (set(self.geno_numeric) if self.saw_two else set()))
        if len(columns) >= self.ctx.config.genotype_matrix_min_columns:
            names = [self.ctx.names[i] for i in columns]
            self.ctx.sink.add(
                RULE_GENOTYPES,
                Verdict.BLOCK,
                f"{len(columns)} columns hold genotype codes (0/1/2 or calls like 0/1), e.g. "
                f"{', '.join(names[:5])}: this is a genotype matrix, individual-level data. "
                "Release allele counts or frequencies per variant instead.",
                Location(row=0, column=names[0]),
            )


def _masked(sample_id: str) -> str:
    """A sample ID with its middle hidden, so reports do not repeat it."""
    if len(sample_id) <= 4:
        return sample_id[0] + "*" * (len(sample_id) - 1)
    return sample_id[:2] + "*" * (len(sample_id) - 4) + sample_id[-2:]


def table_rules(ctx: TableContext) -> Iterator[object]:
    yield IndividualRules(ctx)


def find_sample_ids(
    text: str, ids: frozenset[str], sink: FindingSink, line: int, column: str | None = None
) -> None:
    """Words of free text equal to a sample ID (text files, notebooks, SVG)."""
    usable = matchable_ids(ids)
    if not usable:
        return
    for lineno, line_text in enumerate(text.splitlines(), start=line):
        for word in re.findall(r"[\w.:-]+", line_text):
            if word in usable:
                sink.add(
                    RULE_SAMPLE_ID,
                    Verdict.BLOCK,
                    "This text contains a sample ID of a dataset on this node; text that names "
                    "people is individual-level data. Remove it.",
                    Location(row=lineno, column=column, value=_masked(word)),
                )
