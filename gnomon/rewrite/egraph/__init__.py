"""Equality saturation: rewrite with an e-graph (egglog), extract the cheapest graph, enumerate
equivalent graphs.

* :func:`saturate` — the cheapest graph equal to the given one under the rules.
* :func:`variants` — up to ``n`` distinct equal graphs, cheapest first.
* :data:`RULES` / :class:`EqRule` — the rules, as data (:mod:`gnomon.rewrite.egraph.rules`).
* :class:`Budget` — when saturation stops; :mod:`gnomon.rewrite.egraph.cost` — the cost model.
* The pipeline stage ``saturate`` (``Mode(...).including("saturate")``), registered here.

egglog is an optional dependency (``pip install 'gnomon[egraph]'``); without it, importing this
package works and using it raises :class:`EGraphUnavailableError`. See ``docs/egraph.md``.
"""

from gnomon.rewrite.egraph.core import (
    STAGE_BUDGET,
    Budget,
    EGraphUnavailableError,
    Report,
    egglog_available,
    graph_cost,
    register_expander,
    saturate,
    variants,
)
from gnomon.rewrite.egraph.rules import RULES, EqRule, get_rules

__all__ = [
    "RULES", "STAGE_BUDGET", "Budget", "EGraphUnavailableError", "EqRule", "Report",
    "egglog_available", "get_rules", "graph_cost", "register_expander", "saturate", "variants",
]
