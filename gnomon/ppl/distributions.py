"""Distributions with PyMC's names, signatures and parametrizations.

``pm.Normal("mu", mu=0, sigma=1, shape=..., dims=..., observed=...)`` creates the random
variable with :mod:`gnomon.random` and registers it in the model of the ``with`` block;
``pm.Normal.dist(mu=0, sigma=1)`` only creates it. Densities come from
:mod:`gnomon.logprob` (a distribution that is an expression of a draw, like ``HalfStudentT =
|StudentT|`` or ``Weibull = beta * weibull(alpha)``, gets its density from the measurable
rewrites). Shapes follow PyMC: ``shape`` is the whole shape (support dimensions included),
``size`` the batch shape, ``dims`` names the dimensions, ``observed`` data fixes the shape
when neither is given.

Examples
--------
>>> import numpy as np, scipy.stats as st, gnomon.ppl as pm
>>> with pm.Model() as m:
...     x = pm.Gamma("x", mu=2.0, sigma=1.0)   # alpha = 4, beta = 2
>>> lp = m.compile_logp(jacobian=False, mode="numpy")({"x_log__": np.log(1.5)})
>>> bool(np.isclose(lp, st.gamma(4.0, scale=0.5).logpdf(1.5)))
True
"""

from __future__ import annotations

import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

import gnomon.random as gr
import gnomon.tensor as gt
from gnomon.compile.shared import shared as _shared
from gnomon.errors import GnomonTypeError, GnomonValueError, with_hint
from gnomon.graph.basic import Apply, Constant, Variable
from gnomon.graph.op import Op
from gnomon.logprob.abstract import _logcdf, _logprob, register_rv
from gnomon.logprob.transforms import Interval, Log
from gnomon.ppl.model import _TRANSFORMS, UNSET, _as_dims, _at, modelcontext
from gnomon.random.op import RandomVariable

__all__ = [
    "Bernoulli", "Beta", "BetaBinomial", "Binomial", "Categorical", "Cauchy", "ChiSquared",
    "Continuous", "Dirichlet", "DiscreteUniform", "Discrete", "Distribution", "Exponential",
    "Flat", "Gamma", "Geometric", "Gumbel", "HalfCauchy", "HalfFlat", "HalfNormal",
    "HalfStudentT", "HyperGeometric", "InverseGamma", "Laplace", "LogNormal", "Logistic",
    "MvNormal", "Multinomial", "NegativeBinomial", "Normal", "Pareto", "Poisson", "StudentT",
    "Triangular", "Uniform", "VonMises", "Wald", "Weibull", "support_point",
    "Censored", "CustomDist", "GaussianRandomWalk", "Mixture", "NormalMixture", "Truncated",
    "ZeroSumNormal", "LKJCholeskyCov", "expand_packed_triangular",
]

# central values of the variables the classes built (read by Model.initial_point)
_SUPPORT_POINTS: weakref.WeakKeyDictionary[Variable, Variable] = weakref.WeakKeyDictionary()


def _t(x: Any) -> Variable:
    if isinstance(x, Variable):
        return x
    arr = np.asarray(x)
    if arr.dtype.kind not in "biuf":
        raise GnomonTypeError(_at(with_hint(
            f"a distribution parameter must be numeric, got {x!r}",
            "pass numbers, NumPy arrays or tensors")))
    return gt.constant(arr)


def _f(x: Any) -> Variable:
    """``x`` as a float tensor (integer parameters of continuous distributions)."""
    v = _t(x)
    return v if v.dtype[0] == "f" else gt.cast(v, "float64")


def _one_of(cls: str, **given: Any) -> None:
    names = [k for k, v in given.items() if v is not None]
    if len(names) > 1:
        raise GnomonValueError(_at(with_hint(
            f"{cls}: pass only one of {', '.join(given)} (got {', '.join(names)})",
            f"choose one parametrization of {cls}")))


def _as_shape(shape: Any) -> tuple[Any, ...] | None:
    if shape is None:
        return None
    if isinstance(shape, int | np.integer):
        return (int(shape),)
    if isinstance(shape, Variable):
        if shape.ndim == 0:
            return (shape,)
        n = shape.type.shape[0]
        if n is None:
            raise GnomonValueError(_at(with_hint(
                "shape is a vector of unknown length", "pass a tuple of scalars")))
        return tuple(shape[i] for i in range(n))
    return tuple(int(s) if isinstance(s, int | np.integer) else s for s in shape)


def _rng(rng: Any) -> Any:
    if isinstance(rng, np.random.Generator):
        return _shared(rng)
    if isinstance(rng, int | np.integer):
        return _shared(np.random.default_rng(int(rng)))
    return rng


class Distribution:
    """Base of the distribution classes: ``Cls(name, *params, **options)`` registers a model
    variable, ``Cls.dist(*params, shape=/size=)`` returns an unnamed one."""

    #: support dimensions of one draw (1 for vectors: Dirichlet, MvNormal, Multinomial)
    ndim_supp: ClassVar[int] = 0
    #: the value transform this class uses (``UNSET``: gnomon.logprob's default for the op)
    transform: ClassVar[Any] = UNSET

    def __new__(cls, name: Any, *args: Any, rng: Any = None, dims: Any = None,
                initval: Any = None, observed: Any = None, total_size: Any = None,
                transform: Any = UNSET, default_transform: Any = UNSET, model: Any = None,
                shape: Any = None, size: Any = None, **kwargs: Any) -> Any:
        if not isinstance(name, str):
            raise GnomonTypeError(_at(with_hint(
                f"{cls.__name__}: the first argument must be the variable's name, got "
                f"{name!r}", f"write pm.{cls.__name__}('x', ...), or "
                f"pm.{cls.__name__}.dist(...) for an unnamed variable")))
        m = modelcontext(model)
        dims_t = _as_dims(dims)
        full = m.prefix + name
        if dims_t is not None and shape is None and size is None:
            shape = m.shape_from_dims(dims_t, f"{cls.__name__} {full!r}")
        if observed is not None and shape is None and size is None:
            shape = _observed_shape(observed)
        rv = cls.dist(*args, rng=rng, shape=shape, size=size, **kwargs)
        if dims_t is not None and len(dims_t) != rv.ndim:
            raise GnomonValueError(_at(with_hint(
                f"{cls.__name__} {full!r}: {len(dims_t)} dims {dims_t} for a variable with "
                f"{rv.ndim} dimension(s)", "give one dim name per dimension")))
        missing = _missing_mask(observed)
        if missing is not None and _can_impute(cls, rv):
            return _impute(m, rv, name, observed, missing, dims_t, total_size)
        return m.register_rv(rv, name, observed=observed, total_size=total_size, dims=dims_t,
                             transform=transform, default_transform=default_transform,
                             initval=initval)

    @classmethod
    def dist(cls, *args: Any, shape: Any = None, size: Any = None, rng: Any = None,
             **kwargs: Any) -> Variable:
        """An unnamed random variable of this distribution (not registered in a model)."""
        if "observed" in kwargs or "dims" in kwargs:
            raise GnomonTypeError(_at(with_hint(
                f"{cls.__name__}.dist takes no observed= or dims=",
                f"use pm.{cls.__name__}('name', ...) inside a model")))
        params = cls._params(*args, **kwargs)
        shp = _as_shape(shape)
        sz = _as_shape(size)
        if shp is not None and sz is not None:
            raise GnomonValueError(_at(with_hint(
                f"{cls.__name__}: pass shape= or size=, not both",
                "shape is the whole shape, size the batch shape (without support dims)")))
        if shp is not None:
            if len(shp) < cls.ndim_supp:
                raise GnomonValueError(_at(with_hint(
                    f"{cls.__name__}: shape={shp} has fewer dimensions than the "
                    f"{cls.ndim_supp} support dimension(s)",
                    "include the support dimensions in shape")))
            sz = shp[: len(shp) - cls.ndim_supp]
            if cls.ndim_supp and sz == ():
                sz = None  # the parameters' batch shape (none)
        rv = cls._make(params, sz, _rng(rng))
        if shp is not None and cls.ndim_supp:
            supp_given = shp[len(shp) - cls.ndim_supp:]
            for a, b in zip(supp_given, rv.type.shape[rv.ndim - cls.ndim_supp:], strict=True):
                if isinstance(a, int) and b is not None and a != b:
                    raise GnomonValueError(_at(with_hint(
                        f"{cls.__name__}: shape={shp} ends with {supp_given}, but the "
                        f"parameters give support shape {rv.type.shape[-cls.ndim_supp:]}",
                        "make shape end with the parameters' support shape")))
        if cls.transform is not UNSET:
            _TRANSFORMS[rv] = cls.transform() if callable(cls.transform) else cls.transform
        sp = cls._support_point(rv, *params)
        if sp is not None:
            _SUPPORT_POINTS[rv] = sp
        return rv

    # --- what each class defines ------------------------------------------------------------

    @classmethod
    def _params(cls, *args: Any, **kwargs: Any) -> list[Variable]:
        # Abstract hooks of the base class: every distribution class defines both; reaching
        # these means a subclass (a user's) forgot one.
        raise NotImplementedError(f"{cls.__name__} must define _params (its parametrization)")

    @classmethod
    def _make(cls, params: list[Variable], size: Any, rng: Any) -> Variable:
        raise NotImplementedError(f"{cls.__name__} must define _make (its random variable)")

    @classmethod
    def _support_point(cls, rv: Variable, *params: Variable) -> Variable | None:
        return None


class Continuous(Distribution):
    """Base of continuous distributions."""


class Discrete(Distribution):
    """Base of discrete distributions."""


def _observed_shape(observed: Any) -> tuple[Any, ...]:
    if isinstance(observed, Variable):
        if isinstance(observed, Constant):
            return tuple(np.shape(observed.data))
        st = observed.type.shape
        return tuple(s if s is not None else observed.shape[i] for i, s in enumerate(st))
    return tuple(np.shape(np.asarray(observed)))


