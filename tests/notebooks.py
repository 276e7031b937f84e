"""The example notebooks with parameters injected after the cell tagged ``parameters`` (as
papermill does), for the tests that run them with the "tresor" kernel."""

from __future__ import annotations

import json
from typing import Any

import nbformat

from tests.conftest import REPO

NOTEBOOKS = REPO / "notebooks"


def with_parameters(name: str, **parameters: Any) -> nbformat.NotebookNode:
    """notebooks/NAME.ipynb with a cell setting ``parameters`` after its parameters cell."""
    nb = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
    index = next(i for i, c in enumerate(nb.cells) if "parameters" in c.metadata.get("tags", []))
    injected = "\n".join(f"{k} = {json.dumps(v)}" for k, v in parameters.items())
    cell = nbformat.v4.new_code_cell(f"# Injected parameters\n{injected}")
    cell.metadata["tags"] = ["injected-parameters"]
    nb.cells.insert(index + 1, cell)
    return nb


def outputs(nb: nbformat.NotebookNode, kind: str) -> list[Any]:
    """Every output of the executed notebook ``nb`` of MIME type ``kind`` (e.g. image/png), or
    its text (``kind="text"``: streams and plain-text results)."""
    found = []
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            if kind == "text":
                found.append(output.get("text") or output.get("data", {}).get("text/plain", ""))
            elif kind in output.get("data", {}):
                found.append(output["data"][kind])
    return found
