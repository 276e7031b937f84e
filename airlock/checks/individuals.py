"""Individual-level content in tables, found by content rather than by names alone: one row (or
column) per person is never released.

- a column named like a person's identifier (``IID``, ``sample_id``, ``participant`` ...) whose
  values look like identifiers (a ``sample`` column of discovery/replication is not one);
- a cell, column name or word that is a sample ID of the node's datasets, also inside longer
  values (``DK000001:``, ``DK000001.cram``, ``0_DK000001``), VCF records, encoded blobs and
  genotype strings anywhere in the rows (airlock.checks.content);
- genotypes: columns of 0/1/2 codes (also with '.' or NA for missing), imputed dosages (floats
  from 0 to 2, mostly near whole numbers), VCF calls (``0/1``, ``1|0``) or nucleotide calls
  (``AG``, ``G/G``); ``genotype_matrix_min_columns`` such columns make a matrix by themselves,
  fewer need one more sign (as many rows as a dataset has people, variant IDs as column names,
  three or more of them over 20 rows, calls without counts beside them);
- the shape of the table: as many rows, or columns, as a dataset of the node has people
  (from three quarters of its sample count to two more), in a table that is not a recognised
  per-variant table and carries no counts of people;
- rows of continuous numbers without labels or counts (principal components, UMAP
  coordinates, scores): 100 rows or more with two such columns block, up to as many rows as
  the node has people; fewer, or more, need review;
- a square symmetric matrix with ones on its diagonal is a correlation matrix between
  variables (plink --r2 square), not genotypes, unless it has as many rows as a dataset.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import re
from collections.abc import Iterator

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from airlock.checks import content
from airlock.checks.cells import Chunk, TableContext, key, tokens
from airlock.checks.content import context_matcher, masked
from airlock.checks.context import CheckContext
from airlock.checks.findings import Location, Verdict
from airlock.checks.tables import REPLICATE_NAMES, counts_things, label_column, rows_are_things

RULE_ID_COLUMN = "individual-level.id-column"
RULE_SAMPLE_ID = content.RULE_SAMPLE_ID
RULE_GENOTYPES = "individual-level.genotypes"
RULE_ONE_ROW = "individual-level.one-row-per-sample"
RULE_ONE_COLUMN = "individual-level.one-column-per-sample"

#: a column of dates of birth: with sex and a place, a date of birth names one person
_BIRTH_DATE = r"dob|date_?of_?birth|birth_?date|birth_?day|f(oe|ø)dselsdato|f(ö|o)delsedatum"
_ID_COLUMN = re.compile(
    r"^(f?iid\d*|fid\d*|id_?[12]|(sample|individual|indiv|indv|person|subject|participant|"
    r"patient)_?(id_?)?[12ab]|indv|"
    r"eid|mrn|ssn|cpr(_(nr|no|number))?|personnummer|nhs_(number|no|num)|fnr|"
    r"fodselsnummer|fødselsnummer|hetu|henkilotunnus|"
    r"(sample|participant|patient|subject|person|individual|indiv|donor|proband)s?"
    r"_?(id|ids|name|no|nr|code|number)|sample|participant|patient|subject|person|individual|"
    r"indiv|donor|proband|" + _BIRTH_DATE + r")$"
)
#: names that are also words of statistics and prose ('the discovery sample')
_AMBIGUOUS_ID_NAMES = {"sample", "samples", "subject", "subjects", "individual", "individuals"}
_PC = re.compile(r"^(pc|pca|umap|tsne|t_sne|dim|comp|component|mds|ic)_?\d+$")
_VARIANT_NAME = re.compile(
    r"^(rs\d+|(chr)?[0-9xymt]{1,2}[:_]\d+([:_][a-z*]+)*|snp_?\d+|[a-z]{0,4}\d+[:_]\d+.*)$", re.I
)
_GT_CALL = r"^[0-9.]{1,2}([/|][0-9.]{1,2})+$"
#: columns only runs of a program have: Keras' history, scikit-learn's cv_results_, an MCMC
#: sampler's draws, optuna's trials
_RUN_COLUMNS = {
    "loss", "val_loss", "mean_test_score", "mean_fit_time", "rank_test_score", "chain",
    "datetime_start", "datetime_complete",
}  # fmt: skip
#: labels of repeated runs, not of people: each method's estimates over simulations
_RUN_LABELS = {
    "method", "methods", "model", "models", "scenario", "scenarios", "setting", "settings",
    "simulation", "sim", "estimator", "algorithm", "approach", "design", "config", "run",
}  # fmt: skip
_CHROMOSOME_NAMES = {"chr", "chrom", "chromosome", "contig", "seqnames", "seqname"}
_POSITION_NAMES = {
    "pos", "bp", "position", "start", "end", "bin_start", "bin_end", "base_pair_location",
}  # fmt: skip
#: a numeric column whose distinct values name things: disease codes, genomic bins
_NUMBERED_THINGS = {
    "phecode", "icd", "icd9", "icd10", "bin", "window", "segment", "block",
    "task_id", "job_id", "jobid", "epoch", "step",  # a workflow's tasks, a model's training
}  # fmt: skip
#: the columns of a classifier's ROC or precision-recall curve
_CURVE_NAMES = {
    "precision", "recall", "tpr", "fpr", "sensitivity", "specificity", "threshold",
    "thresholds", "cutoff", "ppv", "npv", "true_positive_rate", "false_positive_rate",
}  # fmt: skip
#: identifiers of genes, transcripts, terms, gene sets and probes: rows that are not people
_THING_ID = re.compile(
    r"^(ENS[A-Z]*[GTPER]\d{11}(\.\d+)?|[NX][MRP]_\d+(\.\d+)?|GO:\d{7}|HP:\d{7}|R-HSA-\d+|"
    r"(path:)?hsa\d{5}|(HALLMARK|KEGG|REACTOME|GOBP|GOMF|GOCC|BIOCARTA|WP|PID)_\w+|cg\d{8})$"
)
_NUCLEOTIDES = r"^[ACGTNB0.-]([/| ]?[ACGTNB0.-])$"  # also Illumina's A/B
_HOMOZYGOUS = r"^(A[/| ]?A|C[/| ]?C|G[/| ]?G|T[/| ]?T|B[/| ]?B)$"
_MISSING = {"", ".", "./.", ".|.", "na", "nan", "-", "-9", "-1", "n/a", "nc", "--", "00"}
#: fewer rows than this are never judged by their shape
_MIN_ROWS = 20
_NUMBERED = re.compile(r"^([A-Za-z][A-Za-z_.-]*?)[_.-]?\d+$")
#: numbered columns that are not people: weeks, bins, chromosomes, components ...
_NOT_PEOPLE_PREFIX = {"week", "wk", "month", "year", "yr", "day", "bin", "chr", "chrom", "pc",
                      "dim", "comp", "component", "lag", "q", "quantile", "decile", "age",
                      "v", "var", "x", "col", "column", "unnamed", "snp", "rs", "gene"}  # fmt: skip


def id_column_name(name: str) -> bool:
    return bool(_ID_COLUMN.match(key(name)))


#: a code that stands for a person: a hash of an ID (hex digits) or a random UUID
_HEX_CODE = r"(?i)^[0-9a-f]{12,}$"
_UUID = r"(?i)^[0-9a-f]{8}(?:-[0-9a-f]{4}){3}-[0-9a-f]{12}$"
#: names of columns of hashes that are not people's: of files, commits, data
_CHECKSUM_NAME = re.compile(r"(?i)md5|sha\d*|checksum|digest|commit|crc|etag|blake")


def _pseudonym_columns(ctx: TableContext, declared: set[int]) -> list[int]:
    """Text columns with a different hash or UUID on every one of at least :data:`_MIN_ROWS`
    rows of the first chunk: pseudonymised IDs ('id_hash'), whatever the column's name."""
    first = ctx.first
    if len(first) < _MIN_ROWS or counts_things(ctx):
        return []
    found = []
    for i in range(min(first.width, len(ctx.names))):
        if i in declared or _CHECKSUM_NAME.search(ctx.names[i]):
            continue
        texts = first.texts(i)
        if texts is None:
            continue
        valid = pc.drop_null(texts)
        if len(valid) < _MIN_ROWS or len(pc.unique(valid)) < len(valid):
            continue
        if _pseudonyms(valid) >= 0.9 * len(valid):
            found.append(i)
    return found


