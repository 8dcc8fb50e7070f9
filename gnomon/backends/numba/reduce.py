"""Reductions as loop nests: ``Sum``, ``Prod``, ``Max``, ``Min``, ``AllTrue``, ``AnyTrue``,
arg-reductions, cumulative ops, ``LogSumExp``, softmax.

A reduction over the trailing axes keeps a scalar accumulator in a register; any other set of
axes walks the input in memory order and accumulates into the output array.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from gnomon.backends.numba.dispatch import indent, numba_funcify, shape_tuple_text
from gnomon.backends.numba.scalar import ctor
from gnomon.errors import NotLoweredError
from gnomon.graph.basic import Apply
from gnomon.tensor.reduce import (
    AllTrue,
    AnyTrue,
    Argmax,
    Argmin,
    Cumprod,
    Cumsum,
    LogSoftmax,
    LogSumExp,
    Max,
    Min,
    Prod,
    Softmax,
    Sum,
)


def reduce_source(
    nd: int,
    axes: Sequence[int],
    out_dtype: str,
    init: str,
    update: Callable[[str, str], str],
    cast_input: bool = True,
) -> str:
    """Kernel reducing a ``nd``-d input over ``axes`` with ``acc = update(acc, x)``."""
    axes = sorted(axes)
    kept = [d for d in range(nd) if d not in axes]
    t = ctor(out_dtype)
    xin = "x[{}]"
    body: list[str] = []
    out_shape = shape_tuple_text([f"x.shape[{d}]" for d in kept])
    idx_all = ", ".join(f"i{d}" for d in range(nd)) or "()"
    idx_kept = ", ".join(f"i{d}" for d in kept) or "()"
    val = f"{t}({xin.format(idx_all)})" if cast_input else xin.format(idx_all)
    if axes == list(range(nd - len(axes), nd)):
        # trailing axes: register accumulator per output element
        body.append(f"out = np.empty({out_shape}, {t})")
        loops = [f"for i{d} in range(x.shape[{d}]):" for d in range(nd)]
        nk = len(kept)
        lines = ["    " * k + loops[k] for k in range(nk)]
        lines.append("    " * nk + f"acc = {t}({init})")
        lines += ["    " * (nk + j) + loops[nk + j] for j in range(len(axes))]
        lines.append("    " * nd + f"acc = {update('acc', val)}")
        lines.append("    " * nk + f"out[{idx_kept}] = acc")
        body += lines
    else:
        body.append(f"out = np.full({out_shape}, {t}({init}))")
        lines = ["    " * d + f"for i{d} in range(x.shape[{d}]):" for d in range(nd)]
        lines.append("    " * nd
                     + f"out[{idx_kept}] = {update(f'out[{idx_kept}]', val)}")
        body += lines
    body.append("return (out,)")
    return "def kernel(x):\n" + "\n".join(indent(body, 1)) + "\n"


@numba_funcify.register
def _(op: Sum, node: Apply) -> str:
    return reduce_source(node.inputs[0].ndim, op.axes, node.outputs[0].dtype, "0",
                         lambda a, x: f"{a} + {x}")


# --- rows form: reduced axes moved last and flattened, one row per output element --------

def permuted_loops(nd: int, perm: Sequence[int], stmt: str) -> list[str]:
    """Loops over ``x``'s indices ``i0, i1, ...`` nested in the order ``perm`` (outermost
    first), running ``stmt`` (which may use ``p``, the running count, then incremented)
    innermost: a walk of the permuted array in C order.

    Explicit loops, not ``np.transpose(x, axes)``: typing Numba's ``transpose`` with an axes
    tuple took 4.5-6 s of CPU the first time in each process (and the copy is the same loop).
    """
    lines = ["p = 0"]
    lines += ["    " * k + f"for i{d} in range(x.shape[{d}]):" for k, d in enumerate(perm)]
    lines += ["    " * nd + stmt, "    " * nd + "p += 1"]
    return lines


def _rows_prelude(nd: int, axes: Sequence[int], dtype: str | None) -> list[str]:
    """Lines making ``y``, a C-contiguous ``(R, C)`` copy/view of ``x`` with the reduced axes
    flattened into columns (cast to ``dtype`` unless it is None), and ``R``, ``C``."""
    axes = sorted(axes)
    kept = [d for d in range(nd) if d not in axes]
    perm = kept + axes
    lines = []
    if nd == 0:
        src = "x" if dtype is None else f"x.astype({ctor(dtype)})"
        lines.append(f"y = np.ascontiguousarray({src}).reshape((1, 1))")
    else:
        r = " * ".join(f"x.shape[{d}]" for d in kept) or "1"
        c = " * ".join(f"x.shape[{d}]" for d in axes) or "1"
        if perm == list(range(nd)) and dtype is None:
            lines.append(f"y = np.ascontiguousarray(x).reshape(({r}, {c}))")
        else:  # transposed and/or cast: one copy in the order of y
            t = "x.dtype" if dtype is None else ctor(dtype)
            ix = ", ".join(f"i{d}" for d in range(nd))
            val = f"x[{ix}]" if dtype is None else f"{ctor(dtype)}(x[{ix}])"
            lines.append(f"yf = np.empty(({r}) * ({c}), {t})")
            lines += permuted_loops(nd, perm, f"yf[p] = {val}")
            lines.append(f"y = yf.reshape(({r}, {c}))")
    lines += ["R = y.shape[0]", "C = y.shape[1]"]
    return lines


def _kshape(nd: int, axes: Sequence[int]) -> str:
    return shape_tuple_text([f"x.shape[{d}]" for d in range(nd) if d not in axes])


def rows_reduce_source(nd: int, axes: Sequence[int], out_dtype: str, row: list[str],
                       in_dtype: str | None = None) -> str:
    """Kernel computing ``res`` for each row ``r`` of ``y`` with the statements ``row``."""
    body = _rows_prelude(nd, axes, in_dtype)
    body.append(f"flat = np.empty(R, {ctor(out_dtype)})")
    body.append("for r in range(R):")
    body += indent(row, 1)
    body.append(f"    flat[r] = {ctor(out_dtype)}(res)")
    body.append(f"return (flat.reshape({_kshape(nd, axes)}),)")
    return "def kernel(x):\n" + "\n".join(indent(body, 1)) + "\n"


_SAME = "same"


def rows_map_source(nd: int, axes: Sequence[int], out_dtype: str, row: list[str],
                    in_dtype: str | None = _SAME, pre: Sequence[str] = ()) -> str:
    """Kernel writing ``o[r, c]`` for each row of ``y``; the result has ``x``'s shape.

    ``y`` is cast to ``in_dtype`` (default: ``out_dtype``; None: ``x``'s own dtype); the
    statements ``pre`` run once before the loop over rows (buffers a row reuses)."""
    axes = sorted(axes)
    kept = [d for d in range(nd) if d not in axes]
    perm = kept + axes
    body = _rows_prelude(nd, axes, out_dtype if in_dtype == _SAME else in_dtype)
    body.append(f"o = np.empty((R, C), {ctor(out_dtype)})")
    body += list(pre)
    body.append("for r in range(R):")
    body += indent(row, 1)
    tshape = shape_tuple_text([f"x.shape[{d}]" for d in perm])
    if nd == 0:
        body.append("return (o.reshape(()),)")
    elif perm == list(range(nd)):
        body.append(f"return (o.reshape({tshape}),)")
    else:  # back to x's axis order: one copy (explicit loops, see permuted_loops)
        ix = ", ".join(f"i{d}" for d in range(nd))
        body.append("of = o.reshape(R * C)")
        body.append(f"out = np.empty({shape_tuple_text([f'x.shape[{d}]' for d in range(nd)])}, "
                    f"{ctor(out_dtype)})")
        body += permuted_loops(nd, perm, f"out[{ix}] = of[p]")
        body.append("return (out,)")
    return "def kernel(x):\n" + "\n".join(indent(body, 1)) + "\n"


_EMPTY = ["if C == 0:",
          "    raise ValueError('zero-size array to reduction operation with no identity')"]


def _check_empty(src: str) -> str:
    """Insert the empty-reduction check right after ``C`` is known."""
    return src.replace("    C = y.shape[1]\n", "    C = y.shape[1]\n" + "".join(
        "    " + ln + "\n" for ln in _EMPTY), 1)


def _extreme_row(cmp: str, want_index: bool) -> list[str]:
    # NumPy: NaN wins (max/min propagate it; argmax/argmin return its first index).
    return [
        "best = y[r, 0]", "bi = 0",
        "if not np.isnan(best):",
        "    for c in range(1, C):",
        "        v = y[r, c]",
        "        if np.isnan(v):",
        "            best = v",
        "            bi = c",
        "            break",
        f"        if v {cmp} best:",
        "            best = v",
        "            bi = c",
        f"res = {'bi' if want_index else 'best'}",
    ]


@numba_funcify.register(Prod)
def _(op: Prod, node: Apply) -> str:
    return reduce_source(node.inputs[0].ndim, op.axes, node.outputs[0].dtype, "1",
                         lambda a, x: f"{a} * {x}")


def _max_min(cmp: str) -> Callable[[Max | Min, Apply], str]:
    def lower(op: Max | Min, node: Apply) -> str:
        x = node.inputs[0]
        if x.dtype[0] == "c":
            raise NotLoweredError("max/min of complex numbers")
        src = rows_reduce_source(x.ndim, op.axes, node.outputs[0].dtype, _extreme_row(cmp, False))
        return _check_empty(src)

    return lower


numba_funcify.register(Max)(_max_min(">"))
numba_funcify.register(Min)(_max_min("<"))


def _arg_reduce(cmp: str) -> Callable[[Argmax | Argmin, Apply], str]:
    def lower(op: Argmax | Argmin, node: Apply) -> str:
        x = node.inputs[0]
        axes = tuple(range(x.ndim)) if op.axis is None else (op.axis,)
        return _check_empty(rows_reduce_source(x.ndim, axes, "int64", _extreme_row(cmp, True)))

    return lower


numba_funcify.register(Argmax)(_arg_reduce(">"))
numba_funcify.register(Argmin)(_arg_reduce("<"))


def _logic(init: str, upd: str) -> Callable[[AllTrue | AnyTrue, Apply], str]:
    def lower(op: AllTrue | AnyTrue, node: Apply) -> str:
        return reduce_source(node.inputs[0].ndim, op.axes, "bool", init,
                             lambda a, x: f"{a} {upd} ({x} != 0)", cast_input=False)

    return lower


numba_funcify.register(AllTrue)(_logic("True", "&"))
numba_funcify.register(AnyTrue)(_logic("False", "|"))

_LSE_ROW = [
    "m = -np.inf",
    "for c in range(C):",
    "    if y[r, c] > m:",
    "        m = y[r, c]",
    "shift = m if np.isfinite(m) else 0.0",
    "s = 0.0",
    "for c in range(C):",
    "    s += np.exp(y[r, c] - shift)",
]


@numba_funcify.register(LogSumExp)
def _(op: LogSumExp, node: Apply) -> str:
    x, dt = node.inputs[0], node.outputs[0].dtype
    if dt[0] == "c":
        raise NotLoweredError("logsumexp of complex numbers")
    return rows_reduce_source(x.ndim, op.axes, dt, [*_LSE_ROW, "res = np.log(s) + shift"],
                              in_dtype=dt)


@numba_funcify.register(Softmax)
def _(op: Softmax, node: Apply) -> str:
    x, dt = node.inputs[0], node.outputs[0].dtype
    t = ctor(dt)
    row = [*_LSE_ROW[:5], f"shift = {t}(shift)", f"s = {t}(0)",
           "for c in range(C):", f"    e = {t}(np.exp(y[r, c] - shift))",
           "    o[r, c] = e", "    s += e",
           "for c in range(C):", "    o[r, c] = o[r, c] / s"]
    return rows_map_source(x.ndim, op.axes, dt, row)


@numba_funcify.register(LogSoftmax)
def _(op: LogSoftmax, node: Apply) -> str:
    x, dt = node.inputs[0], node.outputs[0].dtype
    t = ctor(dt)
    # (y - shift) - log s, as the reference: y - (shift + log s) loses log s when y is
    # huge (log_softmax of [0, 2**64] gave 0 instead of -log 2 for the maximum)
    row = [*_LSE_ROW, f"ls = {t}(np.log(s))",
           "for c in range(C):", f"    o[r, c] = {t}(y[r, c] - shift) - ls"]
    return rows_map_source(x.ndim, op.axes, dt, row)


def _cumulative(init: str, upd: str) -> Callable[[Cumsum | Cumprod, Apply], str]:
    def lower(op: Cumsum | Cumprod, node: Apply) -> str:
        x, dt = node.inputs[0], node.outputs[0].dtype
        t = ctor(dt)
        order = "range(C - 1, -1, -1)" if op.reverse else "range(C)"
        row = [f"acc = {t}({init})", f"for c in {order}:",
               f"    acc = acc {upd} y[r, c]", "    o[r, c] = acc"]
        return rows_map_source(x.ndim, (op.axis,), dt, row)

    return lower


numba_funcify.register(Cumsum)(_cumulative("0", "+"))
numba_funcify.register(Cumprod)(_cumulative("1", "*"))
