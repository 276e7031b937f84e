"""Benchmark data, built once and cached: one simulated cohort as VCF Zarr, plink2 pgen, BCF.

All three come from the same bgzipped VCF (tresor.demo.simulate_cohort), so tresor, plink2 and
bcftools read the same genotypes; the store gets its packed genotype companion, as a dataset
added with ``tresor datasets add`` does. The cache lives in benchmarks/.data/<samples>x<variants>/
(or $TRESOR_BENCH_DATA); delete it to rebuild.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

CACHE = Path(os.environ.get("TRESOR_BENCH_DATA", Path(__file__).parent / ".data"))


@dataclasses.dataclass(frozen=True)
class BenchData:
    """Paths of one cached benchmark cohort."""

    root: Path
    vcf: Path
    store: Path
    pheno: Path
    covar: Path
    pgen_prefix: Path
    bcf: Path
    n_samples: int
    n_variants: int


def tool(name: str) -> str:
    """Path of a reference tool, or exit with how to install it."""
    path = shutil.which(name)
    if path is None:
        sys.exit(f"{name} is not installed; run: bash scripts/bootstrap.sh --test")
    return path


def cohort(n_samples: int, n_variants: int, *, seed: int = 42) -> BenchData:
    """The cohort of that size, simulated and converted on first use."""
    from tresor.demo import CohortParameters, simulate_cohort

    root = CACHE / f"{n_samples}x{n_variants}-s{seed}"
    name = "bench"
    done = root / ".complete"
    data = BenchData(
        root=root,
        vcf=root / f"{name}.vcf.gz",
        store=root / f"{name}.vcz",
        pheno=root / f"{name}.pheno",
        covar=root / f"{name}.covar",
        pgen_prefix=root / name,
        bcf=root / f"{name}.bcf",
        n_samples=n_samples,
        n_variants=n_variants,
    )
    if done.exists():
        return _packed(data)
    start = time.perf_counter()
    root.mkdir(parents=True, exist_ok=True)

    def say(msg: str) -> None:
        print(f"[data {time.perf_counter() - start:6.0f} s] {msg}", file=sys.stderr, flush=True)

    simulate_cohort(
        root,
        CohortParameters(n_samples=n_samples, n_variants=n_variants, seed=seed),
        name=name,
        progress=say,
        worker_processes=os.cpu_count() or 1,
    )
    say("plink2 --make-pgen")
    subprocess.run(
        [tool("plink2"), "--vcf", str(data.vcf), "--make-pgen", "--out", str(data.pgen_prefix)],
        check=True,
        capture_output=True,
    )
    say("bcftools view -Ob (BCF)")
    subprocess.run(
        [tool("bcftools"), "view", "-Ob", "-o", str(data.bcf), "--threads", "2", str(data.vcf)],
        check=True,
    )
    done.touch()
    say("done")
    return _packed(data)


def _packed(data: BenchData) -> BenchData:
    """The cohort with its store's packed genotype companion (written once, as tresor
    datasets add writes it); tresor reads it when it is current."""
    from tresor.stats.packed import companion_path, open_companion, pack_store

    if not companion_path(data.store).exists() or open_companion(data.store) is None:
        print(f"packing the genotypes of {data.store}", file=sys.stderr, flush=True)
        pack_store(data.store, workers=os.cpu_count() or 1)
    return data


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--samples", type=int, default=5_000)
    parser.add_argument("--variants", type=int, default=100_000)
    args = parser.parse_args()
    print(cohort(args.samples, args.variants))
