"""Small in-memory Datasets in VCF Zarr naming for the tresor.stats unit tests."""

from __future__ import annotations

import numpy as np
import xarray as xr


def random_genotypes(
    rng: np.random.Generator,
    n_variants: int,
    n_samples: int,
    *,
    n_alleles: int = 2,
    missing: float = 0.02,
) -> np.ndarray:
    """(variants, samples, 2) int8 calls with allele frequencies from a Beta distribution."""
    freqs = rng.dirichlet(np.full(n_alleles, 0.6), size=n_variants)
    g = np.empty((n_variants, n_samples, 2), dtype=np.int8)
    for v in range(n_variants):
        g[v] = rng.choice(n_alleles, size=(n_samples, 2), p=freqs[v])
    g[rng.random((n_variants, n_samples)) < missing] = -1
    return g


def dataset(
    g: np.ndarray,
    *,
    n_alleles: np.ndarray | None = None,
    variant_chunk: int = 7,
    sample_chunk: int | None = None,
) -> xr.Dataset:
    """A Dataset like one opened from a bio2zarr store, chunked as asked."""
    n_variants, n_samples, _ = g.shape
    width = int(g.max()) + 1 if n_alleles is None else int(np.max(n_alleles))
    width = max(width, 2)
    if n_alleles is None:
        n_alleles = np.full(n_variants, width)
    letters = np.array(["A", "C", "G", "T", "AA", "CC"][:width], dtype=object)
    alleles = np.where(np.arange(width)[None, :] < n_alleles[:, None], letters[None, :], "")
    ds = xr.Dataset(
        {
            "call_genotype": (("variants", "samples", "ploidy"), g),
            "variant_allele": (("variants", "alleles"), alleles.astype(str)),
            "variant_position": (("variants",), np.arange(1, n_variants + 1) * 100),
            "variant_contig": (("variants",), np.zeros(n_variants, dtype=np.int8)),
            "variant_id": (("variants",), np.array([f"v{i}" for i in range(n_variants)])),
            "sample_id": (("samples",), np.array([f"S{i:03d}" for i in range(n_samples)])),
            "contig_id": (("contigs",), np.array(["chr1"])),
        }
    )
    return ds.chunk({"variants": variant_chunk, "samples": sample_chunk or n_samples, "ploidy": -1})
