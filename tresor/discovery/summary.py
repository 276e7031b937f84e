"""Disclosure control of allele-frequency summaries: what a summary may say about a variant.

With the floor F (:func:`floor`: the larger of the federation's minimum, default 10, and the
node's own thresholds), for each variant and each stratum s (``ALL``, then the groups of the
declared stratum columns, e.g. ``sex=female``):

1. **Seen at least F times, or not at all.** A variant is in the summary only when its ALT allele
   count over all samples is at least F. A variant seen 1..F-1 times is left out, exactly like
   a variant the node does not have: every answer (exists, count, record) is then the same as
   for an absent variant, so the summary reveals nothing about fewer than F alleles.
2. **Symmetric suppression.** A row's allele counts are shown only when AC and AN - AC are each
   0 or at least F, and at least F people were called in the stratum (else the stratum is too
   small: no count). Otherwise both are withheld (AC and AN null, SUPPRESSED true): showing AN
   with one of them would give the other.
3. **Genotype counts** (homozygous REF, heterozygous, homozygous ALT, haploid REF, haploid ALT:
   counts of people) are shown only when each is 0 or at least F; they follow from AC and AN
   together, so either all or none.
4. **Collapse to the total.** Where any stratum row of a variant is suppressed, none of the
   variant's stratum rows is written, only ``ALL`` (a stratum would otherwise be the total minus
   the others); where any stratum's genotype counts are withheld, they are withheld in every
   stratum row. A stratum column whose smallest group has fewer than F samples is not used at
   all.

The same rules give the counts by sex in a dataset description (:func:`sex_counts`).
"""

from __future__ import annotations

import dataclasses

import numpy as np

#: the floor when neither the federation nor the node asks for more
DEFAULT_FLOOR = 10
ALL = "ALL"

#: the summary table's columns, in order
COLUMNS = (
    "CHROM", "POS", "REF", "ALT", "STRATUM", "AC", "AN",
    "HOM_REF_CT", "HET_REF_ALT_CTS", "TWO_ALT_GENO_CTS", "HAP_REF_CT", "HAP_ALT_CT",
    "SUPPRESSED",
)  # fmt: skip
GENOTYPES = ("HOM_REF_CT", "HET_REF_ALT_CTS", "TWO_ALT_GENO_CTS", "HAP_REF_CT", "HAP_ALT_CT")
#: plink2 coding of a ``sex`` column
SEX_CODES = {"1": "male", "2": "female"}


def floor(federation_minimum: int = DEFAULT_FLOOR, *node_minimums: int) -> int:
    """max(federation minimum, DEFAULT_FLOOR, the node's own thresholds)."""
    return max(federation_minimum, DEFAULT_FLOOR, *node_minimums)


@dataclasses.dataclass
class Counts:
    """One stratum's counts over a block of variants (arrays of equal length)."""

    ac: np.ndarray
    an: np.ndarray
    called: np.ndarray  # people with a call
    hom_ref: np.ndarray
    het: np.ndarray
    hom_alt: np.ndarray
    hap_ref: np.ndarray
    hap_alt: np.ndarray

    def genotypes(self) -> np.ndarray:
        return np.stack([self.hom_ref, self.het, self.hom_alt, self.hap_ref, self.hap_alt], 1)

    @classmethod
    def total(cls, parts: list[Counts]) -> Counts:
        return cls(
            **{f.name: sum(getattr(p, f.name) for p in parts) for f in dataclasses.fields(cls)}
        )


def _zero_or_at_least(values: np.ndarray, f: int) -> np.ndarray:
    return (values == 0) | (values >= f)


def allele_counts_shown(c: Counts, f: int) -> np.ndarray:
    """Rule 2: AC and AN - AC each 0 or >= f, and at least f people called."""
    return _zero_or_at_least(c.ac, f) & _zero_or_at_least(c.an - c.ac, f) & (c.called >= f)


def genotype_counts_shown(c: Counts, f: int) -> np.ndarray:
    """Rule 3: every genotype count 0 or >= f (and the allele counts shown)."""
    return _zero_or_at_least(c.genotypes(), f).all(axis=1) & allele_counts_shown(c, f)


@dataclasses.dataclass(frozen=True)
class Decision:
    """What a block's summary shows: per variant and per row (column 0 ``ALL``, then strata)."""

    released: np.ndarray  # (variants,) the variant is in the summary (rule 1)
    rows: np.ndarray  # (variants, 1 + strata) the row is written (rule 4)
    alleles: np.ndarray  # (variants, 1 + strata) its AC and AN are shown (rule 2)
    genotypes: np.ndarray  # (variants, 1 + strata) its genotype counts are shown (rule 3, 4)


def decide(total: Counts, strata: list[Counts], f: int, candidates: np.ndarray) -> Decision:
    """Apply the rules to a block; ``candidates`` marks the variants that may be summarised at
    all (biallelic sites)."""
    released = candidates & (total.ac >= f)
    rows_all = [total, *strata]
    alleles = np.stack([allele_counts_shown(c, f) for c in rows_all], 1)
    genotypes = np.stack([genotype_counts_shown(c, f) for c in rows_all], 1)
    rows = np.zeros_like(alleles)
    rows[:, 0] = released
    if strata:
        strata_ok = alleles[:, 1:].all(axis=1)
        rows[:, 1:] = (released & strata_ok)[:, None]
        all_genotypes = genotypes[:, 1:].all(axis=1)
        genotypes[:, 1:] &= all_genotypes[:, None]
    return Decision(released, rows, alleles & rows, genotypes & rows)


def usable_strata(groups: dict[str, int], f: int) -> bool:
    """Rule 4's last sentence: every group of a stratum column has at least f samples."""
    return bool(groups) and min(groups.values()) >= f


def sex_labels(values: list[str | None]) -> list[str]:
    """plink2 sex codes -> ``male``, ``female`` or ``unknown`` per sample."""
    return [SEX_CODES.get(str(v).strip(), "unknown") if v is not None else "unknown"
            for v in values]  # fmt: skip


def sex_counts(labels: list[str], f: int) -> dict[str, int] | None:
    """Samples by sex for a description, or None when a non-zero group is below the floor
    (then only the total is published: collapse to the total)."""
    counts: dict[str, int] = {}
    for label in labels:
        counts[label] = counts.get(label, 0) + 1
    if any(0 < n < f for n in counts.values()):
        return None
    return dict(sorted(counts.items()))
