"""``Sort`` and ``Argsort`` along one axis: the axis is moved last and each row is sorted by a
stable merge sort written out in the kernel (the reference's ``kind='stable'`` for argsort);
NaN sorts last, as in NumPy."""

from __future__ import annotations

from gnomon.backends.numba.dispatch import indent, numba_funcify, shape_tuple_text
from gnomon.backends.numba.reduce import permuted_loops, rows_map_source
from gnomon.backends.numba.scalar import ctor
from gnomon.errors import NotLoweredError
from gnomon.graph.basic import Apply
from gnomon.tensor.sorting import Argsort, PermuteAlongAxis, SearchSorted, Sort

#: runs of this many elements are insertion-sorted before the merge passes
_RUN = 16


def _merge_sort_row(float_order: bool, indices: bool) -> list[str]:
    """Statements sorting row ``r`` of ``y`` into ``o[r, :]``: a stable bottom-up merge sort
    (insertion-sorted runs of :data:`_RUN`, then merges that alternate between the buffers
    ``a`` and ``b``) of the values, or of their indices (``indices``: argsort).

    Written out rather than calling ``np.sort`` / ``np.argsort(kind='mergesort')``: typing
    Numba's sorts took ~2.6 s of CPU each the first time in a process (per dtype), and the
    row assignment ``o[r, :] = ...`` ~4 s more (its shape-mismatch message); this loop
    compiles in a fraction of that and runs at the same speed (docs/compile-time.md).
    NaN sorts last, as in NumPy (``float_order``).
    """
    def lt(u: str, v: str) -> str:  # u < v in NumPy's order (NaN after every number)
        return f"({u} < {v} or ({v} != {v} and {u} == {u}))" if float_order else f"{u} < {v}"

    def val(buf: str, k: str) -> str:
        return f"y[r, {buf}[{k}]]" if indices else f"{buf}[{k}]"

    return [
        f"for s in range(0, C, {_RUN}):",
        f"    e = min(s + {_RUN}, C)",
        "    for i in range(s, e):",
        "        j = i",
        "        v = y[r, i]",
        f"        while j > s and {lt('v', val('a', 'j - 1'))}:",
        "            a[j] = a[j - 1]",
        "            j -= 1",
        f"        a[j] = {'i' if indices else 'v'}",
        f"w = {_RUN}",
        "src = a",
        "dst = b",
        "while w < C:",
        "    for s in range(0, C, 2 * w):",
        "        m = min(s + w, C)",
        "        e = min(s + 2 * w, C)",
        "        i = s",
        "        j = m",
        "        for t in range(s, e):",
        f"            if j < e and (i >= m or {lt(val('src', 'j'), val('src', 'i'))}):",
        "                dst[t] = src[j]",
        "                j += 1",
        "            else:",
        "                dst[t] = src[i]",
        "                i += 1",
        "    src, dst = dst, src",
        "    w *= 2",
        "for c in range(C):",
        "    o[r, c] = src[c]",
    ]


@numba_funcify.register(Sort)
def _(op: Sort, node: Apply) -> str:
    x = node.inputs[0]
    if x.dtype[0] == "c" or x.ndim == 0:
        raise NotLoweredError("sorting complex numbers")
    dt = node.outputs[0].dtype
    return rows_map_source(x.ndim, (op.axis,), dt, _merge_sort_row(dt[0] == "f", False),
                           pre=[f"a = np.empty(C, {ctor(dt)})", f"b = np.empty(C, {ctor(dt)})"])


@numba_funcify.register(Argsort)
def _(op: Argsort, node: Apply) -> str:
    x = node.inputs[0]
    if x.dtype[0] == "c" or x.ndim == 0:
        raise NotLoweredError("argsort of complex numbers")
    # y keeps x's dtype: argsort compares the original values
    return rows_map_source(x.ndim, (op.axis,), "int64", _merge_sort_row(x.dtype[0] == "f", True),
                           in_dtype=None,
                           pre=["a = np.empty(C, np.int64)", "b = np.empty(C, np.int64)"])


@numba_funcify.register(SearchSorted)
def _(op: SearchSorted, node: Apply) -> str:
    # binary search with NumPy's order: NaN sorts after every number
    if op.side == "left":
        cond = "(a[mid] < x) or (x != x and a[mid] == a[mid])"
    else:
        cond = "not ((x < a[mid]) or (a[mid] != a[mid] and x == x))"
    return ("def kernel(a, v):\n"
            "    vf = np.ascontiguousarray(v).reshape(v.size)\n"
            "    res = np.empty(v.size, np.int64)\n"
            "    n = a.shape[0]\n"
            "    for k in range(v.size):\n"
            "        x = vf[k]\n"
            "        lo = 0\n        hi = n\n"
            "        while lo < hi:\n"
            "            mid = (lo + hi) // 2\n"
            f"            if {cond}:\n"
            "                lo = mid + 1\n"
            "            else:\n"
            "                hi = mid\n"
            "        res[k] = lo\n"
            "    return (res.reshape(v.shape),)\n")


@numba_funcify.register(PermuteAlongAxis)
def _(op: PermuteAlongAxis, node: Apply) -> str:
    x = node.inputs[0]
    nd = x.ndim
    if nd == 0:
        raise NotLoweredError("0-d permutation")
    ax = op.axis
    perm = [d for d in range(nd) if d != ax] + [ax]
    ix = ", ".join(f"i{d}" for d in range(nd))
    shp = shape_tuple_text([f"x.shape[{d}]" for d in range(nd)])
    n = " * ".join(f"x.shape[{d}]" for d in range(nd))
    r = " * ".join(f"x.shape[{d}]" for d in perm[:-1]) or "1"
    # rows of x and of the permutation with the axis last: copies in that order
    # (explicit loops, see reduce.permuted_loops), and the result back in x's order
    body = ["if x.shape != pm.shape:",
            "    raise ValueError('the permutation has another shape')",
            f"yf = np.empty({n}, x.dtype)", f"qf = np.empty({n}, pm.dtype)",
            *permuted_loops(nd, perm, f"yf[p] = x[{ix}]"),
            *permuted_loops(nd, perm, f"qf[p] = pm[{ix}]"),
            f"y = yf.reshape(({r}, x.shape[{ax}]))",
            f"q = qf.reshape(({r}, x.shape[{ax}]))",
            "C = y.shape[1]",
            "o = np.empty(y.shape, y.dtype)",
            "for r in range(y.shape[0]):",
            "    for c in range(C):",
            "        j = q[r, c]",
            "        if j < -C or j >= C:",
            "            raise IndexError('index out of bounds')",
            "        o[r, c] = y[r, j + C if j < 0 else j]",
            f"of = o.reshape({n})",
            f"out = np.empty({shp}, x.dtype)",
            *permuted_loops(nd, perm, f"out[{ix}] = of[p]"),
            "return (out,)"]
    return "def kernel(x, pm):\n" + "\n".join(indent(body, 1)) + "\n"
