"""Per-chunk costs of freq, GWAS and PCA, measured, and what they make at biobank scale.

    .venv/bin/python benchmarks/bench_scaling.py --samples 10000 --variants 500000

Measures on the cached benchmark cohort (benchmarks/data.py) what one source chunk of
genotypes costs each analysis in CPU seconds on one core (``time.process_time``, so a busy
machine inflates the figures little), the bytes it reads and holds, what writing a table costs
per variant, and what a task costs Dask's distributed scheduler; then projects freq, linear
GWAS and PCA at 500,000 samples x 10 million variants on a Dask cluster of N workers. The model
and its assumptions (storage and network bandwidth, worker size) are in docs/scaling.md.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.data import cohort

#: The target: 500,000 samples x 10 million variants, chunked as bio2zarr chunks by default.
TARGET_SAMPLES, TARGET_VARIANTS = 500_000, 10_000_000
SAMPLE_CHUNK = 10_000


def cpu(fn, repeat: int = 5) -> float:
    """Median CPU seconds of ``fn()`` over ``repeat`` calls (after one to warm up)."""
    fn()
    times = []
    for _ in range(repeat):
        start = time.process_time()
        fn()
        times.append(time.process_time() - start)
    return statistics.median(times)


def per_chunk(store: Path, pheno: Path, covar: Path, n_chunks: int) -> dict[str, float]:
    """CPU seconds and bytes per source chunk, medians over ``n_chunks`` chunks spread out."""
    import zarr

    from tresor.stats import aggregation_kernels as ak
    from tresor.stats import association_kernels as sk
    from tresor.stats import packed_kernels as pk
    from tresor.stats.direct import PackedStore
    from tresor.stats.pca_kernels import (
        biallelic_dosage,
        filtered_standardized,
        prune_windows,
        standardize,
    )
    from tresor.stats.phenotypes import read_table

    packed = PackedStore.open(store)
    layout = packed.companion.layout
    source = zarr.open_array(str(store), path="call_genotype", mode="r")
    n = layout.sample_chunk
    mask = pk.sample_mask(np.ones(n, dtype=bool))
    rank = np.arange(layout.words * 32)
    table = read_table(pheno).join(read_table(covar))
    y = table["ldl"].to_numpy(float)[:n]
    design = np.column_stack([np.ones(len(y)), table[["age", "sex"]].to_numpy(float)[:n]])
    include = np.ones(len(y), dtype=bool)
    width = packed.companion.width
    basis = np.random.default_rng(0).standard_normal((n, 20)).astype(np.float32)
    found: dict[str, list[float]] = {}

    def count(p, exceptions):
        return pk.genotype_counts(
            p.codes, p.haploid, p.has_haploid, p.exception, exceptions, mask, width
        )

    for i in np.linspace(0, layout.n_variant_chunks - 1, n_chunks).astype(int).tolist():
        rows = np.arange(*layout.variants(i))
        v0, v1 = layout.variants(i)
        p = packed.companion.rows(rows, 0)
        exceptions = ak.genotype_counts(p.exception_calls, width)
        stats = sk.linreg_stats(p.exception_calls, design, y, include, width)
        calls = pk.decode_calls(
            p.codes, p.haploid, p.exception, p.exception_calls, np.arange(n), layout.ploidy
        )

        def prune(calls=calls):
            kept, z, _ = filtered_standardized(calls, np.ones(len(calls), bool), 0.01, 0.95)
            prune_windows(z, np.ones(len(kept), dtype=bool), 50, 5, 0.2)

        z = standardize(biallelic_dosage(calls))
        measured = {
            # read (map, or LZ4) and count afresh: a mapped chunk's pages are touched by the count
            "read + count (companion)": cpu(lambda r=rows, e=exceptions: count(
                packed.companion.rows(r, 0), e)),
            "count (popcount)": cpu(lambda p=p, e=exceptions: count(p, e)),
            "read + zstd (int8 store)": cpu(lambda a=v0, b=v1: source[a:b, :n]),
            "count (int8 store)": cpu(lambda a=v0, b=v1: ak.genotype_counts(
                np.asarray(source[a:b, :n]), width)),
            "GWAS sums g'y, g'g, C'g": cpu(lambda p=p, s=stats: pk.linreg_stats(
                p.codes, p.haploid, p.exception, s, rank, mask, design, y, include, width,
                True)),
            "decode to int8 (PCA, logistic)": cpu(lambda p=p: pk.decode_calls(
                p.codes, p.haploid, p.exception, p.exception_calls, np.arange(n),
                layout.ploidy)),
            "PCA select + LD prune": cpu(prune),
            "PCA Gram pass, k=20": cpu(lambda z=z: z.T @ (z @ basis)),
            "bytes (int8 store)": sum(
                f.stat().st_size for f in (store / "call_genotype").glob(f"{i}.0.*")
            ),
            "bytes (companion)": (packed.companion.path / "genotypes" / f"{i}.0").stat().st_size,
        }  # fmt: skip
        for name, value in measured.items():
            found.setdefault(name, []).append(value)
    costs = {name: statistics.median(values) for name, values in found.items()}
    costs["count (int8 store)"] -= costs["read + zstd (int8 store)"]
    costs["variants per chunk"] = layout.variant_chunk
    costs["samples per chunk"] = n
    return costs


def per_variant(store: Path) -> dict[str, float]:
    """CPU seconds per variant written: labels read from the companion and a .afreq's text."""
    from tresor.stats import tables, text
    from tresor.stats.direct import PackedStore

    packed = PackedStore.open(store)
    rows = np.arange(min(packed.n_variants, 100_000))
    width = packed.companion.width
    values = {
        "variant_allele_count": np.ones((len(rows), width), np.int64),
        "variant_allele_total": np.full(len(rows), 20_000),
    }
    labels = packed.companion.row_labels(rows)
    return {
        "labels (companion)": cpu(lambda: packed.companion.row_labels(rows), 3) / len(rows),
        "table text (.afreq)": cpu(lambda: tables.afreq_rows()(values, labels, 6), 3) / len(rows),
        "floats (%g)": cpu(lambda: text.floats(np.random.random(len(rows)), 6), 3) / len(rows),
    }


