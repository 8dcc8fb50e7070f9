"""The ops the fuzzer composes: every row of the op-records table whose ``fn`` is plain code,
plus a few extras (casts to every dtype, ``scan`` with a symbolic ``n_steps``, ``ifelse``).

A row's ``fn`` is read from its module's source (``ast``), so an op is kept as an expression
over named operands, e.g. ``a % b`` or ``gt.sum(x, axis=1, keepdims=True)``. Building a graph
evaluates that code, and the reproducer that the fuzzer prints is the same code. Rows whose
``fn`` refers to module-level helpers (``_tri(...)``, ``MULADD``) are left out.
"""

from __future__ import annotations

import ast
import builtins
import functools
import pathlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from tests.records import Arg, B, F, I, all_records

#: the dtypes the fuzzer draws (float16 is left out: Numba has no float16 arithmetic)
DTYPES: tuple[str, ...] = (
    "bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
    "float32", "float64", "complex64", "complex128",
)

#: the names a row's code may use besides its operands (and builtins); reproducers import them
NAMESPACE_IMPORTS = (
    "import numpy as np\n"
    "import gnomon\n"
    "import gnomon.tensor as gt\n"
    "from gnomon.control import ifelse, scan\n"
)


def namespace() -> dict[str, Any]:
    """The globals in which op code is evaluated (what :data:`NAMESPACE_IMPORTS` imports)."""
    import gnomon
    import gnomon.tensor as gt
    from gnomon.control import ifelse, scan

    return {"np": np, "gnomon": gnomon, "gt": gt, "ifelse": ifelse, "scan": scan}


_ALLOWED = {"np", "gnomon", "gt", "ifelse", "scan"} | set(dir(builtins))


@dataclass(frozen=True)
class FuzzOp:
    """One op the fuzzer can apply.

    Attributes
    ----------
    name : the op-record's name (or an extra's)
    group : ``elemwise`` when the graph is made of Elemwise/DimShuffle nodes only, else the
        family of its record module (``reduce``, ``shape``, ``indexing``, ...)
    params : operand names of the expression
    source : the expression (a Python expression over ``params``)
    cases : the record's input cases (dtype, shape and value range of each operand)
    """

    name: str
    group: str
    params: tuple[str, ...]
    source: str
    cases: tuple[tuple[Arg, ...], ...]

    @property
    def arity(self) -> int:
        return len(self.params)

    @functools.cached_property
    def _tree(self) -> ast.expr:
        return ast.parse(self.source, mode="eval").body

    def code(self, operands: Sequence[str]) -> str:
        """The expression with the operands renamed, e.g. ``code(["x0", "x1"]) == "x0 % x1"``."""
        mapping = dict(zip(self.params, operands, strict=True))

        class Rename(ast.NodeTransformer):
            def visit_Name(self, node: ast.Name) -> ast.AST:
                return ast.Name(mapping.get(node.id, node.id), node.ctx)

        return ast.unparse(Rename().visit(ast.parse(self.source, mode="eval")).body)

    def small_ints(self, k: int) -> bool:
        """Operand ``k`` is a size or count (creation ops, repeat counts, scan steps): integer
        extremes there only ask for huge allocations, so the generator keeps them small."""
        return self.group == "creation" or (self.group in ("control", "shape") and k > 0)


def _free_names(expr: ast.AST) -> set[str]:
    """Names read in ``expr`` that no lambda or comprehension inside it binds."""
    bound: set[str] = set()
    for node in ast.walk(expr):
        if isinstance(node, ast.Lambda):
            bound |= {a.arg for a in node.args.args}
        elif isinstance(node, ast.comprehension):
            bound |= {n.id for n in ast.walk(node.target) if isinstance(n, ast.Name)}
    used = {n.id for n in ast.walk(expr) if isinstance(n, ast.Name)}
    return used - bound


def _record_sources() -> dict[str, tuple[str, ast.expr]]:
    """``name -> (module family, fn expression)`` for every ``OpRecord(...)`` in the table."""
    out: dict[str, tuple[str, ast.expr]] = {}
    root = pathlib.Path(__file__).resolve().parent.parent / "records"
    for path in sorted(root.glob("*_records.py")):
        family = path.stem.removesuffix("_records")
        for node in ast.walk(ast.parse(path.read_text())):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                    and node.func.id == "OpRecord" and len(node.args) >= 2
                    and isinstance(node.args[0], ast.Constant)):
                out[str(node.args[0].value)] = (family, node.args[1])
    return out


