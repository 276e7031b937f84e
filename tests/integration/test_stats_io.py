"""tresor.io.open_store gives arrays that nothing can write through, not even root (who ignores
file modes): the guarantee that a kernel or a Dask worker never changes a dataset."""

from __future__ import annotations

import pickle
import shutil

import dask
import numpy as np
import pytest
import zarr

from tresor.io import open_store


def _reference_genotypes(store) -> np.ndarray:
    return zarr.open_array(zarr.storage.LocalStore(store, read_only=True), path="call_genotype")[:]


def _zarr_array(data) -> zarr.Array:
    """The zarr.Array under a lazily opened Dask array (what a Dask worker receives)."""
    graph = dict(data.__dask_graph__())
    a = next(v for k, v in graph.items() if str(k).startswith("original-"))
    while not isinstance(a, zarr.Array):
        a = a._array if hasattr(a, "_array") else a.array
    return a


def test_open_store__arrays_cannot_be_written_even_by_root(demo_cohorts, tmp_path):
    store = tmp_path / "dk.vcz"
    shutil.copytree(demo_cohorts["dk"].store, store)
    before = _reference_genotypes(store)
    array = _zarr_array(open_store(store)["call_genotype"].data)
    with pytest.raises(ValueError, match="read-only"):
        array[0, 0, 0] = 1 - before[0, 0, 0]
    np.testing.assert_array_equal(_reference_genotypes(store), before)


def test_open_store__arrays_pickled_to_a_worker_stay_read_only(demo_cohorts, tmp_path):
    """Distributed workers get the graph pickled; the store they rebuild is read-only too."""
    store = tmp_path / "dk.vcz"
    shutil.copytree(demo_cohorts["dk"].store, store)
    before = _reference_genotypes(store)
    data = pickle.loads(pickle.dumps(open_store(store)["call_genotype"].data))
    with dask.config.set(scheduler="synchronous"):
        np.testing.assert_array_equal(data.compute(), before)
    with pytest.raises(ValueError, match="read-only"):
        _zarr_array(data)[0, 0, 0] = 1 - before[0, 0, 0]
    np.testing.assert_array_equal(_reference_genotypes(store), before)
