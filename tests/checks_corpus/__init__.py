"""A corpus of realistic output files for the airlock checks: disclosive ones made by other tools
and in other encodings, and safe ones that must not be blocked.

Each :class:`Case` is a file name, what the checks must say about it and why. The files are
written by :func:`write_corpus` into a directory (a test's tmp dir), from seeded random data,
so the corpus costs nothing in the repository. Sample IDs come from :func:`corpus_context`:
three datasets of 300 people each, with IDs like the demo's (``DK000001`` ...).

Expectations (issue 14): a disclosive file gets ``block``, or at least ``review`` where a human
must judge (:attr:`Expect.FLAG`); a safe file of a recognised kind gets ``pass``; a safe file
that only a human can judge (a figure, a notebook, a table of no known kind) gets ``review``;
no safe file gets ``block``.
"""

from __future__ import annotations

from tests.checks_corpus.cases import Case, Expect, corpus_context, sample_ids
from tests.checks_corpus.generate import CASES, write_corpus

__all__ = ["CASES", "Case", "Expect", "corpus_context", "sample_ids", "write_corpus"]
