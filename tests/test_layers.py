"""The package's layers import downwards only.

gnomon is built in layers, each importing only from the layers below it (module-level imports
and imports inside functions alike):

    errors, config  <  graph  <  scalar  <  tensor  <  rewrite  <  gradient  <  compile
        <  control  <  ifelse, scan  <  random  <  logprob  <  backends  <  ppl
        <  printing, testing, gnomon/__init__

(``rewrite`` sits below ``gradient``: ``grad`` rewrites its cost into a stable form first, and
no rewrite rule needs the gradient. ``ppl``, the PyMC-style modelling layer, sits on top of
``logprob`` and compiles its densities, so it may use ``compile`` and ``backends``.) An import
from a higher layer is an error unless it is listed in ``ALLOWED`` with the reason it cannot go.
Remove entries as the reasons go away.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1] / "gnomon"

ORDER = ["errors", "config", "graph", "scalar", "tensor", "rewrite", "gradient", "compile",
         "control", "ifelse", "scan", "random", "logprob", "backends", "ppl", "printing",
         "testing", "__init__"]

#: (importing module, imported module) -> why the upward import stays
ALLOWED: dict[tuple[str, str], str] = {
    ("gnomon.tensor.variable", "gnomon.printing"):
        "x.dprint() (PyTensor's method) prints with debugprint",
    ("gnomon.gradient", "gnomon.compile.function"):
        "verify_grad (PyTensor's name in this module) compiles the cost it checks",
    ("gnomon.graph.replace", "gnomon.control.vectorize"):
        "vectorize_graph (PyTensor's graph.replace path) batches with tensor ops and scan",
    ("gnomon.graph.rewriting.utils", "gnomon.rewrite.engine"):
        "rewrite_graph at PyTensor's graph.rewriting.utils path runs the rewrite engine",
    ("gnomon.graph.basic", "gnomon.compile.function"):
        "Variable.eval compiles a function: a convenience method on the IR's own class",
    ("gnomon.rewrite.engine", "gnomon.compile.mode"):
        "rewrite_graph's default backend is the default mode's (config.mode)",
    ("gnomon.gradient", "gnomon.control.scan"):
        "Jacobians of expressions of unknown length loop with scan",
    ("gnomon.compile.builders", "gnomon.control.opfromgraph"):
        "PyTensor's module path for OpFromGraph (compile.builders); the op needs the control "
        "layer's inner graphs",
    ("gnomon.compile.function", "gnomon.backends"):
        "the backend named by the mode is looked up when a function is compiled",
    ("gnomon.compile.shared", "gnomon.random.type"):
        "gnomon.shared(numpy Generator) makes a shared random generator",
    ("gnomon.tensor.indexing", "gnomon"): "reads gnomon.config at call time",
    ("gnomon.random.draw", "gnomon"): "draw() compiles with gnomon.function",
    ("gnomon.backends.numba.cache", "gnomon"): "gnomon.__version__ keys the disk cache",
    ("gnomon.backends.c.cache", "gnomon"): "gnomon.__version__ keys the disk cache",
    ("gnomon.backends.jax.linker", "gnomon"): "jax_fn compiles with gnomon.function",
    ("gnomon.testing", "gnomon"): "the testing helpers compile with gnomon.function",
}


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    name = ".".join(parts)
    return name[: -len(".__init__")] if name.endswith(".__init__") else name


def _layer(module: str) -> int | None:
    parts = module.split(".")
    if parts[0] != "gnomon":
        return None
    if len(parts) == 1:
        return ORDER.index("__init__")
    return ORDER.index(parts[1]) if parts[1] in ORDER else None


def _imports(path: Path) -> list[tuple[str, int]]:
    out = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            out += [(a.name, node.lineno) for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.append((node.module, node.lineno))
    return out


def _upward() -> dict[tuple[str, str], list[str]]:
    found: dict[tuple[str, str], list[str]] = {}
    for path in sorted(ROOT.rglob("*.py")):
        mod = _module_name(path)
        src = _layer(mod)
        assert src is not None, f"{mod} is in no layer: add its package to ORDER"
        for target, line in _imports(path):
            dst = _layer(target)
            if dst is not None and dst > src:
                found.setdefault((mod, target), []).append(f"{path.name}:{line}")
    return found


def test_no_upward_imports_between_layers() -> None:
    found = _upward()
    new = {k: v for k, v in found.items() if k not in ALLOWED}
    assert not new, "imports from a higher layer (move the code down, or pass it in):\n" + \
        "\n".join(f"  {a} -> {b} ({', '.join(v)})" for (a, b), v in sorted(new.items()))


def test_allowed_exceptions_are_still_needed() -> None:
    stale = set(ALLOWED) - set(_upward())
    assert not stale, f"ALLOWED lists imports that are gone: {sorted(stale)}"
