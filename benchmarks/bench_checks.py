"""Throughput and peak memory of the airlock checks on large tables, against plain parsing.

    .venv/bin/python benchmarks/bench_checks.py            # 200 MB plink2 .glm.linear, 1 GB CSV
    .venv/bin/python benchmarks/bench_checks.py --scale 0.1

Files are generated in a temporary directory (nothing is committed). Each measurement runs in a
fresh Python process, so peak RSS (VmHWM) is that process's alone. Rates are of the work after
the process's imports, as in the airlock service, which checks files in its own long-lived
process; the start-up and the rate of the whole process are printed beside them. The checks
run with sample-ID matching on: three datasets of 300 sample IDs each, as in the demo. The
references are what any check must at least do: read the file, and parse it with
pandas.read_csv in chunks or with pyarrow's streaming CSV reader (pyarrow.csv.open_csv). The
machine may be shared, so the load average is printed beside the figures, and the CPU time
each took (all its threads): on a busy machine the wall-clock rate falls with the share of the
cores a process gets, the work per megabyte does not.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

MB = 1024 * 1024

_CHILD = r"""
import json, resource, sys, time
mode, path = sys.argv[1], sys.argv[2]
started = time.perf_counter()
# imports first: the airlock service checks files in its own long-lived process, so what a
# check costs is timed after them (the start-up is reported on its own)
if mode == "check":
    import os, tempfile
    from airlock.checks import CheckContext, DatasetSamples, check_file
    # and a first check, of a one-line file: what a running service has already done once
    # (the kind registry read, patterns compiled)
    with tempfile.NamedTemporaryFile("w", suffix=".csv", delete=False) as tiny:
        tiny.write("group,n\na,20\n")
    check_file(tiny.name, CheckContext())
    os.unlink(tiny.name)
elif mode == "pyarrow":
    import pyarrow.csv as pacsv
elif mode == "pandas":
    import pandas as pd
imported = time.perf_counter() - started
r0 = resource.getrusage(resource.RUSAGE_SELF)
t0 = time.perf_counter()
if mode == "check":
    datasets = tuple(
        DatasetSamples(c, frozenset(f"{c.upper()}{j:06d}" for j in range(1, 301)))
        for c in ("dk", "se", "uk")
    )
    report = check_file(path, CheckContext(datasets=datasets))
    extra = {"verdict": report.verdict.value, "findings": len(report.findings)}
elif mode == "pyarrow":
    sep = "\t" if path.endswith(".tsv") else ","
    reader = pacsv.open_csv(path, parse_options=pacsv.ParseOptions(delimiter=sep),
                            read_options=pacsv.ReadOptions(block_size=16 << 20))
    rows = sum(batch.num_rows for batch in reader)
    extra = {"rows": rows}
elif mode == "pandas":
    sep = "\t" if path.endswith(".tsv") else ","
    rows = 0
    for chunk in pd.read_csv(path, sep=sep, chunksize=50_000, low_memory=False):
        rows += len(chunk)
    extra = {"rows": rows}
else:
    with open(path, "rb") as f:
        while f.read(4 * 1024 * 1024):
            pass
    extra = {}
seconds = time.perf_counter() - t0
r1 = resource.getrusage(resource.RUSAGE_SELF)
cpu = r1.ru_utime - r0.ru_utime + r1.ru_stime - r0.ru_stime
# VmHWM: this process's peak resident memory (ru_maxrss would include the parent's, kept
# across fork and exec)
status = open("/proc/self/status").read()
peak = int(status.split("VmHWM:")[1].split()[0]) * 1024
print(json.dumps({"seconds": seconds, "cpu": cpu, "peak": peak, "imported": imported,
                  "whole": time.perf_counter() - started, **extra}))
"""


def _run(mode: str, path: Path) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", _CHILD, mode, str(path)], check=True, capture_output=True, text=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def _uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


def write_per_variant(path: Path, size: int, seed: int = 1) -> None:
    """A plink2 --glm linear table (one ADD row per variant), about ``size`` bytes."""
    rng = np.random.default_rng(seed)
    written, pos, chunk = 0, 10_000, 200_000
    with open(path, "w") as f:
        header = "#CHROM POS ID REF ALT A1 A1_CT ALLELE_CT A1_FREQ TEST OBS_CT BETA SE T_STAT P"
        f.write("\t".join(header.split()) + "\n")
        while written < size:
            n_obs = 5000
            ac = rng.integers(1, 2 * n_obs, chunk)
            positions = pos + np.cumsum(rng.integers(1, 200, chunk))
            pos = int(positions[-1])
            beta = rng.normal(0, 0.05, chunk)
            se = rng.uniform(0.01, 0.1, chunk)
            frame = pd.DataFrame(
                {
                    "#CHROM": 1,
                    "POS": positions,
                    "ID": [f"1:{p}:A:G" for p in positions],
                    "REF": "A",
                    "ALT": "G",
                    "A1": "G",
                    "A1_CT": ac,
                    "ALLELE_CT": 2 * n_obs,
                    "A1_FREQ": np.round(ac / (2 * n_obs), 6),
                    "TEST": "ADD",
                    "OBS_CT": n_obs,
                    "BETA": np.round(beta, 6),
                    "SE": np.round(se, 6),
                    "T_STAT": np.round(beta / se, 6),
                    "P": rng.uniform(0, 1, chunk),
                }
            )
            text = frame.to_csv(sep="\t", header=False, index=False)
            f.write(text)
            written += len(text)


def write_counts(path: Path, size: int, seed: int = 2) -> None:
    """A long table of counts and means by region, year and category, about ``size`` bytes;
    a few distinct 32 MB blocks are written in turn so generating 1 GB stays quick."""
    rng = np.random.default_rng(seed)
    blocks = []
    for _ in range(4):
        n = 400_000
        frame = pd.DataFrame(
            {
                "region": rng.choice(["north", "south", "east", "west"], n),
                "year": rng.integers(2000, 2024, n),
                "category": [f"c{i}" for i in rng.integers(0, 500, n)],
                "n": rng.integers(0, 5000, n) // 5 * 5,
                "mean_ldl": np.round(rng.normal(3.5, 0.5, n), 3),
                "note": rng.choice(["ok", "checked", "as planned"], n),
            }
        )
        blocks.append(frame.to_csv(header=False, index=False))
    with open(path, "w") as f:
        f.write("region,year,category,n,mean_ldl,note\n")
        written, k = 0, 0
        while written < size:
            f.write(blocks[k % len(blocks)])
            written += len(blocks[k % len(blocks)])
            k += 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="multiply the file sizes")
    args = parser.parse_args()
    print(f"load before: {_uptime()}")
    with tempfile.TemporaryDirectory(prefix="tresor-bench-checks-") as tmp:
        tmp = Path(tmp)
        tiny = tmp / "tiny.csv"
        tiny.write_text("group,n\na,20\n")
        files = {
            "per-variant CSV (plink2 .glm.linear)": (tmp / "gwas.tsv", 200 * MB, write_per_variant),
            "CSV of counts and means": (tmp / "counts.csv", 1024 * MB, write_counts),
        }
        base = _run("check", tiny)
        baseline = base["peak"]
        print(
            f"start-up (interpreter, imports and a first one-line check): {base['imported']:.2f} "
            f"s, then a one-line check {base['seconds']:.2f} s; peak RSS {baseline / MB:,.0f} MB"
        )
        print(
            "rates are of the work after the start-up (the airlock service checks files in its "
            "own long-lived process); 'whole' adds the start-up of a fresh process"
        )
        for label, (path, size, make) in files.items():
            t = time.perf_counter()
            make(path, int(size * args.scale))
            size_mb = path.stat().st_size / MB
            print(f"\n{label}: {size_mb:,.0f} MB written in {time.perf_counter() - t:.0f} s")
            read = _run("read", path)
            parse = _run("pandas", path)
            arrow = _run("pyarrow", path)
            checked = _run("check", path)
            for name, result in (("read only", read), ("pandas.read_csv chunks", parse),
                                 ("pyarrow.csv.open_csv", arrow),
                                 ("airlock check", checked)):  # fmt: skip
                print(
                    f"  {name:<24} {result['seconds']:8.1f} s {size_mb / result['seconds']:8.1f} "
                    f"MB/s  {size_mb / max(result['cpu'], 1e-9):8.1f} MB per CPU-second   peak "
                    f"RSS {result['peak'] / MB:7.0f} MB   whole {result['whole']:6.1f} s "
                    f"{size_mb / result['whole']:8.1f} MB/s"
                )
            print(
                f"  check: verdict {checked['verdict']}, {checked['findings']} findings listed; "
                f"{checked['seconds'] / parse['seconds']:.2f}x the time of parsing with pandas, "
                f"{checked['seconds'] / arrow['seconds']:.2f}x pyarrow's; "
                f"peak RSS {checked['peak'] / MB:.0f} MB = one-line check + "
                f"{(checked['peak'] - baseline) / MB:.0f} MB for a {size_mb:,.0f} MB file"
            )
            path.unlink()
    print(f"\nload after: {_uptime()}")


if __name__ == "__main__":
    main()
