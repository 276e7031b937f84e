"""Text files of many lines: a log of records of several types (bcftools roh's RG lines between
its ST lines, one sample ID on every line) took minutes for 2 MB, because each RG line started a
fixed-width table scanned to the end of the block and each finding counted the lines from the
start. What these tests hold: the findings, the verdict, and the work (how many lines the table
finder reads), which must grow with the file, not with its square."""

from __future__ import annotations

import os
import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import airlock.checks.embedded as embedded
from airlock.checks import Verdict, check_file
from airlock.checks.content import SampleIdMatcher, matching, pieces_of, trie_pattern
from airlock.checks.text import MAX_TEXT_TABLES, RULE_TEXT_TABLES, LineNumbers
from tests.checks_corpus import corpus_context

SETTINGS = settings(
    max_examples=int(os.environ.get("TRESOR_FUZZ_EXAMPLES", "60")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
CONTEXT = corpus_context()
ID_ALPHABET = "DKSEdk0123_-."


@SETTINGS
@given(
    words=st.lists(st.text(ID_ALPHABET, min_size=1, max_size=8), min_size=1, max_size=30),
    text=st.text(ID_ALPHABET + " ,\n", max_size=300),
)
def test_trie_pattern__matches_as_the_alternation_longest_first(words, text):
    """The sample-ID matcher's Python pattern (a prefix tree) finds what the plain alternation
    of the IDs, longest first, finds: the same spans in the same order."""
    alternation = "|".join(re.escape(w) for w in sorted(set(words), key=len, reverse=True))
    plain = [m.span() for m in re.finditer(f"({alternation})", text)]
    trie = [m.span() for m in re.finditer(f"({trie_pattern(words)})", text)]
    assert trie == plain


@SETTINGS
@given(data=st.binary(max_size=400), picks=st.lists(st.integers(0, 400), max_size=40))
def test_line_numbers__any_order_of_offsets_gives_the_line_counted_from_the_start(data, picks):
    numbers = LineNumbers(data, 5)
    for offset in (min(p, len(data)) for p in picks):
        assert numbers.at(offset) == 5 + data.count(b"\n", 0, offset)


def _roh(samples: int, per_sample: int) -> str:
    """bcftools roh's output: per sample, ST lines (6 fields) with RG lines (8 fields)
    between them, a sample ID on every line."""
    lines = [
        "# This file was produced by: bcftools roh(1.16+htslib-1.16)",
        "# RG\t[2]Sample\t[3]Chromosome\t[4]Start\t[5]End\t[6]Length (bp)\t[7]Number of "
        "markers\t[8]Quality (average fwd-bwd phred score)",
        "# ST\t[2]Sample\t[3]Chromosome\t[4]Position\t[5]State (0:HW, 1:AZ)\t[6]Quality",
    ]
    for s in range(1, samples + 1):
        sample = f"DK{s:06d}"
        for k in range(per_sample):
            lines.append(f"ST\t{sample}\tchr21\t{1000 + 37 * k}\t{k % 2}\t{20 + k % 7}.5")
            if k % 25 == 24:
                lines.append(f"RG\t{sample}\tchr21\t{1000 + 37 * (k - 24)}\t{1000 + 37 * k}\t"
                             f"{37 * 24}\t25\t{30 + k % 9}.1")  # fmt: skip
    return "\n".join(lines) + "\n"


def test_log_of_interleaved_records__blocks_and_reads_each_token_a_few_times(tmp_path, monkeypatch):
    """A roh log of 120 people: blocked for its sample IDs (found on every line, counted past
    the cap), and the table finder reads each token a bounded number of times."""
    reads = {"tokens": 0}
    numeric = embedded._numeric

    def counting(token):
        reads["tokens"] += 1
        return numeric(token)

    monkeypatch.setattr(embedded, "_numeric", counting)
    text = _roh(120, 100)
    path = tmp_path / "roh.txt"
    path.write_text(text)
    report = check_file(path, CONTEXT)
    assert report.verdict is Verdict.BLOCK
    ids = [f for f in report.findings if f.rule == "individual-level.sample-id"]
    assert ids and any("more" in f.message for f in ids)
    tokens = len(text.split())
    # the table finder looks at each token a few times, not once for every line above it
    assert reads["tokens"] < 10 * tokens, (reads["tokens"], tokens)


def test_ragged_lines_of_numbers__each_line_is_read_as_an_array_line_once(monkeypatch):
    """Lines of numbers of varying width, which no table reader takes, were each scanned to the
    end of the block again by the array reader from every line above them (4,000 lines took
    10 s): now the runs are found in one pass."""
    matched = {"lines": 0}
    pattern = embedded._ARRAY_LINE

    class Counting:
        def match(self, line):
            matched["lines"] += 1
            return pattern.match(line)

    monkeypatch.setattr(embedded, "_ARRAY_LINE", Counting())
    widths = [1, 3, 5, 8]
    lines = [" ".join("7" * (k % 3 + 1) for _ in range(widths[k % 4])) for k in range(2000)]
    assert list(embedded.find_tables("\n".join(lines))) == []  # no reader takes them
    assert matched["lines"] < 3 * len(lines), matched


def test_text_with_more_tables_than_checked__the_rest_gets_a_review(tmp_path):
    """Past MAX_TEXT_TABLES tables in one file's text, the rest get a review finding that
    says from which line; a safe text of fewer tables has none."""
    table = "group\tn\nnorth\t55\nsouth\t40\neast\t35\n"
    many = "\n".join(f"Table {k}\n{table}" for k in range(MAX_TEXT_TABLES + 30))
    path = tmp_path / "many.txt"
    path.write_text(many)
    report = check_file(path, CONTEXT)
    found = [f for f in report.findings if f.rule == RULE_TEXT_TABLES]
    assert len(found) == 1 and "30 from line" in found[0].message
    assert report.verdict is not Verdict.PASS
    few = tmp_path / "few.txt"
    few.write_text("\n".join(f"Table {k}\n{table}" for k in range(5)))
    assert not [f for f in check_file(few, CONTEXT).findings if f.rule == RULE_TEXT_TABLES]


@SETTINGS
@given(
    ids=st.lists(st.text("ABdk0123456789", min_size=4, max_size=9), min_size=1, max_size=60),
    decoys=st.lists(st.text("ABdk0123456789", min_size=4, max_size=9), max_size=20),
    order=st.randoms(use_true_random=False),
)
def test_sample_id_prefilter__keeps_every_piece_holding_an_id(ids, decoys, order):
    """The RE2 prefilter (the IDs' shapes, or the IDs themselves) keeps every piece of the
    bytes in which an ID occurs, in its spelling or in lower case: a piece it drops is never
    read for IDs."""
    matcher = SampleIdMatcher((("d", frozenset(ids), True),))
    words = [*ids, *(i.lower() for i in ids), *decoys] * 3
    order.shuffle(words)
    data = "\n".join(" ".join(words[k : k + 3]) for k in range(0, len(words), 3)).encode()
    pieces, offsets = pieces_of(data, size=16)  # a piece or two per line
    kept = [(offsets[i], offsets[i + 1]) for i in matching(pieces, matcher.prefilter)]
    for sample in matcher.ids | set(matcher.folded):
        at = data.find(sample.encode())
        while at >= 0:
            assert any(s <= at and at + len(sample) <= e for s, e in kept), sample
            at = data.find(sample.encode(), at + 1)
    found = {sample for _, _, sample in matcher.find(data)}
    assert found <= matcher.ids


def test_sample_ids__written_with_a_separator_case_or_full_width_forms_are_found():
    matcher = SampleIdMatcher((("dk", frozenset({"DK000017", "DK000018"}), True),))
    wide = "DK000018".translate(str.maketrans("DK0123456789", "ＤＫ０１２３４５６７８９"))
    text = f"DK-000017, dk_000018; Dk 000017 and {wide} but not DK-0000171 or xDK-000017"
    found = [(text.encode()[s:e].decode(), sample) for s, e, sample in matcher.find(text.encode())]
    assert found == [("DK-000017", "DK000017"), ("dk_000018", "DK000018"),
                     ("Dk 000017", "DK000017"), (wide, "DK000018")]  # fmt: skip
    # IDs with such separators of their own are matched as written, not read through
    own = SampleIdMatcher((("x", frozenset({"AB-1234", "CD1234"}), True),))
    assert [s for _, _, s in own.find(b"AB-1234 CD-1234 CD1234")] == ["AB-1234", "CD1234"]
