"""Small VCFs written for the purpose: every ploidy and shape of callset tresor must handle.

Each function returns a :class:`Fixture`: the VCF as text (so a reader sees exactly what is
tested), and where an analysis needs them a plink2 phenotype file, a covariate file and a sex
file (``#IID SEX``, 1 = male) so that plink2 can run its sex-aware rules on the same samples.
:func:`write` bgzips and indexes a fixture (pysam); :func:`convert` turns it into VCF Zarr with
bio2zarr, as ``tresor datasets add`` does.

The larger fixtures (haploid, sex chromosomes, no IDs) hold two groups of samples with
different allele frequencies, so that PCA has structure to find and GWAS a causal variant.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np

CONTIG_LENGTHS = {"chr1": 248_956_422, "chr21": 46_709_983, "chrX": 156_040_895}
CONTIG_LENGTHS |= {"chrY": 57_227_415, "chrM": 16_569}


@dataclasses.dataclass(frozen=True)
class Fixture:
    """One VCF and the sample files that go with it (plink2 formats, text)."""

    name: str
    vcf: str
    pheno: str | None = None
    covar: str | None = None
    sex: str | None = None


def header(
    samples: list[str],
    contigs: list[str],
    *,
    info: tuple[str, ...] = (),
    formats: tuple[str, ...] = (),
    extra: tuple[str, ...] = (),
) -> str:
    lines = [
        "##fileformat=VCFv4.3",
        "##reference=GRCh38",
        *(f"##contig=<ID={c},length={CONTIG_LENGTHS[c]}>" for c in contigs),
        *info,
        '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">',
        *formats,
        *extra,
        "#"
        + "\t".join(["CHROM", "POS", "ID", "REF", "ALT", "QUAL", "FILTER", "INFO", "FORMAT"])
        + "\t"
        + "\t".join(samples),
    ]
    return "\n".join(lines) + "\n"


def record(contig, pos, id_, ref, alt, calls, *, info=".", fmt="GT") -> str:
    return "\t".join([contig, str(pos), id_, ref, alt, ".", "PASS", info, fmt, *calls]) + "\n"


def _call(alleles: np.ndarray, phased: bool = False) -> str:
    """'0/1', '1', '.' or './.' from allele indexes (-1 missing)."""
    text = ["." if a < 0 else str(a) for a in alleles]
    return ("|" if phased else "/").join(text)


def _group_genotypes(rng, n_variants: int, groups: list[int], missing: float) -> np.ndarray:
    """(variants, samples, 2) ALT indicators, allele frequencies differing by group."""
    base = rng.uniform(0.15, 0.85, n_variants)
    blocks = []
    for k, size in enumerate(groups):
        shift = 0.25 if k % 2 else -0.25
        f = np.clip(base + shift * rng.uniform(0.3, 1, n_variants), 0.03, 0.97)
        blocks.append((rng.random((n_variants, size, 2)) < f[:, None, None]).astype(np.int8))
    g = np.concatenate(blocks, axis=1)
    g[rng.random(g.shape[:2]) < missing] = -1
    return g


def _pheno_text(ids: list[str], dosage: np.ndarray, rng) -> str:
    """Quantitative ``qt`` and binary ``cc`` (1 control, 2 case) driven by ``dosage``."""
    qt = 1.5 * dosage + rng.normal(0, 1, len(ids))
    liability = 1.2 * dosage + rng.normal(0, 1, len(ids))
    cc = np.where(liability > np.median(liability), 2, 1)
    rows = [f"{i}\t{q:.4f}\t{c}" for i, q, c in zip(ids, qt, cc, strict=True)]
    return "#IID\tqt\tcc\n" + "\n".join(rows) + "\n"


def _sex_text(ids: list[str], male: np.ndarray) -> str:
    rows = [f"{i}\t{1 if m else 2}" for i, m in zip(ids, male, strict=True)]
    return "#IID\tSEX\n" + "\n".join(rows) + "\n"


def haploid(n_samples: int = 40, n_variants: int = 150) -> Fixture:
    """chrY of men only: ploidy 1 throughout (a ploidy-1 store), 1% missing calls."""
    rng = np.random.default_rng(101)
    ids = [f"M{i:03d}" for i in range(n_samples)]
    g = _group_genotypes(rng, n_variants, [n_samples // 2, n_samples - n_samples // 2], 0.01)
    g = g[:, :, :1]
    positions = np.sort(rng.choice(np.arange(2_800_000, 20_000_000), n_variants, replace=False))
    body = "".join(
        record("chrY", p, f"rsY{v}", "A", "G", [_call(c) for c in g[v]])
        for v, p in enumerate(positions)
    )
    causal = np.where(g[10, :, 0] < 0, 0, g[10, :, 0]).astype(float)
    return Fixture(
        "haploid",
        header(ids, ["chrY"]) + body,
        pheno=_pheno_text(ids, causal, rng),
        sex=_sex_text(ids, np.ones(n_samples, bool)),
    )


def sex_chromosomes(n_samples: int = 40, n_auto: int = 200, n_x: int = 80) -> Fixture:
    """chr21 diploid for everyone; chrX haploid for the men (the first half), diploid for the
    women: mixed ploidy within a variant. No variant IDs."""
    rng = np.random.default_rng(102)
    ids = [f"S{i:03d}" for i in range(n_samples)]
    male = np.arange(n_samples) < n_samples // 2
    # groups cut across sex, so that sex and ancestry are not confounded
    groups = [n_samples // 4, n_samples // 4, n_samples // 4, n_samples - 3 * (n_samples // 4)]
    auto = _group_genotypes(rng, n_auto, groups, 0.01)
    x = _group_genotypes(rng, n_x, groups, 0.01)
    order = np.r_[0 : n_samples // 4, n_samples // 2 : 3 * n_samples // 4]
    order = np.r_[order, n_samples // 4 : n_samples // 2, 3 * n_samples // 4 : n_samples]
    auto, x = auto[:, order], x[:, order]  # men: groups 0 and 2; women: 1 and 3
    lines = []
    for contig, g in (("chr21", auto), ("chrX", x)):
        positions = np.sort(rng.choice(np.arange(5_000_000, 40_000_000), len(g), replace=False))
        for v, p in enumerate(positions):
            calls = [
                _call(c[:1]) if contig == "chrX" and male[s] else _call(c)
                for s, c in enumerate(g[v])
            ]
            lines.append(record(contig, p, ".", "C", "T", calls))
    x_dosage = np.where(x[5, :, 0] < 0, 0, x[5, :, 0]).astype(float)
    x_dosage += np.where(male, 0, np.where(x[5, :, 1] < 0, 0, x[5, :, 1]))
    covar = "#IID\tsex\n" + "".join(
        f"{i}\t{1 if m else 2}\n" for i, m in zip(ids, male, strict=True)
    )
    return Fixture(
        "sex_chromosomes",
        header(ids, ["chr21", "chrX"]) + "".join(lines),
        pheno=_pheno_text(ids, x_dosage, rng),
        covar=covar,
        sex=_sex_text(ids, male),
    )


def triploid() -> Fixture:
    """Diploid calls and one triploid call: bio2zarr makes the whole store ploidy 3."""
    ids = ["T1", "T2", "T3", "T4", "T5", "T6"]
    body = (
        record("chr1", 1000, "rs1", "A", "G", ["0/0", "0/1", "1/1", "0/1", "0/0", "0/0"])
        + record("chr1", 2000, "rs2", "C", "T", ["0/1/1", "0/0", "0/1", "1/1", "./.", "0/0"])
        + record("chr1", 3000, "rs3", "G", "A", ["0/1", "0/1", "0/0", "0/0", "1/1", "0/1"])
    )
    pheno = "#IID\tqt\n" + "".join(
        f"{i}\t{v}\n" for i, v in zip(ids, [0.5, 1.4, 2.3, 2.9, 0.7, 0.2], strict=True)
    )
    return Fixture("triploid", header(ids, ["chr1"]) + body, pheno=pheno)


def chrm() -> Fixture:
    """chrM as variant callers write it: haploid calls, and one heteroplasmic call written as a
    diploid 0/1 (Mutect2 style)."""
    ids = ["P1", "P2", "P3", "P4", "P5"]
    body = (
        record("chrM", 73, "mt73", "A", "G", ["1", "1", "0", "1", "."])
        + record("chrM", 263, "mt263", "A", "G", ["1", "1", "1", "1", "1"])
        + record("chrM", 16519, "mt16519", "T", "C", ["0", "0/1", "1", "0", "1"])
    )
    return Fixture("chrm", header(ids, ["chrM"]) + body)


def half_calls() -> Fixture:
    """Diploid calls with one allele missing (``./1``, ``0/.``), as some callers write them."""
    ids = ["H1", "H2", "H3", "H4", "H5", "H6"]
    body = record(
        "chr1", 100, "rs100", "A", "G", ["./1", "0/1", "1/1", "0/0", "0/.", "./."]
    ) + record("chr1", 200, "rs200", "C", "T", ["0/1", "0/1", "./0", "1/1", "0/0", "0/1"])
    return Fixture("half_calls", header(ids, ["chr1"]) + body)


def gvcf() -> Fixture:
    """A joint gVCF: ``<NON_REF>`` on every record, reference blocks with END."""
    ids = ["G1", "G2", "G3", "G4"]
    info = ('##INFO=<ID=END,Number=1,Type=Integer,Description="End of the reference block">',)
    fmt = ('##FORMAT=<ID=DP,Number=1,Type=Integer,Description="Depth">',)
    alt = ('##ALT=<ID=NON_REF,Description="Any other allele">',)
    rows = [
        ("chr1", 1000, "A", "<NON_REF>", "0/0:12 0/0:12 0/0:12 0/0:12", "END=1999"),
        ("chr1", 2000, "C", "T,<NON_REF>", "0/1:10 0/0:9 1/1:14 0/1:11", "."),
        ("chr1", 2001, "G", "<NON_REF>", "0/0:9 0/0:9 0/0:9 0/0:9", "END=2999"),
        ("chr1", 3000, "T", "G,<NON_REF>", "0/0:8 0/1:12 0/1:10 0/0:7", "."),
    ]
    body = "".join(
        record(c, p, ".", r, a, calls.split(), info=i, fmt="GT:DP") for c, p, r, a, calls, i in rows
    )
    return Fixture("gvcf", header(ids, ["chr1"], info=info, formats=fmt, extra=alt) + body)


def phased_dosages() -> Fixture:
    """Imputed data: phased calls with dosages (DS) and genotype probabilities (GP)."""
    ids = ["D1", "D2", "D3", "D4", "D5"]
    fmt = (
        '##FORMAT=<ID=DS,Number=A,Type=Float,Description="ALT dosage">',
        '##FORMAT=<ID=GP,Number=G,Type=Float,Description="Genotype probabilities">',
    )
    rows = [
        ("rs500", 500, "G", "A", "0|0:0.05:0.95,0.05,0 0|1:0.98:0.02,0.98,0 1|1:1.9:0,0.1,0.9 "
         "1|0:1.1:0,0.9,0.1 0|0:0:1,0,0"),
        ("rs600", 600, "T", "C", "0|1:1:0,1,0 0|0:0.2:0.8,0.2,0 0|0:0:1,0,0 1|1:2:0,0,1 "
         "0|1:0.9:0.1,0.9,0"),
    ]  # fmt: skip
    body = "".join(
        record("chr1", p, i, r, a, calls.split(), fmt="GT:DS:GP") for i, p, r, a, calls in rows
    )
    return Fixture("phased_dosages", header(ids, ["chr1"], formats=fmt) + body)


def multiallelic() -> Fixture:
    """Sites with two and three ALT alleles, one ALT absent from every call, and a site where
    plink2 2.00a3.5 --glm omits REF although G is the most common allele: G/G homozygotes
    seem to count once in its choice (REF A: 9 copies, G: 10 copies from five G/G)."""
    ids = [f"K{i:02d}" for i in range(12)]
    qt = [1.2, 0.4, 2.2, 1.9, 0.3, 0.8, 1.1, 2.5, 0.2, 1.7, 0.9, 1.4]
    pheno = "#IID\tqt\n" + "".join(f"{i}\t{v}\n" for i, v in zip(ids, qt, strict=True))
    rows = [
        ("rs100", 100, "A", "C,G", "0/0 0/0 0/0 0/0 0/1 2/2 2/2 2/2 2/2 2/2 ./. ./."),
        ("rs200", 200, "T", "C,G,A", "0/1 1/2 2/2 0/0 0/2 1/1 0/3 0/0 0/1 1/2 0/0 2/3"),
        ("rs300", 300, "G", "T,C", "0/1 0/0 1/1 0/1 0/0 0/1 1/1 0/0 0/1 0/0 0/1 0/0"),
    ]
    body = "".join(record("chr1", p, i, r, a, calls.split()) for i, p, r, a, calls in rows)
    return Fixture("multiallelic", header(ids, ["chr1"]) + body, pheno=pheno)


def no_ids(n_samples: int = 60, n_variants: int = 300) -> Fixture:
    """Diploid, ID '.' on every record (as many pipelines write): prune lists must still name
    variants (CHROM:POS:REF:ALT)."""
    rng = np.random.default_rng(103)
    ids = [f"N{i:03d}" for i in range(n_samples)]
    g = _group_genotypes(rng, n_variants, [n_samples // 2, n_samples - n_samples // 2], 0.005)
    positions = np.sort(rng.choice(np.arange(1_000_000, 40_000_000), n_variants, replace=False))
    bases = np.array(list("ACGT"))
    ref = rng.integers(0, 4, n_variants)
    alt = (ref + rng.integers(1, 4, n_variants)) % 4
    body = "".join(
        record("chr21", p, ".", bases[ref[v]], bases[alt[v]], [_call(c) for c in g[v]])
        for v, p in enumerate(positions)
    )
    return Fixture("no_ids", header(ids, ["chr21"]) + body)


def malformed_number_a() -> Fixture:
    """INFO/AF declared Number=A but given two values at a biallelic site: bio2zarr refuses
    the file ("Max number of values 2 exceeds max alt alleles 1 for INFO/AF")."""
    ids = ["B1", "B2", "B3"]
    info = ('##INFO=<ID=AF,Number=A,Type=Float,Description="Allele frequency">',)
    body = record("chr1", 100, "rs1", "A", "G", ["0/1", "0/0", "1/1"], info="AF=0.5") + record(
        "chr1", 200, "rs2", "C", "T", ["0/0", "0/1", "0/1"], info="AF=0.33,0.1"
    )
    return Fixture("malformed_number_a", header(ids, ["chr1"], info=info) + body)


FIXTURES = (
    haploid,
    sex_chromosomes,
    triploid,
    chrm,
    half_calls,
    gvcf,
    phased_dosages,
    multiallelic,
    no_ids,
    malformed_number_a,
)
#: Fixtures bio2zarr cannot convert as they are.
UNREADABLE = ("malformed_number_a",)


@dataclasses.dataclass(frozen=True)
class Written:
    """A fixture on disk: the bgzipped, indexed VCF, its sample files and VCF Zarr store (None
    where absent)."""

    name: str
    vcf: Path
    pheno: Path | None
    covar: Path | None
    sex: Path | None
    store: Path | None = None


def write(fixture: Fixture, directory: Path) -> Written:
    """``directory/NAME.vcf.gz`` (bgzip) with its tabix index, and the sample files."""
    import pysam

    directory.mkdir(parents=True, exist_ok=True)
    plain = directory / f"{fixture.name}.vcf"
    plain.write_text(fixture.vcf)
    vcf = directory / f"{fixture.name}.vcf.gz"
    pysam.tabix_compress(str(plain), str(vcf), force=True)
    pysam.tabix_index(str(vcf), preset="vcf", force=True)
    plain.unlink()
    paths = {}
    for kind in ("pheno", "covar", "sex"):
        text = getattr(fixture, kind)
        if text is not None:
            paths[kind] = directory / f"{fixture.name}.{kind}"
            paths[kind].write_text(text)
    return Written(fixture.name, vcf, paths.get("pheno"), paths.get("covar"), paths.get("sex"))


def convert(written: Written) -> Written:
    """The fixture with its VCF converted to VCF Zarr (``NAME.vcz`` beside it) by bio2zarr."""
    from bio2zarr import vcf as b2z

    store = written.vcf.with_name(f"{written.name}.vcz")
    b2z.convert([str(written.vcf)], str(store), worker_processes=0, show_progress=False)
    return dataclasses.replace(written, store=store)
