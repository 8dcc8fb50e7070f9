"""The standard rewrite pipeline: the standard rules, and the entry points of the layers above.

Importing this module registers the standard rules: it imports the rule modules of
:mod:`gnomon.rewrite.rules` (one per stage), each of which registers its rules at module level.
``gnomon/rewrite/__init__.py`` imports this module, so the standard rules are registered as
soon as anything of :mod:`gnomon.rewrite` is imported, before the rules of ``gnomon.control``
and of users. The order of the stages is :data:`gnomon.rewrite.stages.PIPELINE`; running it is
:func:`gnomon.rewrite.engine.rewrite_with`.

The layers above call in here, and nothing here calls back:

* :func:`rewrite_for_mode` — ``gnomon.function`` rewrites its outputs for a :class:`gnomon.Mode`.
* :func:`stabilize_for_grad` — :func:`gnomon.grad` differentiates the stable form of a cost
  (``gnomon/gradient.py`` imports only this function of the rewrite package, and the rewrite
  package never imports ``gnomon.gradient``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from gnomon.graph.basic import Variable
from gnomon.rewrite.engine import RewriteStep, rewrite_with
from gnomon.rewrite.rules import canonicalize, fusion, saturate, special, specialize, stabilize

#: The standard rule modules, in the order of the stages they serve (imported above, which
#: registers their rules).
RULE_MODULES = (canonicalize, stabilize, special, saturate, specialize, fusion)


def rewrite_for_mode(
    outputs: Sequence[Variable], mode: Any
) -> tuple[list[Variable], list[RewriteStep]]:
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


def stabilize_for_grad(cost: Variable) -> Variable:
    """``cost`` after the ``canonicalize`` and ``stabilize`` stages (no specialization, no
    fusion): the form :func:`gnomon.grad` differentiates.

    Differentiating ``log(1 + exp(x))`` as written gives ``exp(x) / (1 + exp(x))``, which is
    nan at ``x = 1000``; differentiating its stable form ``softplus(x)`` gives ``sigmoid(x)``.
    Rules enabled or disabled globally (:func:`gnomon.rewrite.enable`, ``disable``) count.

    Examples
    --------
    >>> import gnomon.tensor as gt
    >>> x = gt.dvector("x")
    >>> out = stabilize_for_grad(gt.sum(gt.log(1 + gt.exp(x))))
    >>> print(out.owner.inputs[0].owner.op)
    Elemwise(softplus)
    """
    (new,), _ = rewrite_with([cost], exclude=("specialize", "fusion"), backend="numpy")
    return new
