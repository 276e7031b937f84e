"""The federation analyses' and discovery summaries' output kinds are entries of the airlock's
kind registry (airlock/checks/kinds.toml), with the same columns and count roles, so the
tables the nodes release and the coordinator merges are recognised, not ad hoc."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from airlock.checks import CheckContext, Verdict, check_file
from airlock.checks.kinds import builtin_kinds
from tresor.federation.analyses import output_kinds
from tresor.federation.merge import MERGERS

KINDS = {k.name: k for k in builtin_kinds()}
TABLES = {name: o for name, o in output_kinds().items() if o["file"].endswith(".parquet")}
PEOPLE = {"people", "genotype_hom_x", "genotype_het", "genotype_hom_y", "genotype_hap_x",
          "genotype_hap_y"}  # fmt: skip


def _fixed(columns) -> set[str]:
    """The columns an output always has (not the per-predictor ``CG_<predictor>...``)."""
    return {c for c in columns if not c.endswith("...")}


def _roles(kind) -> dict[str, str]:
    return {c.lstrip("#").upper(): r.split(" ")[0] for c, r in kind.roles.items()}


@pytest.mark.parametrize("name", sorted(TABLES))
def test_output_kind__is_in_the_registry_with_its_columns_and_counts(name):
    out, kind = TABLES[name], KINDS[name]
    assert _fixed(out["columns"]) == set(kind.columns) | set(kind.optional)
    roles = _roles(kind)
    assert {roles[c] for c in out["counts_of_people"]} <= PEOPLE
    assert all(roles[c].startswith("allele_") for c in out["counts_of_alleles"])
    assert kind.summary_statistics == out["per_variant"]
    assert {roles[c] for c in out["flags"]} <= {"flag"}


@pytest.mark.parametrize("analysis", sorted(MERGERS))
def test_merged_table__is_in_the_registry(analysis):
    merger = MERGERS[analysis]
    kind = KINDS[f"federated{merger.suffix}"]
    assert {c.lstrip("#") for c in merger.header} == set(kind.columns) | set(kind.optional)


def _table(name: str, n: int, rng) -> pa.Table:
    """A safe table of the output kind ``name``: every count well above the thresholds."""
    columns = {}
    for c in TABLES[name]["columns"]:
        c = c.replace("<predictor>...", "age")
        if c == "CHROM":
            columns[c] = ["chr21"] * n
        elif c == "POS":
            columns[c] = list(range(10_000, 10_000 + 100 * n, 100))
        elif c in ("REF", "A1"):
            columns[c] = ["A"] * n
        elif c == "ALT":
            columns[c] = ["G"] * n
        elif c in ("STRATUM", "PREDICTOR"):
            columns[c] = (["ALL", "female", "male"] * n)[:n]
        elif c == "SUPPRESSED":
            columns[c] = [False] * n
        elif c == "AN":
            columns[c] = [2000] * n
        elif c in ("AC", "HAP_REF_CT", "HAP_ALT_CT"):
            columns[c] = rng.integers(100, 900, n).tolist() if c == "AC" else [0] * n
        elif c in ("HOM_REF_CT", "HET_REF_ALT_CTS", "TWO_ALT_GENO_CTS"):
            columns[c] = [600, 300, 100][("HOM_REF_CT", "HET_REF_ALT_CTS", "TWO_ALT_GENO_CTS")
                                          .index(c)] * np.ones(n, dtype=int)  # fmt: skip
        elif c in ("OBS_CT", "N"):
            columns[c] = [1000] * n
        else:
            columns[c] = rng.normal(size=n).tolist()
    return pa.table(columns)


@pytest.mark.parametrize("name", sorted(TABLES))
def test_released_parquet__is_recognised_and_passes(name, tmp_path):
    path = tmp_path / TABLES[name]["file"]
    pq.write_table(_table(name, 60, np.random.default_rng(14)), path)
    report = check_file(path, CheckContext())
    shown = [(f.rule, f.message[:120]) for f in report.findings]
    assert report.verdict is Verdict.PASS, shown


@pytest.mark.parametrize("name", sorted(TABLES))
def test_released_parquet__the_ledger_keys_its_rows_as_the_output_kind_says(name, tmp_path):
    path = tmp_path / TABLES[name]["file"]
    pq.write_table(_table(name, 60, np.random.default_rng(14)), path)
    [record] = check_file(path, CheckContext()).tables
    out = TABLES[name]
    # every row key (so no two rows are conflated), and no count or flag
    assert set(out["row_keys"]) <= set(record.key_columns)
    counts = {*out["counts_of_people"], *out["counts_of_alleles"], *out["flags"]}
    assert not set(record.key_columns) & counts


@pytest.mark.parametrize("name", sorted(n for n in TABLES if "AC" in TABLES[n]["columns"]))
def test_released_parquet__its_count_roles_apply(name, tmp_path):
    """The registry's roles are the rules' (a kind recognised with other roles would not see
    a rare allele)."""
    table = _table(name, 60, np.random.default_rng(14))
    ac = table.column("AC").to_pylist()
    ac[7] = 3
    path = tmp_path / TABLES[name]["file"]
    pq.write_table(table.set_column(table.schema.get_field_index("AC"), "AC", pa.array(ac)), path)
    report = check_file(path, CheckContext())
    assert report.verdict is Verdict.BLOCK
    assert "minor-allele-count" in {f.rule for f in report.findings}


def test_discovery_summary__a_periodic_release_is_compared_with_the_previous_one(tmp_path):
    """The ledger records a summary under its registry kind, and the next month's summary whose
    genotype count in one row differs by one person is blocked (differencing)."""
    from airlock.checks.released import LedgerEntry, LedgerView

    name = "discovery.allele_frequencies"
    table = _table(name, 60, np.random.default_rng(14))
    first = tmp_path / "november" / TABLES[name]["file"]
    first.parent.mkdir()
    pq.write_table(table, first)
    [record] = check_file(first, CheckContext()).tables
    assert record.kind == name
    # the ledger matches rows by the output kind's row keys (not its flags)
    assert record.key_columns == tuple(TABLES[name]["row_keys"])
    het = table.column("HET_REF_ALT_CTS").to_pylist()
    het[5] -= 1
    later = tmp_path / TABLES[name]["file"]
    i = table.schema.get_field_index("HET_REF_ALT_CTS")
    pq.write_table(table.set_column(i, "HET_REF_ALT_CTS", pa.array(het)), later)
    ledger = LedgerView((LedgerEntry("the November summary", record, "r1", first.name),))
    report = check_file(later, CheckContext(ledger=ledger))
    [f] = [f for f in report.findings if f.rule == "differencing"]
    assert f.verdict is Verdict.BLOCK and "the November summary" in f.message
    assert f.location.row == 6
