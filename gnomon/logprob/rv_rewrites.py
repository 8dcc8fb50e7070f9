"""Rewrites at the level of random variables: expressions that stay in a distribution's family
become a random variable of that family, so their density (and cdf, inverse cdf) is the
family's.

* ``a + b * x``, ``-x``, ``x / c`` of a normal ``x`` (``a``, ``b``, ``c`` parameters) is normal;
* a sum (or difference) of independent normals is normal (means add, variances add);
* a sum of independent Poissons is Poisson;
* a sum of independent gammas (exponentials) with the same scale is gamma;
* ``c * x`` or ``x / c`` of a gamma or exponential ``x`` with a constant ``c > 0`` keeps the
  family (the scale is multiplied).

Independent means: different random variable nodes, drawn from different generator variables
(two draws from one generator are the same stream), neither depending on the other. No random
variable may be broadcast by the expression (a scalar draw added to a vector is one draw seen
several times). The new random variable takes the generator and ``size`` of the first one; it
only exists in the graph a density is derived from (drawing it gives the same distribution, not
the same numbers).

Examples
--------
>>> import numpy as np, scipy.stats as st, gnomon.random as gr
>>> import gnomon.logprob as glp
>>> s = gr.normal(1.0, 3.0) + gr.normal(2.0, 4.0)       # normal(3, 5)
>>> bool(np.isclose(float(glp.logp(s, 0.5).eval(mode="numpy")), st.norm(3, 5).logpdf(0.5)))
True
"""

from __future__ import annotations

from typing import Any

import gnomon.random.distributions as rd
import gnomon.scalar.basic as sb
import gnomon.tensor as gt
from gnomon.graph.basic import Variable
from gnomon.logprob.elemwise import measured_input, not_broadcast
from gnomon.logprob.rewriting import (
    depends_on,
    register_measurable_rule,
    supported_expression,
)
from gnomon.random.op import RandomVariable
from gnomon.rewrite.pattern import scalar_value
from gnomon.tensor.elemwise import Elemwise

__all__: list[str] = []

supported_expression('sums of independent normals, Poissons, gammas with one scale')


def _rv(v: Variable, cls: type | tuple[type, ...]) -> bool:
    return (v.owner is not None and isinstance(v.owner.op, cls)
            and v is v.owner.outputs[1])


def _params(v: Variable) -> list[Variable]:
    return list(v.owner.inputs[2:])  # type: ignore[union-attr]


def _new(like: Variable, op: RandomVariable, *params: Any) -> Variable:
    """A draw of ``op`` with ``like``'s generator and size."""
    rng, size = like.owner.inputs[:2]  # type: ignore[union-attr]
    return op.make_node(rng, size, *params).outputs[1]


def _independent(xs: list[Variable]) -> bool:
    if len(set(xs)) != len(xs):
        return False
    rngs = [x.owner.inputs[0] for x in xs]  # type: ignore[union-attr]
    if len(set(rngs)) != len(rngs):
        return False
    return not any(depends_on([a], b) for a in xs for b in xs if a is not b)


# --- affine maps of a normal --------------------------------------------------------------------


@register_measurable_rule(ops=[Elemwise(sb.Add), Elemwise(sb.Sub), Elemwise(sb.Mul),
                               Elemwise(sb.TrueDiv), Elemwise(sb.Neg)], priority=-1)
def affine_normal(node: Any) -> Variable | None:
    """``loc + x``, ``x - c``, ``c - x``, ``s * x``, ``x / c``, ``-x`` of a normal ``x`` ->
    a normal."""
    i = measured_input(node)
    if i is None:
        return None
    x = node.inputs[i]
    if not _rv(x, rd.Normal):
        return None
    mu, sigma = _params(x)
    so = node.op.scalar_op
    others = [v for j, v in enumerate(node.inputs) if j != i]
    if isinstance(so, sb.Neg):
        return _new(x, x.owner.op, -mu, sigma)
    if isinstance(so, sb.Add):
        return _new(x, x.owner.op, mu + (others[0] if len(others) == 1 else gt.add(*others)),
                    sigma)
    if isinstance(so, sb.Sub):
        c = others[0]
        return _new(x, x.owner.op, mu - c if i == 0 else c - mu, sigma)
    if isinstance(so, sb.Mul):
        s = others[0] if len(others) == 1 else gt.mul(*others)
        return _new(x, x.owner.op, s * mu, gt.abs(s) * sigma)
    if isinstance(so, sb.TrueDiv) and i == 0:
        c = others[0]
        return _new(x, x.owner.op, mu / c, sigma / gt.abs(c))
    return None


