"""More array functions under PyTensor's (and NumPy's) names, built from gnomon's ops.

PyTensor code calls these from ``pytensor.tensor`` (``pt.roll``, ``pt.tril``, ``pt.sqr``,
``pt.dmatrices``, ``pt.specify_shape`` ...); ``gnomon.tensor`` re-exports them. All but
:class:`SpecifyShape` are compositions of existing ops, so they differentiate and run on every
backend like the ops they are built from.

Examples
--------
>>> import numpy as np
>>> import gnomon.tensor as gt
>>> x, y = gt.dmatrices("x", "y")
>>> gt.roll(gt.arange(4), 1).eval().tolist()
[3, 0, 1, 2]
>>> gt.tril(np.ones((2, 2))).eval().tolist()
[[1.0, 0.0], [1.0, 1.0]]
"""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from dataclasses import dataclass
from functools import reduce as _reduce
from typing import Any, ClassVar

import numpy as np

from gnomon.errors import GnomonTypeError, GnomonValueError, at_user_line, with_hint
from gnomon.graph.basic import Apply, Constant, Variable
from gnomon.graph.op import Op
from gnomon.tensor import basic as tb
from gnomon.tensor import blas, creation, indexing, linalg, reduce, shapes, sorting
from gnomon.tensor import math as tm
from gnomon.tensor import special as tsp
from gnomon.tensor.basic import DTYPE_PREFIX, TypeConstructor, as_tensor, type_constructor
from gnomon.tensor.type import TensorType

__all__ = [
    # constants
    "pi", "e", "inf", "nan", "euler_gamma",
    # type constructors (more ranks, rows and columns, several at once)
    "tensor5", "tensor6", "tensor7", "row", "col",
    "scalars", "vectors", "matrices", "rows", "cols", "tensor3s", "tensor4s",
    # math
    "sqr", "sgn", "true_div", "int_div", "floor_div", "ceil_intdiv", "deg2rad", "rad2deg",
    "isposinf", "isneginf", "isclose", "allclose", "iround", "round_half_to_even",
    "round_half_away_from_zero", "ptp", "median", "cov", "max_and_argmax", "smallest",
    "largest", "erfcinv", "tri_gamma", "chi2sf", "gammau", "gammal", "dense_dot", "divmod",
    "complex", "complex_from_polar", "nan_to_num",
    # arrays
    "take_along_axis", "stacklists", "diag", "diagonal", "extract_diag", "trace", "tril", "triu",
    "tri", "tril_indices", "triu_indices", "tril_indices_from", "triu_indices_from", "roll",
    "horizontal_stack", "vertical_stack", "flatnonzero", "nonzero_values", "fill", "second",
    "identity_like", "tensor_copy", "empty", "empty_like", "inverse_permutation",
    "get_vector_length", "get_underlying_scalar_constant_value", "shape_padleft",
    "shape_padright", "shape_padaxis", "SpecifyShape", "specify_shape", "specify_broadcastable",
    "batched_dot",
]

pi = np.pi
e = np.e
inf = np.inf
nan = np.nan
euler_gamma = np.euler_gamma


# --- type constructors ------------------------------------------------------------------------

_RANK_KINDS = {5: "tensor5", 6: "tensor6", 7: "tensor7"}
_PREFIXES = {dtype: p for p, dtype in DTYPE_PREFIX.items()}


def _make_constructors() -> dict[str, TypeConstructor]:
    out: dict[str, TypeConstructor] = {}
    for dtype in (None, *DTYPE_PREFIX.values()):
        p = "" if dtype is None else _PREFIXES[dtype]
        for ndim, kind in _RANK_KINDS.items():
            out[p + kind] = type_constructor(p + kind, dtype, (None,) * ndim, kind, __name__)
        out[p + "row"] = type_constructor(p + "row", dtype, (1, None), "row (1 x n matrix)",
                                          __name__)
        out[p + "col"] = type_constructor(p + "col", dtype, (None, 1),
                                          "column (n x 1 matrix)", __name__)
    return out


_CONSTRUCTORS = _make_constructors()
globals().update(_CONSTRUCTORS)
tensor5: TypeConstructor = _CONSTRUCTORS["tensor5"]
tensor6: TypeConstructor = _CONSTRUCTORS["tensor6"]
tensor7: TypeConstructor = _CONSTRUCTORS["tensor7"]
row: TypeConstructor = _CONSTRUCTORS["row"]
col: TypeConstructor = _CONSTRUCTORS["col"]


def _several(one: Any) -> Any:
    """The plural constructor of ``one`` (``dscalars`` of ``dscalar``), as in PyTensor."""

    def make(*names: Any, dtype: Any = None) -> Any:
        kw = {} if dtype is None else {"dtype": dtype}
        if len(names) == 1 and isinstance(names[0], int) and not isinstance(names[0], bool):
            return [one(**kw) for _ in range(names[0])]
        if len(names) == 1:
            names = names[0]  # PyTensor: one string of several letters names one input each
            if len(names) == 1:
                return one(names, **kw)
        return [one(n, **kw) for n in names]

    name = _plural_name(one.__name__)
    make.__name__ = make.__qualname__ = name
    make.__doc__ = (
        f"Several :func:`{one.__name__}` inputs at once: ``a, b = {name}('a', 'b')``.\n\n"
        f"One name gives one variable; an int ``n`` gives ``n`` unnamed ones. As in PyTensor, a "
        f"single string of several characters names one input per character "
        f"(``{name}('xy')`` is ``{name}('x', 'y')``)."
    )
    return make


def _plural_name(single: str) -> str:
    return single[:-2] + "ices" if single.endswith("matrix") else single + "s"


