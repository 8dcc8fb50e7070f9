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

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from gnomon.errors import GnomonTypeError, GnomonValueError, ShapeError
from gnomon.errors import at_user_line as _where
from gnomon.graph.basic import Apply, Constant, Variable
from gnomon.graph.op import Op
from gnomon.tensor.basic import as_tensor, constant
from gnomon.tensor.type import INT_DTYPES, TensorType
from gnomon.tensor.variable import TensorVariable

__all__ = [
    "Shape", "ShapeI", "shape", "shape_i", "shape_tuple",
    "MakeVector", "make_vector", "shape_scalars_of_vector",
    "DimShuffle", "dimshuffle", "expand_dims", "transpose", "pad_left",
    "Reshape", "reshape", "flatten", "ravel", "squeeze",
    "BroadcastTo", "broadcast_to",
    "Join", "Split", "concatenate", "join", "stack", "atleast_1d", "atleast_2d", "atleast_3d",
    "vstack", "hstack", "split", "split_sizes",
    "Repeat", "RepeatSum", "repeat", "tile", "moveaxis", "swapaxes",
]


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

    def perform(self, node, inputs):
        return (np.array(inputs[0].shape, dtype="int64"),)

    def infer_shape(self, node, input_shapes):
        return [(constant(node.inputs[0].ndim, "int64"),)]

    def pullback(self, node, output_grads):
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

    def perform(self, node, inputs):
        return (np.array(inputs[0].shape[self.i], dtype="int64"),)

    def infer_shape(self, node, input_shapes):
        return [()]

    def pullback(self, node, output_grads):
        return [None]

    def __str__(self) -> str:
        return f"Shape_i{{{self.i}}}"


def shape(x: Any) -> Variable:
    """The shape of ``x`` as a symbolic int64 vector (like ``x.shape``).

    Examples
    --------
    >>> import gnomon.tensor as gt
    >>> m = gt.dmatrix("m")
    >>> gt.shape(m).eval({m: [[1.0, 2.0]]}).tolist()
    [1, 2]
    """
    return Shape()(as_tensor(x))


def shape_i(x: Any, i: int) -> Variable:
    """``x.shape[i]``: a constant when the static shape knows it, else a ``Shape_i`` node.

    Examples
    --------
    >>> import gnomon.tensor as gt
    >>> x = gt.tensor("x", shape=(None, 3))
    >>> gt.shape_i(x, 1).eval().item(), gt.shape_i(x, 0).eval({x: [[1.0, 2.0, 3.0]]}).item()
    (3, 1)
    """
    x = as_tensor(x)
    i = _axis(i, x.ndim)
    s = x.type.shape[i]
    if s is not None:
        return constant(s, "int64")
    return ShapeI(i)(x)


def shape_tuple(x: Any) -> tuple[Variable, ...]:
    """The shape of ``x`` as a tuple of int64 scalars (constants where statically known).

    Examples
    --------
    >>> import gnomon.tensor as gt
    >>> [str(d) for d in gt.shape_tuple(gt.tensor("x", shape=(None, 3)))]
    ['Shape_i{0}.0', '3']
    """
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

    def perform(self, node, inputs):
        return (np.array([np.asarray(v).item() for v in inputs], dtype=self.dtype),)

    def infer_shape(self, node, input_shapes):
        return [(constant(len(node.inputs), "int64"),)]

    def pullback(self, node, output_grads):
        if self.dtype[0] not in "fc":
            return [None] * len(node.inputs)
        return _vector_entries(output_grads[0], len(node.inputs))


def make_vector(*scalars: Any, dtype: str = "int64") -> Variable:
    """A vector of ``dtype`` from scalars (each cast to ``dtype``).

    Examples
    --------
    >>> import gnomon.tensor as gt
    >>> n = gt.lscalar("n")
    >>> gt.make_vector(n, 3).eval({n: 2}).tolist()
    [2, 3]
    """
    return MakeVector(dtype)(*scalars)


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

    view_map = {0: 0}  # noqa: RUF012

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

    def perform(self, node, inputs):
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

    def infer_shape(self, node, input_shapes):
        (s,) = input_shapes
        one = constant(1, "int64")
        return [tuple(one if d == "x" else s[d] for d in self.new_order)]

    def pullback(self, node, output_grads):
        (g,) = output_grads
        x = node.inputs[0]
        # Put the kept axes back in input order; dropped axes come back as 'x'.
        inv: list[int | str] = []
        for i in range(self.input_ndim):
            inv.append(self.new_order.index(i) if i in self.new_order else "x")
        # 'x' axes of the output have length 1: drop them by listing only the kept ones.
        return [dimshuffle(g, tuple(inv)) if x.dtype[0] in "fc" else None]

    def pushforward(self, node, tangents):
        (t,) = tangents
        return [None if t is None else self(t)]

    def __str__(self) -> str:
        if self.is_transpose:
            return f"Transpose{{{','.join(map(str, self.new_order))}}}"
        return f"DimShuffle{{{','.join(map(str, self.new_order))}}}"


def dimshuffle(x: Any, pattern: Sequence[int | str]) -> TensorVariable:
    """Rearrange the dimensions of ``x`` (see :class:`DimShuffle`); the identity is free.

    ``pattern`` lists, for each output dimension, an input axis or ``'x'`` for a new
    length-1 dimension; input axes left out must have length 1.

    Examples
    --------
    >>> import gnomon.tensor as gt
    >>> gt.dimshuffle(gt.tensor("x", shape=(2, 1, 3)), (2, "x", 0)).type.shape
    (3, 1, 2)
    """
    x = as_tensor(x)
    pattern = tuple(p if p == "x" else int(p) for p in pattern)
    if pattern == tuple(range(x.ndim)):
        return x
    return DimShuffle(x.ndim, pattern)(x)


def expand_dims(x: Any, axis: int | Sequence[int]) -> TensorVariable:
    """Insert length-1 dimensions at ``axis`` (like ``np.expand_dims``).

    Examples
    --------
    >>> import gnomon.tensor as gt
    >>> gt.expand_dims(gt.tensor("x", shape=(2, 3)), (0, -1)).type.shape
    (1, 2, 3, 1)
    """
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
    """Permute dimensions (reverse them by default), like ``np.transpose``.

    Examples
    --------
    >>> import gnomon.tensor as gt
    >>> x = gt.tensor("x", shape=(2, 3, 4))
    >>> gt.transpose(x).type.shape, gt.transpose(x, (1, 0, 2)).type.shape
    ((4, 3, 2), (3, 2, 4))
    """
    x = as_tensor(x)
    if axes is None:
        axes = tuple(reversed(range(x.ndim)))
    axes = tuple(_axis(int(a), x.ndim) for a in axes)
    if sorted(axes) != list(range(x.ndim)):
        raise GnomonValueError(
            f"transpose: axes {tuple(axes)} are not a permutation of 0..{x.ndim - 1}"
        )
    return dimshuffle(x, axes)


