"""Arrays built from a few numbers: ``eye``, ``arange``, ``linspace``.

``zeros``, ``ones``, ``full`` and their ``_like`` forms live in :mod:`gnomon.tensor.basic`
(the ``Alloc`` op). The ops here take their sizes and end points as scalar inputs, so they may be
symbolic; the output's static shape is known when the inputs that set it are constants.
Integer inputs get no gradient; ``arange`` and ``linspace`` have gradients with respect to
float end points and steps.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from gnomon.errors import GnomonTypeError, GnomonValueError, ShapeError
from gnomon.errors import at_user_line as _where
from gnomon.graph.basic import Apply, Constant, Variable
from gnomon.graph.op import Op
from gnomon.tensor.basic import as_tensor, cast, constant
from gnomon.tensor.shapes import _const, _int_scalar, shape_i
from gnomon.tensor.type import INT_DTYPES, TensorType, normalize_dtype

__all__ = ["Arange", "Eye", "Linspace", "arange", "eye", "linspace"]


def _real_scalar(v: Any, what: str) -> Variable:
    t = as_tensor(v)
    if t.ndim != 0 or t.dtype[0] == "c":
        raise GnomonTypeError(
            f"{what} must be a real scalar, got {v!r} ({t.type}).\n"
            "Hint: pass a Python number or a 0-d variable."
        )
    return t


def _value(v: Variable) -> Any:
    return v.data[()] if isinstance(v, Constant) else None


# --- eye ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Eye(Op):
    """``Eye(dtype)(n, m, k)``: an ``n x m`` array with ones on diagonal ``k`` (``np.eye``)."""

    dtype: str

    def make_node(self, n: Any, m: Any, k: Any) -> Apply:
        dims = [_int_scalar(n, "eye: n"), _int_scalar(m, "eye: m")]
        kv = _int_scalar(k, "eye: k")
        consts = [_const(d) for d in dims]
        if any(c is not None and c < 0 for c in consts):
            raise ShapeError(f"eye: negative size in (n, m) = {tuple(consts)}{_where()}")
        return Apply.make(self, [*dims, kv], [TensorType(self.dtype, tuple(consts))])

    def perform(self, node, inputs):
        n, m, k = (int(v) for v in inputs)
        if n < 0 or m < 0:
            raise ShapeError(f"eye: negative size (n, m) = ({n}, {m})")
        return (np.eye(n, m, k, dtype=self.dtype),)

    def infer_shape(self, node, input_shapes):
        return [tuple(node.inputs[:2])]

    def pullback(self, node, output_grads):
        return [None, None, None]

    def __str__(self) -> str:
        return f"Eye{{{self.dtype}}}"


def eye(n: Any, m: Any = None, k: Any = 0, dtype: Any = "floatX") -> Variable:
    """A 2-d array with ones on the ``k``-th diagonal and zeros elsewhere (like ``np.eye``).

    Parameters
    ----------
    n, m : int or int scalar variable
        Rows and columns (``m`` defaults to ``n``).
    k : int or int scalar variable
        Diagonal offset: 0 the main diagonal, positive above, negative below.
    dtype : dtype-like
        ``'floatX'`` (the default) is ``gnomon.config.floatX``.

    Examples
    --------
    >>> import gnomon.tensor as gt
    >>> gt.eye(2, 3, k=1, dtype="int64").eval().tolist()
    [[0, 1, 0], [0, 0, 1]]
    >>> n = gt.lscalar("n")
    >>> gt.eye(n).eval({n: 2}).tolist()
    [[1.0, 0.0], [0.0, 1.0]]
    """
    return Eye(normalize_dtype(dtype))(n, n if m is None else m, k)


# --- arange ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Arange(Op):
    """``Arange(dtype)(start, stop, step)``: evenly spaced values in ``[start, stop)``."""

    dtype: str

    def make_node(self, start: Any, stop: Any, step: Any) -> Apply:
        ins = [_real_scalar(v, f"arange: {w}")
               for v, w in zip((start, stop, step), ("start", "stop", "step"), strict=True)]
        vals = [_value(v) for v in ins]
        if vals[2] is not None and vals[2] == 0:
            raise GnomonValueError(f"arange: step must not be 0{_where()}")
        n = None
        if all(v is not None for v in vals):
            n = len(np.arange(*vals, dtype=self.dtype))
        return Apply.make(self, ins, [TensorType(self.dtype, (n,))])

    def perform(self, node, inputs):
        start, stop, step = (np.asarray(v)[()] for v in inputs)
        if step == 0:
            raise GnomonValueError("arange: step is 0.\nHint: use a non-zero step.")
        return (np.arange(start, stop, step, dtype=self.dtype),)

    def infer_shape(self, node, input_shapes):
        from gnomon.tensor import math as tm

        static = node.outputs[0].type.shape[0]
        if static is not None:
            return [(constant(static, "int64"),)]
        start, stop, step = node.inputs
        if all(v.dtype in INT_DTYPES or v.dtype == "bool" for v in node.inputs):
            a, b, s = (cast(v, "int64") for v in (start, stop, step))
            # ceil((b - a) / s) in exact integer arithmetic.
            n = tm.neg(tm.floor_divide(tm.sub(a, b), s))
        else:
            ceil = getattr(tm, "ceil", None)
            if ceil is None:
                return None
            n = cast(ceil(tm.true_divide(tm.sub(stop, start), step)), "int64")
        return [(tm.where(tm.lt(n, 0), constant(0, "int64"), n),)]

    def pullback(self, node, output_grads):
        from gnomon.tensor import math as tm
        from gnomon.tensor.basic import zeros_like
        from gnomon.tensor.reduce import sum as tsum

        (g,) = output_grads
        start, stop, step = node.inputs
        if self.dtype[0] != "f":
            return [None, None, None]
        # out[i] = start + i * step; the end point only sets the length.
        idx = cast(arange(shape_i(g, 0)), g.dtype)
        return [
            tsum(g) if start.dtype[0] == "f" else None,
            zeros_like(stop) if stop.dtype[0] == "f" else None,
            tsum(tm.mul(g, idx)) if step.dtype[0] == "f" else None,
        ]

    def __str__(self) -> str:
        return f"Arange{{{self.dtype}}}"


def _strong_dtype(v: Any) -> np.dtype:
    return np.dtype(v.dtype) if isinstance(v, Variable) else np.asarray(v).dtype


def arange(start: Any, stop: Any = None, step: Any = 1, dtype: Any = None) -> Variable:
    """Evenly spaced values in ``[start, stop)`` (like ``np.arange``).

    Parameters
    ----------
    start, stop, step : number or real scalar variable
        ``arange(n)`` is ``arange(0, n)``. Symbolic values are allowed; the length is then
        known only at run time.
    dtype : dtype-like, optional
        By default NumPy's rule: integers give int64, anything with a float gives float64.

    Examples
    --------
    >>> import gnomon.tensor as gt
    >>> gt.arange(4).eval().tolist()
    [0, 1, 2, 3]
    >>> n = gt.lscalar("n")
    >>> gt.arange(1, n, 2).eval({n: 6}).tolist()
    [1, 3, 5]
    >>> gt.arange(0.0, 1.0, 0.25).type
    TensorType('float64', (4,))
    """
    if stop is None:
        start, stop = 0, start
    if dtype is None:
        dt = np.result_type(np.int64, *[_strong_dtype(v) for v in (start, stop, step)]).name
    else:
        dt = normalize_dtype(dtype)
    return Arange(dt)(start, stop, step)


# --- linspace -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Linspace(Op):
    """``Linspace(endpoint, dtype)(start, stop, num)``: ``num`` evenly spaced values from
    ``start`` to ``stop`` (included when ``endpoint``)."""

    endpoint: bool
    dtype: str

    def make_node(self, start: Any, stop: Any, num: Any) -> Apply:
        a = _real_scalar(start, "linspace: start")
        b = _real_scalar(stop, "linspace: stop")
        n = _int_scalar(num, "linspace: num")
        nc = _const(n)
        if nc is not None and nc < 0:
            raise GnomonValueError(f"linspace: num must be >= 0, not {nc}{_where()}")
        return Apply.make(self, [a, b, n], [TensorType(self.dtype, (nc,))])

    def perform(self, node, inputs):
        a, b, n = (np.asarray(v)[()] for v in inputs)
        if n < 0:
            raise GnomonValueError(f"linspace: num must be >= 0, not {n}")
        return (np.linspace(a, b, int(n), endpoint=self.endpoint, dtype=self.dtype),)

    def infer_shape(self, node, input_shapes):
        return [(node.inputs[2],)]

    def pullback(self, node, output_grads):
        from gnomon.tensor import math as tm
        from gnomon.tensor.reduce import sum as tsum

        (g,) = output_grads
        a, b, n = node.inputs
        if self.dtype[0] != "f":
            return [None, None, None]
        # out[i] = start * (1 - t_i) + stop * t_i with t_i = i / max(div, 1).
        div = tm.sub(n, 1) if self.endpoint else n
        div = tm.where(tm.lt(div, 1), constant(1, "int64"), div)
        t = tm.true_divide(cast(arange(shape_i(g, 0)), g.dtype), cast(div, g.dtype))
        return [
            tsum(tm.sub(g, tm.mul(g, t))) if a.dtype[0] == "f" else None,
            tsum(tm.mul(g, t)) if b.dtype[0] == "f" else None,
            None,
        ]

    def __str__(self) -> str:
        return f"Linspace{{endpoint={self.endpoint}, {self.dtype}}}"


def linspace(
    start: Any, stop: Any, num: Any = 50, endpoint: bool = True, dtype: Any = None
) -> Variable:
    """``num`` evenly spaced values from ``start`` to ``stop`` (like ``np.linspace``).

    Parameters
    ----------
    start, stop : number or real scalar variable
        Scalars only (NumPy's array end points and ``axis`` are not supported).
    num : int or int scalar variable
    endpoint : bool
        Include ``stop`` as the last value.
    dtype : dtype-like, optional
        By default NumPy's rule: float32 end points give float32, integers give float64.

    Notes
    -----
    ``retstep`` is not supported; the step is ``(stop - start) / (num - endpoint)``.

    Examples
    --------
    >>> import gnomon.tensor as gt
    >>> gt.linspace(0, 1, 5).eval().tolist()
    [0.0, 0.25, 0.5, 0.75, 1.0]
    >>> gt.linspace(gt.fscalar("a"), 1.0, 3).type
    TensorType('float32', (3,))
    """
    if dtype is None:
        # NumPy: result_type(start, stop, float(num)); Python numbers are weak (NEP 50).
        parts = [np.dtype(v.dtype) if isinstance(v, Variable) else v for v in (start, stop)]
        dt = np.result_type(*parts, 1.0).name
    else:
        dt = normalize_dtype(dtype)
    return Linspace(bool(endpoint), dt)(start, stop, num)
