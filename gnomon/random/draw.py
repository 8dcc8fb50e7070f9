"""``draw``: compile once, call many times, stack the samples (PyMC's ``pm.draw``)."""

from __future__ import annotations

from typing import Any

import numpy as np

from gnomon.errors import GnomonValueError, with_hint
from gnomon.graph.basic import Variable
from gnomon.graph.replace import graph_replace
from gnomon.graph.traversal import graph_inputs, toposort
from gnomon.random.op import RandomVariable
from gnomon.random.type import RandomGeneratorSharedVariable, shared_rng

__all__ = ["draw"]


def draw(vars: Any, draws: int = 1, random_seed: Any = None, *, mode: Any = None,
         **kwargs: Any) -> Any:
    """Draw samples of one variable or a list of variables of a graph without inputs.

    The graph is compiled once and called ``draws`` times; every shared generator it uses
    advances between calls (through its default update, or else the state after its one draw).

    Parameters
    ----------
    vars : Variable or list of Variable
    draws : int
        Number of samples. With ``draws=1`` the result is one sample (no leading axis);
        otherwise samples are stacked along a new first axis.
    random_seed : int, sequence of int or numpy.random.SeedSequence, optional
        Draw from new generators seeded from it (the graph's own generators are left as they
        are); ``None`` draws from the graph's generators and advances them.
    mode : str or Mode, optional
        The backend (default: ``gnomon.config.mode``).
    **kwargs
        Passed to :func:`gnomon.function` (``givens=``, ...).

    Examples
    --------
    >>> import gnomon, gnomon.random as gr
    >>> x = gr.normal(size=3)
    >>> gnomon.draw(x, draws=5, random_seed=1, mode="numpy").shape
    (5, 3)
    >>> a = gnomon.draw(x, draws=2, random_seed=1, mode="numpy")
    >>> bool((a == gnomon.draw(x, draws=2, random_seed=1, mode="numpy")).all())
    True
    """
    import gnomon

    single = isinstance(vars, Variable)
    outs = [vars] if single else list(vars)
    if draws < 1:
        raise GnomonValueError(f"draw: draws must be >= 1, got {draws}")
    rngs = [v for v in graph_inputs(outs) if isinstance(v, RandomGeneratorSharedVariable)]
    nodes = toposort(outs)
    next_of = {id(r): _next_rng(r, nodes) for r in rngs}
    updates: dict[Variable, Variable] = {r: u for r in rngs
                                         if (u := next_of[id(r)]) is not None}
    if random_seed is not None:
        seeds = (random_seed if isinstance(random_seed, np.random.SeedSequence)
                 else np.random.SeedSequence(random_seed)).spawn(len(rngs))
        fresh: dict[Variable, Variable] = {
            r: shared_rng(np.random.Generator(np.random.PCG64(s)), name=r.name, borrow=True)
            for r, s in zip(rngs, seeds, strict=True)}
        keys = list(updates)
        new = graph_replace([*outs, *updates.values()], dict(fresh))
        outs = new[: len(outs)]
        updates = {fresh[r]: u for r, u in zip(keys, new[len(outs):], strict=True)}
    f = gnomon.function([], outs, updates=list(updates.items()), mode=mode,
                        no_default_updates=True, **kwargs)
    samples = [f() for _ in range(draws)]
    if draws == 1:
        return samples[0][0] if single else samples[0]
    stacked = [np.stack([np.asarray(s[i]) for s in samples]) for i in range(len(outs))]
    return stacked[0] if single else stacked


def _next_rng(rng: RandomGeneratorSharedVariable, nodes: list[Any]) -> Variable | None:
    """The state ``rng`` takes after a call: its default update, or the ``next_rng`` of the one
    random variable that reads it."""
    if rng.default_update is not None:
        return rng.default_update
    readers = [n for n in nodes if any(i is rng for i in n.inputs)]
    if len(readers) == 1 and isinstance(readers[0].op, RandomVariable):
        return readers[0].outputs[0]
    if len(readers) > 1:
        raise GnomonValueError(with_hint(
            f"draw: the shared generator {rng} is read by {len(readers)} nodes and has no "
            "default_update, so it is not clear how it should advance between draws",
            "set rng.default_update, or give each random variable its own generator "
            "(gnomon.random.RandomStream does)",
        ))
    return None
