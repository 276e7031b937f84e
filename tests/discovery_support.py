"""SHACL validation of dataset descriptions against the project's shapes (pyshacl)."""

from __future__ import annotations

from rdflib import Graph

from tresor.discovery.dcat import SHAPES


def shapes() -> Graph:
    g = Graph()
    for path in sorted(SHAPES.glob("*.ttl")):
        g.parse(path, format="turtle")
    return g


def shacl(data: Graph) -> tuple[bool, str]:
    """(conforms, pyshacl's report text)."""
    import pyshacl

    conforms, _, text = pyshacl.validate(data, shacl_graph=shapes(), inference="none")
    return bool(conforms), str(text)
