"""The packed genotype companion end to end: written beside a store, read by every analysis with
byte-identical tables to the store's (demo cohorts and every shape of callset, with sample masks
and several sample chunks), never used once its store changed."""

from __future__ import annotations

import os
import shutil
import stat
import warnings

import numpy as np
import pytest

from tests import vcf_fixtures as vf
from tresor.io import open_store
from tresor.stats import reports
from tresor.stats.packed import StalePackWarning, companion_path, pack_store, packed_view

DIGITS = 12


def copy_store(store, directory):
    """A writable copy of a (read-only) store in ``directory``."""
    target = directory / store.name
    shutil.copytree(store, target)
    for dirpath, _, files in os.walk(target):
        os.chmod(dirpath, 0o755)
        for name in files:
            os.chmod(os.path.join(dirpath, name), 0o644)
    return target


def run_all(ds, out, *, pheno=None, covar=None, pca=True) -> None:
    """Every analysis the CLI has, unrounded (12 digits), into files named ``out.*``."""
    common = {"progress": False, "digits": DIGITS}
    reports.write_freq(ds, out, **common)
    reports.write_freq(ds, out, counts=True, min_maf=0.01, **common)
    reports.write_hardy(ds, out, **common)
    reports.write_missing(ds, out, **common)
    reports.write_het(ds, out, **common)
    if pheno is not None:
        names = [n for n in pheno.read_text().splitlines()[0].split("\t")[1:]]
        reports.write_gwas(ds, out, pheno, names, covar=covar, plots=False, **common)
    if pca and ds.sizes["samples"] > 20:
        reports.write_pca(ds, out, n_components=3, min_call_rate=0.0, plot=False, **common)


def assert_same_files(a, b) -> None:
    ours = sorted(p.name[len(a.name) :] for p in a.parent.glob(a.name + ".*"))
    theirs = sorted(p.name[len(b.name) :] for p in b.parent.glob(b.name + ".*"))
    assert ours == theirs and ours
    for suffix in ours:
        left = a.with_name(a.name + suffix).read_bytes()
        right = b.with_name(b.name + suffix).read_bytes()
        assert left == right, suffix


@pytest.fixture(scope="module")
def stores(vcf_fixtures, demo_cohorts, tmp_path_factory):
    """Packed copies: demo cohort dk, every readable fixture, and two fixtures converted with
    small chunks (several sample chunks: 40 and 60 samples in chunks of 16)."""
    from bio2zarr import vcf as b2z

    out = tmp_path_factory.mktemp("packed")
    found = {"demo": (demo_cohorts["dk"].store, demo_cohorts["dk"].pheno, demo_cohorts["dk"].covar)}
    for name, w in vcf_fixtures.items():
        if w.store is not None:
            found[name] = (w.store, w.pheno, w.covar)
    for name in ("sex_chromosomes", "no_ids"):
        w = vcf_fixtures[name]
        store = out / "chunked" / f"{name}.vcz"
        store.parent.mkdir(exist_ok=True)
        b2z.convert([str(w.vcf)], str(store), worker_processes=0, show_progress=False,
                    variants_chunk_size=50, samples_chunk_size=16)  # fmt: skip
        found[f"{name}_chunked"] = (store, w.pheno, w.covar)
    copies = {}
    for name, (store, pheno, covar) in found.items():
        (out / name).mkdir()
        copy = copy_store(store, out / name)
        pack_store(copy)
        copies[name] = (copy, pheno or noise_phenotype(copy, out / name / "qt.pheno"), covar)
    return copies


def noise_phenotype(store, path):
    """A trait for a callset that has none, so GWAS runs on every shape of callset too."""
    ids = open_store(store, packed=False)["sample_id"].values
    qt = np.random.default_rng(len(ids)).normal(size=len(ids))
    path.write_text("#IID\tqt\n" + "".join(f"{i}\t{v:.6f}\n" for i, v in zip(ids, qt, strict=True)))
    return path


@pytest.mark.parametrize(
    "name",
    ["demo", *(f.__name__ for f in vf.FIXTURES if f.__name__ not in vf.UNREADABLE),
     "sex_chromosomes_chunked", "no_ids_chunked"],
)  # fmt: skip
def test_packed__every_table_identical_to_the_stores(stores, name, tmp_path):
    store, pheno, covar = stores[name]
    packed, plain = open_store(store), open_store(store, packed=False)
    assert packed_view(packed) is not None and packed_view(plain) is None
    run_all(packed, tmp_path / "packed", pheno=pheno, covar=covar)
    run_all(plain, tmp_path / "plain", pheno=pheno, covar=covar)
    assert_same_files(tmp_path / "packed", tmp_path / "plain")
    assert any(p.name.startswith("packed.") and "glm" in p.name for p in tmp_path.iterdir())


@pytest.mark.parametrize("name", ["demo", "sex_chromosomes_chunked", "haploid", "triploid"])
def test_packed__sample_masks_and_variant_selections_identical_too(stores, name, tmp_path):
    """--keep (every other sample, then a few), --region-like slices and a fancy selection of
    variants (unordered): the masks and rows the kernels get."""
    store, pheno, covar = stores[name]
    n_samples = open_store(store).sizes["samples"]
    n_variants = open_store(store).sizes["variants"]
    selections = [
        {"samples": np.arange(0, n_samples, 2)},
        {"samples": np.array([1, n_samples - 1])},
        {"variants": slice(1, max(2, n_variants - 3))},
        {"variants": np.array([n_variants - 1, 0, n_variants // 2]), "samples": slice(1, None)},
    ]
    for i, selection in enumerate(selections):
        packed = open_store(store).isel(**selection)
        plain = open_store(store, packed=False).isel(**selection)
        assert packed_view(packed) is not None
        pca = i < 3 and name != "triploid"
        run_all(packed, tmp_path / f"p{i}", pheno=None, covar=None, pca=pca)
        run_all(plain, tmp_path / f"u{i}", pheno=None, covar=None, pca=pca)
        assert_same_files(tmp_path / f"p{i}", tmp_path / f"u{i}")
        if pheno is not None and "samples" not in selection:
            names = ["qt"] if name != "demo" else ["ldl", "t2d"]
            for prefix, ds in ((f"gp{i}", packed), (f"gu{i}", plain)):
                reports.write_gwas(ds, tmp_path / prefix, pheno, names, covar=covar,
                                   plots=False, progress=False)  # fmt: skip
            assert_same_files(tmp_path / f"gp{i}", tmp_path / f"gu{i}")


def test_companion__beside_the_store_read_only_with_its_permissions(stores):
    store = stores["demo"][0]
    companion = companion_path(store)
    assert companion.parent == store.parent and not companion.is_relative_to(store)
    store_file = store / "call_genotype" / ".zarray"
    write = stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH
    for path in [companion, *companion.rglob("*")]:
        like = store if path.is_dir() else store_file
        assert stat.S_IMODE(path.stat().st_mode) == stat.S_IMODE(like.stat().st_mode) & ~write
        assert path.stat().st_gid == like.stat().st_gid
    # rows whose calls hold an allele above 1 (multi-allelic sites) are kept as int8, the
    # others packed (a multi-allelic site of which this cohort carries two alleles too)
    import zarr

    group = zarr.open_group(str(companion), mode="r")
    exception = group["variant_exception"][:]
    ds = open_store(store)
    third = (ds["call_genotype"].values > 1).any(axis=(1, 2))
    assert third.any() and np.array_equal(exception >= 0, third)
    assert ((ds["variant_allele"].values != "").sum(axis=1)[exception < 0] > 2).any()
    assert group.attrs["exceptions"] == third.sum()


def test_stale_companion__a_changed_chunk_is_noticed_and_the_store_read(stores, tmp_path):
    store, _, _ = stores["no_ids_chunked"]
    store = copy_store(store, tmp_path)
    pack_store(store)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a current companion: no warning
        assert packed_view(open_store(store)) is not None
    # the same bytes written again (a restore from backup): new mtime, still current
    chunk = store / "call_genotype" / "1.1.0"
    data = chunk.read_bytes()
    os.utime(chunk, ns=(chunk.stat().st_atime_ns, chunk.stat().st_mtime_ns + 10**9))
    chunk.write_bytes(data)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert packed_view(open_store(store)) is not None
    # a call changed in one chunk
    import zarr

    array = zarr.open_array(str(store), path="call_genotype", mode="r+")
    before = array[60, 20].copy()
    array[60, 20] = [1, 1] if before.tolist() != [1, 1] else [0, 0]
    with pytest.warns(StalePackWarning, match="1 chunks of the store's call_genotype changed"):
        ds = open_store(store)
    assert packed_view(ds) is None
    run_all(ds, tmp_path / "after", pca=False)
    run_all(open_store(store, packed=False), tmp_path / "store", pca=False)
    assert_same_files(tmp_path / "after", tmp_path / "store")
    # packing again makes it current
    pack_store(store)
    assert packed_view(open_store(store)) is not None


def test_packed_view__not_for_genotypes_that_are_no_longer_the_stores(stores, tmp_path):
    store, _, _ = stores["demo"]
    ds = open_store(store)
    changed = ds.assign(call_genotype=ds["call_genotype"].where(ds["call_genotype"] != 1, 0))
    assert packed_view(changed) is None
    assert packed_view(ds.isel(variants=slice(5, 50)).chunk({"variants": 7})) is not None
    reordered = ds.isel(samples=np.arange(ds.sizes["samples"])[::-1])
    assert packed_view(reordered) is None  # the store's sample order is what is packed
    reports.write_freq(changed, tmp_path / "changed", progress=False)
    reports.write_freq(
        open_store(store, packed=False).assign(call_genotype=changed["call_genotype"]),
        tmp_path / "expected",
        progress=False,
    )
    assert (tmp_path / "changed.afreq").read_bytes() == (tmp_path / "expected.afreq").read_bytes()


@pytest.mark.parametrize("name", ["demo", "sex_chromosomes_chunked", "triploid", "multiallelic"])
def test_packed__dataset_functions_identical_to_the_stores(stores, name):
    """tresor.stats on a Dataset (what a notebook and a dask-gateway cluster run: tables go
    the direct way only without a distributed Client): the same arrays from either path."""
    import xarray as xr

    from tresor.stats import (
        hardy_weinberg_test,
        linear_regression_statistics,
        sample_stats,
        variant_stats,
    )
    from tresor.stats.aggregation import sample_call_rate

    store, _, _ = stores[name]
    n = open_store(store).sizes["samples"]
    rng = np.random.default_rng(0)
    phenotype = xr.DataArray(rng.normal(size=n), dims="samples")
    for selection in ({}, {"samples": np.arange(0, n, 3)}, {"variants": slice(2, None, 2)}):
        results = []
        for packed in (True, False):
            ds = open_store(store, packed=packed).isel(**selection)
            assert (packed_view(ds) is not None) == packed
            y = phenotype.isel(samples=selection.get("samples", slice(None)))
            computed = xr.merge(
                [
                    hardy_weinberg_test(variant_stats(ds), merge=False),
                    variant_stats(ds, merge=False),
                    sample_stats(ds, merge=False),
                    sample_call_rate(ds, merge=False),
                    linear_regression_statistics(ds, y, merge=False),
                ],
                compat="no_conflicts",
            ).compute()
            results.append(computed)
        xr.testing.assert_identical(results[0], results[1])


@pytest.mark.parametrize("name", ["demo", "multiallelic", "no_ids_chunked", "sex_chromosomes"])
def test_labels__packed_as_the_tables_print_them(stores, name):
    """The companion's labels are the store's as VariantLabels makes them (IDs named
    CHROM:POS:REF:ALT where absent, ALT joined), for runs and any selection of rows, and the
    direct way (CLI) reads them."""
    from tresor.stats.direct import PackedStore
    from tresor.stats.packed import open_companion
    from tresor.stats.tables import StoreLabels

    store, _, _ = stores[name]
    companion = open_companion(store)
    assert companion.has_labels and PackedStore.open(store) is not None
    n = companion.layout.n_variants
    expected = StoreLabels.for_store(store).labels(np.arange(n))
    packed = companion.row_labels(np.arange(n))
    assert packed.text.strings() == expected.row_text().strings()
    assert np.array_equal(packed.n_alleles, expected.n_alleles)
    assert packed.prefix() == expected.prefix()
    rows = np.array([n - 1, 0, n // 2, n // 2])
    assert companion.row_labels(rows).text.strings() == packed.take(rows).text.strings()
    if name == "multiallelic":  # .hardy's alleles one by one, back from the text
        many = np.flatnonzero(expected.n_alleles > 2)
        assert len(many)
        back = packed.take(many).variant_labels()
        for i, r in enumerate(many.tolist()):
            k = int(expected.n_alleles[r])
            mine = back.alleles.take(i * back.width + np.arange(k)).strings()
            assert mine == expected.alleles.take(r * expected.width + np.arange(k)).strings()
        assert back.alt.strings() == expected.alt.take(many).strings()
        assert back.prefix() == expected.prefix(many)
        assert back.ref.strings() == expected.ref.take(many).strings()


def test_stale_labels__a_changed_label_chunk_is_noticed_and_the_store_read(stores, tmp_path):
    """A position changed in the store after packing: the companion is stale (its labels
    would print the old one), the tables come from the store with the new one; packing again
    makes it current."""
    import zarr

    from tresor.stats.direct import PackedStore

    store, _, _ = stores["sex_chromosomes_chunked"]
    store = copy_store(store, tmp_path)
    pack_store(store)
    assert PackedStore.open(store) is not None
    positions = zarr.open_array(str(store), path="variant_position", mode="r+")
    moved = int(positions[60]) + 1
    positions[60] = moved
    with pytest.warns(StalePackWarning, match="1 chunks of the store's variant labels changed"):
        ds = open_store(store)
    assert packed_view(ds) is None and PackedStore.open(store) is None
    reports.write_freq(ds, tmp_path / "after", progress=False)
    reports.write_freq(open_store(store, packed=False), tmp_path / "store", progress=False)
    after = (tmp_path / "after.afreq").read_bytes()
    assert after == (tmp_path / "store.afreq").read_bytes() and f"\t{moved}\t".encode() in after
    pack_store(store)
    assert PackedStore.open(store) is not None
    reports.write_freq(open_store(store), tmp_path / "packed", progress=False)
    assert (tmp_path / "packed.afreq").read_bytes() == after


def test_old_companion__an_earlier_format_version_is_ignored_with_a_warning(stores, tmp_path):
    """A companion of format version 1 (LZ4 words, no labels) is never read as the current
    format: the analyses read the store and say how to pack again."""
    import json

    store, _, _ = stores["no_ids_chunked"]
    store = copy_store(store, tmp_path)
    pack_store(store)
    attrs_path = companion_path(store) / ".zattrs"
    attrs = json.loads(attrs_path.read_text())
    attrs_path.chmod(0o644)
    attrs_path.write_text(json.dumps({**attrs, "version": 1}))
    with pytest.warns(StalePackWarning, match="format version 1.*tresor datasets pack"):
        ds = open_store(store)
    assert packed_view(ds) is None


def test_lz4_companion__read_as_the_uncompressed_one(stores, tmp_path):
    """``--codec lz4``: the same tables, every array of the companion compressed."""
    import json

    store, _, _ = stores["sex_chromosomes_chunked"]
    store = copy_store(store, tmp_path)
    pack_store(store, codec="lz4")
    meta = json.loads((companion_path(store) / "genotypes" / ".zarray").read_text())
    assert meta["compressor"]["id"] == "lz4"
    run_all(open_store(store), tmp_path / "lz4", pca=False)
    run_all(open_store(store, packed=False), tmp_path / "store", pca=False)
    assert_same_files(tmp_path / "lz4", tmp_path / "store")
