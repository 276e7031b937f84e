"""PCA of samples as plink2 --pca approx: variant selection, LD pruning, randomized PCA on Dask.

The matrix is plink2's variance-standardized relationship matrix G = Z'Z / M, where Z holds
(dosage - 2p) / sqrt(2p(1 - p)) per biallelic variant and diploid call, 0 for a missing call
(mean imputation, which plink2 --pca approx and --pca meanimpute use too), and M is the number
of variants. A haploid call (chrX of a man, chrY, chrM) is standardized as one allele,
(dosage - p) / sqrt(p(1 - p)), so it weighs as much as a diploid call; p counts each call's
alleles. Calls with more than two alleles are left out (as missing), and counted per variant.
Its top eigenvectors are found by a randomized block Krylov method (as Galinsky et
al.'s FastPCA that plink2 approx implements): every pass over the genotypes multiplies G by a
thin (samples x block) matrix, chunk by chunk, so memory stays flat in the number of variants;
each pass decompresses each chunk once.

LD pruning scans windows of variants as scikit-allel's ``locate_unlinked`` (and plink2
--indep-pairwise with a window in variants) per Zarr chunk, with the r^2 values from BLAS
products of standardized dosages (scikit-allel's own loop was the slowest step of a PCA run).
"""

from __future__ import annotations

from typing import NamedTuple

import dask.array as da
import numpy as np
import xarray as xr

from tresor.core.errors import ParameterError
from tresor.stats import variables
from tresor.stats.aggregation import variant_n_alleles, variant_stats
from tresor.stats.blocks import genotype_blocks, packed_genotypes
from tresor.stats.packed import packed_view


def _every_sample_blocks(ds: xr.Dataset) -> da.Array:
    """call_genotype with every sample in one chunk: decoded from the packed companion when
    there is a current one (the same calls), else from the store."""
    view = packed_view(ds)
    if view is not None:
        return packed_genotypes(view)
    gt = genotype_blocks(ds[variables.call_genotype].data)
    if len(gt.chunks[1]) > 1:
        gt = gt.rechunk({1: -1})
    return gt


def select_pca_variants(
    ds: xr.Dataset, *, min_maf: float = 0.01, min_call_rate: float = 0.95
) -> xr.Dataset:
    """Biallelic variants with MAF >= ``min_maf`` and call rate >= ``min_call_rate``.

    Computes the counts (one pass) and returns ``ds`` indexed to those variants.
    """
    stats = variant_stats(ds, merge=False)
    keep = (
        (variant_n_alleles(ds) == 2)
        & (stats[variables.variant_minor_allele_frequency] >= min_maf)
        & (stats[variables.variant_call_rate] >= min_call_rate)
    )
    index = np.flatnonzero(keep.values)
    if len(index) < 2:
        raise ParameterError(
            f"only {len(index)} biallelic variants have MAF >= {{min_maf}} and call rate >= "
            "{min_call_rate}; PCA needs at least 2: lower either",
            min_maf=min_maf,
            min_call_rate=min_call_rate,
        )
    return ds.isel(variants=index)


def ld_prune(
    ds: xr.Dataset,
    *,
    window: int = 50,
    step: int = 5,
    threshold: float = 0.2,
    min_maf: float = 0.0,
    min_call_rate: float = 0.0,
    merge: bool = True,
) -> xr.Dataset:
    """``variant_ld_keep``: True for variants kept by r^2 pruning (lazy, one pass).

    Only biallelic, polymorphic variants with MAF >= ``min_maf`` and call rate >=
    ``min_call_rate`` take part (others are never kept). Within each window of ``window`` of
    them, moving ``step`` at a time, of two variants with r^2 above ``threshold`` the later one
    is dropped, as scikit-allel's ``locate_unlinked`` does (plink2 --indep-pairwise drops the
    one with the lower MAF instead). r is the correlation of standardized ALT dosages with
    missing calls at the mean; without missing calls it is scikit-allel's r exactly. Windows
    restart at each Zarr chunk, so a few more variants are kept near chunk boundaries.
    """
    from tresor.stats.pca_kernels import filtered_standardized, prune_windows

    variables.validate(ds, variables.call_genotype)
    gt = _every_sample_blocks(ds)
    biallelic = (variant_n_alleles(ds) == 2).data.rechunk((gt.chunks[0],))

    def prune(block: np.ndarray, two: np.ndarray) -> np.ndarray:
        keep = np.zeros(block.shape[0], dtype=bool)
        rows, z, _ = filtered_standardized(block, two[:, 0, 0], min_maf, min_call_rate)
        kept = np.ones(len(rows), dtype=bool)
        prune_windows(z, kept, window, step, threshold)
        keep[rows] = kept
        return keep

    keep = da.map_blocks(
        prune, gt, biallelic[:, None, None], drop_axis=(1, 2), dtype=bool, meta=np.empty(0, bool)
    )
    new = variables.create_dataset({variables.variant_ld_keep: (("variants",), keep)})
    return variables.conditional_merge(ds, new, merge)


