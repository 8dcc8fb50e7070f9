"""``TensorType``: the type of n-dimensional arrays, and the variable constructors."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from gnomon.errors import GnomonTypeError, GnomonValueError, ShapeError, with_hint
from gnomon.graph.type import Type

#: dtype names gnomon accepts, with their one-letter prefix in constructors (``dvector`` ...).
DTYPE_PREFIX = {
    "b": "int8", "w": "int16", "i": "int32", "l": "int64",
    "f": "float32", "d": "float64", "c": "complex64", "z": "complex128",
}
ALL_DTYPES = (
    "bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
    "float16", "float32", "float64", "complex64", "complex128",
)
FLOAT_DTYPES = ("float16", "float32", "float64")
COMPLEX_DTYPES = ("complex64", "complex128")
INT_DTYPES = ("int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64")
DISCRETE_DTYPES = ("bool", *INT_DTYPES)

_DTYPE_SET = frozenset(ALL_DTYPES)

Shape = tuple[int | None, ...]


def normalize_dtype(dtype: Any) -> str:
    """Return the canonical dtype name (``'float64'``), resolving ``'floatX'`` from the config."""
    if type(dtype) is str and dtype in _DTYPE_SET:
        return dtype  # the common case, on every node built: no NumPy call
    if dtype == "floatX":
        from gnomon.config import config

        dtype = config.floatX
    try:
        name = np.dtype(dtype).name
    except TypeError as e:
        raise GnomonTypeError(f"{dtype!r} is not a dtype gnomon knows: {e}") from None
    if name not in ALL_DTYPES:
        raise GnomonTypeError(
            f"dtype {name!r} is not supported; gnomon supports {', '.join(ALL_DTYPES)}."
        )
    return name


@dataclass(frozen=True)
class TensorType(Type):
    """An array type: a dtype and a static shape, with ``None`` for a dimension known at run time.

    A dimension of static length 1 is *broadcastable*. A dimension of unknown length may still
    turn out to be 1 at run time, and gnomon then broadcasts it like NumPy does.

    Examples
    --------
    >>> t = TensorType("float64", (None, 3))
    >>> t.ndim, t.broadcastable
    (2, (False, False))
    >>> x = t("x")
    >>> x.type is t
    True
    """

    dtype: str
    shape: Shape

    def __post_init__(self) -> None:
        object.__setattr__(self, "dtype", normalize_dtype(self.dtype))
        if type(self.shape) is tuple and all(s is None or type(s) is int for s in self.shape):
            if all(s is None or s >= 0 for s in self.shape):
                return
        shape = tuple(None if s is None else int(s) for s in self.shape)
        for s in shape:
            if s is not None and s < 0:
                raise ShapeError(f"static shape {shape} has a negative dimension")
        object.__setattr__(self, "shape", shape)

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def broadcastable(self) -> tuple[bool, ...]:
        return tuple(s == 1 for s in self.shape)

    @property
    def numpy_dtype(self) -> np.dtype:
        return np.dtype(self.dtype)

    def clone(self, dtype: str | None = None, shape: Shape | None = None) -> TensorType:
        return TensorType(dtype or self.dtype, self.shape if shape is None else shape)

    def filter(self, value: Any, *, name: str = "input", allow_downcast: bool = False) -> Any:
        """Convert ``value`` to an array of this type, refusing lossy conversions.

        A value whose dtype is this dtype passes untouched; a Python scalar or a NumPy array of
        a dtype that converts without loss is converted; anything lossy raises with a hint.
        """
        if type(value) is np.ndarray and value.dtype.name == self.dtype:
            # Compiled code assumes native byte order (a big-endian array of the right dtype
            # name would otherwise send the function to a slower fallback).
            arr = value if value.dtype.isnative else value.astype(value.dtype.newbyteorder("="))
        else:
            arr = self._convert(value, name, allow_downcast)
        self.check_shape(arr.shape, name)
        return arr

    def fits_shape(self, shape: tuple[int, ...]) -> bool:
        """Whether an array of ``shape`` has this type's rank and static lengths."""
        return len(shape) == self.ndim and all(
            want is None or want == got for want, got in zip(self.shape, shape, strict=True))

    def check_shape(self, shape: tuple[int, ...], name: str = "input") -> None:
        """Raise the error :meth:`filter` raises (naming ``name``) unless an array of ``shape``
        has this type's rank and static lengths; every backend's input check calls it."""
        if len(shape) != self.ndim:
            raise GnomonTypeError(
                f"{name} expects an array with {self.ndim} dimension(s) of type {self}, but got "
                f"one with {len(shape)} dimension(s) (shape {shape}).\n"
                f"Hint: reshape the value, or declare {name} with ndim={len(shape)}."
            )
        for i, (want, got) in enumerate(zip(self.shape, shape, strict=True)):
            if want is not None and want != got:
                raise ShapeError(
                    f"{name} has static shape {self.shape_str()}, but the value has shape "
                    f"{shape} (dimension {i} is {got}, not {want}).\n"
                    f"Hint: declare {name} with shape=None in dimension {i} to accept any length."
                )

    def _convert(self, value: Any, name: str, allow_downcast: bool) -> np.ndarray:
        if isinstance(value, np.ma.MaskedArray):
            if np.ma.getmask(value) is not np.ma.nomask and np.ma.getmask(value).any():
                raise GnomonTypeError(with_hint(
                    f"{name} got a masked array with masked entries; gnomon computes on plain "
                    "arrays and would silently ignore the mask",
                    "pass value.filled(fill_value) to choose what masked entries become, or "
                    "value.data to use the stored values",
                ))
            value = np.ma.getdata(value)
        if hasattr(value, "__array__") or isinstance(value, np.ndarray | np.generic):
            arr = np.asarray(value)
        elif isinstance(value, bool | int | float | complex | list | tuple):
            arr = _python_value_array(value, self, name)
            if arr.dtype.kind not in "buifc" and arr.dtype != object:
                raise GnomonTypeError(with_hint(
                    f"{name} has type {self} but got a list of non-numbers (NumPy reads it "
                    f"as an array of dtype {arr.dtype.name})",
                    f"convert the values to numbers first (np.asarray(value, dtype="
                    f"'{self.dtype}') parses numeric strings)",
                ))
            # Python numbers and lists are "weak" (NEP 50): they take our dtype when the kind
            # fits -- a Python float goes into a float32 input -- and ints must fit exactly.
            if arr.dtype != object and _weak_kind_ok(arr.dtype.kind, self.numpy_dtype.kind):
                with np.errstate(all="ignore"):
                    out = arr.astype(self.dtype)
                if allow_downcast or arr.dtype.kind in "fc" or _same_value(arr, out):
                    return out
        else:
            raise GnomonTypeError(
                f"{name} expects an array of type {self}, but got a {type(value).__name__}."
            )
        if arr.dtype.name == self.dtype:
            return arr if arr.dtype.isnative else arr.astype(arr.dtype.newbyteorder("="))
        if arr.dtype == object:
            raise GnomonTypeError(with_hint(
                f"{name} got an array of Python objects, which gnomon cannot compute on",
                f"pass numbers or an array of a numeric dtype ({self.dtype})",
            ))
        if allow_downcast or _lossless_cast(arr.dtype, self.numpy_dtype):
            return arr.astype(self.dtype)
        if arr.dtype.kind in "iub" and self.numpy_dtype.kind in "fc" and arr.size:
            # int64 -> float64 is a "safe" cast for NumPy, but not every int64 is a float64:
            # convert when these values are exact
            with np.errstate(all="ignore"):
                out = arr.astype(self.dtype)
            if _same_value(arr, out):
                return out
        raise GnomonTypeError(
            f"{name} has type {self} but got a value of dtype {arr.dtype.name}; converting it "
            f"to {self.dtype} could lose information.\n"
            f"Hint: convert it yourself (value.astype('{self.dtype}')), or compile with "
            f"gnomon.function(..., allow_input_downcast=True) to allow lossy conversion."
        )

    def is_valid_value(self, value: Any) -> bool:
        return (
            isinstance(value, np.ndarray)
            and value.dtype.name == self.dtype
            and value.ndim == self.ndim
            and all(s is None or s == v for s, v in zip(self.shape, value.shape, strict=True))
        )

    def map_scalar_op(self, op: Any, args: tuple[Any, ...]) -> Any:
        """``Elemwise(op)(*args)``; a :class:`~gnomon.scalar.composite.ScalarConstant` (no
        arguments) becomes a tensor constant."""
        from gnomon.scalar.composite import ScalarConstant
        from gnomon.tensor.basic import constant
        from gnomon.tensor.elemwise import Elemwise

        if isinstance(op, ScalarConstant):
            return constant(op.value, dtype=op.dtype)
        return Elemwise(op)(*args)

    def convert_variable(self, var: Any) -> Any:
        """Return ``var`` if it can stand where this type is expected (same dtype and ndim,
        compatible static shape), else ``None``."""
        t = var.type
        if not isinstance(t, TensorType) or t.dtype != self.dtype or t.ndim != self.ndim:
            return None
        for a, b in zip(self.shape, t.shape, strict=True):
            if a is not None and b is not None and a != b:
                return None
        return var

    def is_super(self, other: TensorType) -> bool:
        """True if every value of ``other`` is a value of this type."""
        return (
            self.dtype == other.dtype
            and self.ndim == other.ndim
            and all(a is None or a == b for a, b in zip(self.shape, other.shape, strict=True))
        )

    def shape_str(self) -> str:
        return "(" + ", ".join("?" if s is None else str(s) for s in self.shape) + (
            ",)" if self.ndim == 1 else ")"
        )

    def constant_str(self, data: Any) -> str:
        if data.size == 1:
            return repr(data.item())
        if data.size <= 6:
            return np.array2string(data, separator=", ")
        return f"Constant{{{self.dtype}, shape={data.shape}}}"

    def __str__(self) -> str:
        names = {0: "scalar", 1: "vector", 2: "matrix", 3: "tensor3", 4: "tensor4"}
        if all(s is None for s in self.shape) and self.ndim in names:
            return f"{names[self.ndim]}<{self.dtype}>"
        return f"tensor<{self.dtype}, {self.shape_str()}>"

    def __repr__(self) -> str:
        return f"TensorType({self.dtype!r}, {self.shape!r})"


