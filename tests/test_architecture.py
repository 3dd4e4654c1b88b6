"""The developer guide's layering, read from the source: engine/ imports neither Qt nor gui/, and no module of
engine/ or gui/ imports one that imports it back, counting imports inside functions too (Python resolves
those later, but they still make the two modules depend on each other). The command line checks a figure's
file name without loading Qt."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("engine", "gui")
QT = ("PySide6", "pyqtgraph", "shiboken6")


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path, modules: set[str]) -> set[str]:
    """Every module `path` imports, at any depth of its code: absolute names as written, relative ones resolved
    (`from . import MainWindow` in gui/app.py is gui; `from . import svg_exporter` is gui.svg_exporter). A
    package's own `__init__`, which Python runs before any of its submodules, is not counted for them."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*anchor, *([node.module] if node.module else [])])
            for alias in node.names:  # a submodule by its name, any other name from the module itself
                found.add(f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base)
    return found


def import_graph() -> dict[str, set[str]]:
    files = [path for package in PACKAGES for path in sorted((ROOT / package).rglob("*.py"))]
    modules = {module_name(path) for path in files}
    return {module_name(path): imports(path, modules) for path in files}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module, or of one that imports itself (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in graph[node]:
            if target not in graph:
                continue
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while not component or component[-1] != node:
                component.append(stack.pop())
            if len(component) > 1 or node in graph[node]:
                found.append(sorted(component))

    for node in graph:
        if node not in index:
            visit(node)
    return found


def test_the_import_graph_is_read_with_function_level_and_relative_imports():
    graph = import_graph()
    assert "gui.svg_exporter" in graph["gui"] and "gui.main_window" in graph["gui"]
    assert "gui" in graph["gui.app"]  # run_window's `from . import MainWindow`, inside the function
    assert "gui.svg_exporter" in graph["gui.figures"]  # render_figure's import, inside the function
    assert "engine.trainer" in graph["engine.files"]
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_engine_imports_neither_qt_nor_gui():
    for module, targets in import_graph().items():
        if module.startswith("engine"):
            bad = sorted(t for t in targets if t.split(".")[0] in (*QT, "gui"))
            assert not bad, f"{module} imports {bad}"


def test_no_module_imports_one_that_imports_it_back():
    assert cycles(import_graph()) == []


MAIN_WINDOW_MAX_LINES = 270  # issue 10: tabs, menus and status, "a couple of hundred lines" (it had grown to 558);
# issue 12 added the Landscape tab (its code lives in gui/landscape_view.py)


def test_the_main_window_keeps_to_tabs_menus_and_status():
    lines = len((ROOT / "gui" / "main_window.py").read_text().splitlines())
    assert lines <= MAIN_WINDOW_MAX_LINES, f"gui/main_window.py has {lines} lines: move the new job to a module of its own"


def test_each_background_thread_lives_in_a_module_of_its_own():
    """A class built on `RequestThread` sits in a module without widgets (not inside a view, as CompareThread and
    SweepThread once did)."""
    for path in sorted((ROOT / "gui").glob("*.py")):
        classes = [node for node in ast.walk(ast.parse(path.read_text())) if isinstance(node, ast.ClassDef)]
        bases = {node.name: {getattr(base, "id", getattr(getattr(base, "value", None), "id", "")) for base in node.bases}
                 for node in classes}  # fmt: skip
        threads = [name for name, names in bases.items() if "RequestThread" in names]
        widgets = [name for name, names in bases.items() if any(base.startswith("Q") and "Thread" not in base for base in names)]
        assert not (threads and widgets), f"{path.name} defines the thread(s) {threads} beside the widget(s) {widgets}"


def test_only_the_command_line_imports_the_headless_roots():
    for module, targets in import_graph().items():
        assert "gui.headless" not in targets, f"{module} imports gui.headless (only main.py may)"


def test_a_figure_name_of_the_wrong_kind_is_refused_without_loading_qt(tmp_path):
    """`export run.bplab --png e.svg` stops with a usage error before Qt (and gui/) is imported: checking a
    file name must not cost half a second, or fail with a traceback where PySide6 cannot load."""
    code = (
        "import sys, main\n"
        f"try:\n    main.main(['export', {str(tmp_path / 'run.bplab')!r}, '--png', {str(tmp_path / 'e.svg')!r}])\n"
        "except SystemExit as stop:\n    print(stop.code)\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('PySide6', 'pyqtgraph', 'gui')))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert done.stdout.split("\n")[:2] == ["2", "[]"], (done.stdout, done.stderr)
    assert "e.svg" in done.stderr and "must end in .png" in done.stderr
