"""No oracle: sample IDs of datasets the request's project is not granted are matched in the
same pass as the granted ones, but what they find goes to the reviewers only; the requester's
findings and verdict are those of a file of made-up IDs."""

from __future__ import annotations

import dataclasses

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from airlock.checks import CheckContext, Verdict, check_file
from airlock.checks.content import RULE_SAMPLE_ID, RULE_SAMPLE_ID_NOT_GRANTED
from airlock.checks.context import DatasetSamples
from tests.checks_support import write

GRANTED = frozenset(f"DK{i:06d}" for i in range(1, 41))
OTHERS = frozenset(f"UK{i:06d}" for i in range(1, 41))
CONTEXT = CheckContext(
    datasets=(DatasetSamples("dk", GRANTED),), reviewer_datasets=(DatasetSamples("uk", OTHERS),)
)


def _csv(ids) -> str:
    return "candidate,score\n" + "".join(f"{s},{0.5 + i / 100}\n" for i, s in enumerate(ids))


def _text(ids) -> str:
    return "Notes on the candidates.\n" + "".join(f"We looked at {s}: fine.\n" for s in ids)


def _parquet(ids, path):
    pq.write_table(pa.table({"who": list(ids), "score": [0.5] * len(ids)}), path)


GUESSES = ["UK000003", "UK000017", "UK000029"]  # in a dataset the project is not granted
DECOYS = ["UK900003", "UK900017", "UK900029"]  # in no dataset


def _view(report):
    """What the requester is shown (the guessed values themselves, in column names, read as
    the decoys': a file names its own values)."""
    view = [(f.rule, f.verdict, f.message, f.location) for f in report.findings]
    return report.verdict, str(view).replace("UK0000", "UK9000")


#: a file of ``ids`` in each place an ID may be: cells, text, column names, Parquet
MAKERS = pytest.mark.parametrize(
    "make",
    [
        lambda tmp, ids: write(tmp, "c.csv", _csv(ids)),
        lambda tmp, ids: write(tmp, "notes.txt", _text(ids)),
        lambda tmp, ids: write(tmp, "wide.csv", "group," + ",".join(ids) + "\na,1,2,3\n"),
        lambda tmp, ids: _parquet(ids, tmp / "p.parquet") or tmp / "p.parquet",
    ],
    ids=["csv cells", "text", "column names", "parquet"],
)


@MAKERS
def test_no_oracle__guesses_get_what_decoys_get_and_reviewers_see_the_matches(tmp_path, make):
    (tmp_path / "g").mkdir()
    (tmp_path / "d").mkdir()
    guesses = check_file(make(tmp_path / "g", GUESSES), CONTEXT)
    decoys = check_file(make(tmp_path / "d", DECOYS), CONTEXT)
    assert _view(guesses) == _view(decoys)
    assert RULE_SAMPLE_ID_NOT_GRANTED not in {f.rule for f in guesses.findings}
    assert "not-granted" not in str(guesses.to_dict())
    assert decoys.reviewer_findings == ()
    found = guesses.reviewer_findings
    assert found and {f.rule for f in found} == {RULE_SAMPLE_ID_NOT_GRANTED}
    assert all(f.verdict is Verdict.BLOCK for f in found)


def test_no_oracle__granted_ids_are_the_requesters_findings(tmp_path):
    report = check_file(write(tmp_path, "c.csv", _csv(["DK000003", "UK000017"])), CONTEXT)
    assert [f.location.row for f in report.findings if f.rule == RULE_SAMPLE_ID] == [1]
    assert [f.location.row for f in report.reviewer_findings] == [2]
    assert report.verdict is Verdict.BLOCK


def test_no_oracle__many_matches_are_counted_for_the_reviewers_only(tmp_path):
    ids = sorted(OTHERS)
    context = dataclasses.replace(
        CONTEXT, config=CONTEXT.config.model_copy(update={"max_findings_per_rule": 5})
    )
    report = check_file(write(tmp_path, "c.csv", _csv(ids)), context)
    decoy = check_file(write(tmp_path, "d.csv", _csv([s.replace("UK", "UX") for s in ids])),
                       context)  # fmt: skip
    assert _view(report) == _view(decoy)
    assert len(report.reviewer_findings) == 6  # five located, then "35 more"
    assert report.reviewer_findings[-1].message.startswith("35 more findings")


SE = frozenset(f"SE{i:06d}" for i in range(1, 41))
#: the project is granted dk; uk and se are the node's other datasets
TWO_OTHERS = dataclasses.replace(
    CONTEXT, reviewer_datasets=(DatasetSamples("uk", OTHERS), DatasetSamples("se", SE))
)


@MAKERS
def test_no_oracle__each_view_names_the_dataset_of_the_id_it_may_see(tmp_path, make):
    report = check_file(make(tmp_path, ["DK000003", "UK000017", "SE000005"]), TWO_OTHERS)
    mine = [f for f in report.findings if f.rule == RULE_SAMPLE_ID]
    assert mine and all("of dataset dk" in f.message for f in mine)
    shown = str(report.to_dict())
    assert "dataset uk" not in shown and "dataset se" not in shown and "not granted" not in shown
    theirs = [f.message for f in report.reviewer_findings]
    assert len(theirs) == 2 and "dataset dk" not in str(theirs)
    for dataset in ("uk", "se"):
        named = [m for m in theirs if f"of dataset {dataset}" in m]
        assert len(named) == 1 and "which the request's project is not granted" in named[0]


def test_no_oracle__the_service_tells_reviewers_which_dataset(tmp_path):
    from airlock.checking import RequestContexts, node_checker, run_checker

    path = write(tmp_path, "c.csv", _csv(["DK000003", "UK000017", "SE000005"]))
    others = CheckContext(datasets=TWO_OTHERS.reviewer_datasets)
    checked = run_checker(node_checker, path, "c.csv", RequestContexts(TWO_OTHERS, others, "p1"))
    assert "dataset uk" not in str(checked.report.to_dict())
    messages = sorted(f.message for f in checked.reviewer_findings)
    assert len(messages) == 2 and all(m.startswith("Reviewers only: ") for m in messages)
    assert "sample ID of dataset se," in messages[0] and "uk" not in messages[0]
    assert "sample ID of dataset uk," in messages[1] and "project p1 is not granted" in (
        messages[1].lower()
    )


def test_no_oracle__lowercased_ids_are_found_and_kept_to_their_view(tmp_path):
    report = check_file(write(tmp_path, "n.txt", "Dropped dk000003 and uk000017.\n"), CONTEXT)
    mine = [f for f in report.findings if f.rule.startswith("individual-level.sample-id")]
    assert [f.rule for f in mine] == [RULE_SAMPLE_ID] and "dataset dk" in mine[0].message
    assert [f.rule for f in report.reviewer_findings] == [RULE_SAMPLE_ID_NOT_GRANTED]
