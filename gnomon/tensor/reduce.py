"""Reductions over axes: sum, prod, max, min, all, any, argmax, argmin, logsumexp (ops), mean,
var and std (built from ``Sum`` and elementwise ops), the normalizations softmax and log_softmax,
and the cumulative sums and products.

Every user function follows NumPy: ``axis`` is ``None`` (all axes), an int or a tuple of ints,
negative axes count from the end, ``keepdims=True`` keeps the reduced axes with length 1, and
output dtypes are NumPy's (``np.sum`` of ``int8`` is ``int64``, ``np.mean`` of ints is
``float64``, ...).
"""

from __future__ import annotations

import abc
import builtins
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from gnomon.errors import GnomonTypeError, GnomonValueError, with_hint
from gnomon.graph.basic import Apply, Variable
from gnomon.graph.op import Op
from gnomon.tensor.basic import TensorLike, as_tensor
from gnomon.tensor.type import TensorType
from gnomon.tensor.variable import TensorVariable

__all__ = [
    "normalize_axes",
    "Sum", "Prod", "Max", "Min", "AllTrue", "AnyTrue", "LogSumExp", "Softmax", "LogSoftmax",
    "Argmax", "Argmin", "Cumsum", "Cumprod",
    "sum", "prod", "max", "min", "amax", "amin", "argmax", "argmin", "all", "any",
    "mean", "var", "std", "logsumexp", "softmax", "log_softmax", "cumsum", "cumprod",
]


def normalize_axes(axis: Any, ndim: int) -> tuple[int, ...]:
    """``None`` means all axes; negative axes count from the end; duplicates are an error.

    Examples
    --------
    >>> normalize_axes((-1, 0), 3)
    (0, 2)
    >>> normalize_axes(None, 2)
    (0, 1)
    """
    if axis is None:
        return tuple(range(ndim))
    axes = [axis] if not isinstance(axis, tuple | list) else list(axis)
    out = []
    for a in axes:
        if isinstance(a, bool) or not isinstance(a, int | np.integer):
            raise GnomonTypeError(with_hint(
                f"axis {axis!r} contains {a!r}, which is not an integer",
                "pass axis=None, an int, or a tuple of ints",
            ))
        a = int(a)
        if not -ndim <= a < ndim:
            raise GnomonValueError(with_hint(
                f"axis {a} is out of bounds for an array of {ndim} dimensions",
                f"use an axis in [{-ndim}, {ndim - 1}]" if ndim else
                "a 0-d array has no axes: pass axis=None or axis=()",
            ))
        out.append(a % ndim)
    if len(set(out)) != len(out):
        raise GnomonValueError(with_hint(
            f"duplicate value in axis {axis!r}", "list each axis once"
        ))
    return tuple(sorted(out))


def _one_axis(axis: Any, ndim: int, what: str) -> int:
    """A single axis (for argmax, cumsum, softmax ...), normalized to ``[0, ndim)``."""
    if isinstance(axis, bool) or not isinstance(axis, int | np.integer):
        raise GnomonTypeError(with_hint(
            f"{what}: axis must be an integer or None, got {axis!r}",
            "reduce one axis at a time, or pass axis=None to work on the flattened array",
        ))
    return normalize_axes(int(axis), ndim)[0]


def _check_op_axes(op: Op, axes: tuple[int, ...], x: Variable) -> None:
    if tuple(sorted(set(axes))) != tuple(axes) or builtins.any(
        not 0 <= a < x.ndim for a in axes
    ):
        raise GnomonValueError(with_hint(
            f"{op}: axes {list(axes)} are not sorted, distinct axes of {x.type}",
            "build reductions with the user functions (gt.max, gt.prod, ...), which normalize "
            "axes",
        ))


def _float_dtype(dtype: str) -> str:
    """The dtype of a float result computed from ``dtype``: floats keep theirs, the rest
    (booleans, integers) become float64, as in ``np.mean`` and ``scipy.special.logsumexp``."""
    return dtype if dtype[0] in "fc" else "float64"


def _expand(v: Variable, axes: Sequence[int]) -> Variable:
    from gnomon.tensor.shapes import expand_dims

    return expand_dims(v, tuple(axes)) if axes else v


def _count(x: Variable, axes: Sequence[int]) -> Variable:
    """The number of elements reduced over ``axes``, as an int64 scalar."""
    from gnomon.tensor import math as tm
    from gnomon.tensor.basic import constant
    from gnomon.tensor.shapes import shape_i

    dims = [shape_i(x, a) for a in axes]
    if not dims:
        return constant(1, "int64")
    return dims[0] if len(dims) == 1 else tm.mul(*dims)


