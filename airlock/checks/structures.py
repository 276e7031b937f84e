"""Data structures written as text that hold one element per person without looking like a
table: a Newick tree (a clustering or relatedness tree has a leaf per person, its branch lengths
their distances) and a Matrix Market matrix (a sparse genotype or kinship matrix has a row or
column per person; its lines are 'row col value' triplets, which read as a table of three
columns and say nothing of what the rows are).

Such a structure over about as many elements as a dataset has people is blocked; any other is
for a reviewer, who must know what its leaves, rows and columns are.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from airlock.checks.context import CheckContext
from airlock.checks.findings import FindingSink, Location, Verdict
from airlock.checks.individuals import RULE_MATRIX, near, people_counts

RULE_TREE = "individual-level.tree"

#: the end of a Newick tree: ')', an optional root label and length, ';'
_TREE_END = re.compile(r"\)[^\s();,]*(?::[-+0-9.eE]+)?\s*;")
_PARENS = re.compile(r"[()]")
#: what a Newick tree is made of: labels (quoted or not), lengths, brackets, commas
_NEWICK_BODY = re.compile(r"[\s()\w.:,'|/\[\]&=+-]+;")
#: fewer leaves than this are a bracket of prose, '(1, 2, 3);', not a tree worth a look
_MIN_LEAVES = 10
_MATRIX_MARKET = re.compile(
    r"\A%%MatrixMarket\s+matrix\s+(coordinate|array)\b[^\n]*\n(?:%[^\n]*\n|\s*\n)*"
    r"\s*(\d+)\s+(\d+)(?:\s+(\d+))?\s*$",
    re.I | re.M,
)


def check_structures(text: str, first_line: int, context: CheckContext, sink: FindingSink) -> bool:
    """Findings for the Newick trees and the Matrix Market header in one block of text;
    whether the block starts a Matrix Market file."""
    people = people_counts(context)
    matrix = first_line == 1 and (m := _MATRIX_MARKET.match(text.lstrip("\ufeff"))) is not None
    if matrix:
        _matrix(int(m.group(2)), int(m.group(3)), people, sink)
    if "(" not in text or ";" not in text:
        return matrix
    for start, end in _trees(text):
        tree = text[start:end]
        if not _is_newick(tree):
            continue
        leaves = tree.count(",") + 1
        if leaves < _MIN_LEAVES:
            continue
        line = first_line + text.count("\n", 0, start)
        n = next((n for n in people if near(leaves, n)), None)
        if n is not None:
            sink.add(
                RULE_TREE,
                Verdict.BLOCK,
                f"This is a tree (Newick) of {leaves:,} leaves, about as many as a dataset on "
                f"this node has people ({n:,}): a tree with a leaf per person, and its branch "
                "lengths, is individual-level data, which never leaves the node. Release a "
                "tree of groups of at least the minimum cell count instead.",
                Location(line),
            )
        else:
            sink.add(
                RULE_TREE,
                Verdict.REVIEW,
                f"This is a tree (Newick) of {leaves:,} leaves: if a leaf is a person, it is "
                "individual-level data. A reviewer must judge it; say in the request what "
                "its leaves are.",
                Location(line),
            )
    return matrix


def _trees(text: str) -> Iterator[tuple[int, int]]:
    """(start, end) of each bracketed run that ends as a Newick tree does, found from its end
    back to the '(' that balances it, never past the ';' before it: a walk over each stretch
    between semicolons at most once (a pattern matching nested brackets forwards can take
    time growing with the square of a long text's brackets)."""
    for m in _TREE_END.finditer(text):
        floor = text.rfind(";", 0, m.start()) + 1
        if text.count(",", floor, m.start()) < _MIN_LEAVES - 1:
            continue  # 'f(a, b);': too few leaves to be looked at, whatever it is
        depth = 0
        for paren in reversed(list(_PARENS.finditer(text, floor, m.start() + 1))):
            depth += 1 if paren.group() == ")" else -1
            if depth == 0:
                yield paren.start(), m.end()
                break


def _is_newick(tree: str) -> bool:
    """Brackets that balance around labels without spaces inside them (not prose's '(age, sex,
    ...);'), nested or with branch lengths."""
    return (
        bool(_NEWICK_BODY.fullmatch(tree))
        and tree.count("(") == tree.count(")")
        and not _WORDS.search(tree)
        and (tree.count("(") >= 2 or len(_LENGTH.findall(tree)) >= 2)
    )


_WORDS = re.compile(r"\w\s+\w")
_LENGTH = re.compile(r":[-+]?[0-9.]+(?:[eE][-+]?\d+)?\s*[,)]")


def _matrix(rows: int, columns: int, people: list[int], sink: FindingSink) -> None:
    n = next((n for n in people if near(rows, n) or near(columns, n)), None)
    if n is not None:
        sink.add(
            RULE_MATRIX,
            Verdict.BLOCK,
            f"This is a Matrix Market matrix of {rows:,} rows and {columns:,} columns, about "
            f"as many as a dataset on this node has people ({n:,}): a matrix with a row or "
            "column per person (genotypes, kinship) is individual-level data, which never "
            "leaves the node. Release aggregates over people instead.",
            Location(1),
        )
    else:
        sink.add(
            RULE_MATRIX,
            Verdict.REVIEW,
            f"This is a Matrix Market matrix of {rows:,} rows and {columns:,} columns: if a "
            "row or column is a person (or a cell), it is individual-level data. A reviewer "
            "must judge it; say in the request what its rows and columns are.",
            Location(1),
        )
