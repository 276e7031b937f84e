"""The coordinator's Beacon over three nodes' released summaries: ``/g_variants`` latency (p50,
p99) at 10,000,000 variants per node, and the size of a released summary per million variants.

Synthetic summaries as ``allele_frequency_summary`` writes them (Parquet, zstd, sorted by
position, row groups of :data:`ROW_GROUP` rows within one contig): every variant has its
``ALL`` row and, for 70% of them, the two sex strata (the rest collapsed to the total); counts
drawn from a neutral site-frequency spectrum over 5,000 samples; 2% of rows suppressed. The
Beacon runs in uvicorn (as ``tresor federation serve`` does) and is asked over HTTP for
sequence queries: variants present in every node, variants absent from all, and 10 kb range
queries, with record granularity (the most expensive answer).

    .venv/bin/python -m benchmarks.bench_discovery                      # 10M variants per node
    .venv/bin/python -m benchmarks.bench_discovery --variants 1000000 --queries 300
"""

from __future__ import annotations

import argparse
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

NODES = (("dk", "DK"), ("se", "SE"), ("uk", "GB"))
SAMPLES = 5_000
CHUNK = 1_000_000


def write_summary(path: Path, n: int, seed: int) -> None:
    """A node's summary of ``n`` variants on chr1, written a million variants at a time."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from tresor.federation.analyses.allele_frequency_summary import ROW_GROUP

    rng = np.random.default_rng(seed)
    schema = pa.schema(
        [("CHROM", pa.string()), ("POS", pa.int64()), ("REF", pa.string()), ("ALT", pa.string()),
         ("STRATUM", pa.string()), ("AC", pa.int64()), ("AN", pa.int64()),
         ("HOM_REF_CT", pa.int64()), ("HET_REF_ALT_CTS", pa.int64()),
         ("TWO_ALT_GENO_CTS", pa.int64()), ("HAP_REF_CT", pa.int64()), ("HAP_ALT_CT", pa.int64()),
         ("SUPPRESSED", pa.bool_())]
    )  # fmt: skip
    bases = np.array(["A", "C", "G", "T"], object)
    position = 0
    with pq.ParquetWriter(path, schema, compression="zstd") as writer:
        for start in range(0, n, CHUNK):
            k = min(CHUNK, n - start)
            pos = position + np.cumsum(rng.integers(1, 60, k))
            position = int(pos[-1])
            ref = bases[rng.integers(0, 4, k)]
            alt = bases[(np.searchsorted(bases, ref) + rng.integers(1, 4, k)) % 4]
            an = 2 * SAMPLES - 2 * rng.poisson(10, k)
            ac = np.minimum(
                an - 10, np.maximum(10, (an / rng.uniform(1, 2 * SAMPLES, k))).astype(int)
            )
            strata = rng.random(k) < 0.7
            reps = np.where(strata, 3, 1)
            rows = int(reps.sum())
            labels = np.empty(rows, object)
            first = np.concatenate([[0], np.cumsum(reps)[:-1]])
            labels[:] = "sex=female"
            labels[first] = "ALL"
            labels[first[strata] + 2] = "sex=male"
            share = rng.uniform(0.4, 0.6, rows)
            ac_rows = np.repeat(ac, reps)
            an_rows = np.repeat(an, reps)
            part = labels != "ALL"
            ac_rows[part] = (ac_rows[part] * share[part]).astype(int)
            an_rows[part] = (an_rows[part] * share[part]).astype(int) // 2 * 2
            hom = ac_rows // 20
            het = ac_rows - 2 * hom
            suppressed = rng.random(rows) < 0.02
            mask = pa.array(suppressed)

            def col(values, mask=mask):
                return pa.array(values, mask=mask.to_numpy(zero_copy_only=False), type=pa.int64())

            table = pa.table(
                {
                    "CHROM": pa.array(np.full(rows, "chr1", object)),
                    "POS": np.repeat(pos, reps),
                    "REF": np.repeat(ref, reps),
                    "ALT": np.repeat(alt, reps),
                    "STRATUM": labels,
                    "AC": col(ac_rows),
                    "AN": col(an_rows),
                    "HOM_REF_CT": col(an_rows // 2 - het - hom),
                    "HET_REF_ALT_CTS": col(het),
                    "TWO_ALT_GENO_CTS": col(hom),
                    "HAP_REF_CT": col(np.zeros(rows, int)),
                    "HAP_ALT_CT": col(np.zeros(rows, int)),
                    "SUPPRESSED": suppressed,
                },
                schema=schema,
            )
            writer.write_table(table, row_group_size=ROW_GROUP)


def summaries(root: Path, n: int):
    from tresor.core.catalogue import DatasetEntry
    from tresor.discovery import dcat
    from tresor.discovery.beacon import Summary, SummaryFile

    out = []
    for k, (node, country) in enumerate(NODES):
        path = root / f"{node}.parquet"
        if not path.exists():
            t = time.perf_counter()
            write_summary(path, n, seed=k)
            print(f"  wrote {node}'s summary in {time.perf_counter() - t:.0f} s", flush=True)
        entry = DatasetEntry(
            id=node, title=f"{node} bench", store=root, n_samples=SAMPLES, n_variants=n,
            contact="dac@bench.invalid", duo=("DUO:0000042",),
        )  # fmt: skip
        graph = dcat.catalogue_graph([(entry, None)], node=node)
        (card,) = dcat.cards(graph)
        out.append(Summary(node, country, card, SummaryFile(path), 10, graph))
    return out


def serve(loaded) -> tuple[str, object]:
    import socket

    import uvicorn
    from fastapi import FastAPI

    from tresor.discovery.beacon import Access, BeaconInfo, router

    app = FastAPI()
    access = Access(daily_budget=10**9, per_minute=10**9)
    info = BeaconInfo("bench", "bench beacon", "bench", "benchmark")
    app.include_router(router(lambda: loaded, info, access=access, identify=lambda r: "bench"))
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    return f"http://127.0.0.1:{port}/beacon/g_variants", server


def percentiles(ms: list[float]) -> str:
    return f"p50 {np.percentile(ms, 50):.1f} ms, p99 {np.percentile(ms, 99):.1f} ms"


def main() -> None:
    import httpx
    import pyarrow.parquet as pq

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--variants", type=int, default=10_000_000, help="per node")
    parser.add_argument("--queries", type=int, default=500, help="of each kind")
    parser.add_argument("--dir", type=Path, help="keep the summaries here (reused if present)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = args.dir or Path(tmp)
        root.mkdir(parents=True, exist_ok=True)
        print(f"summaries of {args.variants:,} variants per node, 3 nodes", flush=True)
        loaded = summaries(root, args.variants)
        size = (root / "dk.parquet").stat().st_size
        rows = pq.ParquetFile(root / "dk.parquet").metadata.num_rows
        print(f"released summary: {size / 2**20:.1f} MiB for {args.variants:,} variants "
              f"({rows:,} rows) = {size / 2**20 / (args.variants / 1e6):.1f} MiB per million "
              "variants")  # fmt: skip
        url, server = serve(loaded)
        table = pq.read_table(root / "dk.parquet", columns=["POS", "REF", "ALT", "STRATUM"])
        frame = table.to_pandas()
        frame = frame[frame["STRATUM"] == "ALL"]
        rng = np.random.default_rng(1)
        picks = frame.iloc[rng.integers(0, len(frame), args.queries)]
        kinds = {
            "present (sequence, record)": [
                {"referenceName": "chr1", "start": int(r.POS) - 1, "referenceBases": r.REF,
                 "alternateBases": r.ALT, "requestedGranularity": "record"}
                for r in picks.itertuples()
            ],
            "absent (sequence, boolean)": [
                {"referenceName": "chr1", "start": int(r.POS), "referenceBases": "N",
                 "alternateBases": "T", "requestedGranularity": "boolean"}
                for r in picks.itertuples()
            ],
            "10 kb range (count)": [
                {"referenceName": "chr1", "start": int(r.POS) - 1, "end": int(r.POS) + 10_000,
                 "requestedGranularity": "count"}
                for r in picks.itertuples()
            ],
        }  # fmt: skip
        with httpx.Client(timeout=60) as client:
            client.get(url, params=kinds["present (sequence, record)"][0])  # warm up
            for name, queries in kinds.items():
                ms = []
                for params in queries:
                    t = time.perf_counter()
                    answer = client.get(url, params=params)
                    ms.append(1000 * (time.perf_counter() - t))
                    assert answer.status_code == 200, answer.text
                print(f"/g_variants {name}: {percentiles(ms)} ({len(ms)} queries)", flush=True)
        server.should_exit = True


if __name__ == "__main__":
    main()