_PLURALS: dict[str, Any] = {}
for _dtype in (None, *DTYPE_PREFIX.values()):
    _p = "" if _dtype is None else _PREFIXES[_dtype]
    for _kind in ("scalar", "vector", "matrix", "row", "col", "tensor3", "tensor4"):
        _one = getattr(tb, _p + _kind, None) or _CONSTRUCTORS[_p + _kind]
        _f = _several(_one)
        _f.__name__ = _f.__qualname__ = _plural_name(_p + _kind)
        _PLURALS[_f.__name__] = _f
globals().update(_PLURALS)
__all__ += [n for n in _CONSTRUCTORS if n not in __all__]
__all__ += [n for n in _PLURALS if n not in __all__]
scalars = _PLURALS["scalars"]
vectors = _PLURALS["vectors"]
matrices = _PLURALS["matrices"]
rows = _PLURALS["rows"]
cols = _PLURALS["cols"]
tensor3s = _PLURALS["tensor3s"]
tensor4s = _PLURALS["tensor4s"]


# --- math -------------------------------------------------------------------------------------

sqr = tm.square
sgn = tm.sign
true_div = tm.true_divide
floor_div = tm.floor_divide
dense_dot = blas.dot


def int_div(a: Any, b: Any) -> Variable:
    """Integer division rounding toward minus infinity, PyTensor's name for ``a // b``.

    Examples
    --------
    >>> import gnomon.tensor as gt
    >>> gt.int_div(gt.constant([7, -7]), 2).eval().tolist()
    [3, -4]
    """
    return tm.floor_divide(a, b)


def ceil_intdiv(a: Any, b: Any) -> Variable:
    """``ceil(a / b)`` for integers, without going through floats.

    Examples
    --------
    >>> import gnomon.tensor as gt
    >>> gt.ceil_intdiv(gt.constant([7, 8, -7]), 2).eval().tolist()
    [4, 4, -3]
    """
    a, b = as_tensor(a), as_tensor(b)
    q = tm.floor_divide(a, b)
    return tm.add(q, tb.cast(tm.neq(tm.mod(a, b), 0), q.dtype))


def deg2rad(x: Any) -> Variable:
    """Degrees to radians (``x * pi / 180``)."""
    return tm.mul(x, np.pi / 180.0)


def rad2deg(x: Any) -> Variable:
    """Radians to degrees (``x * 180 / pi``)."""
    return tm.mul(x, 180.0 / np.pi)


def isposinf(x: Any) -> Variable:
    """Where ``x`` is ``+inf``."""
    x = as_tensor(x)
    return tm.and_(tm.isinf(x), tm.gt(x, 0))


def isneginf(x: Any) -> Variable:
    """Where ``x`` is ``-inf``."""
    x = as_tensor(x)
    return tm.and_(tm.isinf(x), tm.lt(x, 0))


def isclose(a: Any, b: Any, rtol: float = 1e-5, atol: float = 1e-8,
            equal_nan: bool = False) -> Variable:
    """Elementwise ``|a - b| <= atol + rtol * |b|`` (``numpy.isclose``), infinities equal when
    they have the same sign.

    Examples
    --------
    >>> import gnomon.tensor as gt
    >>> gt.isclose(gt.constant([1.0, 2.0]), gt.constant([1.0 + 1e-9, 2.1])).eval().tolist()
    [True, False]
    """
    a, b = as_tensor(a), as_tensor(b)
    close = tm.le(tm.abs(tm.sub(a, b)), tm.add(atol, tm.mul(rtol, tm.abs(b))))
    both_inf = tm.and_(tm.and_(tm.isinf(a), tm.isinf(b)), tm.eq(a, b))
    out = tm.or_(tm.and_(close, tm.isfinite(tm.sub(a, b))), both_inf)
    if equal_nan:
        out = tm.or_(out, tm.and_(tm.isnan(a), tm.isnan(b)))
    return out


def allclose(a: Any, b: Any, rtol: float = 1e-5, atol: float = 1e-8,
             equal_nan: bool = False) -> Variable:
    """Whether :func:`isclose` holds everywhere (a boolean scalar)."""
    return reduce.all(isclose(a, b, rtol, atol, equal_nan))


def iround(x: Any, mode: str | None = None) -> Variable:
    """Round half to even and cast to int64 (PyTensor's ``iround``)."""
    r = round_half_to_even(x) if mode in (None, "half_to_even") else \
        round_half_away_from_zero(x)
    return tb.cast(r, "int64")


def round_half_to_even(x: Any) -> Variable:
    """Round to the nearest integer, halves to the even one (NumPy's ``round``)."""
    return tm.round(x)


def round_half_away_from_zero(x: Any) -> Variable:
    """Round to the nearest integer, halves away from zero (``2.5 -> 3``, ``-2.5 -> -3``).

    Examples
    --------
    >>> import gnomon.tensor as gt
    >>> gt.round_half_away_from_zero(gt.constant([2.5, -2.5, 1.2])).eval().tolist()
    [3.0, -3.0, 1.0]
    """
    x = as_tensor(x)
    return tm.mul(tm.sign(x), tm.floor(tm.add(tm.abs(x), 0.5)))


def ptp(x: Any, axis: Any = None, keepdims: bool = False) -> Variable:
    """Range of values (maximum - minimum) along ``axis``."""
    return tm.sub(reduce.max(x, axis, keepdims), reduce.min(x, axis, keepdims))


def median(x: Any, axis: int | Sequence[int] | None = None) -> Variable:
    """The median along ``axis`` (all elements when ``None``), like ``numpy.median``.

    Examples
    --------
    >>> import gnomon.tensor as gt
    >>> float(gt.median(gt.constant([3.0, 1.0, 4.0, 2.0])).eval())
    2.5
    """
    x = as_tensor(x)
    if axis is None:
        x, axis = shapes.flatten(x, 1), 0
    elif not isinstance(axis, int):
        axes = [a % x.ndim for a in axis]
        rest = [d for d in range(x.ndim) if d not in axes]
        x = shapes.transpose(x, [*rest, *axes])
        x = shapes.reshape(x, [*(shapes.shape_i(x, d) for d in range(len(rest))), -1])
        axis = len(rest)
    ax = int(axis) % x.ndim
    s = sorting.sort(x, axis=ax)
    n = shapes.shape_i(s, ax)
    lo = indexing.take(s, tm.floor_divide(tm.sub(n, 1), 2), axis=ax)
    hi = indexing.take(s, tm.floor_divide(n, 2), axis=ax)
    return tm.true_divide(tm.add(lo, hi), 2)