def _bcast(x: Variable, rv: Variable) -> Variable:
    """``x`` broadcast to the shape of ``rv`` (without drawing ``rv``)."""
    x = gt.cast(x, rv.dtype) if x.dtype != rv.dtype else x
    if tuple(x.type.shape) == tuple(rv.type.shape) and None not in rv.type.shape:
        return x
    return gt.broadcast_to(x, rv.shape)


def _sigma(cls: str, sigma: Any, tau: Any, default: float | None = 1.0) -> Variable:
    _one_of(cls, sigma=sigma, tau=tau)
    if tau is not None:
        return 1.0 / gt.sqrt(_f(tau))
    if sigma is None:
        if default is None:
            raise GnomonTypeError(_at(with_hint(f"{cls}: sigma (or tau) is required",
                                                f"pass sigma=... to {cls}")))
        return _f(default)
    return _f(sigma)


def _need(cls: str, **given: Any) -> None:
    for k, v in given.items():
        if v is None:
            raise GnomonTypeError(_at(with_hint(f"{cls}: the parameter {k} is required",
                                                f"pass {k}=... to {cls}")))


def _simple(op: Any) -> Any:
    def make(cls: type, params: list[Variable], size: Any, rng: Any) -> Variable:
        return op(*params, size=size, rng=rng)  # type: ignore[no-any-return]
    return classmethod(make)


def _missing_mask(observed: Any) -> np.ndarray | None:
    """Where a constant ``observed`` array is missing (NaN or masked), or None."""
    if observed is None or isinstance(observed, Variable):
        return None
    if np.ma.isMaskedArray(observed):
        mask = np.ma.getmaskarray(observed)
        return mask if mask.any() else None
    arr = np.asarray(observed)
    if arr.dtype.kind != "f":
        return None
    mask = np.isnan(arr)
    return mask if mask.any() else None


def _can_impute(cls: type, rv: Variable) -> bool:
    node = rv.owner  # type: ignore[attr-defined]
    return (node is not None and isinstance(node.op, RandomVariable)
            and cls.ndim_supp == node.op.ndim_supp <= 1 and None not in rv.type.shape)


def _impute(m: Any, rv: Variable, name: str, observed: Any, missing: np.ndarray,
            dims: Any, total_size: Any) -> Variable:
    """PyMC's automatic imputation: ``name_observed`` (observed, the present entries),
    ``name_unobserved`` (free, the missing entries) and the Deterministic ``name`` holding
    both, from the same distribution with its parameters split entry by entry. For a vector
    distribution (``MvNormal``, ``Dirichlet``, ``Multinomial``) the entries are rows: a row is
    missing as a whole or not at all."""
    import warnings

    from gnomon.ppl.model import Deterministic
    from gnomon.random.distributions import _draw

    node = rv.owner
    op = node.op  # type: ignore[union-attr]
    shape = tuple(rv.type.shape)
    ns = op.ndim_supp
    data = np.ma.filled(observed.astype("float64"), np.nan) if np.ma.isMaskedArray(observed) else \
        np.asarray(observed)
    if data.shape != shape:
        data = np.broadcast_to(data, shape)
        missing = np.broadcast_to(missing, shape)
    batch, supp = shape[:len(shape) - ns], shape[len(shape) - ns:]
    rows = int(np.prod(batch, dtype=np.int64))
    row_missing = missing.reshape(rows, -1)
    if ns and np.any(row_missing.any(axis=1) & ~row_missing.all(axis=1)):
        k = int(np.sum(row_missing.any(axis=1) & ~row_missing.all(axis=1)))
        raise GnomonValueError(_at(with_hint(
            f"the observed data of {m.prefix + name!r} has {k} row(s) with some entries "
            f"missing and others present; gnomon.ppl imputes whole rows of a "
            f"{op.name} (each row is one draw), not parts of one",
            "drop the partly observed rows, or mark the whole row as missing")))
    flat_missing = row_missing.all(axis=1) if ns else row_missing[:, 0]
    io, im = np.flatnonzero(~flat_missing), np.flatnonzero(flat_missing)

    def rows_of(p: Variable, core: int) -> Variable:
        core_shape = tuple(p.shape[p.ndim - core + k] for k in range(core))
        full = gt.broadcast_to(p, (*batch, *core_shape))
        return gt.reshape(full, (rows, *core_shape))

    params = [rows_of(p, c) for p, c in zip(node.inputs[2:], op.ndims_params,  # type: ignore
                                              strict=True)]
    rv_mis = _draw(op, None, None, *[p[im] for p in params])
    rv_obs = _draw(op, None, None, *[p[io] for p in params])
    if rv in _SUPPORT_POINTS:
        _SUPPORT_POINTS[rv_mis] = gt.reshape(_SUPPORT_POINTS[rv], (rows, *supp))[im]
    if rv in _TRANSFORMS:
        _TRANSFORMS[rv_mis] = _TRANSFORMS.pop(rv)
    warnings.warn(f"Data in {m.prefix + name} contains missing values and will be "
                  "automatically imputed from the sampling distribution.", UserWarning,
                  stacklevel=3)
    m.register_rv(rv_mis, f"{name}_unobserved")
    present = data.reshape(rows, *supp)[io]
    m.register_rv(rv_obs, f"{name}_observed", observed=present, total_size=total_size)
    full = gt.zeros((rows, *supp), dtype=rv.dtype)
    full = gt.set_subtensor(full[io], gt.constant(present.astype(rv.dtype)))
    full = gt.set_subtensor(full[im], rv_mis)
    return Deterministic(name, gt.reshape(full, shape), model=m, dims=dims)


# --- continuous ----------------------------------------------------------------------------------


class Normal(Continuous):
    """``Normal(name, mu=0, sigma=1 | tau=...)``."""

    @classmethod
    def _params(cls, mu: Any = 0.0, sigma: Any = None, tau: Any = None, **kw: Any) -> list:
        _no_extra(cls, kw)
        return [_f(mu), _sigma("Normal", sigma, tau)]

    _make = _simple(gr.normal)

    @classmethod
    def _support_point(cls, rv: Variable, mu: Variable, sigma: Variable) -> Variable:
        return _bcast(mu, rv)


class HalfNormal(Continuous):
    """``HalfNormal(name, sigma=1 | tau=...)`` on ``[0, inf)``."""

    transform = Log

    @classmethod
    def _params(cls, sigma: Any = None, tau: Any = None, **kw: Any) -> list:
        _no_extra(cls, kw)
        return [_sigma("HalfNormal", sigma, tau)]

    @classmethod
    def _make(cls, params: list, size: Any, rng: Any) -> Variable:
        return gr.halfnormal(0.0, params[0], size=size, rng=rng)

    @classmethod
    def _support_point(cls, rv: Variable, sigma: Variable) -> Variable:
        return _bcast(sigma, rv)


class LogNormal(Continuous):
    """``LogNormal(name, mu=0, sigma=1 | tau=...)`` (parameters of the log)."""

    @classmethod
    def _params(cls, mu: Any = 0.0, sigma: Any = None, tau: Any = None, **kw: Any) -> list:
        _no_extra(cls, kw)
        return [_f(mu), _sigma("LogNormal", sigma, tau)]

    _make = _simple(gr.lognormal)

    @classmethod
    def _support_point(cls, rv: Variable, mu: Variable, sigma: Variable) -> Variable:
        return _bcast(gt.exp(mu + sigma ** 2 / 2), rv)


class Uniform(Continuous):
    """``Uniform(name, lower=0, upper=1)``."""

    @classmethod
    def _params(cls, lower: Any = 0.0, upper: Any = 1.0, **kw: Any) -> list:
        _no_extra(cls, kw)
        return [_f(lower), _f(upper)]

    _make = _simple(gr.uniform)

    @classmethod
    def _support_point(cls, rv: Variable, lo: Variable, hi: Variable) -> Variable:
        return _bcast((lo + hi) / 2, rv)


class Flat(Continuous):
    """``Flat(name)``: the improper uniform density on the real line (log-density 0).

    It has no random draws: prior predictive sampling of a ``Flat`` variable raises."""

    @classmethod
    def _params(cls, **kw: Any) -> list:
        _no_extra(cls, kw)
        return []

    @classmethod
    def _make(cls, params: list, size: Any, rng: Any) -> Variable:
        return _flat_op(_FlatRV(), size, rng)

    @classmethod
    def _support_point(cls, rv: Variable) -> Variable:
        return _bcast(gt.constant(np.float64(0.0)), rv)


class HalfFlat(Continuous):
    """``HalfFlat(name)``: the improper uniform density on ``(0, inf)``."""

    transform = Log

    @classmethod
    def _params(cls, **kw: Any) -> list:
        _no_extra(cls, kw)
        return []

    @classmethod
    def _make(cls, params: list, size: Any, rng: Any) -> Variable:
        return _flat_op(_HalfFlatRV(), size, rng)

    @classmethod
    def _support_point(cls, rv: Variable) -> Variable:
        return _bcast(gt.constant(np.float64(1.0)), rv)


class Beta(Continuous):
    """``Beta(name, alpha, beta)``, or by ``mu`` and ``sigma`` (or ``mu`` and ``nu``)."""

    @classmethod
    def _params(cls, alpha: Any = None, beta: Any = None, mu: Any = None, sigma: Any = None,
                nu: Any = None, **kw: Any) -> list:
        _no_extra(cls, kw)
        if alpha is not None or beta is not None:
            _need("Beta", alpha=alpha, beta=beta)
            _one_of("Beta", alpha=alpha, mu=mu)
            return [_f(alpha), _f(beta)]
        _need("Beta", mu=mu)
        _one_of("Beta", sigma=sigma, nu=nu)
        if nu is not None:
            m, n = _f(mu), _f(nu)
            return [m * n, (1 - m) * n]
        _need("Beta", sigma=sigma)
        m, s = _f(mu), _f(sigma)
        kappa = m * (1 - m) / s ** 2 - 1
        return [m * kappa, (1 - m) * kappa]

    _make = _simple(gr.beta)

    @classmethod
    def _support_point(cls, rv: Variable, a: Variable, b: Variable) -> Variable:
        return _bcast(a / (a + b), rv)


