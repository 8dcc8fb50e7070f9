"""Elementwise loops: ``Elemwise`` (including fused ``Composite`` scalar ops) and ``SumToShape``.

An Elemwise node becomes one loop nest over the broadcast shape, computed at run time the way
NumPy does (a dimension of length 1 is broadcast even when its length was unknown when the
graph was built). Two copies of the loop nest are generated: a fast one for the common case
where no input is broadcast at run time (plain indices, which LLVM vectorizes) and a general
one where each input's index along each dimension is multiplied by 0 or 1.

A fused group (``Elemwise(Composite)`` from the fusion rewrite) is still one loop: the inner
scalar graph is inlined into the loop body as local variables, so no temporary arrays exist.
Scalar constants feeding the loop are written into the kernel as literals.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from gnomon.backends.numba.dispatch import indent, numba_funcify, shape_tuple_text
from gnomon.backends.numba.scalar import ctor, literal, scalar_source
from gnomon.errors import NotLoweredError
from gnomon.graph.basic import Apply, Constant, Variable
from gnomon.tensor.elemwise import Elemwise, SumToShape


def _const_literal(v: Variable) -> str | None:
    """A literal for an input that is a one-element constant (possibly behind a DimShuffle)."""
    from gnomon.tensor.shapes import DimShuffle

    if v.owner is not None and isinstance(v.owner.op, DimShuffle):
        v = v.owner.inputs[0]
    if isinstance(v, Constant) and np.asarray(v.data).size == 1:
        return literal(np.asarray(v.data).reshape(()), v.type.dtype)  # type: ignore[attr-defined]
    return None


def scalar_body(
    op: object, args: Sequence[str], in_dtypes: Sequence[str], out_dtypes: Sequence[str],
) -> tuple[list[str], list[str]]:
    """Statements and per-output expressions computing scalar ``op`` on ``args``.

    Composite ops (fused groups) expand into one statement per inner node.
    """
    comp = _composite_body(op, args, in_dtypes, out_dtypes)
    if comp is not None:
        return comp
    expr = scalar_source(op, args, in_dtypes, out_dtypes)  # type: ignore[arg-type]
    if len(out_dtypes) == 1:
        return [], [expr]
    return [f"_r = {expr}"], [f"_r[{k}]" for k in range(len(out_dtypes))]


def _composite_body(op, args, in_dtypes, out_dtypes):
    try:
        from gnomon.scalar.composite import Composite
    except ImportError:
        return None
    if not isinstance(op, Composite):
        return None
    from gnomon.backends.numba.composite import composite_body

    return composite_body(op, args, in_dtypes, out_dtypes)


def elemwise_source(node: Apply, inplace: int | None = None) -> str:
    """The kernel of an Elemwise node; ``inplace=k`` writes output 0 into input ``k`` when
    that input has the output's shape (the memory plan guarantees it is dead and unaliased)."""
    op: Elemwise = node.op  # type: ignore[assignment]
    ins = node.inputs
    nd = node.outputs[0].ndim
    nin = len(ins)
    lits = [_const_literal(v) for v in ins]
    static = [v.type.shape for v in ins]  # type: ignore[attr-defined]
    out_dtypes = [o.dtype for o in node.outputs]
    in_dtypes = [v.dtype for v in ins]
    lines = [f"def kernel({', '.join(f'a{k}' for k in range(nin))}):"]
    body: list[str] = []
    # 1. the broadcast shape, checked like NumPy
    varying = [[k for k in range(nin) if lits[k] is None and static[k][d] != 1]
               for d in range(nd)]
    for d in range(nd):
        body.append(f"n{d} = 1")
        for k in varying[d]:
            body += [
                f"s = a{k}.shape[{d}]",
                "if s != 1:",
                f"    if n{d} != 1 and n{d} != s:",
                "        raise ValueError('operands could not be broadcast together')",
                f"    n{d} = s",
            ]
    shape = shape_tuple_text([f"n{d}" for d in range(nd)])
    # 2. outputs
    for j, dt in enumerate(out_dtypes):
        if j == 0 and inplace is not None:
            body += [f"if a{inplace}.shape == {shape}:", f"    out0 = a{inplace}",
                     "else:", f"    out0 = _empty({shape}, {ctor(dt)})"]
        else:
            body.append(f"out{j} = _empty({shape}, {ctor(dt)})")

    # 3. the loop body
    def loop(general: bool) -> list[str]:
        inner: list[str] = []
        for k in range(nin):
            if lits[k] is not None:
                inner.append(f"x{k} = {lits[k]}")
                continue
            if nd == 0:
                inner.append(f"x{k} = a{k}[()]")
                continue
            idx = []
            for d in range(nd):
                if static[k][d] == 1:
                    idx.append("0")
                elif general:
                    idx.append(f"i{d} * m{k}_{d}")
                else:
                    idx.append(f"i{d}")
            inner.append(f"x{k} = a{k}[{', '.join(idx)}]")
        stmts, exprs = scalar_body(op.scalar_op, [f"x{k}" for k in range(nin)], in_dtypes,
                                   out_dtypes)
        inner += stmts
        where = ", ".join(f"i{d}" for d in range(nd)) if nd else "()"
        for j, (e, dt) in enumerate(zip(exprs, out_dtypes, strict=True)):
            inner.append(f"out{j}[{where}] = {ctor(dt)}({e})")
        nest: list[str] = []
        for d in range(nd):
            nest.append("    " * d + f"for i{d} in range(n{d}):")
        return nest + indent(inner, nd)

    checks = [(k, d) for d in range(nd) for k in varying[d]]
    if nd == 0 or not checks:
        body += loop(False)
    else:
        cond = " and ".join(f"a{k}.shape[{d}] == n{d}" for k, d in checks)
        body.append(f"if {cond}:")
        body += indent(loop(False), 1)
        body.append("else:")
        general = [f"m{k}_{d} = 1 if a{k}.shape[{d}] == n{d} else 0" for k, d in checks]
        body += indent(general + loop(True), 1)
    body.append("return (" + "".join(f"out{j}, " for j in range(len(out_dtypes))) + ")")
    return "\n".join(lines + indent(body, 1)) + "\n"


@numba_funcify.register
def _(op: Elemwise, node: Apply) -> str:
    if any(v.dtype == "float16" for v in (*node.inputs, *node.outputs)):
        raise NotLoweredError("Numba has no float16 arithmetic")
    return elemwise_source(node)


@numba_funcify.register
def _(op: SumToShape, node: Apply) -> str:
    g = node.inputs[0]
    nd = g.ndim
    dt = node.outputs[0].dtype
    body = []
    for d in range(nd):
        body += [f"if shp[{d}] != g.shape[{d}] and shp[{d}] != 1:",
                 "    raise ValueError('the gradient cannot be reduced to the requested shape')",
                 f"m{d} = 1 if shp[{d}] == g.shape[{d}] else 0"]
    body.append(f"out = np.zeros({shape_tuple_text([f'shp[{d}]' for d in range(nd)])}, "
                f"{ctor(dt)})")
    loops = ["    " * d + f"for i{d} in range(g.shape[{d}]):" for d in range(nd)]
    src = ", ".join(f"i{d}" for d in range(nd)) or "()"
    dst = ", ".join(f"i{d} * m{d}" for d in range(nd)) or "()"
    body += loops + ["    " * nd + f"out[{dst}] += g[{src}]", "return (out,)"]
    return "def kernel(g, shp):\n" + "\n".join(indent(body, 1)) + "\n"
