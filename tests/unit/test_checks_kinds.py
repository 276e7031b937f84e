"""The registry of output kinds: data, documented, extensible by the node admin; a file passes
only when it is recognised as one (default deny)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from airlock.checks import Verdict
from airlock.checks.kinds import builtin_kinds, registry
from tests.checks_support import check, rules, write
from tresor.core.airlock_config import AirlockConfig
from tresor.core.airlock_kinds import KindsFileError, parse_kinds
from tresor.core.errors import ConfigError
from tresor.core.site import load_site_config

REPO = Path(__file__).resolve().parents[2]

MYTOOL = """
[[kind]]
name = "mytool.assoc"
title = "MyTool association results"
layout = "per-variant"
columns = ["CHR", "BP", "SNP", "EFFECT_AF", "SAMPLES_USED", "BETA", "SE", "P"]
summary_statistics = true
[kind.roles]
CHR = "chromosome"
BP = "position"
SNP = "variant"
EFFECT_AF = "allele_freq"
SAMPLES_USED = "people"
"""


def _mytool(rows: list[tuple[float, int]]) -> str:
    header = "CHR\tBP\tSNP\tEFFECT_AF\tSAMPLES_USED\tBETA\tSE\tP\n"
    body = "".join(f"22\t{100 + i}\trs{i}\t{af}\t{n}\t0.1\t0.02\t0.3\n" for i, (af, n) in
                   enumerate(rows))  # fmt: skip
    return header + body


def test_registry__the_builtin_kinds_are_valid_and_unique():
    kinds = builtin_kinds()
    assert len({k.name for k in kinds}) == len(kinds) > 40
    layouts = {k.layout for k in kinds}
    assert {"per-variant", "counts", "individual-level", "text", "figure"} <= layouts


def test_registry__the_docs_list_every_kind():
    docs = (REPO / "docs" / "airlock-checks.md").read_text()
    docs = docs[docs.index("### Recognised kinds") : docs.index("## Thresholds")]
    listed = re.findall(r"^\| `([a-z0-9._-]+)` \| ([a-z-]+) \|", docs, re.M)
    assert listed == [(k.name, k.layout) for k in builtin_kinds()]


def test_unrecognised_table__needs_review_saying_why(tmp_path):
    report = check(write(tmp_path, "t.csv", "alpha,beta\n0.5,0.25\n0.75,0.5\n"))
    assert report.verdict is Verdict.REVIEW
    [f] = [f for f in report.findings if f.rule == "unrecognised-kind"]
    assert "alpha, beta" in f.message and "not recognised" in f.message


def test_recognised_kind__passes_when_its_rules_hold(tmp_path):
    text = "#CHROM\tID\tREF\tALT\tALT_CTS\tOBS_CT\n22\trs1\tA\tG\t40\t600\n"
    assert check(write(tmp_path, "x.acount", text)).verdict is Verdict.PASS


def test_recognition__a_file_name_ending_is_never_enough(tmp_path):
    report = check(write(tmp_path, "x.acount", "a,b\n0.5,0.25\n"))
    assert "unrecognised-kind" in rules(report, Verdict.REVIEW)


def test_recognition__columns_named_like_a_kind_must_hold_its_values(tmp_path):
    # a per-person table with its columns renamed to plink2's: the CHROM column holds no
    # chromosomes, so it is not a per-variant table
    rows = "".join(f"P{i}\trs{i}\tA\tG\t{i % 7 + 20}\t600\n" for i in range(30))
    text = "#CHROM\tID\tREF\tALT\tALT_CTS\tOBS_CT\n" + rows
    report = check(write(tmp_path, "x.acount", text))
    [f] = [f for f in report.findings if f.rule == "unrecognised-kind"]
    assert "CHROM does not hold chromosomes" in f.message


def test_headerless_kind__read_with_its_columns_only_when_its_rows_fit(tmp_path):
    """PRS-CS writes no header: its rows pass as its kind; rows that look like it on the
    first line only (people's scores where the positions are) are not that kind."""
    rows = "".join(f"22\trs{100 + i}\t{16_000_000 + 50 * i}\tA\tG\t{0.001 * i:.6e}\n"
                   for i in range(30))  # fmt: skip
    report = check(write(tmp_path, "w.txt", rows))
    assert report.verdict is Verdict.PASS, report.findings
    people = "".join(f"22\tP{i}\t{0.37 * i:.3f}\tA\tG\t0.1\n" for i in range(30))
    report = check(write(tmp_path, "w.txt", "22\trs1\t16000000\tA\tG\t0.1\n" + people))
    assert "unrecognised-kind" in rules(report, Verdict.REVIEW)


def test_individual_level_kind__blocks_naming_the_tool(tmp_path):
    text = "#IID\tMISSING_CT\tOBS_CT\tF_MISS\nper0\t3\t200\t0.015\n"
    report = check(write(tmp_path, "q.smiss", text))
    assert "individual-level.kind" in rules(report, Verdict.BLOCK)
    assert "plink2 --missing per sample" in report.findings[0].message


def test_admin_kinds__a_node_registers_its_own_tool(tmp_path):
    kinds = write(tmp_path, "kinds.toml", MYTOOL)
    config = {"kinds_file": kinds}
    assert registry(AirlockConfig(**config))[0].name == "mytool.assoc"
    safe = write(tmp_path, "r.tsv", _mytool([(0.2, 900), (0.3, 900)]))
    assert check(safe).verdict is Verdict.REVIEW  # not known without the node's kinds
    assert check(safe, **config).verdict is Verdict.PASS
    # its roles apply: 0.005 x 2 x 900 = 9 copies; 8 people
    rare = write(tmp_path, "s.tsv", _mytool([(0.005, 900), (0.3, 8)]))
    found = rules(check(rare, **config), Verdict.BLOCK)
    assert {"minor-allele-count", "gwas-observations"} <= found


def test_admin_kinds__a_column_name_may_carry_the_number_of_people(tmp_path):
    # 'AF_{n}': the tool writes the sample size into the column's name (AF_900)
    text = MYTOOL.replace('"EFFECT_AF", "SAMPLES_USED", ', '"AF_{n}", ')
    text = text.replace(
        'EFFECT_AF = "allele_freq"\nSAMPLES_USED = "people"', '"AF_{n}" = "allele_freq"'
    )
    kinds = write(tmp_path, "kinds.toml", text)
    config = {"kinds_file": kinds}

    def table(n: int, af: float) -> str:
        return f"CHR\tBP\tSNP\tAF_{n}\tBETA\tSE\tP\n" + "".join(
            f"22\t{100 + i}\trs{i}\t{af}\t0.1\t0.02\t0.3\n" for i in range(3)
        )

    assert check(write(tmp_path, "a.tsv", table(900, 0.2)), **config).verdict is Verdict.PASS
    # 0.005 x 2 x 900 = 9 copies
    rare = rules(check(write(tmp_path, "b.tsv", table(900, 0.005)), **config), Verdict.BLOCK)
    assert "minor-allele-count" in rare
    few = check(write(tmp_path, "c.tsv", table(8, 0.5)), **config)
    assert {"minor-allele-count", "gwas-observations"} <= rules(few, Verdict.BLOCK)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        (MYTOOL.replace('layout = "per-variant"', 'layout = "per-variant"\ncolour = "red"'),
         "unknown key kind.0.colour"),
        (MYTOOL.replace('"allele_freq"', '"allele_frequency"'), "is not one of"),
        (MYTOOL + 'GENE = "label"\n', "roles name columns that are neither"),
        (MYTOOL.replace('"per-variant"', '"per-person"'), "layout"),
        (MYTOOL + MYTOOL, "kinds named more than once: mytool.assoc"),
        ("[[kind]]\nname = 'x'\ntitle = 'x'\nlayout = 'counts'\n", "give its required columns"),
    ],
)  # fmt: skip
def test_admin_kinds__mistakes_are_errors_that_say_what(text, words):
    with pytest.raises(KindsFileError, match=re.escape(words)):
        parse_kinds(text, "kinds.toml")


def test_admin_kinds__the_site_config_checks_the_file_when_loaded(tmp_path):
    bad = write(tmp_path, "kinds.toml", MYTOOL.replace("summary_statistics", "summary_stats"))
    site = write(tmp_path, "site.toml", f'[airlock.checks]\nkinds_file = "{bad}"\n')
    with pytest.raises(ConfigError, match=r"unknown key kind\.0\.summary_stats"):
        load_site_config(site)
    site = write(tmp_path, "rel.toml", '[airlock.checks]\nkinds_file = "kinds.toml"\n')
    with pytest.raises(ConfigError, match="must be an absolute path"):
        load_site_config(site)
    good = write(tmp_path, "good.toml", MYTOOL)
    site = write(tmp_path, "ok.toml", f'[airlock.checks]\nkinds_file = "{good}"\n')
    assert load_site_config(site).airlock.config.kinds_file == good
