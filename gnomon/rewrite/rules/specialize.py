"""Specialization: faster forms of canonical expressions, for the backends.

* ``x ** n`` for a small integer ``n`` becomes multiplications (``x**3 -> x*x*x``,
  ``x**-2 -> 1/(x*x)``), ``x ** 0.5 -> sqrt(x)``, ``x ** -0.5 -> 1/sqrt(x)``;
* ``sum(x * y)`` of two vectors of provably equal length becomes ``dot(x, y)`` (BLAS), which
  also covers the reductions of elementwise squares: ``sum(x**2)`` is ``sum(x*x)`` after the
  power rule and then ``dot(x, x)``; not when a factor is itself computed elementwise
  (``sum((x - mu)**2)``), which fusion sums in the loop computing it, without a temporary;
* BLAS calls (:class:`~gnomon.tensor.blas.Gemm`, :class:`~gnomon.tensor.blas.Ger`) for products of
  float32/float64 matrices and vectors of one dtype: a transposed operand of a 2-d ``matmul``
  becomes a transpose flag (no copy), ``matrix @ vector`` and ``vector @ matrix`` become gemv,
  scalar factors fold into ``alpha``, an added array (times a scalar) into ``z`` and ``beta``,
  and ``outer(x, y) * alpha + z`` becomes ger. So ``alpha * (A.T @ B) + beta * C`` is one
  ``Gemm{TN}`` node. Batched (rank > 2), integer, complex and mixed-dtype products are left as
  they are.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gnomon.graph.basic import Apply, Constant, Variable
from gnomon.rewrite.engine import current_oracle, register_rule
from gnomon.rewrite.pattern import Const, P, Var, is_inexact, scalar_value
from gnomon.scalar.basic import Add, Mul, Pow, Sub
from gnomon.tensor.basic import constant
from gnomon.tensor.blas import Gemm, Ger, MatMul, dot
from gnomon.tensor.elemwise import Elemwise
from gnomon.tensor.math import add, mul, neg, sqrt, true_divide
from gnomon.tensor.reduce import Sum
from gnomon.tensor.shapes import DimShuffle, dimshuffle

SPEC = ("specialize",)

#: Largest |n| for which ``x ** n`` becomes multiplications.
MAX_POW_UNROLL = 4


def _power_by_squaring(x: Variable, n: int) -> Variable:
    result: Variable | None = None
    base = x
    while n:
        if n & 1:
            result = base if result is None else mul(result, base)
        n >>= 1
        if n:
            base = mul(base, base)
    assert result is not None
    return result


@register_rule(P(Elemwise(Pow), Var("x", where=is_inexact), Const("n")), groups=SPEC)
def pow_small_int_to_mul(node: Apply, x: Variable, n: Any) -> Variable | None:
    """``x ** n -> x * x * ...`` for integer ``1 < |n| <= 4`` (inexact dtypes)."""
    v = scalar_value(n)
    if v is None or isinstance(v, complex) or not float(v).is_integer():
        return None
    k = int(v)
    if not 2 <= abs(k) <= MAX_POW_UNROLL or any(s != 1 for s in n.type.shape):
        return None
    prod = _power_by_squaring(x, abs(k))
    return prod if k > 0 else true_divide(1, prod)


@register_rule(P(Elemwise(Pow), Var("x", where=is_inexact), Const(value=0.5)), groups=SPEC)
def pow_half_to_sqrt(node: Apply, x: Variable) -> Variable | None:
    """``x ** 0.5 -> sqrt(x)``."""
    return sqrt(x)


@register_rule(P(Elemwise(Pow), Var("x", where=is_inexact), Const(value=-0.5)), groups=SPEC)
def pow_minus_half_to_rsqrt(node: Apply, x: Variable) -> Variable | None:
    """``x ** -0.5 -> 1 / sqrt(x)``."""
    return true_divide(1, sqrt(x))


@register_rule(P(Sum, P(Elemwise(Mul), "x", "y")), groups=SPEC)
def sum_mul_to_dot(node: Apply, x: Variable, y: Variable) -> Variable | None:
    """``sum(x * y) -> dot(x, y)`` for float vectors of provably equal length."""
    out = node.outputs[0]
    if x.ndim != 1 or y.ndim != 1 or not str(out.dtype).startswith("float"):
        return None
    if not (x.dtype == y.dtype == out.dtype):
        return None
    # A factor computed elementwise would become a temporary array for BLAS; left as a sum,
    # fusion computes it inside the loop that sums (one pass, no temporary: numba backend).
    if any(v.owner is not None and isinstance(v.owner.op, Elemwise) for v in (x, y)):
        return None
    # A length-1 vector broadcast against a longer one sums fine but is no inner product.
    oracle = current_oracle()
    if oracle.key(x, 0) != oracle.key(y, 0) or x.type.shape[0] == 1:  # type: ignore[attr-defined]
        return None
    return dot(x, y)


# --- BLAS: Gemm (gemm / gemv) and Ger --------------------------------------------------------

_BLAS_DTYPES = ("float32", "float64")


def _dimshuffle_of(v: Variable, input_ndim: int, order: tuple[Any, ...]) -> Variable | None:
    """The input of ``v`` if ``v`` is ``DimShuffle(input_ndim, order)`` of it, else ``None``."""
    node = v.owner
    if node is None or not isinstance(node.op, DimShuffle):
        return None
    if node.op.input_ndim != input_ndim or tuple(node.op.new_order) != order:
        return None
    return node.inputs[0]


def _untranspose(v: Variable) -> tuple[Variable, bool]:
    """``(x, True)`` if ``v`` is the transpose ``x.T`` of a matrix, else ``(v, False)``."""
    x = _dimshuffle_of(v, 2, (1, 0))
    return (v, False) if x is None else (x, True)


def _is_scalar_like(v: Variable) -> bool:
    return all(d == 1 for d in v.type.shape)  # type: ignore[attr-defined]


def _as_scalar(v: Variable) -> Variable:
    """A 0-d variable with the value of ``v``, whose dimensions all have static length 1."""
    if v.ndim == 0:
        return v
    if isinstance(v, Constant):
        return constant(np.asarray(v.data).reshape(()), v.dtype)
    inner = v.owner.inputs[0] if v.owner is not None and isinstance(
        v.owner.op, DimShuffle) else None
    if inner is not None and inner.ndim == 0:
        return inner  # undo the broadcast of a scalar (alpha * M puts alpha in a DimShuffle)
    return dimshuffle(v, [])


def _is_zero(v: Variable) -> bool:
    return isinstance(v, Constant) and v.ndim == 0 and not np.any(np.asarray(v.data))


def _is_one(v: Variable) -> bool:
    return isinstance(v, Constant) and v.ndim == 0 and bool(np.all(np.asarray(v.data) == 1))


class _Product:
    """``alpha * op(a) @ op(b)``: a 2-d float ``MatMul`` or a ``Gemm`` without ``z``."""

    def __init__(self, alpha: Variable, a: Variable, ta: bool, b: Variable, tb: bool) -> None:
        self.alpha, self.a, self.ta, self.b, self.tb = alpha, a, ta, b, tb

    def build(self, z: Variable | None = None, alpha: Variable | None = None,
              beta: Variable | None = None) -> Variable:
        dt = self.a.dtype
        zero = constant(0, dt)
        gemm = Gemm(trans_a=self.ta, trans_b=self.tb)
        out: Variable = gemm(zero if z is None else z, self.alpha if alpha is None else alpha,
                             self.a, self.b, zero if beta is None else beta)
        return out

    def scaled(self, factor: Variable) -> Variable:
        """The alpha of ``factor * self`` (no multiplication when alpha is the constant 1)."""
        return factor if _is_one(self.alpha) else mul(factor, self.alpha)


def _product(v: Variable) -> _Product | None:
    node = v.owner
    if node is None or v.dtype not in _BLAS_DTYPES:
        return None
    if isinstance(node.op, MatMul):
        a, b = node.inputs
        if a.ndim != 2 or b.ndim != 2 or not (a.dtype == b.dtype == v.dtype):
            return None
        a, ta = _untranspose(a)
        b, tb_ = _untranspose(b)
        return _Product(_one(v.dtype), a, ta, b, tb_)
    if isinstance(node.op, Gemm):
        z, alpha, a, b, beta = node.inputs
        if _is_zero(z) and _is_zero(beta):
            return _Product(alpha, a, node.op.trans_a, b, node.op.trans_b)
    return None


def _one(dtype: str) -> Variable:
    return constant(1, dtype)


@register_rule(P(MatMul, "a", "b"), groups=SPEC, exact_shape=True)
def matmul_transpose_to_gemm(node: Apply, a: Variable, b: Variable) -> Variable | None:
    """``matmul(a.T, b) -> Gemm{TN}(a, b)`` (and ``b.T``): the transpose becomes a BLAS flag
    instead of a copy (2-d float32/float64 operands of one dtype)."""
    p = _product(node.outputs[0])
    if p is None or not (p.ta or p.tb):
        return None
    return p.build()


@register_rule(P(DimShuffle, "m"), groups=SPEC, exact_shape=True)
def matvec_to_gemv(node: Apply, m: Variable) -> Variable | None:
    """``matrix @ vector -> Gemm`` with a vector operand (gemv); ``vector @ matrix`` too, as the
    transposed matrix times the vector."""
    op = node.op
    if op.input_ndim != 2 or tuple(op.new_order) not in ((0,), (1,)):  # type: ignore[attr-defined]
        return None
    p = _product(m)
    if p is None:
        return None
    if tuple(op.new_order) == (0,):  # type: ignore[attr-defined]
        # (m, k) @ (k, 1) with the last axis dropped: the column is an expanded vector.
        v = None if p.tb else _dimshuffle_of(p.b, 1, (0, "x"))
        if v is None:
            return None
        return Gemm(trans_a=p.ta, trans_b=False)(
            _zero(v.dtype), p.alpha, p.a, v, _zero(v.dtype))
    # (1, k) @ (k, n) with the first axis dropped: v @ op(B) = op(B).T @ v.
    v = None if p.ta else _dimshuffle_of(p.a, 1, ("x", 0))
    if v is None:
        return None
    return Gemm(trans_a=not p.tb, trans_b=False)(
        _zero(v.dtype), p.alpha, p.b, v, _zero(v.dtype))


def _zero(dtype: str) -> Variable:
    return constant(0, dtype)


@register_rule(P(Elemwise(Mul), "s", "m", rest="others"), groups=SPEC, exact_shape=True)
def scaled_product_to_gemm(
    node: Apply, s: Variable, m: Variable, others: tuple[Variable, ...]
) -> Variable | None:
    """``alpha * (a @ b) -> Gemm`` with ``alpha`` folded in (scalar factors: constants or
    variables, every dimension of static length 1)."""
    out = node.outputs[0]
    p = _product(m)
    if p is None or out.dtype != m.dtype:
        return None
    factors = [s, *others]
    if not all(_is_scalar_like(f) for f in factors):
        return None
    scalars = [_as_scalar(f) for f in factors]
    factor = scalars[0] if len(scalars) == 1 else mul(*scalars)
    return p.build(alpha=p.scaled(factor))


def _split_scaled(z: Variable) -> tuple[Variable, Variable | None]:
    """``beta * w -> (w, beta)`` for a scalar-like ``beta``; otherwise ``(z, None)``."""
    node = z.owner
    if node is not None and isinstance(node.op, Elemwise) and isinstance(
            node.op.scalar_op, Mul) and len(node.inputs) == 2:
        x, y = node.inputs
        for beta, w in ((x, y), (y, x)):
            if _is_scalar_like(beta) and not _is_scalar_like(w) and w.dtype == z.dtype:
                return w, _as_scalar(beta)
    return z, None


@register_rule(P(Elemwise(Add), "m", "z", rest="others"), groups=SPEC, exact_shape=True)
def add_to_gemm(
    node: Apply, m: Variable, z: Variable, others: tuple[Variable, ...]
) -> Variable | None:
    """``a @ b + z -> Gemm`` and ``beta * z + alpha * (a @ b) -> Gemm`` (``z`` broadcast like
    ``+``; ``beta`` a scalar-like factor of ``z``)."""
    out = node.outputs[0]
    p = _product(m)
    if p is None or not (out.dtype == m.dtype == z.dtype):
        return None
    w, beta = _split_scaled(z)
    if w.ndim > m.ndim:
        return None
    g = p.build(z=w, beta=_one(out.dtype) if beta is None else beta)
    return g if not others else add(g, *others)


@register_rule(P(Elemwise(Sub), "x", "y"), groups=SPEC, exact_shape=True)
def sub_to_gemm(node: Apply, x: Variable, y: Variable) -> Variable | None:
    """``z - alpha * (a @ b) -> Gemm`` (alpha negated) and ``alpha * (a @ b) - beta * z ->
    Gemm`` (beta negated)."""
    out = node.outputs[0]
    if not (out.dtype == x.dtype == y.dtype):
        return None
    p = _product(y)
    if p is not None:
        w, beta = _split_scaled(x)
        return p.build(z=w, alpha=neg(p.alpha), beta=_one(out.dtype) if beta is None else beta)
    p = _product(x)
    if p is not None:
        w, beta = _split_scaled(y)
        return p.build(z=w, beta=neg(_one(out.dtype) if beta is None else beta))
    return None


def _outer(m: Variable, dtype: str) -> tuple[Variable, Variable, Variable] | None:
    """``(x, y, alpha)`` if ``m`` is ``x[:, None] * y[None, :]`` times scalar-like factors."""
    mn = m.owner
    if dtype not in _BLAS_DTYPES or m.dtype != dtype or mn is None:
        return None
    if not (isinstance(mn.op, Elemwise) and isinstance(mn.op.scalar_op, Mul)):
        return None
    x = y = None
    scalars = []
    for f in mn.inputs:
        col, row = _dimshuffle_of(f, 1, (0, "x")), _dimshuffle_of(f, 1, ("x", 0))
        if col is not None and x is None and col.dtype == dtype:
            x = col
        elif row is not None and y is None and row.dtype == dtype:
            y = row
        elif _is_scalar_like(f):
            scalars.append(_as_scalar(f))
        else:
            return None
    if x is None or y is None:
        return None
    if not scalars:
        return x, y, _one(dtype)
    return x, y, scalars[0] if len(scalars) == 1 else mul(*scalars)


@register_rule(P(Elemwise(Add), "m", "z", rest="others"), groups=SPEC, exact_shape=True)
def outer_add_to_ger(
    node: Apply, m: Variable, z: Variable, others: tuple[Variable, ...]
) -> Variable | None:
    """``outer(x, y) * alpha + z -> Ger(z, alpha, x, y)`` (rank-1 update; ``alpha`` any
    scalar-like factors, ``x``, ``y`` float vectors of the output's dtype)."""
    out = node.outputs[0]
    parts = _outer(m, out.dtype)
    if parts is None or z.dtype != out.dtype:
        return None
    x, y, alpha = parts
    g = Ger()(z, alpha, x, y)
    return g if not others else add(g, *others)


@register_rule(P(Elemwise(Sub), "z", "m"), groups=SPEC, exact_shape=True)
def outer_sub_to_ger(node: Apply, z: Variable, m: Variable) -> Variable | None:
    """``z - outer(x, y) * alpha -> Ger(z, -alpha, x, y)``."""
    out = node.outputs[0]
    parts = _outer(m, out.dtype)
    if parts is None or z.dtype != out.dtype:
        return None
    x, y, alpha = parts
    return Ger()(z, neg(alpha), x, y)
