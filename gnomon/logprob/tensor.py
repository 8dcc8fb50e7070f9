"""Measurable shape operations and cumulative sums of random variables: ``stack`` /
``concatenate`` (``MakeVector``, ``Join``), ``dimshuffle`` / transpose / ``x[None]``, and
``cumsum``.

* ``concatenate([a, b], axis)`` of *independent* measurable variables (no random variable in
  common): the value is split along ``axis`` (sizes known when the graph is built) and each
  part gets its component's density; the densities are joined back along ``axis``.
* ``x.dimshuffle(...)`` of an elementwise-measurable ``x`` (no support dimensions): the value is
  put back into ``x``'s layout, and the density into the value's.
* ``cumsum(x, axis)``: the density of ``x`` at the increments of the value (the first element,
  then the differences): a Gaussian random walk is ``cumsum`` of normals.

Examples
--------
>>> import numpy as np, scipy.stats as st, gnomon.tensor as gt, gnomon.random as gr
>>> import gnomon.logprob as glp
>>> walk = gt.cumsum(gr.normal(0.0, 1.0, size=3))
>>> v = np.array([0.5, 1.0, 0.0])
>>> lp = glp.logp(walk, v).eval(mode="numpy")
>>> bool(np.allclose(lp, st.norm.logpdf([0.5, 0.5, -1.0])))
True
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import gnomon.tensor as gt
from gnomon.graph.basic import Variable
from gnomon.logprob.abstract import _logprob
from gnomon.logprob.rewriting import (
    MeasurableOp,
    is_measurable,
    measured_logp,
    ndim_supp,
    register_measurable_rule,
    supported_expression,
    unvalued_rvs,
)
from gnomon.tensor.reduce import Cumsum
from gnomon.tensor.shapes import DimShuffle, Join, MakeVector

__all__: list[str] = []

supported_expression('stack / concatenate of independent variables')
supported_expression('dimshuffle / transpose / x[None]')
supported_expression('cumsum')


def independent(components: list[Variable]) -> bool:
    """No two components share a random variable (or are the same variable)."""
    seen: set[Variable] = set()
    for c in components:
        rvs = set(unvalued_rvs([c]))
        if not rvs or rvs & seen:
            return False
        seen |= rvs
    return True


def _sl(ndim: int, axis: int, s: Any) -> tuple[Any, ...]:
    idx: list[Any] = [slice(None)] * ndim
    idx[axis] = s
    return tuple(idx)


# --- stack of scalars: MakeVector ---------------------------------------------------------------


@dataclass(frozen=True)
class MeasurableMakeVector(MeasurableOp):
    """``stack([a, b, ...])`` of independent measurable scalars."""


@register_measurable_rule(ops=[MakeVector])
def measurable_make_vector(node: Any) -> Variable | None:
    """``stack`` of independent measurable scalars -> :class:`MeasurableMakeVector`."""
    comps = list(node.inputs)
    if not comps or not all(is_measurable(c) and c.ndim == 0 and not ndim_supp(c)
                            for c in comps) or not independent(comps):
        return None
    return MeasurableMakeVector(node.op)(*comps)


@_logprob.register(MeasurableMakeVector)
def _make_vector_logp(op: MeasurableMakeVector, value: Variable, *comps: Variable) -> Variable:
    return gt.stack([measured_logp(c, gt.cast(value[i], c.dtype)) for i, c in enumerate(comps)])


# --- concatenate: Join ----------------------------------------------------------------------


@dataclass(frozen=True)
class MeasurableJoin(MeasurableOp):
    """``concatenate(components, axis)`` of independent measurable variables."""


@register_measurable_rule(ops=[Join])
def measurable_join(node: Any) -> Variable | None:
    """``concatenate`` / ``stack`` of independent measurable variables, each of known size
    along the axis (and the axis not a support dimension) -> :class:`MeasurableJoin`."""
    comps = list(node.inputs)
    axis = node.op.axis
    if not all(is_measurable(c) for c in comps) or not independent(comps):
        return None
    if any(c.type.shape[axis] is None or axis >= c.ndim - ndim_supp(c) for c in comps):
        return None
    if len({ndim_supp(c) for c in comps}) != 1:
        return None
    return MeasurableJoin(node.op)(*comps)


@_logprob.register(MeasurableJoin)
def _join_logp(op: MeasurableJoin, value: Variable, *comps: Variable) -> Variable:
    axis = op.base.axis  # type: ignore[attr-defined]
    parts, start = [], 0
    for c in comps:
        n = c.type.shape[axis]  # type: ignore[attr-defined]
        parts.append(measured_logp(c, gt.cast(value[_sl(value.ndim, axis,
                                                         slice(start, start + n))], c.dtype)))
        start += n
    return gt.concatenate(parts, axis=axis)


# --- dimshuffle -------------------------------------------------------------------------------


@dataclass(frozen=True)
class MeasurableDimShuffle(MeasurableOp):
    """A transpose and/or new broadcast dimensions of an elementwise-measurable variable."""


@register_measurable_rule(ops=[DimShuffle])
def measurable_dimshuffle(node: Any) -> Variable | None:
    """``x.dimshuffle(order)`` keeping every dimension of a measurable ``x`` without support
    dimensions -> :class:`MeasurableDimShuffle`."""
    x = node.inputs[0]
    order = node.op.new_order
    if not is_measurable(x) or ndim_supp(x):
        return None
    if sorted(d for d in order if d != "x") != list(range(x.ndim)):
        return None  # drops a dimension
    return MeasurableDimShuffle(node.op)(x)


@_logprob.register(MeasurableDimShuffle)
def _dimshuffle_logp(op: MeasurableDimShuffle, value: Variable, x: Variable) -> Variable:
    order = op.base.new_order  # type: ignore[attr-defined]
    # drop the new axes (index 0), then put x's dimensions back in their order
    v = value[tuple(0 if d == "x" else slice(None) for d in order)]
    kept = [d for d in order if d != "x"]
    back = tuple(kept.index(i) for i in range(x.ndim))
    if back != tuple(range(x.ndim)):
        v = gt.transpose(v, back)
    lp = measured_logp(x, v)
    return op.base(lp)  # type: ignore[operator]


# --- cumsum -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class MeasurableCumsum(MeasurableOp):
    """``cumsum(x, axis)`` of a measurable ``x`` whose elements along ``axis`` have separate
    densities (not a support dimension)."""


@register_measurable_rule(ops=[Cumsum])
def measurable_cumsum(node: Any) -> Variable | None:
    """``cumsum(x, axis)`` of a measurable ``x`` -> :class:`MeasurableCumsum`."""
    x = node.inputs[0]
    if not is_measurable(x) or node.op.axis >= x.ndim - ndim_supp(x):
        return None
    if node.outputs[0].dtype != x.dtype:
        return None  # small integers accumulate in int64: keep the value's dtype simple
    return MeasurableCumsum(node.op)(x)


@_logprob.register(MeasurableCumsum)
def _cumsum_logp(op: MeasurableCumsum, value: Variable, x: Variable) -> Variable:
    axis, nd = op.base.axis, value.ndim  # type: ignore[attr-defined]
    head = value[_sl(nd, axis, slice(None, 1))]
    tail = value[_sl(nd, axis, slice(1, None))]
    body = value[_sl(nd, axis, slice(None, -1))]
    if op.base.reverse:  # type: ignore[attr-defined]
        last = value[_sl(nd, axis, slice(-1, None))]
        inc = gt.concatenate([body - tail, last], axis=axis)
    else:
        inc = gt.concatenate([head, tail - body], axis=axis)
    return measured_logp(x, inc)
