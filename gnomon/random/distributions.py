"""The distributions: one short :class:`~gnomon.random.op.RandomVariable` subclass each, and the
user function that builds a draw (NumPy's / PyTensor's parametrizations).

Every user function takes the distribution's parameters, ``size`` (NumPy's meaning), and the
keywords ``rng`` and ``dtype``, and returns the draw. ``rng`` is a shared generator
(``gnomon.shared(np.random.default_rng(seed))``) or a symbolic one; with ``rng=None`` a new shared
generator is made, seeded from the operating system, with a default update, so that a compiled
function returns new draws at every call (unlike PyTensor, where such a draw repeats). The
generator after the draw is ``draw.owner.outputs[0]``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, cast

import numpy as np

from gnomon.errors import GnomonValueError, with_hint
from gnomon.graph.basic import Apply, Variable
from gnomon.random.op import Check, RandomVariable, _at
from gnomon.random.type import shared_rng
from gnomon.tensor.variable import TensorVariable

__all__ = [
    "Bernoulli", "Beta", "Binomial", "Categorical", "Cauchy", "ChiSquare", "Dirichlet",
    "Exponential", "Gamma", "Geometric", "Gumbel", "HalfCauchy", "HalfNormal", "Integers",
    "InvGamma", "Laplace", "LogNormal", "Logistic", "Multinomial", "MultivariateNormal",
    "NegativeBinomial",
    "Normal", "Pareto", "Poisson", "StandardNormal", "StudentT", "Triangular", "Uniform", "Wald",
    "Weibull", "VonMises", "GenGamma", "BetaBinomial", "Hypergeometric", "Choice", "Permutation",
    "bernoulli", "beta", "binomial", "categorical", "cauchy", "chisquare", "dirichlet",
    "exponential", "gamma", "geometric", "gumbel", "halfcauchy", "halfnormal", "integers",
    "invgamma", "laplace", "logistic", "lognormal", "multinomial", "multivariate_normal",
    "negative_binomial",
    "normal", "pareto", "poisson", "standard_normal", "t", "triangular", "uniform", "wald",
    "weibull", "vonmises", "gengamma", "betabinomial", "hypergeometric", "choice", "permutation",
]


def _tv(v: Variable) -> TensorVariable:
    """``v`` typed as the tensor it is (pullbacks receive plain ``Variable``s)."""
    return cast(TensorVariable, v)


def _draw(op: RandomVariable, rng: Any, size: Any, *params: Any) -> Variable:
    """Apply ``op``; a missing ``rng`` becomes a fresh shared generator that updates itself."""
    own = rng is None
    if own:
        rng = shared_rng(np.random.default_rng(), borrow=True)
    next_rng, draw = op(rng, size, *params)
    if own:
        rng.default_update = next_rng
    return draw


def _loop(fn: Any, batch: tuple[int, ...], supp: tuple[int, ...], dtype: str,
          *params: np.ndarray) -> np.ndarray:
    """Draw one core sample per batch index with ``fn(*core_params)``: for NumPy methods that
    take no batched parameters (``dirichlet``, ``multivariate_normal``)."""
    out = np.empty(batch + supp, dtype=dtype)
    views = [np.broadcast_to(p, batch + p.shape[p.ndim - nd:]) for p, nd in params]
    for idx in np.ndindex(*batch):
        out[idx] = fn(*[v[idx] for v in views])
    return out


# --- continuous, scalar support ------------------------------------------------------------


@dataclass(frozen=True)
class Normal(RandomVariable):
    """Normal (Gaussian) draws, ``loc + scale * z`` with ``z`` standard normal."""

    name: ClassVar[str] = "normal"
    ndims_params: ClassVar[tuple[int, ...]] = (0, 0)
    param_names: ClassVar[tuple[str, ...]] = ("loc", "scale")
    checks: ClassVar[tuple[Check, ...]] = (Check("scale >= 0", "parameter 'scale' must be >= 0"),)
    reparameterized: ClassVar[bool] = True

    def rng_fn(self, rng, loc, scale, *, size):
        return rng.normal(loc, scale, size)

    def reparam_pullback(self, node: Apply, g: Variable) -> list[Variable | None]:
        _, _, loc, scale = node.inputs
        return [g, _tv(g) * ((_tv(node.outputs[1]) - loc) / scale)]


def normal(loc: Any = 0.0, scale: Any = 1.0, size: Any = None, *, rng: Any = None,
           dtype: str | None = None) -> Variable:
    """Normal draws with mean ``loc`` and standard deviation ``scale``.

    Examples
    --------
    >>> import numpy as np, gnomon, gnomon.random as gr
    >>> rng = gnomon.shared(np.random.default_rng(0))
    >>> x = gr.normal(np.zeros(3), 1.0, rng=rng)
    >>> x.type
    TensorType('float64', (3,))
    >>> gnomon.function([], x, mode="numpy")().round(3).tolist()
    [0.126, -0.132, 0.64]
    """
    return _draw(Normal(dtype or ""), rng, size, loc, scale)


@dataclass(frozen=True)
class StandardNormal(RandomVariable):
    """Standard normal draws (mean 0, standard deviation 1)."""

    name: ClassVar[str] = "standard_normal"
    reparameterized: ClassVar[bool] = True

    def rng_fn(self, rng, *, size):
        return rng.standard_normal(size)


def standard_normal(size: Any = None, *, rng: Any = None, dtype: str | None = None) -> Variable:
    """Standard normal draws.

    Examples
    --------
    >>> import gnomon.random as gr
    >>> gr.standard_normal(size=(2, 3)).type
    TensorType('float64', (2, 3))
    """
    return _draw(StandardNormal(dtype or ""), rng, size)


@dataclass(frozen=True)
class Uniform(RandomVariable):
    """Uniform draws on ``[low, high)``."""

    name: ClassVar[str] = "uniform"
    ndims_params: ClassVar[tuple[int, ...]] = (0, 0)
    param_names: ClassVar[tuple[str, ...]] = ("low", "high")
    checks: ClassVar[tuple[Check, ...]] = (
        Check("np.isfinite(high - low)", "'high - low' must be finite"),)
    reparameterized: ClassVar[bool] = True

    def rng_fn(self, rng, low, high, *, size):
        return rng.uniform(low, high, size)

    def reparam_pullback(self, node: Apply, g: Variable) -> list[Variable | None]:
        _, _, low, high = node.inputs
        u = (_tv(node.outputs[1]) - low) / (_tv(high) - low)
        return [_tv(g) * (1.0 - u), _tv(g) * u]


def uniform(low: Any = 0.0, high: Any = 1.0, size: Any = None, *, rng: Any = None,
            dtype: str | None = None) -> Variable:
    """Uniform draws on ``[low, high)``.

    Examples
    --------
    >>> import gnomon.random as gr
    >>> x = gr.uniform(-1.0, 1.0, size=1000)
    >>> v = x.eval(mode="numpy")
    >>> bool(v.min() >= -1.0 and v.max() < 1.0)
    True
    """
    return _draw(Uniform(dtype or ""), rng, size, low, high)


@dataclass(frozen=True)
class Gamma(RandomVariable):
    """Gamma draws with ``shape`` (k) and ``scale`` (theta): mean ``shape * scale``."""

    name: ClassVar[str] = "gamma"
    ndims_params: ClassVar[tuple[int, ...]] = (0, 0)
    param_names: ClassVar[tuple[str, ...]] = ("shape", "scale")
    checks: ClassVar[tuple[Check, ...]] = (
        Check("shape >= 0", "parameter 'shape' must be >= 0"),
        Check("scale >= 0", "parameter 'scale' must be >= 0"),
    )

    def rng_fn(self, rng, shape, scale, *, size):
        return rng.gamma(shape, scale, size)


def gamma(shape: Any, scale: Any = None, size: Any = None, *, rate: Any = None, rng: Any = None,
          dtype: str | None = None) -> Variable:
    """Gamma draws with ``shape`` and ``scale`` (or ``rate = 1 / scale``; default scale 1).

    Examples
    --------
    >>> import gnomon.random as gr
    >>> x = gr.gamma(2.0, rate=4.0, size=20000)
    >>> round(float(x.eval(mode="numpy").mean()), 1)
    0.5
    """
    if scale is not None and rate is not None:
        raise GnomonValueError(_at(with_hint("gamma: give scale or rate, not both",
                                             "rate is 1 / scale")))
    if rate is not None:
        from gnomon.tensor.math import true_divide

        scale = true_divide(1.0, rate)
    return _draw(Gamma(dtype or ""), rng, size, shape, 1.0 if scale is None else scale)


@dataclass(frozen=True)
class Beta(RandomVariable):
    """Beta draws on ``[0, 1]`` with shape parameters ``a`` and ``b``."""

    name: ClassVar[str] = "beta"
    ndims_params: ClassVar[tuple[int, ...]] = (0, 0)
    param_names: ClassVar[tuple[str, ...]] = ("a", "b")
    checks: ClassVar[tuple[Check, ...]] = (Check("a > 0", "parameter 'a' must be > 0"),
                                           Check("b > 0", "parameter 'b' must be > 0"))

    def rng_fn(self, rng, a, b, *, size):
        return rng.beta(a, b, size)


def beta(a: Any, b: Any, size: Any = None, *, rng: Any = None,
         dtype: str | None = None) -> Variable:
    """Beta draws.

    Examples
    --------
    >>> import gnomon.random as gr
    >>> gr.beta(2.0, [1.0, 3.0]).type
    TensorType('float64', (2,))
    """
    return _draw(Beta(dtype or ""), rng, size, a, b)


@dataclass(frozen=True)
class Exponential(RandomVariable):
    """Exponential draws with mean ``scale`` (NumPy's parametrization; rate is ``1 / scale``)."""

    name: ClassVar[str] = "exponential"
    ndims_params: ClassVar[tuple[int, ...]] = (0,)
    param_names: ClassVar[tuple[str, ...]] = ("scale",)
    checks: ClassVar[tuple[Check, ...]] = (Check("scale >= 0", "parameter 'scale' must be >= 0"),)
    reparameterized: ClassVar[bool] = True

    def rng_fn(self, rng, scale, *, size):
        return rng.exponential(scale, size)

    def reparam_pullback(self, node: Apply, g: Variable) -> list[Variable | None]:
        scale = node.inputs[2]
        return [_tv(g) * (_tv(node.outputs[1]) / scale)]


def exponential(scale: Any = 1.0, size: Any = None, *, rng: Any = None,
                dtype: str | None = None) -> Variable:
    """Exponential draws with mean ``scale``.

    Examples
    --------
    >>> import gnomon.random as gr
    >>> gr.exponential(2.0, size=(4,)).type
    TensorType('float64', (4,))
    """
    return _draw(Exponential(dtype or ""), rng, size, scale)


def _loc_scale_pullback(node: Apply, g: Variable, loc: Variable, scale: Variable
                        ) -> list[Variable]:
    """Gradients of ``draw = loc + scale * z`` (``z`` independent of the parameters)."""
    return [g, _tv(g) * ((_tv(node.outputs[1]) - loc) / scale)]


@dataclass(frozen=True)
class _LocScale(RandomVariable):
    """Base of ``loc + scale * z`` families: parameters ``(loc, scale)``, reparameterized."""

    ndims_params: ClassVar[tuple[int, ...]] = (0, 0)
    param_names: ClassVar[tuple[str, ...]] = ("loc", "scale")
    checks: ClassVar[tuple[Check, ...]] = (Check("scale >= 0", "parameter 'scale' must be >= 0"),)
    reparameterized: ClassVar[bool] = True

    def reparam_pullback(self, node: Apply, g: Variable) -> list[Variable | None]:
        _, _, loc, scale = node.inputs
        return list(_loc_scale_pullback(node, g, loc, scale))


@dataclass(frozen=True)
class HalfNormal(_LocScale):
    """``loc + scale * |z|`` with ``z`` standard normal (PyTensor's parametrization)."""

    name: ClassVar[str] = "halfnormal"

    def rng_fn(self, rng, loc, scale, *, size):
        z = rng.standard_normal(self.batch_shape([loc, scale], size))
        return loc + scale * np.abs(z)


def halfnormal(loc: Any = 0.0, scale: Any = 1.0, size: Any = None, *, rng: Any = None,
               dtype: str | None = None) -> Variable:
    """Half-normal draws, ``loc + scale * |z|``.

    Examples
    --------
    >>> import gnomon.random as gr
    >>> bool((gr.halfnormal(size=100).eval(mode="numpy") >= 0).all())
    True
    """
    return _draw(HalfNormal(dtype or ""), rng, size, loc, scale)


@dataclass(frozen=True)
class LogNormal(RandomVariable):
    """``exp(mean + sigma * z)``: the log of a draw is normal (NumPy's parametrization)."""

    name: ClassVar[str] = "lognormal"
    ndims_params: ClassVar[tuple[int, ...]] = (0, 0)
    param_names: ClassVar[tuple[str, ...]] = ("mean", "sigma")
    checks: ClassVar[tuple[Check, ...]] = (Check("sigma >= 0", "parameter 'sigma' must be >= 0"),)
    reparameterized: ClassVar[bool] = True

    def rng_fn(self, rng, mean, sigma, *, size):
        return rng.lognormal(mean, sigma, size)

    def reparam_pullback(self, node: Apply, g: Variable) -> list[Variable | None]:
        from gnomon.tensor.math import log

        _, _, mean, sigma = node.inputs
        draw = _tv(node.outputs[1])
        return [_tv(g) * draw, _tv(g) * draw * ((log(draw) - mean) / sigma)]


def lognormal(mean: Any = 0.0, sigma: Any = 1.0, size: Any = None, *, rng: Any = None,
              dtype: str | None = None) -> Variable:
    """Log-normal draws.

    Examples
    --------
    >>> import gnomon.random as gr
    >>> gr.lognormal(0.0, [1.0, 0.5]).type
    TensorType('float64', (2,))
    """
    return _draw(LogNormal(dtype or ""), rng, size, mean, sigma)


@dataclass(frozen=True)
class Laplace(_LocScale):
    """Laplace (double exponential) draws."""

    name: ClassVar[str] = "laplace"

    def rng_fn(self, rng, loc, scale, *, size):
        return rng.laplace(loc, scale, size)


def laplace(loc: Any = 0.0, scale: Any = 1.0, size: Any = None, *, rng: Any = None,
            dtype: str | None = None) -> Variable:
    """Laplace draws.

    Examples
    --------
    >>> import gnomon.random as gr
    >>> gr.laplace(size=3).type
    TensorType('float64', (3,))
    """
    return _draw(Laplace(dtype or ""), rng, size, loc, scale)


@dataclass(frozen=True)
class Logistic(_LocScale):
    """Logistic draws."""

    name: ClassVar[str] = "logistic"

    def rng_fn(self, rng, loc, scale, *, size):
        return rng.logistic(loc, scale, size)


def logistic(loc: Any = 0.0, scale: Any = 1.0, size: Any = None, *, rng: Any = None,
             dtype: str | None = None) -> Variable:
    """Logistic draws.

    Examples
    --------
    >>> import gnomon.random as gr
    >>> gr.logistic(size=3).type
    TensorType('float64', (3,))
    """
    return _draw(Logistic(dtype or ""), rng, size, loc, scale)


@dataclass(frozen=True)
class Gumbel(_LocScale):
    """Gumbel (type I extreme value) draws."""

    name: ClassVar[str] = "gumbel"

    def rng_fn(self, rng, loc, scale, *, size):
        return rng.gumbel(loc, scale, size)


def gumbel(loc: Any = 0.0, scale: Any = 1.0, size: Any = None, *, rng: Any = None,
           dtype: str | None = None) -> Variable:
    """Gumbel draws.

    Examples
    --------
    >>> import gnomon.random as gr
    >>> gr.gumbel(size=3).type
    TensorType('float64', (3,))
    """
    return _draw(Gumbel(dtype or ""), rng, size, loc, scale)


@dataclass(frozen=True)
class Cauchy(_LocScale):
    """Cauchy draws, ``loc + scale * standard_cauchy``."""

    name: ClassVar[str] = "cauchy"

    def rng_fn(self, rng, loc, scale, *, size):
        return loc + scale * rng.standard_cauchy(self.batch_shape([loc, scale], size))


def cauchy(loc: Any = 0.0, scale: Any = 1.0, size: Any = None, *, rng: Any = None,
           dtype: str | None = None) -> Variable:
    """Cauchy draws.

    Examples
    --------
    >>> import gnomon.random as gr
    >>> gr.cauchy(size=3).type
    TensorType('float64', (3,))
    """
    return _draw(Cauchy(dtype or ""), rng, size, loc, scale)


@dataclass(frozen=True)
class HalfCauchy(_LocScale):
    """``loc + scale * |c|`` with ``c`` standard Cauchy."""

    name: ClassVar[str] = "halfcauchy"

    def rng_fn(self, rng, loc, scale, *, size):
        return loc + scale * np.abs(rng.standard_cauchy(self.batch_shape([loc, scale], size)))


def halfcauchy(loc: Any = 0.0, scale: Any = 1.0, size: Any = None, *, rng: Any = None,
               dtype: str | None = None) -> Variable:
    """Half-Cauchy draws.

    Examples
    --------
    >>> import gnomon.random as gr
    >>> gr.halfcauchy(size=3).type
    TensorType('float64', (3,))
    """
    return _draw(HalfCauchy(dtype or ""), rng, size, loc, scale)


@dataclass(frozen=True)
class StudentT(RandomVariable):
    """Student's t draws, ``loc + scale * standard_t(df)``."""

    name: ClassVar[str] = "t"
    ndims_params: ClassVar[tuple[int, ...]] = (0, 0, 0)
    param_names: ClassVar[tuple[str, ...]] = ("df", "loc", "scale")
    checks: ClassVar[tuple[Check, ...]] = (Check("df > 0", "parameter 'df' must be > 0"),
                                           Check("scale >= 0", "parameter 'scale' must be >= 0"))
    reparameterized: ClassVar[bool] = True

    def rng_fn(self, rng, df, loc, scale, *, size):
        return loc + scale * rng.standard_t(df, self.batch_shape([df, loc, scale], size))

    def reparam_pullback(self, node: Apply, g: Variable) -> list[Any]:
        from gnomon.gradient import grad_undefined

        df, loc, scale = node.inputs[2:]
        why = "draws of t are reparameterized in loc and scale only, not in df"
        return [grad_undefined(self, 2, df, why), *_loc_scale_pullback(node, g, loc, scale)]


def t(df: Any, loc: Any = 0.0, scale: Any = 1.0, size: Any = None, *, rng: Any = None,
      dtype: str | None = None) -> Variable:
    """Student's t draws with ``df`` degrees of freedom.

    Examples
    --------
    >>> import gnomon.random as gr
    >>> gr.t(3.0, size=2).type
    TensorType('float64', (2,))
    """
    return _draw(StudentT(dtype or ""), rng, size, df, loc, scale)


@dataclass(frozen=True)
class ChiSquare(RandomVariable):
    """Chi-square draws with ``df`` degrees of freedom."""

    name: ClassVar[str] = "chisquare"
    ndims_params: ClassVar[tuple[int, ...]] = (0,)
    param_names: ClassVar[tuple[str, ...]] = ("df",)
    checks: ClassVar[tuple[Check, ...]] = (Check("df > 0", "parameter 'df' must be > 0"),)

    def rng_fn(self, rng, df, *, size):
        return rng.chisquare(df, size)


def chisquare(df: Any, size: Any = None, *, rng: Any = None,
              dtype: str | None = None) -> Variable:
    """Chi-square draws.

    Examples
    --------
    >>> import gnomon.random as gr
    >>> gr.chisquare(2.0, size=3).type
    TensorType('float64', (3,))
    """
    return _draw(ChiSquare(dtype or ""), rng, size, df)


@dataclass(frozen=True)
class Weibull(RandomVariable):
    """Weibull draws with shape ``a`` and scale 1 (NumPy's parametrization)."""

    name: ClassVar[str] = "weibull"
    ndims_params: ClassVar[tuple[int, ...]] = (0,)
    param_names: ClassVar[tuple[str, ...]] = ("a",)
    checks: ClassVar[tuple[Check, ...]] = (Check("a >= 0", "parameter 'a' must be >= 0"),)

    def rng_fn(self, rng, a, *, size):
        return rng.weibull(a, size)


def weibull(a: Any, size: Any = None, *, rng: Any = None,
            dtype: str | None = None) -> Variable:
    """Weibull draws (scale 1; multiply for another scale).

    Examples
    --------
    >>> import gnomon.random as gr
    >>> gr.weibull(1.5, size=3).type
    TensorType('float64', (3,))
    """
    return _draw(Weibull(dtype or ""), rng, size, a)


@dataclass(frozen=True)
class Pareto(RandomVariable):
    """Pareto draws with shape ``alpha`` and minimum ``m``: ``m * (1 + lomax(alpha))``
    (PyTensor's parametrization; NumPy's ``pareto`` is the Lomax part)."""

    name: ClassVar[str] = "pareto"
    ndims_params: ClassVar[tuple[int, ...]] = (0, 0)
    param_names: ClassVar[tuple[str, ...]] = ("alpha", "m")
    checks: ClassVar[tuple[Check, ...]] = (Check("alpha > 0", "parameter 'alpha' must be > 0"),
                                           Check("m > 0", "parameter 'm' must be > 0"))

    def rng_fn(self, rng, alpha, m, *, size):
        return m * (1.0 + rng.pareto(alpha, self.batch_shape([alpha, m], size)))


def pareto(alpha: Any, m: Any = 1.0, size: Any = None, *, rng: Any = None,
           dtype: str | None = None) -> Variable:
    """Pareto draws (values >= ``m``).

    Examples
    --------
    >>> import gnomon.random as gr
    >>> bool((gr.pareto(3.0, 2.0, size=50).eval(mode="numpy") >= 2.0).all())
    True
    """
    return _draw(Pareto(dtype or ""), rng, size, alpha, m)


@dataclass(frozen=True)
class InvGamma(RandomVariable):
    """Inverse-gamma draws, ``1 / gamma(shape, 1 / scale)``."""

    name: ClassVar[str] = "invgamma"
    ndims_params: ClassVar[tuple[int, ...]] = (0, 0)
    param_names: ClassVar[tuple[str, ...]] = ("shape", "scale")
    checks: ClassVar[tuple[Check, ...]] = (Check("shape > 0", "parameter 'shape' must be > 0"),
                                           Check("scale > 0", "parameter 'scale' must be > 0"))

    def rng_fn(self, rng, shape, scale, *, size):
        return 1.0 / rng.gamma(shape, 1.0 / scale, size)


def invgamma(shape: Any, scale: Any = 1.0, size: Any = None, *, rng: Any = None,
             dtype: str | None = None) -> Variable:
    """Inverse-gamma draws.

    Examples
    --------
    >>> import gnomon.random as gr
    >>> gr.invgamma(3.0, 2.0, size=2).type
    TensorType('float64', (2,))
    """
    return _draw(InvGamma(dtype or ""), rng, size, shape, scale)


@dataclass(frozen=True)
class Wald(RandomVariable):
    """Wald (inverse Gaussian) draws with ``mean`` and shape ``scale`` (NumPy's)."""

    name: ClassVar[str] = "wald"
    ndims_params: ClassVar[tuple[int, ...]] = (0, 0)
    param_names: ClassVar[tuple[str, ...]] = ("mean", "scale")
    checks: ClassVar[tuple[Check, ...]] = (Check("mean > 0", "parameter 'mean' must be > 0"),
                                           Check("scale > 0", "parameter 'scale' must be > 0"))

    def rng_fn(self, rng, mean, scale, *, size):
        return rng.wald(mean, scale, size)


def wald(mean: Any, scale: Any, size: Any = None, *, rng: Any = None,
         dtype: str | None = None) -> Variable:
    """Wald draws.

    Examples
    --------
    >>> import gnomon.random as gr
    >>> gr.wald(1.0, 2.0, size=2).type
    TensorType('float64', (2,))
    """
    return _draw(Wald(dtype or ""), rng, size, mean, scale)


@dataclass(frozen=True)
class Triangular(RandomVariable):
    """Triangular draws on ``[left, right]`` with peak ``mode``."""

    name: ClassVar[str] = "triangular"
    ndims_params: ClassVar[tuple[int, ...]] = (0, 0, 0)
    param_names: ClassVar[tuple[str, ...]] = ("left", "mode", "right")
    checks: ClassVar[tuple[Check, ...]] = (
        Check("(left <= mode) & (mode <= right)", "'mode' must be in [left, right]"),
        Check("left < right", "'left' must be less than 'right'"),
    )

    def rng_fn(self, rng, left, mode, right, *, size):
        return rng.triangular(left, mode, right, size)


def triangular(left: Any = -1.0, mode: Any = 0.0, right: Any = 1.0, size: Any = None, *,
               rng: Any = None, dtype: str | None = None) -> Variable:
    """Triangular draws.

    Examples
    --------
    >>> import gnomon.random as gr
    >>> gr.triangular(0.0, 0.5, 1.0, size=2).type
    TensorType('float64', (2,))
    """
    return _draw(Triangular(dtype or ""), rng, size, left, mode, right)


# --- discrete, scalar support ---------------------------------------------------------------


@dataclass(frozen=True)
class Poisson(RandomVariable):
    """Poisson counts with mean ``lam``."""

    name: ClassVar[str] = "poisson"
    ndims_params: ClassVar[tuple[int, ...]] = (0,)
    param_names: ClassVar[tuple[str, ...]] = ("lam",)
    default_dtype: ClassVar[str] = "int64"
    checks: ClassVar[tuple[Check, ...]] = (
        Check("lam >= 0", "parameter 'lam' must be >= 0"),
        # NumPy's limit: larger means overflow int64 counts
        Check("lam < 9.2e18", "parameter 'lam' must be < 9.2e18 (counts are int64)"),
    )

    def rng_fn(self, rng, lam, *, size):
        return rng.poisson(lam, size)


def poisson(lam: Any = 1.0, size: Any = None, *, rng: Any = None,
            dtype: str | None = None) -> Variable:
    """Poisson counts.

    Examples
    --------
    >>> import gnomon.random as gr
    >>> gr.poisson(3.0, size=5).dtype
    'int64'
    """
    return _draw(Poisson(dtype or ""), rng, size, lam)


@dataclass(frozen=True)
class Binomial(RandomVariable):
    """Binomial counts of successes in ``n`` trials with probability ``p``."""

    name: ClassVar[str] = "binomial"
    ndims_params: ClassVar[tuple[int, ...]] = (0, 0)
    param_names: ClassVar[tuple[str, ...]] = ("n", "p")
    default_dtype: ClassVar[str] = "int64"
    checks: ClassVar[tuple[Check, ...]] = (
        Check("n >= 0", "parameter 'n' must be >= 0"),
        Check("(p >= 0) & (p <= 1)", "parameter 'p' must be in [0, 1]"),
    )

    def rng_fn(self, rng, n, p, *, size):
        return rng.binomial(n, p, size)


def binomial(n: Any, p: Any, size: Any = None, *, rng: Any = None,
             dtype: str | None = None) -> Variable:
    """Binomial counts.

    Examples
    --------
    >>> import gnomon.random as gr
    >>> gr.binomial(10, [0.1, 0.5, 0.9]).type
    TensorType('int64', (3,))
    """
    return _draw(Binomial(dtype or ""), rng, size, n, p)


@dataclass(frozen=True)
class Geometric(RandomVariable):
    """The number of trials up to and including the first success (support 1, 2, ...)."""

    name: ClassVar[str] = "geometric"
    ndims_params: ClassVar[tuple[int, ...]] = (0,)
    param_names: ClassVar[tuple[str, ...]] = ("p",)
    default_dtype: ClassVar[str] = "int64"
    checks: ClassVar[tuple[Check, ...]] = (
        Check("(p > 0) & (p <= 1)", "parameter 'p' must be in (0, 1]"),)

    def rng_fn(self, rng, p, *, size):
        return rng.geometric(p, size)


def geometric(p: Any, size: Any = None, *, rng: Any = None,
              dtype: str | None = None) -> Variable:
    """Geometric draws (trials until the first success, counting it).

    Examples
    --------
    >>> import gnomon.random as gr
    >>> gr.geometric(0.3, size=4).dtype
    'int64'
    """
    return _draw(Geometric(dtype or ""), rng, size, p)


@dataclass(frozen=True)
class NegativeBinomial(RandomVariable):
    """The number of failures before ``n`` successes with probability ``p`` (NumPy's)."""

    name: ClassVar[str] = "negative_binomial"
    ndims_params: ClassVar[tuple[int, ...]] = (0, 0)
    param_names: ClassVar[tuple[str, ...]] = ("n", "p")
    default_dtype: ClassVar[str] = "int64"
    checks: ClassVar[tuple[Check, ...]] = (
        Check("n > 0", "parameter 'n' must be > 0"),
        Check("(p > 0) & (p <= 1)", "parameter 'p' must be in (0, 1]"),
    )

    def rng_fn(self, rng, n, p, *, size):
        return rng.negative_binomial(n, p, size)


def negative_binomial(n: Any, p: Any, size: Any = None, *, rng: Any = None,
                      dtype: str | None = None) -> Variable:
    """Negative binomial draws.

    Examples
    --------
    >>> import gnomon.random as gr
    >>> gr.negative_binomial(5.0, 0.5, size=3).dtype
    'int64'
    """
    return _draw(NegativeBinomial(dtype or ""), rng, size, n, p)


@dataclass(frozen=True)
class Bernoulli(RandomVariable):
    """Bernoulli draws: 1 with probability ``p``, else 0."""

    name: ClassVar[str] = "bernoulli"
    ndims_params: ClassVar[tuple[int, ...]] = (0,)
    param_names: ClassVar[tuple[str, ...]] = ("p",)
    default_dtype: ClassVar[str] = "int64"
    checks: ClassVar[tuple[Check, ...]] = (
        Check("(p >= 0) & (p <= 1)", "parameter 'p' must be in [0, 1]"),)

    def rng_fn(self, rng, p, *, size):
        # one uniform per draw, in C order: the stream of the Numba kernel too
        return rng.random(self.batch_shape([p], size)) < p


def bernoulli(p: Any = 0.5, size: Any = None, *, rng: Any = None,
              dtype: str | None = None) -> Variable:
    """Bernoulli draws (0 or 1).

    Examples
    --------
    >>> import gnomon.random as gr
    >>> gr.bernoulli(0.3, size=(2, 2)).type
    TensorType('int64', (2, 2))
    """
    return _draw(Bernoulli(dtype or ""), rng, size, p)


@dataclass(frozen=True)
class Integers(RandomVariable):
    """Integers drawn uniformly from ``[low, high)`` (NumPy's ``Generator.integers``)."""

    name: ClassVar[str] = "integers"
    ndims_params: ClassVar[tuple[int, ...]] = (0, 0)
    param_names: ClassVar[tuple[str, ...]] = ("low", "high")
    default_dtype: ClassVar[str] = "int64"
    checks: ClassVar[tuple[Check, ...]] = (
        Check("low < high", "'low' must be less than 'high' (high is excluded)"),)

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.dtype[0] not in "iu":
            raise GnomonValueError(_at(with_hint(
                f"integers: dtype must be an integer dtype, not {self.dtype}",
                "use uniform() for floats")))

    def rng_fn(self, rng, low, high, *, size):
        return rng.integers(low, high, size, dtype=self.dtype)


def integers(low: Any, high: Any = None, size: Any = None, *, rng: Any = None,
             dtype: str | None = None) -> Variable:
    """Integers uniform on ``[low, high)``; with one bound, on ``[0, low)`` (as in NumPy).

    Examples
    --------
    >>> import numpy as np, gnomon, gnomon.random as gr
    >>> rng = gnomon.shared(np.random.default_rng(0))
    >>> gr.integers(10, size=4, rng=rng).eval(mode="numpy").tolist()
    [8, 6, 5, 2]
    """
    if high is None:
        low, high = 0, low
    return _draw(Integers(dtype or ""), rng, size, low, high)


@dataclass(frozen=True)
class Categorical(RandomVariable):
    """Category indices ``0..k-1`` drawn with probabilities ``p`` (its last dimension)."""

    name: ClassVar[str] = "categorical"
    ndims_params: ClassVar[tuple[int, ...]] = (1,)
    param_names: ClassVar[tuple[str, ...]] = ("p",)
    default_dtype: ClassVar[str] = "int64"
    checks: ClassVar[tuple[Check, ...]] = (
        Check("(p >= 0) & (p <= 1)", "parameter 'p' must be in [0, 1]"),
        Check("np.abs(np.sum(p, axis=-1) - 1) <= 1e-6", "parameter 'p' must sum to 1 "
              "(within 1e-6) along its last dimension"),
    )

    def rng_fn(self, rng, p, *, size):
        # The inverse CDF of one uniform per draw (as PyTensor does).
        batch = self.batch_shape([p], size)
        cdf = np.cumsum(np.broadcast_to(p, batch + p.shape[-1:]), axis=-1)
        u = rng.random(batch)
        out = np.sum(cdf <= u[..., None], axis=-1)
        return np.minimum(out, p.shape[-1] - 1)  # u beyond a cdf that rounds below 1


def categorical(p: Any, size: Any = None, *, rng: Any = None,
                dtype: str | None = None) -> Variable:
    """Category indices with probabilities ``p`` (last dimension; the others are batched).

    Examples
    --------
    >>> import gnomon.random as gr
    >>> gr.categorical([[0.2, 0.8], [0.5, 0.5]], size=(3, 2)).type
    TensorType('int64', (3, 2))
    """
    return _draw(Categorical(dtype or ""), rng, size, p)


# --- multivariate ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Dirichlet(RandomVariable):
    """Dirichlet draws: probability vectors of length ``k`` with concentrations ``alpha``."""

    name: ClassVar[str] = "dirichlet"
    ndim_supp: ClassVar[int] = 1
    ndims_params: ClassVar[tuple[int, ...]] = (1,)
    param_names: ClassVar[tuple[str, ...]] = ("alpha",)
    checks: ClassVar[tuple[Check, ...]] = (Check("alpha > 0", "parameter 'alpha' must be > 0"),)

    def support_shape(self, param_shapes):
        return (param_shapes[0][-1],)

    def rng_fn(self, rng, alpha, *, size):
        if alpha.ndim == 1:
            return rng.dirichlet(alpha, size)
        batch = self.batch_shape([alpha], size)
        return _loop(rng.dirichlet, batch, alpha.shape[-1:], "float64", (alpha, 1))


def dirichlet(alpha: Any, size: Any = None, *, rng: Any = None,
              dtype: str | None = None) -> Variable:
    """Dirichlet draws (the last dimension of ``alpha`` is the number of categories).

    Examples
    --------
    >>> import gnomon.random as gr
    >>> gr.dirichlet([1.0, 2.0, 3.0], size=5).type
    TensorType('float64', (5, 3))
    """
    return _draw(Dirichlet(dtype or ""), rng, size, alpha)


@dataclass(frozen=True)
class Multinomial(RandomVariable):
    """Counts of ``n`` trials falling in ``k`` categories with probabilities ``p`` (..., k)."""

    name: ClassVar[str] = "multinomial"
    ndim_supp: ClassVar[int] = 1
    ndims_params: ClassVar[tuple[int, ...]] = (0, 1)
    param_names: ClassVar[tuple[str, ...]] = ("n", "p")
    default_dtype: ClassVar[str] = "int64"
    checks: ClassVar[tuple[Check, ...]] = (
        Check("n >= 0", "parameter 'n' must be >= 0"),
        Check("(p >= 0) & (p <= 1)", "parameter 'p' must be in [0, 1]"),
        Check("np.abs(np.sum(p, axis=-1) - 1) <= 1e-6", "parameter 'p' must sum to 1 "
              "(within 1e-6) along its last dimension"),
    )

    def support_shape(self, param_shapes):
        return (param_shapes[1][-1],)

    def rng_fn(self, rng, n, p, *, size):
        return rng.multinomial(n, p, size)


def multinomial(n: Any, p: Any, size: Any = None, *, rng: Any = None,
                dtype: str | None = None) -> Variable:
    """Multinomial counts (the last dimension of ``p`` is the number of categories).

    Examples
    --------
    >>> import gnomon.random as gr
    >>> x = gr.multinomial(10, [0.2, 0.3, 0.5], size=4)
    >>> x.type
    TensorType('int64', (4, 3))
    >>> x.eval(mode="numpy").sum(axis=-1).tolist()
    [10, 10, 10, 10]
    """
    return _draw(Multinomial(dtype or ""), rng, size, n, p)


def psd_cholesky(cov: np.ndarray) -> np.ndarray:
    """Lower factors ``L`` with ``L @ L.T == cov`` of a stack of symmetric positive
    semi-definite matrices (only their lower triangles are read): ``np.linalg.cholesky`` where
    it succeeds; for a singular matrix the same algorithm with a zero column where a pivot
    vanishes (valid because the matrix is semi-definite)."""
    cov = np.asarray(cov, dtype="float64")
    try:
        return np.linalg.cholesky(cov)
    except np.linalg.LinAlgError:
        pass
    out = np.zeros_like(cov)
    k = cov.shape[-1]
    for idx in np.ndindex(*cov.shape[:-2]):
        a, fac = cov[idx], out[idx]
        tol = 1e-10 * max(float(np.max(np.abs(np.diag(a)), initial=0.0)), 1e-300)
        for j in range(k):
            d = a[j, j] - fac[j, :j] @ fac[j, :j]
            if d > tol:
                fac[j, j] = np.sqrt(d)
                fac[j + 1:, j] = (a[j + 1:, j] - fac[j + 1:, :j] @ fac[j, :j]) / fac[j, j]
    return out


@dataclass(frozen=True)
class MultivariateNormal(RandomVariable):
    """Multivariate normal draws with ``mean`` (..., k) and covariance ``cov`` (..., k, k).

    A draw is ``mean + L @ z`` with ``L`` the Cholesky factor of ``cov`` and ``z`` standard
    normal (NumPy's ``method="cholesky"``, which it equals for a positive definite ``cov``; a
    singular one gets a factor with zero columns), so draws are reparameterized: differentiable
    in ``mean`` and ``cov`` (only ``cov``'s lower triangle is read, as by ``cholesky``)."""

    name: ClassVar[str] = "multivariate_normal"
    ndim_supp: ClassVar[int] = 1
    ndims_params: ClassVar[tuple[int, ...]] = (1, 2)
    param_names: ClassVar[tuple[str, ...]] = ("mean", "cov")
    checks: ClassVar[tuple[Check, ...]] = (
        Check("is_psd(cov)", "parameter 'cov' must be a symmetric positive semi-definite "
              "matrix"),)
    reparameterized: ClassVar[bool] = True

    def reparam_pullback(self, node: Apply, g: Variable) -> list[Variable | None]:
        # x = mean + L z with z fixed: dx/dmean = I and dL = g z^T (lower triangle), pulled
        # back through the Cholesky factorization (its gradient needs a positive definite cov)
        from gnomon.tensor.elemwise import sum_to
        from gnomon.tensor.linalg import BandPart, Cholesky, solve_triangular
        from gnomon.tensor.shapes import expand_dims

        mean, cov = node.inputs[2:]
        chol = Cholesky()(cov)
        z = solve_triangular(chol, expand_dims(_tv(node.outputs[1]) - mean, -1), lower=True)
        g_chol = BandPart(None, 0)(expand_dims(g, -1) * z.dimshuffle(  # type: ignore[attr-defined]
            *range(z.ndim - 2), "x", z.ndim - 2))
        (g_cov,) = chol.owner.op.pullback(chol.owner, [sum_to(g_chol, chol)])
        return [g, g_cov]

    def support_shape(self, param_shapes):
        k = param_shapes[0][-1]
        if k is None:  # static shapes: the covariance may know it
            k = param_shapes[1][-1]
        return (k,)

    def make_node(self, rng: Any, size: Any, *params: Any) -> Apply:
        node = super().make_node(rng, size, *params)
        mean, cov = node.inputs[2:]
        ks = {d for d in (mean.type.shape[-1], *cov.type.shape[-2:])  # type: ignore[attr-defined]
              if d is not None}
        if len(ks) > 1:
            from gnomon.errors import ShapeError

            raise ShapeError(_at(with_hint(
                f"multivariate_normal: mean has shape {mean.type} and cov {cov.type}; the "
                "mean's last dimension and both of the covariance's last two must be equal",
                "pass mean (..., k) and cov (..., k, k)")))
        return node

    def validate(self, params, size):
        mean, cov = params
        k = mean.shape[-1]
        if cov.shape[-2:] != (k, k):
            from gnomon.errors import ShapeError

            raise ShapeError(with_hint(
                f"multivariate_normal: mean has shape {mean.shape} and cov {cov.shape}; the "
                "mean's last dimension and both of the covariance's last two must be equal",
                "pass mean (..., k) and cov (..., k, k)"))
        super().validate(params, size)

    def rng_fn(self, rng, mean, cov, *, size):
        batch = self.batch_shape([mean, cov], size)
        z = rng.standard_normal((*batch, mean.shape[-1]))
        return mean + (psd_cholesky(cov) @ z[..., None])[..., 0]


def multivariate_normal(mean: Any, cov: Any, size: Any = None, *, rng: Any = None,
                        dtype: str | None = None) -> Variable:
    """Multivariate normal draws (``cov`` symmetric positive semi-definite).

    Examples
    --------
    >>> import numpy as np, gnomon.random as gr
    >>> gr.multivariate_normal(np.zeros(2), np.eye(2), size=(10,)).type
    TensorType('float64', (10, 2))
    """
    return _draw(MultivariateNormal(dtype or ""), rng, size, mean, cov)


# --- issue 10, second part: circular, generalized, compound and sampling distributions -------


@dataclass(frozen=True)
class VonMises(RandomVariable):
    """Von Mises (circular normal) draws on ``[-pi, pi]`` with mode ``mu`` and concentration
    ``kappa`` (NumPy's ``vonmises``)."""

    name: ClassVar[str] = "vonmises"
    ndims_params: ClassVar[tuple[int, ...]] = (0, 0)
    param_names: ClassVar[tuple[str, ...]] = ("mu", "kappa")
    checks: ClassVar[tuple[Check, ...]] = (Check("kappa >= 0", "parameter 'kappa' must be >= 0"),)

    def rng_fn(self, rng, mu, kappa, *, size):
        return rng.vonmises(mu, kappa, size)


def vonmises(mu: Any = 0.0, kappa: Any = 1.0, size: Any = None, *, rng: Any = None,
             dtype: str | None = None) -> Variable:
    """Von Mises draws: angles in ``[-pi, pi]`` around ``mu`` (larger ``kappa``: tighter).

    Examples
    --------
    >>> import numpy as np, gnomon.random as gr
    >>> x = gr.vonmises(0.5, 4.0, size=1000).eval(mode="numpy")
    >>> bool(np.all(np.abs(x) <= np.pi))
    True
    """
    return _draw(VonMises(dtype or ""), rng, size, mu, kappa)


@dataclass(frozen=True)
class GenGamma(RandomVariable):
    """Generalized gamma draws (Stacy's; PyTensor's parametrization): density proportional to
    ``x**(alpha - 1) * exp(-(x / lambd)**p)`` on ``x > 0``; ``(x / lambd)**p`` is
    ``Gamma(alpha / p)``, which is how it is drawn."""

    name: ClassVar[str] = "gengamma"
    ndims_params: ClassVar[tuple[int, ...]] = (0, 0, 0)
    param_names: ClassVar[tuple[str, ...]] = ("alpha", "p", "lambd")
    checks: ClassVar[tuple[Check, ...]] = (
        Check("alpha > 0", "parameter 'alpha' must be > 0"),
        Check("p > 0", "parameter 'p' must be > 0"),
        Check("lambd > 0", "parameter 'lambd' must be > 0"),
    )

    def rng_fn(self, rng, alpha, p, lambd, *, size):
        batch = self.batch_shape([alpha, p, lambd], size)
        return lambd * rng.standard_gamma(alpha / p, batch) ** (1.0 / p)


def gengamma(alpha: Any = 1.0, p: Any = 1.0, lambd: Any = 1.0, size: Any = None, *,
             rng: Any = None, dtype: str | None = None) -> Variable:
    """Generalized gamma draws (``scipy.stats.gengamma(alpha / p, p, scale=lambd)``).

    Examples
    --------
    >>> import gnomon.random as gr
    >>> gr.gengamma(2.0, 1.5, [1.0, 3.0]).type
    TensorType('float64', (2,))
    """
    return _draw(GenGamma(dtype or ""), rng, size, alpha, p, lambd)


@dataclass(frozen=True)
class BetaBinomial(RandomVariable):
    """Beta-binomial counts: ``binomial(n, q)`` with ``q`` drawn from ``beta(a, b)``."""

    name: ClassVar[str] = "betabinomial"
    ndims_params: ClassVar[tuple[int, ...]] = (0, 0, 0)
    param_names: ClassVar[tuple[str, ...]] = ("n", "a", "b")
    default_dtype: ClassVar[str] = "int64"
    checks: ClassVar[tuple[Check, ...]] = (
        Check("n >= 0", "parameter 'n' must be >= 0"),
        Check("a > 0", "parameter 'a' must be > 0"),
        Check("b > 0", "parameter 'b' must be > 0"),
    )

    def rng_fn(self, rng, n, a, b, *, size):
        batch = self.batch_shape([n, a, b], size)
        return rng.binomial(n, rng.beta(a, b, batch), batch)


def betabinomial(n: Any, a: Any, b: Any, size: Any = None, *, rng: Any = None,
                 dtype: str | None = None) -> Variable:
    """Beta-binomial counts in ``0..n``.

    Examples
    --------
    >>> import gnomon.random as gr
    >>> gr.betabinomial(10, 2.0, 3.0, size=4).type
    TensorType('int64', (4,))
    """
    return _draw(BetaBinomial(dtype or ""), rng, size, n, a, b)


@dataclass(frozen=True)
class Hypergeometric(RandomVariable):
    """The number of good items among ``nsample`` drawn without replacement from an urn of
    ``ngood`` good and ``nbad`` bad items (NumPy's ``hypergeometric``)."""

    name: ClassVar[str] = "hypergeometric"
    ndims_params: ClassVar[tuple[int, ...]] = (0, 0, 0)
    param_names: ClassVar[tuple[str, ...]] = ("ngood", "nbad", "nsample")
    default_dtype: ClassVar[str] = "int64"
    checks: ClassVar[tuple[Check, ...]] = (
        Check("ngood >= 0", "parameter 'ngood' must be >= 0"),
        Check("nbad >= 0", "parameter 'nbad' must be >= 0"),
        Check("nsample >= 0", "parameter 'nsample' must be >= 0"),
        Check("nsample <= ngood + nbad",
              "parameter 'nsample' must be at most ngood + nbad (the urn's size)"),
        # NumPy's limit
        Check("(ngood < 10**9) & (nbad < 10**9)", "parameters 'ngood' and 'nbad' must be "
              "less than 10**9"),
    )

    def rng_fn(self, rng, ngood, nbad, nsample, *, size):
        return rng.hypergeometric(ngood, nbad, nsample, size)


def hypergeometric(ngood: Any, nbad: Any, nsample: Any, size: Any = None, *, rng: Any = None,
                   dtype: str | None = None) -> Variable:
    """Hypergeometric counts (good items in a sample drawn without replacement).

    Examples
    --------
    >>> import gnomon.random as gr
    >>> gr.hypergeometric(5, 10, [3, 7]).type
    TensorType('int64', (2,))
    """
    return _draw(Hypergeometric(dtype or ""), rng, size, ngood, nbad, nsample)


_P_IN_RANGE = Check("(p >= 0) & (p <= 1)", "parameter 'p' must be in [0, 1]")
_P_SUMS_TO_ONE = Check("np.abs(np.sum(p, axis=-1) - 1) <= 1e-6",
                       "parameter 'p' must sum to 1 (within 1e-6)")


@dataclass(frozen=True)
class Choice(RandomVariable):
    """Items drawn from a 1-d population ``a``, with or without replacement, uniformly or with
    probabilities ``p`` (NumPy's ``Generator.choice`` on a 1-d ``a``).

    ``size`` is the shape of the sample (its batch shape); without replacement the whole sample
    has distinct positions of ``a``, so its entries are not independent (rewrites that lift
    indexing through random variables leave it alone). The parameters are ``(a,)`` or, when
    ``weighted``, ``(a, p)``; neither has batch dimensions.
    """

    name: ClassVar[str] = "choice"
    default_dtype: ClassVar[str] = "int64"

    replace: bool = True
    weighted: bool = False

    @property
    def ndims_params(self) -> tuple[int, ...]:  # type: ignore[override]
        return (1, 1) if self.weighted else (1,)

    @property
    def param_names(self) -> tuple[str, ...]:  # type: ignore[override]
        return ("a", "p") if self.weighted else ("a",)

    @property
    def checks(self) -> tuple[Check, ...]:  # type: ignore[override]
        return (_P_IN_RANGE, _P_SUMS_TO_ONE) if self.weighted else ()

    def make_node(self, rng: Any, size: Any, *params: Any) -> Apply:
        node = super().make_node(rng, size, *params)
        a, *p = node.inputs[2:]
        for v, what in ((a, "a"), *((q, "p") for q in p)):
            if v.ndim != 1:
                from gnomon.errors import ShapeError

                raise ShapeError(_at(with_hint(
                    f"choice: {what} must be 1-dimensional here, got {v.type}",
                    "gnomon.random.choice takes an int or an array (it draws rows of an "
                    "n-d array); p is a vector of one probability per row")))
        n = a.type.shape[0]  # type: ignore[attr-defined]
        if p and n is not None and p[0].type.shape[0] not in (None, n):  # type: ignore[attr-defined]
            from gnomon.errors import ShapeError

            raise ShapeError(_at(with_hint(
                f"choice: a has {n} entries but p has {p[0].type.shape[0]}",  # type: ignore[attr-defined]
                "give one probability per entry of a")))
        from gnomon.random.op import static_size

        k = node.outputs[1].type.shape  # type: ignore[attr-defined]
        total = None if any(s is None for s in k) else int(np.prod(k, dtype=np.int64))
        if not self.replace and n is not None and total is not None and total > n:
            raise GnomonValueError(_at(with_hint(
                f"choice: cannot take {total} distinct items (size={static_size(node.inputs[1])}"
                f") from a population of {n} without replacement",
                "use replace=True, or a smaller size")))
        if n == 0 and (total is None or total > 0):
            raise GnomonValueError(_at(with_hint(
                "choice: a is empty, so there is nothing to draw",
                "pass a non-empty population, or size=0")))
        return node

    def validate(self, params, size):
        super().validate(params, size)
        a, *p = params
        n = a.shape[0]
        total = int(np.prod(size, dtype=np.int64)) if size is not None else 1
        if p and p[0].shape != (n,):
            raise GnomonValueError(with_hint(
                f"choice: a has {n} entries but p has shape {p[0].shape}",
                "give one probability per entry of a"))
        if n == 0 and total > 0:
            raise GnomonValueError(with_hint(
                "choice: a is empty, so there is nothing to draw",
                "pass a non-empty population, or size=0"))
        if not self.replace:
            avail = n if not p else int(np.count_nonzero(p[0]))
            if total > avail:
                what = "entries of p that are not zero" if p else "items in the population"
                raise GnomonValueError(with_hint(
                    f"choice: cannot take {total} distinct items without replacement: there "
                    f"are only {avail} {what}",
                    "use replace=True, or a smaller size"))

    def rng_fn(self, rng, a, *p, size):
        return rng.choice(a, size, replace=self.replace, p=p[0] if p else None)

    def __str__(self) -> str:
        flags = [f for f, on in (("without replacement", not self.replace),
                                 ("p", self.weighted), ("inplace", self.inplace)) if on]
        return "choice_rv" + (f"{{{', '.join(flags)}}}" if flags else "")


def choice(a: Any, size: Any = None, replace: bool = True, p: Any = None, *, rng: Any = None
           ) -> Variable:
    """Random items of ``a`` (NumPy's ``Generator.choice`` with ``axis=0``).

    Parameters
    ----------
    a : int, array or tensor
        An int ``n`` draws from ``arange(n)``; an array draws its entries along the first axis
        (rows of a matrix). The draw has shape ``size + a.shape[1:]`` and ``a``'s dtype (int64
        for an int).
    size : int, tuple or None
        The sample's shape; ``None``: one item.
    replace : bool
        Without replacement, the sample holds distinct positions of ``a``.
    p : vector, optional
        Probabilities of the entries of ``a`` (default: uniform).

    Examples
    --------
    >>> import numpy as np, gnomon, gnomon.random as gr
    >>> rng = gnomon.shared(np.random.default_rng(0))
    >>> x = gr.choice(5, size=3, replace=False, rng=rng)
    >>> x.type
    TensorType('int64', (3,))
    >>> v = x.eval(mode="numpy")
    >>> len(set(v.tolist())), bool(v.min() >= 0 and v.max() < 5)
    (3, True)
    >>> gr.choice(np.eye(3), size=(2,)).type  # rows of a matrix
    TensorType('float64', (2, 3))
    """
    from gnomon.tensor.basic import as_tensor
    from gnomon.tensor.creation import arange
    from gnomon.tensor.shapes import shape_i

    av = as_tensor(a)
    if av.ndim == 0:
        if av.dtype[0] not in "iu":
            raise GnomonValueError(_at(with_hint(
                f"choice: a must be an int or an array, got a scalar of dtype {av.dtype}",
                "pass an int n (draws from arange(n)) or an array of items")))
        pop = arange(av)
    elif av.ndim == 1:
        pop = av
    else:  # rows: draw their indices, NumPy's own method (same stream)
        pop = arange(shape_i(av, 0))
    params = [pop] if p is None else [pop, p]
    op = Choice(pop.dtype, replace=bool(replace), weighted=p is not None)
    draw = _draw(op, rng, size, *params)
    return draw if av.ndim <= 1 else av[draw]


@dataclass(frozen=True)
class Permutation(RandomVariable):
    """A random permutation of the vector ``x`` (its last dimension; the others are batched,
    each batch row permuted independently)."""

    name: ClassVar[str] = "permutation"
    ndim_supp: ClassVar[int] = 1
    ndims_params: ClassVar[tuple[int, ...]] = (1,)
    param_names: ClassVar[tuple[str, ...]] = ("x",)
    default_dtype: ClassVar[str] = "int64"

    def support_shape(self, param_shapes):
        return (param_shapes[0][-1],)

    def rng_fn(self, rng, x, *, size):
        if x.ndim == 1 and size is None:
            return rng.permutation(x)
        batch = self.batch_shape([x], size)
        return _loop(rng.permutation, batch, x.shape[-1:], x.dtype.name, (x, 1))


def permutation(x: Any, *, rng: Any = None) -> Variable:
    """A random permutation of ``arange(x)`` (an int) or of an array along its first axis
    (NumPy's ``Generator.permutation``).

    Examples
    --------
    >>> import numpy as np, gnomon, gnomon.random as gr
    >>> v = gr.permutation(6).eval(mode="numpy")
    >>> sorted(v.tolist())
    [0, 1, 2, 3, 4, 5]
    >>> gr.permutation(np.eye(3)).type  # rows shuffled
    TensorType('float64', (3, 3))
    """
    from gnomon.tensor.basic import as_tensor
    from gnomon.tensor.creation import arange
    from gnomon.tensor.shapes import shape_i

    xv = as_tensor(x)
    if xv.ndim == 0:
        if xv.dtype[0] not in "iu":
            raise GnomonValueError(_at(with_hint(
                f"permutation: x must be an int or an array, got a scalar of dtype {xv.dtype}",
                "pass an int n (permutes arange(n)) or an array")))
        return _draw(Permutation("int64"), rng, None, arange(xv))
    if xv.ndim == 1:
        return _draw(Permutation(xv.dtype), rng, None, xv)
    return xv[_draw(Permutation("int64"), rng, None, arange(shape_i(xv, 0)))]
