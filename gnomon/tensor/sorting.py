"""Sorting: ``sort``, ``argsort`` and ``searchsorted``, and :class:`PermuteAlongAxis`, the
gather by a permutation that carries the gradient of ``sort``.

Sorting is stable everywhere (``kind='stable'`` in NumPy's terms): equal elements keep their
order, so ``argsort`` is fully determined and every backend can agree with the reference.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from gnomon.errors import GnomonTypeError, GnomonValueError, with_hint
from gnomon.graph.basic import Apply, Variable
from gnomon.graph.op import Op
from gnomon.tensor.basic import as_tensor
from gnomon.tensor.type import TensorType

__all__ = ["Argsort", "PermuteAlongAxis", "SearchSorted", "Sort", "argsort", "searchsorted",
           "sort"]


def _check_axis(op: Op, x: Variable, axis: int) -> None:
    if not 0 <= axis < x.ndim:
        raise GnomonValueError(with_hint(
            f"{op}: axis {axis} is out of range for {x.type}",
            "build it with gt.sort / gt.argsort, which normalize the axis; a 0-d array cannot "
            "be sorted (use axis=None to sort it as a 1-element vector)",
        ))
    if x.dtype[0] == "c":
        raise GnomonTypeError(with_hint(
            f"{op}: sorting the complex array {x} is not supported",
            "sort abs(x), or the real part",
        ))


@dataclass(frozen=True)
class _AlongAxis(Op):
    """Base of the ops that act on one axis and keep the input's shape."""

    axis: int

    def infer_shape(self, node, input_shapes):
        return [input_shapes[0]]

    def __str__(self) -> str:
        return f"{type(self).__name__}{{axis={self.axis}}}"


@dataclass(frozen=True)
class Sort(_AlongAxis):
    """Sorted copy of ``x`` along ``axis`` (ascending; ``nan`` last, as in NumPy).

    The gradient scatters the output gradient back through the sorting permutation:
    ``dx[perm[j]] = g[j]``, computed as a gather by the inverse permutation. Tied elements get
    the gradients of the positions the stable sort gave them.
    """

    def make_node(self, x: Any) -> Apply:
        x = as_tensor(x)
        _check_axis(self, x, self.axis)
        return Apply.make(self, [x], [x.type.clone()])

    def perform(self, node, inputs):
        return (np.sort(inputs[0], axis=self.axis, kind="stable"),)

    def pullback(self, node, output_grads):
        x = node.inputs[0]
        if x.dtype[0] not in "fc":
            return [None]
        perm = Argsort(self.axis)(x)
        inverse = Argsort(self.axis)(perm)
        return [PermuteAlongAxis(self.axis)(output_grads[0], inverse)]


@dataclass(frozen=True)
class Argsort(_AlongAxis):
    """Indices that sort ``x`` along ``axis`` (stable; int64); no gradient."""

    def make_node(self, x: Any) -> Apply:
        x = as_tensor(x)
        _check_axis(self, x, self.axis)
        return Apply.make(self, [x], [TensorType("int64", x.type.shape)])

    def perform(self, node, inputs):
        return (np.argsort(inputs[0], axis=self.axis, kind="stable").astype("int64"),)

    def pullback(self, node, output_grads):
        return [None]


@dataclass(frozen=True)
class PermuteAlongAxis(_AlongAxis):
    """``np.take_along_axis(x, perm, axis)`` for ``perm`` a permutation along ``axis`` of the
    same shape as ``x``: ``out[..., j, ...] = x[..., perm[..., j, ...], ...]``.

    Because ``perm`` is a permutation, the adjoint (a scatter) is again a gather, by the
    inverse permutation, so the op is closed under differentiation. It does not check that
    ``perm`` is a permutation; other indices give wrong gradients.
    """

    def make_node(self, x: Any, perm: Any) -> Apply:
        from gnomon.tensor.elemwise import broadcast_static_shapes

        x, perm = as_tensor(x), as_tensor(perm)
        if perm.dtype != "int64" or perm.ndim != x.ndim:
            raise GnomonTypeError(with_hint(
                f"{self}: the permutation must be an int64 array of {x.ndim} dimensions, "
                f"got {perm.type}", "use the output of gt.argsort",
            ))
        _check_axis(self, x, self.axis)
        shape = broadcast_static_shapes(x.type.shape, perm.type.shape, what=str(self))
        return Apply.make(self, [x, perm], [TensorType(x.dtype, shape)])

    def perform(self, node, inputs):
        x, perm = inputs
        if x.shape != perm.shape:
            raise GnomonValueError(with_hint(
                f"{self}: the array has shape {x.shape} but the permutation {perm.shape}",
                "permute with indices of the array's own shape",
            ))
        return (np.take_along_axis(x, perm, axis=self.axis),)

    def pullback(self, node, output_grads):
        x, perm = node.inputs
        if x.dtype[0] not in "fc":
            return [None, None]
        return [PermuteAlongAxis(self.axis)(output_grads[0], Argsort(self.axis)(perm)), None]

    def pushforward(self, node, tangents):
        t = tangents[0]
        return [None if t is None else self(t, node.inputs[1])]


