"""Simulated demo cohorts: three countries with distinct demography, phenotypes with known causes.

Nothing is downloaded. ``simulate_cohorts`` runs msprime once for all three cohorts, so that they
share variants the way real national cohorts do, then writes for each cohort a bgzipped, indexed
VCF (with a small fraction of missing calls), a VCF Zarr store converted by bio2zarr, and plink2
phenotype and covariate files (``#IID`` header). The causal variants go to ``causal_variants.tsv``
so notebooks and tests can check that a GWAS finds them.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import stat
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:  # pragma: no cover
    from tresor.core.site import SiteConfig

COHORTS = ("dk", "se", "uk")
COHORT_TITLES = {
    "dk": "Danish demo cohort (simulated)",
    "se": "Swedish demo cohort (simulated)",
    "uk": "UK demo cohort (simulated)",
}
QUANTITATIVE = "ldl"  # LDL cholesterol, mmol/L
BINARY = "t2d"  # type 2 diabetes: plink2 coding 1 = control, 2 = case


@dataclasses.dataclass(frozen=True)
class DemoParameters:
    """How big the demo is. The defaults build in well under a minute on two cores."""

    samples_per_cohort: int = 300
    contigs: int = 2
    contig_length: int = 2_000_000
    seed: int = 42
    missing_rate: float = 0.005
    n_causal: int = 12
    heritability: float = 0.4
    prevalence: float = 0.25

    def __post_init__(self) -> None:
        if self.samples_per_cohort < 20:
            raise ValueError("samples_per_cohort must be at least 20")
        if not 1 <= self.contigs <= 22:
            raise ValueError("contigs must be between 1 and 22")
        if self.contig_length < 10_000:
            raise ValueError("contig_length must be at least 10,000 bp")
        if not 0 <= self.missing_rate < 0.5:
            raise ValueError("missing_rate must be in [0, 0.5)")


@dataclasses.dataclass(frozen=True)
class CohortFiles:
    """What ``simulate_cohorts`` wrote for one cohort."""

    cohort: str
    vcf: Path
    store: Path
    pheno: Path
    covar: Path
    n_samples: int
    n_variants: int


def demography():
    """dk and se split recently from a Nordic ancestor; uk split earlier. Sizes are 10,000.

    With a few hundred samples per cohort this separates all three on the first two PCs.
    """
    import msprime

    d = msprime.Demography()
    for name in ("dk", "se", "uk", "nordic", "ancestral"):
        d.add_population(name=name, initial_size=10_000)
    d.add_population_split(time=600, derived=["dk", "se"], ancestral="nordic")
    d.add_population_split(time=1_500, derived=["nordic", "uk"], ancestral="ancestral")
    d.set_symmetric_migration_rate(["dk", "se"], 1e-5)
    d.sort_events()
    return d


def _simulate_contig(params: DemoParameters, index: int):
    import msprime

    ts = msprime.sim_ancestry(
        samples={c: params.samples_per_cohort for c in COHORTS},
        demography=demography(),
        sequence_length=params.contig_length,
        recombination_rate=1e-8,
        random_seed=params.seed + 1000 * index,
    )
    return msprime.sim_mutations(ts, rate=1.25e-8, random_seed=params.seed + 1000 * index + 1)


def _contig_genotypes(ts) -> tuple[np.ndarray, np.ndarray, list[list[str]]]:
    """Positions (1-based), genotypes (variants, samples, 2) int8 and alleles per site."""
    positions = ts.tables.sites.position.astype(np.int64) + 1  # VCF is 1-based
    alleles = []
    haplotypes = np.empty((ts.num_sites, ts.num_samples), dtype=np.int8)
    for var in ts.variants():
        haplotypes[var.site.id] = var.genotypes
        alleles.append([a for a in var.alleles if a is not None])
    return positions, haplotypes.reshape(ts.num_sites, -1, 2), alleles


def _phenotypes(dosage: np.ndarray, cohort_of: np.ndarray, params: DemoParameters, rng):
    """Quantitative (LDL) and binary (T2D) traits with covariates age and sex.

    ``dosage`` is (samples, causal variants) ALT dosage. Cohort means differ a little, so that
    a pooled analysis without adjustment would see stratification, as in real meta-analyses.
    """
    n = dosage.shape[0]
    age = rng.integers(30, 80, size=n)
    sex = rng.integers(1, 3, size=n)  # plink2: 1 = male, 2 = female
    std = (dosage - dosage.mean(0)) / np.where(dosage.std(0) > 0, dosage.std(0), 1)
    beta_qt = rng.normal(0, 1, size=dosage.shape[1])
    genetic = std @ beta_qt
    genetic *= np.sqrt(params.heritability) / genetic.std()
    cohort_shift = np.array([0.0, 0.1, -0.1])[cohort_of]
    noise = rng.normal(0, np.sqrt(1 - params.heritability), size=n)
    qt = 3.0 + 0.5 * (genetic + noise) + 0.01 * (age - 55) - 0.1 * (sex - 1) + cohort_shift
    beta_bin = rng.normal(0, 1, size=dosage.shape[1])
    liability = std @ beta_bin
    liability *= np.sqrt(params.heritability) / liability.std()
    liability += 0.02 * (age - 55) + rng.normal(0, np.sqrt(1 - params.heritability), size=n)
    case = liability > np.quantile(liability, 1 - params.prevalence)
    return qt, case.astype(np.int8) + 1, age, sex, beta_qt, beta_bin


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


_VCF_BLOCK = 2_000  # variants formatted at a time by write_vcf


def write_vcf(
    path: Path,
    contigs: list[tuple[str, int, np.ndarray, list[list[str]], np.ndarray]],
    sample_ids: list[str],
) -> None:
    """Write a bgzipped VCF 4.3 and its tabix index. ``contigs``: (name, length, positions,
    alleles, genotypes) with genotypes (variants, samples, 2) int8, -1 missing."""
    import pysam

    plain = path.with_suffix("")  # x.vcf.gz -> x.vcf
    header = [
        "##fileformat=VCFv4.3",
        "##source=tresor demo-data (msprime simulation)",
        "##reference=GRCh38",
        *(f"##contig=<ID={name},length={length}>" for name, length, *_ in contigs),
        '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">',
        "#"
        + "\t".join(["CHROM", "POS", "ID", "REF", "ALT", "QUAL", "FILTER", "INFO", "FORMAT"])
        + "\t"
        + "\t".join(sample_ids),
    ]
    with open(plain, "wb") as f:
        f.write(("\n".join(header) + "\n").encode())
        for name, _length, positions, alleles, genotypes in contigs:
            # genotype text in blocks of variants, so a large cohort never needs it all at once
            for start in range(0, len(positions), _VCF_BLOCK):
                body = _vcf_body(genotypes[start : start + _VCF_BLOCK])
                for i, pos in enumerate(positions[start : start + _VCF_BLOCK]):
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
    for dirpath, _, filenames in os.walk(root):
        Path(dirpath).chmod(0o755)
        for name in filenames:
            Path(dirpath, name).chmod(0o644)


def simulate_cohorts(
    out: Path,
    params: DemoParameters = DemoParameters(),
    *,
    progress: Callable[[str], None] = lambda msg: None,
    worker_processes: int = 0,
) -> list[CohortFiles]:
    """Simulate the three demo cohorts into ``out/<cohort>/``; returns what was written.

    Existing cohort directories under ``out`` are replaced only once the new ones are complete.
    """
    out = Path(out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    staging = Path(out, ".staging")
    if staging.exists():
        _make_writable(staging)
        shutil.rmtree(staging)
    staging.mkdir()
    rng = np.random.default_rng(params.seed)

    progress(
        f"simulating {len(COHORTS)} cohorts x {params.samples_per_cohort} samples with msprime"
    )
    contigs = []
    for i in range(params.contigs):
        name = f"chr{23 - params.contigs + i}"
        ts = _simulate_contig(params, i)
        positions, genotypes, alleles = _contig_genotypes(ts)
        contigs.append((name, params.contig_length, positions, alleles, genotypes))
    n = params.samples_per_cohort
    cohort_of = np.repeat(np.arange(len(COHORTS)), n)

    # causal variants: common, biallelic, spread over all contigs
    candidates = [
        (c, i)
        for c, (_, _, _, alleles, g) in enumerate(contigs)
        for i in np.flatnonzero(
            (np.array([len(a) for a in alleles]) == 2)
            & (np.abs(g.sum(axis=(1, 2)) / (2 * g.shape[1]) - 0.5) < 0.4)
        )
    ]
    chosen = rng.choice(len(candidates), size=min(params.n_causal, len(candidates)), replace=False)
    causal = [candidates[k] for k in sorted(chosen)]
    dosage = np.stack([contigs[c][4][i].sum(axis=1) for c, i in causal], axis=1).astype(float)
    qt, case, age, sex, beta_qt, beta_bin = _phenotypes(dosage, cohort_of, params, rng)

    pd.DataFrame(
        {
            "CHROM": [contigs[c][0] for c, _ in causal],
            "POS": [int(contigs[c][2][i]) for c, i in causal],
            "ID": [
                f"{contigs[c][0]}:{contigs[c][2][i]}:{contigs[c][3][i][0]}:{contigs[c][3][i][1]}"
                for c, i in causal
            ],
            f"BETA_{QUANTITATIVE.upper()}": beta_qt,
            f"BETA_{BINARY.upper()}_LIABILITY": beta_bin,
        }
    ).to_csv(staging / "causal_variants.tsv", sep="\t", index=False)

    # missing calls, after the phenotypes are fixed
    for *_, g in contigs:
        missing = rng.random(g.shape[:2]) < params.missing_rate
        g[missing] = -1

    written = []
    for k, cohort in enumerate(COHORTS):
        progress(f"writing cohort {cohort}: VCF, VCF Zarr (bio2zarr), phenotypes")
        cdir = staging / cohort
        cdir.mkdir()
        cols = slice(k * n, (k + 1) * n)
        ids = [f"{cohort.upper()}{j:06d}" for j in range(1, n + 1)]
        cohort_contigs = []
        for name, length, positions, alleles, g in contigs:
            gk = g[:, cols]
            # a national cohort only has the sites that vary in it
            flat = gk.reshape(len(gk), -1)
            keep = flat.max(axis=1) > np.where(flat < 0, np.int8(127), flat).min(axis=1)
            cohort_contigs.append(
                (
                    name,
                    length,
                    positions[keep],
                    [a for a, kept in zip(alleles, keep, strict=True) if kept],
                    gk[keep],
                )
            )
        vcf = cdir / f"{cohort}.vcf.gz"
        write_vcf(vcf, cohort_contigs, ids)
        store = cdir / f"{cohort}.vcz"
        from bio2zarr import vcf as b2z

        b2z.convert(
            [str(vcf)],
            str(store),
            worker_processes=worker_processes,
            show_progress=False,
            icf_path=str(cdir / ".icf"),
        )
        shutil.rmtree(cdir / ".icf", ignore_errors=True)
        pheno = cdir / f"{cohort}.pheno"
        pd.DataFrame({"#IID": ids, QUANTITATIVE: np.round(qt[cols], 4), BINARY: case[cols]}).to_csv(
            pheno, sep="\t", index=False
        )
        covar = cdir / f"{cohort}.covar"
        pd.DataFrame({"#IID": ids, "age": age[cols], "sex": sex[cols]}).to_csv(
            covar, sep="\t", index=False
        )
        _make_read_only(store)
        written.append(
            CohortFiles(
                cohort,
                out / cohort / vcf.name,
                out / cohort / store.name,
                out / cohort / pheno.name,
                out / cohort / covar.name,
                n,
                sum(len(c[2]) for c in cohort_contigs),
            )
        )

    # swap into place only when everything is written
    for cohort in COHORTS:
        final = out / cohort
        if final.exists():
            _make_writable(final)
            shutil.rmtree(final)
        (staging / cohort).rename(final)
    (staging / "causal_variants.tsv").replace(out / "causal_variants.tsv")
    staging.rmdir()
    return written


def register_cohorts(
    written: list[CohortFiles], catalogue: Path, grants: dict[str, list[str]]
) -> list[Path]:
    """Add each demo cohort to the catalogue, granted to the groups in ``grants[cohort]``."""
    from tresor.core.catalogue import DatasetEntry, register_dataset

    return [
        register_dataset(
            DatasetEntry(
                id=c.cohort,
                title=COHORT_TITLES[c.cohort],
                description=(
                    "Simulated with msprime: three cohorts (dk, se, uk) with distinct demography, "
                    f"phenotypes {QUANTITATIVE} (quantitative) and {BINARY} (binary, 1=control "
                    "2=case) with known causal variants, covariates age and sex."
                ),
                genome_build="GRCh38",
                store=c.store,
                n_samples=c.n_samples,
                n_variants=c.n_variants,
                phenotypes={"pheno": c.pheno, "covar": c.covar},
                grants=tuple(grants.get(c.cohort, ())),
                contact="the demo node's data access committee (dac@tresor.invalid)",
            ),
            catalogue,
        )
        for c in written
    ]


def demo_cohorts_missing(site: SiteConfig) -> bool:
    """True when the demo cohorts are not all registered with an existing store."""
    from tresor.core.catalogue import load_catalogue

    catalogue = load_catalogue(site.catalogue_path)
    return any(c not in catalogue or not catalogue[c].store.exists() for c in COHORTS)


def ensure_demo_cohorts(site: SiteConfig, *, progress: Callable[[str], None] = print) -> None:
    """Simulate and register the site's demo cohorts if it wants them and they are missing."""
    if not (site.demo.enabled and demo_cohorts_missing(site)):
        return
    params = DemoParameters(
        samples_per_cohort=site.demo.samples_per_cohort,
        contigs=site.demo.contigs,
        contig_length=site.demo.contig_length,
        seed=site.demo.seed,
    )
    written = simulate_cohorts(site.demo_data_path, params, progress=progress)
    register_cohorts(written, site.catalogue_path, site.demo.grants)


