"""Shape ops: reading shapes (``shape``, ``Shape_i``), building shape vectors (``MakeVector``),
rearranging dimensions (``DimShuffle``: transpose, expand_dims, squeeze, moveaxis), and the ops
that change shapes or combine arrays: ``Reshape``, ``BroadcastTo``, ``Join`` / ``Split``
(concatenate, stack, split) and ``Repeat`` (repeat; tile is built from reshape and broadcast_to).

Shapes given by users may mix Python ints and int scalar variables, or be an int vector whose
length is known at graph time. Every op computes the static output shape it can, raises
:class:`~gnomon.errors.ShapeError` at build time for shapes that can never match (naming the
user's line), and checks the rest at run time with a message that names the sizes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from gnomon.errors import GnomonValueError, ShapeError
from gnomon.graph.basic import Apply, Constant, Variable
from gnomon.graph.op import Op
from gnomon.tensor.basic import as_tensor, constant
from gnomon.tensor.type import TensorType


def _axis(axis: int, ndim: int, what: str = "axis") -> int:
    if not -ndim <= axis < max(ndim, 1) or (ndim == 0 and axis not in (0, -1)):
        raise GnomonValueError(f"{what} {axis} is out of bounds for an array of {ndim} dimensions")
    return axis % ndim if ndim else 0


# --- reading shapes -----------------------------------------------------------------------


@dataclass(frozen=True)
class Shape(Op):
    """``shape(x)``: the shape of ``x`` as an int64 vector."""

    def make_node(self, x: Any) -> Apply:
        x = as_tensor(x)
        return Apply.make(self, [x], [TensorType("int64", (x.ndim,))])

    def perform(self, node, inputs):  # type: ignore[no-untyped-def]
        return (np.array(inputs[0].shape, dtype="int64"),)

    def infer_shape(self, node, input_shapes):  # type: ignore[no-untyped-def]
        return [(constant(node.inputs[0].ndim, "int64"),)]

    def pullback(self, node, output_grads):  # type: ignore[no-untyped-def]
        return [None]


@dataclass(frozen=True)
class ShapeI(Op):
    """``x.shape[i]`` as an int64 scalar."""

    i: int

    def make_node(self, x: Any) -> Apply:
        x = as_tensor(x)
        if not 0 <= self.i < x.ndim:
            raise GnomonValueError(f"Shape_i({self.i}) of a {x.ndim}-d array")
        return Apply.make(self, [x], [TensorType("int64", ())])

    def perform(self, node, inputs):  # type: ignore[no-untyped-def]
        return (np.array(inputs[0].shape[self.i], dtype="int64"),)

    def infer_shape(self, node, input_shapes):  # type: ignore[no-untyped-def]
        return [()]

    def pullback(self, node, output_grads):  # type: ignore[no-untyped-def]
        return [None]

    def __str__(self) -> str:
        return f"Shape_i{{{self.i}}}"


def shape(x: Any) -> Variable:
    """The shape of ``x`` as a symbolic int64 vector (like ``x.shape``).

    Examples
    --------
    >>> import gnomon.tensor as gt
    >>> gt.shape(gt.dmatrix("m")).eval({gt.dmatrix("m"): [[1.0, 2.0]]}) is not None
    True
    """
    return Shape()(as_tensor(x))  # type: ignore[no-any-return]


def shape_i(x: Any, i: int) -> Variable:
    """``x.shape[i]``: a constant when the static shape knows it, else a ``Shape_i`` node."""
    x = as_tensor(x)
    i = _axis(i, x.ndim)
    s = x.type.shape[i]
    if s is not None:
        return constant(s, "int64")
    return ShapeI(i)(x)  # type: ignore[no-any-return]


def shape_tuple(x: Any) -> tuple[Variable, ...]:
    """The shape of ``x`` as a tuple of int64 scalars (constants where statically known)."""
    x = as_tensor(x)
    return tuple(shape_i(x, i) for i in range(x.ndim))


@dataclass(frozen=True)
class MakeVector(Op):
    """Stack scalars of one dtype into a vector (used for symbolic shapes)."""

    dtype: str = "int64"

    def make_node(self, *scalars: Any) -> Apply:
        from gnomon.tensor.basic import cast

        xs = [cast(as_tensor(s), self.dtype) for s in scalars]
        for s in xs:
            if s.ndim != 0:
                raise ShapeError(f"MakeVector takes scalars, got {s.type}")
        return Apply.make(self, xs, [TensorType(self.dtype, (len(xs),))])

    def perform(self, node, inputs):  # type: ignore[no-untyped-def]
        return (np.array([np.asarray(v).item() for v in inputs], dtype=self.dtype),)

    def infer_shape(self, node, input_shapes):  # type: ignore[no-untyped-def]
        return [(constant(len(node.inputs), "int64"),)]

    def pullback(self, node, output_grads):  # type: ignore[no-untyped-def]
        if self.dtype[0] not in "fc":
            return [None] * len(node.inputs)
        return _vector_entries(output_grads[0], len(node.inputs))


def make_vector(*scalars: Any, dtype: str = "int64") -> Variable:
    return MakeVector(dtype)(*scalars)  # type: ignore[no-any-return]


def shape_scalars_of_vector(v: Variable) -> list[Variable]:
    """Split a shape vector of static length into int64 scalars."""
    from gnomon.tensor.basic import cast

    n = v.type.shape[0]  # type: ignore[attr-defined]
    if n is None:
        raise ShapeError(
            f"a shape vector must have a length known at graph time, but {v} has type {v.type}.\n"
            "Hint: pass the shape as a tuple of scalars, e.g. (x.shape[0], 3)."
        )
    if isinstance(v, Constant):
        return [constant(int(s), "int64") for s in v.data]
    if v.owner is not None and isinstance(v.owner.op, MakeVector):
        return [cast(s, "int64") for s in v.owner.inputs]
    if v.owner is not None and isinstance(v.owner.op, Shape):
        return list(shape_tuple(v.owner.inputs[0]))
    return [cast(s, "int64") for s in _vector_entries(v, n)]


def _vector_entries(v: Variable, n: int) -> list[Variable]:
    """The ``n`` entries of vector ``v`` as scalars, with one :class:`Split` node (which checks
    at run time that ``v`` has length ``n``); no dependence on indexing."""
    one = constant(1, "int64")
    if n == 0:
        return []
    parts = Split(0, n).make_node(v, *([one] * n)).outputs
    return [DimShuffle(1, ())(p) for p in parts]


# --- DimShuffle ---------------------------------------------------------------------------


@dataclass(frozen=True)
class DimShuffle(Op):
    """Reorder, insert (``'x'``) and drop (length-1) dimensions; the output is a view.

    ``new_order`` lists, for each output dimension, the input dimension it comes from or ``'x'``
    for a new length-1 dimension. Input dimensions left out must have length 1 (checked
    statically when known, at run time otherwise).

    Examples
    --------
    >>> import gnomon.tensor as gt
    >>> gt.dimshuffle(gt.dmatrix("m"), (1, "x", 0)).type
    TensorType('float64', (None, 1, None))
    """

    input_ndim: int
    new_order: tuple[int | str, ...]

    view_map = {0: 0}  # type: ignore[assignment]  # noqa: RUF012

    def __post_init__(self) -> None:
        seen = [d for d in self.new_order if d != "x"]
        if len(set(seen)) != len(seen):
            raise GnomonValueError(f"dimshuffle pattern {self.new_order} repeats a dimension")
        for d in seen:
            if not isinstance(d, int | np.integer) or not 0 <= int(d) < self.input_ndim:
                raise GnomonValueError(
                    f"dimshuffle pattern {self.new_order} has {d!r}, which is not 'x' or an axis "
                    f"of a {self.input_ndim}-d input"
                )

    @property
    def dropped(self) -> tuple[int, ...]:
        return tuple(i for i in range(self.input_ndim) if i not in self.new_order)

    @property
    def is_transpose(self) -> bool:
        return "x" not in self.new_order and not self.dropped

    def make_node(self, x: Any) -> Apply:
        x = as_tensor(x)
        if x.ndim != self.input_ndim:
            raise ShapeError(f"{self} expects a {self.input_ndim}-d input, got {x.type}")
        for d in self.dropped:
            if x.type.shape[d] not in (1, None):
                raise ShapeError(
                    f"cannot drop dimension {d} of {x} (static shape {x.type.shape_str()}): "
                    f"only length-1 dimensions can be dropped{_where()}.\n"
                    "Hint: squeeze only axes of length 1; use reshape or a reduction to remove "
                    "a longer axis."
                )
        out_shape = tuple(1 if d == "x" else x.type.shape[d] for d in self.new_order)
        return Apply.make(self, [x], [TensorType(x.dtype, out_shape)])

    def perform(self, node, inputs):  # type: ignore[no-untyped-def]
        (x,) = inputs
        for d in self.dropped:
            if x.shape[d] != 1:
                raise ShapeError(
                    f"cannot drop dimension {d} of an array of shape {x.shape}: its length is "
                    f"{x.shape[d]}, not 1.\nHint: squeeze only axes of length 1; use reshape "
                    "or a reduction to remove a longer axis."
                )
        kept = [d for d in self.new_order if d != "x"]
        y = np.transpose(x, kept + list(self.dropped))
        out_shape = [1 if d == "x" else x.shape[d] for d in self.new_order]
        return (y.reshape(out_shape),)

    def infer_shape(self, node, input_shapes):  # type: ignore[no-untyped-def]
        (s,) = input_shapes
        one = constant(1, "int64")
        return [tuple(one if d == "x" else s[d] for d in self.new_order)]

    def pullback(self, node, output_grads):  # type: ignore[no-untyped-def]
        (g,) = output_grads
        x = node.inputs[0]
        # Put the kept axes back in input order; dropped axes come back as 'x'.
        inv: list[int | str] = []
        for i in range(self.input_ndim):
            inv.append(self.new_order.index(i) if i in self.new_order else "x")
        # 'x' axes of the output have length 1: drop them by listing only the kept ones.
        return [dimshuffle(g, tuple(inv)) if x.dtype[0] in "fc" else None]

    def pushforward(self, node, tangents):  # type: ignore[no-untyped-def]
        (t,) = tangents
        return [None if t is None else self(t)]

    def __str__(self) -> str:
        if self.is_transpose:
            return f"Transpose{{{','.join(map(str, self.new_order))}}}"
        return f"DimShuffle{{{','.join(map(str, self.new_order))}}}"


def dimshuffle(x: Any, pattern: Sequence[int | str]) -> Variable:
    """Rearrange the dimensions of ``x`` (see :class:`DimShuffle`); the identity is free."""
    x = as_tensor(x)
    pattern = tuple(p if p == "x" else int(p) for p in pattern)
    if pattern == tuple(range(x.ndim)):
        return x
    return DimShuffle(x.ndim, pattern)(x)  # type: ignore[no-any-return]


def expand_dims(x: Any, axis: int | Sequence[int]) -> Variable:
    """Insert length-1 dimensions at ``axis`` (like ``np.expand_dims``)."""
    x = as_tensor(x)
    axes = [axis] if isinstance(axis, int | np.integer) else list(axis)
    out_ndim = x.ndim + len(axes)
    axes = sorted(_axis(int(a), out_ndim) for a in axes)
    if len(set(axes)) != len(axes):
        raise GnomonValueError(f"expand_dims: repeated axis in {axis}")
    pattern: list[int | str] = []
    src = iter(range(x.ndim))
    for i in range(out_ndim):
        pattern.append("x" if i in axes else next(src))
    return dimshuffle(x, pattern)


def transpose(x: Any, axes: Sequence[int] | None = None) -> Variable:
    """Permute dimensions (reverse them by default), like ``np.transpose``."""
    x = as_tensor(x)
    if axes is None:
        axes = tuple(reversed(range(x.ndim)))
    axes = tuple(_axis(int(a), x.ndim) for a in axes)
    if sorted(axes) != list(range(x.ndim)):
        raise GnomonValueError(f"transpose: axes {tuple(axes)} are not a permutation of 0..{x.ndim - 1}")
    return dimshuffle(x, axes)


def pad_left(x: Variable, ndim: int) -> Variable:
    """Prepend length-1 dimensions to reach ``ndim`` (NumPy's broadcasting alignment)."""
    if x.ndim >= ndim:
        return x
    if isinstance(x, Constant):
        # Constants stay constants (no node), so printing and rewrites see the value.
        return constant(x.data.reshape((1,) * (ndim - x.ndim) + x.data.shape))
    return dimshuffle(x, ["x"] * (ndim - x.ndim) + list(range(x.ndim)))
