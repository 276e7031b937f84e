"""tresor.io.open_store decodes genotypes with the zarrs pipeline (read-only), and without it
if it is gone."""

from __future__ import annotations

import logging
import pickle
import shutil
import sys

import dask
import numpy as np
import pytest
import zarr

import tresor.io
from tresor.io import open_store


@pytest.fixture
def zarrs_reads(monkeypatch):
    """A list that grows by one for every read through the zarrs pipeline in this process."""
    from zarrs.pipeline import ZarrsCodecPipeline

    calls = []
    read = ZarrsCodecPipeline.read

    async def counting_read(self, *args, **kwargs):
        calls.append(1)
        return await read(self, *args, **kwargs)

    monkeypatch.setattr(ZarrsCodecPipeline, "read", counting_read)
    return calls


def _reference_genotypes(store) -> np.ndarray:
    """call_genotype read with zarr's own pipeline."""
    assert "zarrs" not in zarr.config.get("codec_pipeline.path").lower()
    return zarr.open_array(zarr.storage.LocalStore(store, read_only=True), path="call_genotype")[:]


def test_open_store__genotypes_decoded_by_zarrs_equal_zarr(demo_cohorts, zarrs_reads):
    store = demo_cohorts["dk"].store
    ds = open_store(store)
    with dask.config.set(scheduler="threads"):
        genotypes = ds["call_genotype"].values
    assert len(zarrs_reads) > 0
    np.testing.assert_array_equal(genotypes, _reference_genotypes(store))


def test_open_store__zarrs_pipeline_survives_pickling_to_a_worker(demo_cohorts, zarrs_reads):
    """Distributed workers get the graph pickled; the arrays in it must keep the pipeline
    without the worker setting any zarr config."""
    store = demo_cohorts["dk"].store
    gt = pickle.loads(pickle.dumps(open_store(store)["call_genotype"].data))
    with dask.config.set(scheduler="synchronous"):
        genotypes = gt.compute()
    assert len(zarrs_reads) > 0
    np.testing.assert_array_equal(genotypes, _reference_genotypes(store))


def test_open_store__without_zarrs_reads_with_zarr_and_says_so(
    demo_cohorts, zarrs_reads, monkeypatch, caplog
):
    store = demo_cohorts["dk"].store
    monkeypatch.setitem(sys.modules, "zarrs", None)  # import zarrs -> ImportError
    monkeypatch.setitem(sys.modules, "tresor.zarr_pipeline", None)
    tresor.io.zarrs_pipeline.cache_clear()
    try:
        with caplog.at_level(logging.WARNING, logger="tresor.io"):
            ds = open_store(store)
        with dask.config.set(scheduler="threads"):
            genotypes = ds["call_genotype"].values
    finally:
        tresor.io.zarrs_pipeline.cache_clear()
    assert "zarrs not importable" in caplog.text
    assert zarrs_reads == []
    np.testing.assert_array_equal(genotypes, _reference_genotypes(store))


def _zarr_array(dataset_array) -> zarr.Array:
    """The zarr.Array under an xarray variable opened lazily (what a Dask worker receives)."""
    graph = dict(dataset_array.data.__dask_graph__())
    a = next(v for k, v in graph.items() if str(k).startswith("original-"))
    while not isinstance(a, zarr.Array):
        a = a._array if hasattr(a, "_array") else a.array
    return a


def test_open_store__arrays_cannot_be_written_even_by_root(demo_cohorts, tmp_path):
    """zarrs writes through its own store, which ignores zarr's read_only flag; tresor's
    pipeline refuses, and root (who ignores file modes) writes nothing either."""
    store = tmp_path / "dk.vcz"
    shutil.copytree(demo_cohorts["dk"].store, store)
    before = _reference_genotypes(store)
    array = _zarr_array(open_store(store)["call_genotype"])
    assert "Zarrs" in type(array._async_array.codec_pipeline).__name__
    with pytest.raises(ValueError, match="read-only"):
        array[0, 0, 0] = 1 - before[0, 0, 0]
    np.testing.assert_array_equal(_reference_genotypes(store), before)
