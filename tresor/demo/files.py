"""The one pipeline from a :class:`~tresor.demo.simulation.Plan` to files: per cohort a
bgzipped, indexed VCF, a read-only VCF Zarr store (bio2zarr) and plink2 ``.pheno``/``.covar``
files, plus ``causal_variants.tsv``; staged and swapped into place when complete.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import stat
from collections.abc import Callable
from pathlib import Path

import numpy as np

from tresor.demo.simulation import (
    BINARY,
    BLOCK,
    QUANTITATIVE,
    CohortParameters,
    Contig,
    DemoParameters,
    Plan,
    Simulated,
    simulate,
)


@dataclasses.dataclass(frozen=True)
class CohortFiles:
    """What the pipeline wrote for one cohort."""

    cohort: str
    vcf: Path
    store: Path
    pheno: Path
    covar: Path
    n_samples: int
    n_variants: int


def _vcf_body(genotypes: np.ndarray) -> np.ndarray:
    """Genotype fields as bytes, vectorised: (variants, samples, 4) uint8 'a/b\\t'.

    Alleles must be single digits (at most 10 alleles per site); -1 becomes '.'.
    """
    out = np.empty((*genotypes.shape[:2], 4), dtype=np.uint8)
    for k, col in ((0, 0), (2, 1)):
        g = genotypes[:, :, col]
        out[:, :, k] = np.where(g < 0, ord("."), g + ord("0"))
    out[:, :, 1] = ord("/")
    out[:, :, 3] = ord("\t")
    out[:, -1, 3] = ord("\n")
    return out


def write_vcf(path: Path, contigs: list[Contig], sample_ids: list[str]) -> None:
    """Write a bgzipped VCF 4.3 and its tabix index."""
    import pysam

    plain = path.with_suffix("")  # x.vcf.gz -> x.vcf
    header = [
        "##fileformat=VCFv4.3",
        "##source=tresor demo-data (msprime simulation)",
        "##reference=GRCh38",
        *(f"##contig=<ID={c.name},length={c.length}>" for c in contigs),
        '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">',
        "#"
        + "\t".join(["CHROM", "POS", "ID", "REF", "ALT", "QUAL", "FILTER", "INFO", "FORMAT"])
        + "\t"
        + "\t".join(sample_ids),
    ]
    with open(plain, "wb") as f:
        f.write(("\n".join(header) + "\n").encode())
        for name, _length, positions, alleles, genotypes in contigs:
            for start in range(0, len(positions), BLOCK):
                body = _vcf_body(genotypes[start : start + BLOCK])
                for i, pos in enumerate(positions[start : start + BLOCK]):
                    ref, *alt = alleles[start + i]
                    f.write(
                        f"{name}\t{pos}\t{name}:{pos}:{ref}:{','.join(alt)}\t{ref}\t"
                        f"{','.join(alt)}\t.\tPASS\t.\tGT\t".encode()
                    )
                    f.write(body[i].tobytes())
    pysam.tabix_compress(str(plain), str(path), force=True)
    plain.unlink()
    pysam.tabix_index(str(path), preset="vcf", force=True, csi=False)


def _make_read_only(root: Path) -> None:
    """Drop write permission below ``root``: dataset stores are never written after creation."""
    for dirpath, _dirnames, filenames in os.walk(root):
        for name in filenames:
            p = Path(dirpath, name)
            p.chmod(p.stat().st_mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))
    for dirpath, _, _ in sorted(os.walk(root), key=lambda t: -len(t[0])):
        p = Path(dirpath)
        p.chmod(p.stat().st_mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))


def _make_writable(root: Path) -> None:
    """Give write permission back below ``root``, so that old outputs can be replaced."""
    for dirpath, _, filenames in os.walk(root):
        Path(dirpath).chmod(0o755)
        for name in filenames:
            Path(dirpath, name).chmod(0o644)


def _cohort_sites(contig: Contig, samples: slice, *, varying_only: bool) -> Contig:
    """The contig as one cohort sees it: its samples, and only the sites that vary in them."""
    g = contig.genotypes[:, samples]
    if not varying_only:
        return contig._replace(genotypes=g)
    flat = g.reshape(len(g), -1)
    keep = flat.max(axis=1) > np.where(flat < 0, np.int8(127), flat).min(axis=1)
    alleles = [a for a, kept in zip(contig.alleles, keep, strict=True) if kept]
    return Contig(contig.name, contig.length, contig.positions[keep], alleles, g[keep])


def _write_vcfs_and_tables(
    out: Path,
    staging: Path,
    plan: Plan,
    simulated: Simulated,
    *,
    subdirectories: bool,
    progress: Callable[[str], None],
) -> list[CohortFiles]:
    """Write causal_variants.tsv and each cohort's VCF, .pheno and .covar into ``staging``;
    returns where they will be in ``out``. The genotypes are freed when this returns."""
    simulated.causal.to_csv(staging / "causal_variants.tsv", sep="\t", index=False)
    written = []
    start = 0
    for name, size in plan.cohorts:
        rows = slice(start, start + size)
        start += size
        where = Path(name) if subdirectories else Path()
        (staging / where).mkdir(exist_ok=True)
        ids = [f"{name.upper()}{j:06d}" for j in range(1, size + 1)]
        contigs = [
            _cohort_sites(c, rows, varying_only=plan.n_sites is None) for c in simulated.contigs
        ]
        files = CohortFiles(
            name,
            *(out / where / f"{name}.{ext}" for ext in ("vcf.gz", "vcz", "pheno", "covar")),
            n_samples=size,
            n_variants=sum(len(c.positions) for c in contigs),
        )
        progress(f"writing {files.vcf.name} ({files.n_variants:,} variants) and phenotypes")
        write_vcf(staging / where / files.vcf.name, contigs, ids)
        table = simulated.samples.iloc[rows].reset_index(drop=True)
        table.insert(0, "#IID", ids)
        for path, columns in ((files.pheno, [QUANTITATIVE, BINARY]), (files.covar, ["age", "sex"])):
            table[["#IID", *columns]].to_csv(staging / where / path.name, sep="\t", index=False)
        written.append(files)
    return written


def _convert_to_zarr(vcf: Path, store: Path, worker_processes: int) -> None:
    """VCF -> VCF Zarr with bio2zarr (its intermediate files beside the VCF), then read-only."""
    from bio2zarr import vcf as b2z

    icf = vcf.parent / ".icf"
    b2z.convert(
        [str(vcf)],
        str(store),
        worker_processes=worker_processes,
        show_progress=False,
        icf_path=str(icf),
    )
    shutil.rmtree(icf, ignore_errors=True)
    _make_read_only(store)


def simulate_plan(
    out: Path,
    plan: Plan,
    *,
    subdirectories: bool,
    progress: Callable[[str], None] = lambda msg: None,
    worker_processes: int = 0,
) -> list[CohortFiles]:
    """Simulate ``plan`` and write its cohorts into ``out/<cohort>/`` (``subdirectories``) or
    ``out/``, with ``out/causal_variants.tsv``; returns what was written.

    Everything is written to ``out/.staging`` first; what it replaces in ``out`` is removed only
    once the new files are complete.
    """
    out = Path(out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    staging = out / ".staging"
    if staging.exists():
        _make_writable(staging)
        shutil.rmtree(staging)
    staging.mkdir()
    written = _write_vcfs_and_tables(
        out,
        staging,
        plan,
        simulate(plan, progress),
        subdirectories=subdirectories,
        progress=progress,
    )
    for files in written:  # the genotypes are freed by now, bio2zarr has the memory
        progress(f"converting {files.vcf.name} to VCF Zarr with bio2zarr")
        staged = staging / files.vcf.parent.relative_to(out)
        _convert_to_zarr(staged / files.vcf.name, staged / files.store.name, worker_processes)
    for entry in staging.iterdir():  # swap into place only when everything is written
        final = out / entry.name
        if final.is_dir():
            _make_writable(final)
            shutil.rmtree(final)
        entry.replace(final)
    staging.rmdir()
    return written


def simulate_cohorts(
    out: Path,
    params: DemoParameters | None = None,
    *,
    progress: Callable[[str], None] = lambda msg: None,
    worker_processes: int = 0,
) -> list[CohortFiles]:
    """Simulate the three demo cohorts into ``out/<cohort>/``; returns what was written.

    Existing cohort directories under ``out`` are replaced only once the new ones are complete.
    """
    return simulate_plan(
        out,
        (params or DemoParameters()).plan(),
        subdirectories=True,
        progress=progress,
        worker_processes=worker_processes,
    )


def simulate_cohort(
    out: Path,
    params: CohortParameters | None = None,
    *,
    name: str = "cohort",
    progress: Callable[[str], None] = lambda msg: None,
    worker_processes: int = 0,
) -> CohortFiles:
    """Simulate one cohort of ``n_samples`` x ``n_variants`` into ``out/``: ``<name>.vcf.gz``,
    ``<name>.vcz``, ``.pheno``, ``.covar`` and ``causal_variants.tsv``, like one cohort of
    :func:`simulate_cohorts` but with every simulated site.
    """
    [files] = simulate_plan(
        out,
        (params or CohortParameters()).plan(name),
        subdirectories=False,
        progress=progress,
        worker_processes=worker_processes,
    )
    return files
