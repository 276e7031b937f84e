"""Property: whatever a researcher writes, the checks finish with findings and never stop on an
error of their own (which would block the file without a reason a researcher can act on)."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from airlock.checks import check_file
from tests.checks_corpus import corpus_context

SETTINGS = settings(
    max_examples=int(os.environ.get("TRESOR_FUZZ_EXAMPLES", "60")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
CONTEXT = corpus_context()

cell = st.one_of(
    st.integers(-10, 10**7).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
    st.sampled_from(["", "NA", ".", "./.", "0|1", "A/G", "AG", "<10", "*", "3 (42.9)", "[1,2]",
                     "=SUM(A1)", "-", "+-?", "DK000001", "DK000001:", "x.cram", "Total", "N",
                     "mean", "1e-300", '"q,uoted"', "0x1f", "rs123", "22:100:A:G"]),
    st.text("abcdefghijklmnopqrstuvwxyzABC0123456789 _.-:/()[]%", max_size=12),
)  # fmt: skip
names = st.one_of(
    st.sampled_from(["#CHROM", "POS", "ID", "REF", "ALT", "ALT_CTS", "OBS_CT", "AF", "N", "n",
                     "BETA", "SE", "P", "count", "total", "mean", "pct", "IID", "sample", "PC1",
                     "group", "df_resid", "coef", "largest", "C1", "GENO", "variant_qc.AC"]),
    st.text("abcdefghijklmnopqrstuvwxyz_0123456789", min_size=1, max_size=10),
)  # fmt: skip


@st.composite
def tables(draw) -> str:
    width = draw(st.integers(1, 7))
    header = draw(st.lists(names, min_size=width, max_size=width))
    rows = draw(st.lists(st.lists(cell, min_size=width, max_size=width), max_size=30))
    sep = draw(st.sampled_from([",", "\t", ";", "|", " "]))
    wrap = draw(st.sampled_from(["plain", "markdown", "latex", "text"]))
    lines = [header, *rows]
    if wrap == "markdown":
        body = "".join("| " + " | ".join(r) + " |\n" for r in lines)
        return "Results\n\n" + body
    if wrap == "latex":
        body = "".join(" & ".join(r) + " \\\\\n" for r in lines)
        return "\\begin{tabular}{" + "l" * width + "}\n" + body + "\\end{tabular}\n"
    text = "".join(sep.join(r) + "\n" for r in lines)
    return ("Some notes.\n\n" + text) if wrap == "text" else text


json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-5, 10**6), st.floats(allow_nan=False),
              cell),
    lambda children: st.lists(children, max_size=6) | st.dictionaries(names, children,
                                                                      max_size=6),
    max_leaves=40,
)  # fmt: skip


def _no_crash(name: str, content: str) -> None:
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / name
        path.write_text(content, encoding="utf-8")
        report = check_file(path, CONTEXT)
    crashed = [f.message for f in report.findings if f.message.startswith(
        "This file cannot be checked (")]  # fmt: skip
    assert not crashed, crashed


@SETTINGS
@given(tables(), st.sampled_from(["t.csv", "t.tsv", "t.txt", "t.md"]))
def test_tables__any_content_is_checked_without_an_internal_error(content, name):
    _no_crash(name, content)


@SETTINGS
@given(json_values)
def test_json__any_document_is_checked_without_an_internal_error(doc):
    _no_crash("d.json", json.dumps(doc))


def test_adversarial_runs_are_read_in_linear_time(tmp_path):
    """Inputs that make a backtracking pattern take time growing with the cube of a run (a
    word, then spaces that three optional gaps could share): 1,000 spaces took 2.4 s before the
    gaps were bounded, 200,000 would take days; now well under a second."""
    files = {"spaces.txt": "participant" + " " * 200_000 + "x\n"}
    for name, text in files.items():
        path = tmp_path / name
        path.write_text(text)
        assert check_file(path, CONTEXT).findings is not None


def test_a_line_of_dashes_is_read_at_once(tmp_path):
    """A text that starts with a rule of dashes (R's and SAS's output do): the SQL dump pattern
    let a run of dashes be cut into '--' comments in every way, 40 dashes took 21 s."""
    path = tmp_path / "report.txt"
    path.write_text("-" * 200 + "\nResults of the model\n" + "-" * 200 + "\n")
    assert check_file(path, CONTEXT).verdict is not None


def test_many_lines_that_open_and_never_close_are_read_in_linear_time(tmp_path):
    """Unclosed LaTeX tables (each read to the end of the text) and bracketed lines of dots
    (each array run read again from every line in it): 2,000 lines took 12 to 20 s."""
    files = {
        "latex.txt": ("\\begin{tabular}" + "&" * 20 + "\n") * 8000,
        "dots.txt": ("[... ...] " * 5 + "\n") * 8000,
    }
    for name, text in files.items():
        path = tmp_path / name
        path.write_text(text)
        assert check_file(path, CONTEXT).verdict is not None


def test_wide_tables_long_gaps_and_long_refused_runs_are_read_in_bounded_time(tmp_path):
    """Each of these stalled the check: a number, 4,000 spaces and a word on one line (the
    array-line pattern could cut the spaces three ways: 55 s for the line); 10,000 lines of a
    misaligned fixed-width run (read again from every line); a CSV of 5,000 count columns (each
    small count's message looked over every column for the row's label)."""
    files = {
        "gap.txt": "1" + " " * 4000 + "x\n",
        "model.txt": "".join(f"x{i}  0.{i % 9}*** ({i % 5})\n" for i in range(10_000)),
        "wide.csv": ",".join(f"c{i}" for i in range(5000)) + "\n" + ",".join("1" * 5000) + "\n",
    }
    for name, text in files.items():
        path = tmp_path / name
        path.write_text(text)
        assert check_file(path, CONTEXT).verdict is not None
