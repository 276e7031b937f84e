"""File types by content: the allowlist passes to its rules, everything else blocks, and
individual-level genomic formats are named as such even when renamed."""

from __future__ import annotations

import gzip
import io
import json
import pickle
import shutil
import sqlite3
import struct
import tarfile
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from airlock.checks import Verdict
from tests.checks_support import check, finding, rules, write

VCF = (
    "##fileformat=VCFv4.2\n##contig=<ID=22>\n"
    '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">\n'
    "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tS1\tS2\n"
    "22\t100\t.\tA\tG\t.\tPASS\t.\tGT\t0|1\t1|1\n"
)


def _zip(tmp_path):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr("inner.csv", "a,b\n1,2\n")
    return buffer.getvalue()


def _tar(tmp_path):
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as t:
        data = b"a,b\n1,2\n"
        info = tarfile.TarInfo("inner.csv")
        info.size = len(data)
        t.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def _sqlite(tmp_path):
    path = tmp_path / "db.sqlite"
    with sqlite3.connect(path) as db:
        db.execute("create table t (iid text, ldl real)")
    return path.read_bytes()


def _npy(tmp_path, values=None):
    buffer = io.BytesIO()
    np.save(buffer, np.zeros((3, 3), dtype=np.int8) if values is None else values)
    return buffer.getvalue()


def _feather(tmp_path):
    path = tmp_path / "t.feather"
    pd.DataFrame({"n": [1, 2]}).to_feather(path)
    return path.read_bytes()


def _jpeg(tmp_path):
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (4, 4)).save(buffer, format="JPEG")
    return buffer.getvalue()


def _bam(tmp_path):
    import pysam

    path = tmp_path / "x.bam"
    header = {"HD": {"VN": "1.6"}, "SQ": [{"SN": "22", "LN": 1000}]}
    with pysam.AlignmentFile(str(path), "wb", header=header) as bam:
        read = pysam.AlignedSegment(bam.header)
        read.query_name, read.query_sequence, read.flag = "r1", "ACGT", 0
        read.reference_id, read.reference_start, read.cigarstring = 0, 10, "4M"
        read.query_qualities = pysam.qualitystring_to_array("IIII")
        bam.write(read)
    return path.read_bytes()


def _pe():
    header = bytearray(b"MZ" + b"\x00" * 126)
    header[0x3C:0x40] = struct.pack("<I", 0x40)
    header[0x40:0x44] = b"PE\x00\x00"
    return bytes(header)


def _bgen():
    return struct.pack("<IIII", 20, 20, 1, 2) + b"bgen" + b"\x00" * 16


BLOCKED = {
    "zip archive": (_zip, "file-type", "ZIP archive"),
    "tar archive": (_tar, "file-type", "tar archive"),
    "gzip in gzip": (lambda p: gzip.compress(gzip.compress(b"a,b\n1,2\n")), "file-type", "gzip"),
    "gzipped VCF": (lambda p: gzip.compress(VCF.encode()), "individual-level.format", "VCF"),
    "plain VCF": (lambda p: VCF.encode(), "individual-level.format", "VCF"),
    "BAM": (_bam, "individual-level.format", "BAM"),
    "CRAM": (lambda p: b"CRAM\x03\x00" + b"\x00" * 40, "individual-level.format", "CRAM"),
    "PLINK bed": (lambda p: b"\x6c\x1b\x01" + b"\xff" * 30, "individual-level.format", "PLINK"),
    "PLINK pgen": (lambda p: b"\x6c\x1b\x10" + b"\x00" * 30, "individual-level.format", "pgen"),
    "BGEN": (lambda p: _bgen(), "individual-level.format", "BGEN"),
    "SAM": (lambda p: b"@HD\tVN:1.6\n@SQ\tSN:22\tLN:10\n", "individual-level.format", "SAM"),
    "FASTQ": (lambda p: b"@r1\nACGTACGT\n+\nIIIIIIII\n", "individual-level.format", "FASTQ"),
    "FASTA": (lambda p: b">s1\n" + b"ACGT" * 20 + b"\n", "individual-level.format", "FASTA"),
    "Zarr metadata": (
        lambda p: json.dumps({"zarr_format": 3, "node_type": "array"}).encode(),
        "individual-level.format",
        "Zarr",
    ),
    "ELF executable": (lambda p: Path("/bin/true").read_bytes(), "file-type", "Linux executable"),
    "PE executable": (lambda p: _pe(), "file-type", "Windows executable"),
    "script": (lambda p: b"#!/bin/sh\ncurl example.org\n", "file-type", "script"),
    "SQLite": (_sqlite, "file-type", "SQLite"),
    "NumPy objects": (
        lambda p: _npy(p, np.array([{"iid": "DK000001"}, None], dtype=object)),
        "malformed",
        "pickles",
    ),
    "Feather": (_feather, "file-type", "Arrow"),
    "pickle": (lambda p: pickle.dumps({"x": [1, 2, 3]}), "file-type", "binary data"),
    "JPEG": (_jpeg, "file-type", "JPEG"),
    "XML": (lambda p: b"<?xml version='1.0'?><data><row n='3'/></data>", "file-type", "XML"),
}


@pytest.mark.parametrize("kind", sorted(BLOCKED))
def test_file_type__renamed_files_block_by_content(tmp_path, kind):
    make, rule, words = BLOCKED[kind]
    path = write(tmp_path, "results.csv", make(tmp_path))  # the name claims a CSV
    report = check(path)
    assert report.verdict is Verdict.BLOCK
    f = finding(report, rule)
    assert f.verdict is Verdict.BLOCK and words in f.message, f.message


def _png(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    ax.bar(["a", "b"], [20, 30])
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    plt.close(fig)
    return buffer.getvalue()


def _parquet(tmp_path):
    buffer = io.BytesIO()
    pd.DataFrame({"group": ["a", "b"], "n": [20, 30]}).to_parquet(buffer)
    return buffer.getvalue()


ALLOWED = {
    "csv": lambda p: b"group,n\na,20\nb,30\n",
    "tsv": lambda p: b"group\tn\na\t20\nb\t30\n",
    "text": lambda p: b"Results are in table 1.\nAll groups had 20 or more people.\n",
    "markdown": lambda p: b"# Results\n\n| group | n |\n|---|---|\n| a | 20 |\n",
    "json": lambda p: json.dumps({"model": "ldl ~ age", "r2": 0.12}).encode(),
    "parquet": _parquet,
    "npy": lambda p: _npy(p, np.array([[20, 30], [40, 50]])),
    "png": _png,
    "text starting with MZ": lambda p: b"MZ twins,n\nyes,20\nno,30\n",
}


@pytest.mark.parametrize("kind", sorted(ALLOWED))
def test_file_type__allowed_types_are_not_blocked_by_type(tmp_path, kind):
    path = write(tmp_path, "renamed.bin", ALLOWED[kind](tmp_path))
    report = check(path)
    assert "file-type" not in rules(report) and "individual-level.format" not in rules(report)
    assert report.verdict is not Verdict.BLOCK, report.findings


def test_file_type__bgzipped_vcf_from_pysam(tmp_path):
    import pysam

    plain = write(tmp_path, "x.vcf", VCF)
    pysam.tabix_compress(str(plain), str(tmp_path / "x.vcf.gz"))
    shutil.move(tmp_path / "x.vcf.gz", tmp_path / "allele_counts.tsv")
    f = finding(check(tmp_path / "allele_counts.tsv"), "individual-level.format")
    assert "compressed VCF" in f.message
