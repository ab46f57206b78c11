"""Print the import cycles among kai's modules and exit 1 when there is one (``make lint`` runs it).

A cycle is a strongly connected component of grimp's import graph (the library import-linter builds on) with
more than one module; imports inside functions count too, as they would at run time.
Usage: ``.venv/bin/python .ci/import_cycles.py`` from the repository root.
"""

from __future__ import annotations

import sys

import grimp

PACKAGES = ("services", "models", "evaluation")


def strongly_connected(graph: grimp.ImportGraph) -> list[list[str]]:
    """Tarjan's algorithm, iteratively (no recursion limit): the components of the module graph."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []
    for root in sorted(graph.modules):
        if root in index:
            continue
        work = [(root, iter(sorted(graph.find_modules_directly_imported_by(root))))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            module, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.find_modules_directly_imported_by(child)))))
                elif child in on_stack:
                    low[module] = min(low[module], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[module])
            if low[module] == index[module]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == module:
                        break
                if len(component) > 1:
                    components.append(sorted(component))
    return sorted(components, key=lambda c: (-len(c), c))


def main() -> int:
    graph = grimp.build_graph(*PACKAGES, cache_dir=None)
    cycles = strongly_connected(graph)
    print(f"{len(graph.modules)} modules in {', '.join(PACKAGES)}: {len(cycles)} import cycle(s)")
    for number, cycle in enumerate(cycles, 1):
        print(f"cycle {number} ({len(cycle)} modules): {' '.join(cycle)}")
    return 1 if cycles else 0


if __name__ == "__main__":
    sys.exit(main())
