"""Whole analyses that write plink2-format files: what each ``tresor`` command does.

Each function takes an opened (and possibly subset) Dataset and an output prefix, writes
``PREFIX.<plink2 suffix>`` files and returns their paths. The CLI (:mod:`tresor.cli.stats`)
only parses options and calls these; notebooks can call them too.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Sequence
from pathlib import Path

import dask
import numpy as np
import xarray as xr

from tresor.core.errors import ParameterError
from tresor.stats import direct, tables, variables
from tresor.stats.aggregation import sample_call_rate, sample_stats, variant_stats
from tresor.stats.selection import nothing_passed, variant_filter


def _path(prefix: str | os.PathLike, suffix: str) -> Path:
    prefix = Path(prefix)
    return prefix.with_name(prefix.name + suffix)


def _sample_ids(ds: xr.Dataset) -> list[str]:
    return [str(x) for x in np.asarray(ds[variables.sample_id].values).tolist()]


def _nothing_passed(
    ds: xr.Dataset, paths: Sequence[Path], min_maf: float, min_call_rate: float
) -> ParameterError:
    """Remove ``paths`` (tables with a header only) and say which filter kept no variant."""
    for path in paths:
        path.unlink(missing_ok=True)
        tables.notes_path(path).unlink(missing_ok=True)
    stats = ds[[variables.variant_call_rate, variables.variant_minor_allele_frequency]].compute()
    return nothing_passed(
        stats[variables.variant_call_rate].values,
        stats[variables.variant_minor_allele_frequency].values,
        min_maf,
        min_call_rate,
    )


def _direct(ds: xr.Dataset) -> tuple[direct.PackedStore, np.ndarray, np.ndarray] | None:
    """(store, rows, samples) when freq, hardy and missing of ``ds`` can run straight on its
    store's packed companion (:mod:`tresor.stats.direct`, the same tables without Dask's tasks):
    a current companion, ``ds``'s calls and labels the store's own (selected with ``isel``),
    its samples in store order, and no distributed Client (whose cluster does the work)."""
    from tresor.stats.lineage import SAMPLE_INDEX, VARIANT_INDEX, store_path, store_variables
    from tresor.stats.packed import COMPANION_ATTR

    if COMPANION_ATTR not in ds.attrs or _distributed():
        return None
    names = [variables.call_genotype, VARIANT_INDEX, *tables.label_variables(ds)]
    if not store_variables(ds, *names) or SAMPLE_INDEX not in ds:
        return None
    samples = np.asarray(ds[SAMPLE_INDEX].values, dtype=np.int64)
    if len(samples) > 1 and np.any(np.diff(samples) <= 0):
        return None
    store = direct.PackedStore.open(store_path(ds))
    if store is None or store.companion.width != ds.sizes["alleles"]:
        return None
    rows = ds[VARIANT_INDEX].data.compute(scheduler="synchronous", optimize_graph=False)
    return store, np.asarray(rows, dtype=np.int64), samples


def _distributed() -> bool:
    """True when Dask's scheduler is a distributed Client's (dask-gateway's, a LocalCluster's)."""
    from dask.base import get_scheduler

    owner = getattr(get_scheduler(), "__self__", None)
    return owner is not None and type(owner).__module__.startswith("distributed")


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
    if (way := _direct(ds)) is not None:
        store, rows, samples = way
        return direct.write_freq(store, out, counts=counts, rows=rows, samples=samples,
                                 min_maf=min_maf, min_call_rate=min_call_rate, progress=progress,
                                 digits=digits)  # fmt: skip
    ds = variant_stats(ds)
    ds["variant_keep"] = variant_filter(ds, min_maf=min_maf, min_call_rate=min_call_rate)
    path = _path(out, ".acount" if counts else ".afreq")
    written = tables.write_variant_table(
        path,
        ds,
        tables.AFREQ_VARIABLES,
        tables.ACOUNT_HEADER if counts else tables.AFREQ_HEADER,
        tables.afreq_rows(counts),
        keep="variant_keep",
        progress=progress,
        digits=digits,
    )
    if written == 0:
        raise _nothing_passed(ds, [path], min_maf, min_call_rate)
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
    """PREFIX.hardy: genotype counts and exact HWE p-values per variant (and allele), over
    diploid calls; PREFIX.hardy.notes lists the variants whose other calls were left out."""
    if (way := _direct(ds)) is not None:
        store, rows, samples = way
        return direct.write_hardy(store, out, rows=rows, samples=samples, min_maf=min_maf,
                                  min_call_rate=min_call_rate, progress=progress,
                                  digits=digits)  # fmt: skip
    from tresor.stats.hwe import hardy_weinberg_test

    ds = hardy_weinberg_test(variant_stats(ds))
    ds["variant_keep"] = variant_filter(ds, min_maf=min_maf, min_call_rate=min_call_rate)
    path = _path(out, ".hardy")
    written = tables.write_variant_table(
        path,
        ds,
        tables.HARDY_VARIABLES,
        tables.HARDY_HEADER,
        tables.hardy_rows,
        keep="variant_keep",
        notes=tables.hardy_notes,
        progress=progress,
        digits=digits,
    )
    if written == 0:
        raise _nothing_passed(ds, [path], min_maf, min_call_rate)
    return path


def write_missing(
    ds: xr.Dataset, out: str | os.PathLike, *, progress: bool = True, digits: int = tables.DIGITS
) -> list[Path]:
    """PREFIX.smiss and PREFIX.vmiss: missing calls per sample and per variant."""
    if (way := _direct(ds)) is not None:
        store, rows, samples = way
        return direct.write_missing(store, out, rows=rows, samples=samples, progress=progress,
                                    digits=digits)  # fmt: skip
    with tables.progress_bar(progress, "missing calls per sample"):
        per_sample = sample_call_rate(ds, merge=False).compute()
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


@contextlib.contextmanager
def _naming(column_parameter: str, column_value, file_parameter: str, file_value):
    """Turn a PhenotypeError into a ParameterError naming the parameter to change: the column
    names for a problem with a column, the file otherwise."""
    from tresor.stats.phenotypes import PhenotypeError

    try:
        yield
    except PhenotypeError as e:
        parameter, value = (
            (column_parameter, column_value) if e.column else (file_parameter, str(file_value))
        )
        text = str(e).replace("{", "{{").replace("}", "}}")
        raise ParameterError(f"{{{parameter}}}: {text}", **{parameter: value}) from None


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

    covariates = None
    if covar is not None:
        with _naming("covar_names", covar_names, "covar", covar):
            covariates = load_covariates(ds, covar, covar_names)
    base = variant_stats(ds)
    keep = variant_filter(base, min_maf=min_maf, min_call_rate=min_call_rate)
    written = []
    for name in pheno_names:
        with _naming("pheno_names", name, "pheno", pheno):
            phenotype, binary = load_phenotype(ds, pheno, name)
        result = (gwas_logistic if binary else gwas_linear)(base, phenotype, covariates)
        result["variant_keep"] = keep
        path = _path(out, f".{name}.glm.logistic.hybrid" if binary else f".{name}.glm.linear")
        names = [*tables.GLM_VARIABLES, *([variables.variant_glm_firth] if binary else [])]
        rows = tables.write_variant_table(
            path,
            result,
            names,
            tables.GLM_LOGISTIC_HEADER if binary else tables.GLM_LINEAR_HEADER,
            tables.glm_rows(binary),
            keep="variant_keep",
            progress=progress,
            digits=digits,
        )
        if rows == 0:
            raise _nothing_passed(base, [*written, path], min_maf, min_call_rate)
        written.append(path)
        if plots:
            from tresor.stats.plots import save_gwas_plots

            kind = "logistic" if binary else "linear"
            written += save_gwas_plots(path, title=f"{name} ({kind})")
    return written


def _too_few_for_pca(
    ds: xr.Dataset,
    kept: int,
    n_components: int,
    min_maf: float,
    min_call_rate: float,
    ld_r2: float | None,
) -> ParameterError:
    """Why fewer than ``n_components`` variants are left for PCA, naming the parameter that
    removed them (one more pass over the counts; only on this error path)."""
    from tresor.stats.aggregation import variant_n_alleles

    stats = variant_stats(ds, merge=False)
    stats = stats[[variables.variant_call_rate, variables.variant_minor_allele_frequency]]
    stats = stats.assign(n_alleles=variant_n_alleles(ds)).compute()
    biallelic = stats["n_alleles"].values == 2
    rate = stats[variables.variant_call_rate].values
    maf = stats[variables.variant_minor_allele_frequency].values
    rate_ok = biallelic & (rate >= min_call_rate)
    varies = rate_ok & (maf > 0)
    maf_ok = varies & (maf >= min_maf)
    n, n_bi, n_rate = ds.sizes["variants"], biallelic.sum(), rate_ok.sum()
    n_var, n_maf = varies.sum(), maf_ok.sum()
    need = f"PCA with {{n_components}} needs at least {n_components}"
    values: dict = {"n_components": n_components}
    if n_bi < n_components:
        text = f"only {n_bi} of {n} variants are biallelic; {need}: ask for fewer components"
    elif n_rate < n_components:
        best = f"{rate[biallelic].max():.3g}"
        text = (
            f"only {n_rate} of {n_bi} biallelic variants have call rate >= {{min_call_rate}} "
            f"(the highest is {best}); {need}: lower the call-rate threshold"
        )
        values["min_call_rate"] = min_call_rate
    elif n_var < n_components:
        text = (
            f"only {n_var} of the {n_rate} biallelic variants with call rate >= "
            f"{{min_call_rate}} vary (the others are monomorphic); {need}: ask for fewer "
            "components"
        )
        values["min_call_rate"] = min_call_rate
    elif n_maf < n_components:
        text = (
            f"only {n_maf} of {n_var} variants that vary have MAF >= {{min_maf}}; {need}: "
            "lower the MAF threshold"
        )
        values["min_maf"] = min_maf
    elif ld_r2 is not None:
        text = (
            f"only {kept} of {n_maf} variants are left after LD pruning at {{ld_r2}}; {need}: "
            "raise the r^2 threshold or ask for fewer components"
        )
        values["ld_r2"] = ld_r2
    else:
        text = f"only {kept} variants are left; {need}: ask for fewer components"
    return ParameterError(text, **values)


def _pca_notes(path: Path, labels: tables.VariantLabels, left_out: np.ndarray) -> int:
    """PREFIX.pca.notes: variants of the PCA whose calls with more than two alleles were left
    out; returns how many (the file is removed when none)."""
    rows = np.flatnonzero(left_out > 0)
    if len(rows) == 0:
        path.unlink(missing_ok=True)
        return 0
    lines = [
        f"{prefix}\t{left_out[i]} calls with more than two alleles left out (as missing): PCA "
        "standardizes haploid and diploid calls only"
        for i, prefix in zip(rows.tolist(), labels.prefix(rows), strict=True)
    ]
    tables.write_lines(path, tables.NOTES_HEADER, lines)
    return len(rows)


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
    from tresor.stats.aggregation import variant_n_alleles
    from tresor.stats.pca import check_components, pca, prune_and_standardize

    check_components(n_components, ds.sizes["samples"])
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
            keep, standardized, left_out = prune_and_standardize(
                ds, memory_limit=memory_limit, **options
            )
    else:
        with tables.progress_bar(progress, "selecting variants for PCA"):
            stats = variant_stats(ds, merge=False).assign(n_alleles=variant_n_alleles(ds))
            keep = (
                (stats["n_alleles"] == 2)
                & (stats[variables.variant_minor_allele_frequency] >= min_maf)
                & (stats[variables.variant_minor_allele_frequency] > 0)
                & (stats[variables.variant_call_rate] >= min_call_rate)
            )
            keep, left_out = dask.compute(keep.data, stats[variables.variant_n_polyploid].data)
    index = np.flatnonzero(keep)
    if len(index) < n_components:
        raise _too_few_for_pca(
            ds, len(index), n_components, min_maf, min_call_rate, ld_r2 if prune else None
        )
    selected = ds.isel(variants=index)
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
    labels = tables.variant_labels(selected)
    prune_in.write_text("\n".join(labels.ids()) + "\n")
    written = [eigenvec, eigenval, prune_in]
    if _pca_notes(_path(out, ".pca.notes"), labels, np.asarray(left_out)[index]):
        written.append(_path(out, ".pca.notes"))
    if plot:
        from tresor.stats.plots import save_pca_plot

        written.append(
            save_pca_plot(_path(out, ".pca.png"), vectors, values, groups, Path(out).name)
        )
    return written
