"""Value transforms under PyMC's names (``pm.distributions.transforms``), from
:mod:`gnomon.logprob.transforms`, plus :class:`Chain` (a user transform applied after a
distribution's default one).

Examples
--------
>>> import numpy as np, gnomon.ppl as pm
>>> with pm.Model() as m:
...     x = pm.Normal("x", 0.0, 1.0, shape=3, transform=pm.distributions.transforms.ordered)
>>> m.value_vars[0].name
'x_ordered__'
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from gnomon.graph.basic import Variable
from gnomon.logprob.transforms import (
    Circular,
    Interval,
    Log,
    LogOdds,
    Ordered,
    Simplex,
    Transform,
)

__all__ = [
    "Chain", "Interval", "Transform", "circular", "log", "logodds", "ordered", "simplex",
]

log = Log()
logodds = LogOdds()
ordered = Ordered()
simplex = Simplex()
circular = Circular()


class Chain(Transform):
    """Transforms applied in order: ``forward`` runs ``transforms[0]`` first."""

    def __init__(self, transforms: Sequence[Transform]) -> None:
        self.transforms = list(transforms)
        self.ndim_supp = max(t.ndim_supp for t in self.transforms)
        self.name = "_".join(t.name for t in reversed(self.transforms))

    def forward(self, x: Any) -> Variable:
        for t in self.transforms:
            x = t.forward(x)
        return x  # type: ignore[no-any-return]

    def backward(self, y: Any) -> Variable:
        for t in reversed(self.transforms):
            y = t.backward(y)
        return y  # type: ignore[no-any-return]

    def log_jac_det(self, y: Any) -> Variable:
        import gnomon.tensor as gt

        total = None
        for t in reversed(self.transforms):
            j = t.log_jac_det(y)
            extra = j.ndim - (y.ndim - self.ndim_supp if hasattr(y, "ndim") else 0)
            if extra > 0:
                j = gt.sum(j, axis=tuple(range(-extra, 0)))
            total = j if total is None else total + j
            y = t.backward(y)
        return total  # type: ignore[return-value]

    def value_ndim(self, rv_ndim: int) -> int:
        n = rv_ndim
        for t in self.transforms:
            n = t.value_ndim(n)
        return n

    def __repr__(self) -> str:
        return f"Chain({self.transforms!r})"
