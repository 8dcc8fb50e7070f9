"""JAX lowering of :class:`~gnomon.scalar.composite.Composite`, the fused scalar op.

The program is replayed with the JAX lowering of each inner scalar op, on whole arrays; XLA
fuses the resulting elementwise operations itself. Every slot gets its dtype from
:meth:`Composite.slot_dtypes`, exactly as if the nodes had not been fused.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import jax.numpy as jnp
import numpy as np

from gnomon.backends.jax.dispatch import JaxFn, jax_scalar_funcify
from gnomon.backends.jax.scalar import as_dtype
from gnomon.scalar.composite import Composite, ScalarConstant


@jax_scalar_funcify.register(ScalarConstant)
def _scalar_constant(
    op: ScalarConstant, in_dtypes: Sequence[str], out_dtypes: Sequence[str]
) -> JaxFn:
    value = np.asarray(op.value, dtype=op.dtype)
    return lambda: value


@jax_scalar_funcify.register(Composite)
def _composite(op: Composite, in_dtypes: Sequence[str], out_dtypes: Sequence[str]) -> JaxFn:
    sd = op.slot_dtypes(*in_dtypes)
    n = op.n_inputs
    steps = []
    for k, (inner, ins) in enumerate(op.program):
        fn = jax_scalar_funcify(inner, [sd[i] for i in ins], [sd[n + k]])
        steps.append((fn, ins, sd[n + k]))
    out_slots = op.out_slots

    def f(*xs: Any) -> Any:
        vals: list[Any] = list(xs)
        for fn, ins, dtype in steps:
            vals.append(as_dtype(jnp.asarray(fn(*[vals[i] for i in ins])), dtype))
        # An output that does not depend on every input (or is a constant) still has the
        # broadcast shape of all inputs.
        shape = jnp.broadcast_shapes(*[jnp.shape(x) for x in xs]) if xs else ()
        outs = tuple(vals[s] if jnp.shape(vals[s]) == shape else jnp.broadcast_to(vals[s], shape)
                     for s in out_slots)
        return outs[0] if len(outs) == 1 else outs

    return f
