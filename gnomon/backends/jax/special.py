"""JAX lowerings of the special functions of ``gnomon/scalar/special.py``.

Most map to ``jax.scipy.special`` (or ``jax.numpy``), computed in the output dtype NumPy picks
(inputs are cast first, as in :mod:`gnomon.backends.jax.scalar`): float64 results agree with
SciPy to rounding, float32 results are computed in float32 by XLA. The parameter derivative of
``gammainc`` is ``jax.lax.igamma_grad_a``.

JAX has no ``gammaincinv``, ``gammainccinv``, ``betaincinv`` nor the derivatives of ``betainc``
in ``a`` and ``b``, and its ``hyp2f1`` is inaccurate for ``z`` far below -1: these run SciPy's
(the reference's) implementation on the host through
``jax.pure_callback``, inside the jitted function. That keeps ``mode="jax"`` working for graphs
that use them (quantile functions, gradients of beta CDFs), at the price of a device-to-host
copy on accelerators, and ``jax.grad`` of a :func:`~gnomon.backends.jax.to_jax` callable
cannot differentiate through them (gnomon's own ``grad`` differentiates before lowering and
needs no JAX derivative).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import jax.scipy.special as jss
import numpy as np

from gnomon.backends.jax.dispatch import JaxFn, jax_scalar_funcify
from gnomon.errors import NotLoweredError
from gnomon.scalar import special as ss


def _cast(x: Any, dtype: str) -> Any:
    return x if x.dtype == dtype else x.astype(dtype)


def _real(op: Any, in_dtypes: Sequence[str]) -> None:
    if any(np.dtype(d).kind == "c" for d in in_dtypes):
        raise NotLoweredError(f"{op} of complex numbers (inputs {', '.join(in_dtypes)})")


def _register(cls: type, fn: Callable[..., Any]) -> None:
    """Lower ``cls`` as ``fn`` applied to the inputs cast to the output dtype."""

    def lower(op: Any, in_dtypes: Sequence[str], out_dtypes: Sequence[str]) -> JaxFn:
        _real(op, in_dtypes)
        out = out_dtypes[0]
        return lambda *xs: _cast(fn(*[_cast(x, out) for x in xs]), out)

    jax_scalar_funcify.register(cls)(lower)


def _xlogy(x: Any, y: Any) -> Any:
    # SciPy: 0 where x == 0 unless y is NaN (jss.xlogy gives 0 there too, but NaN * 0 = NaN
    # for y = inf); computed on safe values so no branch produces NaN under jax.grad
    zero = (x == 0) & ~jnp.isnan(y)
    return jnp.where(zero, jnp.zeros_like(x), x * jnp.log(jnp.where(zero, jnp.ones_like(y), y)))


def _xlog1py(x: Any, y: Any) -> Any:
    zero = (x == 0) & ~jnp.isnan(y)
    return jnp.where(zero, jnp.zeros_like(x),
                     x * jnp.log1p(jnp.where(zero, jnp.zeros_like(y), y)))


def _gammainc_der_a(a: Any, x: Any) -> Any:
    # igamma_grad_a is NaN at x = 0 and x = inf, where the derivative is 0 (the reference's
    # convention); invalid a (a <= 0) stays NaN
    edge = ((x == 0) | jnp.isinf(x)) & (a > 0)
    safe = jnp.where(edge, jnp.ones_like(x), x)
    return jnp.where(edge, jnp.zeros_like(x), jax.lax.igamma_grad_a(a, safe))


def _betaln(a: Any, b: Any) -> Any:
    # jss.betaln for positive arguments; elsewhere SciPy's values where JAX gives nan: +inf
    # where either argument is 0, -inf where one is +inf and the other finite and positive,
    # log|B| from gammaln for negative arguments (nan at ratios of poles, where SciPy is finite)
    pos = (a > 0) & (b > 0)
    one = jnp.ones_like(a)
    out = jnp.where(pos, jss.betaln(jnp.where(pos, a, one), jnp.where(pos, b, one)),
                    jss.gammaln(a) + jss.gammaln(b) - jss.gammaln(a + b))
    zero = ((a == 0) | (b == 0)) & ~jnp.isnan(a) & ~jnp.isnan(b)
    out = jnp.where(zero, jnp.asarray(jnp.inf, a.dtype), out)
    minf = (jnp.isposinf(a) & jnp.isfinite(b) & (b > 0)) | (jnp.isposinf(b) & jnp.isfinite(a)
                                                            & (a > 0))
    return jnp.where(minf, jnp.asarray(-jnp.inf, a.dtype), out)


for _cls, _fn in (
    (ss.Ndtr, jss.ndtr), (ss.LogNdtr, jss.log_ndtr), (ss.Ndtri, jss.ndtri),
    (ss.LogAddExp, jnp.logaddexp), (ss.LogAddExp2, jnp.logaddexp2),
    (ss.Xlogy, _xlogy), (ss.Xlog1py, _xlog1py), (ss.BetaLn, _betaln),
    (ss.GammaInc, jss.gammainc), (ss.GammaIncC, jss.gammaincc),
    (ss.GammaIncDerA, _gammainc_der_a), (ss.BetaInc, jss.betainc),
    (ss.I0, jss.i0), (ss.I0e, jss.i0e), (ss.I1, jss.i1), (ss.I1e, jss.i1e),
):
    _register(_cls, _fn)


def _host(op: Any, in_dtypes: Sequence[str], out_dtypes: Sequence[str]) -> JaxFn:
    """``op``'s SciPy reference run on the host with ``jax.pure_callback``."""
    _real(op, in_dtypes)

    def f(*xs: Any) -> Any:
        # the dtype JAX uses for the output dtype now (float32 for float64 where the graph runs
        # without x64, as the other lowerings' results are)
        out = jax.dtypes.canonicalize_dtype(np.dtype(out_dtypes[0]))

        def on_host(*vs: Any) -> np.ndarray:
            return np.asarray(op.impl(*[np.asarray(v) for v in vs])).astype(out)

        shape = jnp.broadcast_shapes(*[jnp.shape(x) for x in xs])
        return jax.pure_callback(on_host, jax.ShapeDtypeStruct(shape, out), *xs,
                                 vmap_method="broadcast_all")

    return f


# jax.scipy.special.hyp2f1 exists but is wrong far outside |z| < 1 (-inf at z = -47017, where
# SciPy gives 3.2e-4) and takes seconds to compile: SciPy's runs instead.
for _host_cls in (ss.GammaIncInv, ss.GammaIncCInv, ss.BetaIncInv, ss.BetaIncDer, ss.Hyp2F1):
    jax_scalar_funcify.register(_host_cls)(_host)
