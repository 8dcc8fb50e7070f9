"""Parameter checks inside log-density graphs, and the user's policy for them.

A log-density is only meaningful for valid parameters (``scale > 0``, ``0 <= p <= 1``). Each
density builder states its conditions with :func:`check_parameters`; what happens when a
condition fails is chosen by the user for the whole derivation (the ``check_parameters=``
argument of :func:`gnomon.logprob.logp` and friends):

* ``True`` (the default): the graph carries a :class:`CheckParameters` node that raises
  ``GnomonValueError`` when the compiled function is called with invalid parameters, naming the
  distribution and the parameter (the reference and Numba backends; the linker adds the line
  that built the node). JAX cannot raise inside ``jax.jit``: there the node returns ``nan``
  wherever a condition fails, like ``jax.random`` does for bad parameters.
* ``False``: no check node; the density is ``-inf`` (``nan`` for ``icdf``) wherever a
  condition fails, so a sampler simply rejects the point (PyMC's ``check_bounds=False`` keeps
  the unchecked formula instead; a definite value is easier to reason about).
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from gnomon.errors import GnomonValueError, with_hint
from gnomon.graph.basic import Apply, Constant, Variable
from gnomon.graph.op import Op
from gnomon.tensor.basic import as_tensor
from gnomon.tensor.type import TensorType

__all__ = ["CheckParameters", "check_parameters", "checking"]

_CHECK: contextvars.ContextVar[bool] = contextvars.ContextVar("gnomon_logprob_check",
                                                              default=True)


@contextlib.contextmanager
def checking(on: bool) -> Iterator[None]:
    """Inside the block, :func:`check_parameters` raises (``on``) or masks (not ``on``)."""
    token = _CHECK.set(bool(on))
    try:
        yield
    finally:
        _CHECK.reset(token)


@dataclass(frozen=True)
class CheckParameters(Op):
    """``x`` unchanged when every condition input is true everywhere; otherwise an error.

    Inputs are ``(x, *conditions)`` (boolean tensors of any shape). ``message`` names the
    distribution and the condition; it is the error's text. On JAX the output is ``nan`` where
    a condition fails (``jax.jit`` cannot raise).
    """

    message: str

    #: folding would raise (or hide the check) while compiling; leave it to run time
    constant_foldable: ClassVar[bool] = False
    view_map = {0: 0}  # type: ignore[assignment]  # noqa: RUF012

    def make_node(self, x: Any, *conds: Any) -> Apply:
        x = as_tensor(x)
        cs = [as_tensor(c) for c in conds]
        for c in cs:
            if c.dtype != "bool":
                raise GnomonValueError(with_hint(
                    f"CheckParameters: conditions must be boolean, got {c.type}",
                    "pass comparisons such as scale > 0"))
        return Apply.make(self, [x, *cs], [TensorType(x.dtype, x.type.shape)])  # type: ignore

    def perform(self, node: Apply, inputs: Sequence[Any]) -> tuple[Any, ...]:
        x, *conds = inputs
        for c in conds:
            if not np.all(c):
                raise GnomonValueError(self.message)
        return (x,)

    def infer_shape(self, node: Apply, input_shapes: Sequence[tuple[Variable, ...]]
                    ) -> list[tuple[Variable, ...]]:
        return [tuple(input_shapes[0])]

    def pullback(self, node: Apply, output_grads: Sequence[Variable | None]) -> list[Any]:
        return [output_grads[0], *[None] * (len(node.inputs) - 1)]

    def pushforward(self, node: Apply, tangents: Sequence[Variable | None]) -> list[Any]:
        return [tangents[0]]

    def __str__(self) -> str:
        return "check_parameters"


def check_parameters(expr: Any, conditions: Sequence[tuple[Any, str]], name: str,
                     fill: float = -np.inf) -> Variable:
    """``expr`` guarded by ``conditions`` (pairs ``(boolean tensor, what it requires)``)
    under the current policy: raise (a :class:`CheckParameters` node), or ``fill`` where a
    condition fails. ``name`` is the distribution's, for the message."""
    from gnomon.tensor.math import and_, where

    expr = as_tensor(expr)
    live = []
    for cond, what in conditions:
        c = as_tensor(cond)
        known = _constant_value(c)
        if known is not None and bool(np.all(known)):
            continue  # known valid: no node
        live.append((c, what))
    if not live:
        return expr
    if _CHECK.get():
        for c, what in live:
            msg = with_hint(
                f"{name}: invalid parameter: {what}",
                "check the parameter values passed to the compiled function, or build the "
                "density with check_parameters=False to get -inf (nan for icdf) instead")
            expr = CheckParameters(msg)(expr, c)
        return expr
    ok = live[0][0]
    for c, _ in live[1:]:
        ok = and_(ok, c)
    return where(ok, expr, np.array(fill, dtype=expr.dtype))


def _constant_value(v: Variable, max_nodes: int = 64) -> np.ndarray | None:
    """The value of ``v`` when it is computed from constants only (a small graph, evaluated
    node by node with the reference implementations), else ``None``."""
    from gnomon.graph.traversal import toposort

    if isinstance(v, Constant):
        return np.asarray(v.data)
    if v.owner is None:
        return None
    nodes = toposort([v])
    if len(nodes) > max_nodes:
        return None
    values: dict[Variable, Any] = {}
    for node in nodes:
        args = []
        for i in node.inputs:
            if isinstance(i, Constant):
                args.append(i.data)
            elif i in values:
                args.append(values[i])
            else:
                return None
        if not getattr(node.op, "constant_foldable", True):
            return None
        try:
            with np.errstate(all="ignore"):
                outs = node.op.perform(node, args)
        except Exception:
            return None
        values.update(zip(node.outputs, outs, strict=True))
    return np.asarray(values[v])
