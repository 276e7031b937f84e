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


#: Keyword arguments of tresor.stats and the options that set them, for error messages.
OPTIONS = {
    "n_components": "--components",
    "min_maf": "--min-maf",
    "min_call_rate": "--min-call-rate",
    "ld_r2": "--ld-r2",
    "pheno": "--pheno",
    "pheno_names": "--pheno-name",
    "covar": "--covar",
    "covar_names": "--covar-name",
}


def _as_option(name: str, value: object) -> str:
    if value is None:
        return OPTIONS[name]
    if isinstance(value, float):
        value = f"{value:g}"
    elif isinstance(value, list | tuple):
        value = ",".join(map(str, value))
    return f"{OPTIONS[name]} {value}"


def _store_options(fn=None, *, direct=None):
    """STORE, --keep, --region, --threads: what every command reads. A ParameterError comes
    out as one line naming the option to change. ``direct(packed_store, rows, samples, ...)``
    runs the command without xarray or Dask on a store with a current packed companion."""
    if fn is None:
        return functools.partial(_store_options, direct=direct)
    fn.direct = direct

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
        from tresor.core.errors import ParameterError, TresorError
        from tresor.stats.selection import SelectionError, read_sample_ids

        ids = None
        try:
            if keep:
                ids = read_sample_ids(keep)
        except SelectionError as e:
            raise TresorError(f"--keep {keep}: {e}") from None
        try:
            return _run(fn, store, keep, ids, regions, threads, not quiet, kwargs)
        except ParameterError as e:
            raise TresorError(e.render(_as_option)) from None

    return wrapper


def _selecting(option: str):
    """Turn a SelectionError into one line that names ``option``."""
    import contextlib

    from tresor.core.errors import TresorError
    from tresor.stats.selection import SelectionError

    @contextlib.contextmanager
    def selecting():
        try:
            yield
        except SelectionError as e:
            raise TresorError(f"{option}: {e}") from None

    return selecting()


def _run(fn, store, keep, ids, regions, threads, progress, kwargs):
    """The command on the store's packed companion without xarray or Dask when the command
    has such a way (``fn.direct``) and the store a current companion; else on the Dataset."""
    direct = getattr(fn, "direct", None)
    if direct is not None:
        from tresor.stats.direct import PackedStore

        packed = PackedStore.open(store)
        if packed is not None:
            with _selecting(f"--keep {keep}"):
                samples = packed.samples(ids, source=str(keep))
            with _selecting("--region"):
                rows = packed.rows(regions)
            return direct(packed, rows, samples, threads=threads, progress=progress, **kwargs)
    import dask
    import dask.threaded

    from tresor.io import open_store
    from tresor.stats.selection import keep_samples, select_regions

    ds = open_store(store)
    if keep:
        with _selecting(f"--keep {keep}"):
            ds = keep_samples(ds, ids, source=str(keep))
    if regions:
        with _selecting("--region"):
            ds = select_regions(ds, regions)
    # the threaded scheduler as a function: the name "threads" makes Dask import
    # distributed (0.1 to 0.2 s) only to look for a Client the CLI never has
    with dask.config.set(scheduler=dask.threaded.get, num_workers=threads):
        return fn(ds=ds, progress=progress, **kwargs)


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


def _report(paths) -> None:
    for path in paths if isinstance(paths, list) else [paths]:
        click.echo(f"wrote {path}", err=True)


def _direct(name: str, report=_report):
    """A command's way without xarray: ``tresor.stats.direct.<name>`` on the packed store."""

    def run(store, rows, samples, *, out, **options):
        from tresor.stats import direct

        report(getattr(direct, name)(store, out, rows=rows, samples=samples, **options))

    return run


@click.command("freq")
@_store_options(direct=_direct("write_freq"))
@OUT
@_variant_filter_options
@click.option("--counts", is_flag=True, help="Write ALT allele counts (.acount) instead.")
def freq(ds, progress, out, min_maf, min_call_rate, counts):
    """Allele frequencies per variant: PREFIX.afreq (plink2 --freq) or PREFIX.acount."""
    from tresor.stats.reports import write_freq

    _report(
        write_freq(
            ds, out, counts=counts, min_maf=min_maf, min_call_rate=min_call_rate, progress=progress
        )
    )