def cov(m: Any, y: Any = None, rowvar: bool = True, bias: bool = False,
        ddof: int | None = None, fweights: Any = None, aweights: Any = None) -> Variable:
    """Covariance matrix of the variables in ``m`` (``numpy.cov``; one variable per row when
    ``rowvar``). Frequency and analytic weights are not supported.

    Examples
    --------
    >>> import numpy as np, gnomon.tensor as gt
    >>> m = np.array([[0.0, 1.0, 2.0], [2.0, 1.0, 0.5]])
    >>> np.allclose(gt.cov(m).eval(), np.cov(m))
    True
    """
    if fweights is not None or aweights is not None:
        raise GnomonValueError(with_hint(
            f"cov: fweights= and aweights= are not supported{at_user_line()}",
            "weight the observations yourself"))
    m = as_tensor(m)
    if m.ndim == 1:
        m = shapes.expand_dims(m, 0)
    if not rowvar:
        m = shapes.transpose(m)
    if y is not None:
        y = as_tensor(y)
        y = shapes.expand_dims(y, 0) if y.ndim == 1 else y
        m = shapes.concatenate([m, y if rowvar else shapes.transpose(y)], axis=0)
    if ddof is None:
        ddof = 0 if bias else 1
    n = tb.cast(shapes.shape_i(m, 1), m.dtype if m.dtype.startswith("float") else "float64")
    c = tm.sub(m, reduce.mean(m, axis=1, keepdims=True))
    return tm.true_divide(blas.matmul(c, tm.conj(shapes.transpose(c))), tm.sub(n, ddof))


def max_and_argmax(x: Any, axis: Any = None, keepdims: bool = False) -> list[Variable]:
    """``[max(x, axis), argmax(x, axis)]``."""
    return [reduce.max(x, axis, keepdims), reduce.argmax(x, axis, keepdims)]


def smallest(*args: Any) -> Variable:
    """Elementwise minimum of any number of arrays."""
    return _reduce(tm.minimum, args)


def largest(*args: Any) -> Variable:
    """Elementwise maximum of any number of arrays."""
    return _reduce(tm.maximum, args)


def erfcinv(x: Any) -> Variable:
    """Inverse of the complementary error function: ``erfinv(1 - x)``."""
    return tm.erfinv(tm.sub(1.0, x))


def tri_gamma(x: Any) -> Variable:
    """The trigamma function (``polygamma(1, x)``)."""
    return tm.polygamma(1, x)


def chi2sf(x: Any, k: Any) -> Variable:
    """Survival function of the chi-squared distribution with ``k`` degrees of freedom."""
    return tsp.gammaincc(tm.true_divide(k, 2.0), tm.true_divide(x, 2.0))


def gammau(k: Any, x: Any) -> Variable:
    """Upper incomplete gamma function (not regularized): ``gammaincc(k, x) * gamma(k)``."""
    return tm.mul(tsp.gammaincc(k, x), tm.gamma(k))


def gammal(k: Any, x: Any) -> Variable:
    """Lower incomplete gamma function (not regularized): ``gammainc(k, x) * gamma(k)``."""
    return tm.mul(tsp.gammainc(k, x), tm.gamma(k))


def divmod(a: Any, b: Any) -> tuple[Variable, Variable]:
    """``(a // b, a % b)``, like Python's ``divmod``."""
    return tm.floor_divide(a, b), tm.mod(a, b)


def complex(real: Any, imag: Any) -> Variable:
    """The complex array ``real + 1j * imag`` (complex128, or complex64 for float32 parts).

    Examples
    --------
    >>> import gnomon.tensor as gt
    >>> gt.complex(1.0, 2.0).eval().item()
    (1+2j)
    """
    real, imag = as_tensor(real), as_tensor(imag)
    both32 = real.dtype in ("float32", "float16") and imag.dtype in ("float32", "float16")
    dt = "complex64" if both32 else "complex128"
    return tm.add(tb.cast(real, dt), tm.mul(tb.cast(imag, dt), tb.constant(1j, dt)))


def complex_from_polar(abs: Any, angle: Any) -> Variable:
    """``abs * exp(1j * angle)``."""
    return complex(tm.mul(abs, tm.cos(angle)), tm.mul(abs, tm.sin(angle)))


def nan_to_num(x: Any, nan: float = 0.0, posinf: float | None = None,
               neginf: float | None = None) -> Variable:
    """Replace nan by ``nan`` and infinities by ``posinf``/``neginf`` (default: the largest
    finite values of the dtype), like ``numpy.nan_to_num``."""
    x = as_tensor(x)
    info = np.finfo(x.dtype) if x.dtype.startswith(("float", "complex")) else None
    if info is None:
        return x
    hi = info.max if posinf is None else posinf
    lo = info.min if neginf is None else neginf
    out = tm.where(tm.isnan(x), nan, x)
    out = tm.where(isposinf(out), hi, out)
    return tm.where(isneginf(out), lo, out)


# --- arrays -----------------------------------------------------------------------------------


