"""PyTensor's ``pytensor.graph.rewriting.utils`` module path: :func:`rewrite_graph`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from gnomon.errors import GnomonValueError, with_hint, with_user_line
from gnomon.graph.basic import Variable

__all__ = ["rewrite_graph"]


def rewrite_graph(graph: Variable | Sequence[Variable],
                  include: Sequence[str] = ("canonicalize",),
                  custom_rewrite: Any = None, clone: bool = False,
                  exclude: Sequence[str] = (), **kwargs: Any) -> Any:
    """Rewrite ``graph`` without compiling it and return the rewritten graph, in the form it
    was given (one variable, or a list), as PyTensor's ``rewrite_graph`` does.

    gnomon runs its standard pipeline for the default mode's backend (canonicalize,
    stabilize, specialize, with ``include`` added and ``exclude`` left out): its stages are not
    run one group at a time. ``gnomon.rewrite_graph`` gives the same graph together with the
    trace of the rules that fired. ``clone`` is accepted (graphs are never mutated);
    ``custom_rewrite`` is not supported.

    Examples
    --------
    >>> import gnomon.tensor as gt
    >>> x, y = gt.dscalar("x"), gt.dscalar("y")
    >>> rewrite_graph(x * y / x) is y
    True
    """
    from gnomon.rewrite.engine import rewrite_graph as engine_rewrite

    if custom_rewrite is not None:
        raise GnomonValueError(with_user_line(with_hint(
            "rewrite_graph(custom_rewrite=...) is not supported by gnomon",
            "register the rule with gnomon.rewrite.register_rule and pass its name in "
            "include=")))
    known = {"canonicalize", "stabilize", "specialize", "fast_run", "fast_compile"}
    extra = [g for g in include if g.lower() not in known]
    single = isinstance(graph, Variable)
    given: list[Variable] = [graph] if isinstance(graph, Variable) else list(graph)
    outs, _ = engine_rewrite(given, extra, exclude, **kwargs)
    outs = list(outs)
    return outs[0] if single else outs
