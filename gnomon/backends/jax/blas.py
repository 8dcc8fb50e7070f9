"""JAX lowerings of products (:mod:`gnomon.tensor.blas`): ``MatMul`` and ``Einsum``.

Both run at ``precision="highest"``: on GPUs JAX otherwise multiplies float32 matrices in
reduced precision (TF32/bf16 passes), which would not match the NumPy reference.
"""

from __future__ import annotations

from typing import Any

import jax.numpy as jnp

from gnomon.backends.jax.dispatch import JaxFn, jax_funcify
from gnomon.backends.jax.scalar import as_dtype
from gnomon.graph.basic import Apply
from gnomon.tensor.blas import Einsum, MatMul


@jax_funcify.register(MatMul)
def _matmul(op: MatMul, node: Apply) -> JaxFn:
    dtype = node.outputs[0].type.dtype
    return lambda a, b: jnp.matmul(as_dtype(a, dtype), as_dtype(b, dtype), precision="highest")


@jax_funcify.register(Einsum)
def _einsum(op: Einsum, node: Apply) -> JaxFn:
    ins, out = op.inputs_subs, op.output_subs
    dtype = node.outputs[0].type.dtype

    def f(*xs: Any) -> Any:
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