# --- sum ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Sum(Op):
    """Sum over ``axes`` (sorted, non-negative); the reduced dimensions are removed.

    ``dtype`` is the accumulator and output dtype (NumPy's default: booleans and small ints
    accumulate in int64).
    """

    axes: tuple[int, ...]
    dtype: str | None = None

    def make_node(self, x: Any) -> Apply:
        x = as_tensor(x)
        for a in self.axes:
            if not 0 <= a < x.ndim:
                raise GnomonValueError(f"{self}: axis {a} out of range for {x.type}")
        dtype = self.dtype or np.sum(np.ones(1, x.dtype)).dtype.name
        shape = tuple(s for i, s in enumerate(x.type.shape) if i not in self.axes)
        return Apply.make(self, [x], [TensorType(dtype, shape)])

    def perform(self, node, inputs):
        out = np.sum(inputs[0], axis=self.axes, dtype=node.outputs[0].dtype)
        return (np.asarray(out),)

    def infer_shape(self, node, input_shapes):
        return [tuple(s for i, s in enumerate(input_shapes[0]) if i not in self.axes)]

    def pullback(self, node, output_grads):
        from gnomon.tensor.basic import alloc, cast
        from gnomon.tensor.shapes import expand_dims, shape_tuple

        x = node.inputs[0]
        if x.dtype[0] not in "fc":
            return [None]
        g = cast(output_grads[0], x.dtype)
        g = expand_dims(g, self.axes) if self.axes else g
        return [alloc(g, *shape_tuple(x))]

    def pushforward(self, node, tangents):
        (t,) = tangents
        return [None if t is None else self(t)]

    def __str__(self) -> str:
        return f"Sum{{axes={list(self.axes)}}}"


def sum(
    x: Any, axis: Any = None, keepdims: bool = False, dtype: Any = None, acc_dtype: Any = None
) -> Variable:
    """Sum of array elements over ``axis`` (like ``np.sum``).

    Parameters
    ----------
    x : array_like
    axis : None, int or tuple of ints
        Axes to sum over; ``None`` sums everything.
    keepdims : bool
        Keep the reduced axes with length 1.
    dtype : dtype, optional
        Accumulator and output dtype; NumPy's default (int64 for booleans and small ints).
    acc_dtype : dtype, optional
        Accepted for PyTensor compatibility and ignored: NumPy's accumulator is used.

    Examples
    --------
    >>> import gnomon.tensor as gt
    >>> gt.sum(gt.constant([[1.0, 2.0], [3.0, 4.0]]), axis=0).eval().tolist()
    [4.0, 6.0]
    """
    from gnomon.tensor.type import normalize_dtype

    x = as_tensor(x)
    axes = normalize_axes(axis, x.ndim)
    dt = normalize_dtype(dtype) if dtype is not None else None
    # Even an empty reduction promotes small ints to int64, as in NumPy.
    promotes = (dt or np.sum(np.ones(1, x.dtype)).dtype.name) != x.dtype
    out = Sum(axes, dt)(x) if axes or promotes else x
    return _keep(out, axes, keepdims)


def _keep(out: TensorVariable, axes: Sequence[int], keepdims: bool) -> TensorVariable:
    from gnomon.tensor.shapes import expand_dims

    return expand_dims(out, axes) if keepdims and axes else out


# --- other reductions over axes ----------------------------------------------------------


@dataclass(frozen=True)
class _AxesReduce(Op):
    """Base of the reductions over ``axes`` (sorted, non-negative) that drop those axes."""

    axes: tuple[int, ...]

    def _node(self, x: Any, dtype: str) -> Apply:
        x = as_tensor(x)
        _check_op_axes(self, self.axes, x)
        shape = tuple(s for i, s in enumerate(x.type.shape) if i not in self.axes)
        return Apply.make(self, [x], [TensorType(dtype, shape)])

    def infer_shape(self, node, input_shapes):
        return [tuple(s for i, s in enumerate(input_shapes[0]) if i not in self.axes)]

    def __str__(self) -> str:
        return f"{type(self).__name__}{{axes={list(self.axes)}}}"


