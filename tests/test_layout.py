"""The package's shape: floors that import only downward, no import cycles, and a thin public API module."""

import ast
import subprocess
import sys
from pathlib import Path

import groklab

PACKAGE = Path(groklab.__file__).parent
# each floor may import its own and the floors below (docs/adding-a-paper.md, "Where code goes")
FLOORS = {
    1: ["config", "registry", "history", "datasets", "common"],
    2: ["tasks", "models", "optim", "objective", "probes", "analysis", "claims", "presets", "papers", "resolve"],
    3: ["train", "fidelity", "replays"],
    4: ["run", "plots", "report", "signatures", "importers"],
    5: ["launch"],
    6: ["studies"],
    7: ["api", "cli", ""],
}


def floor(module: str) -> int:
    """The floor of a module: that of the longest listed prefix it falls under."""
    matches = [(len(prefix), number) for number, prefixes in FLOORS.items() for prefix in prefixes
               if module.removeprefix("groklab").removeprefix(".").startswith(prefix)
               and module.removeprefix("groklab").removeprefix(".").removeprefix(prefix)[:1] in ("", ".")]
    return max(matches)[1]


def module_name(path: Path) -> str:
    return ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts).removesuffix(".__init__")


def import_graph() -> dict[str, set[str]]:
    """Module -> the groklab modules it imports (at the top or inside functions)."""
    modules = {module_name(p): p for p in PACKAGE.rglob("*.py")}

    def owner(name: str) -> str | None:  # a module, or the module that defines an imported name
        while name and name not in modules:
            name = name.rpartition(".")[0]
        return name or None

    graph = {}
    for name, path in modules.items():
        targets = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("groklab"):
                targets |= {owner(f"{node.module}.{alias.name}") for alias in node.names}
            elif isinstance(node, ast.Import):
                targets |= {owner(alias.name) for alias in node.names if alias.name.startswith("groklab")}
        graph[name] = targets - {name, None}
    return graph


def cycle_from(start: str, graph: dict[str, set[str]]) -> list[str] | None:
    """An import path from `start` back to itself, if there is one."""
    stack, seen = [(start, [start])], set()
    while stack:
        name, path = stack.pop()
        for target in graph[name]:
            if target == start:
                return [*path, start]
            if target not in seen:
                seen.add(target)
                stack.append((target, [*path, target]))
    return None


def test_no_module_imports_itself_through_others():
    graph = import_graph()
    assert len(graph) > 50  # the walk found the package
    cycles = [c for name in sorted(graph) if (c := cycle_from(name, graph))]
    assert not cycles, "import cycles: " + "; ".join(" -> ".join(c) for c in cycles[:5])


def test_imports_only_go_down_the_floors():
    climbing = [f"{m} (floor {floor(m)}) imports {t} (floor {floor(t)})"
                for m, targets in import_graph().items() for t in targets if floor(t) > floor(m)]
    assert not climbing, climbing


def test_a_registry_and_its_members_do_not_import_each_other():
    # the registries live in a base module that members import; the package imports the members
    graph = import_graph()
    for package in ("groklab.tasks", "groklab.models", "groklab.probes"):
        members = [name for name in graph if name.startswith(package + ".") and name != package + ".base"]
        assert members and all(package not in graph[m] for m in members), package


def test_the_public_api_module_only_gathers_names():
    source = (PACKAGE / "api.py").read_text()
    assert len(source.splitlines()) < 200
    assert not [node for node in ast.parse(source).body if isinstance(node, ast.FunctionDef | ast.ClassDef)]


def test_rendering_a_report_and_the_commands_that_do_not_train_import_no_heavy_library():
    """The command line, the report's document and the replays' names load without torch, matplotlib or submitit
    (benchmarks/cli_startup.py times the commands themselves)."""
    code = ("import sys; import groklab.cli, groklab.report.render, groklab.replays; "
            "assert 'danielmamay' in groklab.replays.fidelity_line('power2022'); "
            "print(sorted(m for m in ('torch', 'matplotlib', 'submitit') if m in sys.modules))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert proc.stdout.strip() == "[]", proc.stdout