class Gamma(Continuous):
    """``Gamma(name, alpha, beta)`` (shape, rate), or by ``mu`` and ``sigma``."""

    @classmethod
    def _params(cls, alpha: Any = None, beta: Any = None, mu: Any = None, sigma: Any = None,
                **kw: Any) -> list:
        _no_extra(cls, kw)
        if alpha is not None or beta is not None:
            _need("Gamma", alpha=alpha, beta=beta)
            _one_of("Gamma", alpha=alpha, mu=mu)
            return [_f(alpha), 1.0 / _f(beta)]
        _need("Gamma", mu=mu, sigma=sigma)
        m, s = _f(mu), _f(sigma)
        return [m ** 2 / s ** 2, s ** 2 / m]

    @classmethod
    def _make(cls, params: list, size: Any, rng: Any) -> Variable:
        return gr.gamma(params[0], params[1], size=size, rng=rng)

    @classmethod
    def _support_point(cls, rv: Variable, shape: Variable, scale: Variable) -> Variable:
        return _bcast(shape * scale, rv)


class InverseGamma(Continuous):
    """``InverseGamma(name, alpha, beta=1)``, or by ``mu`` and ``sigma``."""

    @classmethod
    def _params(cls, alpha: Any = None, beta: Any = None, mu: Any = None, sigma: Any = None,
                **kw: Any) -> list:
        _no_extra(cls, kw)
        if alpha is not None:
            _one_of("InverseGamma", alpha=alpha, mu=mu)
            return [_f(alpha), _f(1.0 if beta is None else beta)]
        _need("InverseGamma", mu=mu, sigma=sigma)
        m, s = _f(mu), _f(sigma)
        a = m ** 2 / s ** 2 + 2
        return [a, m * (a - 1)]

    _make = _simple(gr.invgamma)

    @classmethod
    def _support_point(cls, rv: Variable, a: Variable, b: Variable) -> Variable:
        return _bcast(gt.switch(a > 1, b / (a - 1), b / (a + 1)), rv)


class Exponential(Continuous):
    """``Exponential(name, lam)`` (rate) or ``Exponential(name, scale=...)``."""

    @classmethod
    def _params(cls, lam: Any = None, *, scale: Any = None, **kw: Any) -> list:
        _no_extra(cls, kw)
        _one_of("Exponential", lam=lam, scale=scale)
        if scale is not None:
            return [_f(scale)]
        _need("Exponential", lam=lam)
        return [1.0 / _f(lam)]

    _make = _simple(gr.exponential)

    @classmethod
    def _support_point(cls, rv: Variable, scale: Variable) -> Variable:
        return _bcast(scale, rv)


class StudentT(Continuous):
    """``StudentT(name, nu, mu=0, sigma=1 | lam=...)``."""

    @classmethod
    def _params(cls, nu: Any = None, mu: Any = 0.0, sigma: Any = None, lam: Any = None,
                **kw: Any) -> list:
        _no_extra(cls, kw)
        _need("StudentT", nu=nu)
        return [_f(nu), _f(mu), _sigma("StudentT", sigma, lam)]

    _make = _simple(gr.t)

    @classmethod
    def _support_point(cls, rv: Variable, nu: Variable, mu: Variable, s: Variable) -> Variable:
        return _bcast(mu, rv)


class HalfStudentT(Continuous):
    """``HalfStudentT(name, nu=1, sigma=1 | lam=...)``: ``|StudentT(nu, 0, sigma)|`` (its
    density is derived by the fold rewrite of gnomon.logprob)."""

    transform = Log

    @classmethod
    def _params(cls, nu: Any = 1.0, sigma: Any = None, lam: Any = None, **kw: Any) -> list:
        _no_extra(cls, kw)
        return [_f(nu), _sigma("HalfStudentT", sigma, lam)]

    @classmethod
    def _make(cls, params: list, size: Any, rng: Any) -> Variable:
        return gt.abs(gr.t(params[0], 0.0, params[1], size=size, rng=rng))

    @classmethod
    def _support_point(cls, rv: Variable, nu: Variable, s: Variable) -> Variable:
        return _bcast(s, rv)


class Cauchy(Continuous):
    """``Cauchy(name, alpha, beta)`` (location, scale)."""

    @classmethod
    def _params(cls, alpha: Any = None, beta: Any = None, **kw: Any) -> list:
        _no_extra(cls, kw)
        _need("Cauchy", alpha=alpha, beta=beta)
        return [_f(alpha), _f(beta)]

    _make = _simple(gr.cauchy)

    @classmethod
    def _support_point(cls, rv: Variable, a: Variable, b: Variable) -> Variable:
        return _bcast(a, rv)


class HalfCauchy(Continuous):
    """``HalfCauchy(name, beta)`` on ``[0, inf)``."""

    transform = Log

    @classmethod
    def _params(cls, beta: Any = None, **kw: Any) -> list:
        _no_extra(cls, kw)
        _need("HalfCauchy", beta=beta)
        return [_f(beta)]

    @classmethod
    def _make(cls, params: list, size: Any, rng: Any) -> Variable:
        return gr.halfcauchy(0.0, params[0], size=size, rng=rng)

    @classmethod
    def _support_point(cls, rv: Variable, b: Variable) -> Variable:
        return _bcast(b, rv)


class Laplace(Continuous):
    """``Laplace(name, mu, b)``."""

    @classmethod
    def _params(cls, mu: Any = None, b: Any = None, **kw: Any) -> list:
        _no_extra(cls, kw)
        _need("Laplace", mu=mu, b=b)
        return [_f(mu), _f(b)]

    _make = _simple(gr.laplace)

    @classmethod
    def _support_point(cls, rv: Variable, mu: Variable, b: Variable) -> Variable:
        return _bcast(mu, rv)


class Logistic(Continuous):
    """``Logistic(name, mu=0, s=1)``."""

    @classmethod
    def _params(cls, mu: Any = 0.0, s: Any = 1.0, **kw: Any) -> list:
        _no_extra(cls, kw)
        return [_f(mu), _f(s)]

    _make = _simple(gr.logistic)

    @classmethod
    def _support_point(cls, rv: Variable, mu: Variable, s: Variable) -> Variable:
        return _bcast(mu, rv)


class Gumbel(Continuous):
    """``Gumbel(name, mu, beta)``."""

    @classmethod
    def _params(cls, mu: Any = None, beta: Any = None, **kw: Any) -> list:
        _no_extra(cls, kw)
        _need("Gumbel", mu=mu, beta=beta)
        return [_f(mu), _f(beta)]

    _make = _simple(gr.gumbel)

    @classmethod
    def _support_point(cls, rv: Variable, mu: Variable, b: Variable) -> Variable:
        return _bcast(mu + b * np.euler_gamma, rv)


class Weibull(Continuous):
    """``Weibull(name, alpha, beta)`` (shape, scale): ``beta * weibull(alpha)``."""

    transform = Log

    @classmethod
    def _params(cls, alpha: Any = None, beta: Any = None, **kw: Any) -> list:
        _no_extra(cls, kw)
        _need("Weibull", alpha=alpha, beta=beta)
        return [_f(alpha), _f(beta)]

    @classmethod
    def _make(cls, params: list, size: Any, rng: Any) -> Variable:
        return params[1] * gr.weibull(params[0], size=size, rng=rng)

    @classmethod
    def _support_point(cls, rv: Variable, a: Variable, b: Variable) -> Variable:
        return _bcast(b * gt.exp(gt.gammaln(1 + 1 / a)), rv)


class Pareto(Continuous):
    """``Pareto(name, alpha, m)`` on ``[m, inf)``."""

    @classmethod
    def _params(cls, alpha: Any = None, m: Any = None, **kw: Any) -> list:
        _no_extra(cls, kw)
        _need("Pareto", alpha=alpha, m=m)
        return [_f(alpha), _f(m)]

    _make = _simple(gr.pareto)

    @classmethod
    def _support_point(cls, rv: Variable, a: Variable, m: Variable) -> Variable:
        return _bcast(m * 2.0 ** (1 / a), rv)


class Wald(Continuous):
    """``Wald(name, mu, lam)`` (the inverse Gaussian; ``phi=`` and ``alpha=`` are not
    supported)."""

    @classmethod
    def _params(cls, mu: Any = None, lam: Any = None, phi: Any = None, alpha: Any = 0.0,
                **kw: Any) -> list:
        _no_extra(cls, kw)
        if phi is not None:
            _need("Wald", mu=mu)
            lam = _f(mu) * _f(phi)
        _need("Wald", mu=mu, lam=lam)
        if not (isinstance(alpha, int | float) and alpha == 0):
            raise GnomonValueError(_at(with_hint(
                "Wald: a shift alpha != 0 is not supported in gnomon.ppl",
                "add the shift yourself: alpha + pm.Wald.dist(mu, lam) in a CustomDist")))
        return [_f(mu), _f(lam)]

    _make = _simple(gr.wald)

    @classmethod
    def _support_point(cls, rv: Variable, mu: Variable, lam: Variable) -> Variable:
        return _bcast(mu, rv)


class VonMises(Continuous):
    """``VonMises(name, mu=0, kappa=1)`` on ``[-pi, pi]``."""

    @classmethod
    def _params(cls, mu: Any = 0.0, kappa: Any = 1.0, **kw: Any) -> list:
        _no_extra(cls, kw)
        return [_f(mu), _f(kappa)]

    _make = _simple(gr.vonmises)

    @classmethod
    def _support_point(cls, rv: Variable, mu: Variable, k: Variable) -> Variable:
        return _bcast(mu, rv)