class Pruned(NamedTuple):
    """What :func:`prune_and_standardize` found, per variant of the input unless said."""

    keep: np.ndarray  # bool: kept by selection and LD pruning
    standardized: np.ndarray | None  # (kept variants, samples) float32, or None if too big
    left_out: np.ndarray  # int: calls with more than two alleles, left out of PCA


def prune_and_standardize(
    ds: xr.Dataset,
    *,
    window: int = 50,
    step: int = 5,
    threshold: float = 0.2,
    min_maf: float = 0.0,
    min_call_rate: float = 0.0,
    memory_limit: float = 1e9,
    batch: int = 16,
) -> Pruned:
    """:func:`ld_prune` and the standardized dosages of the kept variants, in one pass.

    Returns :class:`Pruned`: ``keep`` a boolean per variant, ``standardized`` the (kept
    variants, samples) float32 matrix that :func:`pca` takes as ``standardized``, or None once
    it would pass ``memory_limit`` bytes (then :func:`pca` reads the kept variants itself), and
    ``left_out``. Chunks are computed ``batch`` at a time.
    """
    import dask

    from tresor.stats.pca_kernels import filtered_standardized, prune_windows

    variables.validate(ds, variables.call_genotype)
    gt = _every_sample_blocks(ds)
    biallelic = (variant_n_alleles(ds) == 2).data.rechunk((gt.chunks[0],)).to_delayed().ravel()

    def one(block: np.ndarray, two: np.ndarray):
        keep = np.zeros(block.shape[0], dtype=bool)
        rows, z, left_out = filtered_standardized(block, two, min_maf, min_call_rate)
        kept = np.ones(len(rows), dtype=bool)
        prune_windows(z, kept, window, step, threshold)
        keep[rows] = kept
        return keep, z[kept], left_out

    blocks = gt.to_delayed().ravel()
    keeps, zs, left, size = [], [], [], 0
    for start in range(0, len(blocks), batch):
        parts = [
            dask.delayed(one)(block, two)
            for block, two in zip(
                blocks[start : start + batch], biallelic[start : start + batch], strict=True
            )
        ]
        for keep, z, left_out in dask.compute(*parts):
            keeps.append(keep)
            left.append(left_out)
            size += z.nbytes
            if zs is not None and size <= memory_limit:
                zs.append(z)
            else:
                zs = None
    z = np.concatenate(zs, axis=0) if zs else None
    if not keeps:
        return Pruned(np.zeros(0, bool), z, np.zeros(0, np.int32))
    return Pruned(np.concatenate(keeps), z, np.concatenate(left))


def _gram_product(rows: np.ndarray, basis: np.ndarray, standardized: bool) -> np.ndarray:
    """[Z' (Z basis) | polymorphic variants] for one block of call codes (every sample; see
    :mod:`tresor.stats.pca_kernels`), or of rows already standardized."""
    from tresor.stats.pca_kernels import standardize

    z = rows if standardized else standardize(rows)
    out = np.empty((1, z.shape[1], basis.shape[1] + 1))
    out[0, :, :-1] = z.T @ (z @ basis.astype(np.float32))
    out[0, :, -1] = np.count_nonzero(z.any(axis=1))
    return out


def check_components(n_components: int, n_samples: int) -> None:
    """Raise :class:`ParameterError` unless PCA of ``n_samples`` can give ``n_components``."""
    if n_samples < 2:
        raise ParameterError(
            f"PCA needs at least 2 samples, this selection has {n_samples} ({{n_components}})",
            n_components=n_components,
        )
    if not 1 <= n_components < n_samples:
        raise ParameterError(
            f"{{n_components}} is not possible with {n_samples} samples: PCA of n samples has "
            f"at most n - 1 components; ask for 1 to {n_samples - 1}",
            n_components=n_components,
        )


