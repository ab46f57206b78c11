"""Print the import cycles among kai's modules and exit 1 when there is one (``make lint`` runs it).

A cycle is a strongly connected component, with more than one module, of grimp's import graph (the library
import-linter builds on); imports inside functions count too, as they would at run time. networkx finds the
components. Usage: ``.venv/bin/python .ci/import_cycles.py`` from the repository root.
"""

from __future__ import annotations

import sys

import grimp
import networkx

PACKAGES = ("services", "models", "evaluation")


def import_cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """The groups of modules that import each other, directly or through others; largest first."""
    digraph = networkx.DiGraph()
    for module in graph.modules:
        digraph.add_node(module)
        imported = graph.find_modules_directly_imported_by(module)
        digraph.add_edges_from((module, target) for target in imported)
    components = [sorted(c) for c in networkx.strongly_connected_components(digraph) if len(c) > 1]
    return sorted(components, key=lambda c: (-len(c), c))


def main() -> int:
    graph = grimp.build_graph(*PACKAGES, cache_dir=None)
    cycles = import_cycles(graph)
    print(f"{len(graph.modules)} modules in {', '.join(PACKAGES)}: {len(cycles)} import cycle(s)")
    for number, cycle in enumerate(cycles, 1):
        print(f"cycle {number} ({len(cycle)} modules): {' '.join(cycle)}")
    return 1 if cycles else 0


if __name__ == "__main__":
    sys.exit(main())
