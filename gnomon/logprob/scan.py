"""Time series written with :func:`gnomon.scan`: the log-density of the trace of a recurrence
whose step draws a random variable is itself a scan.

A :class:`~gnomon.control.scan.Scan` is measurable when it has exactly one tensor recurrent
output (any taps), no outputs without recurrence, any number of random generators threaded
through it, and its body's new value is measurable given the previous values (a draw, or an
expression the measurable rewrites understand, such as ``prev + normal(0, 1)``). The density of
a value ``v`` of shape ``(n_steps, ...)`` is a scan over the steps: the body's density at
``v[t]`` with the previous values read from ``v`` (and the initial values before it).

Examples
--------
>>> import numpy as np, scipy.stats as st, gnomon, gnomon.tensor as gt, gnomon.random as gr
>>> import gnomon.logprob as glp
>>> srng = gr.RandomStream(seed=1)
>>> walk, _ = gnomon.scan(lambda prev: srng.normal(0.9 * prev, 1.0),
...                       outputs_info=[gt.constant(0.0)], n_steps=3)   # AR(1)
>>> v = np.array([1.0, 0.5, -0.2])
>>> lp = glp.logp(walk, v).eval(mode="numpy")
>>> bool(np.allclose(lp, st.norm(0.9 * np.array([0.0, 1.0, 0.5]), 1.0).logpdf(v)))
True
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import gnomon.tensor as gt
from gnomon.control.scan import Scan, scan
from gnomon.errors import format_location, with_hint
from gnomon.graph.basic import _PROVENANCE, Variable
from gnomon.graph.replace import graph_replace
from gnomon.logprob.abstract import _logprob
from gnomon.logprob.rewriting import (
    MeasurableOp,
    is_measurable,
    measured_logp,
    register_measurable_rule,
    rewrite_measurable,
    strip_measurable,
    supported_expression,
    unvalued_rvs,
)

__all__: list[str] = []

supported_expression('gnomon.scan with one recurrent output drawn at each step')


@dataclass(frozen=True)
class MeasurableScan(MeasurableOp):
    """A scan whose one tensor recurrent output is a measurable step (see the module
    docstring)."""


def _measured_state(op: Scan) -> int | None:
    states = [j for j in range(op.n_rec) if not op.opaque(j)]
    if len(states) != 1 or op.n_nitsot:
        return None
    return states[0]


@register_measurable_rule(ops=[Scan])
def measurable_scan(node: Any) -> list[Variable] | None:
    """A scan with one recurrent tensor output whose step is measurable ->
    :class:`MeasurableScan`."""
    op = node.op
    j = _measured_state(op)
    if j is None or op.kept(j):
        return None
    if not is_measurable(rewrite_measurable(op.graph.outputs[j])):
        return None
    out = MeasurableScan(op)(*node.inputs)
    return out if isinstance(out, list) else [out]


@_logprob.register(MeasurableScan)
def _scan_logp(op: MeasurableScan, value: Variable, *inputs: Variable) -> Variable:
    base: Scan = op.base  # type: ignore[assignment]
    j = _measured_state(base)
    assert j is not None
    g = base.graph
    n_steps, seqs, bufs, nonseqs = base.split(inputs)
    lag = base.lags[j]
    full = gt.concatenate([gt.cast(bufs[j], value.dtype), value], axis=0)
    # the previous values, one sequence per tap: full[lag + tap : tap] is v[t + tap]
    lagged = [full[lag + tap:tap] for tap in base.taps[j]]
    n_seq = len(seqs)
    tap_start = [n_seq]
    for t in base.taps:
        tap_start.append(tap_start[-1] + len(t))
    inner_nonseq = g.inputs[tap_start[-1]:]

    def step(*args: Variable) -> Variable:
        seq_vals = args[:n_seq]
        v_t = args[n_seq]
        lag_vals = args[n_seq + 1:n_seq + 1 + len(lagged)]
        ns_vals = args[n_seq + 1 + len(lagged):]
        rep: dict[Variable, Variable] = dict(zip(g.inputs[:n_seq], seq_vals, strict=True))
        for k in range(base.n_rec):
            ins = g.inputs[tap_start[k]:tap_start[k + 1]]
            if k == j:
                rep.update(zip(ins, lag_vals, strict=True))
            else:  # a random generator: its state does not enter a density
                rep[ins[0]] = bufs[k]
        rep.update(zip(inner_nonseq, ns_vals, strict=True))
        (x_t,) = graph_replace([g.outputs[j]], rep, strict=False)
        lp = strip_measurable(measured_logp(rewrite_measurable(x_t), v_t))
        hidden = unvalued_rvs([lp])
        if hidden:
            from gnomon.logprob.basic import NotMeasurableError

            raise NotMeasurableError(with_hint(
                f"logp of a scan: the density of a step depends on another draw of the step "
                f"({hidden[0].owner.op.name}), which has no value: the steps' joint density "  # type: ignore
                "would need it summed out\n" + format_location(_PROVENANCE.get()),
                "draw the hidden variable outside the loop (and give it a value), or write "
                "the step as one measurable expression of the previous value"))
        return lp

    lps, _ = scan(step, sequences=[*seqs, value, *lagged], non_sequences=list(nonseqs),
                  n_steps=n_steps)
    return lps
