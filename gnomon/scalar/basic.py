"""Scalar ops: the element-level functions that :class:`gnomon.tensor.elemwise.Elemwise` maps
over arrays and that fused kernels are built from.

A scalar op is a frozen dataclass with

* ``impl(*arrays)`` — a vectorized NumPy implementation (the reference);
* ``output_dtype(*dtypes)`` — by default NumPy's own rule, read off ``impl`` on tiny arrays, so
  gnomon's dtypes match NumPy's exactly;
* ``pullback(inputs, outputs, output_grads)`` — written with tensor functions at the level of the
  :class:`Elemwise` node (the gradient has the broadcast shape; Elemwise reduces it to each
  input's shape).

Backends lower a scalar op by class (see ``gnomon/backends/*/scalar.py``).
"""

from __future__ import annotations

import abc
import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from gnomon.graph.basic import Variable
from gnomon.graph.op import grad_not_implemented


def elementwise(op: ScalarOp, *args: Any, like: Variable | None = None) -> Variable:
    """``op`` applied element by element to ``args`` (graph variables and Python numbers).

    Pullbacks of scalar ops are written with this: the type of the first variable among
    ``like, *args`` builds the node (a tensor type makes an ``Elemwise``), so the scalar layer
    does not import the tensor layer above it. ``like`` names the variable whose type to use when
    no argument is a variable (a :class:`~gnomon.scalar.composite.ScalarConstant`).
    """
    for a in (like, *args):
        if isinstance(a, Variable):
            return a.type.map_scalar_op(op, args)
    raise TypeError(f"elementwise({op}): no graph variable among the arguments {args!r}")


class _ZeroGrad:
    """The pullback value of an input whose gradient is zero everywhere (piecewise-constant
    ops): the array type's elementwise node builds zeros of that input's shape."""

    def __repr__(self) -> str:
        return "ZERO_GRAD"


#: Returned by a scalar op's pullback for an input whose gradient is identically zero.
ZERO_GRAD = _ZeroGrad()


@functools.lru_cache(maxsize=4096)
def _numpy_result_dtypes(impl: Callable[..., Any], dtypes: tuple[str, ...]) -> tuple[str, ...]:
    args = [np.ones((1,), dtype=d) for d in dtypes]
    with np.errstate(all="ignore"):
        out = impl(*args)
    outs = out if isinstance(out, tuple) else (out,)
    return tuple(np.asarray(o).dtype.name for o in outs)


class ScalarOp(abc.ABC):
    """Abstract base of scalar ops; subclasses are ``@dataclass(frozen=True)``.

    Class attributes: ``name`` (for printing), ``nin`` (-1 for variadic), ``nout``,
    ``commutative`` and ``associative`` (used by rewrites), ``identity`` (the neutral element).
    """

    name: ClassVar[str] = "?"
    nin: ClassVar[int] = 1
    nout: ClassVar[int] = 1
    commutative: ClassVar[bool] = False
    associative: ClassVar[bool] = False
    identity: ClassVar[Any] = None

    @abc.abstractmethod
    def impl(self, *args: Any) -> Any:
        """The NumPy reference implementation (vectorized over arrays)."""

    def output_dtypes(self, *dtypes: str) -> tuple[str, ...]:
        return _numpy_result_dtypes(self.impl, tuple(dtypes))

    def pullback(
        self, inputs: Sequence[Variable], outputs: Sequence[Variable], grads: Sequence[Variable]
    ) -> Sequence[Variable | None]:
        return [grad_not_implemented(self, i, x) for i, x in enumerate(inputs)]  # type: ignore[misc]

    def __str__(self) -> str:
        return self.name


class UnaryScalarOp(ScalarOp):
    nin = 1


class BinaryScalarOp(ScalarOp):
    nin = 2


# --- arithmetic ----------------------------------------------------------------------------


class VariadicScalarOp(ScalarOp):
    """An associative, commutative op of any number of inputs, folding a binary ufunc."""

    nin = -1
    commutative = True
    associative = True
    ufunc: ClassVar[Callable[..., Any]]

    def impl(self, *args: Any) -> Any:
        out = args[0]
        for a in args[1:]:
            out = self.ufunc(out, a)
        return out

    def output_dtypes(self, *dtypes: str) -> tuple[str, ...]:
        return (np.result_type(*[np.dtype(d) for d in dtypes]).name,)


@dataclass(frozen=True)
class Add(VariadicScalarOp):
    name = "add"
    identity = 0
    ufunc = np.add

    def pullback(self, inputs, outputs, grads):
        return [grads[0]] * len(inputs)


@dataclass(frozen=True)
class Mul(VariadicScalarOp):
    name = "mul"
    identity = 1
    ufunc = np.multiply

    def pullback(self, inputs, outputs, grads):
        g = grads[0]
        res = []
        for i in range(len(inputs)):
            others = [x for j, x in enumerate(inputs) if j != i]
            res.append(elementwise(Mul(), g, *others) if others else g)
        return res


@dataclass(frozen=True)
class Sub(BinaryScalarOp):
    name = "sub"
    impl = staticmethod(np.subtract)  # type: ignore[assignment]

    def pullback(self, inputs, outputs, grads):
        return [grads[0], -grads[0]]


