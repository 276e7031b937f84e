"""A large CSV is checked in bounded memory: the peak does not grow with the file.

Each check runs in a fresh process and reports its own peak resident memory (VmHWM). A file
192 MB larger must need far less than 192 MB more: the allowance, half of that, is for the
allocator's noise (one run's peak differs from the next by up to about 35 MB on the same file),
not for reading more at once. The benchmark (benchmarks/bench_checks.py) prints the figures
for 200 MB and 1 GB files.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

pytestmark = pytest.mark.slow

MB = 1024 * 1024

CHILD = r"""
import sys
from airlock.checks import check_file
report = check_file(sys.argv[1])
status = open("/proc/self/status").read()
print(report.verdict.value, len(report.findings), int(status.split("VmHWM:")[1].split()[0]))
"""


def _write(path, size: int) -> None:
    rows = "".join(
        f"region{i % 7},{2000 + i % 24},category {i % 500},{(i * 37) % 4000 + 10},{i % 97}.5\n"
        for i in range(20_000)
    )
    with open(path, "w") as f:
        f.write("region,year,category,n,mean\n")
        written = 0
        while written < size:
            f.write(rows)
            written += len(rows)
        f.write("isles,2023,category 1,3,1.5\n")  # one small cell at the very end


def _peak_kb(path) -> tuple[str, int]:
    out = subprocess.run([sys.executable, "-c", CHILD, str(path)], check=True,
                         capture_output=True, text=True)  # fmt: skip
    verdict, _, peak = out.stdout.split()
    return verdict, int(peak)


def test_streaming__peak_memory_does_not_grow_with_the_file(tmp_path):
    small, large = tmp_path / "small.csv", tmp_path / "large.csv"
    # from about eight 8 MiB blocks on (one being parsed while the rules read the one
    # before), the peak is steady (measured 2026-12-06: 64, 128, 256 and 512 MB files all
    # peak at 404-421 MB, two runs each; the spread is noise, not growth)
    _write(small, 64 * MB)
    _write(large, 256 * MB)
    verdict_small, peak_small = _peak_kb(small)
    verdict_large, peak_large = _peak_kb(large)
    # the small cell in the last row is found in both
    assert verdict_small == verdict_large == "block"
    assert (peak_large - peak_small) * 1024 < 96 * MB, (peak_small, peak_large)