def _pseudonyms(texts: pa.Array) -> int:
    """How many of ``texts`` are hashes (hex digits, a letter and a digit among them, not a
    run of digits) or UUIDs."""
    hexed = pc.and_(
        pc.match_substring_regex(texts, _HEX_CODE),
        pc.and_(pc.match_substring_regex(texts, "[0-9]"),
                pc.match_substring_regex(texts, "(?i)[a-f]")),
    )  # fmt: skip
    return int(pc.sum(pc.or_(hexed, pc.match_substring_regex(texts, _UUID))).as_py() or 0)


#: a matrix with a row or column per person (airlock.checks.structures: Matrix Market)
RULE_MATRIX = "individual-level.matrix"


def dataset_sizes(context: CheckContext) -> list[int]:
    """The number of people of each dataset on the node."""
    return [d.n_samples for d in context.datasets if d.n_samples]


def people_counts(context: CheckContext) -> list[int]:
    """How many people a table with a row per person would have: a dataset's, or all of them
    pooled (of the same size or not)."""
    sizes = dataset_sizes(context)
    return sorted({*sizes, sum(sizes)} if len(sizes) > 1 else set(sizes))


def near(count: int, people: int) -> bool:
    """Whether ``count`` rows (or columns) are about as many as ``people``."""
    return people >= _MIN_ROWS and 0.75 * people <= count <= people + 2


@dataclasses.dataclass
class _Geno:
    kind: str  # codes | dosage | calls | probability | letters
    saw_two: bool = False