class Triangular(Continuous):
    """``Triangular(name, lower=0, c=0.5, upper=1)``."""

    @classmethod
    def _params(cls, lower: Any = 0.0, c: Any = 0.5, upper: Any = 1.0, **kw: Any) -> list:
        _no_extra(cls, kw)
        return [_f(lower), _f(c), _f(upper)]

    _make = _simple(gr.triangular)

    @classmethod
    def _support_point(cls, rv: Variable, lo: Variable, c: Variable, hi: Variable) -> Variable:
        return _bcast((lo + c + hi) / 3, rv)


class ChiSquared(Continuous):
    """``ChiSquared(name, nu)``."""

    @classmethod
    def _params(cls, nu: Any = None, **kw: Any) -> list:
        _no_extra(cls, kw)
        _need("ChiSquared", nu=nu)
        return [_f(nu)]

    _make = _simple(gr.chisquare)

    @classmethod
    def _support_point(cls, rv: Variable, nu: Variable) -> Variable:
        return _bcast(nu, rv)


# --- discrete ------------------------------------------------------------------------------------


def _p_or_logit(cls: str, p: Any, logit_p: Any) -> Variable:
    _one_of(cls, p=p, logit_p=logit_p)
    if logit_p is not None:
        return gt.sigmoid(_f(logit_p))
    _need(cls, p=p)
    return _f(p)


class Bernoulli(Discrete):
    """``Bernoulli(name, p | logit_p=...)``."""

    @classmethod
    def _params(cls, p: Any = None, logit_p: Any = None, **kw: Any) -> list:
        _no_extra(cls, kw)
        return [_p_or_logit("Bernoulli", p, logit_p)]

    _make = _simple(gr.bernoulli)

    @classmethod
    def _support_point(cls, rv: Variable, p: Variable) -> Variable:
        return _bcast(gt.cast(p >= 0.5, "int64"), rv)


class Binomial(Discrete):
    """``Binomial(name, n, p | logit_p=...)``."""

    @classmethod
    def _params(cls, n: Any = None, p: Any = None, logit_p: Any = None, **kw: Any) -> list:
        _no_extra(cls, kw)
        _need("Binomial", n=n)
        return [_t(n), _p_or_logit("Binomial", p, logit_p)]

    _make = _simple(gr.binomial)

    @classmethod
    def _support_point(cls, rv: Variable, n: Variable, p: Variable) -> Variable:
        return _bcast(gt.cast(gt.floor(n * p), "int64"), rv)


class BetaBinomial(Discrete):
    """``BetaBinomial(name, alpha, beta, n)``."""

    @classmethod
    def _params(cls, alpha: Any = None, beta: Any = None, n: Any = None, **kw: Any) -> list:
        _no_extra(cls, kw)
        _need("BetaBinomial", alpha=alpha, beta=beta, n=n)
        return [_t(n), _f(alpha), _f(beta)]

    _make = _simple(gr.betabinomial)

    @classmethod
    def _support_point(cls, rv: Variable, n: Variable, a: Variable, b: Variable) -> Variable:
        return _bcast(gt.cast(gt.floor(n * a / (a + b)), "int64"), rv)


class Poisson(Discrete):
    """``Poisson(name, mu)``."""

    @classmethod
    def _params(cls, mu: Any = None, **kw: Any) -> list:
        _no_extra(cls, kw)
        _need("Poisson", mu=mu)
        return [_f(mu)]

    _make = _simple(gr.poisson)

    @classmethod
    def _support_point(cls, rv: Variable, mu: Variable) -> Variable:
        return _bcast(gt.cast(gt.floor(mu), "int64"), rv)


class NegativeBinomial(Discrete):
    """``NegativeBinomial(name, mu, alpha)``, or ``(n=..., p=...)`` (failures before the
    ``n``-th success)."""

    @classmethod
    def _params(cls, mu: Any = None, alpha: Any = None, p: Any = None, n: Any = None,
                **kw: Any) -> list:
        _no_extra(cls, kw)
        if n is not None or p is not None:
            _one_of("NegativeBinomial", mu=mu, p=p)
            _need("NegativeBinomial", n=n, p=p)
            return [_f(n), _f(p)]
        _need("NegativeBinomial", mu=mu, alpha=alpha)
        m, a = _f(mu), _f(alpha)
        return [a, a / (m + a)]

    _make = _simple(gr.negative_binomial)

    @classmethod
    def _support_point(cls, rv: Variable, n: Variable, p: Variable) -> Variable:
        return _bcast(gt.cast(gt.floor(n * (1 - p) / p), "int64"), rv)


class Geometric(Discrete):
    """``Geometric(name, p)``: trials up to the first success (from 1)."""

    @classmethod
    def _params(cls, p: Any = None, **kw: Any) -> list:
        _no_extra(cls, kw)
        _need("Geometric", p=p)
        return [_f(p)]

    _make = _simple(gr.geometric)

    @classmethod
    def _support_point(cls, rv: Variable, p: Variable) -> Variable:
        return _bcast(gt.cast(gt.round(1 / p), "int64"), rv)


class HyperGeometric(Discrete):
    """``HyperGeometric(name, N, k, n)``: successes in ``n`` draws without replacement from
    ``N`` items of which ``k`` are successes."""

    @classmethod
    def _params(cls, N: Any = None, k: Any = None, n: Any = None, **kw: Any) -> list:
        _no_extra(cls, kw)
        _need("HyperGeometric", N=N, k=k, n=n)
        N_, k_ = _t(N), _t(k)
        return [k_, N_ - k_, _t(n)]

    _make = _simple(gr.hypergeometric)

    @classmethod
    def _support_point(cls, rv: Variable, good: Variable, bad: Variable, n: Variable
                       ) -> Variable:
        return _bcast(gt.cast(gt.floor(n * good / (good + bad)), "int64"), rv)


class DiscreteUniform(Discrete):
    """``DiscreteUniform(name, lower, upper)`` (both included)."""

    @classmethod
    def _params(cls, lower: Any = None, upper: Any = None, **kw: Any) -> list:
        _no_extra(cls, kw)
        _need("DiscreteUniform", lower=lower, upper=upper)
        return [_t(lower), _t(upper)]

    @classmethod
    def _make(cls, params: list, size: Any, rng: Any) -> Variable:
        lo, hi = params
        lo = gt.cast(lo, "int64") if lo.dtype[0] != "i" else lo
        hi = gt.cast(hi, "int64") if hi.dtype[0] != "i" else hi
        return gr.integers(lo, hi + 1, size=size, rng=rng)

    @classmethod
    def _support_point(cls, rv: Variable, lo: Variable, hi: Variable) -> Variable:
        return _bcast(gt.cast(gt.floor((lo + hi) / 2), "int64"), rv)


class Categorical(Discrete):
    """``Categorical(name, p | logit_p=...)`` over ``0, ..., k-1`` (``p`` is normalized)."""

    @classmethod
    def _params(cls, p: Any = None, logit_p: Any = None, **kw: Any) -> list:
        _no_extra(cls, kw)
        _one_of("Categorical", p=p, logit_p=logit_p)
        if logit_p is not None:
            return [gt.softmax(_f(logit_p), axis=-1)]
        _need("Categorical", p=p)
        pv = _f(p)
        return [pv / gt.sum(pv, axis=-1, keepdims=True)]

    _make = _simple(gr.categorical)

    @classmethod
    def _support_point(cls, rv: Variable, p: Variable) -> Variable:
        return _bcast(gt.argmax(p, axis=-1), rv)


# --- multivariate --------------------------------------------------------------------------------


class Dirichlet(Continuous):
    """``Dirichlet(name, a)`` on the simplex (``a`` of shape ``(..., k)``)."""

    ndim_supp = 1
    transform = staticmethod(lambda: _centered_simplex())

    @classmethod
    def _params(cls, a: Any = None, **kw: Any) -> list:
        _no_extra(cls, kw)
        _need("Dirichlet", a=a)
        return [_f(a)]

    _make = _simple(gr.dirichlet)

    @classmethod
    def _support_point(cls, rv: Variable, a: Variable) -> Variable:
        return _bcast(a / gt.sum(a, axis=-1, keepdims=True), rv)


class Multinomial(Discrete):
    """``Multinomial(name, n, p)`` (``p`` of shape ``(..., k)``, normalized)."""

    ndim_supp = 1

    @classmethod
    def _params(cls, n: Any = None, p: Any = None, **kw: Any) -> list:
        _no_extra(cls, kw)
        _need("Multinomial", n=n, p=p)
        pv = _f(p)
        return [_t(n), pv / gt.sum(pv, axis=-1, keepdims=True)]

    _make = _simple(gr.multinomial)

    @classmethod
    def _support_point(cls, rv: Variable, n: Variable, p: Variable) -> Variable:
        nn = gt.expand_dims(n, -1) if n.ndim else n
        base = gt.cast(gt.floor(nn * p), "int64")
        short = gt.cast(nn, "int64") - gt.sum(base, axis=-1, keepdims=True)
        k = p.shape[-1]
        first = gt.eq(gt.arange(k), 0)
        return _bcast(base + gt.cast(first, "int64") * short, rv)


class MvNormal(Continuous):
    """``MvNormal(name, mu, cov=... | chol=... | tau=...)`` (``mu`` of shape ``(..., k)``)."""

    ndim_supp = 1

    @classmethod
    def _params(cls, mu: Any = None, cov: Any = None, tau: Any = None, chol: Any = None,
                lower: bool = True, **kw: Any) -> list:
        _no_extra(cls, kw)
        _one_of("MvNormal", cov=cov, tau=tau, chol=chol)
        if cov is not None:
            c = _f(cov)
        elif chol is not None:
            L = _f(chol)
            if not lower:
                L = gt.swapaxes(L, -1, -2)
            c = L @ gt.swapaxes(L, -1, -2)
        elif tau is not None:
            c = gt.linalg.inv(_f(tau)) if hasattr(gt, "linalg") else gt.inv(_f(tau))
        else:
            raise GnomonTypeError(_at(with_hint("MvNormal: one of cov, chol or tau is required",
                                                "pass cov=...")))
        m = _f(0.0 if mu is None else mu)
        if m.ndim == 0:
            m = gt.broadcast_to(m, (c.shape[-1],)) if c.type.shape[-1] is None else \
                gt.broadcast_to(m, (c.type.shape[-1],))
        return [m, c]

    _make = _simple(gr.multivariate_normal)

    @classmethod
    def _support_point(cls, rv: Variable, mu: Variable, cov: Variable) -> Variable:
        return _bcast(mu, rv)


