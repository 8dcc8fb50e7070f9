"""JAX lowerings of products (:mod:`gnomon.tensor.blas`): ``MatMul``, ``Einsum`` and the
BLAS-shaped ``Gemm`` / ``Ger`` built by the specialize rewrites.

All run at ``precision="highest"``: on GPUs JAX otherwise multiplies float32 matrices in
reduced precision (TF32/bf16 passes), which would not match the NumPy reference.
"""

from __future__ import annotations

from typing import Any

import jax.numpy as jnp

from gnomon.backends.jax.dispatch import JaxFn, jax_funcify
from gnomon.backends.jax.scalar import as_dtype
from gnomon.graph.basic import Apply
from gnomon.tensor.blas import Einsum, Gemm, Ger, MatMul


@jax_funcify.register(MatMul)
def _matmul(op: MatMul, node: Apply) -> JaxFn:
    dtype = node.outputs[0].type.dtype  # type: ignore[attr-defined]
    return lambda a, b: jnp.matmul(as_dtype(a, dtype), as_dtype(b, dtype), precision="highest")


@jax_funcify.register(Einsum)
def _einsum(op: Einsum, node: Apply) -> JaxFn:
    ins, out = op.inputs_subs, op.output_subs
    dtype = node.outputs[0].type.dtype  # type: ignore[attr-defined]

    def f(*xs: Any) -> Any:
        # A summed label's lengths must agree, as in the reference (ShapeError otherwise).
        op._check_summed_lengths(node, xs)
        # gnomon's einsum lets a length-1 axis pair with any length of the same label (NumPy
        # broadcasting); jnp.einsum does not, so such an axis is squeezed and its label dropped
        # from that operand: the operand is constant along it, which is what broadcasting means.
        sizes: dict[str, int] = {}
        for s, x in zip(ins, xs, strict=True):
            for c, d in zip(s, x.shape, strict=True):
                if d != 1:
                    sizes[c] = d
        operands, subs = [], []
        for s, x in zip(ins, xs, strict=True):
            drop = [i for i, c in enumerate(s) if x.shape[i] == 1 and sizes.get(c, 1) != 1]
            if drop:
                x = jnp.squeeze(x, axis=tuple(drop))
                s = "".join(c for i, c in enumerate(s) if i not in drop)
            operands.append(as_dtype(jnp.asarray(x), dtype))
            subs.append(s)
        return jnp.einsum(f"{','.join(subs)}->{out}", *operands, precision="highest")

    return f


@jax_funcify.register(Gemm)
def _gemm(op: Gemm, node: Apply) -> JaxFn:
    dtype = node.outputs[0].type.dtype  # type: ignore[attr-defined]
    ta, tb = op.trans_a, op.trans_b

    def f(z: Any, alpha: Any, a: Any, b: Any, beta: Any) -> Any:
        a, b = as_dtype(a, dtype), as_dtype(b, dtype)
        # Transposes are free in XLA (a layout change folded into the dot).
        p = jnp.matmul(a.T if ta else a, b.T if tb else b, precision="highest")
        return as_dtype(beta * as_dtype(z, dtype) + alpha * p, dtype)

    return f


@jax_funcify.register(Ger)
def _ger(op: Ger, node: Apply) -> JaxFn:
    dtype = node.outputs[0].type.dtype  # type: ignore[attr-defined]

    def f(z: Any, alpha: Any, x: Any, y: Any) -> Any:
        outer = jnp.outer(as_dtype(x, dtype), as_dtype(y, dtype))
        return as_dtype(as_dtype(z, dtype) + alpha * outer, dtype)

    return f
