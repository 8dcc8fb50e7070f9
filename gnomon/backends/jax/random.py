"""Random variables in JAX: ``jax.random`` with a key threaded as the generator state.

Inside the traced program an RNG value is a raw ``jax.random`` key (``uint32[2]``, the
``PRNGKey`` format). A random variable splits its key: one half draws, the other is
``next_rng``. At the function's boundary (:class:`RandomJaxThunk`) generators and keys are
converted, deterministically:

* a ``numpy.random.Generator`` becomes the key made of two 32-bit words drawn from a *copy* of
  it (the caller's generator is never advanced);
* a key becomes ``Generator(PCG64(key words))`` (seeded through NumPy's ``SeedSequence``).

So a shared generator's state stays a NumPy ``Generator`` between calls (every backend reads
it), a call with a default update advances it and the next call draws new values, and the same
seed reproduces the same draws. The streams differ from NumPy's and Numba's.

Parameter checks cannot raise inside ``jax.jit``: like ``jax.random``, invalid parameters give
``nan`` (float draws) or ``-1`` (integer draws) where they are invalid.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from gnomon.backends.jax.dispatch import jax_funcify, static_ints
from gnomon.backends.jax.linker import JaxThunk
from gnomon.compile.schedule import Program
from gnomon.graph.basic import Apply
from gnomon.random import distributions as d
from gnomon.random.op import RandomVariable
from gnomon.random.type import NoneConst, RandomGeneratorType, copy_generator

#: ``draw(key, shape, dtype, *params) -> array``; ``params`` are broadcast to ``shape`` (plus
#: their core dimensions), ``shape`` is the batch shape plus the support shape.
Draw = Callable[..., Any]


def _categorical(key: Any, shape: tuple[int, ...], dtype: Any, p: Any) -> Any:
    with np.errstate(divide="ignore"):
        logits = jnp.log(p)
    return jax.random.categorical(key, logits, axis=-1, shape=shape).astype(dtype)


def _negative_binomial(key: Any, shape: tuple[int, ...], dtype: Any, n: Any, p: Any) -> Any:
    # jax.random has none: a Poisson draw whose mean is Gamma(n) * (1 - p) / p
    k1, k2 = jax.random.split(key)
    lam = jax.random.gamma(k1, n, shape) * (1 - p) / p
    return jax.random.poisson(k2, lam, shape, dtype)


def _vonmises(key: Any, shape: tuple[int, ...], dtype: Any, mu: Any, kappa: Any) -> Any:
    # jax.random has none: Best and Fisher's rejection sampler (NumPy's algorithm), every
    # entry retried until accepted, with NumPy's uniform angle for tiny kappa and wrapped
    # normal for huge kappa
    k = kappa
    r = 1.0 + jnp.sqrt(1.0 + 4.0 * k * k)
    rho = (r - jnp.sqrt(2.0 * r)) / (2.0 * k)
    s = jnp.where(k < 1e-5, 1.0 / k + k, (1.0 + rho * rho) / (2.0 * rho))
    k_loop, k_sign, k_edge = jax.random.split(key, 3)
    exact = (k >= 1e-8) & (k <= 1e6) & jnp.isfinite(s)

    def body(state: tuple[Any, Any, Any]) -> tuple[Any, Any, Any]:
        kk, w, done = state
        kk, k1, k2 = jax.random.split(kk, 3)
        z = jnp.cos(jnp.pi * jax.random.uniform(k1, shape, dtype))
        v = jax.random.uniform(k2, shape, dtype)
        wn = (1.0 + s * z) / (s + z)
        y = k * (s - wn)
        with np.errstate(all="ignore"):
            acc = (y * (2.0 - y) - v >= 0) | (jnp.log(y / v) + 1.0 - y >= 0)
        return kk, jnp.where(done, w, wn), done | acc

    _, w, _ = jax.lax.while_loop(lambda st: ~jnp.all(st[2]), body,
                                 (k_loop, jnp.zeros(shape, dtype), ~exact))
    sign = jnp.where(jax.random.uniform(k_sign, shape) < 0.5, -1.0, 1.0)
    ang = sign * jnp.arccos(jnp.clip(w, -1.0, 1.0))
    u_edge = jax.random.uniform(k_edge, shape, dtype)
    ang = jnp.where(k < 1e-8, jnp.pi * (2.0 * u_edge - 1.0), ang)
    ang = jnp.where(k > 1e6, jax.random.normal(k_edge, shape, dtype) / jnp.sqrt(k), ang)
    return jnp.mod(mu + ang + jnp.pi, 2.0 * jnp.pi) - jnp.pi


def _hypergeometric(key: Any, shape: tuple[int, ...], dtype: Any, ngood: Any, nbad: Any,
                    nsample: Any) -> Any:
    # jax.random has none: inversion of one uniform per entry by a chop-down search from the
    # mode (the Numba kernel's algorithm), all entries stepping together until every one is
    # found: O(largest standard deviation) steps
    from jax.scipy.special import gammaln

    g, b, n = (jnp.asarray(v).astype(jnp.float64) for v in (ngood, nbad, nsample))
    tot = g + b
    lo, hi = jnp.maximum(0.0, n - b), jnp.minimum(n, g)
    m = jnp.clip(jnp.floor((n + 1) * (g + 1) / (tot + 2)), lo, hi)
    pm = jnp.exp(gammaln(g + 1) - gammaln(m + 1) - gammaln(g - m + 1) + gammaln(b + 1)
                 - gammaln(n - m + 1) - gammaln(b - n + m + 1) - gammaln(tot + 1)
                 + gammaln(n + 1) + gammaln(tot - n + 1))
    u = jax.random.uniform(key, shape, jnp.float64) - pm

    def more(st: tuple[Any, ...]) -> Any:
        u, _, left, right, *_ = st
        return jnp.any((u > 0) & ((left > lo) | (right < hi)))

    def step(st: tuple[Any, ...]) -> tuple[Any, ...]:
        u, k, left, right, pl, pr = st
        active = u > 0
        go_l = active & (left > lo)
        pl = jnp.where(go_l, pl * left * (b - n + left) / ((g - left + 1) * (n - left + 1)), pl)
        left = jnp.where(go_l, left - 1, left)
        u = jnp.where(go_l, u - pl, u)
        k = jnp.where(go_l & (u <= 0), left, k)
        go_r = (u > 0) & (right < hi)
        pr = jnp.where(go_r, pr * (g - right) * (n - right) / ((right + 1) * (b - n + right + 1)),
                       pr)
        right = jnp.where(go_r, right + 1, right)
        u = jnp.where(go_r, u - pr, u)
        k = jnp.where(go_r & (u <= 0), right, k)
        return u, k, left, right, pl, pr

    full = [jnp.broadcast_to(v, shape) for v in (m, m, m, pm, pm)]
    k = jax.lax.while_loop(more, step, (u, *full))[1]
    return k.astype(dtype)


def _betabinomial(key: Any, shape: tuple[int, ...], dtype: Any, n: Any, a: Any, b: Any) -> Any:
    k1, k2 = jax.random.split(key)
    q = jax.random.beta(k1, a, b, shape)
    return jax.random.binomial(k2, n.astype(q.dtype), q, shape).astype(dtype)


def _mvnormal(key: Any, shape: tuple[int, ...], dtype: Any, mean: Any, cov: Any) -> Any:
    # mean + L z with L the Cholesky factor (the reference's draw, reparameterized); a singular
    # covariance, where Cholesky gives nan, gets the factor U sqrt(w) of its eigendecomposition.
    # The parameters come unbroadcast (see _SELF_BROADCAST): one factor per covariance, not
    # per draw, and the eigendecomposition only runs when some Cholesky factor failed.
    chol = jnp.linalg.cholesky(cov)
    ok = jnp.all(jnp.isfinite(chol), axis=(-2, -1), keepdims=True)

    def with_fallback(c: Any) -> Any:
        w, u = jnp.linalg.eigh(c)
        return jnp.where(ok, chol, u * jnp.sqrt(jnp.maximum(w, 0.0))[..., None, :])

    fac = jax.lax.cond(jnp.all(ok), lambda c: chol, with_fallback, cov)
    z = jax.random.normal(key, shape, dtype)
    return mean + (fac @ z[..., None])[..., 0]


DRAWS: dict[type[RandomVariable], Draw] = {
    d.HalfNormal: lambda k, s, t, loc, sc: loc + sc * jnp.abs(jax.random.normal(k, s, t)),
    d.LogNormal: lambda k, s, t, m, sg: jnp.exp(m + sg * jax.random.normal(k, s, t)),
    d.Laplace: lambda k, s, t, loc, sc: loc + sc * jax.random.laplace(k, s, t),
    d.Logistic: lambda k, s, t, loc, sc: loc + sc * jax.random.logistic(k, s, t),
    d.Gumbel: lambda k, s, t, loc, sc: loc + sc * jax.random.gumbel(k, s, t),
    d.Cauchy: lambda k, s, t, loc, sc: loc + sc * jax.random.cauchy(k, s, t),
    d.HalfCauchy: lambda k, s, t, loc, sc: loc + sc * jnp.abs(jax.random.cauchy(k, s, t)),
    d.StudentT: lambda k, s, t, df, loc, sc: loc + sc * jax.random.t(k, df, s, t),
    d.ChiSquare: lambda k, s, t, df: jax.random.chisquare(k, df, s, t),
    d.Weibull: lambda k, s, t, a: jax.random.weibull_min(k, 1.0, a, s, t),
    d.Pareto: lambda k, s, t, a, m: m * jax.random.pareto(k, a, s, t),
    d.InvGamma: lambda k, s, t, a, sc: sc / jax.random.gamma(k, a, s, t),
    # jax's wald has shape parameter 1: lambda * IG(mean / lambda, 1) is IG(mean, lambda)
    d.Wald: lambda k, s, t, m, sc: sc * jax.random.wald(k, m / sc, s, t),
    d.Triangular: lambda k, s, t, lo, mo, hi: jax.random.triangular(k, lo, mo, hi, s, t),
    d.Geometric: lambda k, s, t, p: jax.random.geometric(k, p, s, t),
    d.NegativeBinomial: _negative_binomial,
    d.Normal: lambda k, s, t, loc, scale: loc + scale * jax.random.normal(k, s, t),
    d.StandardNormal: lambda k, s, t: jax.random.normal(k, s, t),
    d.Uniform: lambda k, s, t, lo, hi: lo + (hi - lo) * jax.random.uniform(k, s, t),
    d.Gamma: lambda k, s, t, a, scale: jax.random.gamma(k, a, s, t) * scale,
    d.Beta: lambda k, s, t, a, b: jax.random.beta(k, a, b, s, t),
    d.Exponential: lambda k, s, t, scale: jax.random.exponential(k, s, t) * scale,
    d.Poisson: lambda k, s, t, lam: jax.random.poisson(k, lam, s, t),
    d.Binomial: lambda k, s, t, n, p: jax.random.binomial(k, n, p, s).astype(t),
    d.Bernoulli: lambda k, s, t, p: jax.random.bernoulli(k, p, s).astype(t),
    d.Integers: lambda k, s, t, lo, hi: jax.random.randint(k, s, lo, hi, t),
    d.Categorical: _categorical,
    d.Dirichlet: lambda k, s, t, a: jax.random.dirichlet(k, a, s[:-1], t),
    # p is already broadcast to the batch shape (jax's shape= refuses a batched n)
    d.Multinomial: lambda k, s, t, n, p: jax.random.multinomial(
        k, n.astype(p.dtype), p, dtype=p.dtype).astype(t),
    d.MultivariateNormal: _mvnormal,
    d.VonMises: _vonmises,
    d.GenGamma: lambda k, s, t, a, p, lam: lam * jax.random.gamma(k, a / p, s, t) ** (1.0 / p),
    d.BetaBinomial: _betabinomial,
    d.Hypergeometric: _hypergeometric,
    # every batch row permuted on its own
    d.Permutation: lambda k, s, t, x: jax.random.permutation(k, x, axis=-1, independent=True),
}


#: Draws that take their parameters unbroadcast (they broadcast against ``shape`` themselves).
_SELF_BROADCAST = (d.MultivariateNormal,)


def _lower(op: RandomVariable, node: Apply) -> Callable[..., Any]:
    draw = DRAWS[type(op)]
    dtype = np.dtype(op.dtype)
    sized = node.inputs[1] is not NoneConst
    cores = op.ndims_params
    n_supp = op.ndim_supp

    def fn(key: Any, size: Any, *args: Any) -> tuple[Any, Any]:
        ps = [jnp.asarray(p) for p in args]
        bshapes = [tuple(p.shape[: p.ndim - c]) for p, c in zip(ps, cores, strict=True)]
        # under jit a constant size is a NumPy array; one computed from inputs is a tracer,
        # which static_ints refuses (the function then runs op by op)
        batch = (static_ints([size[i] for i in range(len(size))], node, "size") if sized
                 else jnp.broadcast_shapes(*bshapes))
        supp = tuple(int(s) for s in op.support_shape([p.shape for p in ps]))
        # floats compute in the output dtype; integer parameters stay integers
        cast = [p.astype(dtype) if dtype.kind == "f" else p for p in ps]
        full = cast if isinstance(op, _SELF_BROADCAST) else [
            jnp.broadcast_to(p, batch + p.shape[p.ndim - c:])
            for p, c in zip(cast, cores, strict=True)]
        key = jnp.asarray(key, jnp.uint32)
        nxt, sub = jax.random.split(key)
        out = draw(sub, batch + supp, dtype, *full).astype(dtype)
        ok = _valid(op, ps, batch)
        if ok is not None:
            bad = jnp.nan if dtype.kind == "f" else -1
            ok = ok.reshape(ok.shape + (1,) * n_supp)
            out = jnp.where(ok, out, jnp.asarray(bad, dtype))
        return nxt, out

    return fn


def _valid(op: RandomVariable, ps: Sequence[Any], batch: tuple[int, ...]) -> Any:
    """Where the parameters pass ``op.checks``, as a boolean array of the batch shape."""
    values = dict(zip(op.param_names, ps, strict=True))
    ok = None
    for c in op.checks:
        if c.expr == "is_psd(cov)":
            continue  # an SVD of an invalid covariance gives nan or garbage, as in jax.random
        names = c.names(op.param_names)
        r = jnp.asarray(eval(c.expr, {"np": jnp}, {n: values[n] for n in names}))
        # reduce core dimensions the expression kept (p >= 0 on p of shape (..., k))
        core = max((op.ndims_params[op.param_names.index(n)] for n in names), default=0)
        nd_batch = max(values[n].ndim - op.ndims_params[op.param_names.index(n)]
                       for n in names)
        if r.ndim > nd_batch and core:
            r = jnp.all(r, axis=tuple(range(nd_batch, r.ndim)))
        r = jnp.broadcast_to(r, batch)
        ok = r if ok is None else ok & r
    return ok


for _cls in DRAWS:
    jax_funcify.register(_cls)(_lower)


@jax_funcify.register(d.Choice)
def _choice(op: d.Choice, node: Apply) -> Callable[..., Any]:
    # the sample is drawn at once (distinct entries without replacement), so not through the
    # batched _lower; invalid p gives -1 (nan for float populations) everywhere
    dtype = np.dtype(op.dtype)
    sized = node.inputs[1] is not NoneConst

    def fn(key: Any, size: Any, a: Any, *p: Any) -> tuple[Any, Any]:
        a = jnp.asarray(a)
        batch = (static_ints([size[i] for i in range(len(size))], node, "size") if sized
                 else ())
        nxt, sub = jax.random.split(jnp.asarray(key, jnp.uint32))
        out = jax.random.choice(sub, a, batch, replace=op.replace,
                                p=jnp.asarray(p[0]) if p else None).astype(dtype)
        ok = _valid(op, [a, *(jnp.asarray(q) for q in p)], batch)
        if ok is not None:
            out = jnp.where(ok, out, jnp.asarray(jnp.nan if dtype.kind == "f" else -1, dtype))
        return nxt, out

    return fn


# --- generators at the boundary ---------------------------------------------------------------


def key_from_generator(rng: np.random.Generator) -> np.ndarray:
    """The JAX key (``uint32[2]``) standing for ``rng``'s state; ``rng`` is not advanced.

    Examples
    --------
    >>> g = np.random.default_rng(0)
    >>> bool((key_from_generator(g) == key_from_generator(g)).all())
    True
    """
    return copy_generator(rng).integers(0, 2**32, size=2, dtype=np.uint32)


def generator_from_key(key: Any) -> np.random.Generator:
    """The NumPy generator a JAX key stands for after a call (deterministic)."""
    return np.random.Generator(np.random.PCG64(np.asarray(key, dtype=np.uint32)))


def has_generators(program: Program) -> bool:
    """Whether ``program`` takes or returns random generators."""
    return any(isinstance(v.type, RandomGeneratorType)
               for v in (*program.inputs, *program.outputs))


class RandomJaxThunk(JaxThunk):
    """A :class:`~gnomon.backends.jax.linker.JaxThunk` whose generator inputs become keys and
    whose key outputs become generators (see the module docstring)."""

    def __init__(self, program: Program) -> None:
        super().__init__(program)
        self._rng_in = [i for i, v in enumerate(program.inputs)
                        if isinstance(v.type, RandomGeneratorType)]
        self._rng_out = [i for i, v in enumerate(program.outputs)
                         if isinstance(v.type, RandomGeneratorType)]

    def __call__(self, values: list[Any]) -> list[Any]:
        values = list(values)
        for i in self._rng_in:
            values[i] = key_from_generator(values[i])
        outs = super().__call__(values)
        for i in self._rng_out:
            outs[i] = generator_from_key(outs[i])
        return outs