def take_along_axis(arr: Any, indices: Any, axis: int | None = 0) -> Variable:
    """Pick values from ``arr`` by matching 1-d index and data slices along ``axis``
    (``numpy.take_along_axis``).

    Examples
    --------
    >>> import numpy as np, gnomon.tensor as gt
    >>> a = np.array([[10.0, 30.0, 20.0]])
    >>> gt.take_along_axis(a, gt.argsort(a, axis=1), axis=1).eval().tolist()
    [[10.0, 20.0, 30.0]]
    """
    arr, indices = as_tensor(arr), as_tensor(indices)
    if axis is None:
        arr, axis = shapes.flatten(arr, 1), 0
    if arr.ndim != indices.ndim:
        raise GnomonValueError(with_hint(
            f"take_along_axis: indices have {indices.ndim} dimension(s), the array "
            f"{arr.ndim}{at_user_line()}", "give indices as many dimensions as the array"))
    axis = axis % arr.ndim
    idx: list[Any] = []
    for d in range(arr.ndim):
        if d == axis:
            idx.append(indices)
        else:
            pattern = ["x"] * arr.ndim
            pattern[d] = 0  # type: ignore[call-overload]
            idx.append(shapes.dimshuffle(creation.arange(shapes.shape_i(arr, d)), pattern))
    return indexing.getitem(arr, tuple(idx))


def stacklists(arg: Any) -> Variable:
    """Stack nested lists of scalars or arrays into one array (one dimension per nesting level).

    Examples
    --------
    >>> import gnomon.tensor as gt
    >>> a, b, c, d = gt.scalars("abcd")
    >>> gt.stacklists([[a, b], [c, d]]).eval({a: 1.0, b: 2.0, c: 3.0, d: 4.0}).tolist()
    [[1.0, 2.0], [3.0, 4.0]]
    """
    if isinstance(arg, list | tuple):
        return shapes.stack([stacklists(a) for a in arg])
    return as_tensor(arg)


def diagonal(a: Any, offset: int = 0, axis1: int = 0, axis2: int = 1) -> Variable:
    """The diagonal (``offset`` above it when positive) of the ``axis1``/``axis2`` planes, as the
    last dimension (``numpy.diagonal``).

    Examples
    --------
    >>> import numpy as np, gnomon.tensor as gt
    >>> gt.diagonal(np.arange(9.0).reshape(3, 3), 1).eval().tolist()
    [1.0, 5.0]
    """
    a = as_tensor(a)
    if a.ndim < 2:
        raise GnomonValueError(f"diagonal needs an array of 2 or more dimensions, got {a.type}"
                               f"{at_user_line()}")
    axis1, axis2 = axis1 % a.ndim, axis2 % a.ndim
    rest = [d for d in range(a.ndim) if d not in (axis1, axis2)]
    a = shapes.transpose(a, [*rest, axis1, axis2])
    n, m = shapes.shape_i(a, -2), shapes.shape_i(a, -1)
    k = int(offset)
    length = tm.maximum(tm.minimum(tm.sub(n, max(-k, 0)), tm.sub(m, max(k, 0))), 0)
    i = creation.arange(length)
    rows_, cols_ = tm.add(i, max(-k, 0)), tm.add(i, max(k, 0))
    return indexing.getitem(a, (Ellipsis, rows_, cols_))


extract_diag = diagonal


def diag(v: Any, k: int = 0) -> Variable:
    """A matrix with ``v`` on its ``k``-th diagonal (``v`` 1-d), or the ``k``-th diagonal of
    ``v`` (2-d), as ``numpy.diag``.

    Examples
    --------
    >>> import gnomon.tensor as gt
    >>> gt.diag(gt.constant([1.0, 2.0])).eval().tolist()
    [[1.0, 0.0], [0.0, 2.0]]
    """
    v = as_tensor(v)
    if v.ndim == 2:
        return diagonal(v, k)
    if v.ndim != 1:
        raise GnomonValueError(with_hint(
            f"diag takes a vector or a matrix, got {v.type}{at_user_line()}",
            "use diagonal(a, offset, axis1, axis2) for higher dimensions"))
    k = int(k)
    n = tm.add(shapes.shape_i(v, 0), abs(k))
    z = tb.zeros(shapes.stack([n, n]), dtype=v.dtype)
    i = creation.arange(shapes.shape_i(v, 0))
    return indexing.set_subtensor(
        indexing.getitem(z, (tm.add(i, max(-k, 0)), tm.add(i, max(k, 0)))), v)


def trace(a: Any, offset: int = 0, axis1: int = 0, axis2: int = 1) -> Variable:
    """Sum along a diagonal (``numpy.trace``)."""
    return reduce.sum(diagonal(a, offset, axis1, axis2), axis=-1)


def _int_k(k: Any, fn: str) -> int:
    if isinstance(k, Constant):
        k = k.data
    try:
        return int(k)
    except TypeError:
        raise GnomonTypeError(with_hint(
            f"{fn}: k must be a Python int here, got {k!r}{at_user_line()}",
            "pass the diagonal offset as an int")) from None


def tril(m: Any, k: int = 0) -> Variable:
    """Lower triangle of ``m`` (of each matrix in the last two dimensions): entries above the
    ``k``-th diagonal are zero (``numpy.tril``)."""
    m = as_tensor(m)
    if m.ndim < 2:
        raise GnomonValueError(f"tril needs a matrix, got {m.type}{at_user_line()}")
    return linalg.BandPart(None, _int_k(k, "tril"))(m)


def triu(m: Any, k: int = 0) -> Variable:
    """Upper triangle of ``m``: entries below the ``k``-th diagonal are zero (``numpy.triu``)."""
    m = as_tensor(m)
    if m.ndim < 2:
        raise GnomonValueError(f"triu needs a matrix, got {m.type}{at_user_line()}")
    return linalg.BandPart(_int_k(k, "triu"), None)(m)


def tri(N: Any, M: Any = None, k: int = 0, dtype: Any = "floatX") -> Variable:
    """An ``N x M`` array with ones at and below the ``k``-th diagonal (``numpy.tri``)."""
    shape = (N, N if M is None else M)
    return tril(tb.ones(shape, dtype=dtype), k)


