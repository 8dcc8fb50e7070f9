"""``RandomStream``: a factory of random variables whose generators advance at every call."""

from __future__ import annotations

import functools
from typing import Any

import numpy as np

from gnomon.graph.basic import Variable
from gnomon.random import distributions
from gnomon.random.type import RandomGeneratorSharedVariable, shared_rng

__all__ = ["RandomStream"]


class RandomStream:
    """Random variables with their own shared generators and default updates (PyTensor's
    ``RandomStream``).

    Each call of a distribution method (``srng.normal(...)``, one per function of
    :mod:`gnomon.random`) makes a new shared generator, seeded from this stream's seed, and sets
    its ``default_update`` to the generator after the draw; so a compiled function that uses the
    draw returns new values at each call, and ``gnomon.function(..., updates=)`` or
    ``no_default_updates=`` can override that.

    Parameters
    ----------
    seed : int, sequence of int, or numpy.random.SeedSequence, optional
        ``None`` seeds from the operating system.

    Examples
    --------
    >>> import gnomon
    >>> srng = RandomStream(seed=42)
    >>> x = srng.normal(0.0, 1.0, size=3)
    >>> f = gnomon.function([], x, mode="numpy")
    >>> a, b = f(), f()
    >>> bool((a != b).all())
    True
    >>> srng.seed(42)  # back to the start of the stream
    >>> bool((f() == a).all())
    True
    """

    def __init__(self, seed: Any = None) -> None:
        self._seed_seq = seed if isinstance(seed, np.random.SeedSequence) else \
            np.random.SeedSequence(seed)
        self.state_updates: list[tuple[RandomGeneratorSharedVariable, Variable]] = []

    def _new_rng(self) -> RandomGeneratorSharedVariable:
        (child,) = self._seed_seq.spawn(1)
        return shared_rng(np.random.Generator(np.random.PCG64(child)), borrow=True)

    def gen(self, fn: Any, *args: Any, **kwargs: Any) -> Variable:
        """Draw with the user function ``fn`` (``gnomon.random.normal`` ...) from a new shared
        generator of this stream."""
        rng = self._new_rng()
        out = fn(*args, rng=rng, **kwargs)
        rng.default_update = out.owner.outputs[0]
        self.state_updates.append((rng, rng.default_update))
        return out

    def updates(self) -> list[tuple[RandomGeneratorSharedVariable, Variable]]:
        """``(generator, next state)`` pairs of every draw made so far."""
        return list(self.state_updates)

    def seed(self, seed: Any = None) -> None:
        """Reseed this stream and every generator it made, in the order they were made."""
        self._seed_seq = seed if isinstance(seed, np.random.SeedSequence) else \
            np.random.SeedSequence(seed)
        for rng, _ in self.state_updates:
            (child,) = self._seed_seq.spawn(1)
            rng.set_value(np.random.Generator(np.random.PCG64(child)), borrow=True)


def _method(fn: Any) -> Any:
    @functools.wraps(fn)
    def method(self: RandomStream, *args: Any, **kwargs: Any) -> Variable:
        return self.gen(fn, *args, **kwargs)

    method.__doc__ = (f"``gnomon.random.{fn.__name__}`` drawn from a new generator of this "
                      "stream (see :class:`RandomStream`).")
    return method


for _name in distributions.__all__:
    if _name[0].islower():
        setattr(RandomStream, _name, _method(getattr(distributions, _name)))
