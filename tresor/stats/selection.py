"""Choose samples (plink2 --keep files), regions (chr:start-end) and variants (MAF, call rate).

Sample and region selection index the Dataset up front (they only read ``sample_id``,
``variant_contig`` and ``variant_position``). MAF and call-rate filters depend on the counts,
so they are a lazy boolean per variant that the table writers apply as they stream.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from tresor.core.errors import ParameterError, TresorError
from tresor.stats import variables

if TYPE_CHECKING:  # pragma: no cover
    import xarray as xr


class SelectionError(TresorError, ValueError):
    """A sample list, region or filter that selects nothing or cannot be read."""


def read_sample_ids(path: str | os.PathLike) -> list[str]:
    """Sample IDs from a plink2 --keep style file.

    One ID per line, or ``FID IID`` pairs (the IID is used), optionally with a header line
    starting with ``#`` that names the columns (``#IID`` or ``#FID IID``). Blank lines and
    further columns are ignored.
    """
    path = Path(path)
    try:
        lines = path.read_text().splitlines()
    except OSError as e:
        raise SelectionError(f"cannot read the sample list {path}: {e.strerror}") from e
    iid_col = None
    ids = []
    for line in lines:
        fields = line.split()
        if not fields:
            continue
        if fields[0].startswith("#"):
            header = [fields[0][1:], *fields[1:]]
            if "IID" not in header:
                raise SelectionError(f"{path}: header {line.strip()!r} has no IID column")
            iid_col = header.index("IID")
            continue
        col = iid_col if iid_col is not None else (1 if len(fields) >= 2 else 0)
        if col >= len(fields):
            raise SelectionError(f"{path}: line {line.strip()!r} has no IID column")
        ids.append(fields[col])
    if not ids:
        raise SelectionError(f"{path} lists no sample IDs")
    return ids


def keep_samples(ds: xr.Dataset, ids: Sequence[str], *, source: str = "the list") -> xr.Dataset:
    """``ds`` restricted to the samples in ``ids`` (store order kept).

    Raises :class:`SelectionError` when no ID matches, naming a few IDs of each side.
    """
    variables.validate(ds, variables.sample_id)
    return ds.isel(samples=sample_positions(ds[variables.sample_id].values, ids, source=source))


def sample_positions(
    store_ids: Sequence[str], ids: Sequence[str], *, source: str = "the list"
) -> np.ndarray:
    """Positions (ascending) of the samples of ``store_ids`` that are in ``ids``."""
    store_ids = np.array([str(s) for s in np.asarray(store_ids).tolist()])
    wanted = set(ids)
    idx = np.flatnonzero(np.isin(store_ids, list(wanted)))
    if len(idx) == 0:
        raise SelectionError(
            f"none of the {len(wanted)} sample IDs in {source} is a sample of this dataset "
            f"(e.g. {', '.join(sorted(wanted)[:3])} vs {', '.join(store_ids[:3])}); check "
            "that the file lists IIDs of this dataset"
        )
    return idx


_REGION = re.compile(r"^(?P<contig>[^:]+)(:(?P<start>[\d,]+)?(-(?P<end>[\d,]+)?)?)?$")


def parse_region(region: str) -> tuple[str, int, int | None]:
    """``chr1``, ``chr1:1000-2000``, ``chr1:1000-`` or ``chr1:1000`` -> (contig, start, end).

    Positions are 1-based and inclusive, as in bcftools and tabix.
    """
    m = _REGION.match(region.strip())
    if not m:
        raise SelectionError(f"{region!r} is not a region; write chr1, chr1:100-200 or chr1:100-")
    start = int(m["start"].replace(",", "")) if m["start"] else 1
    if m["end"]:
        end = int(m["end"].replace(",", ""))
    elif m["start"] and "-" not in region:
        end = start
    else:
        end = None
    if end is not None and end < start:
        raise SelectionError(f"region {region!r} ends before it starts")
    return m["contig"], start, end


def select_regions(ds: xr.Dataset, regions: Sequence[str]) -> xr.Dataset:
    """``ds`` restricted to variants inside any of ``regions`` (see :func:`parse_region`)."""
    variables.validate(ds, variables.variant_contig, variables.variant_position)
    rows = region_rows(
        [str(c) for c in ds["contig_id"].values],
        ds[variables.variant_contig].values,
        ds[variables.variant_position].values,
        regions,
    )
    return ds.isel(variants=rows)


def region_rows(
    contig_names: Sequence[str],
    contig: np.ndarray,
    position: np.ndarray,
    regions: Sequence[str],
) -> np.ndarray:
    """Rows (ascending) of the variants inside any of ``regions``."""
    keep = np.zeros(len(contig), dtype=bool)
    for region in regions:
        name, start, end = parse_region(region)
        if name not in contig_names:
            raise SelectionError(
                f"region {region!r}: no contig {name!r} in this dataset "
                f"(contigs: {', '.join(contig_names[:10])})"
            )
        inside = (contig == contig_names.index(name)) & (position >= start)
        if end is not None:
            inside &= position <= end
        keep |= inside
    if not keep.any():
        raise SelectionError(f"no variant lies in {', '.join(regions)}")
    return np.flatnonzero(keep)


def variant_filter(
    stats: xr.Dataset, *, min_maf: float = 0.0, min_call_rate: float = 0.0
) -> xr.DataArray:
    """Lazy boolean per variant: MAF >= ``min_maf`` and call rate >= ``min_call_rate``.

    ``stats`` needs ``variant_minor_allele_frequency`` and ``variant_call_rate`` (from
    :func:`~tresor.stats.aggregation.variant_stats`). With ``min_maf > 0``, variants with
    nothing called fail; with no thresholds every variant passes.
    """
    if not 0 <= min_maf <= 0.5:
        raise SelectionError(f"min MAF must be between 0 and 0.5, not {min_maf}")
    if not 0 <= min_call_rate <= 1:
        raise SelectionError(f"min call rate must be between 0 and 1, not {min_call_rate}")
    variables.validate(stats, variables.variant_minor_allele_frequency, variables.variant_call_rate)
    maf = stats[variables.variant_minor_allele_frequency]
    keep = stats[variables.variant_call_rate] >= min_call_rate
    if min_maf > 0:
        keep &= maf >= min_maf
    return keep


def nothing_passed(
    call_rate: np.ndarray, maf: np.ndarray, min_maf: float, min_call_rate: float
) -> ParameterError:
    """The error for filters that keep no variant, naming the one to lower and the best value
    the data has (``call_rate`` and ``maf`` of every variant; MAF NaN where nothing is
    called)."""
    maf = np.nan_to_num(np.asarray(maf, dtype=float), nan=-1.0)
    if len(call_rate) == 0:
        return ParameterError("the selection holds no variant")
    if not (call_rate >= min_call_rate).any():
        return ParameterError(
            f"no variant has call rate >= {{min_call_rate}} (the highest is "
            f"{call_rate.max():.3g}); lower the threshold",
            min_call_rate=min_call_rate,
        )
    best = maf[call_rate >= min_call_rate].max()
    return ParameterError(
        f"no variant with call rate >= {{min_call_rate}} has MAF >= {{min_maf}} (the highest "
        f"is {max(best, 0):.3g}); lower the MAF threshold",
        min_call_rate=min_call_rate,
        min_maf=min_maf,
    )