def pad_left(x: Variable, ndim: int) -> Variable:
    """Prepend length-1 dimensions to reach ``ndim`` (NumPy's broadcasting alignment).

    Examples
    --------
    >>> import gnomon.tensor as gt
    >>> gt.pad_left(gt.tensor("x", shape=(3,)), 3).type.shape
    (1, 1, 3)
    """
    if x.ndim >= ndim:
        return x
    if isinstance(x, Constant):
        # Constants stay constants (no node), so printing and rewrites see the value.
        return constant(x.data.reshape((1,) * (ndim - x.ndim) + x.data.shape))
    return dimshuffle(x, ["x"] * (ndim - x.ndim) + list(range(x.ndim)))


# --- helpers for shapes given by users ------------------------------------------------------


def _fmt_shape(dims: Sequence[Any]) -> str:
    items = ["?" if d is None else str(d) for d in dims]
    return "(" + ", ".join(items) + (",)" if len(items) == 1 else ")")


def _const(v: Variable) -> int | None:
    """The Python int of a constant int scalar, else ``None``."""
    if isinstance(v, Constant) and np.ndim(v.data) == 0:
        return int(v.data)
    return None


def _int_scalar(s: Any, what: str) -> Variable:
    """``s`` (a Python int or an integer scalar variable) as an int64 scalar variable."""
    from gnomon.tensor.basic import cast

    if isinstance(s, bool | np.bool_):
        raise GnomonTypeError(f"{what}: got the boolean {s!r} where an integer is needed")
    if isinstance(s, int | np.integer):
        return constant(int(s), "int64")
    v = as_tensor(s)
    if v.ndim != 0 or v.dtype not in INT_DTYPES:
        raise GnomonTypeError(
            f"{what}: entries must be integers or integer scalar variables, got {s!r} "
            f"({v.type}).\nHint: cast a float variable with .astype('int64')."
        )
    return cast(v, "int64")


def _shape_entries(shape: Any, what: str, ndim: int | None = None) -> list[Variable]:
    """Normalize a shape (int, sequence of ints / int scalars, or int vector) to int64 scalars.

    An int vector must have a length known at graph time, or ``ndim`` must give it (then a
    run-time check confirms it).
    """
    from gnomon.tensor.basic import cast

    if isinstance(shape, Variable):
        if shape.dtype not in INT_DTYPES or shape.ndim > 1:
            raise GnomonTypeError(
                f"{what}: a shape must be an integer scalar or vector, got {shape.type}.\n"
                "Hint: pass a tuple of ints and integer scalar variables."
            )
        if shape.ndim == 0:
            return [cast(shape, "int64")]
        if shape.type.shape[0] is None and ndim is not None:  # type: ignore[attr-defined]
            return [cast(e, "int64") for e in _vector_entries(shape, ndim)]
        return shape_scalars_of_vector(shape)
    if isinstance(shape, int | np.integer) and not isinstance(shape, bool):
        return [_int_scalar(shape, what)]
    if isinstance(shape, np.ndarray):
        shape = shape.tolist()
        shape = [shape] if isinstance(shape, int) else shape
    if not isinstance(shape, Sequence):
        raise GnomonTypeError(f"{what}: cannot use {shape!r} as a shape")
    return [_int_scalar(s, what) for s in shape]


def _fold_int(xs: Sequence[Variable], multiply: bool) -> Variable:
    """Product (``multiply``) or sum of int64 scalars, folding the constant ones at graph
    time."""
    from gnomon.tensor import math as tm

    identity = 1 if multiply else 0
    k = identity
    rest = []
    for x in xs:
        c = _const(x)
        if c is None:
            rest.append(x)
        else:
            k = k * c if multiply else k + c
    if not rest or (multiply and k == 0):
        return constant(k, "int64")
    combine = tm.mul if multiply else tm.add
    out = rest[0] if len(rest) == 1 else combine(*rest)
    return out if k == identity else combine(out, constant(k, "int64"))


def _mul_int(*xs: Variable) -> Variable:
    """Product of int64 scalars, folding the constant ones at graph time."""
    return _fold_int(xs, multiply=True)


def _add_int(*xs: Variable) -> Variable:
    """Sum of int64 scalars, folding the constant ones at graph time."""
    return _fold_int(xs, multiply=False)


def _axes(axis: int | Sequence[int], ndim: int, what: str) -> list[int]:
    axes = [axis] if isinstance(axis, int | np.integer) else list(axis)
    if axes and ndim == 0:
        raise GnomonValueError(f"{what}: a zero-dimensional array has no axis {axis}")
    out = [_axis(int(a), ndim, f"{what}: axis") for a in axes]
    if len(set(out)) != len(out):
        raise GnomonValueError(f"{what}: repeated axis in {axis}")
    return out


def _need_float(x: Variable) -> bool:
    return x.dtype[0] in "fc"