def _lossless_cast(src: np.dtype[Any], dst: np.dtype[Any]) -> bool:
    """Whether every value of ``src`` converts exactly to ``dst`` (NumPy's "safe" casting,
    except that integers wider than the float's mantissa are not)."""
    if not np.can_cast(src, dst, casting="safe"):
        return False
    if src.kind in "iu" and dst.kind in "fc":
        mantissa = {2: 11, 4: 24, 8: 53, 16: 64}[dst.itemsize if dst.kind == "f"
                                                 else dst.itemsize // 2]
        return src.itemsize * 8 - (src.kind == "i") <= mantissa
    return True


def _python_value_array(value: Any, t: TensorType, name: str) -> np.ndarray:
    """``np.asarray`` of a Python number or (nested) list, with errors that name the input."""
    try:
        arr = np.asarray(value)
    except ValueError as e:
        raise GnomonValueError(with_hint(
            f"{name} got a nested list that is not rectangular ({e})",
            "give every row the same length, or pass a NumPy array",
        )) from e
    if arr.dtype == object:
        # Python ints beyond int64/uint64: exact floats can still take them
        flat = arr.reshape(-1).tolist()
        if t.numpy_dtype.kind in "fc" and all(type(v) is int for v in flat):
            out = np.array([float(v) for v in flat], dtype=t.dtype).reshape(arr.shape)
            if all(int(f) == v for f, v in zip(out.reshape(-1).tolist(), flat, strict=True)):
                return out
            raise GnomonTypeError(with_hint(
                f"{name} has type {t} but got a Python int that {t.dtype} cannot hold exactly",
                "convert it yourself (float(value)) if rounding is fine",
            ))
        big = next((v for v in flat if type(v) is int), None)
        if big is not None:
            raise GnomonTypeError(with_hint(
                f"{name} has type {t} but got the Python int {big}, which does not fit in "
                f"{t.dtype}",
                "use a wider integer input type, or a float input type",
            ))
    return arr


def _weak_kind_ok(src: str, dst: str) -> bool:
    order = "buifc"
    return order.index(src) <= order.index(dst) or (src in "iu" and dst in "iu")


def _same_value(a: np.ndarray, b: np.ndarray) -> bool:
    with np.errstate(all="ignore"):
        try:
            return bool(np.array_equal(a, b.astype(a.dtype), equal_nan=a.dtype.kind in "fc"))
        except TypeError:
            return bool(np.array_equal(a, b.astype(a.dtype)))