def _no_extra(cls: type, kw: dict[str, Any]) -> None:
    if kw:
        raise GnomonTypeError(_at(with_hint(
            f"{cls.__name__} got unexpected argument(s) {', '.join(sorted(kw))}",
            f"see help(pm.{cls.__name__}) for its parameters")))


# --- Flat: no draws, constant density ------------------------------------------------------------


@dataclass(frozen=True)
class _FlatRV(RandomVariable):
    """The improper flat distribution (private to gnomon.ppl: it has no draws)."""

    name: ClassVar[str] = "flat"
    ndims_params: ClassVar[tuple[int, ...]] = ()
    param_names: ClassVar[tuple[str, ...]] = ()

    def rng_fn(self, rng, *, size):  # type: ignore[no-untyped-def,override]
        raise GnomonValueError(with_hint(
            f"cannot draw from a {self.name} variable: its density is improper",
            "give the variable a proper prior, or leave it out of the variables to draw"))


@dataclass(frozen=True)
class _HalfFlatRV(_FlatRV):
    name: ClassVar[str] = "halfflat"


def _flat_op(op: RandomVariable, size: Any, rng: Any) -> Variable:
    from gnomon.random.distributions import _draw

    return _draw(op, rng, size)


@register_rv(_logprob, _FlatRV)
def _flat_logp(op: Any, value: Variable) -> Variable:
    return gt.zeros_like(value, dtype="float64") if value.dtype != "float64" else value * 0.0


@register_rv(_logprob, _HalfFlatRV)
def _halfflat_logp(op: Any, value: Variable) -> Variable:
    return gt.switch(value > 0, 0.0, -np.inf)


# --- support points ------------------------------------------------------------------------------


def support_point(rv: Variable) -> Variable:
    """A central value of ``rv`` (mean, median or mode) as a graph of its parameters, used for
    initial points: the class's own choice, else the median (``icdf(rv, 0.5)``) for
    scalar-support distributions, else zeros.

    Examples
    --------
    >>> import gnomon.ppl as pm
    >>> float(support_point(pm.Gamma.dist(alpha=3.0, beta=2.0)).eval(mode="numpy"))
    1.5
    """
    if rv in _SUPPORT_POINTS:
        return _SUPPORT_POINTS[rv]
    from gnomon.logprob import icdf

    try:
        q = gt.constant(np.full((1,) * rv.ndim, 0.5)) if rv.ndim else gt.constant(0.5)
        med = icdf(rv, q)
        if rv.dtype[0] in "iu":
            med = gt.cast(med, rv.dtype)
        return _bcast(med, rv)
    except Exception:
        return _bcast(gt.constant(np.zeros((), dtype=rv.dtype)), rv)



def _centered_simplex() -> Any:
    from gnomon.ppl.transforms import CenteredSimplex

    return CenteredSimplex()


# --- derived distributions -----------------------------------------------------------------------


def _resize(rv: Variable, size: Any) -> Variable:
    """``rv`` drawn with batch shape ``size`` (the random variable nearest to ``rv`` in its
    graph is rebuilt with the new size; an expression of it follows)."""
    from gnomon.graph.replace import graph_replace
    from gnomon.random.op import as_size

    node = _nearest_rv_node(rv)
    if node is None:
        raise GnomonValueError(_at(with_hint(
            f"cannot resize {rv}: it is not built from a random variable",
            "pass a distribution made with .dist(...)")))
    op = node.op
    rng = node.inputs[0]
    new_next, new_draw = op(rng, as_size(size), *node.inputs[2:])
    if getattr(rng, "default_update", None) is node.outputs[0]:
        rng.default_update = new_next
    old_sp = _SUPPORT_POINTS.get(node.outputs[1])
    out = new_draw if node.outputs[1] is rv else graph_replace(
        [rv], {node.outputs[1]: new_draw}, strict=False)[0]
    if old_sp is not None:
        _SUPPORT_POINTS[out] = gt.broadcast_to(old_sp, out.shape) if out is new_draw else \
            _bcast(graph_replace([old_sp], {node.outputs[1]: new_draw}, strict=False)[0], out)
    if rv in _TRANSFORMS:
        _TRANSFORMS[out] = _TRANSFORMS[rv]
    return out


def _nearest_rv_node(v: Variable) -> Any:
    todo, seen = [v], set()
    while todo:
        x = todo.pop(0)
        if x.owner is None or id(x) in seen:
            continue
        seen.add(id(x))
        if isinstance(x.owner.op, RandomVariable):
            return x.owner
        todo.extend(x.owner.inputs)
    return None


def _base_dist(dist: Any, cls: str) -> Variable:
    if not isinstance(dist, Variable) or _nearest_rv_node(dist) is None:
        raise GnomonTypeError(_at(with_hint(
            f"{cls}: dist must be an unnamed distribution, got {dist!r}",
            f"pass pm.Normal.dist(...) (not a named variable) to {cls}")))
    return dist


class Censored(Distribution):
    """``Censored(name, dist, lower, upper)``: values of ``dist`` below ``lower`` are recorded
    as ``lower`` (above ``upper``: as ``upper``); ``None`` for no bound. The density comes from
    gnomon.logprob's censoring rewrite (a point mass at each bound, the cdf's tail).

    Examples
    --------
    >>> import numpy as np, scipy.stats as st, gnomon.ppl as pm
    >>> with pm.Model() as m:
    ...     y = pm.Censored("y", pm.Normal.dist(0.0, 1.0), lower=-1.0, upper=1.0,
    ...                     observed=np.array([1.0, 0.5]))
    >>> lp = float(m.compile_logp(mode="numpy")({}))
    >>> bool(np.isclose(lp, st.norm.logsf(1.0) + st.norm.logpdf(0.5)))
    True
    """

    @classmethod
    def dist(cls, dist: Any = None, lower: Any = None, upper: Any = None, *, shape: Any = None,
             size: Any = None, rng: Any = None, **kw: Any) -> Variable:
        _no_extra(cls, kw)
        base = _base_dist(dist, "Censored")
        shp = _as_shape(shape) if shape is not None else _as_shape(size)
        if shp is not None and tuple(shp) != tuple(base.type.shape):
            base = _resize(base, shp)
        lo = None if lower is None else _f(lower)
        hi = None if upper is None else _f(upper)
        if lo is not None and hi is not None:
            out = gt.clip(base, lo, hi)
        elif lo is not None:
            out = gt.maximum(base, lo)
        elif hi is not None:
            out = gt.minimum(base, hi)
        else:
            out = base
        sp = support_point(base)
        if lo is not None:
            sp = gt.maximum(sp, lo)
        if hi is not None:
            sp = gt.minimum(sp, hi)
        _SUPPORT_POINTS[out] = _bcast(sp, out)
        _TRANSFORMS[out] = None
        return out


class Mixture(Distribution):
    """``Mixture(name, w, comp_dists)``: each value comes from component ``k`` with
    probability ``w[..., k]``; ``comp_dists`` is a list of unnamed scalar distributions (or one
    distribution whose last axis indexes the components). The label is a Categorical latent
    that gnomon.logprob sums out (``logsumexp_k log w_k + logp_k``).

    Examples
    --------
    >>> import numpy as np, scipy.stats as st, gnomon.ppl as pm
    >>> with pm.Model() as m:
    ...     y = pm.Mixture("y", w=[0.3, 0.7],
    ...                    comp_dists=[pm.Normal.dist(-2.0, 1.0), pm.Normal.dist(2.0, 1.0)],
    ...                    observed=np.array([0.5, 1.5]))
    >>> lp = float(m.compile_logp(mode="numpy")({}))
    >>> want = np.log(0.3 * st.norm(-2).pdf([0.5, 1.5]) + 0.7 * st.norm(2).pdf([0.5, 1.5]))
    >>> bool(np.isclose(lp, want.sum()))
    True
    """

    @classmethod
    def dist(cls, w: Any = None, comp_dists: Any = None, *, shape: Any = None, size: Any = None,
             rng: Any = None, **kw: Any) -> Variable:
        _no_extra(cls, kw)
        _need("Mixture", w=w, comp_dists=comp_dists)
        wv = _f(w)
        if isinstance(comp_dists, Variable):
            k = comp_dists.type.shape[-1]
            if k is None:
                raise GnomonValueError(_at(with_hint(
                    "Mixture: the number of components (the last axis of comp_dists) must be "
                    "known when the model is built", "pass a list of distributions")))
            comps = [comp_dists[..., i] for i in range(k)]
        else:
            comps = [_base_dist(c, "Mixture") for c in comp_dists]
        shp = _as_shape(shape) if shape is not None else _as_shape(size)
        if shp is None:
            shp = _broadcast_static([c.type.shape for c in comps]
                                    + [tuple(wv.type.shape[:-1])])
        comps = [c if tuple(c.type.shape) == tuple(shp) else _resize(c, shp) for c in comps]
        label = gr.categorical(gt.broadcast_to(wv, (*shp, wv.type.shape[-1] or wv.shape[-1]))
                               if shp else wv, rng=_rng(rng))
        out = comps[-1]
        for i in range(len(comps) - 2, -1, -1):
            out = gt.where(gt.eq(label, i), comps[i], out)
        # a central value: the weighted mean of the components' central values
        sps = [support_point(c) for c in comps]
        wn = wv / gt.sum(wv, axis=-1, keepdims=True)
        mean = sps[0] * wn[..., 0]
        for i in range(1, len(sps)):
            mean = mean + sps[i] * wn[..., i]
        _SUPPORT_POINTS[out] = _bcast(mean, out)
        _TRANSFORMS[out] = None
        return out