# --- reshape --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Reshape(Op):
    """``reshape(x, *shape)``: the elements of ``x`` in C order, in a new shape.

    The inputs after ``x`` are int64 scalars, one per output dimension. A constant ``-1`` stands
    for the length that makes the sizes match (at most one). The output is a view of ``x`` when
    NumPy can make one.
    """

    view_map = {0: 0}  # noqa: RUF012

    def make_node(self, x: Any, *shape: Any) -> Apply:
        x = as_tensor(x)
        dims = [_int_scalar(s, "reshape") for s in shape]
        consts = [_const(d) for d in dims]
        static = _reshape_static(x, consts)
        return Apply.make(self, [x, *dims], [TensorType(x.dtype, static)])

    def perform(self, node, inputs):
        x, *shape = inputs
        dims = [int(s) for s in shape]
        free = [i for i, v in enumerate(node.inputs[1:]) if _const(v) == -1]
        for i, d in enumerate(dims):
            if d < 0 and i not in free:
                raise ShapeError(
                    f"cannot reshape an array of shape {x.shape} into shape {tuple(dims)}: "
                    f"entry {i} is {d}, a negative length.\nHint: only a literal -1 in the "
                    "shape stands for the length to infer; compute symbolic lengths explicitly."
                )
        if free:
            k = int(np.prod([d for i, d in enumerate(dims) if i != free[0]], dtype=np.int64))
            if k == 0 or x.size % k:
                raise ShapeError(
                    f"cannot reshape an array of size {x.size} (shape {x.shape}) into shape "
                    f"{tuple(dims)}: {x.size} is not a multiple of {k}, the product of the "
                    "other lengths.\nHint: check the lengths in the new shape."
                )
            dims[free[0]] = x.size // k
        size = int(np.prod(dims, dtype=np.int64))
        if size != x.size:
            raise ShapeError(
                f"cannot reshape an array of size {x.size} (shape {x.shape}) into shape "
                f"{tuple(dims)} of size {size}.\nHint: the new shape must have as many "
                "elements as the array; use -1 for one length to have it inferred."
            )
        return (x.reshape(dims),)

    def infer_shape(self, node, input_shapes):
        from gnomon.tensor import math as tm

        dims = list(node.inputs[1:])
        free = [i for i, d in enumerate(dims) if _const(d) == -1]
        if free:
            size = _mul_int(*input_shapes[0])
            others = _mul_int(*[d for i, d in enumerate(dims) if i != free[0]])
            dims[free[0]] = tm.floor_divide(size, others)
        static = node.outputs[0].type.shape
        return [tuple(d if s is None else constant(s, "int64") for d, s in zip(dims, static,
                                                                              strict=True))]

    def pullback(self, node, output_grads):
        x = node.inputs[0]
        none = [None] * (len(node.inputs) - 1)
        if not _need_float(x):
            return [None, *none]
        return [Reshape()(output_grads[0], *shape_tuple(x)), *none]

    def pushforward(self, node, tangents):
        t = tangents[0]
        return [None if t is None else self(t, *node.inputs[1:])]


def _reshape_static(x: Variable, consts: list[int | None]) -> tuple[int | None, ...]:
    in_shape = x.type.shape  # type: ignore[attr-defined]
    shown = _fmt_shape(consts)
    if consts.count(-1) > 1:
        raise ShapeError(
            f"reshape: the shape {shown} has more than one -1{_where()}.\n"
            "Hint: at most one length can be inferred; give the others explicitly."
        )
    for c in consts:
        if c is not None and c < -1:
            raise ShapeError(f"reshape: the shape {shown} has the negative length {c}{_where()}."
                             "\nHint: lengths must be >= 0 (or -1 for one inferred length).")
    out: list[int | None] = [c if c is not None and c >= 0 else None for c in consts]
    size = None if None in in_shape else int(np.prod(in_shape, dtype=np.int64))
    others = [c for c in consts if c != -1]
    if size is None or None in others:
        return tuple(out)
    k = int(np.prod(others, dtype=np.int64))  # type: ignore[arg-type]
    what = f"{x} of static shape {x.type.shape_str()} (size {size})"  # type: ignore[attr-defined]
    if -1 in consts:
        if k == 0 or size % k:
            raise ShapeError(
                f"cannot reshape {what} into shape {shown}: {size} is not a multiple of {k}"
                f"{_where()}.\nHint: check the lengths in the new shape."
            )
        out[consts.index(-1)] = size // k
    elif k != size:
        raise ShapeError(
            f"cannot reshape {what} into shape {shown} of size {k}{_where()}.\n"
            "Hint: the new shape must have as many elements as the array; use -1 for one "
            "length to have it inferred."
        )
    return tuple(out)


def reshape(x: Any, shape: Any, ndim: int | None = None) -> Variable:
    """Give ``x`` a new shape without changing its elements (like ``np.reshape``, C order).

    Parameters
    ----------
    x : array-like
    shape : int, sequence or int vector
        The new shape: Python ints and integer scalar variables (one ``-1`` allowed, for the
        length that makes the sizes match), or an integer vector variable whose length is
        known at graph time.
    ndim : int, optional
        The length of ``shape`` when it is a vector of unknown static length (checked at run
        time).

    Returns
    -------
    Variable
        The reshaped array; its static shape holds every length known at graph time.

    Raises
    ------
    ShapeError
        At graph time when the static sizes cannot match; at run time (naming both sizes and
        the line that built the node) when the actual sizes differ.

    Examples
    --------
    >>> import numpy as np, gnomon.tensor as gt
    >>> x = gt.dvector("x")
    >>> y = gt.reshape(x, (2, -1))
    >>> y.eval({x: np.arange(6.0)}).tolist()
    [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]]
    >>> gt.reshape(gt.dmatrix("m", shape=(4, 3)), (2, -1)).type.shape
    (2, 6)
    """
    x = as_tensor(x)
    dims = _shape_entries(shape, "reshape", ndim)
    if ndim is not None and len(dims) != ndim:
        raise ShapeError(f"reshape: the shape has {len(dims)} entries but ndim={ndim}")
    if tuple(dims) == shape_tuple(x):
        return x
    return Reshape()(x, *dims)


def flatten(x: Any, ndim: int = 1) -> Variable:
    """Keep the first ``ndim - 1`` dimensions of ``x`` and merge the rest into one.

    PyTensor's ``flatten``: the result has ``ndim`` dimensions; ``flatten(x)`` is ``ravel(x)``.

    Examples
    --------
    >>> import numpy as np, gnomon.tensor as gt
    >>> x = gt.tensor3("x", shape=(None, 3, 4))
    >>> gt.flatten(x, 2).type.shape
    (None, 12)
    >>> gt.flatten(x).eval({x: np.ones((2, 3, 4))}).shape
    (24,)
    """
    x = as_tensor(x)
    if not 1 <= ndim <= max(x.ndim, 1):
        raise GnomonValueError(
            f"flatten: ndim={ndim} is not between 1 and {max(x.ndim, 1)} for {x.type}.\n"
            "Hint: ndim is the number of dimensions of the result."
        )
    if ndim == x.ndim:
        return x
    lead = [shape_i(x, i) for i in range(ndim - 1)]
    tail = x.type.shape[ndim - 1:]
    last = int(np.prod(tail, dtype=np.int64)) if None not in tail else -1
    return Reshape()(x, *lead, last)


def ravel(x: Any) -> Variable:
    """The elements of ``x`` as a vector, in C order (like ``np.ravel``).

    Examples
    --------
    >>> import gnomon.tensor as gt
    >>> gt.ravel(gt.constant([[1, 2], [3, 4]])).eval().tolist()
    [1, 2, 3, 4]
    """
    return flatten(x, 1)


