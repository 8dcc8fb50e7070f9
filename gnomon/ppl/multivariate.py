"""``LKJCorr``: the LKJ distribution of correlation matrices, with PyMC's signature.

The variable holds the ``n (n - 1) / 2`` entries above the diagonal, row by row (PyMC's
packing; ``return_matrix=True`` also returns the matrix). Its density is
``det(R)^(eta - 1) / c_n(eta)`` with the exact normalizing constant ``c_n(eta)`` (the integral
of ``det(R)^(eta - 1)`` over ``n x n`` correlation matrices, Lewandowski, Kurowicka & Joe 2009),
``-inf`` outside the positive-definite matrices. The value variable (``name_cholesky_corr__``)
lives in ``R^(n (n - 1) / 2)``: :class:`CholeskyCorr` maps it one to one onto correlation
matrices through canonical partial correlations, so a sampler never leaves the support.

Examples
--------
>>> import numpy as np, gnomon.ppl as pm
>>> with pm.Model() as m:
...     c = pm.LKJCorr("c", n=3, eta=2.0)
>>> m.value_vars[0].name, m.initial_point()["c_cholesky_corr__"].tolist()
('c_cholesky_corr__', [0.0, 0.0, 0.0])
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

import gnomon.tensor as gt
from gnomon.errors import GnomonValueError, with_hint
from gnomon.graph.basic import Variable
from gnomon.logprob.abstract import _logprob
from gnomon.logprob.transforms import Transform
from gnomon.ppl.distributions import (
    _SUPPORT_POINTS,
    _TRANSFORMS,
    Distribution,
    _f,
    _log_lkj_norm,
    _no_extra,
    _rng,
)
from gnomon.ppl.model import _at
from gnomon.random.op import RandomVariable

__all__ = ["CholeskyCorr", "LKJCorr"]


def lkj_corr_cholesky_draw(rng: np.random.Generator, eta: float, n: int) -> np.ndarray:
    """The Cholesky factor of one LKJ(``eta``) correlation matrix of size ``n``, by the vine
    method: the partial correlation of rows ``j > i`` given the earlier columns is
    ``2 Beta(a_i, a_i) - 1`` with ``a_i = eta + (n - 2 - i) / 2``."""
    chol = np.zeros((n, n))
    chol[0, 0] = 1.0
    a = float(eta) + (n - 1) / 2
    for i in range(n - 1):
        a -= 0.5
        for j in range(i + 1, n):
            z = 2.0 * rng.beta(a, a) - 1.0
            chol[j, i] = z * np.sqrt(max(1.0 - np.sum(chol[j, :i] ** 2), 0.0))
    for j in range(1, n):
        chol[j, j] = np.sqrt(max(1.0 - np.sum(chol[j, :j] ** 2), 0.0))
    return chol


def _n_from_packed(m: int) -> int:
    return round(float(1 + np.sqrt(1 + 8 * m)) / 2)


@dataclass(frozen=True)
class _LKJCorrRV(RandomVariable):
    """The entries above the diagonal of an LKJ(``eta``) correlation matrix (private to
    gnomon.ppl); ``support`` only carries their number ``n (n - 1) / 2``. One matrix per draw
    (no batch dimensions)."""

    name: ClassVar[str] = "lkjcorr"
    ndim_supp: ClassVar[int] = 1
    ndims_params: ClassVar[tuple[int, ...]] = (0, 1)
    param_names: ClassVar[tuple[str, ...]] = ("eta", "support")
    #: the parameter whose length is the support's (for the Numba lowering)
    support_param: ClassVar[int] = 1

    def support_shape(self, param_shapes: Sequence[tuple[Any, ...]]) -> tuple[Any, ...]:
        return (param_shapes[1][-1],)

    def rng_fn(self, rng, eta, support, *, size):  # type: ignore[no-untyped-def,override]
        if size not in (None, ()) or np.ndim(eta):
            raise GnomonValueError("LKJCorr draws one matrix (no batch) in gnomon.ppl")
        n = _n_from_packed(support.shape[-1])
        chol = lkj_corr_cholesky_draw(rng, float(eta), n)
        return (chol @ chol.T)[np.triu_indices(n, 1)]


def _scatter(n: int, rows: np.ndarray, cols: np.ndarray, symmetric: bool) -> np.ndarray:
    """The constant ``(n * n, len(rows))`` matrix that puts entry ``k`` of a vector at
    ``(rows[k], cols[k])`` (and its mirror) of a flattened ``n x n`` matrix. Products with
    it compile to one matmul in every backend (2-d fancy indexing has no Numba lowering)."""
    e = np.zeros((n * n, len(rows)))
    e[rows * n + cols, np.arange(len(rows))] = 1.0
    if symmetric:
        e[cols * n + rows, np.arange(len(rows))] = 1.0
    return e


def corr_matrix(n: int, packed: Any) -> Variable:
    """The ``n x n`` correlation matrix whose entries above the diagonal are ``packed`` (row
    by row, PyMC's order), as a graph."""
    rows, cols = np.triu_indices(int(n), 1)
    packed = gt.cast(gt.as_tensor(packed), "float64")
    flat = gt.dot(gt.constant(_scatter(n, rows, cols, True)), packed)
    return gt.reshape(flat, (n, n)) + gt.constant(np.eye(n))  # type: ignore[no-any-return]


def _corr_logdet(r: Variable, n: int) -> tuple[Variable, Variable]:
    """``(log det(r), positive definite)`` of an ``n x n`` symmetric matrix by a Cholesky
    factorization written with elementwise ops, column by column: positive definite when
    every pivot is positive (Sylvester). Unlike a linear-algebra op, a singular matrix (a
    sampler's proposal at the edge of the support) gives ``-inf`` / ``nan`` instead of an
    error, also in the gradient."""
    cols: list[Variable] = []
    logdet: Any = gt.constant(np.float64(0.0))
    ok: Any = gt.constant(True)
    idx = np.arange(n)
    for j in range(n):
        s: Any = r[:, j]
        for k in range(j):
            s = s - cols[k] * cols[k][j]
        d = s[j]
        pos = gt.gt(d, 0)
        ok = gt.and_(ok, pos)
        safe = gt.where(pos, d, 1.0)
        cols.append(gt.where(gt.constant(idx >= j), s / gt.sqrt(safe), 0.0))
        logdet = logdet + gt.log(safe)
    return logdet, ok


@_logprob.register(_LKJCorrRV)
def _lkjcorr_logp(op: Any, value: Variable, rng: Variable, size: Variable, eta: Variable,
                  support: Variable) -> Variable:
    from gnomon.logprob.check import check_parameters

    n = _n_from_packed(support.type.shape[-1])
    logdet, pd = _corr_logdet(corr_matrix(n, value), n)
    ok = gt.and_(gt.all(gt.le(gt.abs(value), 1.0)), pd)
    lp = (eta - 1) * logdet - _log_lkj_norm(eta, n)
    return check_parameters(gt.where(ok, lp, -np.inf), [(gt.gt(eta, 0), "eta > 0")], "lkjcorr")


class CholeskyCorr(Transform):
    """Correlation matrices (their ``n (n - 1) / 2`` entries above the diagonal, row by row)
    <-> ``R^(n (n - 1) / 2)`` through canonical partial correlations: ``z = tanh(y)`` placed
    below the diagonal (row by row) gives the Cholesky factor ``L`` row by row,
    ``L[i, j] = z[i, j] sqrt(1 - sum_{k<j} L[i, k]^2)``, ``L[i, i] = sqrt(1 - sum_{k<i}
    L[i, k]^2)``, and ``R = L L^T``. ``log |det J| = sum_{i>j} (n - j) / 2 log(1 - z[i,j]^2)``
    (``j`` counted from 0; checked against a finite-difference Jacobian in the tests).

    Examples
    --------
    >>> import numpy as np
    >>> t = CholeskyCorr(3)
    >>> r = t.backward(np.array([0.3, -0.2, 0.5])).eval(mode="numpy")
    >>> np.round(t.forward(r).eval(mode="numpy"), 10).tolist()
    [0.3, -0.2, 0.5]
    """

    ndim_supp = 1
    name = "cholesky_corr"

    def __init__(self, n: int) -> None:
        self.n = int(n)
        self.lower = np.tril_indices(self.n, -1)
        self.upper = np.triu_indices(self.n, 1)

    def _log1m_tanh2(self, y: Variable) -> Variable:
        # log(1 - tanh(y)^2) = -2 log cosh(y), written without overflow
        a = gt.abs(y)
        return 2.0 * (np.log(2.0) - a - gt.log1p(gt.exp(-2.0 * a)))  # type: ignore[no-any-return]

    def _lower(self, v: Variable) -> Variable:
        e = gt.constant(_scatter(self.n, *self.lower, symmetric=False))
        return gt.reshape(gt.dot(e, v), (self.n, self.n))  # type: ignore[no-any-return]

    def _pick(self, x: Variable, where: tuple[np.ndarray, np.ndarray]) -> Variable:
        # x[where] as a product with a constant selection matrix (see _scatter)
        e = gt.constant(_scatter(self.n, *where, symmetric=False).T)
        return gt.dot(e, gt.reshape(x, (self.n * self.n,)))  # type: ignore[no-any-return]

    def backward(self, y: Any) -> Variable:
        y = gt.cast(gt.as_tensor(y), "float64")
        z = self._lower(gt.tanh(y))
        w = self._lower(self._log1m_tanh2(y))
        s_incl = gt.cumsum(w, axis=1)
        chol = z * gt.exp(0.5 * (s_incl - w)) + gt.eye(self.n) * gt.exp(
            0.5 * s_incl[:, -1])[:, None]
        r = chol @ gt.transpose(chol)
        return self._pick(r, self.upper)

    def forward(self, x: Any) -> Variable:
        x = gt.cast(gt.as_tensor(x), "float64")
        chol = gt.linalg.cholesky(corr_matrix(self.n, x))
        sq = chol ** 2
        rest = 1.0 - (gt.cumsum(sq, axis=1) - sq)  # 1 - sum_{k<j} L[i, k]^2
        z = chol / gt.sqrt(gt.where(rest > 0, rest, 1.0))
        return gt.arctanh(self._pick(z, self.lower))  # type: ignore[no-any-return]

    def log_jac_det(self, y: Any) -> Variable:
        y = gt.cast(gt.as_tensor(y), "float64")
        c = gt.constant((self.n - self.lower[1]) / 2.0)
        return gt.sum(c * self._log1m_tanh2(y), axis=-1)  # type: ignore[no-any-return]

    def __repr__(self) -> str:
        return f"CholeskyCorr({self.n})"


class LKJCorr(Distribution):
    """``LKJCorr(name, n, eta, return_matrix=False)``: correlation matrices with density
    proportional to ``det(R)^(eta - 1)`` (``eta = 1``: uniform; larger ``eta`` favours the
    identity). The variable is the vector of the ``n (n - 1) / 2`` entries above the diagonal,
    row by row; ``return_matrix=True`` returns the ``n x n`` matrix built from it instead (the
    named variable stays the vector, as in PyMC). One matrix (no batch dimensions): ``n`` is a
    number, ``eta`` a scalar (a number or a graph).

    Examples
    --------
    >>> import numpy as np, scipy.stats as st, gnomon.ppl as pm
    >>> with pm.Model() as m:   # n = 2: (r + 1) / 2 ~ Beta(eta, eta)
    ...     r = pm.LKJCorr("r", n=2, eta=3.0, observed=np.array([0.4]))
    >>> lp = float(m.compile_logp(mode="numpy")({}))
    >>> bool(np.isclose(lp, st.beta(3.0, 3.0).logpdf(0.7) - np.log(2.0)))
    True
    """

    ndim_supp = 1

    def __new__(cls, name: Any, n: Any = None, eta: Any = None, *args: Any,
                return_matrix: bool = False, **kwargs: Any) -> Any:
        packed = super().__new__(cls, name, n, eta, *args, **kwargs)
        return corr_matrix(int(n), packed) if return_matrix else packed

    @classmethod
    def dist(cls, n: Any = None, eta: Any = None, *, return_matrix: bool = False,
             shape: Any = None, size: Any = None, rng: Any = None, **kw: Any) -> Variable:
        from gnomon.random.distributions import _draw

        _no_extra(cls, kw)
        if n is None or eta is None:
            raise GnomonValueError(_at(with_hint("LKJCorr: n and eta are required",
                                                 "pass LKJCorr('c', n=3, eta=2.0)")))
        n = int(n)
        if n < 2:
            raise GnomonValueError(_at(with_hint(
                f"LKJCorr: n={n}, but a correlation matrix needs n >= 2", "pass n >= 2")))
        m = n * (n - 1) // 2
        batch = shape[:-1] if shape is not None and len(tuple(shape)) > 1 else size
        if batch not in (None, ()) or (shape is not None and tuple(shape)[-1:] != (m,)):
            raise GnomonValueError(_at(with_hint(
                f"LKJCorr: gnomon.ppl makes one {n} x {n} matrix, of shape ({m},) (got "
                f"shape={shape}, size={size})", "leave shape/size out, or stack several "
                "LKJCorr variables")))
        e = _f(eta)
        if e.ndim:
            raise GnomonValueError(_at(with_hint(
                "LKJCorr: eta must be a scalar in gnomon.ppl (one matrix)", "pass one eta")))
        out = _draw(_LKJCorrRV(), _rng(rng), None, e, gt.constant(np.zeros(m)))
        _SUPPORT_POINTS[out] = gt.zeros((m,))
        _TRANSFORMS[out] = CholeskyCorr(n)
        return corr_matrix(n, out) if return_matrix else out