@dataclasses.dataclass
class _Values:
    """What a column's values look like over the whole table."""

    rows: int = 0
    present: int = 0
    with_digit: int = 0
    increasing: bool = True
    decreasing: bool = True
    last: float = np.nan
    smallest: float = np.inf
    largest: float = -np.inf
    distinct_first: int = 0  # distinct values in the first chunk
    present_first: int = 0
    whole: bool = True


class IndividualRules:
    def __init__(self, ctx: TableContext) -> None:
        self.ctx = ctx
        self.matcher = context_matcher(ctx.context)
        rec = ctx.recognition
        first = ctx.first
        for name in ctx.names:
            if hits := sorted(
                self.matcher.in_text(name), key=lambda h: h not in self.matcher.granted
            ):
                ctx.sink.add(
                    self.matcher.rule_of(hits[0]),
                    Verdict.BLOCK,
                    f"Column name {name} contains the sample ID {masked(hits[0])} of "
                    f"{self.matcher.dataset_of(hits[0])}: one column per person is "
                    "individual-level data. Release aggregates instead.",
                    Location(row=0, column=name),
                )
        coded = pa.array([str(n).strip() for n in ctx.names], pa.string())
        if len(coded) >= _MIN_ROWS and _pseudonyms(coded) >= 0.9 * (len(coded) - 1):
            ctx.sink.add(
                RULE_ONE_COLUMN,
                Verdict.BLOCK,
                f"{len(coded):,} columns are named by a different hash or random code each "
                "(pseudonymised IDs): one column per person is individual-level data, which "
                "never leaves the node. Release aggregates over people instead.",
                Location(row=0, column=ctx.names[0]),
            )
        # the columns a recognised kind lists are what it says; only the others are suspects
        declared: set[int] = set()
        if rec and rec.kind:
            known = set(range(len(ctx.names))) - rec.extra
            declared = set(rec.roles) if rec.kind.generic else known
        self.id_columns = {i: _Values() for i, n in enumerate(ctx.names) if id_column_name(n)}
        self.pseudonyms = _pseudonym_columns(ctx, declared)
        self.id_columns |= {i: _Values() for i in self.pseudonyms}
        self.values = {i: _Values() for i in range(len(ctx.names))}
        self.geno: dict[int, _Geno] = {}
        for i in range(min(first.width, len(ctx.names))):
            if i in declared or _counts_name(ctx.names[i]):
                continue
            kind = _genotype_kind(first, i)
            if kind is not None:
                self.geno[i] = _Geno(kind)
        # the values of genotype suspects, identifier columns, and (but in a per-variant table,
        # which is not judged by its shape) the numeric columns
        if not (rec and rec.per_variant):
            kept = set(self.geno) | set(self.id_columns)
            kept |= {i for i in range(first.width) if first.is_numeric(i)}
            self.values = {i: v for i, v in self.values.items() if i in kept}

    # -- streaming --------------------------------------------------------------------------

    def feed(self, chunk: Chunk) -> None:
        self._scan(chunk)
        first = chunk.first_row == 1
        for i, v in self.values.items():
            if i >= chunk.width:
                continue
            self._values(chunk, i, v, first)
        for i, g in list(self.geno.items()):
            if i >= chunk.width:
                continue
            if not first:
                kind = _genotype_kind(chunk, i)
                if kind != g.kind and not (kind is None and _all_missing(chunk, i)):
                    del self.geno[i]
                    continue
            if g.kind == "codes" and not g.saw_two:
                g.saw_two = bool(np.any(chunk.numbers(i) == 2))

    def _values(self, chunk: Chunk, i: int, v: _Values, first: bool) -> None:
        # text columns hold no continuous values; their numbers are parsed only when asked
        numbers = chunk.numbers(i) if chunk.is_numeric(i) else np.empty(0)
        present = numbers[~np.isnan(numbers)]
        v.rows += len(chunk)
        if i in self.id_columns:
            texts = chunk.texts(i)
            if texts is None and pa.types.is_temporal(chunk.column(i).type):
                texts = chunk.column(i).cast(pa.string())  # dates of birth, parsed as dates
            if texts is not None:
                s = self.id_columns[i]
                valid = pc.drop_null(texts)
                s.present += len(valid)
                s.with_digit += int(pc.sum(pc.match_substring_regex(valid, r"\d")).as_py() or 0)
                if first:
                    s.distinct_first = len(pc.unique(valid))
                    s.present_first = len(valid)
            else:
                s = self.id_columns[i]
                s.present += int(present.size)
                s.with_digit += int(present.size)
                if first:
                    s.distinct_first = len(np.unique(present))
                    s.present_first = int(present.size)
        if present.size == 0:
            return
        v.present += int(present.size)
        v.smallest = min(v.smallest, float(present.min()))
        v.largest = max(v.largest, float(present.max()))
        if v.whole and not np.all(np.floor(present) == present):
            v.whole = False
        seq = present if np.isnan(v.last) else np.concatenate(([v.last], present))
        if seq.size > 1 and (v.increasing or v.decreasing):  # else nothing left to learn
            with np.errstate(invalid="ignore", over="ignore"):
                d = np.diff(seq)
            v.increasing &= bool(np.all(d >= 0))
            v.decreasing &= bool(np.all(d <= 0))
        v.last = float(present[-1])
        if first:
            v.distinct_first = len(np.unique(present))
            v.present_first = int(present.size)

    def _scan(self, chunk: Chunk) -> None:
        """VCF content, blobs, genotype strings and sample IDs in the rows' bytes."""
        if chunk.raw is None:
            return
        rec = self.ctx.recognition
        sink = self.ctx.sink
        for hit in content.scan(chunk.raw, self.matcher, chunk.cache):
            numeric = bool(hit.sample_id) and hit.sample_id.isdigit()
            if sink.room(hit.rule) <= 0 and not numeric:
                sink.more(hit.rule, Verdict.BLOCK, 1)  # counted, not located (a long file)
                continue
            row, col = locate(chunk.raw, hit.start, self.ctx.delimiter, chunk.cache)
            name = self.ctx.names[col] if col is not None and col < len(self.ctx.names) else None
            if (
                numeric
                and col is not None
                and ((rec is not None and rec.numeric_field(col)) or _numeric_name(name or ""))
            ):
                continue  # a position or count that happens to equal a numeric sample ID
            message = hit.message
            if hit.sample_id and name:
                message = self.matcher.message("This cell is", hit.sample_id) + (
                    f" Remove the column {name} or aggregate over people."
                )
            sink.add(hit.rule, Verdict.BLOCK, message,
                     Location(chunk.first_row + row, name, hit.value))  # fmt: skip

    # -- decisions over the whole table -------------------------------------------------------

    def finish(self, rows: int) -> None:
        ctx = self.ctx
        rec = ctx.recognition
        self._id_columns(rows)
        people = self._people()
        correlations = self._correlation_matrix(rows)
        if not correlations:
            self._genotypes(rows, people)
        per_variant = rec is not None and rec.per_variant
        counted = bool(ctx.people_counts) or ctx.row_counts
        data_columns = [i for i in range(len(ctx.names)) if not self._label(i)]
        copies = [*people, *(2 * n for n in people)]  # a column per person, or per haplotype
        variants_as_columns = sum(
            bool(_VARIANT_NAME.match(n.strip()) or _THING_ID.match(n.strip())) for n in ctx.names
        ) >= (0.8 * len(ctx.names))  # an LD matrix: a column per variant (or gene, term)
        if not variants_as_columns and any(
            near(len(data_columns), n) or near(len(ctx.names), n) for n in copies
        ):
            n = next(n for n in copies if near(len(data_columns), n) or near(len(ctx.names), n))
            ctx.sink.add(
                RULE_ONE_COLUMN,
                Verdict.BLOCK,
                f"The table has {len(ctx.names):,} columns, about as many as a dataset on this "
                f"node has people, or twice as many ({n:,}: one per haplotype): one column per "
                "person is individual-level data, which never leaves the node. Release "
                "aggregates over people instead.",
                Location(row=0),
            )
        elif (numbered := self._numbered_columns()) is not None:
            ctx.sink.add(
                RULE_ONE_COLUMN,
                Verdict.REVIEW,
                f"{len(numbered)} columns numbered like people ({', '.join(numbered[:3])}, ...) "
                "hold continuous values: if each column is a person, this is individual-level "
                "data. A reviewer must judge it; say in the request what a column is.",
                Location(row=0, column=numbered[0]),
            )
        if not per_variant and self._indexed_pairs(rows, people):
            return
        match = next((n for n in people if near(rows, n)), None)
        if per_variant or (counted and self._aggregated() and not self._guessed_on_people(match)):
            return
        if correlations and match is None:
            return  # a correlation matrix between variables (LD): the reviewer reads it
        if match is not None and rows >= _MIN_ROWS and not self._curves() and not self._things():
            whose = ("a dataset on this node has people" if match in self._sizes() else
                     "the datasets on this node have people together")  # fmt: skip
            ctx.sink.add(
                RULE_ONE_ROW,
                Verdict.BLOCK,
                f"The table has {rows:,} rows, about as many as {whose} ({match:,}), and no "
                "counts of people: one row per person is "
                "individual-level data, which never leaves the node. Release aggregates over "
                "groups of people (counts, means with their counts) instead.",
                Location(row=rows),
            )
            return
        self._vectors(rows, counted, people)

    def _indexed_pairs(self, rows: int, people: list[int]) -> bool:
        """A matrix written as (row, column, value) lines, or a table of pairs by their index
        (GCTA's text GRM: i, j, SNPs, relatedness), over about as many indices as a dataset has
        people: its first two columns whole numbers counting up to that number, one of them in
        order, and at least as many rows. Blocked; whether it was found."""
        first = [self.values.get(i) for i in range(min(2, len(self.ctx.names)))]
        if len(first) < 2 or any(v is None or not v.present or not v.whole for v in first):
            return False
        i, j = first
        if min(i.smallest, j.smallest) < 0 or not (i.increasing or j.increasing):
            return False
        n = next((n for n in people if near(int(i.largest), n) and near(int(j.largest), n)), None)
        if n is None or rows < n or n < _MIN_ROWS:
            return False
        self.ctx.sink.add(
            RULE_MATRIX,
            Verdict.BLOCK,
            f"The table's first two columns index {int(i.largest):,} by {int(j.largest):,} "
            f"things, about as many as a dataset on this node has people ({n:,}), over "
            f"{rows:,} rows: a matrix of pairs of people (a relatedness matrix written as 'i j "
            "value' lines) is individual-level data, which never leaves the node. Release "
            "aggregates over people instead.",
            Location(row=1, column=self.ctx.names[0]),
        )
        return True

    def _correlation_matrix(self, rows: int) -> bool:
        """A square, symmetric matrix of numbers with ones on its diagonal, all in the first
        block: correlations between variables (plink --r2 square, a phenotype correlation
        matrix), whose values near 0 and 1 are not dosages and whose rows are not people."""
        first = self.ctx.first
        numeric = [i for i in range(first.width) if first.is_numeric(i)]
        if rows < 10 or len(first) != rows or len(numeric) != rows:
            return False
        m = np.column_stack([first.numbers(i) for i in numeric])
        if np.isnan(m).any():
            return False
        return bool(np.allclose(np.diag(m), 1, atol=1e-3) and np.allclose(m, m.T, atol=1e-3))

    def _curves(self) -> bool:
        """Two or more numeric columns, every one sorted (a QQ plot's or a curve's points), or
        the rows named by variant IDs: not one row per person. (One sorted column of as many
        values as people is the people's values, sorted.)"""
        numeric = [v for v in self.values.values() if v.present]
        if len(numeric) >= 2 and all(v.increasing or v.decreasing for v in numeric):
            return True
        # a classifier's ROC or precision-recall curve: precision is not sorted, recall is
        names = [key(self.ctx.names[i]) for i, v in self.values.items() if v.present]
        if len(names) >= 2 and all(n in _CURVE_NAMES for n in names):
            return any(v.increasing or v.decreasing for v in numeric)
        return self._variant_rows()

    def _variant_values(self, i: int) -> bool:
        """Whether a text column's first values are variant IDs."""
        return _mostly(self._first_labels(i), _VARIANT_NAME)

    def _first_labels(self, i: int) -> list[str]:
        """The first 200 values of text column ``i`` that are not empty."""
        return [v for v in self._first_labels_aligned(i) if v]

    def _things(self) -> bool:
        """Rows named as things, not people: by the label column's name (gene, pathway,
        region) or by its values (Ensembl and RefSeq IDs, GO, HPO, Reactome and KEGG terms,
        MSigDB gene sets, CpG probes)."""
        first = self.ctx.first
        for i, name in enumerate(self.ctx.names[: first.width]):
            if not first.is_numeric(i):
                continue
            values = first.numbers(i)
            if key(name) in REPLICATE_NAMES and _running_number(values):
                return True  # simulations, permutations, bootstrap draws numbered
            if key(name) in _NUMBERED_THINGS and len(np.unique(values)) >= 0.9 * len(values):
                return True  # phecodes, genomic bins and windows, each once
        if {key(n) for n in self.ctx.names} & _RUN_COLUMNS:
            return True  # a model's epochs, a search's candidates, a sampler's draws
        label = label_column(self.ctx)
        values = self._first_labels(label) if label is not None else []
        if not values:
            return False
        if _mostly(values, _THING_ID):
            return True
        # a label column named so, its labels all different (a 'region' of north and south
        # on every row is a person's), or chromosomes beside a position (regions)
        distinct = len(set(values)) >= 0.9 * len(values)
        positions = any(key(n) in ("start", "end", "pos", "bp", "position") for n in self.ctx.names)
        chromosomes = key(self.ctx.names[label]) in ("chr", "chrom", "chromosome", "contig")
        return rows_are_things(self.ctx) and (distinct or (chromosomes and positions))

    def _locus_rows(self) -> bool:
        """Whether the rows are places in the genome: a chromosome column beside a position
        column of whole numbers (vcftools' depth per site, windows of Tajima's D). The table is
        still of no known kind, so a reviewer sees it; it is not blocked as one row per
        person."""
        names = [key(n) for n in self.ctx.names]
        chromosome = any(n in _CHROMOSOME_NAMES for n in names)
        positions = [i for i, n in enumerate(names) if n in _POSITION_NAMES]
        return chromosome and any(
            (v := self.values.get(i)) is not None and v.present and v.whole and v.smallest >= 0
            for i in positions
        )

    def _variant_rows(self) -> bool:
        """Whether the rows are named by variant IDs (the first text column's values)."""
        label = label_column(self.ctx)
        return label is not None and self._variant_values(label)

    def _numbered_columns(self) -> list[str] | None:
        """20 or more columns named by one prefix and a running number (P0001, s1, sample_12)
        holding continuous values: people as columns, pseudonymised."""
        groups: dict[str, list[int]] = {}
        for i, name in enumerate(self.ctx.names):
            m = _NUMBERED.match(name.strip())
            if m and not _PC.match(key(name)) and not _THING_ID.match(name.strip()):
                groups.setdefault(m.group(1).lower(), []).append(i)
        for prefix, columns in groups.items():
            if len(columns) < 20 or set(tokens(prefix)) & _NOT_PEOPLE_PREFIX:
                continue
            continuous = [i for i in columns if (v := self.values.get(i)) is not None
                          and v.present and not v.whole]  # fmt: skip
            if len(continuous) >= 0.9 * len(columns):
                return [self.ctx.names[i] for i in columns]
        return None

    def _people(self) -> list[int]:
        return people_counts(self.ctx.context)

    def _sizes(self) -> list[int]:
        return dataset_sizes(self.ctx.context)

    def _label(self, i: int) -> bool:
        """A column that names rows (text, an index) rather than holding a value per row."""
        v = self.values.get(i)
        return v is None or v.present == 0 or (v.whole and v.increasing and v.distinct_first
                                               == v.present_first)  # fmt: skip

    def _guessed_on_people(self, match: int | None) -> bool:
        """Whether a table with about as many rows as a dataset has people has rows that are
        not groups: the values that would name a group (text, and whole numbers that are not
        counts) repeat, as sex or age do over people, where a table of counts has one row per
        group. Rows that nothing names (no label, only numbered) are not groups either, named
        counts or not, unless a sorted column (bins, times) says what each row is."""
        ctx = self.ctx
        if match is None or ctx.row_counts:
            return False
        first = ctx.first
        counts = set(ctx.people_counts)
        keys = [
            i for i in range(first.width) if i not in counts and (
                first.texts(i) is not None
                or ((v := self.values.get(i)) is not None and v.present and v.whole
                    and not _running_number(first.numbers(i)))
            )
        ]  # fmt: skip
        if not keys:
            # no label names a group: rows of counts are groups only when a sorted column
            # (bins, times) says what each is; else the counts are each person's own (a
            # count of SNPs per person, numbered rows)
            return not any(
                v.present and (v.increasing or v.decreasing) and i not in counts
                and not _running_number(first.numbers(i))
                for i, v in self.values.items()
            )  # fmt: skip
        table = pa.table([first.table.column(i) for i in keys], names=[str(i) for i in keys])
        distinct = table.group_by([str(i) for i in keys]).aggregate([]).num_rows
        return distinct < 0.9 * len(first)

    def _aggregated(self) -> bool:
        """Whether the counts of people in the table are counts of groups (mostly at least the
        minimum), not a 1 or a 0 per person."""
        for i in self.ctx.people_counts:
            v = self.values.get(i)
            if v is not None and v.present and v.distinct_first > 2:
                return True
        return self.ctx.row_counts

    def _id_columns(self, rows: int) -> None:
        for i, s in self.id_columns.items():
            name = self.ctx.names[i]
            if re.search(r"[12]$", key(name)) and self._variant_values(i):
                continue  # a pair of variants (id1, id2 of an LD table), not of people
            if s.present == 0:
                looks = rows == 0
            else:
                distinct = s.distinct_first >= 0.9 * s.present_first
                looks = s.with_digit >= 0.5 * s.present or (distinct and s.present_first >= 3)
                if key(name) in _AMBIGUOUS_ID_NAMES:
                    # 'sample' may be a study's (discovery, stage 2): it takes more rows
                    looks = s.present >= 10 and (distinct or s.with_digit >= 0.5 * s.present)
            if looks:
                what = "identifiers of people"
                if i in self.pseudonyms and not id_column_name(name):
                    what = "a different hash or random code on every row (pseudonymised IDs)"
                if re.fullmatch(_BIRTH_DATE, key(name)):
                    what = "dates of birth, which with sex or a place identify people"
                self.ctx.sink.add(
                    RULE_ID_COLUMN,
                    Verdict.BLOCK,
                    f"Column {name} holds {what}: a table with one row per "
                    "person is individual-level data, which never leaves the node. Release "
                    "aggregates (counts, means) over groups of people instead.",
                    Location(row=0, column=name),
                )

    def _genotypes(self, rows: int, people: list[int]) -> None:
        kinds = {i: g.kind if g.kind != "codes" or g.saw_two else "binary"
                 for i, g in self.geno.items()}  # fmt: skip
        strong = [i for i, k in kinds.items() if k in ("codes", "dosage", "calls")]
        weak = [i for i, k in kinds.items() if k in ("probability", "letters")]
        binary = [i for i, k in kinds.items() if k == "binary"]
        if rows == 0 or not kinds:
            return
        minimum = max(self.ctx.config.genotype_matrix_min_columns, 1)
        columns = strong
        enough = len(strong) >= minimum
        if not enough and rows >= _MIN_ROWS and strong:
            variant_names = any(_VARIANT_NAME.match(self.ctx.names[i].strip()) for i in strong)
            enough = any(near(rows, n) for n in people) or variant_names or len(strong) >= 3
        calls = [i for i in strong if kinds[i] == "calls"]
        if not enough and calls and rows >= 10 and not self.ctx.people_counts:
            enough = True
        if not enough and len(strong) + len(weak) >= max(minimum, 10):
            columns, enough = strong + weak, True  # probabilities or alleles per person
        if not enough and len(binary) >= 50:
            columns, enough = binary, True  # haplotypes (0/1 per chromosome copy)
        if not enough:
            return
        names = [self.ctx.names[i] for i in columns]
        self.ctx.sink.add(
            RULE_GENOTYPES,
            Verdict.BLOCK,
            f"{len(columns)} column{'s' if len(columns) != 1 else ''} hold genotypes per person "
            f"(0/1/2 codes, dosages or calls like 0/1 and AG), e.g. {', '.join(names[:5])}: "
            "individual-level data, which never leaves the node. Release allele counts or "
            "frequencies per variant instead.",
            Location(row=0, column=names[0]),
        )

    def _repeated_labels(self, labels: list[int], things: bool) -> str | None:
        """The label columns, said with how few different rows they name, when their values
        together name at most a fifth as many rows as they label (of the first 200): sex and
        age band over people, not one row per group. None when they name the rows, or when
        they are things (``things``: genes, regions) or replicates."""
        if any(set(tokens(self.ctx.names[i])) & _RUN_LABELS for i in labels):
            return None  # a simulation's or a benchmark's repeated runs of each method
        columns = [self._first_labels_aligned(i) for i in labels]
        n = min((len(c) for c in columns), default=0)
        if n < 100 or things or self._curves():
            return None
        distinct = len(set(zip(*(c[:n] for c in columns), strict=True)))
        if distinct > n // 5:
            return None
        named = ", ".join(self.ctx.names[i] for i in labels[:3])
        return f"{named}: {distinct} different among the first {n} rows"

    def _first_labels_aligned(self, i: int) -> list[str | None]:
        """The first 200 values of text column ``i``, empty ones kept in place."""
        texts = self.ctx.first.texts(i) if i < self.ctx.first.width else None
        return texts.slice(0, 200).to_pylist() if texts is not None else []

    def _vectors(self, rows: int, counted: bool, people: list[int]) -> None:
        """Rows of continuous numbers without labels: one row per person, as far as anyone
        can tell. More rows than the node has people (every dataset together) cannot be one
        per person of its data (ADMIXTURE's allele frequencies per variant): a reviewer
        judges them."""
        ctx = self.ctx
        if counted or rows < _MIN_ROWS or (ctx.recognition and ctx.recognition.kind):
            return
        continuous = [
            i for i, v in self.values.items()
            if v.present >= 0.9 * v.rows and v.present_first
            and v.distinct_first >= 0.9 * v.present_first and not v.whole
            and not (v.increasing or v.decreasing)
        ]  # fmt: skip
        labels = [i for i in range(len(ctx.names)) if i not in self.values or
                  self.values[i].present == 0]  # fmt: skip
        pcs = [n for n in ctx.names if _PC.match(key(n))]
        if not continuous or self._variant_rows() or self._locus_rows():
            return  # rows of variants or loci (PCA loadings, depth per site): not people
        names = ", ".join(ctx.names[i] for i in continuous[:4])
        fits = not people or rows <= max(people) + 2
        # rows numbered as epochs, trials, windows or replicates, or runs of a program (a
        # model's loss per epoch): not people, though a reviewer still sees the table
        things = self._things()
        if fits and (
            (len(continuous) >= 2 and rows >= 100 and not labels and not things)
            or (len(pcs) >= 2 and rows >= _MIN_ROWS)
        ):
            ctx.sink.add(
                RULE_ONE_ROW,
                Verdict.BLOCK,
                f"Columns {names} hold continuous values on each of {rows:,} rows, with no "
                "labels or counts: scores or coordinates per person (principal components, "
                "UMAP, polygenic scores) are individual-level data. Release a plot, or means "
                "per group with their counts, instead.",
                Location(row=0, column=ctx.names[continuous[0]]),
            )
        elif (
            fits
            and len(continuous) >= 2
            and (
                repeated := self._repeated_labels(labels, things)
                if labels and rows >= 100
                else None
            )
        ):
            ctx.sink.add(
                RULE_ONE_ROW,
                Verdict.BLOCK,
                f"Columns {names} hold a different value on each of {rows:,} rows, and the "
                f"rows' labels ({repeated}) repeat as sex or an age band do over people: rows "
                "like these are people, not groups, and individual-level data never leaves the "
                "node. Release means per group with their counts, or a plot, instead.",
                Location(row=0, column=ctx.names[continuous[0]]),
            )
        elif not labels and not things:
            ctx.sink.add(
                RULE_ONE_ROW,
                Verdict.REVIEW,
                f"Columns {names} hold continuous values on each of {rows:,} rows, with no "
                "labels or counts: if each row is a person, this is individual-level data. A "
                "reviewer must judge it; say in the request what a row is.",
                Location(row=0, column=ctx.names[continuous[0]]),
            )


