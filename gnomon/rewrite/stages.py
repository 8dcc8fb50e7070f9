"""THE order of the rewrite stages: the one list that decides when a rule runs.

A rule belongs to named groups (:func:`gnomon.rewrite.engine.register_rule`); a stage runs the
rules of its groups to a fixed point (:func:`gnomon.rewrite.engine.run_stage`), and the stages run
in the order of :data:`PIPELINE`:

1. ``canonicalize`` — algebraic simplification into one canonical form (``x*y/x -> y``,
   ``-(-x) -> x``, like terms, useless casts / dimshuffles / allocs, shapes computed from input
   shapes), plus constant folding.
2. ``stabilize`` — numerically stable forms (``log(1+exp(x)) -> softplus(x)`` ...), plus constant
   folding.
3. ``saturate`` — equality saturation (:mod:`gnomon.rewrite.egraph`, egglog): the algebraic
   identities of canonicalize and stabilize applied in every order at once, and the cheapest
   equivalent graph extracted; finds what greedy rewriting misses by phase ordering. Opt-in
   (``Mode(...).including("saturate")``): see ``docs/egraph.md`` for why, with figures.
4. ``specialize`` — faster forms for the backends (``x**2 -> x*x``, ``x**0.5 -> sqrt(x)``,
   ``sum(x*y) -> dot(x, y)``), plus constant folding.
5. ``fusion`` — chains of elementwise ops become one ``Elemwise(Composite)`` so a backend can
   emit one loop. Left out for the NumPy reference backend (``backend='numpy'``) unless
   included by name: the reference runs the graph op by op, where fusing gains nothing and
   only hides what is being checked.
6. ``inplace`` — nodes that may overwrite an input nothing else reads (``random_inplace``:
   random variables and scans that advance their generator instead of a copy). Last, so that
   no later rule can add a reader of what they overwrite; left out for the reference backend
   like ``fusion``.

Merging (common-subexpression elimination, equal constants) needs no stage: the IR is
hash-consed, so equal nodes and equal constants are the same object as soon as they are built.

This module is data only and imports nothing of gnomon, so the registry
(:mod:`gnomon.rewrite.engine`) can refuse a rule that no stage would run.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Stage:
    """A pipeline stage: its name and the rule groups it runs."""

    name: str
    groups: tuple[str, ...]


#: THE order of the rewrite stages.
PIPELINE: tuple[Stage, ...] = (
    Stage("canonicalize", ("canonicalize", "constant_folding", "shape")),
    Stage("stabilize", ("stabilize", "constant_folding")),
    Stage("saturate", ("saturate",)),
    Stage("specialize", ("specialize", "constant_folding")),
    Stage("fusion", ("fusion",)),
    Stage("inplace", ("inplace",)),
)


def stage_groups() -> set[str]:
    """Every group that some stage runs.

    Examples
    --------
    >>> sorted(stage_groups())  # doctest: +NORMALIZE_WHITESPACE
    ['canonicalize', 'constant_folding', 'fusion', 'inplace', 'saturate', 'shape',
     'specialize', 'stabilize']
    """
    return {g for s in PIPELINE for g in s.groups}