def tril_indices(n: Any, k: int = 0, m: Any = None) -> tuple[Variable, Variable]:
    """Row and column indices of the lower triangle of an ``n x m`` array."""
    r, c = indexing.nonzero(tri(n, m, k, dtype="bool"))
    return r, c


def triu_indices(n: Any, k: int = 0, m: Any = None) -> tuple[Variable, Variable]:
    """Row and column indices of the upper triangle of an ``n x m`` array."""
    r, c = indexing.nonzero(tm.invert(tri(n, m, _int_k(k, "triu_indices") - 1, dtype="bool")))
    return r, c


def tril_indices_from(a: Any, k: int = 0) -> tuple[Variable, Variable]:
    """:func:`tril_indices` for the shape of the 2-d array ``a``."""
    a = as_tensor(a)
    return tril_indices(shapes.shape_i(a, 0), k, shapes.shape_i(a, 1))


def triu_indices_from(a: Any, k: int = 0) -> tuple[Variable, Variable]:
    """:func:`triu_indices` for the shape of the 2-d array ``a``."""
    a = as_tensor(a)
    return triu_indices(shapes.shape_i(a, 0), k, shapes.shape_i(a, 1))


def roll(x: Any, shift: Any, axis: int | None = None) -> Variable:
    """Roll elements along ``axis`` (of the flattened array when ``None``) by ``shift``, which
    may be symbolic (``numpy.roll``).

    Examples
    --------
    >>> import numpy as np, gnomon.tensor as gt
    >>> gt.roll(np.arange(6.0).reshape(2, 3), -1, axis=1).eval().tolist()
    [[1.0, 2.0, 0.0], [4.0, 5.0, 3.0]]
    """
    x = as_tensor(x)
    if axis is None:
        flat = roll(shapes.flatten(x, 1), shift, 0)
        return shapes.reshape(flat, shapes.shape(x)) if x.ndim != 1 else flat
    axis = axis % x.ndim
    n = shapes.shape_i(x, axis)
    idx = tm.mod(tm.sub(creation.arange(n), shift), tm.maximum(n, 1))
    return indexing.take(x, idx, axis=axis)


def horizontal_stack(*args: Any) -> Variable:
    """Join arrays along their second dimension (PyTensor's name; 2-d arrays)."""
    return shapes.concatenate(list(args), axis=1)


def vertical_stack(*args: Any) -> Variable:
    """Join arrays along their first dimension (PyTensor's name)."""
    return shapes.concatenate(list(args), axis=0)


def flatnonzero(a: Any) -> Variable:
    """Indices of the nonzero entries of the flattened ``a``."""
    return indexing.nonzero(shapes.flatten(as_tensor(a), 1))[0]


def nonzero_values(a: Any) -> Variable:
    """The nonzero entries of ``a``, flattened."""
    flat = shapes.flatten(as_tensor(a), 1)
    return indexing.take(flat, flatnonzero(flat))


def fill(model: Any, value: Any) -> Variable:
    """``value`` broadcast to the shape of ``model`` (and ``value``), with ``value``'s dtype
    (PyTensor's ``fill``, also called ``second``)."""
    model, value = as_tensor(model), as_tensor(value)
    return tm.add(value, tb.zeros_like(model, dtype=value.dtype))


second = fill


def identity_like(x: Any, dtype: Any = None) -> Variable:
    """An identity matrix of the shape of the matrix ``x``."""
    x = as_tensor(x)
    return creation.eye(shapes.shape_i(x, 0), shapes.shape_i(x, 1),
                        dtype=dtype or x.dtype)


def tensor_copy(x: Any) -> Variable:
    """A copy of ``x`` (every gnomon result is a fresh array already)."""
    return tm.identity(x)


def empty(shape: Any, dtype: Any = "floatX") -> Variable:
    """An array of ``shape``. gnomon fills it with zeros (it has no uninitialized memory)."""
    return tb.zeros(shape, dtype=dtype)


def empty_like(prototype: Any, dtype: Any = None) -> Variable:
    """An array of ``prototype``'s shape, filled with zeros (see :func:`empty`)."""
    return tb.zeros_like(prototype, dtype=dtype)


def inverse_permutation(perm: Any) -> Variable:
    """The inverse of the permutation ``perm`` (``argsort`` of it)."""
    return sorting.argsort(perm, axis=-1)


def get_vector_length(v: Any) -> int:
    """The length of the vector ``v`` when it is known while building the graph.

    Raises ``ValueError`` when it is only known at run time.
    """
    v = as_tensor(v)
    if v.ndim != 1:
        raise GnomonTypeError(f"get_vector_length: {v} is not a vector ({v.type})")
    if v.type.shape[0] is not None:
        return int(v.type.shape[0])
    if v.owner is not None and isinstance(v.owner.op, shapes.Shape):
        return int(v.owner.inputs[0].ndim)
    if v.owner is not None and isinstance(v.owner.op, shapes.MakeVector):
        return len(v.owner.inputs)
    raise GnomonValueError(f"the length of {v} is not known until the graph runs")


get_underlying_scalar_constant_value = tb.get_scalar_constant_value


def shape_padleft(x: Any, n_ones: int = 1) -> Variable:
    """``x`` with ``n_ones`` new length-1 dimensions in front."""
    x = as_tensor(x)
    return shapes.dimshuffle(x, ["x"] * n_ones + list(range(x.ndim)))


def shape_padright(x: Any, n_ones: int = 1) -> Variable:
    """``x`` with ``n_ones`` new length-1 dimensions at the end."""
    x = as_tensor(x)
    return shapes.dimshuffle(x, list(range(x.ndim)) + ["x"] * n_ones)


def shape_padaxis(x: Any, axis: int) -> Variable:
    """``x`` with a new length-1 dimension at position ``axis``."""
    return shapes.expand_dims(x, axis)


