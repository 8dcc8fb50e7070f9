"""Turning Python and NumPy values into graph variables, the type constructors, ``cast`` and
``alloc`` (the op behind ``zeros``/``ones``/``full`` and their ``_like`` forms)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from gnomon.errors import GnomonTypeError, GnomonValueError, ShapeError
from gnomon.graph.basic import Apply, Constant, Variable
from gnomon.graph.op import Op
from gnomon.tensor.type import DTYPE_PREFIX, TensorType, normalize_dtype
from gnomon.tensor.variable import TensorConstant, TensorVariable

__all__ = [
    "TensorLike", "constant", "as_tensor", "as_tensor_variable", "get_scalar_constant_value",
    "tensor", "TypeConstructor", "type_constructor",
    "scalar", "vector", "matrix", "tensor3", "tensor4",
    "bscalar", "bvector", "bmatrix", "btensor3", "btensor4",
    "wscalar", "wvector", "wmatrix", "wtensor3", "wtensor4",
    "iscalar", "ivector", "imatrix", "itensor3", "itensor4",
    "lscalar", "lvector", "lmatrix", "ltensor3", "ltensor4",
    "fscalar", "fvector", "fmatrix", "ftensor3", "ftensor4",
    "dscalar", "dvector", "dmatrix", "dtensor3", "dtensor4",
    "cscalar", "cvector", "cmatrix", "ctensor3", "ctensor4",
    "zscalar", "zvector", "zmatrix", "ztensor3", "ztensor4",
    "cast", "as_shape_scalars", "Alloc", "alloc_op", "alloc",
    "full", "zeros", "ones", "full_like", "zeros_like", "ones_like",
]

TensorType.variable_class = TensorVariable
TensorType.constant_class = TensorConstant

#: What the public functions accept where an array is expected: a variable, or a value
#: :func:`as_tensor` turns into a constant (a NumPy array or scalar, a Python number, a nested
#: list or tuple of them, which may hold variables).
TensorLike = Variable | np.ndarray | np.generic | int | float | complex | bool | Sequence[Any]


def constant(value: Any, dtype: Any = None, name: str | None = None) -> TensorConstant:
    """A constant array (interned: equal values give the same variable).

    Examples
    --------
    >>> constant(2.0) is constant(2.0)
    True
    >>> constant([1, 2]).type
    TensorType('int64', (2,))
    """
    arr = np.array(value, dtype=None if dtype is None else normalize_dtype(dtype), copy=True)
    if arr.dtype == object:
        raise GnomonTypeError(f"cannot make a constant from {value!r}: it is not a numeric array")
    if arr.dtype.kind == "U" or arr.dtype.kind == "S":
        raise GnomonTypeError(f"cannot make a constant from the string {value!r}")
    arr.setflags(write=False)
    t = TensorType(arr.dtype.name, arr.shape)
    key = (arr.shape, arr.tobytes())
    c = TensorConstant.make(t, arr, key, name)
    return c  # type: ignore[return-value]


def as_tensor(x: TensorLike, dtype: Any = None, name: str | None = None) -> TensorVariable:
    """Return ``x`` as a tensor variable: variables pass through, values become constants.

    Examples
    --------
    >>> as_tensor(3).type
    TensorType('int64', ())
    """
    if isinstance(x, Variable):
        if not isinstance(x.type, TensorType):
            raise GnomonTypeError(f"{x} has type {x.type}, not a tensor type")
        if dtype is not None and x.dtype != normalize_dtype(dtype):
            return cast(x, dtype)
        return x  # type: ignore[return-value]
    if isinstance(x, list | tuple) and any(isinstance(e, Variable) for e in _flat(x)):
        from gnomon.tensor.shapes import stack

        return stack([as_tensor(e) for e in x]) if dtype is None else cast(  # type: ignore[return-value]
            stack([as_tensor(e) for e in x]), dtype
        )
    return constant(x, dtype=dtype, name=name)


as_tensor_variable = as_tensor


def _flat(x: Any) -> list[Any]:
    out = []
    for e in x:
        out.extend(_flat(e) if isinstance(e, list | tuple) else [e])
    return out


def get_scalar_constant_value(v: Any) -> Any:
    """The value of ``v`` if it is a constant known at graph time, else raise ``ValueError``."""
    if isinstance(v, Constant):
        return v.data
    if isinstance(v, int | float | np.number | np.ndarray):
        return np.asarray(v)
    raise ValueError(f"{v} is not a constant")


# --- constructors -------------------------------------------------------------------------


def tensor(
    name: str | None = None,
    *,
    dtype: Any = "floatX",
    shape: Sequence[int | None] | None = None,
    ndim: int | None = None,
) -> TensorVariable:
    """A symbolic input array.

    Parameters
    ----------
    name : str, optional
        Shown when printing and in error messages.
    dtype : dtype-like
        ``'floatX'`` (the default) is ``gnomon.config.floatX``.
    shape : sequence of int or None
        Static shape; ``None`` marks a dimension known only at run time.
    ndim : int, optional
        Number of dimensions, when ``shape`` is not given.

    Examples
    --------
    >>> x = tensor("x", dtype="float32", shape=(None, 3))
    >>> x.type
    TensorType('float32', (None, 3))
    """
    if shape is None:
        if ndim is None:
            raise GnomonValueError("tensor() needs shape= or ndim=")
        shape = (None,) * ndim
    elif ndim is not None and ndim != len(shape):
        raise GnomonValueError(f"tensor(): shape={tuple(shape)} does not have ndim={ndim}")
    return TensorType(dtype, tuple(shape))(name)


_KINDS = ("scalar", "vector", "matrix", "tensor3", "tensor4")  # index = number of dimensions
_PREFIX = {dtype: prefix for prefix, dtype in DTYPE_PREFIX.items()}


class TypeConstructor:
    """A type constructor such as ``dvector``: call it to make an input, compare it with a type.

    As in PyTensor, ``dvector`` stands for the type of float64 vectors: ``x.type == dvector``
    holds for a ``dvector`` input, and ``dvector("x")`` makes one. ``shape=`` (static lengths)
    and ``dtype=`` override the constructor's own when calling it.

    Examples
    --------
    >>> x = dvector("x")
    >>> x.type == dvector, x.type == fvector
    (True, False)
    >>> dvector.type
    TensorType('float64', (None,))
    """

    def __init__(self, name: str, dtype: str | None, shape: tuple[int | None, ...],
                 doc: str, module: str = __name__) -> None:
        self.__name__ = self.__qualname__ = name
        self.__module__ = module  # the module defining it by this name: pickle finds it there
        self._dtype = dtype
        self.static_shape = shape
        self.__doc__ = doc

    @property
    def dtype(self) -> str:
        """The dtype (``config.floatX`` at the time of the call for the unprefixed ones)."""
        return normalize_dtype(self._dtype or "floatX")

    @property
    def ndim(self) -> int:
        return len(self.static_shape)

    @property
    def shape(self) -> tuple[int | None, ...]:
        return self.static_shape

    @property
    def broadcastable(self) -> tuple[bool, ...]:
        return tuple(s == 1 for s in self.static_shape)

    @property
    def type(self) -> TensorType:
        """The :class:`TensorType` this constructor makes inputs of."""
        return TensorType(self.dtype, self.static_shape)

    def __call__(self, name: str | None = None, *, dtype: Any = None,
                 shape: Any = None) -> TensorVariable:
        return tensor(name, dtype=dtype if dtype is not None else self._dtype or "floatX",
                      shape=shape if shape is not None else self.static_shape)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, TypeConstructor):
            return self.type == other.type
        if isinstance(other, TensorType):
            return self.type == other
        return NotImplemented

    def __hash__(self) -> int:
        return hash((self.__name__, self._dtype, self.static_shape))

    def __repr__(self) -> str:
        return self.__name__

    def __reduce__(self) -> str:
        return self.__name__  # pickled by name: ``gnomon.tensor.<name>``


def type_constructor(name: str, dtype: str | None, shape: tuple[int | None, ...],
                     kind: str, module: str = __name__) -> TypeConstructor:
    """A :class:`TypeConstructor` with a docstring saying what it makes."""
    return TypeConstructor(name, dtype, shape, (
        f"A symbolic {dtype or '``config.floatX``'} {kind} ({len(shape)}-d input, static "
        f"shape {shape}).\n\n``{name}(name)`` is ``tensor(name, dtype={dtype or 'floatX'!r}, "
        f"shape={shape})``; pass ``shape=`` for static lengths, ``dtype=`` for another dtype. "
        f"``x.type == {name}`` tests whether ``x`` has this type."), module)


def _constructor(ndim: int, dtype: str | None) -> TypeConstructor:
    """The constructor of ``ndim``-d inputs of ``dtype`` (``None``: ``config.floatX``)."""
    kind = _KINDS[ndim]
    name = kind if dtype is None else _PREFIX[dtype] + kind
    return type_constructor(name, dtype, (None,) * ndim, kind)


def _constructors(dtype: str | None) -> tuple[TypeConstructor, ...]:
    """The ``scalar`` to ``tensor4`` constructors of ``dtype`` (``None``: ``config.floatX``)."""
    return tuple(_constructor(ndim, dtype) for ndim in range(len(_KINDS)))


# The type constructors, PyTensor's names: a dtype prefix (b: int8, w: int16, i: int32, l: int64,
# f: float32, d: float64, c: complex64, z: complex128; none: config.floatX) and the rank.
scalar, vector, matrix, tensor3, tensor4 = _constructors(None)
bscalar, bvector, bmatrix, btensor3, btensor4 = _constructors("int8")
wscalar, wvector, wmatrix, wtensor3, wtensor4 = _constructors("int16")
iscalar, ivector, imatrix, itensor3, itensor4 = _constructors("int32")
lscalar, lvector, lmatrix, ltensor3, ltensor4 = _constructors("int64")
fscalar, fvector, fmatrix, ftensor3, ftensor4 = _constructors("float32")
dscalar, dvector, dmatrix, dtensor3, dtensor4 = _constructors("float64")
cscalar, cvector, cmatrix, ctensor3, ctensor4 = _constructors("complex64")
zscalar, zvector, zmatrix, ztensor3, ztensor4 = _constructors("complex128")


# --- cast ---------------------------------------------------------------------------------


def cast(x: TensorLike, dtype: Any) -> TensorVariable:
    """Convert ``x`` to ``dtype`` (a no-op when it already has it).

    Examples
    --------
    >>> cast(dvector("x"), "float32").dtype
    'float32'
    """
    from gnomon.scalar.basic import Cast
    from gnomon.tensor.elemwise import Elemwise

    x = as_tensor(x)
    dtype = normalize_dtype(dtype)
    if x.dtype == dtype:
        return x
    return Elemwise(Cast(dtype))(x)


# --- alloc --------------------------------------------------------------------------------


def as_shape_scalars(shape: Any, what: str = "shape") -> list[Variable]:
    """Normalize a shape given as ints, scalar variables or an int vector to int64 scalars."""
    from gnomon.tensor.shapes import shape_scalars_of_vector

    if isinstance(shape, Variable):
        if shape.ndim == 0:
            shape = [shape]
        elif shape.ndim == 1:
            return shape_scalars_of_vector(shape)
        else:
            raise ShapeError(f"{what} must be a vector of ints, got {shape.type}")
    if isinstance(shape, int | np.integer):
        shape = [shape]
    out = []
    for s in shape:
        v = as_tensor(s)
        if v.ndim != 0 or v.dtype not in ("int8", "int16", "int32", "int64", "uint8", "uint16",
                                          "uint32", "uint64"):
            raise GnomonTypeError(f"{what} entries must be integer scalars, got {s!r} ({v.type})")
        if isinstance(v, Constant) and int(v.data) < 0:
            raise ShapeError(f"{what} {tuple(shape)!r} has a negative dimension")
        out.append(cast(v, "int64"))
    return out  # type: ignore[return-value]


@dataclass(frozen=True)
class Alloc(Op):
    """``alloc(value, *shape)``: an array of the given shape filled by broadcasting ``value``."""

    def make_node(self, value: Any, *shape: Any) -> Apply:
        v = as_tensor(value)
        dims = as_shape_scalars(list(shape))
        if v.ndim > len(dims):
            raise ShapeError(f"alloc: value with {v.ndim} dims cannot fill a {len(dims)}-d shape")
        static = tuple(int(d.data) if isinstance(d, Constant) else None for d in dims)
        return Apply.make(self, [v, *dims], [TensorType(v.dtype, static)])

    def perform(self, node: Apply, inputs: Sequence[Any]) -> tuple[Any, ...]:
        v, *shape = inputs
        out = np.empty(tuple(int(s) for s in shape), dtype=node.outputs[0].dtype)
        out[...] = v
        return (out,)

    def infer_shape(self, node, input_shapes):
        return [tuple(node.inputs[1:])]

    def pullback(self, node, output_grads):
        from gnomon.tensor.elemwise import sum_to

        v = node.inputs[0]
        gv = sum_to(output_grads[0], v) if v.dtype[0] in "fc" else None
        return [gv] + [None] * (len(node.inputs) - 1)

    def __str__(self) -> str:
        return "Alloc"


alloc_op = Alloc()


def alloc(value: TensorLike, *shape: Any) -> TensorVariable:
    """Broadcast ``value`` to ``shape`` into a new array."""
    return alloc_op(value, *shape)


def full(shape: Any, fill_value: Any, dtype: Any = None) -> TensorVariable:
    """An array of ``shape`` filled with ``fill_value`` (like ``np.full``).

    Examples
    --------
    >>> full((2, 3), 1.5).eval().tolist()
    [[1.5, 1.5, 1.5], [1.5, 1.5, 1.5]]
    """
    v = as_tensor(fill_value) if dtype is None else cast(as_tensor(fill_value), dtype)
    return alloc(v, *as_shape_scalars(shape))


def zeros(shape: Any, dtype: Any = "floatX") -> TensorVariable:
    """An array of zeros (like ``np.zeros``; dtype defaults to ``config.floatX``)."""
    return full(shape, constant(0, dtype=normalize_dtype(dtype)))


def ones(shape: Any, dtype: Any = "floatX") -> TensorVariable:
    """An array of ones (like ``np.ones``; dtype defaults to ``config.floatX``)."""
    return full(shape, constant(1, dtype=normalize_dtype(dtype)))


def full_like(x: TensorLike, fill_value: Any, dtype: Any = None) -> TensorVariable:
    """An array of ``x``'s shape filled with ``fill_value`` (dtype of ``x`` by default)."""
    from gnomon.tensor.shapes import shape_tuple

    x = as_tensor(x)
    dtype = normalize_dtype(dtype) if dtype is not None else x.dtype
    return alloc(constant(fill_value, dtype=dtype), *shape_tuple(x))


def zeros_like(x: TensorLike, dtype: Any = None) -> TensorVariable:
    """Zeros of ``x``'s shape (like ``np.zeros_like``)."""
    return full_like(x, 0, dtype)


def ones_like(x: TensorLike, dtype: Any = None) -> TensorVariable:
    """Ones of ``x``'s shape (like ``np.ones_like``)."""
    return full_like(x, 1, dtype)