def _hardy_report(path) -> None:
    from tresor.stats.tables import notes_path

    _report(path)
    if (notes := notes_path(path)).exists():
        n = len(notes.read_text().splitlines()) - 1
        click.echo(
            f"note: {n} variant{'s' if n != 1 else ''} with haploid or polyploid calls: those "
            f"calls are left out of the test (HWE is defined on diploid calls); see {notes}",
            err=True,
        )


@click.command("hardy")
@_store_options(direct=_direct("write_hardy", report=lambda path: _hardy_report(path)))
@OUT
@_variant_filter_options
def hardy(ds, progress, out, min_maf, min_call_rate):
    """Hardy-Weinberg exact test per variant: PREFIX.hardy (plink2 --hardy)."""
    from tresor.stats.reports import write_hardy

    _hardy_report(
        write_hardy(ds, out, min_maf=min_maf, min_call_rate=min_call_rate, progress=progress)
    )


@click.command("missing")
@_store_options(direct=_direct("write_missing"))
@OUT
def missing(ds, progress, out):
    """Missing calls per sample and per variant: PREFIX.smiss, .vmiss (plink2 --missing)."""
    from tresor.stats.reports import write_missing

    _report(write_missing(ds, out, progress=progress))


@click.command("het")
@_store_options
@OUT
def het(ds, progress, out):
    """Homozygosity and inbreeding coefficient F per sample: PREFIX.het (plink2 --het)."""
    from tresor.stats.reports import write_het

    _report(write_het(ds, out, progress=progress))


def _names(text: str | None) -> list[str] | None:
    return [n.strip() for n in text.split(",") if n.strip()] if text else None


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
    "--pheno-name", required=True, help="Phenotype column(s), comma-separated; a file each."
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
def gwas(ds, progress, out, min_maf, min_call_rate, pheno, pheno_name, covar, covar_name, plots):
    """Association per variant, as plink2 --glm hide-covar.

    A quantitative phenotype gets linear regression (PREFIX.NAME.glm.linear); a binary one
    (1 = control, 2 = case) gets logistic regression with Firth fallback
    (PREFIX.NAME.glm.logistic.hybrid).
    """
    from tresor.stats.reports import write_gwas

    if covar_name and covar is None:
        from tresor.core.errors import TresorError

        raise TresorError("--covar-name needs --covar, the file that holds those columns")
    _report(
        write_gwas(
            ds,
            out,
            pheno,
            _names(pheno_name),
            covar=covar,
            covar_names=_names(covar_name),
            min_maf=min_maf,
            min_call_rate=min_call_rate,
            plots=plots,
            progress=progress,
        )
    )


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
    help="LD pruning window in variants (as plink2 --indep-pairwise 50 5 0.2).",
)
@click.option("--ld-step", default=5, show_default=True, type=click.IntRange(min=1))
@click.option("--ld-r2", default=0.2, show_default=True, type=click.FloatRange(0, 1))
@click.option("--no-ld-prune", is_flag=True, help="Use every selected variant.")
@click.option(
    "--group-by",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Colour the plot by the first column after #IID of this file.",
)
@click.option("--seed", default=0, show_default=True, type=int)
def pca(
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

    Writes PREFIX.eigenvec, PREFIX.eigenval, PREFIX.prune.in (variants used), PREFIX.pca.png.
    """
    from tresor.stats.reports import write_pca

    groups = None
    if group_by is not None:
        from tresor.stats.phenotypes import read_table

        ids = [str(x) for x in ds["sample_id"].values.tolist()]
        table = read_table(group_by)
        groups = table.reindex(ids).iloc[:, 0].fillna("unknown").astype(str).to_numpy()
    _report(
        write_pca(
            ds,
            out,
            n_components=components,
            min_maf=min_maf,
            min_call_rate=min_call_rate,
            ld_window=ld_window,
            ld_step=ld_step,
            ld_r2=ld_r2,
            prune=not no_ld_prune,
            groups=groups,
            seed=seed,
            progress=progress,
        )
    )


def register(cli: click.Group) -> None:
    """Add this module's commands to the ``tresor`` group."""
    for command in (freq, hardy, missing, het, gwas, pca):
        cli.add_command(command)