@dataclass(frozen=True)
class Prod(_AxesReduce):
    """Product over ``axes``; ``dtype`` is the accumulator and output dtype (NumPy's default:
    booleans and small ints accumulate in int64 / uint64).

    The gradient is exact when the input contains zeros, and so is its own gradient (the
    second derivatives): the product of the others is never computed as ``prod / x_i`` across
    a zero. Within a reduced slice with zero elements ``Z`` and nonzero elements ``N``, the
    derivative for ``i`` in ``N`` is ``prod(x[Z]) * prod(x[N]) / x_i`` (zero when ``Z`` is not
    empty, but with the right derivative), and for ``i`` in ``Z`` it is ``prod(x[N])`` times
    ``1`` if ``i`` is the only zero, the other zero if there are two, and ``0`` otherwise.
    Third and higher derivatives at zeros are not guaranteed.
    """

    dtype: str | None = None

    def make_node(self, x: Any) -> Apply:
        x = as_tensor(x)
        return self._node(x, self.dtype or np.prod(np.ones(1, x.dtype)).dtype.name)

    def perform(self, node, inputs):
        return (np.asarray(np.prod(inputs[0], axis=self.axes, dtype=node.outputs[0].dtype)),)

    def pullback(self, node, output_grads):
        from gnomon.tensor import math as tm
        from gnomon.tensor.basic import cast

        x = node.inputs[0]
        if x.dtype[0] not in "fc":
            return [None]
        g = _expand(cast(output_grads[0], x.dtype), self.axes)
        axes = self.axes
        is_zero = tm.eq(x, 0)
        n_zero = _expand(Sum(axes)(is_zero), axes)
        # The slice split into its nonzero elements (zeros replaced by 1) and its zeros (the
        # rest replaced by 1); both products carry the right derivatives.
        nonzero = tm.where(is_zero, 1, x)
        p_nonzero = _expand(Prod(axes)(nonzero), axes)
        p_zeros = _expand(Prod(axes)(tm.where(is_zero, x, 1)), axes)
        # For a zero element, the product of the other zeros: 1 if it is alone, the other zero
        # (sum of the zeros minus itself: value 0, derivative 1) if there are two, else 0.
        s_zeros = _expand(Sum(axes)(tm.where(is_zero, x, 0)), axes)
        other_zeros = tm.where(tm.eq(n_zero, 1), 1,
                               tm.where(tm.eq(n_zero, 2), s_zeros - x, 0))
        factor = tm.where(is_zero, p_nonzero * other_zeros, p_zeros * p_nonzero / nonzero)
        return [cast(g * factor, x.dtype)]


@dataclass(frozen=True)
class _MaxMin(_AxesReduce):
    """Shared code of :class:`Max` and :class:`Min`: the gradient goes to the elements equal to
    the result, split equally between ties."""

    def make_node(self, x: Any) -> Apply:
        x = as_tensor(x)
        if x.dtype[0] == "c":
            raise GnomonTypeError(with_hint(
                f"{type(self).__name__.lower()} of the complex array {x} is not defined",
                "reduce abs(x) or the real part instead",
            ))
        return self._node(x, x.dtype)

    def pullback(self, node, output_grads):
        from gnomon.tensor import math as tm
        from gnomon.tensor.basic import cast

        x = node.inputs[0]
        if x.dtype[0] not in "fc":
            return [None]
        g = _expand(cast(output_grads[0], x.dtype), self.axes)
        hit = cast(tm.eq(x, _expand(node.outputs[0], self.axes)), x.dtype)
        n_hit = _expand(Sum(self.axes)(hit), self.axes)
        return [g * hit / n_hit]


@dataclass(frozen=True)
class Max(_MaxMin):
    """Maximum over ``axes`` (see :func:`max` for the gradient at ties)."""

    def perform(self, node, inputs):
        return (np.asarray(np.max(inputs[0], axis=self.axes)),)


@dataclass(frozen=True)
class Min(_MaxMin):
    """Minimum over ``axes`` (see :func:`min` for the gradient at ties)."""

    def perform(self, node, inputs):
        return (np.asarray(np.min(inputs[0], axis=self.axes)),)


@dataclass(frozen=True)
class AllTrue(_AxesReduce):
    """Whether every element over ``axes`` is true (nonzero); boolean output, no gradient."""

    def make_node(self, x: Any) -> Apply:
        return self._node(x, "bool")

    def perform(self, node, inputs):
        return (np.asarray(np.all(inputs[0], axis=self.axes)),)

    def pullback(self, node, output_grads):
        return [None]


@dataclass(frozen=True)
class AnyTrue(_AxesReduce):
    """Whether some element over ``axes`` is true (nonzero); boolean output, no gradient."""

    def make_node(self, x: Any) -> Apply:
        return self._node(x, "bool")

    def perform(self, node, inputs):
        return (np.asarray(np.any(inputs[0], axis=self.axes)),)

    def pullback(self, node, output_grads):
        return [None]


@dataclass(frozen=True)
class LogSumExp(_AxesReduce):
    """``log(sum(exp(x)))`` over ``axes``, computed stably by shifting by the maximum.

    Floats keep their dtype; booleans and integers give float64 (like
    ``scipy.special.logsumexp``). The gradient is the softmax of ``x`` over ``axes``.
    """

    def make_node(self, x: Any) -> Apply:
        x = as_tensor(x)
        if x.dtype[0] == "c":
            raise GnomonTypeError(with_hint(
                f"logsumexp of the complex array {x} is not supported",
                "compute it on the real part, or write log(sum(exp(x))) explicitly",
            ))
        return self._node(x, _float_dtype(x.dtype))

    def perform(self, node, inputs):
        x = np.asarray(inputs[0], dtype=node.outputs[0].dtype)
        with np.errstate(all="ignore"):
            return (_stable_logsumexp(x, self.axes).squeeze(axis=self.axes),)

    def pullback(self, node, output_grads):
        x = node.inputs[0]
        if x.dtype[0] not in "fc":
            return [None]
        # Softmax rather than exp(x - out): that loses everything when |x| is near overflow.
        return [_expand(output_grads[0], self.axes) * Softmax(self.axes)(x)]


