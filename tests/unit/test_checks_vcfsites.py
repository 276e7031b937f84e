"""A sites-only VCF read as the table of its INFO fields (airlock.checks.vcfsites)."""

from __future__ import annotations

import pyarrow as pa

from airlock.checks import Verdict
from airlock.checks.vcfsites import _info_columns, has_genotype_columns, is_sites_vcf
from tests.checks_support import check, write

HEADER = "##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"


def test_info_columns__numbers_text_and_the_rarest_allele():
    info = pa.chunked_array(
        [["AC=30,2;AN=600;CSQ=G|x=y;DB", "AN=600;AC=.;CSQ=T|z", "AC=1e400;AN=nan"]]
    )
    ac, an, csq = _info_columns(info, ["AC", "AN", "CSQ"])
    assert ac.to_pylist()[:2] == [2.0, None] and ac.to_pylist()[2] == float("inf")
    assert an.to_pylist()[:2] == [600, 600] and an.to_pylist()[2] is None
    assert csq.to_pylist() == ["G|x=y", "T|z", None]


def test_info_columns__whole_numbers_stay_whole():
    ac, _ = _info_columns(pa.chunked_array([["AC=30;AN=600", "AC=12;AN=598"]]), ["AC", "AN"])
    assert ac.type == pa.int64() and ac.to_pylist() == [30, 12]


def test_columns__sites_or_genotypes():
    fixed = ["#CHROM", "POS", "ID", "REF", "ALT", "QUAL", "FILTER", "INFO"]
    assert is_sites_vcf(fixed) and not has_genotype_columns(fixed)
    assert has_genotype_columns([*fixed, "FORMAT", "S1"]) and not is_sites_vcf([*fixed, "FORMAT"])


def test_sites_vcf__odd_numbers_do_not_stop_the_check(tmp_path):
    body = "22\t100\t.\tA\tG\t.\tPASS\tAC=nan;AN=inf\n22\t101\t.\tA\tG\t.\tPASS\tAC=1e400;AN=-5\n"
    report = check(write(tmp_path, "odd.vcf", HEADER + body))
    assert not any(f.rule == "malformed" for f in report.findings)


def test_sites_vcf__a_count_of_3_in_info_blocks(tmp_path):
    body = "".join(f"22\t{100 + i}\t.\tA\tG\t.\tPASS\tAC={3 if i == 5 else 40};AN=600\n"
                   for i in range(20))  # fmt: skip
    assert check(write(tmp_path, "s.vcf", HEADER + body)).verdict is Verdict.BLOCK


def test_pvar__without_info_is_a_sites_table_whatever_columns_it_stops_at(tmp_path):
    # plink2 writes QUAL and FILTER without INFO, and CM last ('pvar-cols=qual,filter,cm')
    for columns in ("#CHROM\tPOS\tID\tREF\tALT", "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tCM"):
        width = len(columns.split("\t"))
        rows = "".join(
            "\t".join(["22", str(1000 + 10 * i), f"rs{i}", "A", "G", ".", "PASS", "0.1"][:width])
            + "\n"
            for i in range(30)
        )
        report = check(write(tmp_path, "c.pvar", "##fileformat=VCFv4.2\n" + columns + "\n" + rows))
        assert report.verdict is Verdict.REVIEW, report.findings
        assert "malformed" not in {f.rule for f in report.findings}