def _broadcast_static(shapes: list[tuple[Any, ...]]) -> tuple[Any, ...]:
    n = max((len(s) for s in shapes), default=0)
    out = []
    for d in range(n):
        dims = [s[d - n + len(s)] for s in shapes if d - n + len(s) >= 0]
        known = [x for x in dims if x is not None and x != 1]
        out.append(known[0] if known else 1)
    return tuple(out)


class NormalMixture(Distribution):
    """``NormalMixture(name, w, mu, sigma | tau=...)``: a :class:`Mixture` of normals whose
    parameters' last axis indexes the components."""

    @classmethod
    def dist(cls, w: Any = None, mu: Any = None, sigma: Any = None, tau: Any = None, *,
             shape: Any = None, size: Any = None, rng: Any = None, **kw: Any) -> Variable:
        _no_extra(cls, kw)
        _need("NormalMixture", w=w, mu=mu)
        s = _sigma("NormalMixture", sigma, tau)
        m = _f(mu)
        k = m.type.shape[-1] if m.ndim else None
        if k is None:
            raise GnomonValueError(_at(with_hint(
                "NormalMixture: mu must be a vector whose length (the number of components) "
                "is known when the model is built", "pass mu as an array of length k")))
        comps = [Normal.dist(m[..., i], s[..., i] if s.ndim else s) for i in range(k)]
        return Mixture.dist(w, comps, shape=shape, size=size, rng=rng)


# --- Truncated -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _TruncatedDraw(Op):
    """A draw of ``base`` truncated to ``[lower, upper]``: its value is the first input (an
    inverse-cdf draw); ``base`` is kept as an input so that the density can be built from it.
    Private to gnomon.ppl: it lives only in forward graphs (its density graph holds no such
    node), and runs with NumPy in Python."""

    def make_node(self, draw: Any, base: Any, lower: Any, upper: Any) -> Apply:
        ins = [gt.as_tensor(x) for x in (draw, base, lower, upper)]
        return Apply.make(self, ins, [ins[0].type])

    def perform(self, node: Apply, inputs: Sequence[Any]) -> tuple[Any, ...]:
        return (np.array(inputs[0], copy=True),)

    def infer_shape(self, node: Apply, input_shapes: Sequence[Any]) -> list[Any]:
        return [input_shapes[0]]

    def pullback(self, node: Apply, output_grads: Sequence[Any]) -> list[Any]:
        from gnomon.gradient import grad_undefined

        return [grad_undefined(self, i, v, "truncated draws have no reparameterized gradient")
                for i, v in enumerate(node.inputs)]


@_logprob.register(_TruncatedDraw)
def _truncated_logp(op: Any, value: Variable, draw: Variable, base: Variable,
                    lower: Variable, upper: Variable) -> Variable:
    from gnomon.logprob.rewriting import measured_logcdf, measured_logp, rewrite_measurable

    base = rewrite_measurable(base)
    lp = measured_logp(base, value)
    hi = measured_logcdf(base, gt.cast(gt.broadcast_to(upper, value.shape), value.dtype))
    lo = measured_logcdf(base, gt.cast(gt.broadcast_to(lower, value.shape), value.dtype))
    log_mass = hi + gt.log1mexp(lo - hi)  # log(F(upper) - F(lower))
    inside = gt.and_(gt.ge(value, lower), gt.le(value, upper))
    return gt.where(inside, lp - log_mass, -np.inf)


class Truncated(Distribution):
    """``Truncated(name, dist, lower=None, upper=None)``: ``dist`` restricted to ``[lower,
    upper]`` and renormalized (continuous distributions with a log-cdf and a quantile function
    in gnomon.logprob). Draws use the inverse cdf.

    Examples
    --------
    >>> import numpy as np, scipy.stats as st, gnomon.ppl as pm
    >>> with pm.Model() as m:
    ...     y = pm.Truncated("y", pm.Normal.dist(0.0, 1.0), lower=0.0, upper=2.0,
    ...                      observed=np.array([0.5, 1.5]))
    >>> lp = float(m.compile_logp(mode="numpy")({}))
    >>> bool(np.isclose(lp, st.truncnorm(0.0, 2.0).logpdf([0.5, 1.5]).sum()))
    True
    """

    @classmethod
    def dist(cls, dist: Any = None, lower: Any = None, upper: Any = None, *, shape: Any = None,
             size: Any = None, rng: Any = None, max_n_steps: int = 10_000, **kw: Any
             ) -> Variable:
        from gnomon.logprob import icdf, logcdf

        _no_extra(cls, kw)
        base = _base_dist(dist, "Truncated")
        if base.dtype[0] != "f":
            raise GnomonTypeError(_at(with_hint(
                "Truncated: only continuous distributions can be truncated in gnomon.ppl",
                "use a continuous distribution, or Censored for a discrete one")))
        shp = _as_shape(shape) if shape is not None else _as_shape(size)
        if shp is not None and tuple(shp) != tuple(base.type.shape):
            base = _resize(base, shp)
        lo = gt.constant(-np.inf) if lower is None else _f(lower)
        hi = gt.constant(np.inf) if upper is None else _f(upper)
        # inverse-cdf draws: u ~ Uniform(F(lower), F(upper)), x = F^-1(u)
        try:
            f_lo = gt.exp(logcdf(base, gt.cast(gt.broadcast_to(lo, base.shape), base.dtype)))
            f_hi = gt.exp(logcdf(base, gt.cast(gt.broadcast_to(hi, base.shape), base.dtype)))
            size_ = tuple(s if s is not None else base.shape[i]
                          for i, s in enumerate(base.type.shape))
            u = gr.uniform(f_lo, f_hi, size=size_ or None, rng=_rng(rng))
            x = gt.clip(icdf(base, u), lo, hi)
        except Exception as e:
            raise GnomonValueError(_at(with_hint(
                f"Truncated: the distribution needs a log-cdf and a quantile function in "
                f"gnomon.logprob ({type(e).__name__}: {str(e).splitlines()[0]})",
                "see the support table of docs/logprob.md"))) from None
        out = _TruncatedDraw()(x, base, lo, hi)
        sp = support_point(base)
        mid = gt.where(gt.isinf(lo), hi - 1.0, gt.where(gt.isinf(hi), lo + 1.0, (lo + hi) / 2))
        sp = gt.where(gt.and_(gt.gt(sp, lo), gt.lt(sp, hi)), sp, mid)
        _SUPPORT_POINTS[out] = _bcast(sp, out)
        _TRANSFORMS[out] = Interval(None if lower is None else lo, None if upper is None else hi)
        return out


# --- CustomDist ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _CustomDistRV(RandomVariable):
    """Base of the random variable classes :class:`CustomDist` makes, one per call, holding the
    user's functions (private to gnomon.ppl: the draw is a Python function, run with NumPy)."""

    name: ClassVar[str] = "custom_dist"
    logp_fn: ClassVar[Any] = None
    logcdf_fn: ClassVar[Any] = None
    random_fn: ClassVar[Any] = None

    def __reduce__(self) -> tuple[Any, ...]:
        # The class is made at run time, so pickle by reference would fail: pickle the spec the
        # class was made from (the user's functions must be picklable: module-level functions,
        # not lambdas) and find or remake the class when loading.
        spec = (type(self).__name__, self.name, len(self.ndims_params), self.default_dtype,
                type(self).logp_fn, type(self).logcdf_fn, type(self).random_fn)
        return (_custom_dist_op, spec)

    def rng_fn(self, rng, *params, size):  # type: ignore[no-untyped-def,override]
        if self.random_fn is None:
            raise GnomonValueError(with_hint(
                f"CustomDist {self.name!r} has no random function, so it cannot be drawn",
                "pass random=fn(*params, rng=..., size=...) to pm.CustomDist, or dist="))
        return self.random_fn(*params, rng=rng, size=size)


#: the classes CustomDist made in this process, by class name (unpickling finds them here)
_CUSTOM_DIST_CLASSES: dict[str, type] = {}


def _custom_dist_class(cls_name: str, name: str, n_params: int, dtype: str, logp: Any,
                       logcdf: Any, random: Any) -> type:
    found = _CUSTOM_DIST_CLASSES.get(cls_name)
    if found is not None and (found.logp_fn, found.logcdf_fn, found.random_fn) == (  # type: ignore[attr-defined]
            logp, logcdf, random):
        return found
    op_cls = dataclass(frozen=True)(type(cls_name, (_CustomDistRV,), {
        "name": name, "ndims_params": (0,) * n_params,
        "param_names": tuple(f"param{i}" for i in range(n_params)),
        "default_dtype": dtype, "logp_fn": staticmethod(logp),
        "logcdf_fn": staticmethod(logcdf) if logcdf is not None else None,
        "random_fn": staticmethod(random) if random is not None else None,
        "__module__": __name__,
    }))
    _CUSTOM_DIST_CLASSES.setdefault(cls_name, op_cls)
    return op_cls


def _custom_dist_op(*spec: Any) -> Any:
    return _custom_dist_class(*spec)()


@_logprob.register(_CustomDistRV)
def _custom_logp(op: Any, value: Variable, rng: Variable, size: Variable, *params: Variable
                 ) -> Variable:
    return gt.as_tensor(op.logp_fn(value, *params))


@_logcdf.register(_CustomDistRV)
def _custom_logcdf(op: Any, value: Variable, rng: Variable, size: Variable, *params: Variable
                   ) -> Variable:
    if op.logcdf_fn is None:
        from gnomon.logprob.abstract import _NoBuilder

        raise _NoBuilder()
    return gt.as_tensor(op.logcdf_fn(value, *params))


