"""Differencing: each table with counts of people is recorded (kind, row keys, counts), and a
new table is compared with the earlier tables of its kind that the context's ledger holds."""

from __future__ import annotations

import dataclasses

from airlock.checks import CheckContext, Verdict, check_file
from airlock.checks.differencing import MAX_ROWS, RULE_DIFFERENCING
from airlock.checks.released import LedgerEntry, LedgerView, TableRecord
from tests.checks_support import cells, finding, rules, write

COUNTS = "region,sex,n\nnorth,female,120\nnorth,male,115\nsouth,female,95\nsouth,male,101\n"
# the same table one person later: north/male 115 -> 114
ONE_LESS = COUNTS.replace("north,male,115", "north,male,114")


def released(path, label="counts.csv released in request r1 on 2026-11-02") -> LedgerEntry:
    [record] = check_file(path).tables
    return LedgerEntry(label=label, record=record, request_id="r1", file_name="counts.csv")


def check_against(path, *earlier: LedgerEntry, **config):
    context = CheckContext(ledger=LedgerView(earlier))
    if config:
        context = dataclasses.replace(context, config=context.config.model_copy(update=config))
    return check_file(path, context)


def test_record__a_count_table_is_described_by_its_keys_and_counts(tmp_path):
    [record] = check_file(write(tmp_path, "c.csv", COUNTS)).tables
    assert record.kind == "counts(region,sex|n)"  # the registry's kind, with its header
    assert (record.key_columns, record.count_columns) == (("region", "sex"), ("n",))
    assert dict(record.rows) == {
        "north\x1ffemale": (120.0,),
        "north\x1fmale": (115.0,),
        "south\x1ffemale": (95.0,),
        "south\x1fmale": (101.0,),
    }
    assert (record.total_rows, record.every) == (4, 1)
    assert TableRecord.from_dict(record.to_dict()) == record


def test_record__tables_without_counts_of_people_are_not_recorded(tmp_path):
    path = write(tmp_path, "b.csv", "term,beta,se,p\nage,0.1,0.02,0.001\n")
    assert check_file(path).tables == ()


def test_differencing__one_person_less_blocks_naming_the_earlier_release(tmp_path):
    first = released(write(tmp_path, "counts.csv", COUNTS))
    report = check_against(write(tmp_path, "counts2.csv", ONE_LESS), first)
    assert report.verdict is Verdict.BLOCK
    assert cells(report, RULE_DIFFERENCING) == {(2, "n")}
    message = finding(report, RULE_DIFFERENCING).message
    assert "counts.csv released in request r1 on 2026-11-02" in message
    assert "114 here and 115" in message and "fewer than 10 people" in message
    # without the ledger the same table passes its other rules: only the comparison tells
    assert RULE_DIFFERENCING not in rules(check_file(tmp_path / "counts2.csv"))


def test_differencing__same_counts_or_large_differences_are_fine(tmp_path):
    first = released(write(tmp_path, "counts.csv", COUNTS))
    assert RULE_DIFFERENCING not in rules(check_against(tmp_path / "counts.csv", first))
    grown = COUNTS.replace("115", "135").replace("95", "105")
    report = check_against(write(tmp_path, "grown.csv", grown), first)
    assert RULE_DIFFERENCING not in rules(report)


def test_differencing__unrelated_tables_are_not_compared(tmp_path):
    first = released(write(tmp_path, "counts.csv", COUNTS))
    other_kind = ONE_LESS.replace("region,sex,n", "region,sex,cases")
    other_rows = ONE_LESS.replace("north", "east").replace("south", "west")
    for name, text in (("kind.csv", other_kind), ("rows.csv", other_rows)):
        assert RULE_DIFFERENCING not in rules(check_against(write(tmp_path, name, text), first))


def test_differencing__threshold_is_min_cell_count(tmp_path):
    first = released(write(tmp_path, "counts.csv", COUNTS))
    seven_less = COUNTS.replace("north,male,115", "north,male,108")
    path = write(tmp_path, "c2.csv", seven_less)
    assert cells(check_against(path, first), RULE_DIFFERENCING) == {(2, "n")}
    assert RULE_DIFFERENCING not in rules(check_against(path, first, min_cell_count=5))


def test_differencing__labels_read_as_numbers_or_text_match(tmp_path):
    first = released(write(tmp_path, "counts.csv", "year,n\n2020,40\n2021,55\n"))
    # the same years, one row missing a year (so the column is read as floats)
    later = write(tmp_path, "later.csv", "year,n\n2020,40\n2021,54\n,12\n")
    assert cells(check_against(later, first), RULE_DIFFERENCING) == {(2, "n")}


def test_differencing__rows_without_labels_are_matched_by_position(tmp_path):
    first = released(write(tmp_path, "counts.csv", "n,cases\n400,120\n"))
    later = write(tmp_path, "later.csv", "n,cases\n399,120\n")
    assert cells(check_against(later, first), RULE_DIFFERENCING) == {(1, "n")}


def test_differencing__a_large_table_is_sampled_and_still_compared(tmp_path):
    rows = 3 * MAX_ROWS
    text = "#CHROM,POS,ID,REF,ALT,ALT_FREQS,OBS_CT\n" + "".join(
        f"1,{1000 + i},rs{i},A,G,0.25,5000\n" for i in range(rows)
    )
    [record] = check_file(write(tmp_path, "a.afreq", text)).tables
    assert record.total_rows == rows and record.every == 4
    assert len(record.rows) <= MAX_ROWS
    earlier = LedgerEntry("a.afreq released in request r1 on 2026-11-02", record, "r1", "a.afreq")
    # the same variants counted in one person less: OBS_CT (alleles) 2 less everywhere
    later = write(tmp_path, "b.afreq", text.replace(",5000\n", ",4998\n"))
    report = check_against(later, earlier)
    assert report.verdict is Verdict.BLOCK
    assert len([f for f in report.findings if f.rule == RULE_DIFFERENCING]) > 1


def test_ledger_view__a_file_is_not_compared_with_itself(tmp_path):
    first = released(write(tmp_path, "counts.csv", COUNTS))
    view = LedgerView((first,))
    assert view.without("r1", "counts.csv").entries == ()
    assert view.without("r2", "counts.csv") is view
