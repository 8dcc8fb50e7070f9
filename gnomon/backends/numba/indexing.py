"""Basic indexing (``Subtensor``: ints, slices, new axes) as a strided view.

Integer indices are bounds-checked explicitly (Numba does not check), so an out-of-range
index fails like it does in the reference. Advanced indexing and its increment are lowered for
one integer array on the first axis (``x[idx]``, ``x[idx, :]``: indexing parameters by group,
and its gradient); other advanced indices and ``Nonzero`` run with the NumPy ``perform`` (see
``docs/backends.md``).
"""

from __future__ import annotations

from collections.abc import Sequence

from gnomon.backends.numba.dispatch import indent, numba_funcify, shape_tuple_text
from gnomon.backends.numba.scalar import ctor
from gnomon.errors import NotLoweredError
from gnomon.graph.basic import Apply
from gnomon.tensor.indexing import (
    INPUT,
    AdvancedIncSubtensor,
    AdvancedSubtensor,
    IncSubtensor,
    NewAxis,
    Nonzero,
    SliceIndex,
    Subtensor,
)


def build_key(
    op: Subtensor | IncSubtensor, ndyn: int, first_dyn: int = 0
) -> tuple[list[str], str]:
    """Statements and the index text for ``op.idx_list`` applied to ``x``."""
    body: list[str] = []
    key: list[str] = []
    j = first_dyn
    dim = 0

    def part(p: object) -> str:
        nonlocal j
        if p is None:
            return ""
        if p is INPUT:
            j += 1
            return f"d{j - 1}[()]"
        return str(int(p))  # type: ignore[call-overload]

    for e in op.idx_list:
        if isinstance(e, NewAxis):
            key.append("None")
        elif isinstance(e, SliceIndex):
            s = [part(p) for p in e.parts()]
            if s[2] == "0":
                raise NotLoweredError("slice step 0")
            key.append(f"{s[0]}:{s[1]}" + (f":{s[2]}" if s[2] else ""))
            dim += 1
        elif e is INPUT or isinstance(e, int):
            v = part(e)
            name = f"k{dim}"
            body += [f"{name} = {v}",
                     f"if {name} < -x.shape[{dim}] or {name} >= x.shape[{dim}]:",
                     "    raise IndexError('index out of bounds')"]
            key.append(name)
            dim += 1
        else:
            raise NotLoweredError(f"index entry {e}")
    if j != first_dyn + ndyn:
        raise NotLoweredError("unexpected dynamic inputs")
    # An empty index is the whole array: Numba has no x[...] for n-d arrays, but x[:] works.
    return body, (", ".join(key) if key else "__whole__")


@numba_funcify.register(Subtensor)
def _(op: Subtensor, node: Apply) -> str:
    x = node.inputs[0]
    ndyn = len(node.inputs) - 1
    body, k = build_key(op, ndyn)
    if k == "__whole__":
        k = ":" if x.ndim else "()"
    if node.outputs[0].ndim == 0:
        body += [f"out = np.empty((), {ctor(x.dtype)})", f"out[()] = x[{k}]",
                 "return (out,)"]
    else:
        body.append(f"return (x[{k}],)")
    args = ", ".join(["x"] + [f"d{i}" for i in range(ndyn)])
    return f"def kernel({args}):\n" + "\n".join(indent(body, 1)) + "\n"


def _first_axis_gather(op: AdvancedSubtensor | AdvancedIncSubtensor, x: object,
                       dyn: Sequence[object]) -> None:
    """Refuse (NotLoweredError) every index but ``x[int_array, :, ...]``."""
    idx = op.idx_list
    if not (len(dyn) == 1 and idx and idx[0] is INPUT and dyn[0].ndim >= 1  # type: ignore[attr-defined]
            and dyn[0].dtype[0] in "iu" and x.ndim >= 1  # type: ignore[attr-defined]
            and all(isinstance(e, SliceIndex) and e.is_full for e in idx[1:])):
        raise NotLoweredError("general advanced indexing")


@numba_funcify.register(AdvancedSubtensor)
def _(op: AdvancedSubtensor, node: Apply) -> str:
    # only x[int_array, :, ...]: a gather along the first axis (the common case of
    # indexing parameters by group); everything else runs with the NumPy perform
    x, *dyn = node.inputs
    _first_axis_gather(op, x, dyn)
    rest = " * ".join(f"x.shape[{d}]" for d in range(1, x.ndim)) or "1"
    oshape = shape_tuple_text([f"d0.shape[{i}]" for i in range(dyn[0].ndim)]
                              + [f"x.shape[{d}]" for d in range(1, x.ndim)])
    return ("def kernel(x, d0):\n"
            "    n = x.shape[0]\n"
            f"    m = {rest}\n"
            "    fi = np.ascontiguousarray(d0).reshape(d0.size)\n"
            "    xr = np.ascontiguousarray(x).reshape((n, m))\n"
            f"    o = np.empty((d0.size, m), {ctor(x.dtype)})\n"
            "    for k in range(d0.size):\n"
            "        j = fi[k]\n"
            "        if j < -n or j >= n:\n"
            "            raise IndexError('index out of bounds')\n"
            "        if j < 0:\n"
            "            j += n\n"
            "        for c in range(m):\n"
            "            o[k, c] = xr[j, c]\n"
            f"    return (o.reshape({oshape}),)\n")


