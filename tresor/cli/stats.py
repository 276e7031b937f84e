"""Genomics commands over VCF Zarr stores, writing plink2's file formats.

freq (.afreq/.acount), hardy (.hardy), missing (.smiss/.vmiss), het (.het), gwas
(.<pheno>.glm.linear / .glm.logistic.hybrid, with Manhattan and QQ PNGs) and pca (.eigenvec,
.eigenval, .prune.in and a PNG). Every command reads any bio2zarr store lazily, chunk by chunk.
"""

from __future__ import annotations

import functools
from pathlib import Path

import click

OUT = click.option(
    "--out",
    "out",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Output prefix, as plink2's --out: PREFIX.afreq etc.",
)


def _store_options(fn):
    """STORE, --keep, --region, --threads: what every command reads."""

    @click.argument("store", type=click.Path(path_type=Path))
    @click.option(
        "--keep",
        type=click.Path(exists=True, dir_okay=False, path_type=Path),
        help="Only these samples: a file of IIDs (plink2 --keep format).",
    )
    @click.option(
        "--region",
        "regions",
        multiple=True,
        metavar="CHR[:START-END]",
        help="Only variants in this region (1-based, inclusive; repeatable).",
    )
    @click.option(
        "--threads", type=click.IntRange(min=1), help="Threads for Dask [default: all cores]."
    )
    @click.option("--quiet", is_flag=True, help="No progress bars.")
    @functools.wraps(fn)
    def wrapper(store, keep, regions, threads, quiet, **kwargs):
        import dask

        from tresor.io import open_store
        from tresor.stats.selection import keep_samples, read_sample_ids, select_regions

        ds = open_store(store)
        if keep:
            ds = keep_samples(ds, read_sample_ids(keep), source=str(keep))
        if regions:
            ds = select_regions(ds, regions)
        with dask.config.set(scheduler="threads", num_workers=threads):
            return fn(ds=ds, progress=not quiet, **kwargs)

    return wrapper


def _variant_filter_options(fn):
    """--min-maf and --min-call-rate."""
    fn = click.option(
        "--min-call-rate",
        type=click.FloatRange(0, 1),
        default=0.0,
        help="Only variants called in at least this fraction of samples (plink2 --geno 1-x).",
    )(fn)
    return click.option(
        "--min-maf",
        type=click.FloatRange(0, 0.5),
        default=0.0,
        help="Only variants with minor allele frequency at least this (plink2 --maf).",
    )(fn)


def _done(path: Path, rows: int, what: str = "variants") -> None:
    click.echo(f"{path}: {rows} {what}", err=True)


@click.command("freq")
@_store_options
@OUT
@_variant_filter_options
@click.option("--counts", is_flag=True, help="Write ALT allele counts (.acount) instead.")
def freq(ds, progress, out, min_maf, min_call_rate, counts):
    """Allele frequencies per variant: PREFIX.afreq (plink2 --freq) or PREFIX.acount."""
    from tresor.stats import tables
    from tresor.stats.aggregation import variant_stats
    from tresor.stats.selection import variant_filter

    ds = variant_stats(ds)
    ds["variant_keep"] = variant_filter(ds, min_maf=min_maf, min_call_rate=min_call_rate)
    path = out.with_name(out.name + (".acount" if counts else ".afreq"))
    n = tables.write_variant_table(
        path,
        ds,
        tables.AFREQ_VARIABLES,
        tables.ACOUNT_HEADER if counts else tables.AFREQ_HEADER,
        tables.afreq_rows(counts),
        keep="variant_keep",
        progress=progress,
    )
    _done(path, n)


@click.command("hardy")
@_store_options
@OUT
@_variant_filter_options
def hardy(ds, progress, out, min_maf, min_call_rate):
    """Hardy-Weinberg exact test per variant: PREFIX.hardy (plink2 --hardy)."""
    from tresor.stats import tables
    from tresor.stats.aggregation import variant_stats
    from tresor.stats.hwe import hardy_weinberg_test
    from tresor.stats.selection import variant_filter

    ds = hardy_weinberg_test(variant_stats(ds))
    ds["variant_keep"] = variant_filter(ds, min_maf=min_maf, min_call_rate=min_call_rate)
    path = out.with_name(out.name + ".hardy")
    n = tables.write_variant_table(
        path,
        ds,
        tables.HARDY_VARIABLES,
        tables.HARDY_HEADER,
        tables.hardy_rows,
        keep="variant_keep",
        progress=progress,
    )
    _done(path, n)


