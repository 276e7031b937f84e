"""Which variables of a Dataset are still the store's own (selected with ``isel``, nothing else).

Reading genotypes from the packed companion, or labels straight from the store's chunk files,
is right only for variables that hold what the store holds. :func:`link` (called by
:func:`tresor.io.open_store`) records each variable's Dask name and adds the store's row of
each variant and column of each sample, which ``isel`` keeps; :func:`store_variables` checks
that variables were only selected from since (indexing and rechunking, no arithmetic), and
:func:`store_rows` says which rows of the store a selection holds.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from tresor.stats.variables import sample_store_index, variant_store_index

if TYPE_CHECKING:  # pragma: no cover
    import xarray as xr

VARIANT_INDEX = variant_store_index
SAMPLE_INDEX = sample_store_index
#: Dataset attributes: the store's path and the Dask names of its variables when opened.
STORE_ATTR = "tresor_store_path"
SOURCES_ATTR = "tresor_sources"
#: Layers a selection may add (``isel``, ``sel``, ``chunk``).
_SELECTION_LAYERS = ("getitem-", "rechunk-")


def link(ds: xr.Dataset) -> xr.Dataset:
    """``ds`` (just opened) with the store index of its variants and samples, and the Dask
    names of its variables."""
    import dask.array as da

    gt = ds["call_genotype"].data
    ds = ds.assign(
        {
            VARIANT_INDEX: ("variants", da.arange(gt.shape[0], chunks=(gt.chunks[0],))),
            SAMPLE_INDEX: ("samples", np.arange(gt.shape[1])),
        }
    )
    ds.attrs[SOURCES_ATTR] = {
        name: var.data.name for name, var in ds.data_vars.items() if hasattr(var.data, "dask")
    }
    return ds


def store_variables(ds: xr.Dataset, *names: str) -> bool:
    """True when ``ds`` was opened from a store and each of ``names`` is in it, still the
    store's own data, only selected from (the same selection for all, as ``isel`` does)."""
    import dask.array as da

    sources = ds.attrs.get(SOURCES_ATTR)
    if not sources or STORE_ATTR not in ds.attrs:
        return False
    for name in names:
        if name not in ds or name not in sources:
            return False
        data = ds[name].data
        if not isinstance(data, da.Array):
            return False
        layers = set(data.__dask_graph__().layers)
        source = sources[name]
        allowed = {source, f"original-{source}"}
        if source not in layers or not all(
            layer in allowed or layer.startswith(_SELECTION_LAYERS) for layer in layers
        ):
            return False
    return True


def store_path(ds: xr.Dataset) -> Path:
    return Path(ds.attrs[STORE_ATTR])