class CustomDist(Distribution):
    """``CustomDist(name, *dist_params, logp=..., random=..., ...)`` or
    ``CustomDist(name, *dist_params, dist=...)``: a distribution from your functions.

    * ``dist(*dist_params, size)`` returns a graph built from ``.dist()`` variables and
      tensor functions; its draws are that graph and its density is derived by
      gnomon.logprob (``pm.math.exp(pm.Normal.dist(mu, sigma, size=size))`` is a log-normal).
    * ``logp(value, *dist_params)`` returns the log-density graph; ``random(*dist_params,
      rng=..., size=...)`` the NumPy draws (optional: without it the variable cannot be
      drawn); ``logcdf`` optionally. Scalar support only (``ndim_supp=0``); parameters
      broadcast like the batch of a distribution.
    * ``support_point(rv, size, *dist_params)`` optionally gives the initial value.

    Examples
    --------
    >>> import numpy as np, scipy.stats as st, gnomon.ppl as pm
    >>> def logp(value, lam):
    ...     return pm.math.log(lam) - lam * value
    >>> with pm.Model() as m:
    ...     lam = pm.HalfNormal("lam", 1.0)
    ...     y = pm.CustomDist("y", lam, logp=logp, observed=np.array([0.5, 1.0]))
    >>> lp = m.compile_logp(jacobian=False, mode="numpy")({"lam_log__": 0.0})
    >>> bool(np.isclose(lp, st.halfnorm.logpdf(1.0) + st.expon.logpdf([0.5, 1.0]).sum()))
    True
    """

    _counter: ClassVar[int] = 0

    def __new__(cls, name: Any, *dist_params: Any, **kwargs: Any) -> Any:
        return super().__new__(cls, name, *dist_params, **kwargs)

    @classmethod
    def dist(cls, *dist_params: Any, dist: Any = None, logp: Any = None, logcdf: Any = None,
             random: Any = None, support_point: Any = None, ndim_supp: int = 0,
             dtype: str = "floatX", class_name: str = "CustomDist", shape: Any = None,
             size: Any = None, rng: Any = None, moment: Any = None, **kw: Any) -> Variable:
        _no_extra(cls, kw)
        params = [_t(p) for p in dist_params]
        sz = _as_shape(shape) if shape is not None else _as_shape(size)
        support_point = support_point or moment
        if dist is not None:
            if logp is not None or random is not None:
                raise GnomonValueError(_at(with_hint(
                    "CustomDist: pass dist= alone, or logp= (and random=)",
                    "dist= derives the density and the draws from the graph it returns")))
            out = dist(*params, sz)
            if not isinstance(out, Variable):
                raise GnomonTypeError(_at(with_hint(
                    f"CustomDist: dist= must return a graph, got {out!r}",
                    "return an expression of .dist() variables")))
            if support_point is not None:
                _SUPPORT_POINTS[out] = _bcast(gt.as_tensor(support_point(out, sz, *params)),
                                              out)
            return out
        if logp is None:
            raise GnomonTypeError(_at(with_hint("CustomDist: logp= or dist= is required",
                                                "pass logp=fn(value, *dist_params)")))
        if ndim_supp != 0:
            raise GnomonValueError(_at(with_hint(
                "CustomDist with logp= supports scalar distributions only (ndim_supp=0)",
                "use dist= to build a multivariate distribution from .dist() variables")))
        CustomDist._counter += 1
        op_cls = _custom_dist_class(f"_CustomDist{CustomDist._counter}", class_name,
                                    len(params), dtype, logp, logcdf, random)
        from gnomon.random.distributions import _draw

        out = _draw(op_cls(), _rng(rng), sz, *params)
        if support_point is not None:
            sp = gt.as_tensor(support_point(out, sz, *params))
        else:
            sp = gt.constant(np.zeros((), dtype=out.dtype))
        _SUPPORT_POINTS[out] = _bcast(sp, out)
        return out


# --- time series ---------------------------------------------------------------------------------


class GaussianRandomWalk(Distribution):
    """``GaussianRandomWalk(name, mu=0, sigma=1, init_dist=None, steps=None, shape=/dims=)``:
    ``x[0] ~ init_dist``, ``x[t] = x[t-1] + Normal(mu, sigma)`` along the last axis
    (``steps + 1`` values, a number fixed when the model is built). Built as the ``cumsum``
    of the initial value and the innovations; gnomon.logprob derives the density.
    ``init_dist`` defaults to ``Normal.dist(0, 100)`` (with a warning, as in PyMC).

    Examples
    --------
    >>> import numpy as np, scipy.stats as st, gnomon.ppl as pm
    >>> with pm.Model() as m:
    ...     x = pm.GaussianRandomWalk("x", mu=0.5, sigma=2.0, init_dist=pm.Normal.dist(0, 1),
    ...                               steps=3, observed=np.array([0.0, 1.0, 0.5, 2.0]))
    >>> lp = float(m.compile_logp(mode="numpy")({}))
    >>> want = st.norm.logpdf(0.0) + st.norm(0.5, 2).logpdf([1.0, -0.5, 1.5]).sum()
    >>> bool(np.isclose(lp, want))
    True
    """

    ndim_supp = 1

    @classmethod
    def dist(cls, mu: Any = 0.0, sigma: Any = 1.0, *, init_dist: Any = None, steps: Any = None,
             shape: Any = None, size: Any = None, rng: Any = None, **kw: Any) -> Variable:
        import warnings

        _no_extra(cls, kw)
        m, s = _f(mu), _f(sigma)
        shp = _as_shape(shape)
        if shp is not None:
            if not shp:
                raise GnomonValueError(_at(with_hint(
                    "GaussianRandomWalk: shape must have at least one (time) dimension",
                    "pass shape=(n_steps + 1,) or steps=")))
            batch, n = tuple(shp[:-1]), shp[-1]
            if isinstance(n, Variable):
                # logprob splits the walk at static lengths: the time axis is fixed at the
                # current length of its dim
                n = int(np.asarray(n.eval(mode="numpy")))
            steps_v = n - 1
            if steps is not None and isinstance(n, int) and steps != n - 1:
                raise GnomonValueError(_at(with_hint(
                    f"GaussianRandomWalk: steps={steps} but shape={shp} has {n} time points",
                    "steps is the number of time points minus one")))
        else:
            if steps is None:
                raise GnomonValueError(_at(with_hint(
                    "GaussianRandomWalk: the number of steps is unknown",
                    "pass steps=, shape=, dims= or observed=")))
            batch = tuple(_as_shape(size) or ())
            steps_v = steps
        if init_dist is None:
            warnings.warn("Initial distribution not specified, defaulting to "
                          "`Normal.dist(0, 100)`. You can specify an init_dist manually to "
                          "suppress this warning.", UserWarning, stacklevel=3)
            init_dist = Normal.dist(0.0, 100.0)
        init = _base_dist(init_dist, "GaussianRandomWalk")
        if tuple(init.type.shape) != batch:
            init = _resize(init, batch)
        mb = gt.expand_dims(m, -1) if m.ndim else m
        sb = gt.expand_dims(s, -1) if s.ndim else s
        innov = gr.normal(mb, sb, size=(*batch, steps_v), rng=_rng(rng))
        out = gt.cumsum(gt.concatenate([gt.expand_dims(init, -1), innov], axis=-1), axis=-1)
        t = gt.arange(out.shape[-1])
        _SUPPORT_POINTS[out] = _bcast(gt.expand_dims(support_point(init), -1) + mb * t, out)
        _TRANSFORMS[out] = None
        return out


# --- ZeroSumNormal -------------------------------------------------------------------------------


@dataclass(frozen=True)
class _ZeroSumNormalRV(RandomVariable):
    """Normal vectors constrained to sum to zero along the last axis (private to gnomon.ppl;
    runs with NumPy). ``support`` only carries the length ``n`` of the constrained axis."""

    name: ClassVar[str] = "zerosumnormal"
    ndim_supp: ClassVar[int] = 1
    ndims_params: ClassVar[tuple[int, ...]] = (0, 1)
    param_names: ClassVar[tuple[str, ...]] = ("sigma", "support")
    #: the parameter whose length is the support's (for the Numba lowering)
    support_param: ClassVar[int] = 1

    def support_shape(self, param_shapes: Sequence[tuple[Any, ...]]) -> tuple[Any, ...]:
        return (param_shapes[1][-1],)

    def rng_fn(self, rng, sigma, support, *, size):  # type: ignore[no-untyped-def,override]
        n = support.shape[-1]
        batch = size if size is not None else np.broadcast_shapes(sigma.shape,
                                                                  support.shape[:-1])
        z = rng.normal(0.0, 1.0, size=(*batch, n)) * np.asarray(sigma)[..., None]
        return z - z.mean(axis=-1, keepdims=True)


@register_rv(_logprob, _ZeroSumNormalRV)
def _zerosumnormal_logp(op: Any, value: Variable, sigma: Variable, support: Variable
                        ) -> Variable:
    # an isotropic normal of variance sigma^2 on the (n-1)-dimensional hyperplane sum(x) = 0
    n = gt.cast(value.shape[-1], "float64")
    s = gt.as_tensor(sigma)
    on_plane = gt.le(gt.abs(gt.sum(value, axis=-1)), 1e-9 * (1 + gt.sum(gt.abs(value), axis=-1)))
    lp = (-(n - 1) / 2 * gt.log(2 * np.pi * s ** 2)
          - gt.sum(value ** 2, axis=-1) / (2 * s ** 2))
    return gt.where(on_plane, lp, -np.inf)


