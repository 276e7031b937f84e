"""Out of core: freq and linear GWAS on a store whose genotypes do not fit in Dask's memory.

    .venv/bin/python benchmarks/bench_out_of_core.py --samples 5000 --variants 100000

Runs a distributed LocalCluster with one worker process limited to --memory (default 768 MiB,
less than the 954 MiB of uncompressed int8 genotypes of 5,000 x 100,000; a worker that has
imported the analysis stack already holds about 350 MiB), then runs
``tresor freq`` and ``tresor gwas`` (linear, ldl ~ age + sex) through it on the first half of
the variants and on all of them. The genotypes come from the store's packed companion, as in
every analysis (``--unpacked``: from the int8 store). A thread samples the resident memory of
the worker and of this (client) process every 50 ms. Flat memory means the peak for 2N
variants is about the peak for N; the ratios are printed.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.data import cohort


class PeakRSS:
    """Peak resident memory (MiB) of some processes, sampled in a thread."""

    def __init__(self, pids: list[int], interval: float = 0.05):
        import psutil

        self.processes = [psutil.Process(pid) for pid in pids]
        self.interval = interval
        self.peaks = [0.0] * len(pids)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            for i, p in enumerate(self.processes):
                self.peaks[i] = max(self.peaks[i], p.memory_info().rss / 2**20)
            time.sleep(self.interval)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--samples", type=int, default=5_000)
    parser.add_argument("--variants", type=int, default=100_000)
    parser.add_argument("--memory", default="768MiB", help="Memory limit of the Dask worker.")
    parser.add_argument(
        "--allow-fit", action="store_true", help="Run even if the genotypes fit (for testing)."
    )
    parser.add_argument("--unpacked", action="store_true", help="Read the int8 store instead.")
    args = parser.parse_args()

    import dask
    from dask.utils import parse_bytes
    from distributed import Client, LocalCluster

    from tresor.io import open_store
    from tresor.stats.reports import write_freq, write_gwas

    print("load before:", subprocess.run(["uptime"], capture_output=True, text=True).stdout)
    data = cohort(args.samples, args.variants)
    from tresor.stats.packed import packed_view

    ds = open_store(data.store, packed=not args.unpacked)
    limit = parse_bytes(args.memory)
    source = "the packed companion" if packed_view(ds) is not None else "the int8 store"
    print(
        f"{data.n_samples} samples x {data.n_variants} variants: uncompressed genotypes "
        f"{ds['call_genotype'].nbytes / 2**20:.0f} MiB as int8 (read from {source}); Dask "
        f"worker memory limit {limit / 2**20:.0f} MiB"
    )
    if ds["call_genotype"].nbytes <= limit and not args.allow_fit:
        sys.exit("the genotypes fit in the worker's memory: use more variants or less memory")
    work = Path(tempfile.mkdtemp(prefix="tresor-ooc-"))
    with (
        dask.config.set({"distributed.worker.daemon": False}),
        LocalCluster(
            n_workers=1, threads_per_worker=2, memory_limit=limit, dashboard_address=None
        ) as cluster,
        Client(cluster) as client,
    ):
        worker_pid = next(iter(client.run(os.getpid).values()))
        # warm-up on a slice: numba compiles in the worker, imports happen
        warm = ds.isel(variants=slice(0, 2_000))
        write_freq(warm, work / "warm", progress=False)
        write_gwas(warm, work / "warm", data.pheno, ["ldl"], covar=data.covar, plots=False,
                   progress=False)  # fmt: skip
        rows = []
        for n in (data.n_variants // 2, data.n_variants):
            part = ds.isel(variants=slice(0, n))
            for name, run in (
                ("freq", lambda part=part: write_freq(part, work / "f", progress=False)),
                (
                    "gwas",
                    lambda part=part: write_gwas(
                        part, work / "g", data.pheno, ["ldl"], covar=data.covar, plots=False,
                        progress=False,
                    ),
                ),
            ):  # fmt: skip
                client.run(lambda: __import__("gc").collect())
                start = time.perf_counter()
                with PeakRSS([worker_pid, os.getpid()]) as peak:
                    run()
                wall = time.perf_counter() - start
                rows.append((name, n, wall, *peak.peaks))
    print(f"\n{'analysis':8} {'variants':>9} {'uncompr. MiB':>12} {'wall s':>7} "
          f"{'worker peak MiB':>16} {'client peak MiB':>16}")  # fmt: skip
    for name, n, wall, worker, client_peak in rows:
        size = n * data.n_samples * 2 / 2**20
        print(f"{name:8} {n:9d} {size:12.0f} {wall:7.1f} {worker:16.0f} {client_peak:16.0f}")
    print("\npeak memory with 2N variants / with N variants:")
    for name in ("freq", "gwas"):
        half, full = [r for r in rows if r[0] == name]
        print(f"  {name}: worker {full[3] / half[3]:.2f}, client {full[4] / half[4]:.2f}")
    print("load after:", subprocess.run(["uptime"], capture_output=True, text=True).stdout)


if __name__ == "__main__":
    main()