def pca(
    ds: xr.Dataset,
    *,
    n_components: int = 10,
    block_size: int | None = None,
    n_iter: int = 6,
    seed: int = 0,
    memory_limit: float = 1e9,
    standardized: np.ndarray | None = None,
    progress: bool = True,
    merge: bool = True,
) -> xr.Dataset:
    """Top principal components of the samples (plink2 --pca approx semantics).

    ``ds`` should hold the variants to use (e.g. those :func:`ld_prune` keeps); multi-allelic
    variants are ignored (a site where a second ALT allele occurs counts as monomorphic).
    Haploid calls count as one allele, calls with more than two alleles are left out (see the
    module). The calls (one byte per genotype) are read once and kept in
    memory when they take at most ``memory_limit`` bytes, else re-read from the store on each
    of the ``n_iter + 1`` passes; or pass ``standardized`` rows from
    :func:`prune_and_standardize` to skip reading. Returns ``sample_pca_projection``
    (samples, components; unit-length eigenvectors, as plink2's .eigenvec) and
    ``pca_eigenvalue`` (as .eigenval).
    """
    from tqdm.auto import tqdm

    from tresor.stats.pca_kernels import biallelic_dosage

    n_samples = ds.sizes["samples"]
    check_components(n_components, n_samples)
    block_size = block_size or max(2 * n_components, n_components + 10)
    block_size = min(block_size, n_samples)
    if standardized is not None:
        rows = da.from_array(np.asarray(standardized, dtype=np.float32), chunks=(4096, -1))
    else:
        gt = _every_sample_blocks(ds)
        rows = da.map_blocks(biallelic_dosage, gt, drop_axis=2, dtype=np.int8)
        if rows.nbytes <= memory_limit:
            rows = rows.persist()
    polymorphic = 0

    def gram_times(basis: np.ndarray) -> np.ndarray:
        """G @ basis with G = Z'Z / M, one pass over the dosages."""
        nonlocal polymorphic
        parts = da.map_blocks(
            _gram_product,
            rows,
            basis=basis,
            standardized=standardized is not None,
            new_axis=2,
            dtype=np.float64,
            chunks=((1,) * len(rows.chunks[0]), (n_samples,), (basis.shape[1] + 1,)),
            meta=np.empty((0, 0, 0)),
        )
        total = parts.sum(axis=0).compute()
        polymorphic = int(total[0, -1])
        if polymorphic < n_components:
            raise ParameterError(
                f"only {polymorphic} polymorphic biallelic variants for {{n_components}}: PCA "
                "needs at least one variant per component; ask for fewer components",
                n_components=n_components,
            )
        return total[:, :-1] / polymorphic

    rng = np.random.default_rng(seed)
    q, _ = np.linalg.qr(rng.standard_normal((n_samples, block_size)))
    blocks, images = [q], []
    for _ in tqdm(range(n_iter + 1), desc="PCA passes", disable=not progress, leave=False):
        image = gram_times(blocks[-1])
        images.append(image)
        basis = np.hstack(blocks)
        room = n_samples - basis.shape[1]
        if len(images) == n_iter + 1 or room == 0:
            break
        # next Krylov block: the part of the image outside the basis (Gram-Schmidt twice)
        nxt = image - basis @ (basis.T @ image)
        nxt -= basis @ (basis.T @ nxt)
        u, s, _ = np.linalg.svd(nxt, full_matrices=False)
        significant = s > 1e-9 * np.linalg.norm(image, 2)
        if not significant.any():
            break  # the basis already holds an invariant subspace: exact
        blocks.append(u[:, significant][:, :room])
    basis = np.hstack(blocks)
    projected = basis.T @ np.hstack(images)
    projected = (projected + projected.T) / 2
    values, vectors = np.linalg.eigh(projected)
    order = np.argsort(values)[::-1][:n_components]
    components = basis @ vectors[:, order]
    # a reproducible sign: the largest-magnitude entry of each component is positive
    signs = np.sign(components[np.abs(components).argmax(axis=0), range(len(order))])
    components *= np.where(signs == 0, 1, signs)
    new = variables.create_dataset(
        {
            variables.sample_pca_projection: (("samples", "components"), components),
            variables.pca_eigenvalue: (("components",), values[order]),
        }
    )
    new.attrs["pca_variants"] = polymorphic
    return variables.conditional_merge(ds, new, merge)