def _mostly(values: list[str], pattern: re.Pattern[str]) -> bool:
    """Whether at least 80% of ``values`` (and one) match ``pattern``."""
    return bool(values) and sum(bool(pattern.match(v)) for v in values) >= 0.8 * len(values)


def _running_number(values: np.ndarray) -> bool:
    """A column that numbers the rows (0, 1, 2 ... or 1, 2, 3 ...): it names no group."""
    return (
        values.size > 0
        and values[0] in (0, 1)
        and bool(np.array_equal(values, values[0] + np.arange(values.size)))
    )


def _counts_name(name: str) -> bool:
    from airlock.checks.tables import count_name

    return count_name(name)


def _numeric_name(name: str) -> bool:
    from airlock.checks.tables import numeric_field_name

    return numeric_field_name(name)


def _all_missing(chunk: Chunk, i: int) -> bool:
    texts = chunk.texts(i)
    if texts is None:
        return bool(np.all(np.isnan(chunk.numbers(i))))
    values = {str(v).strip().lower() for v in pc.unique(texts).to_pylist() if v is not None}
    return values <= _MISSING


def _genotype_kind(chunk: Chunk, i: int) -> str | None:
    """codes (0/1/2 with missing codes), dosage (floats 0-2 near whole numbers) or calls
    (0/1, A/G, AG), from one chunk of a column; None for anything else."""
    n = len(chunk)
    if n == 0:
        return None
    numbers = chunk.numbers(i)
    present = numbers[~np.isnan(numbers)]
    texts = chunk.texts(i)
    if texts is not None:
        valid = pc.drop_null(texts)
        if len(valid) == 0:
            return None
        if present.size < len(valid):  # some cells are not numbers
            if _share(valid, _GT_CALL) >= 0.9:
                return "calls"
            if _share(valid, _NUCLEOTIDES) >= 0.9 and _share(valid, _HOMOZYGOUS) >= 0.2:
                return "calls"
            if _share(valid, r"^[ACGTN0]$") >= 0.9:
                return "letters"  # one allele per cell, as in a .ped file
            other = pc.filter(
                valid, pc.invert(pc.match_substring_regex(valid, r"^\s*[-+]?[0-9.]+\s*$"))
            )
            others = {str(v).strip().lower() for v in pc.unique(other).to_pylist()}
            if not others <= _MISSING:
                return None
    if present.size == 0:
        return None
    if np.all(np.isin(present, (0.0, 1.0, 2.0, -1.0, -9.0))):
        return "codes" if len(np.unique(present[present >= 0])) >= 2 else None
    if present.min() < 0 or not np.any(present != np.round(present)):
        return None
    near_whole = np.abs(present - np.round(present)) < 0.1
    if present.max() <= 2.0001 and present.max() > 1.5 and near_whole.mean() >= 0.5:
        return "dosage"
    if present.max() <= 1.0001 and ((present < 0.05) | (present > 0.95)).mean() >= 0.6:
        return "probability"  # genotype probabilities (IMPUTE's .gen)
    return None