@dataclass(frozen=True)
class SearchSorted(Op):
    """Indices where ``values`` would be inserted into the sorted 1-d ``sorted_seq`` to keep
    it sorted (``side='left'``: before equal elements; ``'right'``: after them); int64 with
    the shape of ``values``; no gradient."""

    side: str = "left"

    def __post_init__(self) -> None:
        if self.side not in ("left", "right"):
            raise GnomonValueError(with_hint(
                f"searchsorted: side={self.side!r} is not 'left' or 'right'",
                "pass side='left' or side='right'",
            ))

    def make_node(self, sorted_seq: Any, values: Any) -> Apply:
        a, v = as_tensor(sorted_seq), as_tensor(values)
        if a.ndim != 1:
            raise GnomonValueError(with_hint(
                f"searchsorted: the sorted sequence must be 1-d, got {a.type}",
                "search each row separately, or flatten the sequence",
            ))
        if a.dtype[0] == "c" or v.dtype[0] == "c":
            raise GnomonTypeError(with_hint(
                "searchsorted does not support complex arrays", "search real values"
            ))
        return Apply.make(self, [a, v], [TensorType("int64", v.type.shape)])

    def perform(self, node, inputs):
        a, v = inputs
        return (np.asarray(np.searchsorted(a, v, side=self.side), dtype="int64"),)

    def infer_shape(self, node, input_shapes):
        return [input_shapes[1]]

    def pullback(self, node, output_grads):
        return [None, None]

    def __str__(self) -> str:
        return f"SearchSorted{{side={self.side}}}"


def _axis_and_input(x: Any, axis: int | None, what: str) -> tuple[Variable, int]:
    """NumPy's convention: ``axis=None`` sorts the flattened array."""
    from gnomon.tensor.reduce import _one_axis

    x = as_tensor(x)
    if axis is None:
        from gnomon.tensor.shapes import flatten

        return (flatten(x) if x.ndim != 1 else x), 0
    if x.ndim == 0:
        raise GnomonValueError(with_hint(
            f"{what}: a 0-d array has no axis {axis} to sort along",
            "pass axis=None to sort it as a 1-element vector",
        ))
    return x, _one_axis(axis, x.ndim, what)


def sort(x: Any, axis: int | None = -1) -> Variable:
    """A sorted copy of ``x`` along ``axis`` (like ``np.sort``; ``axis=None`` flattens first).

    The sort is stable and puts ``nan`` last. Its gradient sends each output gradient back to
    the element that landed there.

    Parameters
    ----------
    x : array_like
        Real values.
    axis : int or None

    Examples
    --------
    >>> import numpy as np, gnomon, gnomon.tensor as gt
    >>> x = gt.dvector("x")
    >>> gt.sort(x).eval({x: np.array([3.0, 1.0, 2.0])}).tolist()
    [1.0, 2.0, 3.0]
    >>> w = gt.constant([1.0, 10.0, 100.0])
    >>> gnomon.grad(gt.sum(gt.sort(x) * w), x).eval({x: np.array([3.0, 1.0, 2.0])}).tolist()
    [100.0, 1.0, 10.0]
    """
    x, ax = _axis_and_input(x, axis, "sort")
    return Sort(ax)(x)


def argsort(x: Any, axis: int | None = -1) -> Variable:
    """Indices that sort ``x`` along ``axis`` (like ``np.argsort(x, kind='stable')``).

    Ties keep their original order (NumPy's default ``kind='quicksort'`` makes no such promise,
    so with ties NumPy's default may give other, equally valid, indices). int64 output.

    Parameters
    ----------
    x : array_like
        Real values.
    axis : int or None
        ``None`` gives indices into the flattened array.

    Examples
    --------
    >>> import gnomon.tensor as gt
    >>> gt.argsort(gt.constant([3, 1, 2, 1])).eval().tolist()
    [1, 3, 2, 0]
    """
    x, ax = _axis_and_input(x, axis, "argsort")
    return Argsort(ax)(x)


def searchsorted(sorted_seq: Any, values: Any, side: str = "left") -> Variable:
    """Indices where ``values`` would be inserted into ``sorted_seq`` to keep it sorted (like
    ``np.searchsorted``, without ``sorter``).

    Parameters
    ----------
    sorted_seq : array_like
        A 1-d array sorted in ascending order (not checked; an unsorted one gives meaningless
        indices, as in NumPy).
    values : array_like
        Values to insert; the result has their shape.
    side : {'left', 'right'}
        For a value equal to elements of ``sorted_seq``: the index before them (``'left'``) or
        after them (``'right'``).

    Examples
    --------
    >>> import gnomon.tensor as gt
    >>> a = gt.constant([1.0, 2.0, 2.0, 3.0])
    >>> gt.searchsorted(a, gt.constant([2.0, 0.5])).eval().tolist()
    [1, 0]
    >>> gt.searchsorted(a, 2.0, side="right").eval().item()
    3
    """
    return SearchSorted(side)(sorted_seq, values)
