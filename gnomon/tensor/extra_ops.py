"""PyTensor's ``pytensor.tensor.extra_ops`` module path: more NumPy functions.

``diff``, ``bincount``, ``unique``, ``compress``, ``fill_diagonal``, ``unravel_index``,
``ravel_multi_index``, ``broadcast_arrays``, ``geomspace``, ``logspace`` ... are built from
gnomon's ops (so they differentiate and run on every backend like those ops); ``cumsum``,
``cumprod``, ``searchsorted``, ``squeeze``, ``repeat``, ``broadcast_to`` and ``linspace`` are
gnomon's own. ``bincount`` compares every value with every bin (memory ``len(x) * bins``), for
the moderate sizes of counts in models. ``unique`` flattens (no ``axis=``).

Examples
--------
>>> import numpy as np
>>> from gnomon.tensor import extra_ops
>>> extra_ops.diff(np.array([1.0, 4.0, 9.0])).eval().tolist()
[3.0, 5.0]
>>> extra_ops.bincount(np.array([0, 2, 2])).eval().tolist()
[1, 0, 2]
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from gnomon.errors import GnomonTypeError, GnomonValueError, at_user_line, with_hint
from gnomon.graph.basic import Variable
from gnomon.tensor import basic as tb
from gnomon.tensor import creation, indexing, reduce, shapes, sorting
from gnomon.tensor import math as tm
from gnomon.tensor.basic import as_tensor
from gnomon.tensor.creation import linspace
from gnomon.tensor.reduce import cumprod, cumsum
from gnomon.tensor.shapes import broadcast_to, repeat, squeeze
from gnomon.tensor.sorting import searchsorted

__all__ = [
    "bartlett", "bincount", "broadcast_arrays", "broadcast_shape", "broadcast_to", "compress",
    "cumprod", "cumsum", "diff", "fill_diagonal", "fill_diagonal_offset", "geomspace",
    "linspace", "logspace", "ravel_multi_index", "repeat", "searchsorted", "squeeze", "unique",
    "unravel_index",
]


def diff(x: Any, n: int = 1, axis: int = -1) -> Variable:
    """The ``n``-th discrete difference along ``axis`` (``numpy.diff``)."""
    x = as_tensor(x)
    axis = axis % x.ndim
    for _ in range(n):
        hi = [slice(None)] * x.ndim
        lo = [slice(None)] * x.ndim
        hi[axis], lo[axis] = slice(1, None), slice(None, -1)
        x = tm.sub(indexing.getitem(x, tuple(hi)), indexing.getitem(x, tuple(lo)))
    return x


def bincount(x: Any, weights: Any = None, minlength: int | None = None,
             assert_nonneg: bool = False) -> Variable:
    """Count the occurrences of each value in the non-negative int vector ``x``
    (``numpy.bincount``); with ``weights``, sum the weights instead. The length is
    ``max(max(x) + 1, minlength)``.

    Examples
    --------
    >>> import numpy as np
    >>> bincount(np.array([1, 1, 3]), weights=np.array([0.5, 1.0, 2.0])).eval().tolist()
    [0.0, 1.5, 0.0, 2.0]
    """
    x = as_tensor(x)
    if x.ndim != 1 or not x.dtype.startswith(("int", "uint")):
        raise GnomonTypeError(with_hint(
            f"bincount takes a vector of integers, got {x.type}{at_user_line()}",
            "cast the values: x.astype('int64')"))
    # max(x) + 1 bins; the -1 appended makes an empty x give 0 bins instead of failing
    n = tm.add(reduce.max(shapes.concatenate([x, tb.constant([-1], x.dtype)])), 1)
    if minlength is not None:
        n = tm.maximum(n, int(minlength))
    bins = creation.arange(n, dtype=x.dtype)
    hits = tm.eq(shapes.expand_dims(x, 1), shapes.expand_dims(bins, 0))
    if weights is None:
        return reduce.sum(tb.cast(hits, "int64"), axis=0)
    w = as_tensor(weights)
    return reduce.sum(tm.where(hits, shapes.expand_dims(w, 1), tb.zeros((), w.dtype)), axis=0)


def compress(condition: Any, x: Any, axis: int | None = None) -> Variable:
    """The entries of ``x`` along ``axis`` where ``condition`` is true (``numpy.compress``;
    the flattened ``x`` when ``axis`` is ``None``)."""
    x = as_tensor(x)
    idx = indexing.nonzero(shapes.flatten(as_tensor(condition), 1))[0]
    if axis is None:
        return indexing.take(shapes.flatten(x, 1), idx)
    return indexing.take(x, idx, axis=axis)


def bartlett(M: Any) -> Variable:
    """The Bartlett (triangular) window of ``M`` points (``numpy.bartlett``)."""
    M = as_tensor(M)
    n = creation.arange(M, dtype="float64")
    half = tm.true_divide(tm.sub(M, 1), 2.0)
    w = tm.sub(1.0, tm.abs(tm.true_divide(tm.sub(n, half), tm.maximum(half, 1e-300))))
    return tm.where(tm.le(M, 1), tb.ones_like(n), w)


def fill_diagonal(a: Any, val: Any) -> Variable:
    """``a`` with its main diagonal set to ``val`` (a new array; ``numpy.fill_diagonal`` works
    in place). 2-d arrays; ``val`` a scalar or a vector as long as the diagonal."""
    return fill_diagonal_offset(a, val, 0)


def fill_diagonal_offset(a: Any, val: Any, offset: int) -> Variable:
    """``a`` with its ``offset``-th diagonal set to ``val`` (2-d arrays)."""
    a = as_tensor(a)
    if a.ndim != 2:
        raise GnomonValueError(f"fill_diagonal takes a matrix, got {a.type}{at_user_line()}")
    k = int(offset)
    n, m = shapes.shape_i(a, 0), shapes.shape_i(a, 1)
    length = tm.maximum(tm.minimum(tm.sub(n, max(-k, 0)), tm.sub(m, max(k, 0))), 0)
    i = creation.arange(length)
    target = indexing.getitem(a, (tm.add(i, max(-k, 0)), tm.add(i, max(k, 0))))
    return indexing.set_subtensor(target, tb.cast(as_tensor(val), a.dtype))


def unravel_index(indices: Any, dims: Sequence[Any], order: str = "C") -> tuple[Variable, ...]:
    """Flat indices to index arrays for an array of shape ``dims`` (``numpy.unravel_index``).

    Examples
    --------
    >>> import numpy as np
    >>> [v.eval().tolist() for v in unravel_index(np.array([5, 7]), (3, 4))]
    [[1, 1], [1, 3]]
    """
    if order not in ("C", "F"):
        raise GnomonValueError(f"unravel_index: order must be 'C' or 'F'{at_user_line()}")
    idx = as_tensor(indices)
    out: list[Variable] = []
    seq = list(dims) if order == "C" else list(dims)[::-1]
    for d in reversed(seq):
        out.append(tm.mod(idx, d))
        idx = tm.floor_divide(idx, d)
    out.reverse()
    return tuple(out if order == "C" else out[::-1])


def ravel_multi_index(multi_index: Sequence[Any], dims: Sequence[Any], mode: str = "raise",
                      order: str = "C") -> Variable:
    """Index arrays to flat indices into an array of shape ``dims``
    (``numpy.ravel_multi_index``; ``mode='raise'`` does not check bounds, ``'wrap'`` and
    ``'clip'`` are applied).

    Examples
    --------
    >>> import numpy as np
    >>> ravel_multi_index((np.array([1, 1]), np.array([1, 3])), (3, 4)).eval().tolist()
    [5, 7]
    """
    if order not in ("C", "F"):
        raise GnomonValueError(f"ravel_multi_index: order must be 'C' or 'F'{at_user_line()}")
    idx = [as_tensor(i) for i in multi_index]
    ds = list(dims)
    if len(idx) != len(ds):
        raise GnomonValueError(f"ravel_multi_index: {len(idx)} index arrays for {len(ds)} "
                               f"dimensions{at_user_line()}")
    if mode == "wrap":
        idx = [tm.mod(i, d) for i, d in zip(idx, ds, strict=True)]
    elif mode == "clip":
        idx = [tm.clip(i, 0, tm.sub(d, 1)) for i, d in zip(idx, ds, strict=True)]
    if order == "F":
        idx, ds = idx[::-1], ds[::-1]
    flat: Any = idx[0]
    for i, d in zip(idx[1:], ds[1:], strict=True):
        flat = tm.add(tm.mul(flat, d), i)
    return flat


def broadcast_shape(*arrays: Any, arrays_are_shapes: bool = False) -> tuple[Variable, ...]:
    """The shape the arrays broadcast to, as a tuple of int64 scalars."""
    if arrays_are_shapes:
        arrays = tuple(tb.zeros(s, "int8") for s in arrays)
    total: Any = tb.zeros((), "int8")
    for a in arrays:
        total = tm.add(total, tb.zeros_like(as_tensor(a), "int8"))
    return shapes.shape_tuple(total)


def broadcast_arrays(*args: Any) -> list[Variable]:
    """The arrays broadcast against each other (``numpy.broadcast_arrays``)."""
    shape = shapes.stack(list(broadcast_shape(*args))) if args else None
    out = []
    for a in args:
        a = as_tensor(a)
        out.append(broadcast_to(a, shape) if a.ndim or shape is not None else a)
    return out


def logspace(start: Any, stop: Any, num: int = 50, base: float = 10.0,
             endpoint: bool = True) -> Variable:
    """``base ** linspace(start, stop, num)`` (``numpy.logspace``)."""
    return tm.power(base, linspace(start, stop, num, endpoint=endpoint))


def geomspace(start: Any, stop: Any, num: int = 50, endpoint: bool = True) -> Variable:
    """Numbers spaced evenly on a log scale from ``start`` to ``stop`` (positive;
    ``numpy.geomspace``)."""
    start, stop = as_tensor(start), as_tensor(stop)
    return tm.exp(linspace(tm.log(start), tm.log(stop), num, endpoint=endpoint))


def unique(ar: Any, return_index: bool = False, return_inverse: bool = False,
           return_counts: bool = False, axis: int | None = None) -> Any:
    """The sorted unique values of the flattened ``ar``, and optionally the index of each one's
    first occurrence, the inverse indices and the counts (``numpy.unique``).

    Examples
    --------
    >>> import numpy as np
    >>> u, c = unique(np.array([3, 1, 3, 2, 3]), return_counts=True)
    >>> u.eval().tolist(), c.eval().tolist()
    ([1, 2, 3], [1, 1, 3])
    """
    if axis is not None:
        raise GnomonValueError(with_hint(
            f"unique(axis={axis}) is not supported{at_user_line()}",
            "unique works on the flattened array"))
    flat = shapes.flatten(as_tensor(ar), 1)
    perm = sorting.argsort(flat)  # stable: the first occurrence of each value comes first
    s = indexing.take(flat, perm)
    n = shapes.shape_i(s, 0)
    first = shapes.concatenate([tb.ones((1,), "bool"), tm.neq(diff(s), tb.zeros((), s.dtype))])
    first = indexing.getitem(first, slice(0, n))  # an empty input has no first element
    starts = indexing.nonzero(first)[0]
    uniq = indexing.take(s, starts)
    out: list[Variable] = [uniq]
    if return_index:
        out.append(indexing.take(perm, starts))
    if return_inverse:
        out.append(searchsorted(uniq, flat))
    if return_counts:
        ends = shapes.concatenate([indexing.getitem(starts, slice(1, None)),
                                   shapes.expand_dims(n, 0)])
        out.append(tm.sub(ends, starts))
    return out[0] if len(out) == 1 else tuple(out)