def squeeze(x: Any, axis: int | Sequence[int] | None = None) -> Variable:
    """Remove length-1 dimensions (like ``np.squeeze``).

    With ``axis=None`` the dimensions whose length is statically 1 are removed (a dimension of
    unknown length is kept even if it turns out to be 1). Explicit axes may be of unknown
    length: they are checked at run time.

    Examples
    --------
    >>> import numpy as np, gnomon.tensor as gt
    >>> gt.squeeze(gt.tensor("x", shape=(1, None, 1))).type.shape
    (None,)
    >>> x = gt.dmatrix("x")
    >>> gt.squeeze(x, axis=0).eval({x: np.ones((1, 3))}).shape
    (3,)
    """
    x = as_tensor(x)
    if axis is None:
        axes = [i for i, s in enumerate(x.type.shape) if s == 1]
    else:
        axes = _axes(axis, x.ndim, "squeeze")
        for a in axes:
            if x.type.shape[a] not in (1, None):
                raise ShapeError(
                    f"squeeze: axis {a} of {x} (static shape {x.type.shape_str()}) has length "
                    f"{x.type.shape[a]}, not 1{_where()}.\nHint: squeeze only axes of length 1."
                )
    return dimshuffle(x, [i for i in range(x.ndim) if i not in axes])


# --- broadcast_to ---------------------------------------------------------------------------


@dataclass(frozen=True)
class BroadcastTo(Op):
    """``broadcast_to(x, *shape)``: a read-only view of ``x`` broadcast to ``shape``.

    The gradient sums over the broadcast dimensions, including those of unknown static length
    that turn out to be 1 at run time.
    """

    view_map = {0: 0}  # noqa: RUF012

    def make_node(self, x: Any, *shape: Any) -> Apply:
        x = as_tensor(x)
        dims = [_int_scalar(s, "broadcast_to") for s in shape]
        consts = [_const(d) for d in dims]
        shown = _fmt_shape(consts)
        if any(c is not None and c < 0 for c in consts):
            raise ShapeError(f"broadcast_to: the shape {shown} has a negative length{_where()}")
        if x.ndim > len(dims):
            raise ShapeError(
                f"broadcast_to: cannot broadcast {x} with {x.ndim} dimensions to the "
                f"{len(dims)}-d shape {shown}{_where()}.\nHint: the target shape needs at least "
                "as many dimensions as the array."
            )
        new = len(dims) - x.ndim
        out: list[int | None] = list(consts[:new])
        for c, s in zip(consts[new:], x.type.shape, strict=True):
            if s is not None and s != 1 and c is not None and c != s:
                raise ShapeError(
                    f"broadcast_to: cannot broadcast {x} of static shape "
                    f"{x.type.shape_str()} to shape {shown}{_where()}: length {s} is neither 1 "
                    f"nor {c}.\nHint: only length-1 dimensions can be broadcast."
                )
            out.append(c if c is not None else (s if s not in (None, 1) else None))
        return Apply.make(self, [x, *dims], [TensorType(x.dtype, tuple(out))])

    def perform(self, node, inputs):
        x, *shape = inputs
        target = tuple(int(s) for s in shape)
        try:
            return (np.broadcast_to(x, target),)
        except ValueError:
            raise ShapeError(
                f"cannot broadcast an array of shape {x.shape} to shape {target}.\n"
                "Hint: each dimension of the array must be 1 or equal the target's, counting "
                "from the last."
            ) from None

    def infer_shape(self, node, input_shapes):
        return [tuple(node.inputs[1:])]

    def pullback(self, node, output_grads):
        from gnomon.tensor.elemwise import sum_to

        x = node.inputs[0]
        none = [None] * (len(node.inputs) - 1)
        return [sum_to(output_grads[0], x) if _need_float(x) else None, *none]

    def pushforward(self, node, tangents):
        t = tangents[0]
        return [None if t is None else self(t, *node.inputs[1:])]


def broadcast_to(x: Any, shape: Any) -> Variable:
    """Broadcast ``x`` to ``shape`` like ``np.broadcast_to`` (the result is a view).

    Parameters
    ----------
    x : array-like
    shape : int, sequence of ints / int scalar variables, or int vector of static length

    Examples
    --------
    >>> import numpy as np, gnomon.tensor as gt
    >>> x = gt.dvector("x")
    >>> y = gt.broadcast_to(x, (2, 3))
    >>> y.type.shape
    (2, 3)
    >>> y.eval({x: np.array([1.0, 2.0, 3.0])}).tolist()
    [[1.0, 2.0, 3.0], [1.0, 2.0, 3.0]]
    """
    x = as_tensor(x)
    dims = _shape_entries(shape, "broadcast_to")
    if tuple(dims) == shape_tuple(x):
        return x
    return BroadcastTo()(x, *dims)


# --- join and split -------------------------------------------------------------------------


