"""Mixtures and the marginalization of finite discrete latent variables.

* ``where(cond, a, b)`` of measurable ``a`` and ``b``: with a non-random ``cond`` (a constant, an
  input, the value of a random variable given in ``conditional_logp``), the density is ``a``'s
  where ``cond`` holds and ``b``'s elsewhere; when ``cond`` is a function of one *unvalued*
  finite discrete random variable (a Bernoulli, Categorical, bounded ``integers``, Binomial),
  that variable is summed out: ``logsumexp_k [logp(z = k) + logp(mixture | z = k)]``.
* ``stack([a, b, c])[idx]`` (a scalar index into a stack of measurable variables): the same,
  conditioned on a non-random ``idx`` or marginalizing an unvalued finite discrete one; and one
  label per element, ``stack(comps)[labels, arange(n)]`` (or ``[arange(n), labels]`` of a stack
  on axis 1) of vectors.
* :func:`marginal_logp`: the joint log-density of a graph with chosen finite discrete latent
  variables summed out by enumeration, so a mixture written with a latent label needs no
  discrete sampler.

A latent with a batch shape is summed out element by element: this needs each element of the
mixture to depend on the matching element of the latent only (same static shape, elementwise
ops in between); a scalar latent shared by the elements of a vector mixture is refused (its
density is a joint one, not one per element).

Examples
--------
>>> import numpy as np, scipy.stats as st, gnomon.tensor as gt, gnomon.random as gr
>>> import gnomon.logprob as glp
>>> z = gr.bernoulli(0.3)
>>> mix = gt.where(z, gr.normal(-2.0, 1.0), gr.normal(2.0, 1.0))
>>> lp = float(glp.logp(mix, 0.5).eval(mode="numpy"))
>>> bool(np.isclose(lp, np.log(0.3 * st.norm(-2, 1).pdf(0.5) + 0.7 * st.norm(2, 1).pdf(0.5))))
True
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

import gnomon.random.distributions as rd
import gnomon.tensor as gt
from gnomon.control.ifelse import IfElse
from gnomon.errors import GnomonTypeError, GnomonValueError, user_location, with_hint
from gnomon.graph.basic import Constant, Variable
from gnomon.graph.replace import graph_replace
from gnomon.graph.traversal import toposort
from gnomon.logprob.abstract import _logcdf, _logprob
from gnomon.logprob.elemwise import not_broadcast
from gnomon.logprob.rewriting import (
    MeasurableOp,
    depends_on,
    is_measurable,
    measured_logcdf,
    measured_logp,
    register_measurable_rule,
    rewrite_measurable,
    strip_measurable,
    supported_expression,
    unvalued_rvs,
)
from gnomon.random.op import RandomVariable
from gnomon.rewrite.pattern import scalar_value
from gnomon.scalar.basic import Switch
from gnomon.tensor.creation import Arange
from gnomon.tensor.elemwise import Elemwise
from gnomon.tensor.indexing import AdvancedSubtensor, FromInput, Subtensor
from gnomon.tensor.shapes import DimShuffle, Join, MakeVector

__all__ = ["marginal_logp"]

supported_expression(
    'mixtures (where(cond, a, b), stack([...])[idx], stack(comps)[labels,'
    ' arange(n)]) with a non-random selector or one unvalued finite discrete latent'
    ' (Bernoulli, Categorical, integers, Binomial) in it')

#: the largest support enumerated (per latent variable, and in all for joint enumeration)
MAX_SUPPORT = 1024


# --- finite supports --------------------------------------------------------------------------


def finite_support(z: Variable) -> list[int] | None:
    """The support of the discrete random variable ``z`` when it is finite and known when the
    graph is built (``None`` otherwise)."""
    if z.owner is None or not isinstance(z.owner.op, RandomVariable):
        return None
    op, params = z.owner.op, z.owner.inputs[2:]
    support: list[int] | None = None
    if isinstance(op, rd.Bernoulli):
        support = [0, 1]
    elif isinstance(op, rd.Categorical):
        k = params[0].type.shape[-1]  # type: ignore[attr-defined]
        support = list(range(k)) if k is not None else None
    elif isinstance(op, rd.Integers):
        lo, hi = scalar_value(params[0]), scalar_value(params[1])
        support = list(range(int(lo), int(hi))) if lo is not None and hi is not None else None
    elif isinstance(op, rd.Binomial):
        n = scalar_value(params[0])
        support = list(range(int(n) + 1)) if n is not None else None
    if support is None or len(support) > MAX_SUPPORT:
        return None
    return support


def _full(z: Variable, k: int) -> Constant:
    return gt.constant(np.full(z.type.shape, k, dtype=z.dtype))  # type: ignore[arg-type]


def _static(v: Variable) -> bool:
    return all(s is not None for s in v.type.shape)  # type: ignore[attr-defined]


def _elementwise_from(z: Variable, outputs: Sequence[Variable]) -> bool:
    """Every node between ``z`` and ``outputs`` keeps elements apart (elementwise ops,
    broadcasting dimshuffles, scalar random variables with their batch shape)."""
    dep = {z}
    for node in toposort(outputs):
        if not any(i in dep for i in node.inputs):
            continue
        op = node.op
        base = op.base if isinstance(op, MeasurableOp) else op
        ok = (isinstance(base, Elemwise)
              or (isinstance(base, DimShuffle)
                  and [d for d in base.new_order if d != "x"] == list(range(base.input_ndim)))
              or (isinstance(op, RandomVariable) and op.ndim_supp == 0))
        if not ok:
            return False
        dep.update(node.outputs)
    return True


def _latent(selectors: Sequence[Variable], out: Variable, final: Any = None
            ) -> Variable | None:
    """The one unvalued finite discrete random variable the selectors depend on, when it can be
    summed out elementwise for ``out`` (``final``: a last node known to keep elements apart)."""
    rvs = unvalued_rvs(selectors)
    if len(rvs) != 1 or finite_support(rvs[0]) is None:
        return None
    z = rvs[0]
    if not _static(z):
        return None
    if z.ndim == 0 and out.ndim == 0:
        return z
    targets = list(final.inputs) if final is not None else [out]
    if z.type.shape == out.type.shape and _elementwise_from(z, targets):  # type: ignore
        return z
    return None


# --- the marginal mixture ---------------------------------------------------------------------


@dataclass(frozen=True)
class MeasurableMarginalMixture(MeasurableOp):
    """An expression that is measurable given the value of one finite discrete random variable
    found in the inputs ``selectors`` (a switch's condition, an index): that variable is summed
    out by enumeration."""

    selectors: tuple[int, ...]


def _enumerated(op: MeasurableMarginalMixture, value: Variable, inputs: tuple[Variable, ...],
                measure: Any) -> Variable:
    """``logsumexp_k [logp(z = k) + measure(mixture | z = k, value)]``."""
    # measurable ops inside (a nested where on the same latent) are derived again once z is
    # fixed: rewritten before, they would still look for the latent z = k replaced
    out = strip_measurable(op.base.make_node(*inputs).outputs[0])
    node = out.owner
    assert node is not None
    final = node if isinstance(op.base, AdvancedSubtensor) else None
    z = _latent([node.inputs[i] for i in op.selectors], out, final=final)
    assert z is not None  # the rule checked it
    terms = []
    for k in finite_support(z) or ():
        kz = _full(z, k)
        (out_k,) = graph_replace([out], {z: kz}, strict=False)
        terms.append(measured_logp(z, kz) + measure(rewrite_measurable(out_k), value))
    # (the terms stacked on a new last axis: a logsumexp over trailing axes has a C lowering,
    # so such a model's log-density takes pm.sample's C route instead of compiling with Numba)
    return gt.logsumexp(gt.stack(terms, axis=-1), axis=-1)


@_logprob.register(MeasurableMarginalMixture)
def _marginal_logp(op: MeasurableMarginalMixture, value: Variable, *inputs: Variable
                   ) -> Variable:
    return _enumerated(op, value, inputs, measured_logp)


@_logcdf.register(MeasurableMarginalMixture)
def _marginal_logcdf(op: MeasurableMarginalMixture, value: Variable, *inputs: Variable
                     ) -> Variable:
    return _enumerated(op, value, inputs, measured_logcdf)


# --- where(cond, a, b) ------------------------------------------------------------------------


@dataclass(frozen=True)
class MeasurableSwitch(MeasurableOp):
    """``where(cond, a, b)`` of measurable ``a`` and ``b`` with a non-random ``cond``."""


def _dirac_ok(v: Variable) -> bool:
    """A branch that is not random (a constant, an input): a point mass at its value."""
    return not is_measurable(v) and not unvalued_rvs([v])


@register_measurable_rule(ops=[Elemwise(Switch)])
def measurable_switch(node: Any) -> Variable | None:
    """``where(cond, a, b)`` -> :class:`MeasurableSwitch` (non-random ``cond``) or
    :class:`MeasurableMarginalMixture` (``cond`` from one finite discrete latent). One branch
    may be non-random: a point mass (``where(z, 0, poisson(mu))`` is zero-inflated)."""
    cond, a, b = node.inputs
    out = node.outputs[0]
    if not (is_measurable(a) or is_measurable(b)):
        return None
    if not all(is_measurable(v) or _dirac_ok(v) for v in (a, b)):
        return None
    if not all(not_broadcast(v, out) for v in (a, b) if is_measurable(v)):
        return None
    if any(depends_on([cond], v) for v in (a, b) if is_measurable(v)):
        return None
    if not unvalued_rvs([cond]):
        return MeasurableSwitch(node.op)(*node.inputs)
    if _latent([cond], out) is None:
        return None
    return MeasurableMarginalMixture(node.op, (0,))(*node.inputs)


def _branch(measure: Any, dirac: Any) -> Any:
    def f(v: Variable, value: Variable) -> Variable:
        if is_measurable(v):
            return measure(v, value)
        return gt.where(dirac(value, v), 0.0, -np.inf) + gt.zeros_like(value, dtype="float64")

    return f


@_logprob.register(MeasurableSwitch)
def _switch_logp(op: MeasurableSwitch, value: Variable, cond: Variable, a: Variable,
                 b: Variable) -> Variable:
    f = _branch(measured_logp, gt.eq)
    return gt.where(cond, f(a, value), f(b, value))


@_logcdf.register(MeasurableSwitch)
def _switch_logcdf(op: MeasurableSwitch, value: Variable, cond: Variable, a: Variable,
                   b: Variable) -> Variable:
    f = _branch(measured_logcdf, gt.ge)
    return gt.where(cond, f(a, value), f(b, value))


@register_measurable_rule(ops=[IfElse])
def measurable_ifelse(node: Any) -> list[Variable] | None:
    """``ifelse(cond, a, b)`` with random branches -> ``where(cond, a, b)`` (then a mixture, as
    above). The branches are rebuilt in the outer graph from the node's inner graphs; the
    values are the same, and a density is evaluated for both branches anyway."""
    op: IfElse = node.op
    cond, outer = node.inputs[0], list(node.inputs[1:])
    if cond.ndim != 0:
        return None
    branches = [graph_replace(list(g.outputs), dict(zip(g.inputs, outer, strict=True)),
                              strict=False) for g in (op.then_graph, op.else_graph)]
    if not unvalued_rvs([*branches[0], *branches[1]]):
        return None  # no random branch: nothing to measure (and keep the laziness)
    return [gt.where(cond, a, b) for a, b in zip(*branches, strict=True)]


# --- stack([...])[idx] ------------------------------------------------------------------------


def stacked_components(v: Variable) -> list[Variable] | None:
    """The variables stacked on axis 0 into ``v`` (``stack`` of scalars is a ``MakeVector``; of
    arrays, a ``Join`` of ``x[None]``), plain or already measurable."""
    if v.owner is None:
        return None
    op = v.owner.op
    base = op.base if isinstance(op, MeasurableOp) else op
    if isinstance(base, MakeVector):
        return list(v.owner.inputs)
    if isinstance(base, Join) and base.axis == 0:
        comps = []
        for c in v.owner.inputs:
            cop = c.owner.op if c.owner is not None else None
            cbase = cop.base if isinstance(cop, MeasurableOp) else cop
            if not (isinstance(cbase, DimShuffle) and cbase.new_order
                    == ("x", *range(cbase.input_ndim))):
                return None
            comps.append(c.owner.inputs[0])  # type: ignore[union-attr]
        return comps
    return None


@dataclass(frozen=True)
class MeasurableIndexedStack(MeasurableOp):
    """``stack(components)[idx]`` with a non-random scalar ``idx``."""


@register_measurable_rule(ops=[Subtensor])
def measurable_indexed_stack(node: Any) -> Variable | None:
    """``stack([a, b, ...])[idx]`` of measurable components and a scalar index ->
    :class:`MeasurableIndexedStack` (non-random ``idx``) or
    :class:`MeasurableMarginalMixture` (``idx`` from one finite discrete latent)."""
    if len(node.op.idx_list) != 1:
        return None
    entry = node.op.idx_list[0]
    if isinstance(entry, int) and not isinstance(entry, bool):  # stack([...])[1]: a component
        comps = stacked_components(node.inputs[0])
        if comps is None or not -len(comps) <= entry < len(comps):
            return None
        c = comps[entry]
        return c if is_measurable(c) and c.type == node.outputs[0].type else None
    if not isinstance(entry, FromInput):
        return None
    x, idx = node.inputs
    comps = stacked_components(x)
    if comps is None or idx.ndim != 0 or not all(is_measurable(c) for c in comps):
        return None
    if any(depends_on([idx], c) for c in comps):
        return None
    if not unvalued_rvs([idx]):
        return MeasurableIndexedStack(node.op)(*node.inputs)
    if _latent([idx], node.outputs[0]) is None:
        return None
    return MeasurableMarginalMixture(node.op, (1,))(*node.inputs)


def _select(x: Variable, idx: Variable, value: Variable, measure: Any) -> Variable:
    comps = stacked_components(x)
    assert comps is not None
    k = scalar_value(idx)
    n = len(comps)
    if k is not None:
        return measure(comps[int(k) % n], value)
    out = gt.full_like(measure(comps[0], value), np.nan)  # an index out of range
    i = gt.where(gt.lt(idx, 0), idx + n, idx)  # NumPy's negative indices
    for j in range(n - 1, -1, -1):
        out = gt.where(gt.eq(i, j), measure(comps[j], value), out)
    return out


@_logprob.register(MeasurableIndexedStack)
def _indexed_stack_logp(op: MeasurableIndexedStack, value: Variable, x: Variable,
                        idx: Variable) -> Variable:
    return _select(x, idx, value, measured_logp)


@_logcdf.register(MeasurableIndexedStack)
def _indexed_stack_logcdf(op: MeasurableIndexedStack, value: Variable, x: Variable,
                          idx: Variable) -> Variable:
    return _select(x, idx, value, measured_logcdf)


# --- stack(comps, axis)[labels, arange(n)]: one label per element ---------------------------


def _is_arange(r: Variable, n: int) -> bool:
    """``r`` is ``arange(n)`` (an ``Arange`` node of constants, or a constant array)."""
    if isinstance(r, Constant):
        data = np.asarray(r.data)
        return data.shape == (n,) and bool(np.all(data == np.arange(n)))
    if r.owner is None or not isinstance(r.owner.op, Arange):
        return False
    start, stop, step = (scalar_value(i) for i in r.owner.inputs)
    return (start, stop, step) == (0, n, 1)


def _stacked_vectors(v: Variable) -> tuple[list[Variable], int] | None:
    """``(components, axis)`` when ``v`` is ``stack(components, axis)`` of vectors."""
    if v.owner is None:
        return None
    op = v.owner.op
    base = op.base if isinstance(op, MeasurableOp) else op
    if not isinstance(base, Join) or base.axis not in (0, 1):
        return None
    order = ("x", 0) if base.axis == 0 else (0, "x")
    comps = []
    for c in v.owner.inputs:
        cop = c.owner.op if c.owner is not None else None
        cbase = cop.base if isinstance(cop, MeasurableOp) else cop
        if not (isinstance(cbase, DimShuffle) and cbase.new_order == order):
            return None
        comps.append(c.owner.inputs[0])  # type: ignore[union-attr]
    return comps, base.axis


def _label_layout(node: Any) -> tuple[list[Variable], int, Variable] | None:
    """``(components, axis, labels)`` of ``stack(comps, axis)[labels, arange(n)]`` (axis 0)
    or ``stack(comps, axis)[arange(n), labels]`` (axis 1)."""
    if len(node.op.idx_list) != 2 or not all(isinstance(e, FromInput)
                                              for e in node.op.idx_list):
        return None
    x, i0, i1 = node.inputs
    st = _stacked_vectors(x)
    if st is None:
        return None
    comps, axis = st
    n = comps[0].type.shape[0]
    if n is None or any(c.type.shape != (n,) for c in comps):
        return None
    labels, rng_idx = (i0, i1) if axis == 0 else (i1, i0)
    if labels.ndim != 1 or labels.dtype[0] not in "iu" or not _is_arange(rng_idx, n):
        return None
    return comps, axis, labels


@dataclass(frozen=True)
class MeasurableLabelledStack(MeasurableOp):
    """``stack(comps, axis)[labels, arange(n)]`` (or ``[arange(n), labels]`` on axis 1): element
    ``i`` of the ``labels[i]``-th component, with non-random labels."""


@register_measurable_rule(ops=[AdvancedSubtensor])
def measurable_labelled_stack(node: Any) -> Variable | None:
    """One label per element picking among stacked measurable vectors ->
    :class:`MeasurableLabelledStack` (non-random labels) or
    :class:`MeasurableMarginalMixture` (labels from one finite discrete latent)."""
    layout = _label_layout(node)
    if layout is None:
        return None
    comps, axis, labels = layout
    if not all(is_measurable(c) for c in comps) or any(depends_on([labels], c) for c in comps):
        return None
    pos = 1 if axis == 0 else 2
    if not unvalued_rvs([labels]):
        return MeasurableLabelledStack(node.op)(*node.inputs)
    if _latent([labels], node.outputs[0], final=node) is None:
        return None
    return MeasurableMarginalMixture(node.op, (pos,))(*node.inputs)


def _labelled(op: MeasurableLabelledStack, value: Variable, inputs: tuple[Variable, ...],
              measure: Any) -> Variable:
    x, *idx = inputs
    st = _stacked_vectors(x)
    assert st is not None
    comps, axis = st
    return op.base(gt.stack([measure(c, value) for c in comps], axis=axis), *idx)  # type: ignore


@_logprob.register(MeasurableLabelledStack)
def _labelled_logp(op: MeasurableLabelledStack, value: Variable, *inputs: Variable
                   ) -> Variable:
    return _labelled(op, value, inputs, measured_logp)


@_logcdf.register(MeasurableLabelledStack)
def _labelled_logcdf(op: MeasurableLabelledStack, value: Variable, *inputs: Variable
                     ) -> Variable:
    return _labelled(op, value, inputs, measured_logcdf)


# --- marginal_logp: enumerate finite discrete latents ---------------------------------------


def marginal_logp(rv_values: Mapping[Variable, Any], marginalize: Sequence[Variable], *,
                  check_parameters: bool = True) -> Variable:
    """The joint log-density of the values in ``rv_values`` with the finite discrete random
    variables ``marginalize`` summed out by enumeration.

    Scalar latents are enumerated jointly (``logsumexp`` over every combination of their
    supports, at most :data:`MAX_SUPPORT` combinations). One latent with a batch shape is
    summed out element by element: every random variable that depends on it must have its
    static batch shape and depend on it elementwise (a per-observation label).

    Parameters
    ----------
    rv_values : mapping
        ``{random variable: value}`` of the observed and other valued variables (not the
        latents).
    marginalize : sequence of Variable
        Bernoulli, Categorical, ``integers`` with constant bounds, or Binomial with a constant
        ``n``; without a value.
    check_parameters : bool
        As in :func:`gnomon.logprob.logp`.

    Returns
    -------
    Variable
        A scalar: the log-density of the values, the latents summed out.

    Examples
    --------
    >>> import numpy as np, scipy.stats as st, gnomon.tensor as gt, gnomon.random as gr
    >>> from gnomon.logprob import marginal_logp
    >>> z = gr.bernoulli(0.3, size=2)                  # one label per observation
    >>> y = gr.normal(gt.where(z, 5.0, 0.0), 1.0)
    >>> y_v = gt.dvector("y_v")
    >>> lp = marginal_logp({y: y_v}, [z])
    >>> yv = np.array([0.2, 4.0])
    >>> mix = np.log(0.3 * st.norm(5, 1).pdf(yv) + 0.7 * st.norm(0, 1).pdf(yv)).sum()
    >>> bool(np.isclose(float(lp.eval({y_v: yv}, mode="numpy")), mix))
    True
    """
    from gnomon.logprob.basic import _at, conditional_logp

    latents = list(marginalize)
    for z in latents:
        if not isinstance(z, Variable) or finite_support(z) is None:
            raise GnomonTypeError(_at(with_hint(
                f"marginal_logp: cannot enumerate {z!r}: it is not a Bernoulli, Categorical, "
                "integers (constant bounds) or Binomial (constant n) random variable",
                "marginalize finite discrete variables only; give others a value")))
        if z in rv_values:
            raise GnomonValueError(_at(with_hint(
                f"marginal_logp: {z} has a value in rv_values and is marginalized",
                "leave the latent out of rv_values")))
    batched = [z for z in latents if z.ndim]
    if batched and len(latents) > 1:
        raise GnomonValueError(_at(with_hint(
            "marginal_logp: a latent with a batch shape can only be marginalized alone",
            "marginalize one batched latent at a time, or use scalar latents")))
    loc = user_location()
    if batched:
        return _marginal_batched(rv_values, batched[0], check_parameters, loc)
    supports = [finite_support(z) or [] for z in latents]
    n_comb = int(np.prod([len(s) for s in supports]))
    if n_comb > MAX_SUPPORT:
        raise GnomonValueError(_at(with_hint(
            f"marginal_logp: {n_comb} combinations of the latents' values to enumerate",
            f"at most {MAX_SUPPORT}; marginalize fewer variables")))
    totals = []
    for ks in itertools.product(*supports):
        values = dict(rv_values)
        for z, k in zip(latents, ks, strict=True):
            values[z] = _full(z, k)
        terms = conditional_logp(values, check_parameters=check_parameters)
        totals.append(_total(list(terms.values())))
    return gt.logsumexp(gt.stack(totals, axis=-1), axis=-1)  # (last axis: see _enumerated)


def _total(terms: list[Variable]) -> Variable:
    parts = [gt.sum(t) if t.ndim else t for t in terms]
    return parts[0] if len(parts) == 1 else gt.add(*parts)


def _marginal_batched(rv_values: Mapping[Variable, Any], z: Variable, check: bool,
                      loc: Any) -> Variable:
    from gnomon.logprob.basic import _at, conditional_logp

    if not _static(z):
        raise GnomonValueError(_at(with_hint(
            f"marginal_logp: the shape of the latent {z} is not known when the graph is built",
            "give it a constant size=")))
    dependents = [rv for rv in rv_values if depends_on([rv], z)]
    for rv in dependents:
        if rv.type.shape != z.type.shape or not _elementwise_from(z, [rv]):  # type: ignore
            raise GnomonValueError(_at(with_hint(
                f"marginal_logp: {rv} depends on the latent {z} but not elementwise with its "
                f"shape {z.type.shape}", "a batched latent needs one label per element of "  # type: ignore
                "each dependent variable (same shape, elementwise ops in between)")))
    per_k = []
    rest: list[Variable] = []
    support = finite_support(z) or []
    for k in support:
        values = dict(rv_values)
        values[z] = _full(z, k)
        # the terms come in the order of the values: rv_values first, the latent last
        tl = list(conditional_logp(values, check_parameters=check).values())
        acc = tl[-1]
        for i, rv in enumerate(rv_values):
            if rv in dependents:
                acc = acc + tl[i]
            elif k == support[0]:
                rest.append(tl[i])
        per_k.append(acc)
    total = gt.sum(gt.logsumexp(gt.stack(per_k, axis=-1), axis=-1))  # (see _enumerated)
    return _total([total, *rest]) if rest else total

