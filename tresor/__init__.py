"""tresor: a federated trusted research environment for genomics.

The researcher-facing API is small on purpose::

    import tresor
    tresor.datasets()            # what you may open, as a pandas DataFrame
    ds = tresor.open_dataset("dk")   # lazy xarray.Dataset in VCF Zarr naming
    client = tresor.cluster()        # Dask: dask-gateway if the node has it, else in your server

Nothing is imported until used (xarray, dask and msprime are heavy), so the CLI starts fast
and the airlock, which imports only :mod:`tresor.core`, loads none of the library.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tresor.core.version import __version__

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


def __getattr__(name: str):
    # tresor.cluster is imported on first use, so that the parts of tresor that are not the
    # researcher library (the core, the node runtime, the airlock's imports of the core) do not
    # load it. The module is callable: tresor.cluster() is tresor.cluster.cluster().
    if name == "cluster":
        import importlib

        return importlib.import_module("tresor.cluster")
    raise AttributeError(f"module 'tresor' has no attribute {name!r}")


__all__ = ["__version__", "cluster", "datasets", "open_dataset"]
