"""Rewriting graphs: the engine, the patterns rules are written with, and the standard pipeline.

* :mod:`gnomon.rewrite.stages` — THE ordered list of stages (canonicalize, stabilize,
  specialize, fusion).
* :mod:`gnomon.rewrite.pattern` — patterns (``P``, ``Var``, ``Const``) over the graph.
* :mod:`gnomon.rewrite.engine` — rules, the registry, the memoised bottom-up rewrite, the trace,
  running the stages.
* :mod:`gnomon.rewrite.rules` — the standard rules, one module per stage.
* :mod:`gnomon.rewrite.pipeline` — imports the standard rules; the entry points of
  ``gnomon.function`` and ``gnomon.grad``.
* :mod:`gnomon.rewrite.egraph` — equality saturation with egglog (the opt-in ``saturate``
  stage, :func:`saturate`, :func:`variants`).

Importing this package registers the standard rules (through :mod:`gnomon.rewrite.pipeline`).

Examples
--------
>>> import gnomon, gnomon.tensor as gt
>>> x = gt.dvector("x")
>>> out, trace = gnomon.rewrite_graph(gt.log(1 + gt.exp(x)) * 1)
>>> [s.rule for s in trace]
['mul_one', 'log1p_from_log_one_plus', 'softplus_from_log1p_exp']
"""

from gnomon.rewrite import pipeline
from gnomon.rewrite.egraph import saturate, variants
from gnomon.rewrite.engine import (
    GraphRule,
    RewriteError,
    RewriteStep,
    Rule,
    disable,
    enable,
    format_trace,
    get_rule,
    list_rules,
    register,
    register_graph_rule,
    register_rule,
    rewrite_graph,
    unregister_rule,
)
from gnomon.rewrite.pattern import Const, P, Var

__all__ = [
    "Const", "GraphRule", "P", "RewriteError", "RewriteStep", "Rule", "Var", "disable", "enable",
    "format_trace", "get_rule", "list_rules", "pipeline", "register", "register_graph_rule",
    "register_rule", "rewrite_graph", "saturate", "unregister_rule", "variants",
]