def per_task(n_tasks: int = 2000) -> float:
    """Wall seconds per trivial task through a distributed scheduler (LocalCluster)."""
    from distributed import Client, LocalCluster

    with (
        LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=None) as cluster,
        Client(cluster) as client,
    ):
        client.gather(client.map(lambda x: x, range(200)))
        start = time.perf_counter()
        client.gather(client.map(lambda x: x + 1, range(n_tasks)))
        return (time.perf_counter() - start) / n_tasks


def project(
    costs: dict[str, float],
    variant: dict[str, float],
    task: float,
    *,
    workers: int,
    cores: int,
    storage: float,
    network: float,
    chunks_per_task: int,
) -> list[tuple[str, dict[str, float]]]:
    """Seconds each resource needs for freq, GWAS and PCA at the target (docs/scaling.md)."""
    v = costs["variants per chunk"]
    scale = SAMPLE_CHUNK / costs["samples per chunk"]  # CPU and bytes grow with the samples
    chunks = (TARGET_VARIANTS / v) * (TARGET_SAMPLES / SAMPLE_CHUNK)
    sample_chunks = TARGET_SAMPLES / SAMPLE_CHUNK
    tasks = chunks / chunks_per_task
    read = chunks * costs["bytes (companion)"] * scale
    count = costs["read + count (companion)"]
    labels = TARGET_VARIANTS * (variant["labels (companion)"] + variant["table text (.afreq)"])
    freq = {
        "CPU": chunks * count * scale / (workers * cores),
        "storage": read / storage,
        "scheduler": tasks * task,
        "client (labels, text)": labels,
    }
    gwas_cpu = count + costs["GWAS sums g'y, g'g, C'g"]
    # n, X'X, X'y, y'y for 3 covariates and 3 alleles: 44 doubles per variant and sample chunk
    partial = TARGET_VARIANTS * sample_chunks * 44 * 8
    gwas = {
        "CPU": chunks * gwas_cpu * scale / (workers * cores),
        "storage": read / storage,
        "network (sums across sample chunks)": partial / network,
        "scheduler": tasks * task,
        "client (labels, text)": labels * 2,
    }
    # PCA: prune every variant once (all samples per block), then 7 passes over the kept
    # variants (about a tenth after pruning at this density), each task sending back an
    # (samples x 21) product
    kept = TARGET_VARIANTS // 10
    prune_cpu = chunks * (costs["decode to int8 (PCA, logistic)"] + costs["PCA select + LD prune"])
    pass_cpu = (kept / v) * sample_chunks * costs["PCA Gram pass, k=20"]
    block = max(1, int(2e9 // (TARGET_SAMPLES * 4)))  # variants whose float32 rows fill 2 GB
    products = 7 * (kept / block) * TARGET_SAMPLES * 21 * 8
    pca = {
        "CPU": (prune_cpu + 7 * pass_cpu) * scale / (workers * cores),
        "storage": read / storage + 7 * read * (kept / TARGET_VARIANTS) / storage,
        "network (per-block products)": products / network,
        "scheduler": (tasks + 7 * kept / block) * task,
    }
    return [("freq", freq), ("linear GWAS", gwas), ("PCA", pca)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--samples", type=int, default=10_000)
    parser.add_argument("--variants", type=int, default=500_000)
    parser.add_argument("--chunks", type=int, default=9, help="Chunks to time, spread out.")
    parser.add_argument("--storage", type=float, default=5e9, help="Bytes/s the cluster reads.")
    parser.add_argument("--network", type=float, default=10e9, help="Bytes/s between workers.")
    args = parser.parse_args()
    print(f"load before: {os.getloadavg()[0]:.2f}")
    data = cohort(args.samples, args.variants)
    costs = per_chunk(data.store, data.pheno, data.covar, args.chunks)
    variant = per_variant(data.store)
    task = per_task()
    genotypes = costs["variants per chunk"] * costs["samples per chunk"]
    print(
        f"\nper chunk of {costs['variants per chunk']:.0f} variants x "
        f"{costs['samples per chunk']:.0f} samples, one core (median of {args.chunks}):"
    )
    for name, value in costs.items():
        if name.startswith("bytes"):
            print(f"  {name:34} {value / 1e6:9.3f} MB  {value / genotypes:8.4f} bytes/genotype")
        elif "per chunk" not in name:
            print(f"  {name:34} {value * 1e3:9.2f} ms  {genotypes / value:8.3g} genotypes/s")
    for name, value in variant.items():
        print(f"  {name + ' per variant':34} {value * 1e6:9.3f} us")
    print(f"  {'a task through the scheduler':34} {task * 1e3:9.3f} ms (LocalCluster, wall)")
    for workers in (16, 64, 256):
        print(
            f"\n{TARGET_SAMPLES:,} x {TARGET_VARIANTS:,} on {workers} workers x 8 cores, storage "
            f"{args.storage / 1e9:g} GB/s, network {args.network / 1e9:g} GB/s, 8 chunks a task:"
        )
        for analysis, needs in project(
            costs, variant, task, workers=workers, cores=8, storage=args.storage,
            network=args.network, chunks_per_task=8,
        ):  # fmt: skip
            bound = max(needs, key=needs.get)
            parts = ", ".join(f"{k} {v:,.0f} s" for k, v in needs.items())
            print(f"  {analysis:12} {parts}; bound by {bound}")
    print(f"\nload after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