@dataclass(frozen=True)
class Join(Op):
    """Concatenate arrays of one rank along ``axis`` (NumPy's dtype promotion).

    Every dimension except ``axis`` must agree: statically where known (a build-time
    :class:`ShapeError`), at run time otherwise. The gradient splits the output gradient back
    with :class:`Split`.
    """

    axis: int

    def make_node(self, *xs: Any) -> Apply:
        from gnomon.tensor.basic import cast

        if not xs:
            raise GnomonValueError("join: need at least one array")
        ts = [as_tensor(x) for x in xs]
        nd = ts[0].ndim
        for i, t in enumerate(ts):
            if t.ndim != nd:
                raise ShapeError(
                    f"join: all arrays must have the same number of dimensions, but array 0 "
                    f"has {nd} and array {i} has {t.ndim} ({t.type}){_where()}.\n"
                    "Hint: use expand_dims or reshape to align the ranks, or stack to add a "
                    "new axis."
                )
        if not 0 <= self.axis < nd:
            raise GnomonValueError(
                f"join: axis {self.axis} is out of bounds for arrays of {nd} dimensions"
                + ("\nHint: use stack to join scalars." if nd == 0 else "")
            )
        dtype = np.result_type(*[np.dtype(t.dtype) for t in ts]).name
        ts = [cast(t, dtype) for t in ts]
        out: list[int | None] = []
        for d in range(nd):
            dims = [t.type.shape[d] for t in ts]
            if d == self.axis:
                out.append(None if None in dims else sum(dims))  # type: ignore[arg-type]
                continue
            known = {k for k in dims if k is not None}
            if len(known) > 1:
                shapes = ", ".join(t.type.shape_str() for t in ts)
                raise ShapeError(
                    f"join along axis {self.axis}: the arrays have static shapes {shapes}, "
                    f"which differ in dimension {d} (lengths {sorted(known)}){_where()}.\n"
                    f"Hint: every dimension except axis {self.axis} must have the same length."
                )
            out.append(known.pop() if known else None)
        return Apply.make(self, ts, [TensorType(dtype, tuple(out))])

    def perform(self, node, inputs):
        a = self.axis
        ref = inputs[0].shape
        for i, x in enumerate(inputs[1:], 1):
            if x.shape[:a] + x.shape[a + 1:] != ref[:a] + ref[a + 1:]:
                raise ShapeError(
                    f"join along axis {a}: array {i} has shape {x.shape} but array 0 has shape "
                    f"{ref}.\nHint: every dimension except axis {a} must have the same length."
                )
        return (np.concatenate(inputs, axis=a),)

    def infer_shape(self, node, input_shapes):
        static = node.outputs[0].type.shape
        dims = []
        for d, s in enumerate(static):
            if s is not None:
                dims.append(constant(s, "int64"))
            elif d == self.axis:
                dims.append(_add_int(*[shp[d] for shp in input_shapes]))
            else:
                dims.append(input_shapes[0][d])
        return [tuple(dims)]

    def pullback(self, node, output_grads):
        (g,) = output_grads
        if not _need_float(node.outputs[0]):
            return [None] * len(node.inputs)
        if len(node.inputs) == 1:
            return [g]
        sizes = [shape_i(x, self.axis) for x in node.inputs]
        return list(Split(self.axis, len(sizes)).make_node(g, *sizes).outputs)

    def pushforward(self, node, tangents):
        from gnomon.tensor.basic import zeros_like

        if not _need_float(node.outputs[0]):
            return [None]
        ts = [zeros_like(x) if t is None else t for t, x in zip(tangents, node.inputs,
                                                                 strict=True)]
        return [self(*ts)]

    def __str__(self) -> str:
        return f"Join{{axis={self.axis}}}"


@dataclass(frozen=True)
class Split(Op):
    """Split ``x`` along ``axis`` into ``n_splits`` consecutive pieces of the given sizes.

    The inputs after ``x`` are the int64 sizes; they must add up to ``x``'s length along
    ``axis`` (checked at run time). The outputs are views of ``x``.
    """

    axis: int
    n_splits: int

    @property
    def view_map(self) -> dict[int, int]:  # type: ignore[override]
        return {i: 0 for i in range(self.n_splits)}

    def make_node(self, x: Any, *sizes: Any) -> Apply:
        x = as_tensor(x)
        if len(sizes) != self.n_splits:
            raise GnomonValueError(f"{self}: expected {self.n_splits} sizes, got {len(sizes)}")
        if not 0 <= self.axis < x.ndim:
            raise GnomonValueError(f"{self}: axis {self.axis} out of range for {x.type}")
        ss = [_int_scalar(s, "split sizes") for s in sizes]
        cs = [_const(s) for s in ss]
        if any(c is not None and c < 0 for c in cs):
            raise ShapeError(f"split: the sizes {_fmt_shape(cs)} include a negative one"
                             f"{_where()}")
        n = x.type.shape[self.axis]
        if n is not None and None not in cs and sum(cs) != n:  # type: ignore[arg-type]
            raise ShapeError(
                f"split: the sizes {_fmt_shape(cs)} add up to {sum(cs)}, "  # type: ignore[arg-type]
                f"but axis {self.axis} of {x} (static shape {x.type.shape_str()}) has length "
                f"{n}{_where()}.\nHint: the sizes must add up to the length of the axis."
            )
        types = []
        for c in cs:
            shp = list(x.type.shape)
            shp[self.axis] = c
            types.append(TensorType(x.dtype, tuple(shp)))
        return Apply.make(self, [x, *ss], types)

    def perform(self, node, inputs):
        x, *sizes = inputs
        sz = [int(s) for s in sizes]
        n = x.shape[self.axis]
        if min(sz) < 0 or sum(sz) != n:
            raise ShapeError(
                f"split: the sizes {tuple(sz)} (sum {sum(sz)}) do not add up to the length {n} "
                f"of axis {self.axis} of an array of shape {x.shape}.\nHint: the sizes must be "
                "non-negative and add up to the length of the axis."
            )
        return tuple(np.split(x, np.cumsum(sz)[:-1], axis=self.axis))

    def infer_shape(self, node, input_shapes):
        (s, *_) = input_shapes
        out = []
        for size in node.inputs[1:]:
            shp = list(s)
            shp[self.axis] = size
            out.append(tuple(shp))
        return out

    def pullback(self, node, output_grads):
        from gnomon.tensor.basic import zeros_like

        x = node.inputs[0]
        none = [None] * self.n_splits
        if not _need_float(x):
            return [None, *none]
        gs = [zeros_like(o) if g is None else g for g, o in zip(output_grads, node.outputs,
                                                                 strict=True)]
        return [gs[0] if len(gs) == 1 else Join(self.axis)(*gs), *none]

    def pushforward(self, node, tangents):
        t = tangents[0]
        if t is None:
            return [None] * self.n_splits
        return list(self.make_node(t, *node.inputs[1:]).outputs)

    def __str__(self) -> str:
        return f"Split{{axis={self.axis}, n={self.n_splits}}}"


def concatenate(xs: Sequence[Any], axis: int | None = 0) -> Variable:
    """Join arrays along an existing axis (like ``np.concatenate``).

    Parameters
    ----------
    xs : sequence of array-like
        Arrays with the same number of dimensions (at least 1), equal in every dimension but
        ``axis``. The result has NumPy's promoted dtype.
    axis : int or None
        ``None`` flattens the arrays first.

    Raises
    ------
    ShapeError
        When ranks differ or known lengths disagree (at graph time, naming the line), or when
        lengths known only at run time disagree.

    Examples
    --------
    >>> import numpy as np, gnomon.tensor as gt
    >>> a, b = gt.dmatrix("a", shape=(2, 3)), gt.dmatrix("b", shape=(None, 3))
    >>> gt.concatenate([a, b]).type.shape
    (None, 3)
    >>> gt.concatenate([a, b], axis=0).eval({a: np.zeros((2, 3)), b: np.ones((1, 3))}).shape
    (3, 3)
    """
    ts = [as_tensor(x) for x in xs]
    if not ts:
        raise GnomonValueError("concatenate: need at least one array")
    if axis is None:
        ts = [flatten(t, 1) for t in ts]  # type: ignore[misc]
        axis = 0
    nd = ts[0].ndim
    if nd == 0:
        raise ShapeError(
            f"concatenate: zero-dimensional arrays cannot be concatenated{_where()}.\n"
            "Hint: use stack to build a vector from scalars."
        )
    if all(t.ndim == nd for t in ts):
        axis = _axis(int(axis), nd, "concatenate: axis")
    return Join(int(axis))(*ts)


