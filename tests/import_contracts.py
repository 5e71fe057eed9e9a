"""An import-linter contract the built-in ones lack: no module reaches itself through its imports.

import-linter's `acyclic_siblings` looks at whole sub-packages (every import of `bot.slack.*` into `bot.server.*` counts
as one dependency), which is stricter than the house asks: `bot/` is grouped by what the modules hold, not into layers.
This contract looks at modules: a cycle is a set of modules that import each other, directly or through others,
imports under `TYPE_CHECKING` and inside functions included.
"""

from __future__ import annotations

from collections.abc import Iterator

import grimp
from importlinter.application import output
from importlinter.domain import fields
from importlinter.domain.contract import Contract, ContractCheck


class AcyclicModulesContract(Contract):
    """Fails naming every set of modules, inside each of `packages`, that import each other in a circle."""

    type_name = "acyclic_modules"

    packages = fields.ListField(subfield=fields.StringField())

    def check(self, graph: grimp.ImportGraph, verbose: bool) -> ContractCheck:
        cycles: list[list[tuple[str, str, list[int]]]] = []
        for package in self.packages:  # type: ignore[attr-defined]
            modules = graph.find_descendants(package) | {package}
            for component in strongly_connected(modules, graph):
                members = set(component)
                cycles.append(
                    [
                        (importer, imported, line_numbers(graph, importer, imported))
                        for importer in sorted(component)
                        for imported in sorted(graph.find_modules_directly_imported_by(importer) & members)
                    ]
                )
        return ContractCheck(kept=not cycles, metadata={"cycles": cycles})

    def render_broken_contract(self, check: ContractCheck) -> None:
        for cycle in check.metadata["cycles"]:
            modules = sorted({importer for importer, _, _ in cycle})
            output.print_error(f"These modules import each other: {', '.join(modules)}")
            for importer, imported, lines in cycle:
                where = ", ".join(f"l.{n}" for n in lines)
                output.print_error(f"- {importer} -> {imported} ({where})", bold=False)
            output.new_line()


def line_numbers(graph: grimp.ImportGraph, importer: str, imported: str) -> list[int]:
    details = graph.get_import_details(importer=importer, imported=imported)
    return sorted({detail["line_number"] for detail in details})


def strongly_connected(modules: set[str], graph: grimp.ImportGraph) -> Iterator[list[str]]:
    """The groups of two or more modules that each reach the others (Tarjan's algorithm, without recursion)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    counter = 0
    for root in sorted(modules):
        if root in index:
            continue
        work = [(root, iter(sorted(graph.find_modules_directly_imported_by(root) & modules)))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, successors = work[-1]
            for successor in successors:
                if successor not in index:
                    index[successor] = low[successor] = counter
                    counter += 1
                    stack.append(successor)
                    on_stack.add(successor)
                    work.append(
                        (successor, iter(sorted(graph.find_modules_directly_imported_by(successor) & modules)))
                    )
                    break
                if successor in on_stack:
                    low[node] = min(low[node], index[successor])
            else:
                work.pop()
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        yield sorted(component)
