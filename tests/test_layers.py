"""The architecture holds: core is pure, report never reads files, only the command imports the Excel layer,
and no two modules import each other (issue 12).

The import graph is read from the source (every ``import``, also inside functions, except those
under ``if TYPE_CHECKING:``), so a shortcut added anywhere shows up here.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parents[1] / "xlsales"

# layer → layers it may import (besides itself)
ALLOWED = {
    "core": set(),
    "report": {"core"},
    "io": {"core", "report"},
    "excel": {"core", "io", "report", "run", "company"},
    "run": {"core", "io", "report"},
    "cli": {"core", "io", "report", "run", "synth", "excel", "console", "company", "history_cli", "demo_history"},
    "console": set(),
    "company": {"core", "io", "report", "run"},
    "history_cli": {"core", "io", "report", "run", "console"},
    "demo_history": {"core", "io", "report", "run", "synth"},
    "synth": {"core", "io", "report"},
    "xlsales": set(),
}
# third-party modules the pure core may use
CORE_THIRD_PARTY = {"pandas", "numpy"}


def _module(path: Path) -> str:
    parts = path.relative_to(PKG.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _layer(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "xlsales"


def _type_checking_nodes(tree: ast.AST) -> set[int]:
    skip: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skip.update(id(n) for b in node.body for n in ast.walk(b))
    return skip


def _imports(path: Path) -> list[tuple[str, int]]:
    """Every module ``path`` imports (absolute name, line)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skip = _type_checking_nodes(tree)
    me = _module(path)
    out: list[tuple[str, int]] = []
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.Import):
            out += [(a.name, node.lineno) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                pkg = me.split(".") if path.name == "__init__.py" else me.split(".")[:-1]
                pkg = pkg[: len(pkg) - node.level + 1]
                base = ".".join(pkg + ([base] if base else []))
            # ``from xlsales.core import schema`` imports xlsales.core.schema
            for a in node.names:
                sub = f"{base}.{a.name}"
                out.append((sub if (PKG.parent / Path(*sub.split("."))).with_suffix(".py").exists()
                            or (PKG.parent / Path(*sub.split("."))).is_dir() else base, node.lineno))
    return out


def _graph() -> dict[str, list[tuple[str, int]]]:
    return {_module(p): _imports(p) for p in sorted(PKG.rglob("*.py"))}


GRAPH = _graph()


def test_graph_was_read():
    """The walk sees the package (a broken walk would make every check below pass vacuously)."""
    assert {"xlsales.core.schema", "xlsales.io.reader", "xlsales.report.consolidated",
            "xlsales.excel.buttons", "xlsales.cli", "xlsales.run"} <= set(GRAPH)
    assert any(t.startswith("xlsales.core") for t, _ in GRAPH["xlsales.report.consolidated"])


def test_layers_import_only_downwards():
    bad = [f"{m}:{line} imports {t}"
           for m, targets in GRAPH.items() for t, line in targets
           if t.startswith("xlsales.") and _layer(t) != _layer(m) and _layer(t) not in ALLOWED[_layer(m)]]
    assert bad == []


def test_core_uses_only_stdlib_pandas_numpy():
    stdlib = set(sys.stdlib_module_names) | {"__future__"}
    bad = [f"{m}:{line} imports {t}"
           for m, targets in GRAPH.items() if _layer(m) == "core"
           for t, line in targets
           if not t.startswith("xlsales") and t.split(".")[0] not in stdlib | CORE_THIRD_PARTY]
    assert bad == []


def test_no_import_cycles():
    internal = {m: sorted({t for t, _ in ts if t in GRAPH and t != m}) for m, ts in GRAPH.items()}
    # a package's own __init__ is not an edge back (``xlsales.core`` has no imports)
    state: dict[str, int] = {}
    cycles: list[list[str]] = []

    def visit(m: str, stack: list[str]) -> None:
        state[m] = 1
        for t in internal[m]:
            if state.get(t) == 1:
                cycles.append(stack[stack.index(t):] + [t])
            elif t not in state:
                visit(t, stack + [t])
        state[m] = 2

    for m in internal:
        if m not in state:
            visit(m, [m])
    assert cycles == []


@pytest.mark.parametrize("heavy", ["xlsxwriter", "python_calamine", "openpyxl", "xlwings", "sqlalchemy"])
def test_importing_core_loads_no_spreadsheet_or_database_library(heavy):
    code = ("import sys, importlib, pkgutil, xlsales.core as c\n"
            "for i in pkgutil.iter_modules(c.__path__, 'xlsales.core.'): importlib.import_module(i.name)\n"
            f"print({heavy!r} in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_each_layer_says_what_it_may_import():
    for layer in ("core", "io", "report", "excel"):
        doc = ast.get_docstring(ast.parse((PKG / layer / "__init__.py").read_text(encoding="utf-8")))
        assert doc and "import" in doc, layer


def test_the_reader_loads_no_openpyxl():
    """Reading an inbox is calamine's job: importing the reader must not cost openpyxl's import (about 0.14 s of
    every consolidation); openpyxl is for editing (the returned workbooks) and formatting checks."""
    code = "import sys, xlsales.io.inbox, xlsales.io.coerce\nprint('openpyxl' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
