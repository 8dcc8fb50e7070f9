"""Shape ops: ``Shape``, ``Shape_i``, ``MakeVector``, ``DimShuffle`` and ``BroadcastTo`` (strided
views), ``Reshape``, ``Join``."""

from __future__ import annotations

from gnomon.backends.numba.dispatch import indent, numba_funcify, shape_tuple_text
from gnomon.backends.numba.scalar import ctor
from gnomon.errors import NotLoweredError
from gnomon.graph.basic import Apply
from gnomon.tensor.shapes import (
    BroadcastTo,
    DimShuffle,
    Join,
    MakeVector,
    Repeat,
    RepeatSum,
    Reshape,
    Shape,
    ShapeI,
    Split,
)


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


@numba_funcify.register(Reshape)
def _(op: Reshape, node: Apply) -> str:
    n = len(node.inputs) - 1
    args = ", ".join(["x"] + [f"s{d}" for d in range(n)])
    shp = shape_tuple_text([f"s{d}[()]" for d in range(n)])
    # NumPy refuses -1 next to a zero length (the -1 would be ambiguous); Numba's
    # reshape would pick 0 for it.
    check = [f"n{d} = s{d}[()]" for d in range(n)]
    if n:
        known = " * ".join(f"(1 if n{d} == -1 else n{d})" for d in range(n))
        minus = " or ".join(f"n{d} == -1" for d in range(n))
        check += [f"if ({minus}) and {known} == 0:",
                  "    raise ValueError('cannot reshape: -1 next to a zero length')"]
    # copies only when x is not contiguous (NumPy's reshape would copy there too)
    return (f"def kernel({args}):\n" + "".join(f"    {c}\n" for c in check)
            + f"    return (np.ascontiguousarray(x).reshape({shp}),)\n")


@numba_funcify.register(BroadcastTo)
def _(op: BroadcastTo, node: Apply) -> str:
    x = node.inputs[0]
    n = len(node.inputs) - 1
    off = n - x.ndim
    args = ", ".join(["x"] + [f"s{d}" for d in range(n)])
    body = [f"n{d} = s{d}[()]" for d in range(n)]
    strides = []
    for d in range(n):
        if d < off:
            strides.append("0")
            continue
        j = d - off
        body += [f"if x.shape[{j}] != 1 and x.shape[{j}] != n{d}:",
                 "    raise ValueError('cannot broadcast to the requested shape')"]
        strides.append(f"(x.strides[{j}] if x.shape[{j}] == n{d} else 0)")
    body.append("return (np.lib.stride_tricks.as_strided(x, shape="
                f"{shape_tuple_text([f'n{d}' for d in range(n)])}, "
                f"strides={shape_tuple_text(strides)}),)")
    return f"def kernel({args}):\n" + "\n".join(indent(body, 1)) + "\n"


@numba_funcify.register(Join)
def _(op: Join, node: Apply) -> str:
    n = len(node.inputs)
    if len({v.dtype for v in node.inputs}) != 1 or node.inputs[0].ndim == 0:
        raise NotLoweredError("join of mixed dtypes")
    args = ", ".join(f"a{k}" for k in range(n))
    parts = "".join(f"np.ascontiguousarray(a{k}).copy(), " for k in range(n))
    return (f"def kernel({args}):\n"
            f"    return (np.concatenate(({parts}), axis={op.axis}),)\n")


# --- split, repeat and its transpose -------------------------------------------------------


def _axis_shape(ndim: int, axis: int, length: str, src: str) -> str:
    """Shape text of ``src`` with the length of ``axis`` replaced by ``length``."""
    return shape_tuple_text([length if d == axis else f"{src}.shape[{d}]" for d in range(ndim)])


@numba_funcify.register(Split)
def _(op: Split, node: Apply) -> str:
    # the outputs are views of x (the op's view_map), as in the reference
    sl = ":, " * op.axis
    args = ", ".join(f"s{j}" for j in range(op.n_splits))
    body = ["c = 0"]
    for j in range(op.n_splits):
        body += [f"k{j} = s{j}[()]",
                 f"if k{j} < 0:\n        raise ValueError('split: a negative size')",
                 f"o{j} = x[{sl}c:c + k{j}]", f"c += k{j}"]
    body += [f"if c != x.shape[{op.axis}]:\n"
             "        raise ValueError('split: the sizes do not add up to the length')",
             "return (" + "".join(f"o{j}, " for j in range(op.n_splits)) + ")"]
    return f"def kernel(x, {args}):\n" + "\n".join(indent(body, 1)) + "\n"


def _counts(r_ndim: int, n: str) -> list[str]:
    """Lines checking the repeat counts ``r`` (0-d, or one count, or ``n`` counts) and adding
    them up into ``total``; ``count(i)`` text follows in the caller's loop."""
    lines = []
    if r_ndim == 1:
        lines.append(f"if r.shape[0] != 1 and r.shape[0] != {n}:\n"
                     "        raise ValueError('repeat: the counts do not match the axis')")
    lines += ["total = 0", f"for i in range({n}):",
              "    c = " + ("r[()]" if r_ndim == 0 else "r[i if r.shape[0] != 1 else 0]"),
              "    if c < 0:\n            raise ValueError('repeat: a negative count')",
              "    total += c"]
    return lines


@numba_funcify.register(Repeat)
def _(op: Repeat, node: Apply) -> str:
    x, r = node.inputs
    sl = ":, " * op.axis
    count = "r[()]" if r.ndim == 0 else "r[i if r.shape[0] != 1 else 0]"
    body = [f"n = x.shape[{op.axis}]", *_counts(r.ndim, "n"),
            f"out = np.empty({_axis_shape(x.ndim, op.axis, 'total', 'x')}, {ctor(x.dtype)})",
            "pos = 0", "for i in range(n):", f"    for _ in range({count}):",
            f"        out[{sl}pos] = x[{sl}i]", "        pos += 1", "return (out,)"]
    return "def kernel(x, r):\n" + "\n".join(indent(body, 1)) + "\n"


@numba_funcify.register(RepeatSum)
def _(op: RepeatSum, node: Apply) -> str:
    g, r, _ = node.inputs
    if g.dtype == "bool":
        raise NotLoweredError("RepeatSum of booleans (np.add.at is a logical or)")
    sl = ":, " * op.axis
    count = "r[()]" if r.ndim == 0 else "r[i if r.shape[0] != 1 else 0]"
    acc = (["        out[i] += g[pos]"] if g.ndim == 1 else
           [f"        v = out[{sl}i]", f"        v += g[{sl}pos]"])
    body = ["N = nn[()]", *_counts(r.ndim, "N"),
            f"if total != g.shape[{op.axis}]:\n"
            "        raise ValueError('RepeatSum: the counts do not match the length')",
            f"out = np.zeros({_axis_shape(g.ndim, op.axis, 'N', 'g')}, {ctor(g.dtype)})",
            "pos = 0", "for i in range(N):", f"    for _ in range({count}):", *acc,
            "        pos += 1", "return (out,)"]
    return "def kernel(g, r, nn):\n" + "\n".join(indent(body, 1)) + "\n"
