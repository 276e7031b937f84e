"""Manhattan, QQ and PCA scatter plots with matplotlib, for notebooks and as PNG from the CLI.

The plotting functions take plain arrays (or a results table) and an optional Axes, return the
Axes, and never call ``plt.show()``; ``save_*`` helpers write PNGs with the Agg backend.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

GENOME_WIDE = 5e-8


def _axes(ax):
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    return plt.figure(figsize=(10, 4)).gca()


def manhattan(
    chrom: Sequence[str],
    pos: Sequence[int],
    p: Sequence[float],
    *,
    ax=None,
    threshold: float = GENOME_WIDE,
    title: str | None = None,
):
    """-log10(P) along the genome, contigs in order of appearance, alternating colours."""
    ax = _axes(ax)
    table = pd.DataFrame({"chrom": np.asarray(chrom), "pos": np.asarray(pos), "p": np.asarray(p)})
    table = table[np.isfinite(table["p"]) & (table["p"] > 0)]
    offset = 0
    ticks, labels = [], []
    for i, (name, group) in enumerate(table.groupby("chrom", sort=False)):
        x = group["pos"].to_numpy() + offset
        ax.scatter(x, -np.log10(group["p"]), s=4, color=("#1f4e79", "#7f9fbf")[i % 2], lw=0)
        ticks.append((x.min() + x.max()) / 2)
        labels.append(str(name))
        offset = x.max() + 1
    ax.axhline(-np.log10(threshold), color="#b22222", lw=0.8, ls="--")
    ax.set_xticks(ticks, labels)
    ax.set_xlabel("chromosome")
    ax.set_ylabel("-log10(P)")
    if title:
        ax.set_title(title)
    return ax


def qq(p: Sequence[float], *, ax=None, title: str | None = None):
    """Observed against expected -log10(P), with the genomic inflation factor lambda_GC."""
    from scipy import stats

    ax = ax or _axes(None)
    p = np.asarray(p, dtype=float)
    p = np.sort(p[np.isfinite(p) & (p > 0)])
    expected = -np.log10((np.arange(1, len(p) + 1) - 0.5) / len(p))
    ax.scatter(expected, -np.log10(p), s=4, color="#1f4e79", lw=0)
    top = max(expected.max(initial=1), 1)
    ax.plot([0, top], [0, top], color="#b22222", lw=0.8)
    lam = np.median(stats.chi2.isf(p, 1)) / stats.chi2.ppf(0.5, 1) if len(p) else np.nan
    ax.set_xlabel("expected -log10(P)")
    ax.set_ylabel("observed -log10(P)")
    ax.set_title(f"{title + ': ' if title else ''}lambda_GC = {lam:.3f}")
    return ax


def pca_scatter(
    components: np.ndarray,
    *,
    groups: Sequence[str] | None = None,
    eigenvalues: Sequence[float] | None = None,
    x: int = 0,
    y: int = 1,
    ax=None,
    title: str | None = None,
):
    """PC ``x + 1`` against PC ``y + 1``, coloured by ``groups`` when given."""
    ax = ax or _axes(None)
    components = np.asarray(components)
    labels = np.asarray(groups) if groups is not None else np.full(len(components), "")
    for name in pd.unique(labels):
        sel = labels == name
        ax.scatter(components[sel, x], components[sel, y], s=6, label=name or None, lw=0)
    if groups is not None:
        ax.legend(markerscale=3, frameon=False)
    for axis, i in (("x", x), ("y", y)):
        label = f"PC{i + 1}"
        if eigenvalues is not None:
            label += f" (eigenvalue {eigenvalues[i]:.3g})"
        (ax.set_xlabel if axis == "x" else ax.set_ylabel)(label)
    if title:
        ax.set_title(title)
    return ax


def _save(ax, path: Path) -> Path:
    fig = ax.get_figure()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    import matplotlib.pyplot as plt

    plt.close(fig)
    return path


def save_gwas_plots(results: str | os.PathLike, *, title: str | None = None) -> list[Path]:
    """Manhattan and QQ PNGs beside a .glm.linear / .glm.logistic.hybrid file."""
    import matplotlib

    matplotlib.use("Agg")
    results = Path(results)
    table = pd.read_csv(results, sep="\t", usecols=["#CHROM", "POS", "P"], na_values=["NA"])
    stem = results.with_name(results.name.split(".glm.")[0])
    made = []
    ax = manhattan(table["#CHROM"], table["POS"], table["P"], title=title)
    made.append(_save(ax, stem.with_name(stem.name + ".manhattan.png")))
    import matplotlib.pyplot as plt

    ax = qq(table["P"], ax=plt.figure(figsize=(5, 5)).gca(), title=title)
    made.append(_save(ax, stem.with_name(stem.name + ".qq.png")))
    return made


def save_pca_plot(
    path: str | os.PathLike,
    components: np.ndarray,
    eigenvalues: Sequence[float],
    groups: Sequence[str] | None = None,
    title: str | None = None,
) -> Path:
    """PC1 against PC2 as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ax = pca_scatter(
        components,
        groups=groups,
        eigenvalues=eigenvalues,
        ax=plt.figure(figsize=(6, 5)).gca(),
        title=title,
    )
    return _save(ax, Path(path))
