"""Default updates: new values a shared variable gives itself after each call.

A shared variable may carry a ``default_update`` (shared random generators made by
:class:`gnomon.random.RandomStream` or by a draw without ``rng=`` do): the expression of its value
after a call of any compiled function that uses it. :func:`gnomon.function` adds these updates
unless its ``updates`` already mention the variable or ``no_default_updates`` says not to.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from gnomon.compile.shared import SharedVariable
from gnomon.graph.basic import Variable
from gnomon.graph.traversal import graph_inputs


def default_updates(
    targets: Sequence[Variable],
    explicit: Sequence[tuple[SharedVariable, Variable]],
    no_default_updates: bool | Sequence[SharedVariable] = False,
) -> list[tuple[SharedVariable, Variable]]:
    """The default updates of the shared variables that ``targets`` (and the update
    expressions, explicit or default) read, except those updated explicitly.

    ``no_default_updates`` is ``True`` (none), ``False`` (all), or the shared variables to leave
    out.

    Examples
    --------
    >>> import numpy as np, gnomon, gnomon.random as gr
    >>> x = gr.normal()  # its generator updates itself
    >>> [type(s).__name__ for s, _ in default_updates([x], [])]
    ['RandomGeneratorSharedVariable']
    >>> default_updates([x], [], no_default_updates=True)
    []
    """
    if no_default_updates is True:
        return []
    skip = {id(s) for s in (no_default_updates or ())} | {id(s) for s, _ in explicit}
    out: list[tuple[SharedVariable, Variable]] = []
    todo: list[Variable] = [*targets, *(u for _, u in explicit)]
    while todo:
        found = []
        for v in graph_inputs(todo, include_constants=False):
            upd: Any = getattr(v, "default_update", None)
            if isinstance(v, SharedVariable) and upd is not None and id(v) not in skip:
                skip.add(id(v))
                out.append((v, upd))
                found.append(upd)
        todo = found  # an update expression may read other shared variables
    return out