def join(axis: int, *tensors: Any) -> Variable:
    """PyTensor's ``join(axis, *tensors)``: ``concatenate(tensors, axis)``.

    Examples
    --------
    >>> import gnomon.tensor as gt
    >>> gt.join(0, gt.constant([1, 2]), gt.constant([3])).eval().tolist()
    [1, 2, 3]
    """
    return concatenate(tensors, axis)


def stack(xs: Sequence[Any], axis: int = 0) -> Variable:
    """Join arrays of the same shape along a new axis (like ``np.stack``).

    Examples
    --------
    >>> import numpy as np, gnomon.tensor as gt
    >>> a, b = gt.dvector("a"), gt.dvector("b")
    >>> gt.stack([a, b], axis=1).eval({a: np.zeros(3), b: np.ones(3)}).shape
    (3, 2)
    >>> gt.stack([gt.iscalar("n"), 3]).type
    TensorType('int64', (2,))
    """
    ts = [as_tensor(x) for x in xs]
    if not ts:
        raise GnomonValueError("stack: need at least one array")
    nd = ts[0].ndim
    for i, t in enumerate(ts):
        if t.ndim != nd:
            raise ShapeError(
                f"stack: all arrays must have the same shape, but array 0 has "
                f"{nd} dimensions and array {i} has {t.ndim} ({t.type}){_where()}.\n"
                "Hint: stack arrays of equal shape; use concatenate to extend an axis."
            )
    axis = _axis(int(axis), nd + 1, "stack: axis")
    if nd == 0 and axis == 0:
        # Scalars become a MakeVector, which shape code reads entry by entry.
        dtype = np.result_type(*[np.dtype(t.dtype) for t in ts]).name
        return MakeVector(dtype)(*ts)
    return Join(axis)(*[expand_dims(t, axis) for t in ts])


def atleast_1d(*arys: Any) -> Any:
    """Arrays with at least one dimension (like ``np.atleast_1d``).

    Examples
    --------
    >>> import gnomon.tensor as gt
    >>> gt.atleast_1d(gt.dscalar("s")).type.shape
    (1,)
    """
    out = [as_tensor(a) if as_tensor(a).ndim >= 1 else expand_dims(a, 0) for a in arys]
    return out[0] if len(out) == 1 else out


def atleast_2d(*arys: Any) -> Any:
    """Arrays with at least two dimensions; a vector becomes a row (like ``np.atleast_2d``).

    Examples
    --------
    >>> import gnomon.tensor as gt
    >>> gt.atleast_2d(gt.dvector("v")).type.shape
    (1, None)
    """
    out = [pad_left(as_tensor(a), 2) for a in arys]
    return out[0] if len(out) == 1 else out


def atleast_3d(*arys: Any) -> Any:
    """Arrays with at least three dimensions, placed like ``np.atleast_3d`` does.

    Examples
    --------
    >>> import gnomon.tensor as gt
    >>> gt.atleast_3d(gt.dvector("v")).type.shape
    (1, None, 1)
    """
    out = []
    for a in arys:
        a = as_tensor(a)
        if a.ndim == 0:
            a = dimshuffle(a, ("x", "x", "x"))
        elif a.ndim == 1:
            a = dimshuffle(a, ("x", 0, "x"))
        elif a.ndim == 2:
            a = dimshuffle(a, (0, 1, "x"))
        out.append(a)
    return out[0] if len(out) == 1 else out


def vstack(xs: Sequence[Any]) -> Variable:
    """Stack arrays row-wise (like ``np.vstack``).

    Examples
    --------
    >>> import gnomon.tensor as gt
    >>> gt.vstack([gt.constant([1, 2]), gt.constant([3, 4])]).eval().tolist()
    [[1, 2], [3, 4]]
    """
    return concatenate([atleast_2d(x) for x in xs], axis=0)


def hstack(xs: Sequence[Any]) -> Variable:
    """Stack arrays column-wise (like ``np.hstack``).

    Examples
    --------
    >>> import gnomon.tensor as gt
    >>> gt.hstack([gt.constant([1, 2]), gt.constant([3])]).eval().tolist()
    [1, 2, 3]
    """
    ts = [atleast_1d(x) for x in xs]
    return concatenate(ts, axis=0 if ts and ts[0].ndim == 1 else 1)


def _split_outputs(x: Variable, axis: int, sizes: Sequence[Variable]) -> list[Variable]:
    return list(Split(axis, len(sizes)).make_node(x, *sizes).outputs)