def _stable_logsumexp(x: np.ndarray, axes: tuple[int, ...]) -> np.ndarray:
    """``log(sum(exp(x)))`` over ``axes`` with kept dimensions; shifting by the maximum keeps
    ``exp`` from overflowing. A non-finite maximum (all ``-inf``, or an ``inf``) is not used as
    the shift, so those slices give ``-inf`` / ``inf`` rather than ``nan``."""
    m = _finite_max(x, axes)
    return np.log(np.sum(np.exp(x - m), axis=axes, keepdims=True)) + m


def _finite_max(x: np.ndarray, axes: tuple[int, ...]) -> np.ndarray:
    """The maximum over ``axes`` (kept) as a shift for ``exp``; 0 where it is not finite."""
    m = np.max(x, axis=axes, keepdims=True, initial=-np.inf)
    return np.where(np.isfinite(m), m, 0).astype(x.dtype)


# --- softmax ------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Normalize(Op):
    """Base of :class:`Softmax` and :class:`LogSoftmax`: same shape as the input, normalized
    over ``axes``; floats keep their dtype, booleans and integers give float64."""

    axes: tuple[int, ...]

    def make_node(self, x: Any) -> Apply:
        x = as_tensor(x)
        _check_op_axes(self, self.axes, x)
        if x.dtype[0] == "c":
            raise GnomonTypeError(with_hint(
                f"{type(self).__name__.lower()} of the complex array {x} is not supported",
                "apply it to a real array",
            ))
        return Apply.make(self, [x], [TensorType(_float_dtype(x.dtype), x.type.shape)])

    def infer_shape(self, node, input_shapes):
        return [input_shapes[0]]

    def __str__(self) -> str:
        return f"{type(self).__name__}{{axes={list(self.axes)}}}"


@dataclass(frozen=True)
class Softmax(_Normalize):
    """``exp(x) / sum(exp(x))`` over ``axes``, computed stably (shifted by the maximum)."""

    def perform(self, node, inputs):
        x = np.asarray(inputs[0], dtype=node.outputs[0].dtype)
        with np.errstate(all="ignore"):
            e = np.exp(x - _finite_max(x, self.axes))
            return (e / np.sum(e, axis=self.axes, keepdims=True),)

    def pullback(self, node, output_grads):
        x, y, g = node.inputs[0], node.outputs[0], output_grads[0]
        if x.dtype[0] not in "fc":
            return [None]
        gy = g * y
        return [gy - y * _expand(Sum(self.axes)(gy), self.axes)]


@dataclass(frozen=True)
class LogSoftmax(_Normalize):
    """``x - logsumexp(x)`` over ``axes``, computed stably."""

    def perform(self, node, inputs):
        x = np.asarray(inputs[0], dtype=node.outputs[0].dtype)
        with np.errstate(all="ignore"):
            # Subtract the shift first: x - (m + log s) loses log s when x is huge.
            shifted = x - _finite_max(x, self.axes)
            return (shifted - np.log(np.sum(np.exp(shifted), axis=self.axes, keepdims=True)),)

    def pullback(self, node, output_grads):
        from gnomon.tensor import math as tm

        x, y, g = node.inputs[0], node.outputs[0], output_grads[0]
        if x.dtype[0] not in "fc":
            return [None]
        return [g - tm.exp(y) * _expand(Sum(self.axes)(g), self.axes)]


# --- argmax / argmin ----------------------------------------------------------------------


@dataclass(frozen=True)
class _ArgReduce(Op):
    """Index of the extreme element along ``axis`` (``None``: of the flattened array);
    int64 output, no gradient."""

    axis: int | None

    def make_node(self, x: Any) -> Apply:
        x = as_tensor(x)
        if self.axis is None:
            shape: tuple[int | None, ...] = ()
        else:
            if not 0 <= self.axis < x.ndim:
                raise GnomonValueError(with_hint(
                    f"{self}: axis {self.axis} out of range for {x.type}",
                    "build it with gt.argmax / gt.argmin, which normalize the axis",
                ))
            shape = tuple(s for i, s in enumerate(x.type.shape) if i != self.axis)
        if x.dtype[0] == "c":
            raise GnomonTypeError(with_hint(
                f"{self} of the complex array {x} is not supported", "use abs(x)"
            ))
        return Apply.make(self, [x], [TensorType("int64", shape)])

    def infer_shape(self, node, input_shapes):
        if self.axis is None:
            return [()]
        return [tuple(s for i, s in enumerate(input_shapes[0]) if i != self.axis)]

    def pullback(self, node, output_grads):
        return [None]

    def __str__(self) -> str:
        return f"{type(self).__name__}{{axis={self.axis}}}"


