"""Backends lower ops by reference: every lowering module imports the op classes it handles and
registers them by class at import, so a renamed or removed op fails at import instead of
leaving a lowering silently unregistered. No module looks an op up by its name (``importlib``,
``getattr(module, "Name")``, ``hasattr`` guards, tables keyed by class names)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import gnomon.backends

ROOT = Path(gnomon.backends.__file__).parent
MODULES = sorted(p for p in ROOT.rglob("*.py") if p.parent != ROOT)


def _class_like(name: str) -> bool:
    """``Cumsum``, ``LogSumExp``: a name spelled like a class (not ``O_NOFOLLOW``, ``dtype``)."""
    return name[:1].isupper() and any(c.islower() for c in name)


def _lookups_by_name(tree: ast.AST) -> list[str]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import | ast.ImportFrom):
            names = [a.name for a in node.names] + [getattr(node, "module", None) or ""]
            if any(n.split(".")[0] == "importlib" or n == "import_module" for n in names):
                found.append(f"line {node.lineno}: imports importlib")
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
              and node.func.id in ("getattr", "hasattr") and len(node.args) >= 2):
            attr = node.args[1]
            if not isinstance(attr, ast.Constant):
                found.append(f"line {node.lineno}: {node.func.id} with a computed name")
            elif isinstance(attr.value, str) and _class_like(attr.value):
                found.append(f"line {node.lineno}: {node.func.id}(..., {attr.value!r})")
        elif isinstance(node, ast.Dict):
            keys = [k.value for k in node.keys
                    if isinstance(k, ast.Constant) and isinstance(k.value, str)]
            if sum(_class_like(k) for k in keys) >= 2:
                found.append(f"line {node.lineno}: a table keyed by class names {keys[:3]}")
    return found


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_op_lookup_by_name(path: Path) -> None:
    found = _lookups_by_name(ast.parse(path.read_text()))
    assert not found, (f"gnomon/backends/{path.relative_to(ROOT)} looks ops up by name: {found}."
                       "\nHint: import the op class and register with "
                       "numba_funcify.register(OpClass) / jax_funcify.register(OpClass).")


def test_the_lookup_check_catches_the_old_forms() -> None:
    old = ('import importlib\n'
           'tr = importlib.import_module("gnomon.tensor.reduce")\n'
           'if hasattr(tr, "Cumsum"):\n    pass\n'
           'cls = getattr(tr, name, None)\n'
           'OPS = {"Exp": 1, "Log": 2}\n')
    assert len(_lookups_by_name(ast.parse(old))) == 4


@pytest.mark.parametrize("backend", ["numba", "jax"])
def test_importing_the_backend_registers_every_family(backend: str) -> None:
    # In a fresh interpreter, importing the backend package alone registers the lowerings of
    # every family module (the package imports them; none is skipped).
    pytest.importorskip(backend)
    registry = {"numba": "gnomon.backends.numba.dispatch.numba_funcify",
                "jax": "gnomon.backends.jax.dispatch.jax_funcify"}[backend]
    code = (f"import gnomon.backends.{backend}\n"
            f"import {registry.rsplit('.', 1)[0]} as d\n"
            f"reg = d.{registry.rsplit('.', 1)[1]}.registry\n"
            "from gnomon.tensor.reduce import Cumsum\n"
            "from gnomon.tensor.linalg import Cholesky\n"
            "from gnomon.control.scan import Scan\n"
            "assert {Cumsum, Cholesky, Scan} <= set(reg), sorted(c.__name__ for c in reg)\n"
            "assert all(isinstance(c, type) for c in reg)\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr
