"""The map of the house, read from the code: rooms, floors, arrows, cycles, who calls the engines,
and the size rules. docs/architecture.md holds its output between two markers, and a test runs it
(`--check`), so the map cannot drift from the code and a cycle fails CI.

    python scripts/house_map.py            # the figures, as docs/architecture.md shows them
    python scripts/house_map.py --check    # exit 1, naming each rule broken

A module is a .py file under summarize/; a room is a top-level module or a package (runs/serve is
a room of its own). An import is module-level unless it sits in a function (lazy) or under
`if TYPE_CHECKING:` (not run). Floors: the most modules in one chain of module-level imports.
"""

from __future__ import annotations

import ast
import sys
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = "summarize"
LIMITS = {"floors": 8, "runs floors": 4, "cli imports": 7, "module lines": 400, "function lines": 50}
RUNNERS = ("loader", "translate", "seq2seq", "ct2", "llm", "llm_client")  # the engines/ modules that load or run a model (an LLM: on its server)
BEGIN, END = "<!-- house_map: begin -->", "<!-- house_map: end -->"


@dataclass
class Module:
    name: str
    path: Path
    lines: int
    eager: set[str] = field(default_factory=set)  # module-level imports of project modules
    lazy: set[str] = field(default_factory=set)  # imports made inside functions
    long_functions: list[tuple[str, int]] = field(default_factory=list)


def read_house(root: Path = ROOT) -> dict[str, Module]:
    paths = sorted((root / PACKAGE).rglob("*.py"))
    names = {_name(p, root): p for p in paths}
    house = {}
    for name, path in names.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        module = Module(name, path, len(path.read_text(encoding="utf-8").splitlines()))
        _collect(tree, module, names, lazy=False)
        module.long_functions = _long_functions(tree)
        house[name] = module
    return house


def _name(path: Path, root: Path) -> str:
    parts = path.relative_to(root).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _collect(node: ast.AST, module: Module, names: dict[str, Path], lazy: bool) -> None:
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.If) and _is_type_checking(child.test):
            continue
        if isinstance(child, (ast.Import, ast.ImportFrom)):
            for target in _targets(child, names):
                if target != module.name:
                    (module.lazy if lazy else module.eager).add(target)
        _collect(child, module, names, lazy or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)))


def _is_type_checking(test: ast.AST) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _targets(node: ast.Import | ast.ImportFrom, names: dict[str, Path]) -> list[str]:
    """The project modules an import statement loads (`from summarize.runs import local` loads runs.local)."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names if alias.name in names]
    base = node.module or ""
    if node.level or not base.startswith(PACKAGE):
        return []
    found = [f"{base}.{alias.name}" for alias in node.names if f"{base}.{alias.name}" in names]
    return found or ([base] if base in names else [])


def _long_functions(tree: ast.AST) -> list[tuple[str, int]]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            length = node.end_lineno - node.lineno + 1 + len(node.decorator_list)
            if length > LIMITS["function lines"]:
                found.append((node.name, length))
    return found


def room(name: str) -> str:
    """A module's room: summarize.runs.serve.app → runs/serve, summarize.cli → cli."""
    parts = name.split(".")[1:]
    if not parts:
        return "__init__"
    if len(parts) >= 3 and parts[0] == "runs" and parts[1] == "serve":
        return "runs/serve"
    return parts[0]


