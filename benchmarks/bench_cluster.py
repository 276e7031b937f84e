"""Speed-up of one allele-count job on 1 and 2 Dask workers, with bcftools as the reference.

The job is what a researcher runs through ``tresor.cluster()``: ``tresor.stats.count_genotypes``
(AC per allele and AN per variant, one numba kernel per Zarr chunk) over a bio2zarr VCF Zarr
store. It runs on a LocalCluster of 1 worker and of 2 workers (one thread each, separate
processes, as gateway workers are), and bcftools +fill-tags counts the same VCF. All three must
agree; the script prints the best wall times (the first run per worker includes numba's
compilation), the 2-worker speed-up and the ratio to bcftools, with ``uptime`` (the machine may be
shared).

    .venv/bin/python benchmarks/bench_cluster.py                 # simulate once, then measure
    .venv/bin/python benchmarks/bench_cluster.py --samples 5000  # larger cohort
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent


def allele_counts(ds):
    """(AC (variants, ALT alleles), AN (variants)) as lazy Dask arrays, by tresor.stats."""
    from tresor.stats import count_genotypes

    counts = count_genotypes(ds, merge=False)
    return counts.variant_allele_count.data[:, 1:], counts.variant_allele_total.data


def time_on_workers(store: Path, repeats: int, workers=(1, 2)):
    """Best wall time of the job on LocalClusters of 1 and 2 single-thread worker processes.

    Both clusters are up for the whole run and take turns, so a busy shared machine slows both
    alike rather than whichever ran during a burst.
    """
    import dask
    from distributed import Client, LocalCluster

    from tresor.io import open_store

    clients = {}
    try:
        for n in workers:
            cluster = LocalCluster(
                n_workers=n, threads_per_worker=1, processes=True, dashboard_address=":0"
            )
            clients[n] = Client(cluster, set_as_default=False)
            clients[n].wait_for_workers(n)
        times = {n: [] for n in workers}
        results = {}
        for _ in range(repeats):
            for n, client in clients.items():
                ds = open_store(store)  # a fresh graph: nothing cached on the workers
                start = time.perf_counter()
                results[n] = dask.compute(*allele_counts(ds), scheduler=client)
                times[n].append(time.perf_counter() - start)
        return {n: min(t) for n, t in times.items()}, results
    finally:
        for client in clients.values():
            cluster = client.cluster
            client.close()
            cluster.close()


def time_bcftools(vcf: Path, repeats: int):
    bcftools = shutil.which("bcftools") or sys.exit("bcftools is not installed")
    cmd = f"{bcftools} +fill-tags {vcf} -- -t AC,AN | {bcftools} query -f '%AC\\t%AN\\n'"
    times, out = [], ""
    for _ in range(repeats):
        start = time.perf_counter()
        out = subprocess.run(cmd, shell=True, check=True, capture_output=True, text=True).stdout
        times.append(time.perf_counter() - start)
    rows = [line.split("\t") for line in out.splitlines()]
    return min(times), [r[0] for r in rows], np.array([int(r[1]) for r in rows])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=2000)
    parser.add_argument("--contigs", type=int, default=2)
    parser.add_argument("--contig-length", type=int, default=5_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--data", type=Path, help="where to keep the simulated cohort")
    args = parser.parse_args()

    from tresor.demo import DemoParameters, simulate_cohorts

    data = args.data or HERE / "results" / (
        f"cluster-{args.samples}x{args.contigs}x{args.contig_length}"
    )
    store, vcf = data / "dk" / "dk.vcz", data / "dk" / "dk.vcf.gz"
    if not store.exists():
        print(f"simulating {args.samples} samples per cohort into {data} (once)", flush=True)
        params = DemoParameters(
            samples_per_cohort=args.samples, contigs=args.contigs, contig_length=args.contig_length
        )
        simulate_cohorts(data, params, progress=lambda m: print(" ", m, flush=True))

    print("load before:", subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip())
    best, results = time_on_workers(store, args.repeats)
    (one, two), ((ac1, an1), (ac2, an2)) = best.values(), results.values()
    ref, ref_ac, ref_an = time_bcftools(vcf, args.repeats)
    print("load after: ", subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip())

    alt_counts = [
        ",".join(map(str, row[: len(r.split(","))])) for row, r in zip(ac1, ref_ac, strict=False)
    ]
    equal = (
        len(ac1) == len(ref_ac)
        and np.array_equal(ac1, ac2)
        and np.array_equal(an1, an2)
        and np.array_equal(an1, ref_an)
        and alt_counts == ref_ac
    )
    from tresor.io import open_store

    sizes = open_store(store).sizes
    print(
        f"allele counts, {sizes['samples']} samples x {sizes['variants']} variants, "
        f"best of {args.repeats}"
    )
    print(f"  1 worker : {one:8.2f} s")
    print(f"  2 workers: {two:8.2f} s   speed-up {one / two:.2f}x")
    print(f"  bcftools : {ref:8.2f} s   ratio to it: 1 worker {one / ref:.2f}, 2 {two / ref:.2f}")
    print(f"  counts equal (1 worker, 2 workers, bcftools): {'yes' if equal else 'NO'}")
    if not equal:
        sys.exit(1)


if __name__ == "__main__":
    main()
