"""NumPy ``.npy`` arrays (``numpy.save``), read as tables without unpickling anything: a 1-D
array is one column, a 2-D array its rows and columns, a higher one a row per first index (a
people x variants x ploidy array has a row per person), a structured array a column per field.
Arrays of Python objects are pickles, which can run code when loaded: they are never read.
Every byte is accounted for: the header must be the one numpy.save writes for the array (a
header is a Python literal, which could carry a comment no table shows), and the data exactly
as long as the header says.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import BinaryIO

import numpy as np
import pyarrow as pa

from airlock.checks.cells import chunk_of
from airlock.checks.context import CheckContext
from airlock.checks.findings import FindingSink
from airlock.checks.reading import Unreadable

#: the bytes of rows read at a time
_BATCH_BYTES = 8 * 1024 * 1024
#: the dtype kinds read: booleans, integers, floats, text
_KINDS = "biufUS"
_SAVE_AS = "save the table with pandas' to_csv or to_parquet instead"


def check_npy(
    f: BinaryIO, size: int, context: CheckContext, sink: FindingSink, name: str = ""
) -> None:
    from airlock.checks.tabular import check_table

    shape, fortran, dtype = _header(f)
    n_rows = shape[0] if shape else 1
    width = math.prod(shape[1:])
    data_bytes = n_rows * width * dtype.itemsize
    if size - f.tell() != data_bytes:
        raise Unreadable(
            f"the NumPy array file holds {size - f.tell():,} bytes of data where its header "
            f"({dtype}, shape {shape}) says {data_bytes:,}: it is truncated or damaged; "
            "write it again"
        )
    if fortran and data_bytes > context.config.max_parse_bytes:
        raise Unreadable(
            "the NumPy array is stored column by column (Fortran order), so it is read whole, "
            f"and it is larger than {context.config.max_parse_bytes / 1024 / 1024:,.0f} MB; "
            + _SAVE_AS
        )
    names = list(dtype.names) if dtype.names else [str(j + 1) for j in range(width)]
    check_table(
        names, _chunks(f, n_rows, width, fortran, dtype), context, sink, delimiter=",",
        file_name=name,
    )  # fmt: skip


def _header(f: BinaryIO) -> tuple[tuple[int, ...], bool, np.dtype]:
    """The array's shape, order and dtype, from its header alone (no pickle is loaded)."""
    try:
        version = np.lib.format.read_magic(f)
        start = f.tell()
        if version == (1, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_1_0(f)
        elif version == (2, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_2_0(f)
        else:
            raise ValueError(f"format version {version[0]}.{version[1]} is not read")
    except ValueError as e:
        raise Unreadable(f"the NumPy array file cannot be read ({e}); {_SAVE_AS}") from None
    end = f.tell()
    f.seek(start)
    header = f.read(end - start)[2 if version == (1, 0) else 4 :]
    fields = {
        "descr": np.lib.format.dtype_to_descr(dtype),
        "fortran_order": fortran,
        "shape": shape,
    }
    written = "{" + "".join(f"'{k}': {v!r}, " for k, v in sorted(fields.items())) + "}"
    if header.decode("latin-1").rstrip(" \n") != written:
        raise Unreadable(
            "the NumPy array file's header is not the one numpy.save writes (it holds more than "
            f"the array's type and shape); {_SAVE_AS}"
        )
    dtypes = [dtype.fields[n][0] for n in dtype.names] if dtype.names else [dtype]
    if any(t.hasobject for t in dtypes):
        raise Unreadable(
            "the NumPy array holds Python objects, which are stored as pickles and can run code "
            f"when loaded, so it is not read; {_SAVE_AS}"
        )
    if any(t.kind not in _KINDS or t.shape for t in dtypes):
        raise Unreadable(f"the NumPy array's values ({dtype}) are not read as a table; {_SAVE_AS}")
    return shape, fortran, dtype


def _chunks(f: BinaryIO, n_rows: int, width: int, fortran: bool, dtype: np.dtype) -> Iterator:
    row_bytes = max(1, width * dtype.itemsize)
    if fortran:  # read whole (bounded by max_parse_bytes): rows are not contiguous
        whole = np.frombuffer(f.read(), dtype=dtype).reshape((n_rows, width), order="F")
        yield from _tables(whole, dtype, 1)
        return
    step = max(1, _BATCH_BYTES // row_bytes)
    row = 1
    for start in range(0, n_rows, step):
        k = min(step, n_rows - start)
        values = np.frombuffer(f.read(k * row_bytes), dtype=dtype).reshape(k, width)
        yield from _tables(values, dtype, row)
        row += k


def _tables(values: np.ndarray, dtype: np.dtype, row: int) -> Iterator:
    if dtype.names:
        flat = values.reshape(-1)
        columns = [_column(flat[n]) for n in dtype.names]
    else:
        columns = [_column(values[:, j]) for j in range(values.shape[1])]
    yield chunk_of(pa.Table.from_arrays(columns, names=[str(j) for j in range(len(columns))]), row)


def _column(values: np.ndarray) -> pa.Array:
    if values.dtype.kind == "S":  # bytes, as numpy writes them: text to the rules
        return pa.array(np.char.decode(values, "latin-1"), type=pa.string())
    if values.dtype.kind == "U":
        return pa.array(values.tolist(), type=pa.string())
    if values.dtype.byteorder == ">":
        values = values.astype(values.dtype.newbyteorder("="))
    return pa.array(values)