def split(x: Any, indices_or_sections: int | Sequence[int], axis: int = 0) -> list[Variable]:
    """Split ``x`` into pieces along ``axis`` (like ``np.split``); the pieces are views.

    Parameters
    ----------
    x : array-like
    indices_or_sections : int or sequence of int
        An int ``k`` makes ``k`` equal pieces (the length must be a multiple of ``k``:
        checked at graph time when known, else at run time). A sequence of non-decreasing
        Python ints gives the split points; points past the end give empty pieces, as in NumPy.
    axis : int

    Returns
    -------
    list of Variable

    See Also
    --------
    split_sizes : split by piece sizes, which may be symbolic.

    Examples
    --------
    >>> import numpy as np, gnomon.tensor as gt
    >>> x = gt.dvector("x")
    >>> a, b, c = gt.split(x, [2, 3])
    >>> [p.eval({x: np.arange(5.0)}).tolist() for p in (a, b, c)]
    [[0.0, 1.0], [2.0], [3.0, 4.0]]
    """
    from gnomon.tensor import math as tm

    x = as_tensor(x)
    if x.ndim == 0:
        raise GnomonValueError("split: cannot split a zero-dimensional array")
    axis = _axis(int(axis), x.ndim, "split: axis")
    n = shape_i(x, axis)
    nc = _const(n)
    if isinstance(indices_or_sections, int | np.integer):
        k = int(indices_or_sections)
        if k <= 0:
            raise GnomonValueError(f"split: the number of sections must be > 0, not {k}")
        if nc is not None:
            if nc % k:
                raise ShapeError(
                    f"split: axis {axis} of {x} has length {nc}, which does not divide into {k} "
                    f"equal sections{_where()}.\nHint: give split points instead of a count."
                )
            return _split_outputs(x, axis, [constant(nc // k, "int64")] * k)
        # The run-time check of Split (sizes add up to the length) catches a remainder.
        size = tm.floor_divide(n, constant(k, "int64"))
        return _split_outputs(x, axis, [size] * k)
    points = [int(i) for i in indices_or_sections]
    if nc is not None:
        points = [p + nc if p < 0 else p for p in points]
    if any(p < 0 for p in points):
        raise GnomonValueError(
            f"split: negative split points {list(indices_or_sections)} need a length known at "
            "graph time.\nHint: use non-negative split points, or split_sizes."
        )
    if any(b < a for a, b in itertools.pairwise(points)):
        raise GnomonValueError(
            f"split: the split points {points} must be non-decreasing (NumPy would return "
            "overlapping pieces).\nHint: sort the split points."
        )
    if nc is not None:
        bounds: list[Variable] = [constant(min(p, nc), "int64") for p in points]
    else:
        bounds = [tm.where(tm.lt(n, p), n, constant(p, "int64")) for p in points]
    edges = [constant(0, "int64"), *bounds, n]
    sizes = [_sub_int(b, a) for a, b in itertools.pairwise(edges)]
    return _split_outputs(x, axis, sizes)


def _sub_int(a: Variable, b: Variable) -> Variable:
    from gnomon.tensor import math as tm

    ca, cb = _const(a), _const(b)
    if ca is not None and cb is not None:
        return constant(ca - cb, "int64")
    return tm.sub(a, b)


def split_sizes(x: Any, sizes: Any, axis: int = 0) -> list[Variable]:
    """Split ``x`` along ``axis`` into consecutive pieces of the given ``sizes``.

    ``sizes`` holds Python ints and int scalar variables (or is an int vector of static
    length); they must add up to the length of the axis (checked at run time). PyTensor's
    ``split(x, splits_size, n_splits, axis)``.

    Examples
    --------
    >>> import numpy as np, gnomon.tensor as gt
    >>> x, k = gt.dvector("x"), gt.lscalar("k")
    >>> a, b = gt.split_sizes(x, [k, 2])
    >>> b.eval({x: np.arange(5.0), k: 3}).tolist()
    [3.0, 4.0]
    """
    x = as_tensor(x)
    if x.ndim == 0:
        raise GnomonValueError("split_sizes: cannot split a zero-dimensional array")
    axis = _axis(int(axis), x.ndim, "split_sizes: axis")
    return _split_outputs(x, axis, _shape_entries(sizes, "split_sizes"))


# --- repeat and tile ------------------------------------------------------------------------


def _int_tensor(r: Any, what: str) -> Variable:
    from gnomon.tensor.basic import cast

    v = as_tensor(r) if isinstance(r, Variable) else constant(np.asarray(r), "int64")
    if v.dtype not in INT_DTYPES or v.ndim > 1:
        raise GnomonTypeError(
            f"{what}: repeats must be an int or a vector of ints, got {r!r} ({v.type})"
        )
    return cast(v, "int64")


@dataclass(frozen=True)
class Repeat(Op):
    """Repeat each element of ``x`` along ``axis``; ``repeats`` is an int64 scalar (the same
    count for every element) or vector (one count each, or a single count)."""

    axis: int

    def make_node(self, x: Any, repeats: Any) -> Apply:
        x = as_tensor(x)
        r = _int_tensor(repeats, "repeat")
        if not 0 <= self.axis < x.ndim:
            raise GnomonValueError(f"{self}: axis {self.axis} out of range for {x.type}")
        n = x.type.shape[self.axis]
        rc = np.asarray(r.data) if isinstance(r, Constant) else None
        if rc is not None and (rc < 0).any():
            raise ShapeError(f"repeat: negative repeat count in {rc.tolist()}{_where()}")
        rlen = r.type.shape[0] if r.ndim == 1 else None  # type: ignore[attr-defined]
        if rlen not in (None, 1) and n is not None and rlen != n:
            raise ShapeError(
                f"repeat: {rlen} repeat counts for axis {self.axis} of {x} (static shape "
                f"{x.type.shape_str()}), which has length {n}{_where()}.\n"
                "Hint: give one count per element along the axis, or a single count."
            )
        out_n: int | None = None
        if rc is not None:
            if rc.size == 1 and (r.ndim == 0 or rlen == 1):
                k = int(rc.reshape(-1)[0])
                out_n = 0 if k == 0 else (None if n is None else n * k)
            else:
                out_n = int(rc.sum())
        shp = list(x.type.shape)
        shp[self.axis] = out_n
        return Apply.make(self, [x, r], [TensorType(x.dtype, tuple(shp))])

    def perform(self, node, inputs):
        x, r = inputs
        n = x.shape[self.axis]
        if r.ndim == 1 and r.shape[0] not in (1, n):
            raise ShapeError(
                f"repeat: {r.shape[0]} repeat counts for axis {self.axis} of an array of shape "
                f"{x.shape}.\nHint: give one count per element along the axis, or one count."
            )
        if (r < 0).any():
            raise ShapeError(f"repeat: negative repeat count in {r.tolist()}")
        return (np.repeat(x, r, axis=self.axis),)

    def infer_shape(self, node, input_shapes):
        from gnomon.tensor import math as tm
        from gnomon.tensor.reduce import sum as tsum

        s = list(input_shapes[0])
        r = node.inputs[1]
        n = s[self.axis]
        static = node.outputs[0].type.shape[self.axis]
        if static is not None:
            s[self.axis] = constant(static, "int64")
        elif r.ndim == 0:
            s[self.axis] = _mul_int(n, r)
        else:
            total = tsum(r)
            rlen = r.type.shape[0]
            if rlen == 1:
                s[self.axis] = _mul_int(n, total)
            elif rlen is not None:
                s[self.axis] = total
            else:
                s[self.axis] = tm.where(tm.eq(shape_i(r, 0), 1), _mul_int(n, total), total)
        return [tuple(s)]

    def pullback(self, node, output_grads):
        x, r = node.inputs
        if not _need_float(x):
            return [None, None]
        return [RepeatSum(self.axis)(output_grads[0], r, shape_i(x, self.axis)), None]

    def pushforward(self, node, tangents):
        t = tangents[0]
        return [None if t is None else self(t, node.inputs[1])]

    def __str__(self) -> str:
        return f"Repeat{{axis={self.axis}}}"


@dataclass(frozen=True)
class RepeatSum(Op):
    """The transpose of :class:`Repeat`: ``RepeatSum(axis)(g, repeats, n)`` adds up the
    consecutive copies that ``Repeat`` made of each of the ``n`` elements along ``axis``."""

    axis: int

    def make_node(self, g: Any, repeats: Any, n: Any) -> Apply:
        g = as_tensor(g)
        r = _int_tensor(repeats, "RepeatSum")
        nv = _int_scalar(n, "RepeatSum")
        if not 0 <= self.axis < g.ndim:
            raise GnomonValueError(f"{self}: axis {self.axis} out of range for {g.type}")
        shp = list(g.type.shape)
        shp[self.axis] = _const(nv)
        return Apply.make(self, [g, r, nv], [TensorType(g.dtype, tuple(shp))])

    def perform(self, node, inputs):
        g, r, n = inputs
        n = int(n)
        reps = np.broadcast_to(r, (n,))
        if int(reps.sum()) != g.shape[self.axis]:
            raise ShapeError(f"{self}: repeats {r.tolist()} do not match length "
                             f"{g.shape[self.axis]} of axis {self.axis}")
        ids = np.repeat(np.arange(n), reps)
        gm = np.moveaxis(g, self.axis, 0)
        out = np.zeros((n, *gm.shape[1:]), dtype=g.dtype)
        np.add.at(out, ids, gm)
        return (np.ascontiguousarray(np.moveaxis(out, 0, self.axis)),)

    def infer_shape(self, node, input_shapes):
        s = list(input_shapes[0])
        s[self.axis] = node.inputs[2]
        return [tuple(s)]

    def pullback(self, node, output_grads):
        g, r, _ = node.inputs
        if not _need_float(g):
            return [None, None, None]
        return [Repeat(self.axis)(output_grads[0], r), None, None]

    def pushforward(self, node, tangents):
        t = tangents[0]
        return [None if t is None else self(t, *node.inputs[1:])]

    def __str__(self) -> str:
        return f"RepeatSum{{axis={self.axis}}}"


def repeat(x: Any, repeats: Any, axis: int | None = None) -> Variable:
    """Repeat each element of ``x`` (like ``np.repeat``).

    Parameters
    ----------
    x : array-like
    repeats : int, sequence of ints, or int scalar / vector variable
        One count for every element, or one count per element along ``axis``.
    axis : int or None
        ``None`` repeats the elements of the flattened array.

    Examples
    --------
    >>> import numpy as np, gnomon.tensor as gt
    >>> x = gt.dmatrix("x")
    >>> gt.repeat(x, [1, 2], axis=0).eval({x: np.array([[1.0, 2.0], [3.0, 4.0]])}).tolist()
    [[1.0, 2.0], [3.0, 4.0], [3.0, 4.0]]
    >>> gt.repeat(gt.constant([1, 2]), 2).eval().tolist()
    [1, 1, 2, 2]
    """
    x = as_tensor(x)
    if axis is None:
        x = flatten(x, 1)
        axis = 0
    axis = _axis(int(axis), x.ndim, "repeat: axis")
    return Repeat(axis)(x, repeats)


def tile(x: Any, reps: Any) -> Variable:
    """Repeat the whole of ``x`` ``reps`` times along each axis (like ``np.tile``).

    Built from ``dimshuffle``, ``broadcast_to`` and ``reshape``, so its gradient (a sum over
    the copies) comes from theirs. ``reps`` entries may be int scalar variables.

    Examples
    --------
    >>> import gnomon.tensor as gt
    >>> gt.tile(gt.constant([1, 2]), (2, 2)).eval().tolist()
    [[1, 2, 1, 2], [1, 2, 1, 2]]
    """
    x = as_tensor(x)
    if isinstance(reps, Variable) and reps.ndim == 1:
        rs = shape_scalars_of_vector(reps)
    elif isinstance(reps, int | np.integer | Variable):
        rs = [_int_scalar(reps, "tile")]
    else:
        rs = [_int_scalar(r, "tile") for r in reps]
    for r in rs:
        c = _const(r)
        if c is not None and c < 0:
            raise GnomonValueError(f"tile: negative repetition count {c}")
    d = max(len(rs), x.ndim)
    rs = [constant(1, "int64")] * (d - len(rs)) + rs
    x = pad_left(x, d)
    if all(_const(r) == 1 for r in rs):
        return x
    pattern: list[int | str] = []
    for i in range(d):
        pattern += ["x", i]
    s = shape_tuple(x)
    big = broadcast_to(dimshuffle(x, pattern), [v for r, n in zip(rs, s, strict=True)
                                                for v in (r, n)])
    return reshape(big, [_mul_int(r, n) for r, n in zip(rs, s, strict=True)])


# --- moving axes ----------------------------------------------------------------------------


def moveaxis(x: Any, source: int | Sequence[int], destination: int | Sequence[int]) -> Variable:
    """Move axes of ``x`` to new positions, keeping the others in order (like ``np.moveaxis``).

    Examples
    --------
    >>> import gnomon.tensor as gt
    >>> gt.moveaxis(gt.tensor("x", shape=(2, 3, 4)), 0, -1).type.shape
    (3, 4, 2)
    """
    x = as_tensor(x)
    src = _axes(source, x.ndim, "moveaxis: source")
    dst = _axes(destination, x.ndim, "moveaxis: destination")
    if len(src) != len(dst):
        raise GnomonValueError(
            f"moveaxis: source {source} and destination {destination} have different lengths"
        )
    order = [i for i in range(x.ndim) if i not in src]
    for d, s in sorted(zip(dst, src, strict=True)):
        order.insert(d, s)
    return transpose(x, order)


def swapaxes(x: Any, axis1: int, axis2: int) -> Variable:
    """Exchange two axes of ``x`` (like ``np.swapaxes``).

    Examples
    --------
    >>> import gnomon.tensor as gt
    >>> gt.swapaxes(gt.tensor("x", shape=(2, 3, 4)), 0, 2).type.shape
    (4, 3, 2)
    """
    x = as_tensor(x)
    a = _axis(int(axis1), x.ndim, "swapaxes: axis1")
    b = _axis(int(axis2), x.ndim, "swapaxes: axis2")
    order = list(range(x.ndim))
    order[a], order[b] = order[b], order[a]
    return transpose(x, order)