@dataclass(frozen=True)
class Argmax(_ArgReduce):
    """Index of the maximum along ``axis`` (the first one at ties, like ``np.argmax``)."""

    def perform(self, node, inputs):
        return (np.asarray(np.argmax(inputs[0], axis=self.axis), dtype="int64"),)


@dataclass(frozen=True)
class Argmin(_ArgReduce):
    """Index of the minimum along ``axis`` (the first one at ties, like ``np.argmin``)."""

    def perform(self, node, inputs):
        return (np.asarray(np.argmin(inputs[0], axis=self.axis), dtype="int64"),)


# --- cumulative sums and products --------------------------------------------------------


@dataclass(frozen=True)
class _Cumulative(Op):
    """Base of :class:`Cumsum` and :class:`Cumprod` along one axis (same shape as the input);
    ``reverse=True`` accumulates from the end (used by the gradients)."""

    axis: int
    reverse: bool = False

    def make_node(self, x: Any) -> Apply:
        x = as_tensor(x)
        if not 0 <= self.axis < x.ndim:
            raise GnomonValueError(with_hint(
                f"{self}: axis {self.axis} out of range for {x.type}",
                "build it with gt.cumsum / gt.cumprod, which normalize the axis",
            ))
        dtype = self._numpy(np.ones(1, x.dtype), 0).dtype.name
        return Apply.make(self, [x], [TensorType(dtype, x.type.shape)])

    @staticmethod
    @abc.abstractmethod
    def _numpy(x: np.ndarray, axis: int) -> np.ndarray:
        """The NumPy function of the subclass (np.cumsum or np.cumprod)."""

    def perform(self, node, inputs):
        x = inputs[0]
        if self.reverse:
            x = np.flip(x, self.axis)
        out = self._numpy(x, self.axis)
        if self.reverse:
            out = np.flip(out, self.axis)
        return (np.ascontiguousarray(out, dtype=node.outputs[0].dtype),)

    def infer_shape(self, node, input_shapes):
        return [input_shapes[0]]

    def __str__(self) -> str:
        rev = ", reverse" if self.reverse else ""
        return f"{type(self).__name__}{{axis={self.axis}{rev}}}"


@dataclass(frozen=True)
class Cumsum(_Cumulative):
    """Cumulative sum along ``axis`` (NumPy's dtype: small ints accumulate in int64)."""

    @staticmethod
    def _numpy(x: np.ndarray, axis: int) -> np.ndarray:
        return np.cumsum(x, axis=axis)

    def pullback(self, node, output_grads):
        from gnomon.tensor.basic import cast

        x = node.inputs[0]
        if x.dtype[0] not in "fc":
            return [None]
        # Element i feeds every output from i on (or up to i, when reversed).
        return [Cumsum(self.axis, not self.reverse)(cast(output_grads[0], x.dtype))]

    def pushforward(self, node, tangents):
        (t,) = tangents
        return [None if t is None else self(t)]


@dataclass(frozen=True)
class Cumprod(_Cumulative):
    """Cumulative product along ``axis`` (NumPy's dtype: small ints accumulate in int64).

    With ``y = cumprod(x)``, ``dy_k / dx_i`` is the product of ``x_j`` for ``j <= k, j != i``.
    The gradient is computed exactly when ``x`` has zeros, without dividing by one: in a slice
    whose first zero is at ``z``, elements before ``z`` get ``reverse_cumsum(g * y) / x``
    (``y`` is 0 from ``z`` on, so no later term is lost), the element ``z`` gets
    ``reverse_cumsum(g * y')`` with ``y'`` the cumulative product with ``x_z`` replaced by 1,
    and elements after ``z`` get 0. Second derivatives are exact for slices without zeros;
    in a slice with a zero, those of elements after the first zero come out as 0.
    """

    @staticmethod
    def _numpy(x: np.ndarray, axis: int) -> np.ndarray:
        return np.cumprod(x, axis=axis)

    def pullback(self, node, output_grads):
        from gnomon.tensor import math as tm
        from gnomon.tensor.basic import cast

        x, y = node.inputs[0], node.outputs[0]
        if x.dtype[0] not in "fc":
            return [None]
        g = cast(output_grads[0], x.dtype)
        forward = Cumsum(self.axis, self.reverse)      # in the direction of the product
        backward = Cumsum(self.axis, not self.reverse)  # each input feeds the later outputs
        is_zero = tm.eq(x, 0)
        zeros_so_far = forward(is_zero)
        before = tm.eq(zeros_so_far, 0)
        first_zero = tm.and_(is_zero, tm.eq(zeros_so_far, 1))
        # Before the first zero, x is nonzero and dividing by it is exact.
        g_before = backward(g * y) / tm.where(before, x, 1)
        # At the first zero: the products of the others, i.e. restarted after the zero.
        y_restart = Cumprod(self.axis, self.reverse)(tm.where(first_zero, 1, x))
        g_zero = backward(g * y_restart)
        return [tm.where(before, g_before, tm.where(first_zero, g_zero, 0))]


