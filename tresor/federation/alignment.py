"""Allele alignment across nodes: the same variant, whichever allele a node calls REF.

Rules (docs/federation.md, "Allele alignment"):
- A variant is (contig, position, the unordered pair of alleles). REF and ALT are taken as the
  nodes give them, on the forward strand of the genome build that every bundle declares (VCF's
  rule); alleles are never complemented, so a strand-flipped non-ambiguous site shows as a
  different pair of alleles, a different row, each incomplete.
- Orientation: the REF/ALT order that most nodes reporting the variant use; on a tie, the
  order of the first of them in node order. A node with the other order is flipped: its
  statistics are transformed as for g -> 2 - g (see :data:`FLIPS`), and the row says so.
- Strand-ambiguous sites (A/T, C/G): a swapped order cannot be told from a strand flip, so such
  a node is not flipped but left out of that row, and the row says so
  (``ambiguous_swap_excluded=<node>``); nodes that agree with the orientation are merged.
- A node with two rows for one variant (and stratum) is an error: its table is malformed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

from tresor.federation.streams import NODE

AMBIGUOUS = frozenset({("A", "T"), ("C", "G")})


def _flip_allele_counts(f: pd.DataFrame, nodes: dict) -> None:
    f["AC"] = f["AN"] - f["AC"]
    f["HOM_REF_CT"], f["TWO_ALT_GENO_CTS"] = f["TWO_ALT_GENO_CTS"].copy(), f["HOM_REF_CT"].copy()


def _flip_summary_counts(f: pd.DataFrame, nodes: dict) -> None:
    _flip_allele_counts(f, nodes)
    f["HAP_REF_CT"], f["HAP_ALT_CT"] = f["HAP_ALT_CT"].copy(), f["HAP_REF_CT"].copy()


def _flip_genotype_counts(f: pd.DataFrame, nodes: dict) -> None:
    f["HOM_REF_CT"], f["TWO_ALT_GENO_CTS"] = f["TWO_ALT_GENO_CTS"].copy(), f["HOM_REF_CT"].copy()


def _flip_sufficient_statistics(f: pd.DataFrame, nodes: dict) -> None:
    """g -> 2 - g with the node's n, C'1 (first column of C'C) and 1'y (first entry of C'y):
    C'g -> 2 C'1 - C'g, g'g -> 4n - 4 1'g + g'g, g'y -> 2 1'y - g'y."""
    node = f[NODE].to_numpy()
    n = np.array([nodes[k]["n"] for k in range(len(nodes))], float)[node]
    ones_y = np.array([nodes[k]["cty"][0] for k in range(len(nodes))])[node]
    sum_g = f["CG_INTERCEPT"].to_numpy().copy()
    f["GG"] = 4 * n - 4 * sum_g + f["GG"]
    f["GY"] = 2 * ones_y - f["GY"]
    predictors = nodes[0]["predictors"]
    for j, p in enumerate(predictors):
        ones_c = np.array([nodes[k]["ctc"][j, 0] for k in range(len(nodes))])[node]
        f[f"CG_{p}"] = 2 * ones_c - f[f"CG_{p}"]
    f["AC"] = f["AN"] - f["AC"]


def _flip_summary_statistics(f: pd.DataFrame, nodes: dict) -> None:
    f["BETA"] = -f["BETA"]
    f["T_STAT"] = -f["T_STAT"]
    f["A1_FREQ"] = 1.0 - f["A1_FREQ"]


#: what swapping REF and ALT does to each analysis' per-variant statistics
FLIPS: dict[str, Callable[[pd.DataFrame, dict], None]] = {
    "allele_counts": _flip_allele_counts,
    "allele_frequency_summary": _flip_summary_counts,
    "hwe_counts": _flip_genotype_counts,
    "linear_gwas_sufficient_statistics": _flip_sufficient_statistics,
    "gwas_summary_statistics": _flip_summary_statistics,
}


class AlignmentError(ValueError):
    """A node's table that cannot be aligned (e.g. one variant twice)."""


def align(
    frame: pd.DataFrame,
    analysis: str,
    node_names: Sequence[str],
    nodes: dict | None = None,
    *,
    extra_keys: Sequence[str] = (),
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(rows in the merged orientation, flags per variant).

    ``frame`` holds the rows of one window of every node (with a NODE column). The returned rows
    have REF/ALT set to the merged orientation, flipped statistics where a node had them the
    other way, and no rows of nodes left out at strand-ambiguous sites. The flags frame has one
    row per variant that has something to say: POS, REF, ALT and FLAGS.
    """
    ref = frame["REF"].to_numpy(dtype=object)
    alt = frame["ALT"].to_numpy(dtype=object)
    swapped = ref > alt  # orientation relative to the alleles in sorted order
    frame = frame.assign(_LO=np.where(swapped, alt, ref), _HI=np.where(swapped, ref, alt))
    frame["_SW"] = swapped
    key = ["POS", "_LO", "_HI"]
    duplicated = frame.duplicated([NODE, *key, *extra_keys])
    if duplicated.any():
        row = frame[duplicated].iloc[0]
        raise AlignmentError(
            f"node {node_names[int(row[NODE])]} reports {row['CHROM']}:{row['POS']} "
            f"{row['_LO']}/{row['_HI']} twice; its table is malformed"
        )
    # one vote per node and variant: how many nodes use each orientation, and the first of them
    votes = (
        frame.drop_duplicates([NODE, *key])
        .groupby([*key, "_SW"], sort=False)[NODE]
        .agg(["size", "min"])
        .reset_index()
    )
    votes = votes.sort_values([*key, "size", "min"], ascending=[True, True, True, False, True])
    canonical = votes.drop_duplicates(key, keep="first")[[*key, "_SW"]]
    frame = frame.merge(canonical.rename(columns={"_SW": "_CANON"}), on=key, how="left")
    flip = (frame["_SW"] != frame["_CANON"]).to_numpy()
    lo, hi = frame["_LO"].to_numpy(), frame["_HI"].to_numpy()
    ambiguous = np.zeros(len(frame), bool)
    for a, b in AMBIGUOUS:
        ambiguous |= (lo == a) & (hi == b)
    excluded = flip & ambiguous
    flipped = flip & ~ambiguous

    flags = []
    for mask, word in ((flipped, "flipped"), (excluded, "ambiguous_swap_excluded")):
        if mask.any():
            part = frame.loc[mask, [*key, NODE]]
            part = part.assign(FLAG=[f"{word}={node_names[k]}" for k in part[NODE]])
            flags.append(part[[*key, "FLAG"]])
    if flipped.any():
        rows = frame.loc[flipped].copy()
        FLIPS[analysis](rows, nodes or {})
        frame.loc[flipped, rows.columns] = rows
    frame = frame.loc[~excluded]
    canon = frame["_CANON"].to_numpy()
    frame = frame.assign(
        REF=np.where(canon, frame["_HI"], frame["_LO"]),
        ALT=np.where(canon, frame["_LO"], frame["_HI"]),
    )
    if flags:
        f = pd.concat(flags, ignore_index=True).drop_duplicates()
        f = f.merge(canonical, on=key, how="left")
        f["REF"] = np.where(f["_SW"], f["_HI"], f["_LO"])
        f["ALT"] = np.where(f["_SW"], f["_LO"], f["_HI"])
        f = f.groupby(["POS", "REF", "ALT"], sort=False)["FLAG"].agg(";".join).reset_index()
        f = f.rename(columns={"FLAG": "FLAGS"})
    else:
        f = pd.DataFrame({"POS": [], "REF": [], "ALT": [], "FLAGS": []})
    return frame.drop(columns=["_LO", "_HI", "_SW", "_CANON"]), f