def cycles(house: dict[str, Module], lazy: bool = True) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan), lazy imports included by default."""
    edges = {n: sorted(m.eager | (m.lazy if lazy else set())) for n, m in house.items()}
    index, low, stack, on, found, counter = {}, {}, [], set(), [], [0]

    def visit(node: str) -> None:
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on.add(node)
        for other in edges[node]:
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in on:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1 or node in edges[node]:
                found.append(sorted(group))

    sys.setrecursionlimit(10_000)
    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def longest_chain(house: dict[str, Module], within: str | None = None, lazy: bool = False) -> list[str]:
    """The longest chain of imports (module-level, or lazy ones too), optionally inside one package;
    a cycle is cut where it closes (and reported by cycles())."""
    keep = {n for n in house if within is None or n.startswith(within + ".")}
    best: dict[str, list[str]] = {}
    path: set[str] = set()

    def chain(node: str) -> list[str]:
        if node not in best:
            path.add(node)
            edges = house[node].eager | (house[node].lazy if lazy else set())
            below = [chain(other) for other in sorted(edges) if other in keep and other not in path]
            path.discard(node)
            best[node] = [node, *max(below, key=len, default=[])]
        return best[node]

    return max((chain(n) for n in sorted(keep)), key=len, default=[])


def figures(house: dict[str, Module]) -> dict:
    arrows = {(room(a), room(b)) for a, m in house.items() for b in m.eager | m.lazy if room(a) != room(b)}
    engine_users = sorted({a for a, m in house.items() for b in m.eager | m.lazy if b.startswith(f"{PACKAGE}.engines.") and room(a) != "engines"})
    runners = {f"{PACKAGE}.engines.{name}" for name in RUNNERS}
    engine_callers = sorted({a for a, m in house.items() for b in m.eager | m.lazy if b in runners and room(a) != "engines"})
    return {
        "modules": len(house),
        "rooms": len({room(n) for n in house}),
        "arrows": len(arrows),
        "cycles": cycles(house),
        "floors": longest_chain(house),
        "runs floors": longest_chain(house, f"{PACKAGE}.runs", lazy=True),
        "cli imports": sorted(house[f"{PACKAGE}.cli"].eager),
        "engine callers": engine_callers,
        "engine users": engine_users,
        "largest": sorted(((m.lines, n) for n, m in house.items()), reverse=True)[:5],
        "long functions": [(n, f, length) for n, m in house.items() for f, length in m.long_functions],
    }


def broken_rules(facts: dict) -> list[str]:
    rules = []
    for group in facts["cycles"]:
        rules.append(f"import cycle (lazy imports included): {' ↔ '.join(group)}")
    for key in ("floors", "runs floors", "cli imports"):
        if len(facts[key]) > LIMITS[key]:
            rules.append(f"{key}: {len(facts[key])} > {LIMITS[key]} ({' → '.join(_short(n) for n in facts[key])})")
    rules += [f"{_short(n)}: {lines} lines > {LIMITS['module lines']}" for lines, n in facts["largest"] if lines > LIMITS["module lines"]]
    rules += [f"{_short(n)}.{f}: {length} lines > {LIMITS['function lines']}" for n, f, length in facts["long functions"]]
    return rules


def _short(name: str) -> str:
    return name.removeprefix(PACKAGE + ".")


def markdown(facts: dict) -> str:
    """The figures as docs/architecture.md shows them between its markers."""
    chain = " → ".join(_short(n) for n in facts["floors"])
    runs_chain = " → ".join(_short(n) for n in facts["runs floors"])
    largest = ", ".join(f"`{_short(n)}` {lines}" for lines, n in facts["largest"])
    return "\n".join(
        [
            BEGIN,
            f"- **{facts['rooms']} rooms, {facts['modules']} modules, {facts['arrows']} arrows** between rooms (lazy imports included).",
            f"- **Import cycles:** {len(facts['cycles'])}, lazy imports included.",
            f"- **Floors:** {len(facts['floors'])} (limit {LIMITS['floors']}): `{chain}`.",
            f"- **Floors inside runs/** (lazy imports included): {len(facts['runs floors'])} (limit {LIMITS['runs floors']}): `{runs_chain}`.",
            f"- **cli imports** {len(facts['cli imports'])} project modules at module level (limit {LIMITS['cli imports']}): "
            + ", ".join(f"`{_short(n)}`" for n in facts["cli imports"])
            + ".",
            "- **Who loads or runs a model** (imports `engines.loader`, `translate`, `seq2seq`, `ct2`, `llm` or `llm_client`, lazily or not): "
            + ", ".join(f"`{_short(n)}`" for n in facts["engine callers"])
            + "; who imports anything of `engines/`: "
            + ", ".join(f"`{_short(n)}`" for n in facts["engine users"])
            + ".",
            f"- **Largest modules** (limit {LIMITS['module lines']} lines): {largest}; functions over {LIMITS['function lines']} lines: "
            f"{len(facts['long functions'])}.",
            END,
        ]
    )


def main(argv: list[str]) -> int:
    facts = figures(read_house())
    print(markdown(facts))
    rules = broken_rules(facts)
    for rule in rules:
        print(f"house_map: {rule}", file=sys.stderr)
    return 1 if rules and "--check" in argv else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
