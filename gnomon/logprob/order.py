"""Order statistics: ``max`` and ``min`` over axes of independent, identically distributed
continuous random variables.

For ``n`` iid draws with cdf ``F`` and density ``f``, the maximum has density
``n F(v)^(n-1) f(v)`` and cdf ``F(v)^n``; the minimum ``n (1 - F(v))^(n-1) f(v)`` and
``1 - (1 - F(v))^n``. "Identically distributed" is read off the graph: the variable is drawn
by one random variable node whose parameters do not vary along the reduced axes (they
broadcast there), and ``n``, the number of elements reduced, is known when the graph is built.

Examples
--------
>>> import numpy as np, gnomon.tensor as gt, gnomon.random as gr
>>> import gnomon.logprob as glp
>>> m = gt.max(gr.uniform(0.0, 1.0, size=3))   # Beta(3, 1): density 3 v^2
>>> bool(np.isclose(float(glp.logp(m, 0.5).eval(mode="numpy")), np.log(3 * 0.25)))
True
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

import gnomon.tensor as gt
from gnomon.graph.basic import Variable
from gnomon.logprob.abstract import _icdf, _logcdf, _logprob
from gnomon.logprob.elemwise import log_sf
from gnomon.logprob.rewriting import (
    MeasurableOp,
    measured_icdf,
    measured_logcdf,
    measured_logp,
    register_measurable_rule,
    supported_expression,
)
from gnomon.random.op import RandomVariable
from gnomon.tensor.reduce import Max, Min

__all__: list[str] = []

supported_expression('max / min over axes of iid continuous draws')


@dataclass(frozen=True)
class MeasurableOrderStatistic(MeasurableOp):
    """``max`` or ``min`` over axes of iid continuous draws."""


def _iid_along(x: Variable, axes: tuple[int, ...]) -> bool:
    node = x.owner
    if node is None or not isinstance(node.op, RandomVariable) or node.op.ndim_supp:
        return False
    for p, core in zip(node.inputs[2:], node.op.ndims_params, strict=True):
        nb = p.ndim - core
        for a in axes:
            d = a - (x.ndim - nb)
            if d >= 0 and p.type.shape[d] != 1:  # type: ignore[attr-defined]
                return False
    return True


@register_measurable_rule(ops=[Max, Min])
def measurable_order_statistic(node: Any) -> Variable | None:
    """``max`` / ``min`` of iid continuous draws -> :class:`MeasurableOrderStatistic`."""
    x = node.inputs[0]
    axes = node.op.axes
    if x.dtype[0] != "f" or not _iid_along(x, axes):
        return None
    if any(x.type.shape[a] is None for a in axes):
        return None
    return MeasurableOrderStatistic(node.op)(x)


def _parts(op: MeasurableOrderStatistic, value: Variable, x: Variable
           ) -> tuple[int, Variable, tuple[int, ...]]:
    axes = op.base.axes  # type: ignore[attr-defined]
    n = int(np.prod([x.type.shape[a] for a in axes]))  # type: ignore[attr-defined]
    return n, gt.expand_dims(value, axes), axes


@_logprob.register(MeasurableOrderStatistic)
def _order_logp(op: MeasurableOrderStatistic, value: Variable, x: Variable) -> Variable:
    n, v, axes = _parts(op, value, x)
    lc = measured_logcdf(x, v)
    tail = lc if isinstance(op.base, Max) else log_sf(lc)
    lp = float(np.log(n)) + measured_logp(x, v)
    if n > 1:
        lp = lp + (n - 1) * tail
    return gt.sum(lp, axis=axes)  # the reduced axes have length 1 here


@_logcdf.register(MeasurableOrderStatistic)
def _order_logcdf(op: MeasurableOrderStatistic, value: Variable, x: Variable) -> Variable:
    n, v, axes = _parts(op, value, x)
    lc = measured_logcdf(x, v)
    out = n * lc if isinstance(op.base, Max) else gt.log1mexp(n * log_sf(lc))
    return gt.sum(out, axis=axes)


@_icdf.register(MeasurableOrderStatistic)
def _order_icdf(op: MeasurableOrderStatistic, q: Variable, x: Variable) -> Variable:
    n, qq, axes = _parts(op, q, x)
    p = qq ** (1.0 / n) if isinstance(op.base, Max) else 1.0 - (1.0 - qq) ** (1.0 / n)
    return gt.sum(measured_icdf(x, p), axis=axes)
