"""Random variables: draws as graph ops with an explicit random number generator state.

``import gnomon.random as gr`` (also reachable as ``gnomon.tensor.random``, PyTensor's
``pt.random``)::

    rng = gnomon.shared(np.random.default_rng(42))   # a shared generator
    x = gr.normal(0.0, 1.0, size=(3,), rng=rng)      # a draw; the new state is x.owner.outputs[0]
    srng = gr.RandomStream(seed=42)                  # generators that advance at every call
    y = srng.gamma(2.0, size=10)
    gnomon.draw(y, draws=100, random_seed=1)         # 100 stacked samples

See ``docs/random.md`` for ``size`` semantics, RNG threading and the backends.

Examples
--------
>>> import numpy as np, gnomon, gnomon.random as gr
>>> srng = gr.RandomStream(seed=0)
>>> x = srng.normal(size=2)
>>> f = gnomon.function([], x, mode="numpy")
>>> bool(np.all(f() != f()))  # new draws at every call
True
"""

from __future__ import annotations

from gnomon.random import distributions, rewriting
from gnomon.random.distributions import *  # noqa: F403
from gnomon.random.draw import draw
from gnomon.random.op import Check, RandomVariable
from gnomon.random.stream import RandomStream
from gnomon.random.type import (
    NoneConst,
    RandomGeneratorSharedVariable,
    RandomGeneratorType,
    copy_generator,
    random_generator_type,
)

del rewriting  # imported for its registration of the random_inplace rewrite

__all__ = [
    "Check", "NoneConst", "RandomGeneratorSharedVariable", "RandomGeneratorType",
    "RandomStream", "RandomVariable", "copy_generator", "draw", "random_generator_type",
    *distributions.__all__,
]


def _alias_in_tensor() -> None:
    # PyTensor users write pt.random.normal(...) and import pytensor.tensor.random: both
    # spellings reach this package.
    import sys

    import gnomon.tensor

    gnomon.tensor.random = sys.modules[__name__]  # type: ignore[attr-defined]
    sys.modules.setdefault("gnomon.tensor.random", sys.modules[__name__])


_alias_in_tensor()


def __dir__() -> list[str]:
    # the public names only (not the submodules, `sys` or `annotations`)
    return sorted(__all__)


del annotations
