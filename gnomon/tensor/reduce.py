"""Reductions over axes: sum, prod, max, min, all, any (and, built on them, mean, var, std,
argmax, argmin, logsumexp), plus cumulative sums and products."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from gnomon.errors import GnomonValueError
from gnomon.graph.basic import Apply, Variable
from gnomon.graph.op import Op
from gnomon.tensor.basic import as_tensor
from gnomon.tensor.type import TensorType


def normalize_axes(axis: Any, ndim: int) -> tuple[int, ...]:
    """``None`` means all axes; negative axes count from the end; duplicates are an error."""
    if axis is None:
        return tuple(range(ndim))
    axes = [axis] if isinstance(axis, int | np.integer) else list(axis)
    out = []
    for a in axes:
        a = int(a)
        if not -ndim <= a < ndim:
            raise GnomonValueError(f"axis {a} is out of bounds for an array of {ndim} dimensions")
        out.append(a % ndim)
    if len(set(out)) != len(out):
        raise GnomonValueError(f"duplicate value in axis {axis}")
    return tuple(sorted(out))


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

    def perform(self, node, inputs):  # type: ignore[no-untyped-def]
        out = np.sum(inputs[0], axis=self.axes, dtype=node.outputs[0].dtype)
        return (np.asarray(out),)

    def infer_shape(self, node, input_shapes):  # type: ignore[no-untyped-def]
        return [tuple(s for i, s in enumerate(input_shapes[0]) if i not in self.axes)]

    def pullback(self, node, output_grads):  # type: ignore[no-untyped-def]
        from gnomon.tensor.basic import alloc, cast
        from gnomon.tensor.shape import expand_dims, shape_tuple

        x = node.inputs[0]
        if x.dtype[0] not in "fc":
            return [None]
        g = cast(output_grads[0], x.dtype)
        g = expand_dims(g, self.axes) if self.axes else g
        return [alloc(g, *shape_tuple(x))]

    def pushforward(self, node, tangents):  # type: ignore[no-untyped-def]
        (t,) = tangents
        return [None if t is None else self(t)]

    def __str__(self) -> str:
        return f"Sum{{axes={list(self.axes)}}}"


def sum(
    x: Any, axis: Any = None, keepdims: bool = False, dtype: Any = None, acc_dtype: Any = None
) -> Variable:
    """Sum of array elements over ``axis`` (like ``np.sum``).

    Examples
    --------
    >>> import gnomon.tensor as gt
    >>> gt.sum(gt.constant([[1.0, 2.0], [3.0, 4.0]]), axis=0).eval().tolist()
    [4.0, 6.0]
    """
    from gnomon.tensor.shape import expand_dims
    from gnomon.tensor.type import normalize_dtype

    x = as_tensor(x)
    axes = normalize_axes(axis, x.ndim)
    dt = normalize_dtype(dtype) if dtype is not None else None
    out = Sum(axes, dt)(x) if axes or dt else x
    if keepdims and axes:
        out = expand_dims(out, axes)
    return out  # type: ignore[no-any-return]


def _keep(out: Variable, axes: Sequence[int], keepdims: bool) -> Variable:
    from gnomon.tensor.shape import expand_dims

    return expand_dims(out, axes) if keepdims and axes else out
