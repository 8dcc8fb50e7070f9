"""Shape ops: ``Shape``, ``Shape_i``, ``MakeVector`` and ``DimShuffle`` (a strided view)."""

from __future__ import annotations

from gnomon.backends.numba.dispatch import indent, numba_funcify, shape_tuple_text
from gnomon.backends.numba.scalar import ctor
from gnomon.graph.basic import Apply
from gnomon.tensor.shape import DimShuffle, MakeVector, Shape, ShapeI


@numba_funcify.register
def _(op: Shape, node: Apply) -> str:
    nd = node.inputs[0].ndim
    body = [f"out = np.empty({nd}, np.int64)"]
    body += [f"out[{d}] = x.shape[{d}]" for d in range(nd)]
    body.append("return (out,)")
    return "def kernel(x):\n" + "\n".join(indent(body, 1)) + "\n"


@numba_funcify.register
def _(op: ShapeI, node: Apply) -> str:
    return ("def kernel(x):\n    out = np.empty((), np.int64)\n"
            f"    out[()] = x.shape[{op.i}]\n    return (out,)\n")


@numba_funcify.register
def _(op: MakeVector, node: Apply) -> str:
    n = len(node.inputs)
    args = ", ".join(f"a{k}" for k in range(n))
    body = [f"out = np.empty({n}, {ctor(op.dtype)})"]
    body += [f"out[{k}] = a{k}[()]" for k in range(n)]
    body.append("return (out,)")
    return f"def kernel({args}):\n" + "\n".join(indent(body, 1)) + "\n"


@numba_funcify.register
def _(op: DimShuffle, node: Apply) -> str:
    # A view with the permuted strides; new axes get stride 0, dropped axes must be 1 long.
    body = [f"if x.shape[{d}] != 1:\n"
            f"        raise ValueError('cannot drop a dimension whose length is not 1')"
            for d in op.dropped]
    shp = [("1" if d == "x" else f"x.shape[{d}]") for d in op.new_order]
    strides = [("0" if d == "x" else f"x.strides[{d}]") for d in op.new_order]
    body.append("return (np.lib.stride_tricks.as_strided("
                f"x, shape={shape_tuple_text(shp)}, strides={shape_tuple_text(strides)}),)")
    return "def kernel(x):\n" + "\n".join(indent(body, 1)) + "\n"
