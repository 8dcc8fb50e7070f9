"""``Alloc`` (``zeros``, ``ones``, ``full`` and their ``_like`` forms): a broadcast fill."""

from __future__ import annotations

from gnomon.backends.numba.dispatch import indent, numba_funcify, shape_tuple_text
from gnomon.backends.numba.scalar import ctor
from gnomon.gradient import GradientModifier
from gnomon.graph.basic import Apply
from gnomon.tensor.basic import Alloc
from gnomon.tensor.creation import Eye


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