# --- specify_shape ----------------------------------------------------------------------------


@dataclass(frozen=True)
class SpecifyShape(Op):
    """``x`` unchanged, with a static shape, checked at run time.

    Inputs are ``x`` and one int64 scalar for each dimension whose length is given
    (``given[d]`` is True); the output's static shape has the constant ones. A value of another
    shape raises a ``ValueError`` (:class:`~gnomon.errors.ShapeError`) naming the dimension.
    """

    given: tuple[bool, ...]

    constant_foldable: ClassVar[bool] = False
    view_map = {0: 0}  # noqa: RUF012

    def make_node(self, x: Any, *dims: Any) -> Apply:
        x = as_tensor(x)
        if len(self.given) != x.ndim:
            raise GnomonValueError(with_hint(
                f"specify_shape: {x} has {x.ndim} dimension(s), but {len(self.given)} lengths "
                f"were given{at_user_line()}", "give one length (or None) per dimension"))
        ds = [tb.cast(as_tensor(d), "int64") for d in dims]
        static = list(x.type.shape)
        it = iter(ds)
        for i, g in enumerate(self.given):
            if not g:
                continue
            d = next(it)
            if isinstance(d, Constant):
                val = int(d.data)
                if static[i] is not None and static[i] != val:
                    from gnomon.errors import ShapeError

                    raise ShapeError(with_hint(
                        f"specify_shape: dimension {i} of {x} has static length {static[i]}, "
                        f"not {val}{at_user_line()}", "check the shape you specify"))
                static[i] = val
        return Apply.make(self, [x, *ds], [TensorType(x.dtype, tuple(static))])

    def perform(self, node: Apply, inputs: Sequence[Any]) -> tuple[Any, ...]:
        x, *dims = inputs
        it = iter(dims)
        for i, g in enumerate(self.given):
            if g:
                want = int(next(it))
                if x.shape[i] != want:
                    from gnomon.errors import ShapeError

                    raise ShapeError(
                        f"specify_shape: dimension {i} has length {x.shape[i]}, not {want} "
                        f"(the value has shape {x.shape})")
        return (x,)

    def infer_shape(self, node: Apply, input_shapes: Sequence[Any]) -> list[tuple[Any, ...]]:
        dims = iter(node.inputs[1:])
        return [tuple(next(dims) if g else s
                      for g, s in zip(self.given, input_shapes[0], strict=True))]

    def pullback(self, node: Apply, output_grads: Sequence[Any]) -> list[Any]:
        return [output_grads[0], *[None] * (len(node.inputs) - 1)]

    def pushforward(self, node: Apply, tangents: Sequence[Any]) -> list[Any]:
        return [None if tangents[0] is None else self(tangents[0], *node.inputs[1:])]

    def __str__(self) -> str:
        return "SpecifyShape"


def specify_shape(x: Any, shape: Any) -> Variable:
    """``x`` with the given shape: the static shape is refined for the lengths known now, and
    every given length is checked at run time (``ValueError`` if the value disagrees).

    ``shape`` holds one entry per dimension: an int, a symbolic int scalar, or ``None`` (any
    length); a single int is allowed for a vector.

    Examples
    --------
    >>> import gnomon.tensor as gt
    >>> x = gt.dmatrix("x")
    >>> gt.specify_shape(x, (None, 3)).type.shape
    (None, 3)
    """
    x = as_tensor(x)
    if isinstance(shape, int | np.integer | Variable) and not (
            isinstance(shape, Variable) and shape.ndim == 1):
        shape = (shape,)
    if isinstance(shape, Variable):
        n = get_vector_length(shape)
        shape = [indexing.getitem(shape, i) for i in range(n)]
    shape = list(shape)
    given = tuple(s is not None for s in shape)
    if not any(given):
        if len(shape) != x.ndim:
            raise GnomonValueError(f"specify_shape: {x} has {x.ndim} dimension(s), but "
                                   f"{len(shape)} lengths were given{at_user_line()}")
        return x
    return SpecifyShape(given)(x, *[s for s in shape if s is not None])


def specify_broadcastable(x: Any, *axes: int) -> Variable:
    """``x`` with static length 1 in ``axes`` (checked at run time)."""
    x = as_tensor(x)
    axes_set = {a % x.ndim for a in axes}
    return specify_shape(x, [1 if d in axes_set else None for d in range(x.ndim)])


# --- batched products -------------------------------------------------------------------------


def batched_dot(a: Any, b: Any) -> Variable:
    """One product per entry of the first dimension: ``out[i] = dot(a[i], b[i])``.

    Examples
    --------
    >>> import numpy as np, gnomon.tensor as gt
    >>> a, b = np.ones((2, 3, 4)), np.ones((2, 4))
    >>> gt.batched_dot(a, b).eval().tolist()
    [[4.0, 4.0, 4.0], [4.0, 4.0, 4.0]]
    """
    a, b = as_tensor(a), as_tensor(b)
    if a.ndim < 2 or b.ndim < 2:
        raise GnomonValueError(with_hint(
            f"batched_dot takes arrays of 2 or more dimensions, got {a.type} and {b.type}"
            f"{at_user_line()}", "the first dimension is the batch"))
    if a.ndim == 2 and b.ndim == 2:
        return reduce.sum(tm.mul(a, b), axis=1)
    if b.ndim == 2:
        return shapes.squeeze(blas.matmul(a, shapes.expand_dims(b, -1)), -1)
    if a.ndim == 2:
        return shapes.squeeze(blas.matmul(shapes.expand_dims(a, 1), b), 1)
    return blas.matmul(a, b)


# --- more of NumPy's array functions ----------------------------------------------------------


