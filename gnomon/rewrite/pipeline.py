"""The standard rewrite pipeline: THE one ordered list of stages, and how a Mode selects rules.

Stages run in the order of :data:`PIPELINE`; each runs the rules of its groups to a fixed point
(see :func:`gnomon.rewrite.engine.run_stage`):

1. ``canonicalize`` — algebraic simplification into one canonical form (``x*y/x -> y``,
   ``-(-x) -> x``, like terms, useless casts / dimshuffles / allocs, shapes computed from input
   shapes), plus constant folding.
2. ``stabilize`` — numerically stable forms (``log(1+exp(x)) -> softplus(x)`` ...), plus constant
   folding.
3. ``specialize`` — faster forms for the backends (``x**2 -> x*x``, ``x**0.5 -> sqrt(x)``,
   ``sum(x*y) -> dot(x, y)``), plus constant folding.
4. ``fusion`` — chains of elementwise ops become one ``Elemwise(Composite)`` so a backend can
   emit one loop. Left out for the NumPy reference backend (``mode.backend == 'numpy'``) unless
   included by name: the reference runs the graph op by op, where fusing gains nothing and
   only hides what is being checked.

Merging (common-subexpression elimination, equal constants) needs no stage: the IR is
hash-consed, so equal nodes and equal constants are the same object as soon as they are built.

``include`` / ``exclude`` names may be rules, groups or stages. Excluding a stage name skips the
stage (except for rules included by their own name); excluding a group leaves out its rules
wherever they run (``constant_folding`` runs in three stages).
"""

from __future__ import annotations

import gc
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from gnomon.graph.basic import Variable


@dataclass(frozen=True)
class Stage:
    """A pipeline stage: its name and the rule groups it runs."""

    name: str
    groups: tuple[str, ...]


#: THE order of the rewrite stages.
PIPELINE: tuple[Stage, ...] = (
    Stage("canonicalize", ("canonicalize", "constant_folding", "shape")),
    Stage("stabilize", ("stabilize", "constant_folding")),
    Stage("specialize", ("specialize", "constant_folding")),
    Stage("fusion", ("fusion",)),
)

#: Modules whose import registers the standard rules (imported on the first rewrite).
RULE_MODULES: tuple[str, ...] = (
    "gnomon.rewrite.rules.canonicalize",
    "gnomon.rewrite.rules.stabilize",
    "gnomon.rewrite.rules.specialize",
    "gnomon.rewrite.rules.fusion",
)


def stage_groups() -> set[str]:
    """Every group that some stage runs."""
    return {g for s in PIPELINE for g in s.groups}


def rewrite_with(
    outputs: Sequence[Variable],
    include: tuple[str, ...] = (),
    exclude: tuple[str, ...] = (),
    backend: str | None = None,
) -> tuple[list[Variable], list[Any]]:
    """Run the pipeline on ``outputs`` with rules included / excluded by name."""
    from gnomon.rewrite.engine import check_names

    check_names(include + exclude)
    excl = set(exclude)
    if backend == "numpy" and "fusion" not in include:
        excl.add("fusion")
    trace: list[Any] = []
    outs = list(outputs)
    # The rewrite allocates many small, cyclic objects (a node and its outputs point at each
    # other) and frees few: Python's cyclic collector would scan the whole growing heap again
    # and again, which makes compile time grow faster than the graph. Pause it meanwhile.
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        outs = _run_stages(outs, include, excl, trace)
    finally:
        if was_enabled:
            gc.enable()
    outs = [_keep_type(new, old) for new, old in zip(outs, outputs, strict=True)]
    return outs, trace


def _run_stages(
    outs: list[Variable], include: tuple[str, ...], excl: set[str], trace: list[Any]
) -> list[Variable]:
    from gnomon.rewrite.engine import run_stage, select_rules

    for stage in PIPELINE:
        rules = select_rules(stage.groups, include, excl)
        if stage.name in excl and stage.name not in include:
            # An excluded stage runs only the rules included by their own name.
            rules = [r for r in rules if r.name in include]
        if rules:
            outs = run_stage(outs, rules, stage.name, trace)
    return outs


def rewrite_for_mode(outputs: Sequence[Variable], mode: Any) -> tuple[list[Variable], list[Any]]:
    """The pipeline as ``gnomon.function`` runs it for ``mode`` (a :class:`gnomon.Mode`).

    Examples
    --------
    >>> import gnomon, gnomon.tensor as gt
    >>> x = gt.dvector("x")
    >>> (out,), trace = rewrite_for_mode([x + 0], gnomon.Mode("numpy"))
    >>> out is x
    True
    """
    return rewrite_with(list(outputs), tuple(mode.include), tuple(mode.exclude), mode.backend)


def _keep_type(new: Variable, old: Variable) -> Variable:
    """An output keeps its dtype and a static shape at least as specific as before."""
    from gnomon.rewrite.engine import RewriteError
    from gnomon.tensor.basic import alloc, cast, constant
    from gnomon.tensor.shapes import shape_i
    from gnomon.tensor.type import TensorType

    if new is old or new.type == old.type:
        return new
    if not isinstance(old.type, TensorType) or new.ndim != old.ndim:
        # fit_replacement broadcasts every replacement to its node's rank, so this is a bug.
        raise RewriteError(f"the pipeline changed the type of output {old} ({old.type} -> "
                           f"{new.type}).\nHint: this is a bug in a rewrite rule; exclude the "
                           "rules of the trace one by one to find it, and report it.")
    if new.dtype != old.dtype:
        new = cast(new, old.dtype)
    ot, nt = old.type.shape, new.type.shape  # type: ignore[attr-defined]
    if all(o is None or o == n for o, n in zip(ot, nt, strict=True)):
        return new
    dims = [constant(o, "int64") if o is not None else shape_i(new, d) for d, o in enumerate(ot)]
    return alloc(new, *dims)
