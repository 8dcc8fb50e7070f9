"""The dispatch tables behind :mod:`gnomon.logprob`: one graph builder per op class.

``_logprob(op, value, *inputs)`` returns the log-density of the *measured output* of a node
(``op`` applied to ``inputs``) at ``value``; ``_logcdf`` and ``_icdf`` do the same for the log
cumulative distribution function and its inverse (``icdf`` takes a probability ``q``). They are
:func:`functools.singledispatch` functions keyed on the op class, so a distribution, or a
*measurable* op made by a rewrite (``gnomon/logprob/rewriting.py``), registers its builders by
class reference, never by name::

    @_logprob.register(MyMeasurableOp)
    def _(op, value, *inputs):
        return ...   # a tensor of the value's batch shape

For a :class:`~gnomon.random.op.RandomVariable` the inputs are ``(rng, size, *params)`` and the
measured output is the draw (``node.outputs[1]``); :func:`register_rv` wraps a builder of
``(op, value, *params)`` so distribution modules stay short. The result has the draw's batch
shape: support dimensions (the ``k`` of a Dirichlet) are summed by the builder.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from gnomon.errors import NotLoweredError
from gnomon.graph.basic import Variable
from gnomon.graph.op import Op
from gnomon.random.op import RandomVariable

__all__ = ["_icdf", "_logcdf", "_logprob", "has_icdf", "has_logcdf", "has_logprob",
           "measurable_ops", "register_rv"]


class _NoBuilder(NotLoweredError):
    """The op class has no builder in this table (caught by the user API)."""


@functools.singledispatch
def _logprob(op: Op, value: Variable, *inputs: Variable) -> Variable:
    """Log-density of ``op``'s measured output at ``value`` (see the module docstring)."""
    raise _NoBuilder(f"no log-density for {type(op).__name__}")


@functools.singledispatch
def _logcdf(op: Op, value: Variable, *inputs: Variable) -> Variable:
    """Log of the cumulative distribution function of ``op``'s measured output at ``value``."""
    raise _NoBuilder(f"no log-cdf for {type(op).__name__}")


@functools.singledispatch
def _icdf(op: Op, q: Variable, *inputs: Variable) -> Variable:
    """Inverse cumulative distribution function of ``op``'s measured output at ``q``."""
    raise _NoBuilder(f"no inverse cdf for {type(op).__name__}")


def _has(table: Any, cls: type) -> bool:
    return table.dispatch(cls) is not table.dispatch(object)


def has_logprob(cls: type) -> bool:
    """Whether ``cls`` (an op class) has a log-density builder."""
    return _has(_logprob, cls)


def has_logcdf(cls: type) -> bool:
    """Whether ``cls`` has a log-cdf builder."""
    return _has(_logcdf, cls)


def has_icdf(cls: type) -> bool:
    """Whether ``cls`` has an inverse-cdf builder."""
    return _has(_icdf, cls)


def measurable_ops() -> list[type]:
    """The op classes with a log-density builder, sorted by name (for messages and docs)."""
    return sorted((c for c in _logprob.registry if c is not object), key=lambda c: c.__name__)


def register_rv(table: Any, cls: type[RandomVariable]
                ) -> Callable[[Callable[..., Variable]], Callable[..., Variable]]:
    """Decorator: register ``fn(op, value, *params)`` in ``table`` for the random variable class
    ``cls`` (the node's ``rng`` and ``size`` inputs are dropped)."""
    if not (isinstance(cls, type) and issubclass(cls, RandomVariable)):
        raise TypeError(f"register_rv needs a RandomVariable subclass, got {cls!r}")

    def deco(fn: Callable[..., Variable]) -> Callable[..., Variable]:
        @table.register(cls)
        def _(op: RandomVariable, value: Variable, *inputs: Variable) -> Variable:
            return fn(op, value, *inputs[2:])

        return fn

    return deco
