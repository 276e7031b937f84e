"""The simulation, in memory: msprime genotypes of three populations, causal variants,
phenotypes and missing calls, from a :class:`Plan` that says what to simulate and how its
samples become cohorts.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import NamedTuple

import numpy as np
import pandas as pd

COHORTS = ("dk", "se", "uk")  # also msprime's populations, in the order their samples come
QUANTITATIVE = "ldl"  # LDL cholesterol, mmol/L
BINARY = "t2d"  # type 2 diabetes: plink2 coding 1 = control, 2 = case
POPULATION_SIZE = 10_000
MUTATION_RATE = 1.25e-8
RECOMBINATION_RATE = 1e-8
BLOCK = 2_000  # variants at a time: missing calls and VCF text, so no cohort needs it all at once


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
        for start in range(0, len(contig.genotypes), BLOCK):
            block = contig.genotypes[start : start + BLOCK]
            block[rng.random(block.shape[:2]) < model.missing_rate] = -1
    samples = pd.DataFrame({QUANTITATIVE: np.round(qt, 4), BINARY: case, "age": age, "sex": sex})
    return Simulated(contigs, samples, causal_table)
