"""A sites-only VCF (an allele frequency release: no FORMAT or sample columns) as the table of
its INFO numbers: AC, AN, AF, nhomalt ... each become a column, so the per-variant rules check
its counts as they check a plink2 .acount.

A VCF with genotype columns never gets here: airlock.checks.filetypes blocks it by its header,
or the reader of the table by its columns (:func:`has_genotype_columns`) when the '#CHROM'
line comes after more '##' lines than the sniffer reads.
Each INFO field with a value becomes a column (flags do not): numbers as numbers, where a field
has one per ALT allele (a multi-allelic site) the smallest, so the rarest allele is the one
checked; anything else as text, which the table rules read as any table's (a string of calls
per person in INFO is individual-level as it is in a column).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from airlock.checks.cells import Chunk
from airlock.checks.reading import DelimitedTable

COLUMNS = ("CHROM", "POS", "ID", "REF", "ALT", "QUAL", "FILTER", "INFO")
_INFO_LINE = re.compile(r"^##INFO=<ID=([A-Za-z_][\w.]*),Number=[^,]+,Type=(\w+)", re.M)
_KEY_VALUE = re.compile(r"(?:^|;)([A-Za-z_][\w.]*)=")
#: characters of the longest number an INFO field holds ('-1.2345678901234567e-300')
_LONGEST_NUMBER = 24
#: keys read from the first rows when the header declares none
_SAMPLE_ROWS = 1000


GENOTYPES_MESSAGE = (
    "This file is a VCF genotype file (FORMAT and sample columns after its '#CHROM' header): "
    "it holds individual-level genomic data, which never leaves the node; release aggregate "
    "results (allele frequencies, a sites-only VCF, summary statistics) instead."
)


def has_genotype_columns(names: list[str]) -> bool:
    """A VCF's fixed columns followed by FORMAT: one column of calls per person."""
    return [n.lstrip("#").strip().upper() for n in names[:9]] == [*COLUMNS, "FORMAT"]


def is_sites_vcf(names: list[str]) -> bool:
    """A table whose columns are a VCF's fixed ones, the first five at least (plink2's .pvar
    may stop at ALT and add CM), with no genotype columns."""
    upper = [n.lstrip("#").strip().upper() for n in names]
    if upper and upper[-1] == "CM":
        upper = upper[:-1]
    return 5 <= len(upper) <= len(COLUMNS) and upper == list(COLUMNS[: len(upper)])


def has_info(names: list[str]) -> bool:
    """Whether a sites table's eighth column is INFO (a .pvar may stop before it, or hold QUAL
    and FILTER then CM)."""
    return len(names) >= len(COLUMNS) and names[7].lstrip("#").strip().upper() == "INFO"


def without_vcf_markers(preamble: bytes) -> bytes:
    """The preamble with each line's leading '##' blanked (same length, so line numbers and
    offsets hold): the header of a sites-only VCF is not a VCF of people, yet every byte is
    still scanned for identifiers and sample IDs."""
    return re.sub(rb"(?m)^##", b"  ", preamble)


def info_table(table: DelimitedTable) -> DelimitedTable:
    """``table`` (a sites-only VCF) with INFO replaced by one column per INFO field with a
    value: those its '##INFO' lines declare (flags left out), else those of its first rows."""
    keys = [m.group(1) for m in _INFO_LINE.finditer(table.preamble) if m.group(2) != "Flag"]
    chunks = iter(table.chunks)
    first = next(chunks, None)
    if first is None:
        return table
    if not keys:
        keys = _keys_of(first.table.column(7).slice(0, _SAMPLE_ROWS))
    keys = list(dict.fromkeys(k for k in keys if k.upper() not in COLUMNS))
    names = [n.lstrip("#") for n in table.names[:7]] + keys
    return DelimitedTable(names, table.has_header, table.preamble, _expanded(first, chunks, keys))


def _expanded(first: Chunk, rest: Iterator[Chunk], keys: list[str]) -> Iterator[Chunk]:
    for chunk in itertools.chain([first], rest):
        columns = [chunk.table.column(j) for j in range(7)]
        columns += _info_columns(pc.cast(chunk.table.column(7), pa.string()), keys)
        names = [str(j) for j in range(len(columns))]
        yield Chunk(pa.table(columns, names=names), chunk.first_row, chunk.raw, cache=chunk.cache)


def _keys_of(info: pa.ChunkedArray) -> list[str]:
    keys: dict[str, None] = {}
    for value in info.to_pylist():
        for m in _KEY_VALUE.finditer(value or ""):
            keys[m.group(1)] = None
    return list(keys)


def _info_columns(info: pa.ChunkedArray, keys: list[str]) -> list[pa.Array]:
    """The values of each INFO field of ``keys``, a column each (null where a row has none).
    INFO is split once into its 'key=value' pairs, so the cost does not grow with the number
    of fields (gnomAD's sites VCFs have hundreds)."""
    rows = len(info)
    pairs = pc.split_pattern(info.combine_chunks(), ";")
    flat, parents = pairs.flatten(), _parents(pairs)
    valued = pc.greater_equal(pc.find_substring(flat, "="), 0)  # flags have no value
    flat, parents = flat.filter(valued), parents[valued.to_numpy(zero_copy_only=False)]
    split = pc.split_pattern(flat, "=", max_splits=1)
    key, value = pc.list_element(split, 0), pc.list_element(split, 1)
    code = pc.fill_null(pc.index_in(key, value_set=pa.array(keys, pa.string())), -1)
    code = code.to_numpy(zero_copy_only=False)
    order = np.argsort(code, kind="stable")
    bounds = np.searchsorted(code[order], np.arange(len(keys) + 1))
    columns = []
    for j in range(len(keys)):
        chosen = order[bounds[j] : bounds[j + 1]]
        where = np.full(rows, -1, dtype=np.int64)
        where[parents[chosen]] = np.arange(len(chosen))
        values = pc.take(value, pa.array(chosen))
        columns.append(_typed(pc.take(values, pa.array(where, mask=where < 0))))
    return columns


def _typed(found: pa.Array) -> pa.Array:
    """One INFO field's values as numbers (the smallest of a multi-valued field's) or, when
    not all are numbers, as the text they are; '.' and a missing value are null."""
    found = pc.if_else(pc.is_in(found, pa.array([".", ""])), pa.scalar(None, pa.string()), found)
    parts = pc.split_pattern(found, ",")
    flat = pc.list_flatten(parts)
    flat = pc.if_else(pc.equal(flat, "."), pa.scalar(None, pa.string()), flat)
    if len(flat) and (pc.max(pc.utf8_length(flat)).as_py() or 0) > _LONGEST_NUMBER:
        return found  # '0120...' of 300 calls is no number
    try:
        numbers = pc.cast(flat, pa.float64()).to_numpy(zero_copy_only=False)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return found
    smallest = np.full(len(found), np.nan)
    np.fmin.at(smallest, _parents(parts), numbers)
    mask = np.isnan(smallest)
    whole = not pc.any(pc.match_substring_regex(flat, r"[.eEnN]")).as_py()  # no nan, inf
    if whole and np.all(np.abs(smallest[~mask]) < 2**53):
        return pa.array(np.where(mask, 0, smallest).astype(np.int64), mask=mask)
    return pa.array(smallest, mask=mask)


def _parents(lists: pa.ListArray) -> np.ndarray:
    """For each element of the flattened ``lists``, the index of its list (Arrow's
    list_parent_indices, whose to_numpy() took 0.16 s for 500,000 elements)."""
    offsets = lists.offsets.to_numpy()
    return np.repeat(np.arange(len(lists)), np.diff(offsets))