@dataclasses.dataclass(frozen=True)
class CohortParameters:
    """One large cohort (for benchmarks): samples from the three demo populations, one contig.

    The contig is simulated long enough for ``n_variants`` sites and cut after the last one.
    """

    n_samples: int = 5_000
    n_variants: int = 100_000
    seed: int = 42
    missing_rate: float = 0.005
    n_causal: int = 20
    heritability: float = 0.4
    prevalence: float = 0.25

    def __post_init__(self) -> None:
        if self.n_samples < 30:
            raise ValueError("n_samples must be at least 30")
        if self.n_variants < 100:
            raise ValueError("n_variants must be at least 100")
        if not 0 <= self.missing_rate < 0.5:
            raise ValueError("missing_rate must be in [0, 0.5)")


def simulate_cohort(
    out: Path,
    params: CohortParameters = CohortParameters(),
    *,
    name: str = "cohort",
    progress: Callable[[str], None] = lambda msg: None,
    worker_processes: int = 0,
) -> CohortFiles:
    """Simulate one cohort of ``n_samples`` x ``n_variants`` into ``out/``: VCF, VCF Zarr, .pheno,
    .covar and ``causal_variants.tsv``, like one cohort of :func:`simulate_cohorts`.

    Samples come from dk, se and uk in equal parts, so PCA shows structure. Memory is about
    two bytes per genotype (the simulation holds all haplotypes once).
    """
    import msprime

    out = Path(out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(params.seed)
    per_pop = [params.n_samples // 3 + (k < params.n_samples % 3) for k in range(3)]
    # expected sites per bp for 2n haplotypes (Watterson), with room to spare
    n_hap = 2 * params.n_samples
    per_bp = 4 * 10_000 * 1.25e-8 * float(np.sum(1.0 / np.arange(1, n_hap)))
    length = int(params.n_variants / per_bp * 1.3) + 10_000
    while True:
        progress(f"simulating {params.n_samples} samples over {length:,} bp with msprime")
        ts = msprime.sim_ancestry(
            samples={c: k for c, k in zip(COHORTS, per_pop, strict=True)},
            demography=demography(),
            sequence_length=length,
            recombination_rate=1e-8,
            random_seed=params.seed,
        )
        ts = msprime.sim_mutations(ts, rate=1.25e-8, random_seed=params.seed + 1)
        if ts.num_sites >= params.n_variants:
            break
        length = int(length * 1.5)
    ts = ts.keep_intervals([[0, ts.tables.sites.position[params.n_variants - 1] + 1]])
    positions, genotypes, alleles = _contig_genotypes(ts)
    positions, genotypes, alleles = (
        positions[: params.n_variants],
        genotypes[: params.n_variants],
        alleles[: params.n_variants],
    )
    contig = ("chr1", int(positions[-1]) + 1)
    cohort_of = np.repeat(np.arange(3), per_pop)

    n_alleles = np.array([len(a) for a in alleles])
    freq = genotypes.sum(axis=(1, 2), dtype=np.int64) / (2 * params.n_samples)
    candidates = np.flatnonzero((n_alleles == 2) & (np.abs(freq - 0.5) < 0.4))
    causal = np.sort(
        rng.choice(candidates, size=min(params.n_causal, len(candidates)), replace=False)
    )
    dosage = genotypes[causal].sum(axis=2).T.astype(float)
    phen = DemoParameters(heritability=params.heritability, prevalence=params.prevalence)
    qt, case, age, sex, beta_qt, beta_bin = _phenotypes(dosage, cohort_of, phen, rng)
    pd.DataFrame(
        {
            "CHROM": contig[0],
            "POS": positions[causal],
            "ID": [f"{contig[0]}:{positions[i]}:{alleles[i][0]}:{alleles[i][1]}" for i in causal],
            f"BETA_{QUANTITATIVE.upper()}": beta_qt,
            f"BETA_{BINARY.upper()}_LIABILITY": beta_bin,
        }
    ).to_csv(out / "causal_variants.tsv", sep="\t", index=False)

    for start in range(0, len(genotypes), _VCF_BLOCK):
        block = genotypes[start : start + _VCF_BLOCK]
        block[rng.random(block.shape[:2]) < params.missing_rate] = -1

    ids = [f"{name.upper()}{j:06d}" for j in range(1, params.n_samples + 1)]
    vcf = out / f"{name}.vcf.gz"
    progress(f"writing {vcf.name} ({len(positions):,} variants)")
    write_vcf(vcf, [(contig[0], contig[1], positions, alleles, genotypes)], ids)
    del genotypes
    store = out / f"{name}.vcz"
    if store.exists():
        _make_writable(store)
        shutil.rmtree(store)
    progress(f"converting to VCF Zarr with bio2zarr: {store.name}")
    from bio2zarr import vcf as b2z

    b2z.convert(
        [str(vcf)],
        str(store),
        worker_processes=worker_processes,
        show_progress=False,
        icf_path=str(out / ".icf"),
    )
    shutil.rmtree(out / ".icf", ignore_errors=True)
    pheno = out / f"{name}.pheno"
    pd.DataFrame({"#IID": ids, QUANTITATIVE: np.round(qt, 4), BINARY: case}).to_csv(
        pheno, sep="\t", index=False
    )
    covar = out / f"{name}.covar"
    pd.DataFrame({"#IID": ids, "age": age, "sex": sex}).to_csv(covar, sep="\t", index=False)
    _make_read_only(store)
    return CohortFiles(name, vcf, store, pheno, covar, params.n_samples, len(positions))