@click.command("gwas")
@_store_options
@OUT
@_variant_filter_options
@click.option(
    "--pheno",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Phenotype file (plink2 format: #IID then columns).",
)
@click.option(
    "--pheno-name",
    "pheno_names",
    required=True,
    help="Phenotype column(s), comma-separated; one output file each.",
)
@click.option(
    "--covar",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Covariate file (plink2 format).",
)
@click.option("--covar-name", help="Covariate columns, comma-separated [default: all].")
@click.option(
    "--plots/--no-plots",
    default=True,
    show_default=True,
    help="Also write Manhattan and QQ plots (PREFIX.NAME.manhattan.png, .qq.png).",
)
def gwas(ds, progress, out, min_maf, min_call_rate, pheno, pheno_names, covar, covar_name, plots):
    """Association per variant, as plink2 --glm hide-covar.

    A quantitative phenotype gets linear regression (PREFIX.NAME.glm.linear); a binary one
    (1 = control, 2 = case) gets logistic regression with Firth fallback
    (PREFIX.NAME.glm.logistic.hybrid).
    """
    from tresor.stats import tables
    from tresor.stats.aggregation import variant_stats
    from tresor.stats.association import gwas_linear, gwas_logistic
    from tresor.stats.phenotypes import load_covariates, load_phenotype
    from tresor.stats.selection import variant_filter

    covariates = None
    if covar is not None:
        names = [c.strip() for c in covar_name.split(",") if c.strip()] if covar_name else None
        covariates = load_covariates(ds, covar, names)
    elif covar_name:
        raise click.UsageError("--covar-name needs --covar")
    base = variant_stats(ds)
    keep = variant_filter(base, min_maf=min_maf, min_call_rate=min_call_rate)
    for name in [n.strip() for n in pheno_names.split(",") if n.strip()]:
        phenotype, binary = load_phenotype(ds, pheno, name)
        fit = gwas_logistic if binary else gwas_linear
        result = fit(base, phenotype, covariates)
        result["variant_keep"] = keep
        suffix = ".glm.logistic.hybrid" if binary else ".glm.linear"
        path = out.with_name(f"{out.name}.{name}{suffix}")
        names = [*tables.GLM_VARIABLES, *(["variant_glm_firth"] if binary else [])]
        n = tables.write_variant_table(
            path,
            result,
            names,
            tables.GLM_LOGISTIC_HEADER if binary else tables.GLM_LINEAR_HEADER,
            tables.glm_rows(binary),
            keep="variant_keep",
            progress=progress,
        )
        _done(path, n, "rows")
        if plots:
            from tresor.stats.plots import save_gwas_plots

            for png in save_gwas_plots(
                path, title=f"{name} ({'logistic' if binary else 'linear'})"
            ):
                _done(png, 1, "plot")


def _sample_ids(ds) -> list[str]:
    return [str(x) for x in ds["sample_id"].values.tolist()]


@click.command("missing")
@_store_options
@OUT
def missing(ds, progress, out):
    """Missing calls per sample and per variant: PREFIX.smiss, PREFIX.vmiss (plink2 --missing)."""
    from tresor.stats import tables
    from tresor.stats.aggregation import sample_stats, variant_stats

    with tables.progress_bar(progress, "samples"):
        per_sample = sample_stats(ds, merge=False).compute()
    n_variants = ds.sizes["variants"]
    path = out.with_name(out.name + ".smiss")
    tables.write_sample_table(
        path,
        _sample_ids(ds),
        tables.SMISS_HEADER,
        [
            tables.fmt_int(per_sample["sample_n_missing"].values),
            [str(n_variants)] * ds.sizes["samples"],
            tables.fmt(per_sample["sample_n_missing"].values / n_variants),
        ],
    )
    _done(path, ds.sizes["samples"], "samples")
    path = out.with_name(out.name + ".vmiss")
    n = tables.write_variant_table(
        path,
        variant_stats(ds),
        ["variant_n_called"],
        tables.VMISS_HEADER,
        tables.vmiss_rows(ds.sizes["samples"]),
        progress=progress,
    )
    _done(path, n)


@click.command("het")
@_store_options
@OUT
def het(ds, progress, out):
    """Homozygosity and inbreeding coefficient per sample: PREFIX.het (plink2 --het)."""
    from tresor.stats import tables
    from tresor.stats.aggregation import sample_stats

    with tables.progress_bar(progress, "samples"):
        per_sample = sample_stats(ds, merge=False).compute()
    n_hom = per_sample["sample_n_hom"].values
    n_obs = n_hom + per_sample["sample_n_het"].values
    path = out.with_name(out.name + ".het")
    tables.write_sample_table(
        path,
        _sample_ids(ds),
        tables.HET_HEADER,
        [
            tables.fmt_int(n_hom),
            tables.fmt(per_sample["sample_expected_hom"].values),
            tables.fmt_int(n_obs),
            tables.fmt(per_sample["sample_inbreeding"].values),
        ],
    )
    _done(path, ds.sizes["samples"], "samples")


@click.command("pca")
@_store_options
@OUT
@click.option("--components", default=10, show_default=True, type=click.IntRange(min=1))
@click.option(
    "--min-maf",
    type=click.FloatRange(0, 0.5),
    default=0.01,
    show_default=True,
    help="Only biallelic variants with at least this minor allele frequency.",
)
@click.option("--min-call-rate", type=click.FloatRange(0, 1), default=0.95, show_default=True)
@click.option(
    "--ld-window",
    default=50,
    show_default=True,
    type=click.IntRange(min=2),
    help="LD pruning window, in variants (plink2 --indep-pairwise 50 5 0.2).",
)
@click.option("--ld-step", default=5, show_default=True, type=click.IntRange(min=1))
@click.option("--ld-r2", default=0.2, show_default=True, type=click.FloatRange(0, 1))
@click.option("--no-ld-prune", is_flag=True, help="Use every selected variant.")
@click.option(
    "--group-by",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Colour the plot by a column of this file: #IID then a group label.",
)
@click.option("--seed", default=0, show_default=True, type=int)
def pca_command(
    ds,
    progress,
    out,
    components,
    min_maf,
    min_call_rate,
    ld_window,
    ld_step,
    ld_r2,
    no_ld_prune,
    group_by,
    seed,
):
    """Principal components of the samples after LD pruning (plink2 --pca approx).

    Writes PREFIX.eigenvec, PREFIX.eigenval, PREFIX.prune.in (variant IDs used) and
    PREFIX.pca.png.
    """
    import numpy as np

    from tresor.stats import tables
    from tresor.stats.pca import ld_prune, pca, select_pca_variants
    from tresor.stats.plots import save_pca_plot

    with tables.progress_bar(progress, "selecting variants"):
        selected = select_pca_variants(ds, min_maf=min_maf, min_call_rate=min_call_rate)
    if not no_ld_prune:
        with tables.progress_bar(progress, "LD pruning"):
            keep = ld_prune(
                selected, window=ld_window, step=ld_step, threshold=ld_r2
            ).variant_ld_keep.values
        selected = selected.isel(variants=np.flatnonzero(keep))
    result = pca(selected, n_components=components, seed=seed, progress=progress)
    ids = _sample_ids(ds)
    vectors = result["sample_pca_projection"].values
    path = out.with_name(out.name + ".eigenvec")
    tables.write_sample_table(
        path,
        ids,
        ("#IID", *(f"PC{i + 1}" for i in range(vectors.shape[1]))),
        [tables.fmt(vectors[:, i]) for i in range(vectors.shape[1])],
    )
    _done(path, len(ids), "samples")
    values = result["pca_eigenvalue"].values
    path = out.with_name(out.name + ".eigenval")
    path.write_text("\n".join(tables.fmt(values)) + "\n")
    _done(path, len(values), "eigenvalues")
    path = out.with_name(out.name + ".prune.in")
    labels = tables.VariantLabels(
        selected[tables.label_variables(selected)].compute(),
        [str(c) for c in ds["contig_id"].values],
    )
    path.write_text("\n".join(labels.id) + "\n")
    _done(path, len(labels.id), "variants")
    groups = None
    if group_by is not None:
        from tresor.stats.phenotypes import read_table

        table = read_table(group_by)
        groups = table.reindex(ids).iloc[:, 0].fillna("unknown").astype(str).to_numpy()
    png = save_pca_plot(
        out.with_name(out.name + ".pca.png"), vectors, values, groups, title=out.name
    )
    _done(png, 1, "plot")


def register(cli: click.Group) -> None:
    """Add this module's commands to the ``tresor`` group."""
    for command in (freq, hardy, missing, het, gwas, pca_command):
        cli.add_command(command)