# --- user functions -----------------------------------------------------------------------


def prod(
    x: TensorLike, axis: Any = None, keepdims: bool = False, dtype: Any = None
) -> TensorVariable:
    """Product of array elements over ``axis`` (like ``np.prod``).

    Parameters
    ----------
    x : array_like
    axis : None, int or tuple of ints
        Axes to multiply over; ``None`` multiplies everything.
    keepdims : bool
        Keep the reduced axes with length 1.
    dtype : dtype, optional
        Accumulator and output dtype; NumPy's default (int64 for booleans and small ints).

    Notes
    -----
    The gradient is exact when ``x`` contains zeros (one or several per slice), and so are
    second derivatives (see :class:`Prod`).

    Examples
    --------
    >>> import numpy as np, gnomon, gnomon.tensor as gt
    >>> x = gt.dvector("x")
    >>> gt.prod(x).eval({x: np.array([2.0, 3.0, 4.0])}).item()
    24.0
    >>> gnomon.grad(gt.prod(x), x).eval({x: np.array([2.0, 0.0, 4.0])}).tolist()
    [0.0, 8.0, 0.0]
    """
    from gnomon.tensor.basic import cast
    from gnomon.tensor.type import normalize_dtype

    x = as_tensor(x)
    axes = normalize_axes(axis, x.ndim)
    dt = normalize_dtype(dtype) if dtype is not None else None
    if not axes:
        return cast(x, dt or np.prod(np.ones(1, x.dtype)).dtype.name)
    return _keep(Prod(axes, dt)(x), axes, keepdims)


def max(x: TensorLike, axis: Any = None, keepdims: bool = False) -> TensorVariable:
    """Maximum of array elements over ``axis`` (like ``np.max``).

    Parameters
    ----------
    x : array_like
        Real (not complex) values.
    axis : None, int or tuple of ints
    keepdims : bool

    Notes
    -----
    The gradient flows to the element(s) equal to the maximum. At ties, it is split equally
    between the tied elements (as in JAX), so each gets ``g / n_ties``; the maximum is not
    differentiable there and this is one valid choice. A ``nan`` in a slice gives ``nan``
    gradients in that slice. Reducing an empty axis raises at run time, as in NumPy.

    Examples
    --------
    >>> import numpy as np, gnomon, gnomon.tensor as gt
    >>> x = gt.dmatrix("x")
    >>> v = np.array([[1.0, 5.0], [7.0, 2.0]])
    >>> gt.max(x, axis=1).eval({x: v}).tolist()
    [5.0, 7.0]
    >>> gnomon.grad(gt.max(x), x).eval({x: v}).tolist()
    [[0.0, 0.0], [1.0, 0.0]]
    """
    x = as_tensor(x)
    axes = normalize_axes(axis, x.ndim)
    return _keep(Max(axes)(x), axes, keepdims) if axes else x


def min(x: TensorLike, axis: Any = None, keepdims: bool = False) -> TensorVariable:
    """Minimum of array elements over ``axis`` (like ``np.min``).

    The gradient at ties is split equally between the tied elements (see :func:`max`).

    Parameters
    ----------
    x : array_like
        Real (not complex) values.
    axis : None, int or tuple of ints
    keepdims : bool

    Examples
    --------
    >>> import gnomon.tensor as gt
    >>> gt.min(gt.constant([[1.0, 5.0], [7.0, 2.0]]), axis=0).eval().tolist()
    [1.0, 2.0]
    """
    x = as_tensor(x)
    axes = normalize_axes(axis, x.ndim)
    return _keep(Min(axes)(x), axes, keepdims) if axes else x


amax, amin = max, min


def _arg(op_cls: type[_ArgReduce], x: Any, axis: Any, keepdims: bool) -> TensorVariable:
    x = as_tensor(x)
    name = op_cls.__name__.lower()
    if axis is None:
        out = op_cls(None)(x)
        return _keep(out, tuple(range(x.ndim)), keepdims)
    ax = _one_axis(axis, x.ndim, name)
    return _keep(op_cls(ax)(x), (ax,), keepdims)


def argmax(x: TensorLike, axis: int | None = None, keepdims: bool = False) -> TensorVariable:
    """Indices of the maxima along ``axis`` (like ``np.argmax``): int64, first index at ties.

    Parameters
    ----------
    x : array_like
    axis : int or None
        ``None`` gives the index into the flattened array.
    keepdims : bool

    Examples
    --------
    >>> import gnomon.tensor as gt
    >>> gt.argmax(gt.constant([[1.0, 5.0], [7.0, 2.0]]), axis=1).eval().tolist()
    [1, 0]
    """
    return _arg(Argmax, x, axis, keepdims)


