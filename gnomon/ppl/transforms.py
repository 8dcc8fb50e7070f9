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

import numpy as np

from gnomon.graph.basic import Variable
from gnomon.logprob.transforms import (
    Circular,
    Interval,
    Log,
    LogOdds,
    Ordered,
    Transform,
)

__all__ = [
    "CenteredSimplex", "Chain", "Interval", "Transform", "circular", "log", "logodds",
    "ordered", "simplex", "ZeroSum", "CholeskyCovPacked",
]

class CenteredSimplex(Transform):
    """Probability vectors of length ``k`` <-> ``R^(k-1)`` as PyMC's ``simplex``: the first
    ``k - 1`` centred log-probabilities, ``y_i = log x_i - mean(log x)``; back with a softmax
    of ``(y, -sum(y))``.

    With ``z = (y, -sum(y))`` (which sums to 0) and ``x = softmax(z)``, the Jacobian of the
    first ``k - 1`` coordinates of ``x`` with respect to ``y`` is ``diag(x') - x' (x' - x_k)^T``
    (``x'`` the first ``k - 1`` entries), whose determinant is ``k * prod(x)``; so
    ``log |det J| = log k + sum(log x) = log k - k * logsumexp(z)``.

    (gnomon.logprob's :class:`~gnomon.logprob.transforms.Simplex` is stick-breaking instead;
    this one keeps PyMC's unconstrained coordinates, so ``w_simplex__`` means the same point in
    both libraries.)

    Examples
    --------
    >>> import numpy as np, gnomon.tensor as gt
    >>> t = CenteredSimplex()
    >>> x = np.array([0.2, 0.3, 0.5])
    >>> y = t.forward(x).eval(mode="numpy")
    >>> np.round(t.backward(y).eval(mode="numpy"), 6).tolist()
    [0.2, 0.3, 0.5]
    """

    ndim_supp = 1
    name = "simplex"

    def forward(self, x: Any) -> Variable:
        import gnomon.tensor as gt

        lx = gt.log(gt.as_tensor(x))
        return (lx - gt.mean(lx, axis=-1, keepdims=True))[..., :-1]  # type: ignore[no-any-return]

    def _z(self, y: Any) -> Variable:
        import gnomon.tensor as gt

        y = gt.as_tensor(y)
        return gt.concatenate([y, -gt.sum(y, axis=-1, keepdims=True)], axis=-1)

    def backward(self, y: Any) -> Variable:
        import gnomon.tensor as gt

        return gt.softmax(self._z(y), axis=-1)  # type: ignore[no-any-return]

    def log_jac_det(self, y: Any) -> Variable:
        import gnomon.tensor as gt

        z = self._z(y)
        k = gt.cast(z.shape[-1], "float64")
        return gt.log(k) - k * gt.logsumexp(z, axis=-1)  # type: ignore[no-any-return]


class ZeroSum(Transform):
    """Vectors of length ``n`` that sum to zero (along the last axis) <-> ``R^(n-1)``, by an
    isometry (so ``log |J| = 0`` for the density on the hyperplane): the Householder
    reflection that swaps ``e_n`` and ``1 / sqrt(n)`` maps ``(y, 0)`` into the hyperplane.

    With ``s = sum(y)``: ``x_i = y_i - s / (n - sqrt(n))`` for ``i < n``, ``x_n = s / sqrt(n)``;
    back, ``y_i = x_i + x_n / (sqrt(n) - 1)``. PyMC's name: ``zerosum``.

    Examples
    --------
    >>> import numpy as np
    >>> t = ZeroSum()
    >>> x = t.backward(np.array([0.3, -1.0, 2.0])).eval(mode="numpy")
    >>> round(float(x.sum()), 12), np.allclose(t.forward(x).eval(mode="numpy"), [0.3, -1, 2])
    (0.0, True)
    """

    ndim_supp = 1
    name = "zerosum"

    def forward(self, x: Any) -> Variable:
        import gnomon.tensor as gt

        x = gt.as_tensor(x)
        n = gt.cast(x.shape[-1], "float64")
        return x[..., :-1] + x[..., -1:] / (gt.sqrt(n) - 1)  # type: ignore[no-any-return]

    def backward(self, y: Any) -> Variable:
        import gnomon.tensor as gt

        y = gt.as_tensor(y)
        n = gt.cast(y.shape[-1], "float64") + 1
        s = gt.sum(y, axis=-1, keepdims=True)
        return gt.concatenate([y - s / (n - gt.sqrt(n)), s / gt.sqrt(n)],  # type: ignore
                              axis=-1)

    def log_jac_det(self, y: Any) -> Variable:
        import gnomon.tensor as gt

        y = gt.as_tensor(y)
        return gt.zeros_like(gt.sum(y, axis=-1))  # type: ignore[no-any-return]


class CholeskyCovPacked(Transform):
    """Lower-triangular Cholesky factors with a positive diagonal, packed row by row into a
    vector of length ``n (n + 1) / 2`` <-> ``R^(n (n + 1) / 2)``: the log of the diagonal
    entries, the other entries as they are (PyMC's ``cholesky-cov-packed``).

    Examples
    --------
    >>> import numpy as np
    >>> t = CholeskyCovPacked(2)
    >>> t.forward(np.array([2.0, 0.5, 1.0])).eval(mode="numpy").round(4).tolist()
    [0.6931, 0.5, 0.0]
    """

    ndim_supp = 1
    name = "cholesky-cov-packed"

    def __init__(self, n: int) -> None:
        self.n = int(n)
        self.diag = np.cumsum(np.arange(1, self.n + 1)) - 1
        mask = np.zeros(self.n * (self.n + 1) // 2, dtype=bool)
        mask[self.diag] = True
        self.mask = mask

    def forward(self, x: Any) -> Variable:
        import gnomon.tensor as gt

        x = gt.as_tensor(x)
        return gt.where(self.mask, gt.log(gt.where(self.mask, x, 1.0)), x)  # type: ignore

    def backward(self, y: Any) -> Variable:
        import gnomon.tensor as gt

        y = gt.as_tensor(y)
        return gt.where(self.mask, gt.exp(y), y)  # type: ignore[no-any-return]

    def log_jac_det(self, y: Any) -> Variable:
        import gnomon.tensor as gt

        y = gt.as_tensor(y)
        return gt.sum(y[..., self.diag], axis=-1)  # type: ignore[no-any-return]

    def __repr__(self) -> str:
        return f"CholeskyCovPacked({self.n})"


log = Log()
logodds = LogOdds()
ordered = Ordered()
simplex = CenteredSimplex()
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
