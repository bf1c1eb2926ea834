"""The layout holds: no import cycle among clearir's modules (counting imports under TYPE_CHECKING and
inside functions), and data flows one way: the experiment layer and the command line sit on top, nothing
below imports them, and the pipeline's layers import only the layers before them."""

from __future__ import annotations

import ast
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
# The pipeline's layers in import order: a layer may import only itself and the layers before it (and the
# shared base). The metrics are pure functions of (qrels, run) that the evaluation calls, so they come first.
PIPELINE = ("data", "rows", "losses", "training", "metrics", "evaluation", "report")
ON_TOP = ("experiment", "mteb", "cli")


def _modules() -> dict[str, Path]:
    modules = {}
    for path in (SRC / "clearir").rglob("*.py"):
        parts = list(path.relative_to(SRC).with_suffix("").parts)
        modules[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return modules


def _graph() -> dict[str, set[str]]:
    """Module -> the clearir modules it imports (every import statement anywhere in the file)."""
    modules = _modules()

    def resolve(name: str) -> str | None:
        while name and name not in modules:
            name = name.rpartition(".")[0]
        return name or None

    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                targets = [node.module, *(f"{node.module}.{alias.name}" for alias in node.names)]
            else:
                continue
            for target in targets:
                if target.startswith("clearir") and (found := resolve(target)) and found != name:
                    graph[name].add(found)
    return graph


def _layer(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "clearir"


def test_no_import_cycle() -> None:
    # A package's __init__ re-exporting its own modules is not a cycle of the layout.
    graph = {m: {t for t in ts if not (m.count(".") < t.count(".") and t.startswith(m + "."))}
             for m, ts in _graph().items()}  # fmt: skip
    try:
        TopologicalSorter(graph).prepare()
    except CycleError as exc:
        pytest.fail(f"import cycle: {' -> '.join(exc.args[1])}")


def test_data_flows_one_way() -> None:
    wrong = []
    for module, targets in _graph().items():
        source = _layer(module)
        for target in targets:
            layer = _layer(target)
            if layer in ON_TOP and source not in ON_TOP:
                wrong.append(f"{module} imports {target} (the layers on top)")
            if source in PIPELINE and layer in PIPELINE and PIPELINE.index(layer) > PIPELINE.index(source):
                wrong.append(f"{module} imports {target} (a later layer)")
    assert not wrong, "\n".join(wrong)