def argmin(x: TensorLike, axis: int | None = None, keepdims: bool = False) -> TensorVariable:
    """Indices of the minima along ``axis`` (like ``np.argmin``): int64, first index at ties.

    Parameters
    ----------
    x : array_like
    axis : int or None
        ``None`` gives the index into the flattened array.
    keepdims : bool

    Examples
    --------
    >>> import gnomon.tensor as gt
    >>> gt.argmin(gt.constant([[1.0, 5.0], [7.0, 2.0]])).eval().item()
    0
    """
    return _arg(Argmin, x, axis, keepdims)


def all(x: TensorLike, axis: Any = None, keepdims: bool = False) -> TensorVariable:
    """Whether all elements over ``axis`` are true (like ``np.all``); boolean result.

    Examples
    --------
    >>> import gnomon.tensor as gt
    >>> gt.all(gt.constant([[True, False], [True, True]]), axis=1).eval().tolist()
    [False, True]
    """
    x = as_tensor(x)
    axes = normalize_axes(axis, x.ndim)
    return _keep(AllTrue(axes)(x), axes, keepdims)


def any(x: TensorLike, axis: Any = None, keepdims: bool = False) -> TensorVariable:
    """Whether any element over ``axis`` is true (like ``np.any``); boolean result.

    Examples
    --------
    >>> import gnomon.tensor as gt
    >>> gt.any(gt.constant([[0, 0], [0, 3]]), axis=1).eval().tolist()
    [False, True]
    """
    x = as_tensor(x)
    axes = normalize_axes(axis, x.ndim)
    return _keep(AnyTrue(axes)(x), axes, keepdims)


def _mean_dtypes(x: Variable, dtype: Any) -> tuple[str, str]:
    """(accumulator, output) dtypes of ``np.mean``: ints give float64; float16 accumulates in
    float32 and gives float16."""
    from gnomon.tensor.type import normalize_dtype

    if dtype is not None:
        dt = normalize_dtype(dtype)
        return ("float32" if dt == "float16" else dt), dt
    out = _float_dtype(x.dtype)
    return ("float32" if out == "float16" else out), out


def mean(
    x: TensorLike, axis: Any = None, *, keepdims: bool = False, dtype: Any = None
) -> TensorVariable:
    """Arithmetic mean over ``axis`` (like ``np.mean``).

    Built from :class:`Sum` and a division by the number of elements, so rewrites and
    gradients of any order see simple ops.

    Parameters
    ----------
    x : array_like
    axis : None, int or tuple of ints
    keepdims : bool
    dtype : dtype, optional
        Output dtype; NumPy's default: float64 for integers and booleans, else ``x.dtype``.

    Examples
    --------
    >>> import gnomon.tensor as gt
    >>> gt.mean(gt.constant([[1, 2], [3, 5]]), axis=0).eval().tolist()
    [2.0, 3.5]
    """
    from gnomon.tensor.basic import cast

    x = as_tensor(x)
    axes = normalize_axes(axis, x.ndim)
    acc, out_dtype = _mean_dtypes(x, dtype)
    total = Sum(axes, acc)(x) if axes else cast(x, acc)
    out = cast(total / cast(_count(x, axes), acc), out_dtype)
    return _keep(out, axes, keepdims)


def var(
    x: Any, axis: Any = None, *, ddof: int | float = 0, keepdims: bool = False
) -> Variable:
    """Variance over ``axis`` (like ``np.var``): ``sum((x - mean)**2) / (n - ddof)``.

    Parameters
    ----------
    x : array_like
        Real values (complex arrays are not supported).
    axis : None, int or tuple of ints
    ddof : int or float
        "Delta degrees of freedom"; ``ddof=1`` gives the unbiased estimate. When
        ``n - ddof <= 0`` the divisor is 0 and the result is ``inf`` or ``nan``, as in NumPy.
    keepdims : bool

    Examples
    --------
    >>> import gnomon.tensor as gt
    >>> gt.var(gt.constant([1.0, 2.0, 3.0, 4.0])).eval().item()
    1.25
    >>> gt.var(gt.constant([1.0, 2.0, 3.0, 4.0]), ddof=1).eval().item()
    1.6666666666666667
    """
    from gnomon.tensor import math as tm
    from gnomon.tensor.basic import cast

    x = as_tensor(x)
    if x.dtype[0] == "c":
        raise GnomonTypeError(with_hint(
            f"var / std of the complex array {x} is not supported",
            "compute var(real(x)) + var(imag(x))",
        ))
    axes = normalize_axes(axis, x.ndim)
    acc, out_dtype = _mean_dtypes(x, None)
    xf = cast(x, acc)
    dev = xf - mean(xf, axes, keepdims=True)
    ssq = Sum(axes)(dev * dev) if axes else dev * dev
    dof = cast(_count(x, axes), acc) - ddof
    dof = tm.where(tm.lt(dof, 0), 0, dof)
    return _keep(cast(ssq / dof, out_dtype), axes, keepdims)