def _as_expression(fn: ast.expr, arity: int) -> tuple[tuple[str, ...], str] | None:
    """``(params, expression source)`` of a row's ``fn``, or ``None`` if it is not plain code."""
    if isinstance(fn, ast.Lambda):
        params = tuple(a.arg for a in fn.args.args)
        if fn.args.vararg or fn.args.kwarg or fn.args.kwonlyargs or fn.args.defaults:
            return None
        body = fn.body
    elif isinstance(fn, ast.Name | ast.Attribute):
        params = tuple(f"a{i}" for i in range(arity))
        body = ast.Call(fn, [ast.Name(p, ast.Load()) for p in params], [])
    else:
        return None
    if _free_names(body) - set(params) - _ALLOWED:
        return None
    return params, ast.unparse(body)


def _is_elementwise(op: FuzzOp) -> bool:
    """Build ``op`` on inputs of each of its cases: only Elemwise (and the DimShuffles that
    align ranks) nodes, at least one Elemwise, means any shapes and ranks will do."""
    import gnomon.tensor as gt
    from gnomon.tensor.elemwise import Elemwise

    for case in op.cases:
        xs = {p: gt.tensor(p, dtype=a.dtype, shape=(None,) * len(a.shape))
              for p, a in zip(op.params, case, strict=True)}
        try:
            outs = eval(op.source, namespace(), dict(xs))
        except Exception:
            return False
        todo = list(outs) if isinstance(outs, list | tuple) else [outs]
        seen: set[int] = set()
        kinds: set[type] = set()  # Elemwise, DimShuffle
        while todo:
            v = todo.pop()
            if id(v) in seen or getattr(v, "owner", None) is None:
                continue
            seen.add(id(v))
            is_elemwise = isinstance(v.owner.op, Elemwise)
            if not is_elemwise and type(v.owner.op).__name__ != "DimShuffle":
                return False
            kinds.add(Elemwise if is_elemwise else type(v.owner.op))
            todo.extend(v.owner.inputs)
        if Elemwise not in kinds:
            return False
    return True


#: rows the table lacks in a form the fuzzer can use: ``name -> (fn source, input cases)``
EXTRAS: dict[str, tuple[str, list[tuple[Arg, ...]]]] = {
    **{f"cast_{d}": (f"lambda x: gt.cast(x, {d!r})", [(F(4),)]) for d in DTYPES},
    "scan_nsteps": ("lambda x, n: scan(lambda p: p * 2 + 1, outputs_info=[x], n_steps=n)[0]",
                    [(F(3), I(low=-2, high=4))]),
    "ifelse_bool": ("lambda c, x, y: ifelse(c, x, y)", [(B(), F(3), F(3))]),
}


@functools.cache
def catalog() -> tuple[FuzzOp, ...]:
    """Every op the fuzzer may use, in a fixed order (rows of the table, then the extras)."""
    sources = _record_sources()
    # rows that draw random numbers are left out: backends' streams differ by design
    rows: list[tuple[str, list[Any]]] = [(r.name, list(r.cases)) for r in all_records()
                                         if not getattr(r, "random", False)]
    for name, (src, cases) in EXTRAS.items():
        sources[name] = ("control", ast.parse(src, mode="eval").body)
        rows.append((name, cases))
    ops: list[FuzzOp] = []
    for name, cases in rows:
        if name not in sources or not cases or not cases[0]:
            continue
        family, fn = sources[name]
        arity = len(cases[0])
        parsed = _as_expression(fn, arity)
        if parsed is None or len(parsed[0]) != arity or any(len(c) != arity for c in cases):
            continue
        op = FuzzOp(name, family, parsed[0], parsed[1], tuple(tuple(c) for c in cases))
        group = "elemwise" if _is_elementwise(op) else {"core": "reduce"}.get(family, family)
        ops.append(FuzzOp(op.name, group, op.params, op.source, op.cases))
    return tuple(ops)


@functools.cache
def by_name() -> dict[str, FuzzOp]:
    """The catalogue as a dict keyed by op name."""
    return {op.name: op for op in catalog()}
