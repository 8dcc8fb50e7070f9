"""Numba and JAX lowerings of gnomon.ppl's private ops.

The backends sit below gnomon.ppl in the layer order and cannot import its ops, so this module
hands its registrations to :func:`gnomon.backends.register_lowerings`, which runs them when
the backend is imported (never importing JAX itself). Random variables join the backends'
tables of draws (``gnomon.backends.numba.random.BODIES``, ``gnomon.backends.jax.random.DRAWS``),
so they get the same batching, ``size`` and generator handling as the built-in ones; like those,
each backend has its own stream (the draws differ from NumPy's, the distribution does not).

* ``flat`` / ``halfflat``: no draws on any backend (the kernel raises the reference's error);
* ``_TruncatedDraw``: the identity on its first input (the inverse-cdf draw);
* ``zerosumnormal``, ``lkjcholeskycov``, ``lkjcorr``, ``ar``: the reference algorithms;
* ``CustomDist(random=...)``: the user's Python function. JAX calls it on the host
  (``jax.pure_callback``, with a NumPy generator made from the key); Numba cannot call it from
  compiled code, so it is declared in ``gnomon.backends.numba.UNLOWERED`` (the node runs with
  NumPy between compiled kernels).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gnomon.backends import register_lowerings
from gnomon.graph.basic import Apply
from gnomon.ppl.distributions import (
    _CustomDistRV,
    _FlatRV,
    _LKJCholeskyCovRV,
    _TruncatedDraw,
    _ZeroSumNormalRV,
)
from gnomon.ppl.multivariate import _LKJCorrRV
from gnomon.ppl.timeseries import _ARRV

__all__: list[str] = []

_NO_FLAT_DRAWS = "cannot draw from a flat variable: its density is improper"


# --- Numba -------------------------------------------------------------------------------------


def _zsn_body(node: Apply, ps: list[str], out: str) -> list[str]:
    sigma, support = ps
    return [
        f"nn = {support}.shape[0]",
        "tot = 0.0",
        "for j in range(nn):",
        f"    v = rng.standard_normal() * {sigma}",
        f"    {out}[j] = v",
        "    tot += v",
        "mean = tot / nn",
        "for j in range(nn):",
        f"    {out}[j] -= mean",
    ]


def _vine_lines(eta: str, n: str) -> list[str]:
    """Lines binding ``chol`` (``n x n``), the Cholesky factor of an LKJ(``eta``)
    correlation matrix drawn by the vine method (as the reference)."""
    return [
        f"nd = {n}",
        "chol = np.zeros((nd, nd))",
        "chol[0, 0] = 1.0",
        f"aa = {eta} + (nd - 1) / 2.0",
        "for i in range(nd - 1):",
        "    aa -= 0.5",
        "    for j in range(i + 1, nd):",
        "        zz = 2.0 * rng.beta(aa, aa) - 1.0",
        "        rest = 1.0",
        "        for k in range(i):",
        "            rest -= chol[j, k] * chol[j, k]",
        "        chol[j, i] = zz * math.sqrt(max(rest, 0.0))",
        "for j in range(1, nd):",
        "    rest = 1.0",
        "    for k in range(j):",
        "        rest -= chol[j, k] * chol[j, k]",
        "    chol[j, j] = math.sqrt(max(rest, 0.0))",
    ]


def _lkj_cov_body(node: Apply, ps: list[str], out: str) -> list[str]:
    eta, stds, _ = ps
    return [
        *_vine_lines(eta, f"{stds}.shape[0]"),
        "pos = 0",
        "for i in range(nd):",
        "    for j in range(i + 1):",
        f"        {out}[pos] = {stds}[i] * chol[i, j]",
        "        pos += 1",
    ]


def _lkj_corr_body(node: Apply, ps: list[str], out: str) -> list[str]:
    eta, support = ps
    return [
        f"mm = {support}.shape[0]",
        "nc = int(round((1.0 + math.sqrt(1.0 + 8.0 * mm)) / 2.0))",
        *_vine_lines(eta, "nc"),
        "pos = 0",
        "for i in range(nd):",
        "    for j in range(i + 1, nd):",
        "        acc = 0.0",
        "        for k in range(nd):",
        "            acc += chol[i, k] * chol[j, k]",
        f"        {out}[pos] = acc",
        "        pos += 1",
    ]


def _ar_body(node: Apply, ps: list[str], out: str) -> list[str]:
    rho, sigma, const, init, support = ps
    return [
        f"pp = {rho}.shape[0]",
        f"nt = {support}.shape[0]",
        "for t in range(pp):",
        f"    {out}[t] = {init}[t]",
        "for t in range(pp, nt):",
        f"    mu = {const}",
        "    for i in range(pp):",
        f"        mu += {rho}[i] * {out}[t - 1 - i]",
        f"    {out}[t] = mu + {sigma} * rng.standard_normal()",
    ]


def _register_numba() -> None:
    from gnomon.backends.numba import UNLOWERED
    from gnomon.backends.numba import random as nbr
    from gnomon.backends.numba.dispatch import numba_funcify
    from gnomon.errors import NotLoweredError

    @numba_funcify.register(_FlatRV)
    def _flat(op: Any, node: Apply) -> str:
        # no draws: the kernel raises; the linker replays the node with the reference,
        # whose error has the full message and hint
        return ("def kernel(rng, size):\n"
                "    if rng is not None:\n"
                f"        raise ValueError({_NO_FLAT_DRAWS!r})\n"
                "    return rng, np.zeros(())\n")

    @numba_funcify.register(_TruncatedDraw)
    def _truncated(op: Any, node: Apply) -> str:
        return "def kernel(x, base, lower, upper):\n    return (x.copy(),)\n"

    def one_matrix(node: Apply) -> str:
        # the reference draws one matrix only (it raises for a batch: so does the fallback)
        if node.outputs[1].ndim != 1:
            raise NotLoweredError("one matrix per draw: the reference raises for a batch")
        return nbr.kernel_source(node)

    nbr.BODIES[_ZeroSumNormalRV] = _zsn_body
    nbr.BODIES[_LKJCholeskyCovRV] = _lkj_cov_body
    nbr.BODIES[_LKJCorrRV] = _lkj_corr_body
    nbr.BODIES[_ARRV] = _ar_body
    numba_funcify.register(_ZeroSumNormalRV)(lambda op, node: nbr.kernel_source(node))
    numba_funcify.register(_ARRV)(lambda op, node: nbr.kernel_source(node))
    numba_funcify.register(_LKJCholeskyCovRV)(lambda op, node: one_matrix(node))
    numba_funcify.register(_LKJCorrRV)(lambda op, node: one_matrix(node))
    UNLOWERED[_CustomDistRV] = ("the draw is the user's Python function (`CustomDist("
                                "random=...)`); it runs with NumPy between compiled kernels")


# --- JAX ---------------------------------------------------------------------------------------


def _register_jax() -> None:
    import jax
    import jax.numpy as jnp

    from gnomon.backends.jax import random as jr
    from gnomon.backends.jax.dispatch import jax_funcify, static_ints
    from gnomon.errors import GnomonValueError, with_hint
    from gnomon.random.type import NoneConst

    def zsn(key: Any, shape: Any, dtype: Any, sigma: Any, support: Any) -> Any:
        z = jax.random.normal(key, shape, dtype) * sigma[..., None]
        return z - jnp.mean(z, axis=-1, keepdims=True)

    def vine(key: Any, batch: tuple[int, ...], eta: Any, n: int) -> Any:
        # every partial correlation from one beta call (one rejection loop to compile):
        # column i of the factor has n - 1 - i of them, Beta(a_i, a_i), a_i = eta + (n-2-i)/2
        cols = np.concatenate([np.full(n - 1 - i, i) for i in range(n - 1)])
        a = eta[..., None] + (n - 2 - cols) / 2.0
        z = 2.0 * jax.random.beta(key, a, a, (*batch, len(cols))) - 1.0
        chol = jnp.zeros((*batch, n, n)).at[..., 0, 0].set(1.0)
        pos = 0
        for i in range(n - 1):
            rest = 1.0 - jnp.sum(chol[..., i + 1:, :i] ** 2, axis=-1)
            zi = z[..., pos:pos + n - 1 - i]
            chol = chol.at[..., i + 1:, i].set(zi * jnp.sqrt(jnp.maximum(rest, 0.0)))
            pos += n - 1 - i
        for j in range(1, n):
            rest = 1.0 - jnp.sum(chol[..., j, :j] ** 2, axis=-1)
            chol = chol.at[..., j, j].set(jnp.sqrt(jnp.maximum(rest, 0.0)))
        return chol

    def lkj_cov(key: Any, shape: Any, dtype: Any, eta: Any, stds: Any, support: Any) -> Any:
        n = stds.shape[-1]
        chol = stds[..., :, None] * vine(key, tuple(shape[:-1]), eta, n)
        rows, cols = np.tril_indices(n)
        return chol[..., rows, cols].astype(dtype)

    def lkj_corr(key: Any, shape: Any, dtype: Any, eta: Any, support: Any) -> Any:
        n = round(float(1 + np.sqrt(1 + 8 * shape[-1])) / 2)
        chol = vine(key, tuple(shape[:-1]), eta, n)
        r = chol @ jnp.swapaxes(chol, -1, -2)
        rows, cols = np.triu_indices(n, 1)
        return r[..., rows, cols].astype(dtype)

    def ar(key: Any, shape: Any, dtype: Any, rho: Any, sigma: Any, const: Any, init: Any,
           support: Any) -> Any:
        p, n = rho.shape[-1], shape[-1]
        eps = jax.random.normal(key, (*shape[:-1], n - p), dtype)
        xs = [init[..., t] for t in range(p)]
        for t in range(p, n):
            mu = const + sum(rho[..., i] * xs[t - 1 - i] for i in range(p))
            xs.append(mu + sigma * eps[..., t - p])
        return jnp.stack(xs, axis=-1)

    @jax_funcify.register(_FlatRV)
    def _flat(op: Any, node: Apply) -> Any:
        def fn(key: Any, size: Any) -> Any:
            raise GnomonValueError(with_hint(
                f"cannot draw from a {op.name} variable: its density is improper",
                "give the variable a proper prior, or leave it out of the variables to draw"))

        return fn

    jr.DRAWS.update({_ZeroSumNormalRV: zsn, _LKJCholeskyCovRV: lkj_cov, _LKJCorrRV: lkj_corr,
                     _ARRV: ar})
    for cls in (_ZeroSumNormalRV, _LKJCholeskyCovRV, _LKJCorrRV, _ARRV):
        jax_funcify.register(cls)(jr._lower)

    @jax_funcify.register(_TruncatedDraw)
    def _truncated(op: Any, node: Apply) -> Any:
        return lambda x, base, lower, upper: x

    @jax_funcify.register(_CustomDistRV)
    def _custom(op: Any, node: Apply) -> Any:
        # the user's NumPy function on the host, with a generator made from the key
        dtype = np.dtype(op.dtype)
        sized = node.inputs[1] is not NoneConst

        def fn(key: Any, size: Any, *params: Any) -> tuple[Any, Any]:
            if op.random_fn is None:
                op.rng_fn(None, size=None)  # raises the reference's error
            ps = [jnp.asarray(p) for p in params]
            batch = (static_ints([size[i] for i in range(len(size))], node, "size") if sized
                     else jnp.broadcast_shapes(*(p.shape for p in ps)))
            nxt, sub = jax.random.split(jnp.asarray(key, jnp.uint32))

            def host(k: Any, *vals: Any) -> np.ndarray:
                rng = jr.generator_from_key(np.asarray(k))
                out = op.random_fn(*vals, rng=rng, size=batch if sized else None)
                return np.asarray(np.broadcast_to(out, batch), dtype=dtype)

            out = jax.pure_callback(host, jax.ShapeDtypeStruct(batch, dtype), sub, *ps)
            return nxt, out

        return fn


# --- C ------------------------------------------------------------------------------------------


def _register_c() -> None:
    from gnomon.backends.c import _NOT_YET, _RANDOM, UNLOWERED
    from gnomon.ppl.distributions import _HalfFlatRV

    for cls in (_ARRV, _CustomDistRV, _FlatRV, _HalfFlatRV, _LKJCholeskyCovRV, _LKJCorrRV,
                _ZeroSumNormalRV):
        UNLOWERED[cls] = _RANDOM
    UNLOWERED[_TruncatedDraw] = _NOT_YET


register_lowerings("c", _register_c)
register_lowerings("numba", _register_numba)
register_lowerings("jax", _register_jax)
