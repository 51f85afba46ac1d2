"""No private Textual access outside the one quarantined module.

Textual's private names (`textual._compositor`, `DataTable._data`, `App._driver`, ...) move
between releases; when they do, the failure is stale cells on screen, which nothing
reports. So, over every module of `agp_tui/` except `QUARANTINE`, this test fails on:

- an import of a private Textual module or name (`textual._x`, `textual.widgets._y`,
  `from textual.x import _z`);
- in a module that uses Textual (it imports textual, or lives in `agp_tui/ui/`), an
  attribute `obj._name` (or `getattr(obj, "_name")`) whose name the project does not define
  anywhere: it can only belong to a library object (the headless side's argparse
  internals are not Textual's and not this test's business);
- inside a class built on a Textual class, `self._name` read, written or defined as a
  method when Textual's own classes in its MRO have that name: using, clobbering or
  overriding Textual's private state (`_size_updated`, `_render_cell`, `_data`, ...).

Dunder names (`__init__`) are public protocol and never count.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import textwrap
from collections.abc import Iterator
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PKG = ROOT / "agp_tui"
# Lean screen writer, crash report without locals, palette guard: pinned to one Textual release.
QUARANTINE = {"agp_tui/ui/textual_pinned.py"}
# Overrides of a private Textual hook that has no public equivalent, each with why; the
# override itself may only call public API (the rules above still apply inside it).
# (None today: the crash report's and the palette's live in the quarantined module.)
ALLOWED_OVERRIDES: set[tuple[str, str, str]] = set()


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _modules() -> Iterator[tuple[str, Path, ast.Module]]:
    for path in sorted(PKG.rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        name = rel.removesuffix(".py").replace("/", ".").removesuffix(".__init__")
        yield name, path, ast.parse(path.read_text(), filename=rel)


@cache
def _project_names() -> frozenset[str]:
    """Every private name the project itself defines: defs, class and module assignments,
    attributes it assigns (`self._x = ...`), parameters."""
    names: set[str] = set()
    for _, _, tree in _modules():
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                names.add(node.name)
            elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                names.add(node.id)
            elif (isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store | ast.Del)
                  and isinstance(node.value, ast.Name) and node.value.id in ("self", "cls")):
                names.add(node.attr)  # `app._display = ...` defines nothing: it patches a library
            elif isinstance(node, ast.arg):
                names.add(node.arg)
            elif isinstance(node, ast.alias):
                names.add((node.asname or node.name).split(".")[0])
    return frozenset(n for n in names if _private(n))


@cache
def _textual_private_names(cls: type) -> frozenset[str]:
    """Private names Textual's class `cls` has: its attributes, and what its methods assign
    to `self`."""
    names = {n for n in vars(cls) if _private(n)}
    try:
        source = textwrap.dedent(inspect.getsource(cls))
    except (OSError, TypeError):  # pragma: no cover - compiled or generated classes
        return frozenset(names)
    for node in ast.walk(ast.parse(source)):
        if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
                and node.value.id == "self" and _private(node.attr)):
            names.add(node.attr)
    return frozenset(names)


def _textual_bases(cls: type) -> list[type]:
    return [c for c in cls.__mro__ if c.__module__.split(".")[0] == "textual"]


def _string_arg(call: ast.Call) -> str | None:
    if (isinstance(call.func, ast.Name) and call.func.id in ("getattr", "setattr", "hasattr", "delattr")
            and len(call.args) >= 2 and isinstance(call.args[1], ast.Constant)
            and isinstance(call.args[1].value, str)):
        return call.args[1].value
    return None


def _import_problems(tree: ast.Module) -> Iterator[tuple[int, str]]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                parts = alias.name.split(".")
                if parts[0] == "textual" and any(_private(p) for p in parts):
                    yield node.lineno, f"imports {alias.name}"
        elif isinstance(node, ast.ImportFrom) and node.module:
            parts = node.module.split(".")
            if parts[0] != "textual":
                continue
            if any(_private(p) for p in parts):
                yield node.lineno, f"imports from {node.module}"
            for alias in node.names:
                if _private(alias.name):
                    yield node.lineno, f"imports {node.module}.{alias.name}"


def _uses_textual(rel: str, tree: ast.Module) -> bool:
    if rel.startswith("agp_tui/ui/"):
        return True
    for node in ast.walk(tree):
        if isinstance(node, ast.Import) and any(a.name.split(".")[0] == "textual" for a in node.names):
            return True
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "textual":
            return True
    return False


def _foreign_attribute_problems(tree: ast.Module) -> Iterator[tuple[int, str]]:
    ours = _project_names()
    for node in ast.walk(tree):
        name = None
        if isinstance(node, ast.Attribute):
            name = node.attr
        elif isinstance(node, ast.Call):
            name = _string_arg(node)
        if name is not None and _private(name) and name not in ours:
            yield node.lineno, f"uses {name}, a private name the project does not define"


def _class_problems(module: str, tree: ast.Module) -> Iterator[tuple[int, str]]:
    mod = importlib.import_module(module)
    for node in ast.walk(tree):
        if not isinstance(node, ast.ClassDef):
            continue
        cls = getattr(mod, node.name, None)
        if not isinstance(cls, type):
            continue  # a class defined inside a function: checked by the other rules only
        theirs: set[str] = set()
        for base in _textual_bases(cls):
            theirs |= _textual_private_names(base)
        if not theirs:
            continue
        for item in node.body:
            if (isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef) and item.name in theirs
                    and (module, node.name, item.name) not in ALLOWED_OVERRIDES):
                yield item.lineno, f"{node.name}.{item.name} overrides Textual's private {item.name}"
        for sub in ast.walk(node):
            if (isinstance(sub, ast.Attribute) and isinstance(sub.value, ast.Name)
                    and sub.value.id == "self" and sub.attr in theirs):
                yield sub.lineno, f"{node.name} touches Textual's private self.{sub.attr}"


def test_no_private_textual_access_outside_the_quarantine() -> None:
    problems: list[str] = []
    checked = 0
    for module, path, tree in _modules():
        rel = path.relative_to(ROOT).as_posix()
        if rel in QUARANTINE or module.endswith("__main__"):  # __main__ runs the CLI on import
            continue
        checked += 1
        rules = [_import_problems(tree), _class_problems(module, tree)]
        if _uses_textual(rel, tree):
            rules.append(_foreign_attribute_problems(tree))
        for rule in rules:
            problems.extend(f"{rel}:{line}: {what}" for line, what in rule)
    assert checked > 50  # the walk really covered the package
    assert not problems, "private Textual access outside the quarantine:\n" + "\n".join(sorted(set(problems)))


def test_the_checks_catch_what_they_are_for() -> None:
    """Each rule fires on the shapes the old table and app used."""
    bad = ast.parse(textwrap.dedent("""
        from textual._compositor import ChopsUpdate
        from textual.widgets._data_table import RowKey
        import textual._xterm_parser
        def f(app, table):
            app._driver.write("x")
            table._row_locations.clear()
            getattr(app, "_pseudo_class_state")
    """))
    found = [what for _, what in (*_import_problems(bad), *_foreign_attribute_problems(bad))]
    assert len([w for w in found if w.startswith("imports")]) == 3
    used = {w.split()[1] for w in found if w.startswith("uses")}
    assert used == {"_driver,", "_row_locations,", "_pseudo_class_state,"}
    from textual.widgets import DataTable
    theirs = set().union(*(_textual_private_names(c) for c in _textual_bases(DataTable)))
    assert {"_size_updated", "_render_cell", "_data", "_refresh_region"} <= theirs