class ZeroSumNormal(Distribution):
    """``ZeroSumNormal(name, sigma=1, n_zerosum_axes=1, shape=/dims=)``: normal values that
    sum to zero along the last axis (a normal of variance ``sigma²`` on that hyperplane, as
    ``x = z - mean(z)`` with ``z ~ Normal(0, sigma)`` draws). The value variable is
    ``name_zerosum__`` in ``R^(n-1)`` (an isometry, :class:`~gnomon.ppl.transforms.ZeroSum`).
    Only ``n_zerosum_axes=1``.

    Examples
    --------
    >>> import numpy as np, gnomon.ppl as pm
    >>> x = pm.draw(pm.ZeroSumNormal.dist(sigma=2.0, shape=(4,)), random_seed=1)
    >>> x.shape, round(float(x.sum()), 10)
    ((4,), 0.0)
    """

    ndim_supp = 1

    @classmethod
    def dist(cls, sigma: Any = 1.0, n_zerosum_axes: int = 1, support_shape: Any = None, *,
             shape: Any = None, size: Any = None, rng: Any = None, **kw: Any) -> Variable:
        from gnomon.ppl.transforms import ZeroSum
        from gnomon.random.distributions import _draw

        _no_extra(cls, kw)
        if n_zerosum_axes != 1:
            raise GnomonValueError(_at(with_hint(
                f"ZeroSumNormal: n_zerosum_axes={n_zerosum_axes} is not supported in "
                "gnomon.ppl (only the last axis)", "use n_zerosum_axes=1")))
        shp = _as_shape(shape)
        if shp is None and support_shape is not None:
            supp = _as_shape(support_shape)
            shp = (*(_as_shape(size) or ()), *supp) if supp else None
        if not shp:
            raise GnomonValueError(_at(with_hint(
                "ZeroSumNormal: the length of the zero-sum axis is unknown",
                "pass shape=, dims= or support_shape=")))
        n = shp[-1]
        if isinstance(n, Variable):
            n = int(np.asarray(n.eval(mode="numpy")))  # the constrained length is static
        s = _f(sigma)
        out = _draw(_ZeroSumNormalRV(), _rng(rng), tuple(shp[:-1]) or None, s,
                    gt.constant(np.zeros(n)))
        _SUPPORT_POINTS[out] = _bcast(gt.constant(np.zeros(())), out)
        _TRANSFORMS[out] = ZeroSum()
        return out


# --- LKJCholeskyCov ------------------------------------------------------------------------------


def expand_packed_triangular(n: int, packed: Any, lower: bool = True) -> Variable:
    """The ``n x n`` triangular matrix whose rows are packed in ``packed`` (PyMC's order:
    ``(0,0), (1,0), (1,1), (2,0), ...``).

    Examples
    --------
    >>> import numpy as np, gnomon.ppl as pm
    >>> pm.expand_packed_triangular(2, np.array([1.0, 2.0, 3.0])).eval(mode="numpy").tolist()
    [[1.0, 0.0], [2.0, 3.0]]
    """
    n = int(n)
    rows, cols = np.tril_indices(n)
    packed = gt.as_tensor(packed)
    # a product with a constant 0/1 matrix rather than 2-d fancy indexing, which has no Numba
    # lowering (a model using it would not compile to one nopython program)
    e = np.zeros((n * n, len(rows)))
    e[rows * n + cols, np.arange(len(rows))] = 1.0
    flat = gt.dot(gt.constant(e.astype(packed.dtype if packed.dtype[0] == "f" else "float64")),
                  packed)
    out = gt.reshape(flat, (n, n))
    return out if lower else gt.transpose(out)


def _log_lkj_norm(eta: Variable, n: int) -> Variable:
    """``log`` of the normalizing constant of the LKJ density ``det(R)^(eta - 1)`` on ``n x n``
    correlation matrices: ``sum_k (2 eta - 2 + n - k)(n - k) log 2 + (n - k) log B(b_k, b_k)``,
    ``b_k = eta + (n - k - 1) / 2``, ``k = 1 .. n-1`` (checked by quadrature for n = 3)."""
    total: Any = gt.constant(np.float64(0.0))
    for k in range(1, n):
        b = eta + (n - k - 1) / 2
        total = total + (2 * eta - 2 + n - k) * (n - k) * np.log(2.0) + (n - k) * gt.betaln(b, b)
    return total  # type: ignore[no-any-return]


@dataclass(frozen=True)
class _LKJCholeskyCovRV(RandomVariable):
    """The packed Cholesky factor ``diag(stds) @ C`` of a covariance, ``C`` the Cholesky factor
    of an LKJ(eta) correlation matrix, ``stds`` a draw of ``sd_dist`` (an input, so that the
    density can use its distribution). Private to gnomon.ppl; draws run with NumPy."""

    name: ClassVar[str] = "lkjcholeskycov"
    ndim_supp: ClassVar[int] = 1
    ndims_params: ClassVar[tuple[int, ...]] = (0, 1, 1)
    param_names: ClassVar[tuple[str, ...]] = ("eta", "stds", "support")
    #: the parameter whose length is the support's (for the Numba lowering)
    support_param: ClassVar[int] = 2

    def support_shape(self, param_shapes: Sequence[tuple[Any, ...]]) -> tuple[Any, ...]:
        return (param_shapes[2][-1],)

    def rng_fn(self, rng, eta, stds, support, *, size):  # type: ignore[no-untyped-def,override]
        if size not in (None, ()) or np.ndim(eta) or np.ndim(stds) != 1:
            raise GnomonValueError("LKJCholeskyCov draws one matrix (no batch) in gnomon.ppl")
        n = stds.shape[-1]
        # canonical partial correlations, column by column (the vine method): the partial
        # correlation of rows j > i given the earlier columns is 2 Beta(a_i, a_i) - 1
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
        return (stds[:, None] * chol)[np.tril_indices(n)]


@_logprob.register(_LKJCholeskyCovRV)
def _lkj_cholesky_cov_logp(op: Any, value: Variable, rng: Variable, size: Variable,
                           eta: Variable, stds: Variable, support: Variable) -> Variable:
    from gnomon.logprob.rewriting import measured_logp, rewrite_measurable

    m = support.type.shape[-1]
    n = round((np.sqrt(8 * m + 1) - 1) / 2)
    L = expand_packed_triangular(n, value)
    sig = gt.sqrt(gt.sum(L ** 2, axis=1))          # the standard deviations (row norms)
    diag = gt.sum(L * gt.constant(np.eye(n)), axis=1)  # (no 2-d fancy indexing: see above)
    cdiag = diag / sig                              # the diagonal of the correlation factor
    i = gt.constant(np.arange(1, n + 1, dtype="float64"))
    lp_sd = gt.sum(measured_logp(rewrite_measurable(stds), sig))
    # LKJ on the correlation factor (per its off-diagonal coordinates), then the change of
    # variables row by row: L_i = sig_i * C_i with C_i on a hemisphere (dL = sig^(i-1)/C_ii)
    lp_corr = gt.sum((n - i[1:] + 2 * eta - 2) * gt.log(cdiag[1:])) - _log_lkj_norm(eta, n)
    jac = gt.sum(gt.log(cdiag)) - gt.sum((i - 1) * gt.log(sig))
    ok = gt.all(gt.gt(diag, 0))
    return gt.where(ok, lp_sd + lp_corr + jac, -np.inf)


def LKJCholeskyCov(name: str, eta: Any, n: int, sd_dist: Any, *, compute_corr: bool = True,
                   store_in_trace: bool = True, model: Any = None, rng: Any = None,
                   initval: Any = None, **kwargs: Any) -> Any:
    """``LKJCholeskyCov(name, eta, n, sd_dist, compute_corr=True, store_in_trace=True)``: the
    Cholesky factor of a covariance matrix whose correlations follow LKJ(``eta``) and whose
    standard deviations follow ``sd_dist`` (an unnamed distribution of shape ``(n,)`` or a
    scalar one). The free variable is the packed factor (``name_cholesky-cov-packed__``).

    Returns ``(chol, corr, stds)`` with ``compute_corr=True`` (and the Deterministics
    ``name_corr``, ``name_stds`` with ``store_in_trace=True``), else the packed factor (expand
    it with :func:`expand_packed_triangular`). One matrix (no batch dimensions).

    Examples
    --------
    >>> import numpy as np, gnomon.ppl as pm
    >>> with pm.Model() as m:
    ...     chol, corr, stds = pm.LKJCholeskyCov("c", eta=2.0, n=3,
    ...                                          sd_dist=pm.Exponential.dist(1.0, shape=3))
    >>> [v.name for v in m.value_vars], sorted(d.name for d in m.deterministics)
    (['c_cholesky-cov-packed__'], ['c_corr', 'c_stds'])
    """
    from gnomon.ppl.model import Deterministic
    from gnomon.ppl.transforms import CholeskyCovPacked
    from gnomon.random.distributions import _draw

    if kwargs:
        _no_extra(LKJCholeskyCov, kwargs)  # type: ignore[arg-type]
    n = int(n)
    mdl = modelcontext(model)
    sd = _base_dist(sd_dist, "LKJCholeskyCov")
    if tuple(sd.type.shape) != (n,):
        if sd.ndim == 0 or tuple(sd.type.shape) == (1,):
            sd = _resize(sd, (n,))
        else:
            raise GnomonValueError(_at(with_hint(
                f"LKJCholeskyCov: sd_dist has shape {sd.type.shape}, not ({n},)",
                f"pass sd_dist=pm.Exponential.dist(1.0, shape={n}) (or a scalar one)")))
    e = _f(eta)
    packed = _draw(_LKJCholeskyCovRV(), _rng(rng), None, e, sd,
                   gt.constant(np.zeros(n * (n + 1) // 2)))
    diag_sp = support_point(sd)
    sp = expand_packed_triangular(n, gt.zeros((n * (n + 1) // 2,)))
    eye = gt.constant(np.eye(n))
    sp = eye * diag_sp[:, None] + sp
    rows, cols = np.tril_indices(n)
    _SUPPORT_POINTS[packed] = sp[rows, cols]
    _TRANSFORMS[packed] = CholeskyCovPacked(n)
    packed = mdl.register_rv(packed, name, initval=initval)
    if not compute_corr:
        return packed
    chol = expand_packed_triangular(n, packed)
    stds = gt.sqrt(gt.sum(chol ** 2, axis=1))
    c = chol / stds[:, None]
    corr = c @ gt.transpose(c)
    if store_in_trace:
        corr = Deterministic(f"{name}_corr", corr, model=mdl)
        stds = Deterministic(f"{name}_stds", stds, model=mdl)
    return chol, corr, stds
