"""JAX lowerings of linear algebra (:mod:`gnomon.tensor.linalg`).

Semantics follow the NumPy reference where JAX's defaults differ: ``cholesky`` and ``eigh`` read
only the lower triangle (JAX symmetrizes by default), ``solve`` treats ``b`` as a vector only when
it is 1-d, batch dimensions broadcast, ``pinv`` uses NumPy's default cutoff.

One difference cannot be removed under ``jax.jit``: a LAPACK failure (a singular matrix for
``inv`` / ``solve``, a matrix that is not positive definite for ``cholesky``) gives NaNs or
infinities in JAX instead of raising :class:`~gnomon.tensor.linalg.LinAlgError`, because the
values are not known when the function is traced.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import jax.scipy.linalg as jsl
import numpy as np

from gnomon.backends.jax.dispatch import JaxFn, jax_funcify
from gnomon.backends.jax.scalar import as_dtype
from gnomon.graph.basic import Apply
from gnomon.tensor.linalg import (
    QR,
    SVD,
    BandPart,
    Cholesky,
    Det,
    Eigh,
    MatrixInverse,
    Pinv,
    SLogDet,
    Solve,
    SolveTriangular,
)


def _dt(node: Apply, i: int = 0) -> str:
    return node.outputs[i].type.dtype  # type: ignore[attr-defined]


def _broadcast_batch(a: Any, b: Any) -> tuple[Any, Any]:
    """Broadcast the batch dimensions of a stack of matrices ``a`` and matrices ``b``."""
    batch = jnp.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    return (jnp.broadcast_to(a, (*batch, *a.shape[-2:])),
            jnp.broadcast_to(b, (*batch, *b.shape[-2:])))



@jax_funcify.register(BandPart)
def _band_part(op: BandPart, node: Apply) -> JaxFn:
    lo, hi = op.lo, op.hi

    def f(x: Any) -> Any:
        m, n = x.shape[-2:]
        d = np.arange(n)[None, :] - np.arange(m)[:, None]
        mask = np.ones((m, n), dtype=bool)
        if lo is not None:
            mask &= d >= lo
        if hi is not None:
            mask &= d <= hi
        return jnp.where(mask, x, jnp.zeros((), x.dtype))

    return f


@jax_funcify.register(MatrixInverse)
def _inv(op: MatrixInverse, node: Apply) -> JaxFn:
    dtype = _dt(node)
    return lambda a: jnp.linalg.inv(as_dtype(a, dtype))


@jax_funcify.register(Det)
def _det(op: Det, node: Apply) -> JaxFn:
    dtype = _dt(node)
    return lambda a: jnp.linalg.det(as_dtype(a, dtype))


@jax_funcify.register(SLogDet)
def _slogdet(op: SLogDet, node: Apply) -> JaxFn:
    dtype = _dt(node)

    def f(a: Any) -> Any:
        sign, logdet = jnp.linalg.slogdet(as_dtype(a, dtype))
        return sign, logdet

    return f


@jax_funcify.register(Solve)
def _solve(op: Solve, node: Apply) -> JaxFn:
    dtype = _dt(node)

    def f(a: Any, b: Any) -> Any:
        a, b = as_dtype(a, dtype), as_dtype(b, dtype)
        if b.ndim == 1:  # NumPy 2: a vector only when b is 1-d
            return jnp.linalg.solve(a, b[:, None])[..., 0]
        a, b = _broadcast_batch(a, b)
        return jnp.linalg.solve(a, b)

    return f


@jax_funcify.register(SolveTriangular)
def _solve_triangular(op: SolveTriangular, node: Apply) -> JaxFn:
    dtype = _dt(node)
    lower, trans, unit = op.lower, op.trans, op.unit_diagonal

    def f(a: Any, b: Any) -> Any:
        a, b = as_dtype(a, dtype), as_dtype(b, dtype)
        vector = b.ndim == 1
        bm = b[:, None] if vector else b
        a, bm = _broadcast_batch(a, bm)
        out = jsl.solve_triangular(a, bm, trans=trans, lower=lower, unit_diagonal=unit)
        return out[..., 0] if vector else out

    return f


@jax_funcify.register(Cholesky)
def _cholesky(op: Cholesky, node: Apply) -> JaxFn:
    dtype = _dt(node)
    # Like NumPy, read only the lower triangle (JAX would average a with its transpose).
    return lambda a: jnp.tril(jax.lax.linalg.cholesky(as_dtype(a, dtype),
                                                       symmetrize_input=False))


@jax_funcify.register(Eigh)
def _eigh(op: Eigh, node: Apply) -> JaxFn:
    dtype = _dt(node)

    def f(a: Any) -> Any:
        w, v = jnp.linalg.eigh(as_dtype(a, dtype), UPLO="L", symmetrize_input=False)
        return w, v

    return f


@jax_funcify.register(SVD)
def _svd(op: SVD, node: Apply) -> JaxFn:
    dtype = _dt(node, 1 if op.compute_uv else 0)
    full, uv = op.full_matrices, op.compute_uv

    def f(a: Any) -> Any:
        a = as_dtype(a, dtype)
        if not uv:
            return jnp.linalg.svd(a, compute_uv=False)
        u, s, vh = jnp.linalg.svd(a, full_matrices=full, compute_uv=True)
        return u, s, vh

    return f


@jax_funcify.register(QR)
def _qr(op: QR, node: Apply) -> JaxFn:
    dtype = _dt(node)

    def f(a: Any) -> Any:
        q, r = jnp.linalg.qr(as_dtype(a, dtype), mode="reduced")
        return q, r

    return f


@jax_funcify.register(Pinv)
def _pinv(op: Pinv, node: Apply) -> JaxFn:
    dtype = _dt(node)
    rcond = 1e-15 if op.rcond is None else op.rcond  # NumPy's default cutoff

    def f(a: Any) -> Any:
        a = as_dtype(a, dtype)
        m, n = a.shape[-2:]
        if m == 0 or n == 0:
            return jnp.zeros((*a.shape[:-2], n, m), dtype=dtype)
        u, s, vt = jnp.linalg.svd(jnp.conj(a), full_matrices=False)
        cutoff = rcond * jnp.max(s, axis=-1, keepdims=True)
        large = s > cutoff
        s_inv = jnp.where(large, 1 / jnp.where(large, s, 1), 0)
        return jnp.matmul(jnp.swapaxes(vt, -1, -2), s_inv[..., None] * jnp.swapaxes(u, -1, -2),
                          precision="highest")

    return f