# --- sums of independent variables ---------------------------------------------------------------


def _sum_parts(node: Any) -> tuple[list[Variable], list[Variable], list[Variable]] | None:
    """``(added draws, subtracted draws, parameters)`` of an ``add`` / ``sub`` node with at
    least two random-variable operands, none broadcast."""
    so = node.op.scalar_op
    ins = list(node.inputs)
    out = node.outputs[0]
    if isinstance(so, sb.Sub):
        plus, minus = [ins[0]], [ins[1]]
    else:
        plus, minus = ins, []
    pos = [v for v in plus if _rv(v, RandomVariable)]
    neg = [v for v in minus if _rv(v, RandomVariable)]
    if len(pos) + len(neg) < 2 or not all(not_broadcast(v, out) for v in pos + neg):
        return None
    params = [v for v in plus if v not in pos] + [-v for v in minus if v not in neg]
    if any(depends_on([p], v) for p in params for v in pos + neg):
        return None
    if not _independent(pos + neg):
        return None
    return pos, neg, params


def _added(terms: list[Variable]) -> Variable:
    return terms[0] if len(terms) == 1 else gt.add(*terms)


@register_measurable_rule(ops=[Elemwise(sb.Add), Elemwise(sb.Sub)], priority=-1)
def sum_of_independent(node: Any) -> Variable | None:
    """A sum of independent normals (or their difference) -> a normal; of Poissons -> a
    Poisson; of gammas / exponentials with one scale -> a gamma."""
    parts = _sum_parts(node)
    if parts is None:
        return None
    pos, neg, params = parts
    xs = pos + neg
    if all(_rv(v, rd.Normal) for v in xs):
        mu = _added([_params(v)[0] for v in pos] + [-_params(v)[0] for v in neg] + params)
        var = _added([gt.square(_params(v)[1]) for v in xs])
        return _new(xs[0], xs[0].owner.op, mu, gt.sqrt(var))  # type: ignore[union-attr]
    if neg or params:
        return None
    if all(_rv(v, rd.Poisson) for v in xs):
        return _new(xs[0], xs[0].owner.op, _added([_params(v)[0] for v in xs]))  # type: ignore
    if all(_rv(v, (rd.Gamma, rd.Exponential)) for v in xs):
        shapes, scales = [], []
        for v in xs:
            p = _params(v)
            shapes.append(p[0] if _rv(v, rd.Gamma) else gt.ones_like(p[0]))
            scales.append(p[-1])
        if not _same(scales):
            return None
        return _new(xs[0], rd.Gamma(), _added(shapes), scales[0])
    return None


def _same(vs: list[Variable]) -> bool:
    first = vs[0]
    if all(v is first for v in vs):
        return True
    c = scalar_value(first)
    return c is not None and all(scalar_value(v) == c for v in vs)


# --- scaled gamma / exponential ---------------------------------------------------------------


@register_measurable_rule(ops=[Elemwise(sb.Mul), Elemwise(sb.TrueDiv)], priority=-1)
def scaled_gamma(node: Any) -> Variable | None:
    """``c * x`` or ``x / c`` of a gamma or exponential ``x``, ``c`` a constant > 0 -> the
    same family with the scale multiplied by ``c`` (or ``1 / c``)."""
    i = measured_input(node)
    if i is None:
        return None
    x = node.inputs[i]
    if not _rv(x, (rd.Gamma, rd.Exponential)):
        return None
    others = [v for j, v in enumerate(node.inputs) if j != i]
    if len(others) != 1:
        return None
    c = scalar_value(others[0])
    if c is None or not c > 0:
        return None
    if isinstance(node.op.scalar_op, sb.TrueDiv):
        if i != 0:
            return None
        c = 1.0 / c
    *rest, scale = _params(x)
    return _new(x, x.owner.op, *rest, scale * float(c))  # type: ignore[union-attr]
