"""``AR``: autoregressive processes with PyMC's signature.

``x[..., :p]`` follow ``init_dist``; for ``t >= p``,
``x[..., t] ~ Normal(c + sum_i rho[i] x[..., t - 1 - i], sigma)``. The random variable is a
private op of gnomon.ppl (:class:`_ARRV`) whose inputs are the coefficients, the noise scale
and a *draw* of ``init_dist`` (so the density can use that distribution, as
``LKJCholeskyCov``'s ``sd_dist``); its density is the closed form: the initial
distribution's log-density at the first ``p`` values plus the normal log-densities of the
innovations, summed over the time axis (registered in gnomon.logprob's table).

Examples
--------
>>> import numpy as np, scipy.stats as st, gnomon.ppl as pm
>>> with pm.Model() as m:
...     x = pm.AR("x", rho=[0.5], sigma=2.0, init_dist=pm.Normal.dist(0, 1),
...               observed=np.array([0.3, 1.0, -0.5]))
>>> lp = float(m.compile_logp(mode="numpy")({}))
>>> want = st.norm.logpdf(0.3) + st.norm(0.5 * np.array([0.3, 1.0]), 2.0).logpdf([1.0, -0.5]).sum()
>>> bool(np.isclose(lp, want))
True
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

import gnomon.tensor as gt
from gnomon.errors import GnomonValueError, with_hint
from gnomon.graph.basic import Variable
from gnomon.logprob.abstract import _logprob
from gnomon.ppl.distributions import (
    _SUPPORT_POINTS,
    _TRANSFORMS,
    Distribution,
    Normal,
    _as_shape,
    _base_dist,
    _f,
    _no_extra,
    _resize,
    _rng,
    _sigma,
)
from gnomon.ppl.model import _at
from gnomon.random.op import RandomVariable

__all__ = ["AR"]


@dataclass(frozen=True)
class _ARRV(RandomVariable):
    """An AR(p) path along the last axis (private to gnomon.ppl). Parameters: ``rho`` (``(...,
    p)``, lag 1 first), ``sigma``, ``const`` (the constant term, 0 without one), ``init``
    (``(..., p)``, a draw of the initial distribution) and ``support`` (zeros whose length is
    the number of time points)."""

    name: ClassVar[str] = "ar"
    ndim_supp: ClassVar[int] = 1
    ndims_params: ClassVar[tuple[int, ...]] = (1, 0, 0, 1, 1)
    param_names: ClassVar[tuple[str, ...]] = ("rho", "sigma", "const", "init", "support")
    #: the parameter whose length is the support's (for the Numba lowering)
    support_param: ClassVar[int] = 4

    #: the order p (static: the density slices the path at it)
    ar_order: int = 1

    def support_shape(self, param_shapes: Sequence[tuple[Any, ...]]) -> tuple[Any, ...]:
        return (param_shapes[4][-1],)

    def rng_fn(self, rng, rho, sigma, const, init, support, *,  # type: ignore[no-untyped-def,override]
               size):
        p, n = rho.shape[-1], support.shape[-1]
        batch = tuple(size) if size is not None else np.broadcast_shapes(
            rho.shape[:-1], np.shape(sigma), np.shape(const), init.shape[:-1])
        x = np.empty((*batch, n))
        x[..., :p] = np.broadcast_to(init, (*batch, p))
        rho_b = np.broadcast_to(rho, (*batch, p))
        for t in range(p, n):
            mu = np.broadcast_to(const, batch) + np.sum(
                rho_b * x[..., t - p:t][..., ::-1], axis=-1)
            x[..., t] = mu + np.broadcast_to(sigma, batch) * rng.standard_normal(batch)
        return x


@_logprob.register(_ARRV)
def _ar_logp(op: Any, value: Variable, rng: Variable, size: Variable, rho: Variable,
             sigma: Variable, const: Variable, init: Variable, support: Variable) -> Variable:
    from gnomon.logprob.check import check_parameters
    from gnomon.logprob.rewriting import measured_logp, rewrite_measurable

    p = op.ar_order
    n = support.type.shape[-1]
    lp_init = measured_logp(rewrite_measurable(init), value[..., :p])
    batch_nd = value.ndim - 1
    if lp_init.ndim > batch_nd:
        lp_init = gt.sum(lp_init, axis=tuple(range(batch_nd, lp_init.ndim)))
    mu: Any = gt.expand_dims(const, -1)
    for i in range(p):  # lag i + 1 reads value[..., p - 1 - i : n - 1 - i]
        mu = mu + gt.expand_dims(rho[..., i], -1) * value[..., p - 1 - i:n - 1 - i]
    s = gt.expand_dims(sigma, -1)
    z = (value[..., p:] - mu) / s
    lp_innov = gt.sum(-0.5 * z ** 2 - gt.log(s) - 0.5 * np.log(2 * np.pi), axis=-1)
    return check_parameters(lp_init + lp_innov, [(gt.gt(sigma, 0), "sigma > 0")], "ar")


class AR(Distribution):
    """``AR(name, rho, sigma=None, tau=None, constant=False, init_dist=None, ar_order=None,
    steps=None, shape=/dims=)``: an autoregressive process along the last axis.

    ``rho[..., i]`` multiplies lag ``i + 1`` (with ``constant=True``, ``rho[..., 0]`` is the
    constant term and the lags follow). ``ar_order`` defaults to the static length of
    ``rho``'s last axis (minus one with a constant); the number of time points is
    ``steps + ar_order``, from ``steps``, ``shape``, ``dims`` or ``observed``. ``init_dist``
    (an unnamed distribution, resized to ``(*batch, ar_order)``) defaults to
    ``Normal.dist(0, 100)`` with a warning, as in PyMC.

    Examples
    --------
    >>> import numpy as np, gnomon.ppl as pm
    >>> x = pm.AR.dist(rho=[0.9, -0.2], sigma=0.5, init_dist=pm.Normal.dist(0, 1), steps=5)
    >>> pm.draw(x, random_seed=1).shape
    (7,)
    """

    ndim_supp = 1

    @classmethod
    def dist(cls, rho: Any = None, sigma: Any = None, tau: Any = None, *, constant: bool = False,
             init_dist: Any = None, ar_order: int | None = None, steps: Any = None,
             shape: Any = None, size: Any = None, rng: Any = None, **kw: Any) -> Variable:
        _no_extra(cls, kw)
        if rho is None:
            raise GnomonValueError(_at(with_hint("AR: rho is required",
                                                 "pass rho=[...] (lag 1 first)")))
        if isinstance(rho, list | tuple) and any(isinstance(v, Variable) for v in rho):
            r = gt.stack([_f(v) for v in rho], axis=-1)  # rho=[r1, r2] of model variables
        else:
            r = _f(rho)
        if r.ndim == 0:
            r = gt.expand_dims(r, 0)
        k = r.type.shape[-1]
        if ar_order is None:
            if k is None:
                raise GnomonValueError(_at(with_hint(
                    "AR: the order cannot be inferred from rho (its last axis has no static "
                    "length)", "pass ar_order=")))
            ar_order = k - 1 if constant else k
        p = int(ar_order)
        if p < 1 or (k is not None and k != p + int(bool(constant))):
            raise GnomonValueError(_at(with_hint(
                f"AR: ar_order={p} does not match rho's last axis of length {k}"
                + (" (with constant=True it holds the constant first)" if constant else ""),
                "give rho one coefficient per lag (plus the constant first)")))
        c = r[..., 0] if constant else gt.constant(np.float64(0.0))
        lags = r[..., 1:] if constant else r
        s = _sigma("AR", sigma, tau)
        shp = _as_shape(shape)
        if shp is not None:
            if not shp:
                raise GnomonValueError(_at(with_hint(
                    "AR: shape must have a time dimension", "pass shape=(..., n_times)")))
            batch, n = tuple(shp[:-1]), shp[-1]
            if isinstance(n, Variable):
                n = int(np.asarray(n.eval(mode="numpy")))  # the time axis is static
            if steps is not None and int(steps) + p != n:
                raise GnomonValueError(_at(with_hint(
                    f"AR: steps={steps} and ar_order={p} give {int(steps) + p} time points, "
                    f"but shape={shp} has {n}", "steps is the number of time points minus "
                    "ar_order")))
        else:
            if steps is None:
                raise GnomonValueError(_at(with_hint(
                    "AR: the number of steps is unknown", "pass steps=, shape=, dims= or "
                    "observed=")))
            batch = tuple(_as_shape(size) or ())
            n = int(steps) + p
        if n <= p:
            raise GnomonValueError(_at(with_hint(
                f"AR: {n} time points leave no step after the {p} initial values",
                "use more time points")))
        if init_dist is None:
            warnings.warn("Initial distribution not specified, defaulting to "
                          f"`Normal.dist(0, 100, shape=(..., {p}))`. You can specify an "
                          "init_dist manually to suppress this warning.", UserWarning,
                          stacklevel=3)
            init_dist = Normal.dist(0.0, 100.0)
        init = _base_dist(init_dist, "AR")
        if tuple(init.type.shape) != (*batch, p):
            init = _resize(init, (*batch, p))
        from gnomon.random.distributions import _draw

        out = _draw(_ARRV(ar_order=p), _rng(rng), batch or None, lags, s, c, init,
                    gt.constant(np.zeros(n)))
        from gnomon.ppl.distributions import support_point

        rest = gt.zeros((*batch, n - p)) if batch else gt.zeros((n - p,))
        _SUPPORT_POINTS[out] = gt.concatenate(
            [gt.broadcast_to(support_point(init), (*batch, p)), rest], axis=-1)
        _TRANSFORMS[out] = None
        return out