@numba_funcify.register(IncSubtensor)
def _(op: IncSubtensor, node: Apply) -> str:
    x, y = node.inputs[:2]
    ndyn = len(node.inputs) - 2
    body, k = build_key(op, ndyn)
    if k == "__whole__":
        k = ":" if x.ndim else "()"
    t = ctor(x.dtype)
    # rank of the indexed region: what x[key] would have
    r = sum(1 for e in op.idx_list if isinstance(e, SliceIndex | NewAxis)) + (
        x.ndim - sum(1 for e in op.idx_list if not isinstance(e, NewAxis)))
    if y.ndim > r:
        raise NotLoweredError("value of higher rank than the indexed region")
    body.insert(0, "out = x.copy()")
    upd = "=" if op.set_instead_of_inc else "+="
    if r == 0:
        body.append(f"out[{k}] {upd} {t}(y[()])")
    else:
        body.append(f"v = out[{k}]")
        off = r - y.ndim
        for jj in range(y.ndim):
            d = jj + off
            body += [f"if y.shape[{jj}] != 1 and y.shape[{jj}] != v.shape[{d}]:",
                     "    raise ValueError('the value cannot be broadcast to the region')",
                     f"m{jj} = 1 if y.shape[{jj}] == v.shape[{d}] else 0"]
        loops = ["    " * d + f"for i{d} in range(v.shape[{d}]):" for d in range(r)]
        dst = ", ".join(f"i{d}" for d in range(r))
        src = ", ".join(f"i{jj + off} * m{jj}" for jj in range(y.ndim)) or "()"
        body += loops + ["    " * r + f"v[{dst}] {upd} {t}(y[{src}])"]
    body.append("return (out,)")
    args = ", ".join(["x", "y"] + [f"d{i}" for i in range(ndyn)])
    return f"def kernel({args}):\n" + "\n".join(indent(body, 1)) + "\n"


@numba_funcify.register(AdvancedIncSubtensor)
def _(op: AdvancedIncSubtensor, node: Apply) -> str:
    # x[int_array, :, ...] += y (or = y): the scatter that is the gradient of the gather
    # above. Repeated indices accumulate (np.add.at) or keep the last value (NumPy's set).
    x, y, *dyn = node.inputs
    _first_axis_gather(op, x, dyn)
    region = dyn[0].ndim + x.ndim - 1
    if y.ndim > region:
        raise NotLoweredError("value of higher rank than the indexed region")
    rshape = shape_tuple_text([f"d0.shape[{i}]" for i in range(dyn[0].ndim)]
                              + [f"x.shape[{d}]" for d in range(1, x.ndim)])
    rest = " * ".join(f"x.shape[{d}]" for d in range(1, x.ndim)) or "1"
    t = ctor(x.dtype)
    upd = "=" if op.set_instead_of_inc else "+="
    checks = []
    for jj in range(y.ndim):
        d = jj + region - y.ndim
        checks += [f"    if y.shape[{jj}] != 1 and y.shape[{jj}] != rs[{d}]:",
                   "        raise ValueError('shape mismatch: value array cannot be broadcast "
                   "to the indexing result')"]
    return ("def kernel(x, y, d0):\n"
            "    n = x.shape[0]\n"
            f"    m = {rest}\n"
            f"    rs = {rshape}\n"
            + "\n".join(checks) + ("\n" if checks else "") +
            "    yr = np.ascontiguousarray(np.broadcast_to(y, rs)).reshape((d0.size, m))\n"
            "    fi = np.ascontiguousarray(d0).reshape(d0.size)\n"
            "    out = np.ascontiguousarray(x).copy()\n"
            "    o = out.reshape((n, m))\n"
            "    for k in range(d0.size):\n"
            "        j = fi[k]\n"
            "        if j < -n or j >= n:\n"
            "            raise IndexError('index out of bounds')\n"
            "        if j < 0:\n"
            "            j += n\n"
            "        for c in range(m):\n"
            f"            o[j, c] {upd} {t}(yr[k, c])\n"
            "    return (out,)\n")


@numba_funcify.register(Nonzero)
def _(op: Nonzero, node: Apply) -> str:
    # two passes in C order, as np.nonzero: count, then write the indices
    nd = node.inputs[0].ndim
    ix = ", ".join(f"i{d}" for d in range(nd))
    test = f"x[{ix}]" if node.inputs[0].dtype == "bool" else f"x[{ix}] != 0"
    loops = ["    " * d + f"for i{d} in range(x.shape[{d}]):" for d in range(nd)]
    pad = "    " * nd
    body = ["cnt = 0", *loops, f"{pad}if {test}:", f"{pad}    cnt += 1",
            *[f"o{d} = np.empty(cnt, np.int64)" for d in range(nd)], "c = 0", *loops,
            f"{pad}if {test}:", *[f"{pad}    o{d}[c] = i{d}" for d in range(nd)],
            f"{pad}    c += 1", "return (" + "".join(f"o{d}, " for d in range(nd)) + ")"]
    return "def kernel(x):\n" + "\n".join(indent(body, 1)) + "\n"
