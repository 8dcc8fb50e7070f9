"""``CheckParameters`` in JAX: ``jax.jit`` cannot raise, so the checked value becomes ``nan``
where a condition fails (as ``jax.random`` does for invalid parameters)."""

from __future__ import annotations

from typing import Any

import jax.numpy as jnp

from gnomon.backends.jax.dispatch import JaxFn, jax_funcify
from gnomon.graph.basic import Apply
from gnomon.logprob.check import CheckParameters


@jax_funcify.register(CheckParameters)
def _(op: CheckParameters, node: Apply) -> JaxFn:
    def check(x: Any, *conds: Any) -> Any:
        ok = jnp.all(jnp.stack([jnp.all(c) for c in conds])) if conds else True
        return jnp.where(ok, x, jnp.nan)

    return check