def _share(array, pattern: str) -> float:
    if len(array) == 0:
        return 0.0
    return (pc.sum(pc.match_substring_regex(array, pattern)).as_py() or 0) / len(array)


def locate(raw: bytes, offset: int, delimiter: str | None, cache: dict | None = None
           ) -> tuple[int, int | None]:  # fmt: skip
    """(0-based data row within the chunk, column position) of a byte offset in delimited
    text (blank lines are not rows). With ``cache`` (a chunk's), the line starts are found
    once, so locating many offsets costs a search each."""
    if cache is None:
        cache = {}
    if "lines" not in cache:
        arr = np.frombuffer(raw, dtype=np.uint8)
        ends = np.flatnonzero(arr == 10)
        blank = np.zeros(len(ends), dtype=np.int64)
        if b"\n\n" in raw or b"\n\r\n" in raw:
            starts = np.concatenate(([0], ends[:-1] + 1))
            length = ends - starts
            empty = (length == 0) | ((length == 1) & (arr[np.maximum(ends - 1, 0)] == 13))
            blank = np.cumsum(empty)
        cache["lines"] = (ends, blank)
    ends, blank = cache["lines"]
    line = int(np.searchsorted(ends, offset))  # lines ending before the offset
    row = line - (int(blank[line - 1]) if line else 0)
    line_start = int(ends[line - 1]) + 1 if line else 0
    before = raw[line_start:offset]
    if delimiter is None:
        fields = before.split()
        return row, len(fields) - (0 if not before or before[-1:].isspace() else 1)
    sep = delimiter.encode()
    if b'"' not in before:
        return row, before.count(sep)
    text = before.decode("utf-8", "replace")
    fields = next(csv.reader(io.StringIO(text), delimiter=delimiter), [""])
    return row, len(fields) - 1


def table_rules(ctx: TableContext) -> Iterator[object]:
    yield IndividualRules(ctx)
