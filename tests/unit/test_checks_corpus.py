"""The corpus (tests/checks_corpus): each disclosive file blocks (or needs review where a human
must judge), each safe file of a recognised kind passes, and no safe file blocks."""

from __future__ import annotations

import pytest

from airlock.checks import Verdict, check_file
from tests.checks_corpus import CASES, Expect, corpus_context, write_corpus


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    directory = tmp_path_factory.mktemp("corpus")
    write_corpus(directory)
    return directory


@pytest.fixture(scope="module")
def context():
    return corpus_context()


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_corpus(corpus, context, case, request):
    if case.pending:
        request.applymarker(pytest.mark.xfail(reason=case.pending, strict=False))
    report = check_file(corpus / case.name, context, display_path=case.name)
    crashed = [f.message for f in report.findings if f.message.startswith(
        "This file cannot be checked (")]  # fmt: skip
    assert not crashed, f"{case.name}: the checks stopped on an error of their own: {crashed}"
    shown = "\n".join(f"  {f.verdict.value} {f.rule}: {f.message[:160]}" for f in report.findings)
    if not case.expect.allows(report.verdict):
        pytest.fail(
            f"{case.name} ({case.why}): expected {case.expect.value}, got "
            f"{report.verdict.value}\n{shown}",
            pytrace=False,
        )
    if report.verdict is not Verdict.PASS:
        assert report.findings, "a verdict other than pass names its reasons"
    if case.expect is Expect.PASS:
        return
    assert all(f.message for f in report.findings)
