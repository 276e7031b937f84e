"""A sites-only VCF (an allele frequency release: no FORMAT or sample columns) as the table of
its INFO numbers: AC, AN, AF, nhomalt ... each become a column, so the per-variant rules check
its counts as they check a plink2 .acount.

A VCF with genotype columns never gets here (airlock.checks.filetypes blocks it by its header).
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
    """A table whose columns are exactly a VCF's eight fixed ones."""
    return [n.lstrip("#").strip().upper() for n in names] == list(COLUMNS)


def without_vcf_markers(preamble: bytes) -> bytes:
    """The preamble with each line's leading '##' blanked (same length, so line numbers and
    offsets hold): the header of a sites-only VCF is not a VCF of people, yet every byte is
    still scanned for identifiers and sample IDs."""
    return re.sub(rb"(?m)^##", b"  ", preamble)


def info_table(table: DelimitedTable) -> DelimitedTable:
    """``table`` (a sites-only VCF) with INFO replaced by one column per numeric INFO field."""
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
        info = pc.cast(chunk.table.column(7), pa.string())
        columns += [_info_values(info, key) for key in keys]
        names = [str(j) for j in range(len(columns))]
        yield Chunk(pa.table(columns, names=names), chunk.first_row, chunk.raw, cache=chunk.cache)


def _keys_of(info: pa.ChunkedArray) -> list[str]:
    keys: dict[str, None] = {}
    for value in info.to_pylist():
        for m in _KEY_VALUE.finditer(value or ""):
            keys[m.group(1)] = None
    return list(keys)


def _info_values(info: pa.Array, key: str) -> pa.Array:
    """The values of INFO field ``key`` (null where absent or '.'): its numbers, the smallest
    of a multi-valued field's numbers, or its text when not all are numbers."""
    pattern = rf"(?:^|;){re.escape(key)}=(?P<v>[^;]*)"
    found = pc.struct_field(pc.extract_regex(info, pattern), [0])
    found = pc.if_else(pc.equal(found, "."), pa.scalar(None, pa.string()), found)
    longest = pc.max(pc.utf8_length(found)).as_py() or 0
    if longest > _LONGEST_NUMBER:  # '0120...' of 300 calls is no number
        return found
    if not pc.any(pc.match_substring(found, ",")).as_py():
        for kind in (pa.int64(), pa.float64()):
            try:
                return pc.cast(found, kind)
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                continue
    values = found.to_pylist()
    if not all(_is_number(p) for v in values if v for p in v.split(",")):
        return found
    numbers = np.full(len(found), np.nan)
    for j, value in enumerate(values):
        parts = [float(p) for p in (value or "").split(",")]
        if parts:
            numbers[j] = min(parts)
    mask = np.isnan(numbers)
    if (
        np.all(numbers[~mask] == np.round(numbers[~mask]))
        and not pc.any(pc.match_substring(found, ".")).as_py()
    ):
        return pa.array(np.where(mask, 0, numbers).astype(np.int64), mask=mask)
    return pa.array(numbers, mask=mask)


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return text.strip().lower() not in ("nan", "inf", "-inf", "+inf", "infinity")
