"""``Alloc`` (``zeros``, ``ones``, ``full`` and their ``_like`` forms): a broadcast fill;
``Eye``; ``Arange`` and ``Linspace`` with run-time arguments, following NumPy's arithmetic."""

from __future__ import annotations

import numpy as np

from gnomon.backends.numba.dispatch import indent, numba_funcify, shape_tuple_text
from gnomon.backends.numba.scalar import ctor
from gnomon.errors import NotLoweredError
from gnomon.gradient import GradientModifier
from gnomon.graph.basic import Apply
from gnomon.tensor.basic import Alloc
from gnomon.tensor.creation import Arange, Eye, Linspace


@numba_funcify.register
def _(op: Alloc, node: Apply) -> str:
    v = node.inputs[0]
    nd = len(node.inputs) - 1
    vr = v.ndim
    off = nd - vr  # value dims are aligned to the right, like NumPy broadcasting
    dt = node.outputs[0].dtype
    args = ", ".join(["v"] + [f"s{d}" for d in range(nd)])
    body = [f"n{d} = s{d}[()]" for d in range(nd)]
    body += [f"if n{d} < 0:\n        raise ValueError('alloc: negative dimension')"
             for d in range(nd)]
    body.append(f"out = _empty({shape_tuple_text([f'n{d}' for d in range(nd)])}, {ctor(dt)})")
    for j in range(vr):
        d = j + off
        body += [f"if v.shape[{j}] != 1 and v.shape[{j}] != n{d}:",
                 "    raise ValueError('alloc: the value cannot be broadcast to the shape')",
                 f"m{j} = 1 if v.shape[{j}] == n{d} else 0"]
    loops = ["    " * d + f"for i{d} in range(n{d}):" for d in range(nd)]
    dst = ", ".join(f"i{d}" for d in range(nd)) or "()"
    src = ", ".join(f"i{j + off} * m{j}" for j in range(vr)) or "()"
    body += loops + ["    " * nd + f"out[{dst}] = {ctor(dt)}(v[{src}])", "return (out,)"]
    return f"def kernel({args}):\n" + "\n".join(indent(body, 1)) + "\n"


@numba_funcify.register(GradientModifier)
def _(op: GradientModifier, node: Apply) -> str:
    # identity forward (normally removed by rewriting); a copy, so it never aliases
    return "def kernel(x):\n    return (x.copy(),)\n"


@numba_funcify.register(Eye)
def _(op: Eye, node: Apply) -> str:
    t = ctor(op.dtype)
    return ("def kernel(n, m, k):\n"
            "    N = n[()]\n    M = m[()]\n    K = k[()]\n"
            "    if N < 0 or M < 0:\n"
            "        raise ValueError('eye: negative size')\n"
            f"    out = np.zeros((N, M), {t})\n"
            "    for i in range(N):\n"
            "        j = i + K\n"
            "        if j >= 0 and j < M:\n"
            f"            out[i, j] = {t}(1)\n"
            "    return (out,)\n")


def _real_out(dtype: str) -> None:
    if dtype[0] not in "iuf":
        raise NotLoweredError(f"arange/linspace of {dtype}")


@numba_funcify.register(Arange)
def _(op: Arange, node: Apply) -> str:
    # NumPy's own steps: the length is ceil((stop - start) / step) in the arguments' arithmetic;
    # out[0] = start and out[1] = start + step (cast to the dtype), then out[i] = out[0] +
    # i * (out[1] - out[0]) computed in the dtype (its `fill` loop), so values match bit for bit
    _real_out(op.dtype)
    t = ctor(op.dtype)
    return ("def kernel(start, stop, step):\n"
            "    a = start[()]\n    b = stop[()]\n    s = step[()]\n"
            "    if s == 0:\n        raise ValueError('arange: step is 0')\n"
            "    q = (b - a) / s\n"
            "    if q != q or q == np.inf or q == -np.inf:\n"
            "        raise ValueError('arange: the length is not finite')\n"
            "    n = int(math.ceil(q)) if q > 0 else 0\n"
            f"    out = np.empty(n, {t})\n"
            f"    if n > 0:\n        out[0] = {t}(a)\n"
            f"    if n > 1:\n        out[1] = {t}(a + s)\n"
            "    if n > 2:\n"
            "        first = out[0]\n        delta = out[1] - first\n"
            "        for i in range(2, n):\n"
            f"            out[i] = first + {t}(i) * delta\n"
            "    return (out,)\n")


@numba_funcify.register(Linspace)
def _(op: Linspace, node: Apply) -> str:
    # NumPy's steps (numpy.linspace): computed in the inexact result type of the end points,
    # y = i * (delta / div) (or i / div * delta when that step underflows to 0), plus start;
    # the end point exactly; floored for integer dtypes; then cast
    _real_out(op.dtype)
    a, b, _ = node.inputs
    ct = np.result_type(a.dtype, b.dtype)
    ct = ct if ct.kind == "f" else np.dtype("float64")
    c, t = ctor(ct.name), ctor(op.dtype)
    div = "num - 1" if op.endpoint else "num"
    floor = "math.floor(y)" if op.dtype[0] in "iu" else "y"
    return ("def kernel(start, stop, n):\n"
            "    num = n[()]\n"
            "    if num < 0:\n        raise ValueError('linspace: num < 0')\n"
            f"    div = {div}\n"
            f"    a = {c}(start[()])\n    delta = {c}(stop[()]) - a\n"
            f"    step = delta / {c}(div) if div > 0 else {c}(0)\n"
            f"    out = np.empty(num, {t})\n"
            "    for i in range(num):\n"
            "        if div <= 0:\n"
            f"            y = {c}(i) * delta\n"
            "        elif step == 0:\n"
            f"            y = {c}(i) / {c}(div) * delta\n"
            "        else:\n"
            f"            y = {c}(i) * step\n"
            "        y = y + a\n"
            + (f"        if i == num - 1 and num > 1:\n            y = {c}(stop[()])\n"
               if op.endpoint else "")
            + f"        out[i] = {t}({floor})\n"
            "    return (out,)\n")
