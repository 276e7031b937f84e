"""Whole analyses that write plink2-format files: what each ``tresor`` command does.

Each function takes an opened (and possibly subset) Dataset and an output prefix, writes
``PREFIX.<plink2 suffix>`` files and returns their paths. The CLI (:mod:`tresor.cli.stats`)
only parses options and calls these; notebooks can call them too.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import xarray as xr

from tresor.stats import tables, variables
from tresor.stats.aggregation import sample_stats, variant_stats
from tresor.stats.selection import variant_filter


def _path(prefix: str | os.PathLike, suffix: str) -> Path:
    prefix = Path(prefix)
    return prefix.with_name(prefix.name + suffix)


def _sample_ids(ds: xr.Dataset) -> list[str]:
    return [str(x) for x in np.asarray(ds[variables.sample_id].values).tolist()]


def write_freq(
    ds: xr.Dataset,
    out: str | os.PathLike,
    *,
    counts: bool = False,
    min_maf: float = 0.0,
    min_call_rate: float = 0.0,
    progress: bool = True,
    digits: int = tables.DIGITS,
) -> Path:
    """PREFIX.afreq (ALT frequencies) or, with ``counts``, PREFIX.acount (ALT counts)."""
    ds = variant_stats(ds)
    ds["variant_keep"] = variant_filter(ds, min_maf=min_maf, min_call_rate=min_call_rate)
    path = _path(out, ".acount" if counts else ".afreq")
    tables.write_variant_table(
        path,
        ds,
        tables.AFREQ_VARIABLES,
        tables.ACOUNT_HEADER if counts else tables.AFREQ_HEADER,
        tables.afreq_rows(counts),
        keep="variant_keep",
        progress=progress,
        digits=digits,
    )
    return path


def write_hardy(
    ds: xr.Dataset,
    out: str | os.PathLike,
    *,
    min_maf: float = 0.0,
    min_call_rate: float = 0.0,
    progress: bool = True,
    digits: int = tables.DIGITS,
) -> Path:
    """PREFIX.hardy: genotype counts and exact HWE p-values per variant (and allele)."""
    from tresor.stats.hwe import hardy_weinberg_test

    ds = hardy_weinberg_test(variant_stats(ds))
    ds["variant_keep"] = variant_filter(ds, min_maf=min_maf, min_call_rate=min_call_rate)
    path = _path(out, ".hardy")
    tables.write_variant_table(
        path,
        ds,
        tables.HARDY_VARIABLES,
        tables.HARDY_HEADER,
        tables.hardy_rows,
        keep="variant_keep",
        progress=progress,
        digits=digits,
    )
    return path


def write_missing(
    ds: xr.Dataset, out: str | os.PathLike, *, progress: bool = True, digits: int = tables.DIGITS
) -> list[Path]:
    """PREFIX.smiss and PREFIX.vmiss: missing calls per sample and per variant."""
    with tables.progress_bar(progress, "missing calls per sample"):
        per_sample = sample_stats(ds, merge=False).compute()
    n_variants = ds.sizes["variants"]
    smiss = _path(out, ".smiss")
    tables.write_sample_table(
        smiss,
        _sample_ids(ds),
        tables.SMISS_HEADER,
        [
            tables.fmt_int(per_sample[variables.sample_n_missing].values),
            [str(n_variants)] * ds.sizes["samples"],
            tables.fmt(per_sample[variables.sample_n_missing].values / n_variants, digits),
        ],
    )
    vmiss = _path(out, ".vmiss")
    tables.write_variant_table(
        vmiss,
        variant_stats(ds),
        [variables.variant_n_called],
        tables.VMISS_HEADER,
        tables.vmiss_rows(ds.sizes["samples"]),
        progress=progress,
        digits=digits,
    )
    return [smiss, vmiss]


def write_het(
    ds: xr.Dataset, out: str | os.PathLike, *, progress: bool = True, digits: int = tables.DIGITS
) -> Path:
    """PREFIX.het: observed and expected homozygous calls and F per sample."""
    with tables.progress_bar(progress, "heterozygosity per sample"):
        per_sample = sample_stats(ds, merge=False).compute()
    n_hom = per_sample[variables.sample_n_hom].values
    path = _path(out, ".het")
    tables.write_sample_table(
        path,
        _sample_ids(ds),
        tables.HET_HEADER,
        [
            tables.fmt_int(n_hom),
            tables.fmt(per_sample[variables.sample_expected_hom].values, digits),
            tables.fmt_int(n_hom + per_sample[variables.sample_n_het].values),
            tables.fmt(per_sample[variables.sample_inbreeding].values, digits),
        ],
    )
    return path


def write_gwas(
    ds: xr.Dataset,
    out: str | os.PathLike,
    pheno: str | os.PathLike,
    pheno_names: Sequence[str],
    *,
    covar: str | os.PathLike | None = None,
    covar_names: Sequence[str] | None = None,
    min_maf: float = 0.0,
    min_call_rate: float = 0.0,
    plots: bool = True,
    progress: bool = True,
    digits: int = tables.DIGITS,
) -> list[Path]:
    """PREFIX.NAME.glm.linear or .glm.logistic.hybrid per phenotype, plus Manhattan and QQ
    PNGs (PREFIX.NAME.manhattan.png, PREFIX.NAME.qq.png) when ``plots``.
    """
    from tresor.stats.association import gwas_linear, gwas_logistic
    from tresor.stats.phenotypes import load_covariates, load_phenotype

    covariates = load_covariates(ds, covar, covar_names) if covar is not None else None
    base = variant_stats(ds)
    keep = variant_filter(base, min_maf=min_maf, min_call_rate=min_call_rate)
    written = []
    for name in pheno_names:
        phenotype, binary = load_phenotype(ds, pheno, name)
        result = (gwas_logistic if binary else gwas_linear)(base, phenotype, covariates)
        result["variant_keep"] = keep
        path = _path(out, f".{name}.glm.logistic.hybrid" if binary else f".{name}.glm.linear")
        names = [*tables.GLM_VARIABLES, *([variables.variant_glm_firth] if binary else [])]
        tables.write_variant_table(
            path,
            result,
            names,
            tables.GLM_LOGISTIC_HEADER if binary else tables.GLM_LINEAR_HEADER,
            tables.glm_rows(binary),
            keep="variant_keep",
            progress=progress,
            digits=digits,
        )
        written.append(path)
        if plots:
            from tresor.stats.plots import save_gwas_plots

            kind = "logistic" if binary else "linear"
            written += save_gwas_plots(path, title=f"{name} ({kind})")
    return written


def write_pca(
    ds: xr.Dataset,
    out: str | os.PathLike,
    *,
    n_components: int = 10,
    min_maf: float = 0.01,
    min_call_rate: float = 0.95,
    ld_window: int = 50,
    ld_step: int = 5,
    ld_r2: float = 0.2,
    prune: bool = True,
    groups: Sequence[str] | None = None,
    seed: int = 0,
    memory_limit: float = 1e9,
    plot: bool = True,
    progress: bool = True,
    digits: int = tables.DIGITS,
) -> list[Path]:
    """PREFIX.eigenvec, PREFIX.eigenval, PREFIX.prune.in (variant IDs used) and PREFIX.pca.png.

    Variants: biallelic, MAF >= ``min_maf``, call rate >= ``min_call_rate``, then LD-pruned
    (``ld_window`` variants, step ``ld_step``, r^2 > ``ld_r2``) unless ``prune`` is False.
    Pruning and reading the kept genotypes are one pass when the kept genotypes, as float32,
    fit in ``memory_limit`` bytes, two otherwise.
    """
    from tresor.stats.pca import pca, prune_and_standardize, select_pca_variants

    standardized = None
    if prune:
        options = {
            "window": ld_window,
            "step": ld_step,
            "threshold": ld_r2,
            "min_maf": min_maf,
            "min_call_rate": min_call_rate,
        }
        with tables.progress_bar(progress, "selecting and LD-pruning variants for PCA"):
            keep, standardized = prune_and_standardize(ds, memory_limit=memory_limit, **options)
        selected = ds.isel(variants=np.flatnonzero(keep))
    else:
        with tables.progress_bar(progress, "selecting variants for PCA"):
            selected = select_pca_variants(ds, min_maf=min_maf, min_call_rate=min_call_rate)
    result = pca(
        selected,
        n_components=n_components,
        seed=seed,
        memory_limit=memory_limit,
        standardized=standardized,
        progress=progress,
    )
    ids = _sample_ids(ds)
    vectors = result[variables.sample_pca_projection].values
    values = result[variables.pca_eigenvalue].values
    eigenvec = _path(out, ".eigenvec")
    tables.write_sample_table(
        eigenvec,
        ids,
        ("#IID", *(f"PC{i + 1}" for i in range(vectors.shape[1]))),
        [tables.fmt(vectors[:, i], digits) for i in range(vectors.shape[1])],
    )
    eigenval = _path(out, ".eigenval")
    eigenval.write_text("\n".join(tables.fmt(values, digits)) + "\n")
    prune_in = _path(out, ".prune.in")
    ids = selected[[v for v in ("variant_id", "variant_id_mask") if v in selected]].compute()
    labels = tables.VariantLabels.ids(ids)
    prune_in.write_text("\n".join(labels) + "\n")
    written = [eigenvec, eigenval, prune_in]
    if plot:
        from tresor.stats.plots import save_pca_plot

        written.append(
            save_pca_plot(_path(out, ".pca.png"), vectors, values, groups, Path(out).name)
        )
    return written