@dataclass(frozen=True)
class TrueDiv(BinaryScalarOp):
    name = "true_div"
    impl = staticmethod(np.true_divide)  # type: ignore[assignment]

    def pullback(self, inputs, outputs, grads):
        y = inputs[1]
        g = grads[0]
        return [g / y, -(g * outputs[0] / y)]


@dataclass(frozen=True)
class FloorDiv(BinaryScalarOp):
    name = "floor_div"
    impl = staticmethod(np.floor_divide)  # type: ignore[assignment]

    def pullback(self, inputs, outputs, grads):
        # Piecewise constant: zero almost everywhere.
        return [ZERO_GRAD for _ in inputs]


@dataclass(frozen=True)
class Mod(BinaryScalarOp):
    name = "mod"
    impl = staticmethod(np.mod)  # type: ignore[assignment]

    def pullback(self, inputs, outputs, grads):
        x, y = inputs
        g = grads[0]
        return [g, -(g * elementwise(FloorDiv(), x, y))]


@dataclass(frozen=True)
class Pow(BinaryScalarOp):
    name = "pow"
    impl = staticmethod(np.power)  # type: ignore[assignment]

    def pullback(self, inputs, outputs, grads):
        from gnomon.scalar.math import Log

        x, y = inputs
        g = grads[0]
        gx = g * y * elementwise(Pow(), x, y - 1)
        # d/dy x**y = x**y log x; defined as 0 where x == 0 (the limit for y > 0).
        safe_log = elementwise(Log(), elementwise(Switch(), elementwise(EQ(), x, 0), 1, x))
        gy = g * outputs[0] * safe_log
        return [gx, gy]


@dataclass(frozen=True)
class Neg(UnaryScalarOp):
    name = "neg"
    impl = staticmethod(np.negative)  # type: ignore[assignment]

    def pullback(self, inputs, outputs, grads):
        return [-grads[0]]


@dataclass(frozen=True)
class Identity(UnaryScalarOp):
    name = "identity"

    def impl(self, x: Any) -> Any:
        return np.array(x, copy=True)

    def pullback(self, inputs, outputs, grads):
        return [grads[0]]


@dataclass(frozen=True)
class Cast(UnaryScalarOp):
    """Convert to ``dtype`` (C-style: floats truncate toward zero when cast to integers)."""

    dtype: str

    @property
    def name(self) -> str:  # type: ignore[override]
        return f"cast{{{self.dtype}}}"

    def impl(self, x: Any) -> Any:
        with np.errstate(all="ignore"):
            return np.asarray(x).astype(self.dtype)

    def output_dtypes(self, *dtypes: str) -> tuple[str, ...]:
        return (self.dtype,)

    def pullback(self, inputs, outputs, grads):
        x = inputs[0]
        if np.dtype(x.dtype).kind not in "fc" or np.dtype(self.dtype).kind not in "fc":
            return [None]
        g = grads[0]
        return [g if g.dtype == x.dtype else elementwise(Cast(x.dtype), g)]


@dataclass(frozen=True)
class Switch(ScalarOp):
    """``where(cond, a, b)``: ``a`` where ``cond`` is true, else ``b``."""

    name = "switch"
    nin = 3

    def impl(self, c: Any, a: Any, b: Any) -> Any:
        return np.where(c, a, b)

    def output_dtypes(self, *dtypes: str) -> tuple[str, ...]:
        return (np.result_type(np.dtype(dtypes[1]), np.dtype(dtypes[2])).name,)

    def pullback(self, inputs, outputs, grads):
        c = inputs[0]
        g = grads[0]
        zero = np.zeros((), dtype=g.dtype)
        return [None, elementwise(Switch(), c, g, zero), elementwise(Switch(), c, zero, g)]


# --- comparisons and logic (no gradient: piecewise constant, boolean output) -------------


class LogicalScalarOp(BinaryScalarOp):
    """A binary op with a boolean or integer result and no gradient."""

    def pullback(self, inputs, outputs, grads):
        return [None] * len(inputs)


def _comparison(cls_name: str, name: str, fn: Callable[..., Any], sym: str) -> type:
    cls = dataclass(frozen=True)(  # type: ignore[var-annotated]
        type(cls_name, (LogicalScalarOp,), {"name": name, "impl": staticmethod(fn), "symbol": sym})
    )
    cls.__module__ = __name__
    return cls


LT = _comparison("LT", "lt", np.less, "<")
GT = _comparison("GT", "gt", np.greater, ">")
LE = _comparison("LE", "le", np.less_equal, "<=")
GE = _comparison("GE", "ge", np.greater_equal, ">=")
EQ = _comparison("EQ", "eq", np.equal, "==")
NEQ = _comparison("NEQ", "neq", np.not_equal, "!=")
AND = _comparison("AND", "and", np.bitwise_and, "&")
OR = _comparison("OR", "or", np.bitwise_or, "|")
XOR = _comparison("XOR", "xor", np.bitwise_xor, "^")
for _c in (EQ, NEQ, AND, OR, XOR):
    _c.commutative = True  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Invert(UnaryScalarOp):
    """Bitwise not (logical not on booleans)."""

    name = "invert"
    impl = staticmethod(np.invert)  # type: ignore[assignment]

    def pullback(self, inputs, outputs, grads):
        return [None]
