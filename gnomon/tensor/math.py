"""Elementwise math: arithmetic, comparisons, logic and the special functions.

Each user function builds an :class:`~gnomon.tensor.elemwise.Elemwise` node of one scalar op
(see :mod:`gnomon.scalar`); they broadcast like NumPy and follow NumPy's dtype rules.
"""

from __future__ import annotations

from typing import Any

from gnomon.scalar import basic as ps
from gnomon.tensor.elemwise import Elemwise


def _ew(scalar_op: ps.ScalarOp, *args: Any) -> Any:
    return Elemwise(scalar_op)(*args)


# --- arithmetic ----------------------------------------------------------------------------


def add(a: Any, b: Any, *rest: Any) -> Any:
    """Elementwise ``a + b (+ ...)``.

    Examples
    --------
    >>> import gnomon.tensor as gt
    >>> float(gt.add(1.0, 2.0, 3.0).eval())
    6.0
    """
    return _ew(ps.Add(), a, b, *rest)


def mul(a: Any, b: Any, *rest: Any) -> Any:
    """Elementwise ``a * b (* ...)``."""
    return _ew(ps.Mul(), a, b, *rest)


def sub(a: Any, b: Any) -> Any:
    """Elementwise ``a - b``."""
    return _ew(ps.Sub(), a, b)


def true_divide(a: Any, b: Any) -> Any:
    """Elementwise ``a / b`` (integers give floats, as in NumPy)."""
    return _ew(ps.TrueDiv(), a, b)


divide = true_divide


def floor_divide(a: Any, b: Any) -> Any:
    """Elementwise ``a // b``."""
    return _ew(ps.FloorDiv(), a, b)


def mod(a: Any, b: Any) -> Any:
    """Elementwise ``a % b`` (sign of the divisor, as in NumPy)."""
    return _ew(ps.Mod(), a, b)


def power(a: Any, b: Any) -> Any:
    """Elementwise ``a ** b``."""
    return _ew(ps.Pow(), a, b)


pow = power


def neg(a: Any) -> Any:
    """Elementwise ``-a``."""
    return _ew(ps.Neg(), a)


negative = neg


def identity(a: Any) -> Any:
    """A copy of ``a`` (an explicit node; rewrites remove it where it is useless)."""
    return _ew(ps.Identity(), a)


# --- comparisons and logic -----------------------------------------------------------------


def lt(a: Any, b: Any) -> Any:
    """Elementwise ``a < b`` (boolean)."""
    return _ew(ps.LT(), a, b)


def gt(a: Any, b: Any) -> Any:
    """Elementwise ``a > b`` (boolean)."""
    return _ew(ps.GT(), a, b)


def le(a: Any, b: Any) -> Any:
    """Elementwise ``a <= b`` (boolean)."""
    return _ew(ps.LE(), a, b)


def ge(a: Any, b: Any) -> Any:
    """Elementwise ``a >= b`` (boolean)."""
    return _ew(ps.GE(), a, b)


def eq(a: Any, b: Any) -> Any:
    """Elementwise ``a == b`` (boolean). ``==`` on variables is identity, use this instead."""
    return _ew(ps.EQ(), a, b)


def neq(a: Any, b: Any) -> Any:
    """Elementwise ``a != b`` (boolean)."""
    return _ew(ps.NEQ(), a, b)


less, greater, less_equal, greater_equal, equal, not_equal = lt, gt, le, ge, eq, neq


def bitwise_and(a: Any, b: Any) -> Any:
    """Elementwise ``a & b`` (logical and on booleans)."""
    return _ew(ps.AND(), a, b)


def bitwise_or(a: Any, b: Any) -> Any:
    """Elementwise ``a | b`` (logical or on booleans)."""
    return _ew(ps.OR(), a, b)


def bitwise_xor(a: Any, b: Any) -> Any:
    """Elementwise ``a ^ b``."""
    return _ew(ps.XOR(), a, b)


def invert(a: Any) -> Any:
    """Elementwise ``~a`` (logical not on booleans)."""
    return _ew(ps.Invert(), a)


and_, or_, xor, bitwise_not = bitwise_and, bitwise_or, bitwise_xor, invert


def where(cond: Any, a: Any, b: Any) -> Any:
    """``a`` where ``cond`` is true, else ``b`` (like ``np.where`` with three arguments).

    Examples
    --------
    >>> import gnomon.tensor as gt
    >>> gt.where(gt.constant([True, False]), 1.0, 2.0).eval().tolist()
    [1.0, 2.0]
    """
    from gnomon.tensor.basic import as_tensor

    c = as_tensor(cond)
    if c.dtype != "bool":
        c = neq(c, 0)
    return _ew(ps.Switch(), c, a, b)


switch = where


# --- elementwise math functions ------------------------------------------------------------

from gnomon.scalar import math as sm  # noqa: E402


def exp(x: Any) -> Any:
    """Elementwise ``e**x``."""
    return _ew(sm.Exp(), x)


def log(x: Any) -> Any:
    """Elementwise natural logarithm."""
    return _ew(sm.Log(), x)