def std(
    x: Any, axis: Any = None, *, ddof: int | float = 0, keepdims: bool = False
) -> Variable:
    """Standard deviation over ``axis`` (like ``np.std``): the square root of :func:`var`.

    The gradient is infinite (``nan`` after the chain rule) where the variance is 0.

    Parameters
    ----------
    x : array_like
        Real values.
    axis : None, int or tuple of ints
    ddof : int or float
        Divisor ``n - ddof``, as in :func:`var`.
    keepdims : bool

    Examples
    --------
    >>> import gnomon.tensor as gt
    >>> gt.std(gt.constant([[1.0, 3.0], [2.0, 2.0]]), axis=1).eval().tolist()
    [1.0, 0.0]
    """
    from gnomon.tensor import math as tm

    return tm.power(var(x, axis, ddof=ddof, keepdims=keepdims), 0.5)


def logsumexp(x: TensorLike, axis: Any = None, keepdims: bool = False) -> TensorVariable:
    """``log(sum(exp(x)))`` over ``axis``, without overflow (like
    ``scipy.special.logsumexp``).

    The result is computed as ``m + log(sum(exp(x - m)))`` with ``m`` the maximum, so it is
    finite for large inputs (``logsumexp([1000, 1000]) = 1000 + log 2``); the gradient is the
    softmax of ``x``. Floats keep their dtype; integers and booleans give float64.

    Parameters
    ----------
    x : array_like
        Real values.
    axis : None, int or tuple of ints
    keepdims : bool

    Examples
    --------
    >>> import numpy as np, gnomon.tensor as gt
    >>> bool(np.isclose(gt.logsumexp(gt.constant([1000.0, 1000.0])).eval(), 1000 + np.log(2)))
    True
    """
    x = as_tensor(x)
    axes = normalize_axes(axis, x.ndim)
    if not axes:
        from gnomon.tensor.basic import cast

        return cast(x, _float_dtype(x.dtype))
    return _keep(LogSumExp(axes)(x), axes, keepdims)


def softmax(x: TensorLike, axis: Any = -1) -> TensorVariable:
    """``exp(x) / sum(exp(x))`` over ``axis``, computed stably (like
    ``scipy.special.softmax``, but with ``axis=-1`` by default).

    Parameters
    ----------
    x : array_like
        Real values; integers and booleans give float64.
    axis : int, tuple of ints or None
        The axes to normalize over (``None``: all of them).

    Examples
    --------
    >>> import gnomon.tensor as gt
    >>> gt.softmax(gt.constant([[1000.0, 1000.0], [0.0, -1000.0]])).eval().tolist()
    [[0.5, 0.5], [1.0, 0.0]]
    """
    x = as_tensor(x)
    return Softmax(normalize_axes(axis, x.ndim))(x)


def log_softmax(x: TensorLike, axis: Any = -1) -> TensorVariable:
    """``x - logsumexp(x)`` over ``axis``, computed stably (like
    ``scipy.special.log_softmax``, with ``axis=-1`` by default).

    Parameters
    ----------
    x : array_like
        Real values; integers and booleans give float64.
    axis : int, tuple of ints or None

    Examples
    --------
    >>> import gnomon.tensor as gt
    >>> gt.log_softmax(gt.constant([0.0, -1000.0])).eval().tolist()
    [0.0, -1000.0]
    """
    x = as_tensor(x)
    return LogSoftmax(normalize_axes(axis, x.ndim))(x)


def _cumulative(op_cls: type[_Cumulative], x: Any, axis: Any) -> TensorVariable:
    x = as_tensor(x)
    if axis is None:
        # NumPy flattens (C order) when no axis is given.
        from gnomon.tensor.shapes import flatten

        x = flatten(x) if x.ndim != 1 else x
        ax = 0
    else:
        ax = _one_axis(axis, x.ndim, op_cls.__name__.lower())
    return op_cls(ax)(x)


def cumsum(x: TensorLike, axis: int | None = None) -> TensorVariable:
    """Cumulative sum along ``axis`` (like ``np.cumsum``; ``axis=None`` flattens first).

    Examples
    --------
    >>> import gnomon.tensor as gt
    >>> gt.cumsum(gt.constant([[1, 2], [3, 4]]), axis=1).eval().tolist()
    [[1, 3], [3, 7]]
    """
    return _cumulative(Cumsum, x, axis)


def cumprod(x: TensorLike, axis: int | None = None) -> TensorVariable:
    """Cumulative product along ``axis`` (like ``np.cumprod``; ``axis=None`` flattens first).

    Notes
    -----
    The gradient is exact, also when ``x`` has zeros (computed without dividing by them).
    Second derivatives are exact when ``x`` has no zeros; in a slice with a zero, those of the
    elements after the first zero come out as 0 (see :class:`Cumprod`).

    Examples
    --------
    >>> import gnomon.tensor as gt
    >>> gt.cumprod(gt.constant([1.0, 2.0, 3.0])).eval().tolist()
    [1.0, 2.0, 6.0]
    """
    return _cumulative(Cumprod, x, axis)