def choose(a: Any, choices: Sequence[Any], mode: str = "raise") -> Variable:
    """``choices[a[i]][i]`` for every index ``i`` (``numpy.choose``; ``a`` and the choices
    broadcast together). ``mode='raise'`` fails at run time on an index out of range; ``'wrap'``
    and ``'clip'`` bring indices into range first.

    Examples
    --------
    >>> import numpy as np, gnomon.tensor as gt
    >>> gt.choose(np.array([0, 1, 0]), [np.zeros(3), np.ones(3)]).eval().tolist()
    [0.0, 1.0, 0.0]
    """
    from gnomon.tensor.extra_ops import broadcast_arrays

    a = as_tensor(a)
    n = len(choices)
    if mode == "wrap":
        a = tm.mod(a, n)
    elif mode == "clip":
        a = tm.clip(a, 0, n - 1)
    elif mode != "raise":
        raise GnomonValueError(f"choose: mode must be 'raise', 'wrap' or 'clip'{at_user_line()}")
    arrays = broadcast_arrays(a, *choices)
    stacked = shapes.stack(arrays[1:])
    idx = shapes.expand_dims(arrays[0], 0)
    return indexing.getitem(take_along_axis(stacked, idx, axis=0), 0)


class _Grid:
    """``mgrid[...]`` / ``ogrid[...]``: coordinate arrays from slices, like NumPy's."""

    def __init__(self, sparse: bool) -> None:
        self.sparse = sparse

    def __getitem__(self, key: Any) -> list[Variable]:
        keys = key if isinstance(key, tuple) else (key,)
        axes = []
        for k in keys:
            if not isinstance(k, slice) or isinstance(k.step, builtins.complex):
                raise GnomonTypeError(with_hint(
                    f"{'ogrid' if self.sparse else 'mgrid'} takes slices with real steps, got "
                    f"{k!r}{at_user_line()}", "use linspace for a number of points"))
            axes.append(creation.arange(0 if k.start is None else k.start, k.stop,
                                        1 if k.step is None else k.step))
        nd = len(axes)
        out: list[Variable] = []
        for i, ax in enumerate(axes):
            pattern: list[int | str] = ["x"] * nd
            pattern[i] = 0
            v: Variable = shapes.dimshuffle(ax, pattern)
            if not self.sparse:
                v = shapes.broadcast_to(v, shapes.stack([shapes.shape_i(b, 0) for b in axes]))
            out.append(v)
        return out


#: Dense coordinate arrays, ``mgrid[0:3, 0:2]`` (like ``numpy.mgrid``, a list of arrays).
mgrid = _Grid(sparse=False)
#: Open coordinate arrays that broadcast, ``ogrid[0:3, 0:2]`` (like ``numpy.ogrid``).
ogrid = _Grid(sparse=True)


def ix_(*args: Any) -> tuple[Variable, ...]:
    """Open-mesh index arrays from 1-d sequences (``numpy.ix_``): ``x[ix_(rows, cols)]`` is the
    cross product of rows and columns."""
    out = []
    nd = len(args)
    for k, a in enumerate(args):
        a = as_tensor(a)
        if a.ndim != 1:
            raise GnomonValueError(f"ix_ takes 1-d sequences, got {a.type}{at_user_line()}")
        pattern: list[int | str] = ["x"] * nd
        pattern[k] = 0
        out.append(shapes.dimshuffle(a, pattern))
    return tuple(out)


def default(x: Any, default: Any) -> Any:
    """``x``, or ``default`` when ``x`` is ``None`` (PyTensor's helper)."""
    return default if x is None else x


def is_flat(var: Any, ndim: int = 1) -> bool:
    """Whether ``var`` has ``ndim`` dimensions."""
    return bool(as_tensor(var).ndim == ndim)


def xlogx(x: Any) -> Variable:
    """``x * log(x)``, 0 at ``x = 0``."""
    return tsp.xlogy(x, x)


def xlogy0(x: Any, y: Any) -> Variable:
    """``x * log(y)``, 0 where ``x = 0`` (PyTensor's name for ``xlogy``)."""
    return tsp.xlogy(x, y)


def batched_tensordot(x: Any, y: Any, axes: Any) -> Variable:
    """``tensordot`` of ``x[i]`` and ``y[i]`` for each entry ``i`` of the first dimension.

    ``axes`` is an int (the last ``axes`` dimensions of ``x`` with the first ``axes`` after the
    batch dimension of ``y``) or a pair of lists of axes of ``x`` and ``y`` (counting the batch
    dimension, so never 0).

    Examples
    --------
    >>> import numpy as np, gnomon.tensor as gt
    >>> x, y = np.ones((2, 3, 4)), np.ones((2, 4, 5))
    >>> gt.batched_tensordot(x, y, [[2], [1]]).eval().shape
    (2, 3, 5)
    """
    x, y = as_tensor(x), as_tensor(y)
    if isinstance(axes, int):
        ax_x = list(range(x.ndim - axes, x.ndim))
        ax_y = list(range(1, 1 + axes))
    else:
        ax_x = [a % x.ndim for a in axes[0]]
        ax_y = [a % y.ndim for a in axes[1]]
    if 0 in ax_x or 0 in ax_y or len(ax_x) != len(ax_y):
        raise GnomonValueError(with_hint(
            f"batched_tensordot: bad axes {axes}{at_user_line()}",
            "give the same number of axes for x and y, none of them the batch axis 0"))
    letters = iter("abcdefghijklmnopqrstuvwxyz")
    bx = ["B"] + [next(letters) for _ in range(x.ndim - 1)]
    by = ["B"] + [next(letters) for _ in range(y.ndim - 1)]
    for i, j in zip(ax_x, ax_y, strict=True):
        by[j] = bx[i]
    out = ["B"] + [c for d, c in enumerate(bx) if d and d not in ax_x] + \
        [c for d, c in enumerate(by) if d and d not in ax_y]
    return blas.einsum(f"{''.join(bx)},{''.join(by)}->{''.join(out)}", x, y)


