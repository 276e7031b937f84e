"""Simulated demo cohorts: three countries with distinct demography, phenotypes with known causes.

Nothing is downloaded. One pipeline, :func:`simulate_plan`, runs msprime once for a :class:`Plan`
(so that cohorts share variants the way real national cohorts do), cuts the samples into cohorts
and writes for each a bgzipped, indexed VCF (with a small fraction of missing calls), a VCF Zarr
store converted by bio2zarr, and plink2 phenotype and covariate files (``#IID`` header). The
causal variants go to ``causal_variants.tsv`` so notebooks and tests can check that a GWAS finds
them. :func:`simulate_cohorts` makes the three demo cohorts (dk, se, uk) a node registers;
:func:`simulate_cohort` makes one large cohort drawn from all three for the benchmarks.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import stat
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

import numpy as np
import pandas as pd

if TYPE_CHECKING:  # pragma: no cover
    from tresor.core.site import SiteConfig

COHORTS = ("dk", "se", "uk")  # also msprime's populations, in the order their samples come
COHORT_TITLES = {
    "dk": "Danish demo cohort (simulated)",
    "se": "Swedish demo cohort (simulated)",
    "uk": "UK demo cohort (simulated)",
}
QUANTITATIVE = "ldl"  # LDL cholesterol, mmol/L
BINARY = "t2d"  # type 2 diabetes: plink2 coding 1 = control, 2 = case
POPULATION_SIZE = 10_000
MUTATION_RATE = 1.25e-8
RECOMBINATION_RATE = 1e-8
_BLOCK = 2_000  # variants at a time: VCF text and missing calls, so no cohort needs it all at once


@dataclasses.dataclass(frozen=True)
class ModelParameters:
    """The seed, the phenotype model and the missing calls: what every simulation has."""

    seed: int = 42
    missing_rate: float = 0.005
    n_causal: int = 12
    heritability: float = 0.4
    prevalence: float = 0.25

    def __post_init__(self) -> None:
        if not 0 <= self.missing_rate < 0.5:
            raise ValueError("missing_rate must be in [0, 0.5)")


@dataclasses.dataclass(frozen=True)
class Plan:
    """One msprime run and how its samples become cohorts; everything written follows from it.

    ``samples``: how many from each population of :data:`COHORTS`, in that order (msprime's).
    ``cohorts``: (name, size), each taking the next consecutive samples.
    ``contigs``: (name, length in bp); contig ``i`` is simulated with seed ``seed + 1000 * i``.
    ``n_sites``: grow the one contig until it has that many sites and cut it after the last; the
    cohorts then keep every site. Without it a cohort keeps the sites that vary in it, as a
    national cohort would.
    """

    samples: tuple[int, ...]
    cohorts: tuple[tuple[str, int], ...]
    contigs: tuple[tuple[str, int], ...]
    model: ModelParameters
    n_sites: int | None = None

    def __post_init__(self) -> None:
        if len(self.samples) != len(COHORTS):
            raise ValueError(f"samples must give one count per population {COHORTS}")
        if sum(size for _, size in self.cohorts) != sum(self.samples):
            raise ValueError("the cohorts must take all simulated samples, no more")
        if self.n_sites is not None and len(self.contigs) != 1:
            raise ValueError("n_sites needs exactly one contig")


@dataclasses.dataclass(frozen=True)
class DemoParameters(ModelParameters):
    """How big the demo is. The defaults build in well under a minute on two cores."""

    samples_per_cohort: int = 300
    contigs: int = 2
    contig_length: int = 2_000_000

    def __post_init__(self) -> None:
        if self.samples_per_cohort < 20:
            raise ValueError("samples_per_cohort must be at least 20")
        if not 1 <= self.contigs <= 22:
            raise ValueError("contigs must be between 1 and 22")
        if self.contig_length < 10_000:
            raise ValueError("contig_length must be at least 10,000 bp")
        super().__post_init__()

    def plan(self) -> Plan:
        """dk, se and uk, one cohort per population, on the last ``contigs`` autosomes."""
        n = self.samples_per_cohort
        return Plan(
            samples=(n,) * len(COHORTS),
            cohorts=tuple((cohort, n) for cohort in COHORTS),
            contigs=tuple(
                (f"chr{23 - self.contigs + i}", self.contig_length) for i in range(self.contigs)
            ),
            model=self,
        )


@dataclasses.dataclass(frozen=True)
class CohortParameters(ModelParameters):
    """One large cohort (for benchmarks): samples from the three demo populations, one contig.

    The contig is simulated long enough for ``n_variants`` sites and cut after the last one.
    """

    n_samples: int = 5_000
    n_variants: int = 100_000
    n_causal: int = 20

    def __post_init__(self) -> None:
        if self.n_samples < 30:
            raise ValueError("n_samples must be at least 30")
        if self.n_variants < 100:
            raise ValueError("n_variants must be at least 100")
        super().__post_init__()

    def plan(self, name: str) -> Plan:
        """The cohort ``name``: dk, se and uk in equal parts (so PCA shows structure) on chr1."""
        samples = tuple(self.n_samples // 3 + (k < self.n_samples % 3) for k in range(3))
        # expected sites per bp for 2n haplotypes (Watterson), with room to spare
        harmonic = float(np.sum(1.0 / np.arange(1, 2 * self.n_samples)))
        per_bp = 4 * POPULATION_SIZE * MUTATION_RATE * harmonic
        length = int(self.n_variants / per_bp * 1.3) + 10_000
        return Plan(
            samples=samples,
            cohorts=((name, self.n_samples),),
            contigs=(("chr1", length),),
            model=self,
            n_sites=self.n_variants,
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


# --- simulation, in memory ------------------------------------------------------------------


class Contig(NamedTuple):
    """Sites of one contig: 1-based positions, alleles per site, genotypes (variants, samples,
    2) int8 with -1 for a missing call."""

    name: str
    length: int
    positions: np.ndarray
    alleles: list[list[str]]
    genotypes: np.ndarray


@dataclasses.dataclass(frozen=True)
class Simulated:
    """A plan's simulated data: contigs, per-sample phenotypes and covariates, causal variants."""

    contigs: list[Contig]
    samples: pd.DataFrame  # QUANTITATIVE, BINARY, age, sex; one row per sample
    causal: pd.DataFrame  # the rows of causal_variants.tsv


def demography():
    """dk and se split recently from a Nordic ancestor; uk split earlier. Sizes are 10,000.

    With a few hundred samples per cohort this separates all three on the first two PCs.
    """
    import msprime

    d = msprime.Demography()
    for name in ("dk", "se", "uk", "nordic", "ancestral"):
        d.add_population(name=name, initial_size=POPULATION_SIZE)
    d.add_population_split(time=600, derived=["dk", "se"], ancestral="nordic")
    d.add_population_split(time=1_500, derived=["nordic", "uk"], ancestral="ancestral")
    d.set_symmetric_migration_rate(["dk", "se"], 1e-5)
    d.sort_events()
    return d


def _simulate_contig(plan: Plan, index: int, progress: Callable[[str], None]) -> Contig:
    import msprime

    name, length = plan.contigs[index]
    seed = plan.model.seed + 1000 * index
    while True:
        progress(f"simulating {name}: {sum(plan.samples)} samples over {length:,} bp with msprime")
        ts = msprime.sim_ancestry(
            samples=dict(zip(COHORTS, plan.samples, strict=True)),
            demography=demography(),
            sequence_length=length,
            recombination_rate=RECOMBINATION_RATE,
            random_seed=seed,
        )
        ts = msprime.sim_mutations(ts, rate=MUTATION_RATE, random_seed=seed + 1)
        if plan.n_sites is None or ts.num_sites >= plan.n_sites:
            break
        length = int(length * 1.5)
    if plan.n_sites is not None:
        last = ts.tables.sites.position[plan.n_sites - 1]
        ts = ts.keep_intervals([[0, last + 1]])
        length = int(last) + 2  # one past the last site's 1-based position
    return Contig(name, length, *_contig_genotypes(ts))


def _contig_genotypes(ts) -> tuple[np.ndarray, list[list[str]], np.ndarray]:
    """Positions (1-based), alleles per site and genotypes (variants, samples, 2) int8."""
    positions = ts.tables.sites.position.astype(np.int64) + 1  # VCF is 1-based
    alleles = []
    haplotypes = np.empty((ts.num_sites, ts.num_samples), dtype=np.int8)
    for var in ts.variants():
        haplotypes[var.site.id] = var.genotypes
        alleles.append([a for a in var.alleles if a is not None])
    return positions, alleles, haplotypes.reshape(ts.num_sites, -1, 2)


def _phenotypes(dosage: np.ndarray, population: np.ndarray, model: ModelParameters, rng):
    """Quantitative (LDL) and binary (T2D) traits with covariates age and sex.

    ``dosage`` is (samples, causal variants) ALT dosage. Population means differ a little, so
    that a pooled analysis without adjustment would see stratification, as in real meta-analyses.
    """
    n = dosage.shape[0]
    age = rng.integers(30, 80, size=n)
    sex = rng.integers(1, 3, size=n)  # plink2: 1 = male, 2 = female
    std = (dosage - dosage.mean(0)) / np.where(dosage.std(0) > 0, dosage.std(0), 1)
    beta_qt = rng.normal(0, 1, size=dosage.shape[1])
    genetic = std @ beta_qt
    genetic *= np.sqrt(model.heritability) / genetic.std()
    shift = np.array([0.0, 0.1, -0.1])[population]
    noise = rng.normal(0, np.sqrt(1 - model.heritability), size=n)
    qt = 3.0 + 0.5 * (genetic + noise) + 0.01 * (age - 55) - 0.1 * (sex - 1) + shift
    beta_bin = rng.normal(0, 1, size=dosage.shape[1])
    liability = std @ beta_bin
    liability *= np.sqrt(model.heritability) / liability.std()
    liability += 0.02 * (age - 55) + rng.normal(0, np.sqrt(1 - model.heritability), size=n)
    case = liability > np.quantile(liability, 1 - model.prevalence)
    return qt, case.astype(np.int8) + 1, age, sex, beta_qt, beta_bin


def _causal_candidates(contig: Contig) -> np.ndarray:
    """Sites fit to be causal: biallelic, with an ALT frequency between 0.1 and 0.9."""
    biallelic = np.array([len(a) for a in contig.alleles]) == 2
    g = contig.genotypes
    freq = g.sum(axis=(1, 2), dtype=np.int64) / (2 * g.shape[1])
    return np.flatnonzero(biallelic & (np.abs(freq - 0.5) < 0.4))


def simulate(plan: Plan, progress: Callable[[str], None] = lambda msg: None) -> Simulated:
    """Genotypes of every contig, causal variants and phenotypes, then missing calls.

    Memory is about two bytes per genotype (all haplotypes once, as int8).
    """
    model = plan.model
    rng = np.random.default_rng(model.seed)
    contigs = [_simulate_contig(plan, i, progress) for i in range(len(plan.contigs))]

    # causal variants: common, biallelic, spread over all contigs
    candidates = [(contig, i) for contig in contigs for i in _causal_candidates(contig)]
    chosen = rng.choice(len(candidates), size=min(model.n_causal, len(candidates)), replace=False)
    causal = [candidates[k] for k in sorted(chosen)]
    dosage = np.stack([contig.genotypes[i].sum(axis=1) for contig, i in causal], axis=1)
    population = np.repeat(np.arange(len(COHORTS)), plan.samples)
    qt, case, age, sex, beta_qt, beta_bin = _phenotypes(
        dosage.astype(float), population, model, rng
    )
    causal_table = pd.DataFrame(
        {
            "CHROM": [contig.name for contig, _ in causal],
            "POS": [int(contig.positions[i]) for contig, i in causal],
            "ID": [
                f"{contig.name}:{contig.positions[i]}:{':'.join(contig.alleles[i])}"
                for contig, i in causal
            ],
            f"BETA_{QUANTITATIVE.upper()}": beta_qt,
            f"BETA_{BINARY.upper()}_LIABILITY": beta_bin,
        }
    )

    # missing calls, after the phenotypes are fixed
    for contig in contigs:
        for start in range(0, len(contig.genotypes), _BLOCK):
            block = contig.genotypes[start : start + _BLOCK]
            block[rng.random(block.shape[:2]) < model.missing_rate] = -1
    samples = pd.DataFrame({QUANTITATIVE: np.round(qt, 4), BINARY: case, "age": age, "sex": sex})
    return Simulated(contigs, samples, causal_table)


# --- files ------------------------------------------------------------------------------------


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
            for start in range(0, len(positions), _BLOCK):
                body = _vcf_body(genotypes[start : start + _BLOCK])
                for i, pos in enumerate(positions[start : start + _BLOCK]):
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


# --- the pipeline -----------------------------------------------------------------------------


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
    params: DemoParameters = DemoParameters(),
    *,
    progress: Callable[[str], None] = lambda msg: None,
    worker_processes: int = 0,
) -> list[CohortFiles]:
    """Simulate the three demo cohorts into ``out/<cohort>/``; returns what was written.

    Existing cohort directories under ``out`` are replaced only once the new ones are complete.
    """
    return simulate_plan(
        out,
        params.plan(),
        subdirectories=True,
        progress=progress,
        worker_processes=worker_processes,
    )


def simulate_cohort(
    out: Path,
    params: CohortParameters = CohortParameters(),
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
        params.plan(name),
        subdirectories=False,
        progress=progress,
        worker_processes=worker_processes,
    )
    return files


# --- registration -----------------------------------------------------------------------------


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
