"""Stabilization rules for the special functions (``gnomon/tensor/special.py``): logarithms of
normal tail probabilities, which underflow to ``log(0) = -inf`` when computed naively.

* ``log(ndtr(x)) -> log_ndtr(x)`` (finite down to ``x = -1e154`` and beyond);
* ``log(1 - ndtr(x)) -> log_ndtr(-x)``: stabilization first turns ``log(1 - y)`` into
  ``log1p(-y)``, which is matched here;
* ``log(erfc(x)) -> log(erfcx(x)) - x**2`` for ``x > 0`` (``erfc`` underflows above
  ``x = 26.5``); ``erfcx`` overflows for ``x < -26.6``, where ``erfc`` is fine, so the
  rewrite selects by the sign of ``x``, each branch fed a harmless value where it is not
  selected (so that its gradient is not NaN there).
"""

from __future__ import annotations

from gnomon.graph.basic import Apply, Variable
from gnomon.rewrite.engine import register_rule
from gnomon.rewrite.pattern import P, Var, is_float
from gnomon.rewrite.rules.stabilize import STAB
from gnomon.scalar.basic import Neg
from gnomon.scalar.math import Erfc, Log, Log1p
from gnomon.scalar.special import Ndtr
from gnomon.tensor.elemwise import Elemwise
from gnomon.tensor.math import erf, erfcx, greater, log, log1p, neg, square, where
from gnomon.tensor.special import log_ndtr


@register_rule(P(Elemwise(Log), P(Elemwise(Ndtr), Var("x", where=is_float))), groups=STAB)
def log_ndtr_from_log_of_ndtr(node: Apply, x: Variable) -> Variable:
    """``log(ndtr(x)) -> log_ndtr(x)`` (no ``log(0)`` in the lower tail)."""
    return log_ndtr(x)


@register_rule(P(Elemwise(Log1p), P(Elemwise(Neg), P(Elemwise(Ndtr), Var("x", where=is_float)))),
               groups=STAB)
def log_ndtr_from_log1p_neg_ndtr(node: Apply, x: Variable) -> Variable:
    """``log(1 - ndtr(x)) = log1p(-ndtr(x)) -> log_ndtr(-x)`` (the upper tail)."""
    return log_ndtr(neg(x))


@register_rule(P(Elemwise(Log), P(Elemwise(Erfc), Var("x", where=is_float))), groups=STAB)
def log_erfc_from_erfcx(node: Apply, x: Variable) -> Variable:
    """``log(erfc(x)) -> log(erfcx(x)) - x**2`` where ``x > 0``, else ``log1p(-erf(x))`` (the
    same value, ``erfc(x)`` is in ``[1, 2]`` there; spelled so that this rule does not match
    its own output)."""
    pos = greater(x, 0)
    xp = where(pos, x, 0)
    xn = where(pos, 0, x)
    return where(pos, log(erfcx(xp)) - square(xp), log1p(neg(erf(xn))))