def pad(x: Any, pad_width: Any, mode: str = "constant", constant_values: Any = 0) -> Variable:
    """``x`` padded like ``numpy.pad`` in the modes ``'constant'``, ``'edge'``, ``'wrap'``,
    ``'reflect'`` and ``'symmetric'``; the widths are Python ints (one int, one ``(before,
    after)`` pair, or one pair per dimension); ``constant_values`` is one scalar.

    Examples
    --------
    >>> import numpy as np, gnomon.tensor as gt
    >>> gt.pad(np.array([1.0, 2.0, 3.0]), (2, 1), mode="reflect").eval().tolist()
    [3.0, 2.0, 1.0, 2.0, 3.0, 2.0]
    """
    x = as_tensor(x)
    widths = np.broadcast_to(np.asarray(pad_width, dtype=int), (x.ndim, 2)).tolist()
    if mode == "constant":
        full_shape = [tm.add(shapes.shape_i(x, d), b + a) for d, (b, a) in enumerate(widths)]
        cval = tb.cast(as_tensor(constant_values), x.dtype)
        out = tb.alloc(cval, *full_shape)
        region = tuple(slice(b, None if a == 0 else -a) for b, a in widths)
        return indexing.set_subtensor(indexing.getitem(out, region), x)
    if mode not in ("edge", "wrap", "reflect", "symmetric"):
        raise GnomonValueError(with_hint(
            f"pad: mode {mode!r} is not supported{at_user_line()}",
            "use 'constant', 'edge', 'wrap', 'reflect' or 'symmetric'"))
    for d, (b, a) in enumerate(widths):
        if b == 0 and a == 0:
            continue
        n = shapes.shape_i(x, d)
        i = creation.arange(-b, tm.add(n, a))
        if mode == "edge":
            idx = tm.clip(i, 0, tm.sub(n, 1))
        elif mode == "wrap":
            idx = tm.mod(i, n)
        elif mode == "reflect":
            period = tm.maximum(tm.sub(tm.mul(n, 2), 2), 1)
            k = tm.mod(i, period)
            idx = tm.where(tm.lt(k, n), k, tm.sub(period, k))
        else:
            period = tm.mul(n, 2)
            k = tm.mod(i, period)
            idx = tm.where(tm.lt(k, n), k, tm.sub(tm.sub(period, 1), k))
        x = indexing.take(x, idx, axis=d)
    return x


def interp(x: Any, xp: Any, fp: Any, left: Any = None, right: Any = None) -> Variable:
    """Piecewise-linear interpolation of the points ``(xp, fp)`` at ``x`` (``numpy.interp``;
    ``xp`` increasing). Outside ``xp`` the result is ``left``/``right`` (default: the end
    values of ``fp``).

    Examples
    --------
    >>> import numpy as np, gnomon.tensor as gt
    >>> gt.interp(np.array([0.5, 2.5, 9.0]), np.array([0.0, 1.0, 3.0]),
    ...           np.array([0.0, 2.0, 6.0])).eval().tolist()
    [1.0, 5.0, 6.0]
    """
    x, xp, fp = as_tensor(x), as_tensor(xp), as_tensor(fp)
    n = shapes.shape_i(xp, 0)
    i = tm.clip(tm.sub(sorting.searchsorted(xp, x, side="right"), 1), 0, tm.sub(n, 2))
    x0, x1 = indexing.take(xp, i), indexing.take(xp, tm.add(i, 1))
    f0, f1 = indexing.take(fp, i), indexing.take(fp, tm.add(i, 1))
    y = tm.add(f0, tm.mul(tm.true_divide(tm.sub(x, x0), tm.sub(x1, x0)), tm.sub(f1, f0)))
    first, last = indexing.getitem(fp, 0), indexing.getitem(fp, -1)
    y = tm.where(tm.lt(x, indexing.getitem(xp, 0)), first if left is None else left, y)
    return tm.where(tm.gt(x, indexing.getitem(xp, -1)), last if right is None else right, y)


def vectorize(func: Any, signature: str | None = None) -> Any:
    """A version of ``func`` (which builds a graph from core inputs) that takes inputs with
    extra leading batch dimensions, like ``numpy.vectorize`` with a ``signature`` (PyTensor's
    ``pt.vectorize``). Without a signature every input and the output are scalars at the core.
    The graph is built once on core inputs and batched with
    :func:`gnomon.graph.replace.vectorize_graph`.

    Examples
    --------
    >>> import numpy as np, gnomon.tensor as gt
    >>> norm = gt.vectorize(lambda v: gt.sqrt(gt.sum(v ** 2)), signature="(n)->()")
    >>> norm(np.array([[3.0, 4.0], [6.0, 8.0]])).eval().tolist()
    [5.0, 10.0]
    """
    import re

    def core_ndims(n_args: int) -> list[int]:
        if signature is None:
            return [0] * n_args
        ins = signature.split("->")[0]
        groups = re.findall(r"\(([^)]*)\)", ins)
        if len(groups) != n_args:
            raise GnomonValueError(f"vectorize: the signature {signature!r} has {len(groups)} "
                                   f"inputs, got {n_args}{at_user_line()}")
        return [len([d for d in g.split(",") if d.strip()]) for g in groups]

    def wrapper(*args: Any) -> Any:
        from gnomon.graph.replace import vectorize_graph

        xs = [as_tensor(a) for a in args]
        nds = core_ndims(len(xs))
        cores = [TensorType(v.dtype, v.type.shape[v.ndim - k:] if k else ())(f"core{i}")
                 for i, (v, k) in enumerate(zip(xs, nds, strict=True))]
        out = func(*cores)
        return vectorize_graph(out, dict(zip(cores, xs, strict=True)))

    return wrapper


__all__ += ["choose", "mgrid", "ogrid", "ix_", "default", "is_flat", "xlogx", "xlogy0",
            "batched_tensordot", "pad", "interp", "vectorize"]
