"""VCF Zarr store -> validated, lazy, read-only xarray.Dataset.

Any store written by bio2zarr's ``vcf2zarr`` opens here; names follow the VCF Zarr specification
(``call_genotype`` (variants, samples, ploidy) int8 with -1 missing, ``variant_position``, ...).
Arrays stay Dask arrays chunked as stored, so memory does not grow with the number of variants.
"""

from __future__ import annotations

import os
from pathlib import Path

import xarray as xr

from tresor.core.errors import NotVCFZarrError

#: Arrays every analysis relies on; bio2zarr always writes them.
REQUIRED_VARIABLES = (
    "call_genotype",
    "variant_position",
    "variant_contig",
    "variant_allele",
    "sample_id",
    "contig_id",
)


def open_store(path: str | os.PathLike, *, packed: bool = True) -> xr.Dataset:
    """Open a VCF Zarr store read-only, lazily, and check that it is one.

    When the store has a current packed genotype companion (:mod:`tresor.stats.packed`) and
    ``packed`` is True, the Dataset is linked to it and tresor.stats reads genotypes from it
    (the same results, faster); a stale one is ignored with a warning. Raises
    :class:`NotVCFZarrError` with what is wrong and how to make a store.
    """
    import zarr

    path = Path(path)
    hint = "make one from a VCF with: vcf2zarr convert input.vcf.gz output.vcz"
    if not path.exists():
        raise NotVCFZarrError(f"{path} does not exist; {hint}")
    if not path.is_dir():
        raise NotVCFZarrError(f"{path} is a file, not a VCF Zarr store (a directory); {hint}")
    if not any((path / name).exists() for name in (".zgroup", "zarr.json")):
        raise NotVCFZarrError(f"{path} is not a Zarr store (no .zgroup or zarr.json); {hint}")
    store = zarr.storage.LocalStore(path, read_only=True)
    try:
        ds = xr.open_zarr(
            store,
            consolidated=False,
            # keep int8 genotypes and their -1/-2 sentinels: no float conversion to NaN
            mask_and_scale=False,
            concat_characters=False,
        )
    except Exception as e:  # zarr raises several types for unreadable metadata
        raise NotVCFZarrError(f"{path} could not be opened as a Zarr store: {e}; {hint}") from e
    missing = [name for name in REQUIRED_VARIABLES if name not in ds]
    if missing:
        raise NotVCFZarrError(
            f"{path} is a Zarr store but not VCF Zarr: it has no {', '.join(missing)}; {hint}"
        )
    if ds["call_genotype"].dims != ("variants", "samples", "ploidy"):
        raise NotVCFZarrError(
            f"{path}: call_genotype has dimensions {ds['call_genotype'].dims}, expected "
            "(variants, samples, ploidy) as in the VCF Zarr specification"
        )
    ds.attrs["tresor_store_path"] = str(path.resolve())
    from tresor.stats.lineage import link

    ds = link(ds)
    if packed:
        from tresor.stats.packed import attach, open_companion

        if (companion := open_companion(path)) is not None:
            ds = attach(ds, companion)
    return ds
