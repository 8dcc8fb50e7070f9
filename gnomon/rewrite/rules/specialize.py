"""Specialization: faster forms of canonical expressions, for the backends.

* ``x ** n`` for a small integer ``n`` becomes multiplications (``x**3 -> x*x*x``,
  ``x**-2 -> 1/(x*x)``), ``x ** 0.5 -> sqrt(x)``, ``x ** -0.5 -> 1/sqrt(x)``;
* ``sum(x * y)`` of two vectors of provably equal length becomes ``dot(x, y)`` (BLAS), which
  also covers the reductions of elementwise squares: ``sum(x**2)`` is ``sum(x*x)`` after the
  power rule and then ``dot(x, x)``.

Not done yet: folding transposes and scalings of ``dot``/``matmul`` operands into GEMM/GEMV/GER
calls: gnomon has no such ops (``MatMul`` calls BLAS through NumPy or the backend already; the
scaling is left as an elementwise multiplication, which fusion merges with its neighbours).
"""

from __future__ import annotations

from typing import Any

from gnomon.graph.basic import Apply, Variable
from gnomon.rewrite.engine import current_oracle, register_rule
from gnomon.rewrite.pattern import Const, P, Var, is_inexact, op_class, scalar_value
from gnomon.rewrite.rules import apply_scalar, tensor_function
from gnomon.scalar.basic import Mul, Pow
from gnomon.tensor.elemwise import Elemwise

SPEC = ("specialize",)
SUM = op_class("gnomon.tensor.reduce:Sum")

#: Largest |n| for which ``x ** n`` becomes multiplications.
MAX_POW_UNROLL = 4


def _tm() -> Any:
    from gnomon.tensor import math as tm

    return tm


def _power_by_squaring(x: Variable, n: int) -> Variable:
    tm = _tm()
    result: Variable | None = None
    base = x
    while n:
        if n & 1:
            result = base if result is None else tm.mul(result, base)
        n >>= 1
        if n:
            base = tm.mul(base, base)
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
    return prod if k > 0 else _tm().true_divide(1, prod)


@register_rule(P(Elemwise(Pow), Var("x", where=is_inexact), Const(value=0.5)), groups=SPEC)
def pow_half_to_sqrt(node: Apply, x: Variable) -> Variable | None:
    """``x ** 0.5 -> sqrt(x)``."""
    return apply_scalar("Sqrt", x, function="sqrt")  # type: ignore[no-any-return]


@register_rule(P(Elemwise(Pow), Var("x", where=is_inexact), Const(value=-0.5)), groups=SPEC)
def pow_minus_half_to_rsqrt(node: Apply, x: Variable) -> Variable | None:
    """``x ** -0.5 -> 1 / sqrt(x)``."""
    s = apply_scalar("Sqrt", x, function="sqrt")
    return None if s is None else _tm().true_divide(1, s)


@register_rule(P(SUM, P(Elemwise(Mul), "x", "y")), groups=SPEC)
def sum_mul_to_dot(node: Apply, x: Variable, y: Variable) -> Variable | None:
    """``sum(x * y) -> dot(x, y)`` for float vectors of provably equal length."""
    dot = tensor_function("dot", "gnomon.tensor.blas")
    out = node.outputs[0]
    if dot is None or x.ndim != 1 or y.ndim != 1 or not str(out.dtype).startswith("float"):
        return None
    if not (x.dtype == y.dtype == out.dtype):
        return None
    # A length-1 vector broadcast against a longer one sums fine but is no inner product.
    oracle = current_oracle()
    if oracle.key(x, 0) != oracle.key(y, 0) or x.type.shape[0] == 1:  # type: ignore[attr-defined]
        return None
    return dot(x, y)  # type: ignore[no-any-return]
