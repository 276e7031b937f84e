"""The parts of tresor and the direction of their imports (docs/architecture.md, "Parts").

Built with grimp (import-linter's graph), from the source: imports inside functions count too,
because a lazy import is still a dependency. Every module of ``tresor`` and ``airlock`` belongs to
one part; the researcher library is what is left of ``tresor`` once the other parts are named.
"""

from __future__ import annotations

import grimp
import pytest

from tests.conftest import REPO

#: part -> module prefixes (a module belongs to the first part with a matching prefix)
PARTS: dict[str, tuple[str, ...]] = {
    "core": ("tresor.core",),
    "node runtime": ("tresor.node",),
    "tooling": ("tresor.cli", "tresor.demo", "tresor.ingest", "tresor.__main__"),
    "federation": ("tresor.federation",),
    "discovery": ("tresor.discovery",),
    "airlock checks": ("airlock.checks",),
    "airlock service": ("airlock",),
    "researcher library": ("tresor",),
}

#: what each part may import besides itself
ALLOWED: dict[str, set[str]] = {
    "core": set(),
    "researcher library": {"core"},
    "node runtime": {"core"},
    "airlock checks": {"core"},
    "airlock service": {"core", "airlock checks"},
    # the coordinator, the node agent and the registered analyses: the airlock only through
    # its REST API (the researcher library's client) and its pure checks
    "federation": {"core", "researcher library", "airlock checks", "discovery"},
    # dataset descriptions, summaries' disclosure rules, Beacon and portal: the federation
    # carries them (registered analysis, coordinator), the node serves them
    "discovery": {"core", "researcher library"},
    "tooling": {
        "core",
        "researcher library",
        "node runtime",
        "airlock checks",
        "airlock service",
        "federation",
        "discovery",
    },
}

#: packages whose modules must not import each other in a circle
ACYCLIC_PACKAGES = (
    "airlock",
    "airlock.api",
    "airlock.checks",
    "airlock.db",
    "airlock.web",
    "tresor",
    "tresor.discovery",
    "tresor.federation",
    "tresor.federation.coordinator",
    "tresor.node",
    "tresor.stats",
)


def part_of(module: str) -> str:
    for part, prefixes in PARTS.items():
        if any(module == p or module.startswith(p + ".") for p in prefixes):
            return part
    raise AssertionError(f"{module} belongs to no part; add it to PARTS")


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    return grimp.build_graph("tresor", "airlock", cache_dir=None)


def test_every_package_is_a_regular_package(graph):
    """A directory without __init__.py is a namespace package, which grimp (and readers) miss."""
    assert {"airlock.web", "airlock.checks", "tresor.core", "tresor.node"} <= graph.modules


def test_parts__import_only_what_they_may(graph):
    wrong = []
    for importer in sorted(graph.modules):
        mine = part_of(importer)
        for imported in sorted(graph.find_modules_directly_imported_by(importer)):
            theirs = part_of(imported)
            if theirs != mine and theirs not in ALLOWED[mine]:
                lines = graph.get_import_details(importer=importer, imported=imported)
                where = ", ".join(f"line {d['line_number']}" for d in lines)
                wrong.append(f"{importer} ({mine}) imports {imported} ({theirs}): {where}")
    assert wrong == [], "\n".join(wrong)


def test_parts__allowed_dependencies_have_no_cycle():
    seen: set[str] = set()

    def visit(part: str, path: tuple[str, ...]) -> None:
        assert part not in path, " -> ".join((*path, part))
        if part not in seen:
            seen.add(part)
            for used in ALLOWED[part]:
                visit(used, (*path, part))

    for part in ALLOWED:
        visit(part, ())
    assert set(ALLOWED) == set(PARTS)


@pytest.mark.parametrize("package", ACYCLIC_PACKAGES)
def test_no_import_cycle_inside(graph, package):
    """No two children of ``package`` import each other, directly or through others."""
    breakers = graph.nominate_cycle_breakers(package)
    assert breakers == set(), f"import cycles in {package}; break one of: {sorted(breakers)}"


def test_the_core_loads_no_other_part():
    """Importing the core (what the airlock and the node runtime use) loads no library module."""
    import subprocess
    import sys

    probe = (
        "import sys, tresor.core.site, tresor.core.catalogue, tresor.core.secrets\n"
        "print(' '.join(m for m in sys.modules if m.split('.')[0] in ('tresor', 'airlock')))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout.split()
    assert {part_of(m) for m in loaded if m != "tresor"} == {"core"}, loaded


def lines_of_code() -> dict[str, int]:
    """Non-blank lines of Python per part."""
    counts = dict.fromkeys(PARTS, 0)
    for root in ("tresor", "airlock"):
        for path in (REPO / root).rglob("*.py"):
            module = ".".join(path.relative_to(REPO).with_suffix("").parts)
            module = module.removesuffix(".__init__")
            part = "airlock service" if ".migrations." in module else part_of(module)
            counts[part] += sum(1 for line in path.read_text().splitlines() if line.strip())
    return counts


def test_architecture_doc__parts_table_is_true():
    """docs/architecture.md's table of parts: the same parts, the allowed imports, and line
    counts within 25% of the code's."""
    text = (REPO / "docs" / "architecture.md").read_text()
    section = text.split("## Parts", 1)[1].split("\n## ", 1)[0]
    rows = [
        [cell.strip() for cell in line.strip("|").split("|")]
        for line in section.splitlines()
        if line.startswith("| ") and not line.startswith("| part ")
    ]
    table = {row[0]: row for row in rows}
    assert set(table) == set(PARTS)
    measured = lines_of_code()
    for part, (_, _, lines, may_import, _) in table.items():
        allowed = set() if may_import == "—" else set(may_import.split(", "))
        assert allowed == ALLOWED[part], part
        assert abs(int(lines) - measured[part]) <= 0.25 * measured[part], (part, measured[part])
