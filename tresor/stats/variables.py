"""The variables tresor.stats reads and writes, declared once: name, dimensions, kind, meaning.

Names follow VCF Zarr and sgkit: ``call_`` / ``variant_`` / ``sample_`` + quantity, over the
dimensions ``variants``, ``samples``, ``ploidy``, ``alleles`` (plus ``predictors`` for the
regression sufficient statistics and ``components`` for PCA). Every function checks its inputs
with :func:`validate` and builds its outputs with :func:`create_dataset`, so a variable that
does not match its declaration is an error at the boundary, not a wrong number later.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    import xarray as xr


@dataclasses.dataclass(frozen=True)
class Spec:
    """A declared variable. ``kind`` is a string of NumPy dtype kinds that are accepted."""

    name: str
    dims: tuple[str, ...]
    kind: str
    doc: str


SPECS: dict[str, Spec] = {}


def _spec(name: str, dims: tuple[str, ...], kind: str, doc: str) -> str:
    SPECS[name] = Spec(name, dims, kind, doc)
    return name


# --- inputs: VCF Zarr (bio2zarr) ---------------------------------------------------------
call_genotype = _spec(
    "call_genotype",
    ("variants", "samples", "ploidy"),
    "i",
    "Allele index of each call; -1 missing, -2 fill (lower ploidy).",
)
variant_allele = _spec(
    "variant_allele", ("variants", "alleles"), "OUT", "Alleles, REF first; '' pads."
)
variant_position = _spec("variant_position", ("variants",), "i", "1-based position.")
variant_contig = _spec("variant_contig", ("variants",), "i", "Index into contig_id.")
sample_id = _spec("sample_id", ("samples",), "OUT", "Sample identifier.")

# --- where each variant and sample lies in the store (tresor.stats.packed) ----------------
variant_store_index = _spec(
    "variant_store_index",
    ("variants",),
    "iu",
    "Row of the variant in the store, kept by isel: where its packed genotypes are.",
)
sample_store_index = _spec(
    "sample_store_index",
    ("samples",),
    "iu",
    "Column of the sample in the store, kept by isel: where its packed genotypes are.",
)

# --- allele and genotype counts (aggregation) ---------------------------------------------
variant_allele_count = _spec(
    "variant_allele_count",
    ("variants", "alleles"),
    "iu",
    "Observed copies of each allele in called genotypes (plink2 ALT_CTS for ALT alleles).",
)
variant_allele_total = _spec(
    "variant_allele_total",
    ("variants",),
    "iu",
    "Observed alleles in called genotypes (plink2 OBS_CT of .afreq).",
)
variant_allele_frequency = _spec(
    "variant_allele_frequency",
    ("variants", "alleles"),
    "f",
    "variant_allele_count / variant_allele_total (NaN when nothing is called).",
)
variant_n_alleles = _spec(
    "variant_n_alleles", ("variants",), "iu", "Number of alleles of the site (REF included)."
)
variant_n_called = _spec("variant_n_called", ("variants",), "iu", "Called genotypes.")
variant_n_haploid = _spec(
    "variant_n_haploid", ("variants",), "iu", "Called calls with one allele (haploid)."
)
variant_n_polyploid = _spec(
    "variant_n_polyploid", ("variants",), "iu", "Called calls with more than two alleles."
)
variant_call_rate = _spec(
    "variant_call_rate", ("variants",), "f", "variant_n_called / number of samples."
)
variant_allele_hom_count = _spec(
    "variant_allele_hom_count",
    ("variants", "alleles"),
    "iu",
    "Diploid calls homozygous for each allele (HOM_A1_CT of plink2 .hardy with A1 = allele).",
)
variant_allele_het_count = _spec(
    "variant_allele_het_count",
    ("variants", "alleles"),
    "iu",
    "Diploid calls carrying exactly one copy of each allele (HET_A1_CT of plink2 .hardy).",
)
variant_n_het = _spec("variant_n_het", ("variants",), "iu", "Heterozygous diploid calls.")
variant_minor_allele_frequency = _spec(
    "variant_minor_allele_frequency",
    ("variants",),
    "f",
    "1 - frequency of the most common allele (plink2's --maf definition).",
)
variant_major_allele = _spec(
    "variant_major_allele",
    ("variants",),
    "i",
    "Index of the most common allele (REF on ties); plink2 --glm omits it.",
)
sample_n_called = _spec("sample_n_called", ("samples",), "iu", "Called genotypes per sample.")
sample_n_missing = _spec("sample_n_missing", ("samples",), "iu", "Missing calls per sample.")
sample_call_rate = _spec(
    "sample_call_rate", ("samples",), "f", "sample_n_called / number of variants."
)
sample_n_het = _spec("sample_n_het", ("samples",), "iu", "Heterozygous diploid calls per sample.")
sample_heterozygosity = _spec(
    "sample_heterozygosity", ("samples",), "f", "sample_n_het / sample_n_called."
)
sample_n_hom = _spec(
    "sample_n_hom", ("samples",), "iu", "Homozygous diploid calls (plink2 --het O(HOM))."
)
sample_expected_hom = _spec(
    "sample_expected_hom",
    ("samples",),
    "f",
    "Expected homozygous calls given allele frequencies (plink2 --het E(HOM)).",
)
sample_inbreeding = _spec(
    "sample_inbreeding",
    ("samples",),
    "f",
    "Method-of-moments inbreeding coefficient F (plink2 --het F).",
)

# --- Hardy-Weinberg -------------------------------------------------------------------------
variant_hwe_p_value = _spec(
    "variant_hwe_p_value",
    ("variants", "alleles"),
    "f",
    "Exact HWE test of each allele against the others (Wigginton 2005); NaN for absent alleles.",
)

# --- association ----------------------------------------------------------------------------
variant_linreg_n = _spec(
    "variant_linreg_n", ("variants",), "iu", "Samples in the regression (plink2 OBS_CT)."
)
variant_linreg_xtx = _spec(
    "variant_linreg_xtx",
    ("variants", "predictors", "predictors_2"),
    "f",
    "X'X over predictors [covariates (intercept first), REF and ALT allele dosages].",
)
variant_linreg_xty = _spec(
    "variant_linreg_xty", ("variants", "predictors"), "f", "X'y over the same predictors."
)
variant_linreg_yty = _spec("variant_linreg_yty", ("variants",), "f", "y'y.")
variant_glm_a1 = _spec(
    "variant_glm_a1",
    ("variants", "alleles"),
    "b",
    "Alleles tested (plink2 A1): every allele but the major one.",
)
variant_glm_n = _spec("variant_glm_n", ("variants",), "iu", "Samples in the regression.")
variant_glm_beta = _spec(
    "variant_glm_beta", ("variants", "alleles"), "f", "Effect of one copy of the allele."
)
variant_glm_se = _spec("variant_glm_se", ("variants", "alleles"), "f", "Standard error.")
variant_glm_stat = _spec(
    "variant_glm_stat", ("variants", "alleles"), "f", "T (linear) or Wald Z (logistic)."
)
variant_glm_p_value = _spec("variant_glm_p_value", ("variants", "alleles"), "f", "P-value.")
variant_glm_error = _spec(
    "variant_glm_error",
    ("variants", "alleles"),
    "iu",
    "0 or a plink2 ERRCODE (see tresor.stats.association.ERRCODES).",
)
variant_glm_firth = _spec(
    "variant_glm_firth", ("variants",), "b", "Firth regression was used (plink2 FIRTH?)."
)

# --- LD pruning and PCA ---------------------------------------------------------------------
variant_ld_keep = _spec(
    "variant_ld_keep", ("variants",), "b", "Kept by LD pruning (plink2 .prune.in)."
)
sample_pca_projection = _spec(
    "sample_pca_projection",
    ("samples", "components"),
    "f",
    "Principal component scores, unit-length columns (plink2 .eigenvec).",
)
pca_eigenvalue = _spec(
    "pca_eigenvalue",
    ("components",),
    "f",
    "Eigenvalues of the variance-standardized relationship matrix (plink2 .eigenval).",
)


def validate(ds: xr.Dataset, *names: str) -> None:
    """Check that ``ds`` has each variable with its declared dimensions and kind."""
    for name in names:
        spec = SPECS[name]
        if name not in ds:
            raise ValueError(f"the dataset has no variable {name!r} ({spec.doc})")
        var = ds[name]
        if var.dims != spec.dims:
            raise ValueError(f"{name} has dimensions {var.dims}, expected {spec.dims}")
        if var.dtype.kind not in spec.kind:
            raise ValueError(f"{name} has dtype {var.dtype}, expected kind {spec.kind!r}")


def create_dataset(data_vars: dict[str, xr.DataArray], attrs: dict | None = None) -> xr.Dataset:
    """A Dataset of declared variables, each checked against its declaration."""
    import xarray as xr

    ds = xr.Dataset(data_vars, attrs=attrs or {})
    validate(ds, *(name for name in data_vars if name in SPECS))
    for name in data_vars:
        if name in SPECS:
            ds[name].attrs.setdefault("comment", SPECS[name].doc)
    return ds


def conditional_merge(ds: xr.Dataset, new: xr.Dataset, merge: bool) -> xr.Dataset:
    """``ds`` with ``new``'s variables added (replacing same-named ones), or ``new`` alone."""
    if not merge:
        return new
    return ds.assign(new.data_vars).assign_attrs({**ds.attrs, **new.attrs})
