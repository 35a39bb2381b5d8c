"""The layering of src/bitseg, read from its import statements with `ast`: no cycles, and each layer imports down.

Every import counts, wherever it is written: at the top, inside a function, under `if TYPE_CHECKING:` (a type-only
import is still a dependency a reader has to follow, and the first step to a runtime one). The generated
bitseg.v1 is outside the graph but can be imported (by the server and the client only).

Import resolution: relative imports are made absolute; `from pkg import name` is an import of `pkg.name` when
that is a module of the tree, else of `pkg`; importing a package is importing its `__init__`. Importing
`a.b.c` is not counted as importing `a` and `a.b` too (the parents of a package are rarely what a layer is about).

Rules that say "never imports" follow imports transitively within bitseg: reaching the index through
`bitseg/__init__.py` is reaching the index.
"""

from __future__ import annotations

import ast
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = SRC / "bitseg"
GENERATED = "bitseg.v1"
MAX_LINES = 400

RULE_MODULES = ("bitseg.schema", "bitseg.errors", "bitseg.calendar", "bitseg.names", "bitseg.vocabulary")
TRANSPORT = ("grpc", "grpc_health", "grpc_reflection", "google", GENERATED)
ABOVE_THE_CORE = ("bitseg.server", "bitseg.client", "bitseg.cli")


def module_name(path: Path) -> str:
    parts = path.relative_to(SRC).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def within(name: str, prefix: str) -> bool:
    """`name` is the module `prefix` or inside the package `prefix`."""
    return name == prefix or name.startswith(prefix + ".")


FILES = {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}  # v1 too: imports of it resolve
MODULES = sorted(name for name in FILES if not within(name, GENERATED))


@dataclass(frozen=True)
class Import:
    """One imported module, as written in `source` at `line`."""

    source: str
    target: str
    line: int
    statement: str

    def __str__(self) -> str:
        return f"{self.source} imports {self.target} (line {self.line}: `{self.statement}`)"


@cache
def imports_of(name: str) -> tuple[Import, ...]:
    path = FILES[name]
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - (node.level - 1)] + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in FILES else base for alias in node.names]
        else:
            continue
        statement = ast.unparse(node)
        found += [Import(name, target, node.lineno, statement) for target in dict.fromkeys(targets)]
    return tuple(found)


@cache
def graph() -> dict[str, tuple[Import, ...]]:
    """Module → its imports of other modules of the graph (bitseg minus v1)."""
    members = set(MODULES)
    return {name: tuple(i for i in imports_of(name) if i.target in members and i.target != name) for name in MODULES}


