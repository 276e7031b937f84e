"""tresor: a federated trusted research environment for genomics.

The researcher-facing API is small on purpose::

    import tresor
    tresor.datasets()            # what you may open, as a pandas DataFrame
    ds = tresor.open_dataset("dk")   # lazy xarray.Dataset in VCF Zarr naming
    client = tresor.cluster()        # Dask: dask-gateway if the node has it, else in your server

Heavy modules (xarray, dask, msprime) are imported only when used, so the CLI starts fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

__version__ = "0.1.0"

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd
    import xarray as xr


def open_dataset(dataset_id: str) -> xr.Dataset:
    """Open a catalogue dataset you have a grant for, lazily and read-only."""
    from tresor.catalogue import open_dataset as _open

    return _open(dataset_id)


def datasets() -> pd.DataFrame:
    """The catalogue's datasets that the current user may open."""
    from tresor.catalogue import datasets_table

    return datasets_table()


# The function, bound over the submodule of the same name (tresor/cluster.py imports only the
# standard library at first, so this stays cheap). Import helpers with `from tresor.cluster import`.
from tresor.cluster import cluster  # noqa: E402

__all__ = ["__version__", "cluster", "datasets", "open_dataset"]
