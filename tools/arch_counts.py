"""Architecture counts of issue 18 at a git revision: upward imports between layers, imports
inside functions, ``# type: ignore`` comments and the length of ``gnomon/tensor/math.py``.

    python tools/arch_counts.py [REV ...]      # default: the working tree

Upward imports use the layer order of ``tests/test_layers.py`` (a module of a package that is
not in it is skipped); each import statement counts once, and so does each distinct
(importing module, imported module) pair.
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ORDER = ["errors", "config", "graph", "scalar", "tensor", "rewrite", "gradient", "compile",
         "control", "random", "logprob", "backends", "printing", "testing", "__init__"]


def _files(rev: str | None) -> dict[str, str]:
    """``gnomon/**/*.py`` at ``rev`` (tracked files), or in the working tree."""
    if rev is None:
        return {str(p.relative_to(ROOT)): p.read_text()
                for p in sorted((ROOT / "gnomon").rglob("*.py"))}
    names = subprocess.run(["git", "ls-tree", "-r", "--name-only", rev, "gnomon"], cwd=ROOT,
                           capture_output=True, text=True, check=True).stdout.split()
    return {n: subprocess.run(["git", "show", f"{rev}:{n}"], cwd=ROOT, capture_output=True,
                              text=True, check=True).stdout
            for n in names if n.endswith(".py")}


def _layer(module: str) -> int | None:
    parts = module.split(".")
    if parts[0] != "gnomon":
        return None
    if len(parts) == 1:
        return ORDER.index("__init__")
    return ORDER.index(parts[1]) if parts[1] in ORDER else None


def _imports_in_functions(tree: ast.AST, inside: bool = False) -> int:
    """Import statements with a function among their enclosing scopes."""
    n = 0
    for child in ast.iter_child_nodes(tree):
        if isinstance(child, ast.Import | ast.ImportFrom):
            n += inside
        n += _imports_in_functions(
            child, inside or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef))
    return n


def counts(rev: str | None) -> dict[str, int]:
    files = _files(rev)
    upward, pairs, in_functions, ignores = 0, set(), 0, 0
    for path, text in files.items():
        mod = path[:-3].replace("/", ".").removesuffix(".__init__")
        tree = ast.parse(text)
        ignores += len(re.findall(r"#\s*type:\s*ignore", text))
        in_functions += _imports_in_functions(tree)
        src = _layer(mod)
        if src is None:
            continue
        for node in ast.walk(tree):
            targets = ([a.name for a in node.names] if isinstance(node, ast.Import) else
                       [node.module] if isinstance(node, ast.ImportFrom) and node.module
                       and node.level == 0 else [])
            for t in targets:
                dst = _layer(t)
                if dst is not None and dst > src:
                    upward += 1
                    pairs.add((mod, t))
    math = files.get("gnomon/tensor/math.py", "")
    return {"upward import statements": upward, "upward import pairs": len(pairs),
            "imports inside functions": in_functions, "type: ignore (gnomon/)": ignores,
            "lines of gnomon/tensor/math.py": len(math.splitlines())}


if __name__ == "__main__":
    for rev in sys.argv[1:] or [None]:
        print(rev or "working tree", counts(rev))
