"""Randomized PCA against an exact eigendecomposition; LD pruning as scikit-allel per chunk."""

from __future__ import annotations

import allel
import numpy as np
import pytest

from tests.unit.stats_data import dataset
from tresor.stats import ld_prune, pca, select_pca_variants
from tresor.stats.pca import prune_and_standardize


def structured_genotypes(rng, n_variants=400, per_pop=40):
    """Three populations with diverged allele frequencies, 1% missing calls."""
    base = rng.uniform(0.1, 0.9, n_variants)
    freqs = np.clip(base[None, :] + rng.normal(0, 0.12, (3, n_variants)), 0.02, 0.98)
    g = np.concatenate(
        [(rng.random((n_variants, per_pop, 2)) < f[:, None, None]).astype(np.int8) for f in freqs],
        axis=1,
    )
    g[rng.random(g.shape[:2]) < 0.01] = -1
    return g


def exact_pca(g):
    missing = (g < 0).any(-1)
    dosage = np.where(missing, np.nan, (g > 0).sum(-1))
    p = np.nanmean(dosage, axis=1) / 2
    z = np.nan_to_num((dosage - 2 * p[:, None]) / np.sqrt(2 * p * (1 - p))[:, None])
    values, vectors = np.linalg.eigh(z.T @ z / len(z))
    return values[::-1], vectors[:, ::-1]


@pytest.mark.parametrize("per_pop", [40, 10])  # 10: fewer samples than the Krylov basis
def test_pca__matches_exact_eigendecomposition(per_pop):
    g = structured_genotypes(np.random.default_rng(8), per_pop=per_pop)
    result = pca(dataset(g, variant_chunk=64), n_components=6, progress=False)
    values, vectors = exact_pca(g)
    np.testing.assert_allclose(result.pca_eigenvalue.values, values[:6], rtol=1e-4)
    for i in range(6):
        r = np.corrcoef(result.sample_pca_projection.values[:, i], vectors[:, i])[0, 1]
        assert abs(r) > 0.999, (i, r)
    norms = np.linalg.norm(result.sample_pca_projection.values, axis=0)
    np.testing.assert_allclose(norms, 1.0)


def test_pca__separates_the_populations():
    g = structured_genotypes(np.random.default_rng(9))
    pcs = pca(dataset(g), n_components=2, progress=False).sample_pca_projection.values
    groups = np.repeat([0, 1, 2], 40)
    centroids = np.array([pcs[groups == k].mean(0) for k in range(3)])
    spread = max(pcs[groups == k].std(0).max() for k in range(3))
    gaps = [np.linalg.norm(centroids[a] - centroids[b]) for a, b in ((0, 1), (0, 2), (1, 2))]
    assert min(gaps) > 2 * spread


def test_select_pca_variants__biallelic_common_well_called():
    rng = np.random.default_rng(10)
    g = structured_genotypes(rng, n_variants=50)
    g[0] = 0  # monomorphic
    g[1, :, 0] = 2  # a third allele: multi-allelic
    g[2, :60] = -1  # poorly called
    n_alleles = np.full(len(g), 2)
    n_alleles[1] = 3
    kept = select_pca_variants(dataset(g, n_alleles=n_alleles), min_maf=0.01, min_call_rate=0.95)
    ids = set(kept.variant_id.values.tolist())
    assert not ids & {"v0", "v1", "v2"}
    assert len(ids) > 40


def test_ld_prune__equals_scikit_allel_within_each_chunk():
    rng = np.random.default_rng(12)
    base = (rng.random((30, 80, 2)) < 0.4).astype(np.int8)
    g = np.repeat(base, 3, axis=0)  # every variant three times: perfect LD
    flip = rng.random(g.shape) < 0.05
    g = np.where(flip, 1 - g, g).astype(np.int8)
    keep = ld_prune(dataset(g, variant_chunk=45), window=10, step=3, threshold=0.2)
    keep = keep.variant_ld_keep.values
    for start in range(0, len(g), 45):
        block = g[start : start + 45]
        gn = allel.GenotypeArray(block).to_n_alt(fill=-1)
        expected = allel.locate_unlinked(gn, size=10, step=3, threshold=0.2)
        np.testing.assert_array_equal(keep[start : start + 45], expected)
    assert keep.sum() < len(g) / 2


def test_pca__needs_enough_components_and_variants():
    g = structured_genotypes(np.random.default_rng(13), n_variants=20, per_pop=4)
    with pytest.raises(ValueError, match="n_components=12 is not possible with 12 samples"):
        pca(dataset(g), n_components=12, progress=False)


def test_prune_and_standardize__one_pass_equals_prune_then_pca():
    g = structured_genotypes(np.random.default_rng(14), n_variants=300)
    ds = dataset(g, variant_chunk=64)
    keep, z, _ = prune_and_standardize(ds, min_maf=0.05, batch=2)
    expected = ld_prune(ds, min_maf=0.05).variant_ld_keep.values
    np.testing.assert_array_equal(keep, expected)
    selected = ds.isel(variants=np.flatnonzero(keep))
    fused = pca(selected, n_components=4, standardized=z, progress=False)
    read = pca(selected, n_components=4, memory_limit=0, progress=False)
    np.testing.assert_allclose(fused.pca_eigenvalue, read.pca_eigenvalue, rtol=1e-5)
    _, none, _ = prune_and_standardize(ds, min_maf=0.05, memory_limit=1000)
    assert none is None
