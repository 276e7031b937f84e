"""Property: a table's blocks parsed with the types learned from the block before are the
tables pyarrow's own inference gives each block parsed alone (the rules see the same types
and values whichever way a block was parsed)."""

from __future__ import annotations

import os

import pyarrow as pa
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from airlock.checks.reading import TextBlock, _BlockParser

SETTINGS = settings(
    max_examples=int(os.environ.get("TRESOR_FUZZ_EXAMPLES", "60")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)

# what one column's values look like in one block; columns change between blocks
column_shapes = st.sampled_from(
    ["int", "float", "whole floats", "text", "numbers as text", "empty", "dates", "booleans",
     "mixed"]
)  # fmt: skip


def _values(shape: str, rows: int, seed: int) -> list[str]:
    out = []
    for i in range(rows):
        k = (i * 7919 + seed) % 1000
        out.append(
            {
                "int": str(k - 500),
                "float": f"{k / 7:.4f}",
                "whole floats": f"{k}.0",
                "text": f"g{k}",
                "numbers as text": str(k) if i else "x",
                "empty": "NA" if i % 2 else "",
                "dates": f"2020-01-{k % 28 + 1:02d}",
                "booleans": "true" if k % 2 else "false",
                "mixed": [str(k), f"{k}.5", "NA", "text"][i % 4] if i else str(k),
            }[shape]
        )
    return out


def _block(shapes: list[str], rows: int, seed: int, delimiter: str) -> bytes:
    columns = [_values(shape, rows, seed + j) for j, shape in enumerate(shapes)]
    lines = (delimiter.join(row) for row in zip(*columns, strict=True))
    return "".join(line + "\n" for line in lines).encode()


@SETTINGS
@given(
    width=st.integers(1, 4),
    blocks=st.lists(st.tuples(st.lists(column_shapes, min_size=4, max_size=4),
                              st.integers(1, 40), st.integers(0, 999)),
                    min_size=2, max_size=6),
    delimiter=st.sampled_from([",", "\t", ";"]),
)  # fmt: skip
@example(width=1, blocks=[(["float"] * 4, 5, 1), (["whole floats"] * 4, 5, 2),
                          (["int"] * 4, 5, 3)], delimiter=",")  # fmt: skip
@example(width=1, blocks=[(["text"] * 4, 5, 1), (["numbers as text"] * 4, 5, 2),
                          (["int"] * 4, 5, 3), (["empty"] * 4, 5, 4)], delimiter=",")  # fmt: skip
def test_parse__learned_types_give_what_inference_gives(width, blocks, delimiter):
    learning = _BlockParser(width=width, delimiter=delimiter, decimal=".", encoding="utf-8")
    for shapes, rows, seed in blocks:
        block = TextBlock(_block(shapes[:width], rows, seed, delimiter), 1, "utf-8")
        alone = _BlockParser(width=width, delimiter=delimiter, decimal=".", encoding="utf-8")
        expected = alone(block)
        got = learning(block)
        assert got.schema == expected.schema, (shapes, got.schema, expected.schema)
        assert got.equals(expected)


def test_parse__types_are_learned_and_used():
    """The second block is parsed with the first one's number and text columns' types."""
    parser = _BlockParser(width=3, delimiter=",", decimal=".", encoding="utf-8")
    parser(TextBlock(b"1,0.5,a\n2,0.25,b\n", 1, "utf-8"))
    assert parser.types == {"0": pa.int64(), "1": pa.float64(), "2": pa.string()}
    table = parser(TextBlock(b"3,0.75,c\n", 3, "utf-8"))
    assert table.schema.types == [pa.int64(), pa.float64(), pa.string()]