def components(edges: dict[str, tuple[Import, ...]]) -> list[list[str]]:
    """Strongly connected components (Tarjan's algorithm, iterative: no recursion limit to worry about)."""
    order: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root, steps in edges.items():
        if root in order:
            continue
        work: list[tuple[str, Iterator[Import]]] = [(root, iter(steps))]
        order[root] = low[root] = len(order)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, pending = work[-1]
            step = next(pending, None)
            if step is not None:
                child = step.target
                if child not in order:
                    order[child] = low[child] = len(order)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(edges[child])))
                elif child in on_stack:
                    low[node] = min(low[node], order[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == order[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                found.append(sorted(component))
    return found


def path(edges: dict[str, tuple[Import, ...]], start: str, goal: str, allowed: Iterable[str] | None = None,
         ) -> list[Import] | None:
    """The shortest chain of imports from `start` to `goal` (through `allowed` modules only, when given)."""
    allowed = set(edges) if allowed is None else set(allowed)
    came_by: dict[str, Import] = {}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        for step in edges[node]:
            if step.target not in allowed or step.target in came_by:
                continue
            came_by[step.target] = step
            if step.target == goal:
                chain = [step]
                while chain[0].source != start:
                    chain.insert(0, came_by[chain[0].source])
                return chain
            queue.append(step.target)
    return None


def spell(chain: list[Import]) -> str:
    modules = " -> ".join([chain[0].source] + [step.target for step in chain])
    return modules + "".join(f"\n      {step}" for step in chain)


def forbidden_imports(group: list[str], forbidden: tuple[str, ...]) -> list[str]:
    """Each import of a forbidden module by a module of `group`, or by a module one of them reaches without
    passing through a forbidden one (the import that first enters forbidden ground is the one to fix)."""
    def banned(name: str) -> bool:
        return any(within(name, prefix) for prefix in forbidden)

    problems: list[str] = []
    reported: set[Import] = set()
    for name in group:
        seen, todo = {name}, [name]
        while todo:
            module = todo.pop()
            for step in imports_of(module):
                if banned(step.target):
                    if step not in reported:
                        reported.add(step)
                        chain = path(graph(), name, module, allowed=seen) if module != name else None
                        via = f"\n    reached from {name}: {spell(chain)}" if chain and module not in group else ""
                        problems.append(f"{step}{via}")
                elif step.target in graph() and step.target not in seen:
                    seen.add(step.target)
                    todo.append(step.target)
    return problems


def in_layer(*prefixes: str) -> list[str]:
    return [name for name in MODULES if any(within(name, prefix) for prefix in prefixes)]


def report(what: str, problems: list[str]) -> str:
    return f"{what}:\n  " + "\n  ".join(problems)


# ── the rules ─────────────────────────────────────────────────────────────────────────────────────────────

def test_the_graph_is_read() -> None:
    """A guard for the rules below: they pass vacuously if the modules or their imports are not found."""
    assert {"bitseg", "bitseg.query.expressions", "bitseg.index.executor", "bitseg.persistence"} <= set(MODULES)
    targets = {step.target for step in imports_of("bitseg.query.parser")}
    assert {"bitseg.query.expressions", "bitseg.errors"} <= targets, targets


def test_no_import_cycles() -> None:
    edges = graph()
    cycles = []
    for component in components(edges):
        if len(component) > 1:
            start = component[0]
            chain = path(edges, start, start, allowed=component)
            assert chain is not None
            cycles.append(f"{len(component)} modules import each other: {', '.join(component)}\n"
                          f"    for one: {spell(chain)}")
    assert not cycles, report("import cycles in src/bitseg", cycles)


def test_the_query_language_never_imports_the_layers_above_it() -> None:
    problems = forbidden_imports(in_layer("bitseg.query"),
                                 ("bitseg.index", "bitseg.persistence", *ABOVE_THE_CORE))
    assert not problems, report("bitseg.query imports a layer above it", problems)


def test_the_core_never_imports_transport_or_the_layers_above_it() -> None:
    core = in_layer("bitseg.query", "bitseg.index", *RULE_MODULES)
    problems = forbidden_imports(core, (*TRANSPORT, *ABOVE_THE_CORE))
    assert not problems, report("the core (query, index, rule modules) imports gRPC or a layer above it", problems)


def test_persistence_never_imports_transport_or_the_server() -> None:
    problems = forbidden_imports(in_layer("bitseg.persistence"), (*TRANSPORT, "bitseg.server", "bitseg.cli"))
    assert not problems, report("bitseg.persistence imports gRPC, the server or the CLI", problems)


def test_the_shards_never_import_transport_or_the_server() -> None:
    problems = forbidden_imports(in_layer("bitseg.shards"), (*TRANSPORT, "bitseg.server", "bitseg.cli"))
    assert not problems, report("bitseg.shards (the coordinator and its shards, SPEC §9) imports", problems)


def test_only_the_cli_imports_the_cli_and_only_the_cli_imports_the_server() -> None:
    problems = []
    for name in MODULES:
        for step in imports_of(name):
            if within(step.target, "bitseg.cli") and not within(name, "bitseg.cli"):
                problems.append(f"{step}: only bitseg.cli imports bitseg.cli")
            if within(step.target, "bitseg.server") and not (within(name, "bitseg.server")
                                                             or within(name, "bitseg.cli")):
                problems.append(f"{step}: only bitseg.server and bitseg.cli import bitseg.server")
    assert not problems, report("entry points imported from below", problems)


def index_class_modules() -> list[str]:
    return [name for name in MODULES
            if any(isinstance(node, ast.ClassDef) and node.name == "Index"
                   for node in ast.parse(FILES[name].read_text(encoding="utf-8")).body)]


def test_the_executor_and_the_plan_read_the_index_through_a_protocol() -> None:
    """They get the data through a protocol, so neither may import (even for types) the module of `class Index`."""
    owners = index_class_modules()
    assert owners, "no module of src/bitseg defines class Index"
    # The plan stage is being introduced as bitseg.index.plan or bitseg.query.plan: any module named plan*
    # under index/ or query/ is checked (none is required to exist).
    readers = [name for name in MODULES if within(name, "bitseg.index.executor")
               or any(name.startswith(f"bitseg.{layer}.plan") for layer in ("index", "query"))]
    assert "bitseg.index.executor" in readers, "bitseg.index.executor is gone: update this test"
    problems = []
    for reader in readers:
        for owner in owners:
            chain = path(graph(), reader, owner)
            if chain is not None:
                problems.append(f"{reader} reaches {owner}, the module of class Index: {spell(chain)}")
    assert not problems, report("the executor or the plan imports the Index module", problems)


def test_modules_are_short() -> None:
    long = [f"{name}: {lines} lines" for name in MODULES
            if (lines := len(FILES[name].read_text(encoding="utf-8").splitlines())) > MAX_LINES]
    assert not long, report(f"modules over {MAX_LINES} lines (split them by what they are for)", long)


def test_the_console_reaches_the_server_only_through_the_client() -> None:
    """bitseg.console (SPEC §12) works against any server the client reaches: never the engine or the server."""
    console = in_layer("bitseg.console")
    assert console, "bitseg.console is gone: update this test"
    problems = forbidden_imports(console, ("bitseg.server", "bitseg.index", "bitseg.persistence", "bitseg.cli"))
    problems += [str(step) for name in console for step in imports_of(name)
                 if any(within(step.target, prefix) for prefix in TRANSPORT)]   # the client's business
    assert not problems, report("bitseg.console imports more than bitseg.Client", problems)
