"""``Sort`` and ``Argsort`` along one axis: the axis is moved last and each row is sorted
(``np.sort``, and the stable ``np.argsort(kind='mergesort')`` as the reference's
``kind='stable'``); NaN sorts last, as in NumPy."""

from __future__ import annotations

from gnomon.backends.numba.dispatch import numba_funcify, shape_tuple_text
from gnomon.backends.numba.reduce import rows_map_source
from gnomon.errors import NotLoweredError
from gnomon.graph.basic import Apply
from gnomon.tensor.sorting import Argsort, PermuteAlongAxis, SearchSorted, Sort


@numba_funcify.register(Sort)
def _(op: Sort, node: Apply) -> str:
    x = node.inputs[0]
    if x.dtype[0] == "c" or x.ndim == 0:
        raise NotLoweredError("sorting complex numbers")
    return rows_map_source(x.ndim, (op.axis,), node.outputs[0].dtype,
                           ["o[r, :] = np.sort(y[r])"])


@numba_funcify.register(Argsort)
def _(op: Argsort, node: Apply) -> str:
    x = node.inputs[0]
    if x.dtype[0] == "c" or x.ndim == 0:
        raise NotLoweredError("argsort of complex numbers")
    src = rows_map_source(x.ndim, (op.axis,), "int64",
                          ["o[r, :] = np.argsort(y[r], kind='mergesort')"])
    # the rows form casts x to the output dtype; argsort must see the original values
    return src.replace("x.astype(np.int64)", "x")


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
    inv = [perm.index(d) for d in range(nd)]
    pt = shape_tuple_text([str(d) for d in perm])
    it = shape_tuple_text([str(d) for d in inv])
    tshape = shape_tuple_text([f"x.shape[{d}]" for d in perm])
    r = " * ".join(f"x.shape[{d}]" for d in perm[:-1]) or "1"
    return ("def kernel(x, p):\n"
            "    if x.shape != p.shape:\n"
            "        raise ValueError('the permutation has another shape')\n"
            f"    y = np.ascontiguousarray(np.transpose(x, {pt})).reshape(({r}, "
            f"x.shape[{ax}]))\n"
            f"    q = np.ascontiguousarray(np.transpose(p, {pt})).reshape(({r}, "
            f"x.shape[{ax}]))\n"
            "    C = y.shape[1]\n"
            "    o = np.empty(y.shape, y.dtype)\n"
            "    for r in range(y.shape[0]):\n"
            "        for c in range(C):\n"
            "            j = q[r, c]\n"
            "            if j < -C or j >= C:\n"
            "                raise IndexError('index out of bounds')\n"
            "            o[r, c] = y[r, j + C if j < 0 else j]\n"
            f"    o = o.reshape({tshape})\n"
            f"    return (np.ascontiguousarray(np.transpose(o, {it})),)\n")
