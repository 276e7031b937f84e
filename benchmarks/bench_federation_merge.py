"""The federated merge of three nodes: time and peak memory at 1,000,000 variants (and 2,000,000).

Synthetic node tables (as the registered analyses write them: Parquet, one contig per row
group) for allele counts and the linear GWAS sufficient statistics; each node reports 95% of a
shared pool of sites, and one node has REF/ALT swapped at 1% of them. Each merge runs in a fresh
process whose peak RSS is read from the OS; the baseline is a process that only imports the
merge. The merge streams the nodes' tables a window of positions at a time, so the peak minus
the baseline stays far below the nodes' tables in memory and does not grow with the variants.

    .venv/bin/python -m benchmarks.bench_federation_merge              # 1M and 2M variants
    .venv/bin/python -m benchmarks.bench_federation_merge --variants 200000 --no-double
"""

from __future__ import annotations

import argparse
import hashlib
import json
import multiprocessing
import resource
import tempfile
import time
from pathlib import Path

import numpy as np

NODES = ("dk", "se", "uk")
GROUP = 65_536
REQUEST = "bench-request"


def _write_node(out: Path, node: int, n_sites: int, analysis: str) -> None:
    import pyarrow as pa

    from tresor.federation.analyses import REGISTRY
    from tresor.federation.analyses.base import VARIANT_FIELDS, TableWriter
    from tresor.federation.analyses.linear_gwas import (
        node_statistics_schema,
        variant_statistics_schema,
    )

    rng = np.random.default_rng(node)
    out.mkdir(parents=True)
    pos = np.arange(1, n_sites + 1, dtype=np.int64) * 10
    keep = rng.random(n_sites) < 0.95
    pos = pos[keep]
    bases = np.array(["A", "C", "G", "T"], dtype=object)
    ref_i = (pos // 10) % 4
    ref = bases[ref_i]
    alt = bases[(ref_i + 1 + (pos // 40) % 3) % 4]
    if node == 1:  # REF/ALT swapped at 1% of sites
        swap = rng.random(len(pos)) < 0.01
        ref, alt = np.where(swap, alt, ref), np.where(swap, ref, alt)
    n = 5_000
    an = np.full(len(pos), 2 * n, dtype=np.int64)
    ac = rng.integers(10, n, len(pos))
    predictors = ("INTERCEPT", "age", "sex")
    if analysis == "allele_counts":
        schema = pa.schema(
            [
                *VARIANT_FIELDS,
                pa.field("AC", pa.int64(), False),
                pa.field("AN", pa.int64(), False),
                *(
                    pa.field(c, pa.int64())
                    for c in ("HOM_REF_CT", "HET_REF_ALT_CTS", "TWO_ALT_GENO_CTS")
                ),
            ]
        )
        het = np.minimum(ac, 2 * n - ac) // 2
        hom_alt = (ac - het) // 2
        columns = {
            "AC": het + 2 * hom_alt,
            "AN": an,
            "HOM_REF_CT": n - het - hom_alt,
            "HET_REF_ALT_CTS": het,
            "TWO_ALT_GENO_CTS": hom_alt,
        }
        table_file = "allele_counts.parquet"
    else:
        schema = variant_statistics_schema(predictors)
        g = ac.astype(float)
        columns = {
            "AC": ac,
            "AN": an,
            "CG_INTERCEPT": g,
            "CG_age": g * 55 + rng.normal(0, 50, len(g)) * np.sqrt(g),
            "CG_sex": g * 1.5 + rng.normal(0, 1, len(g)) * np.sqrt(g),
            "GG": g * (1 + g / (2 * n)) + 10,
            "GY": g * 3 + rng.normal(0, 1, len(g)) * np.sqrt(g),
        }
        table_file = "linear_gwas_statistics.parquet"
        ctc = np.array(
            [[n, 55 * n, 1.5 * n], [55 * n, 3200 * n, 82 * n], [1.5 * n, 82 * n, 2.5 * n]]
        )
        node_table = pa.table(
            {
                "PREDICTOR": list(predictors),
                "N": [n] * 3,
                "YTY": [10 * n] * 3,
                "CTY": [3 * n, 165 * n, 4.5 * n],
                **{f"CTC_{p}": ctc[:, j] for j, p in enumerate(predictors)},
            },
            schema=node_statistics_schema(predictors),
        )
        import pyarrow.parquet as pq

        pq.write_table(node_table, out / "linear_gwas_node_statistics.parquet")
    writer = TableWriter(out / table_file, schema)
    for start in range(0, len(pos), GROUP):
        part = slice(start, start + GROUP)
        writer.write(
            {
                "CHROM": np.full(len(pos[part]), "chr1", dtype=object),
                "POS": pos[part],
                "REF": ref[part],
                "ALT": alt[part],
                **{k: v[part] for k, v in columns.items()},
            }
        )
    writer.close()
    a = REGISTRY[analysis]
    params = {} if analysis == "allele_counts" else {"phenotype": "y", "covariates": ["age", "sex"]}
    outputs = {o.name: {"file": o.file} for o in a.outputs}
    manifest = {
        "analysis": analysis,
        "version": a.version,
        "parameters": a.parameters(params).model_dump(mode="json"),
        "dataset": {"id": NODES[node], "genome_build": "GRCh38"},
        "contigs": ["chr1"],
        "missing_genotype_rule": a.missing_genotype_rule,
        "missing_genotypes": "synthetic",
        "outputs": outputs,
    }
    (out / "manifest.json").write_text(json.dumps(manifest))


def _bundle(root: Path, node: int, outputs: Path):
    from tresor.core.bundles import VerifiedBundle

    files = [
        {"name": f"out/{p.name}", "sha256": "-", "size": p.stat().st_size}
        for p in sorted(outputs.iterdir())
    ]
    manifest = {"files": files, "federation": {"request_id": REQUEST, "crate_sha256": "0" * 64}}
    data = json.dumps(manifest).encode()
    (root / "manifest.json").write_bytes(data)
    return VerifiedBundle(NODES[node], root, manifest, hashlib.sha256(data).hexdigest())


def _merge_in_child(args: tuple[list, str], queue) -> None:
    from tresor.federation.merge import merge

    bundles, out = args
    start = time.perf_counter()
    merge(bundles, out, run_checks=False)
    seconds = time.perf_counter() - start
    queue.put((seconds, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024))


def _load_all_in_child(paths: list[str], queue) -> None:
    """What holding every node's table at once would take: all read into pandas."""
    import pandas as pd

    import tresor.federation.merge  # noqa: F401  (same imports as the merge)

    frames = [pd.read_parquet(p) for p in paths]
    assert sum(len(f) for f in frames) > 0
    queue.put((0.0, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024))


def _baseline_in_child(_args, queue) -> None:
    import tresor.federation.merge  # noqa: F401

    queue.put((0.0, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024))


def _child(target, args) -> tuple[float, float]:
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    p = ctx.Process(target=target, args=(args, queue))
    p.start()
    result = queue.get()
    p.join()
    return result


def table_sizes(bundles, name: str) -> tuple[int, int]:
    """(bytes on disk, bytes in memory as Arrow) of the nodes' per-variant tables."""
    import pyarrow.parquet as pq

    disk = memory = 0
    for b in bundles:
        path = b.files_dir / "out" / name
        disk += path.stat().st_size
        meta = pq.ParquetFile(path).metadata
        memory += sum(meta.row_group(i).total_byte_size for i in range(meta.num_row_groups))
    return disk, memory


def run(n_variants: int, root: Path) -> list[dict]:
    rows = []
    for analysis, table in (
        ("allele_counts", "allele_counts.parquet"),
        ("linear_gwas_sufficient_statistics", "linear_gwas_statistics.parquet"),
    ):
        base = root / f"{analysis}-{n_variants}"
        bundles = []
        for k in range(len(NODES)):
            outputs = base / NODES[k] / "files" / "out"
            _write_node(outputs, k, n_variants, analysis)
            bundles.append(_bundle(base / NODES[k], k, outputs))
        disk, memory = table_sizes(bundles, table)
        seconds, peak = _child(_merge_in_child, (bundles, str(base / "merged")))
        _, all_at_once = _child(
            _load_all_in_child, [str(b.files_dir / "out" / table) for b in bundles]
        )
        with open(next((base / "merged").glob("federated.*"))) as f:
            merged_rows = sum(1 for _ in f) - 1
        rows.append(
            {
                "analysis": analysis,
                "variants per node": n_variants,
                "merged rows": merged_rows,
                "seconds": round(seconds, 1),
                "peak RSS MiB": round(peak),
                "node tables in memory MiB": round(memory / 2**20),
                "peak RSS of loading all node tables MiB": round(all_at_once),
                "node tables on disk MiB": round(disk / 2**20),
            }
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variants", type=int, default=1_000_000)
    parser.add_argument("--no-double", action="store_true", help="skip the run at 2x variants")
    args = parser.parse_args()
    _, baseline = _child(_baseline_in_child, None)
    print(f"baseline (python + imports): {baseline:.0f} MiB peak RSS")
    sizes = [args.variants] if args.no_double else [args.variants, 2 * args.variants]
    with tempfile.TemporaryDirectory() as tmp:
        for n in sizes:
            for row in run(n, Path(tmp)):
                row["peak - baseline MiB"] = round(row["peak RSS MiB"] - baseline)
                print("  ".join(f"{k}: {v}" for k, v in row.items()), flush=True)


if __name__ == "__main__":
    main()
