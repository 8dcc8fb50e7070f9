"""JAX lowerings of :mod:`gnomon.tensor.creation`: ``eye``, ``arange``, ``linspace``.

Their output lengths are inputs of the node, so under ``jax.jit`` they must be known at trace
time (constants, or computed from input shapes); otherwise the function falls back to op-by-op
execution (see :mod:`gnomon.backends.jax.linker`). Values that do not change the shape (the
diagonal offset of ``eye``, the end points of ``linspace``) may be traced.
"""

from __future__ import annotations

from typing import Any

import jax.numpy as jnp
import numpy as np

from gnomon.backends.jax.dispatch import JaxFn, jax_funcify, static_array, static_int
from gnomon.backends.jax.scalar import as_dtype
from gnomon.errors import GnomonValueError, ShapeError, node_context, with_hint
from gnomon.graph.basic import Apply
from gnomon.tensor.creation import Arange, Eye, Linspace


@jax_funcify.register(Eye)
def _eye(op: Eye, node: Apply) -> JaxFn:
    dtype = op.dtype

    def f(n: Any, m: Any, k: Any) -> Any:
        rows = static_int(n, node, "the number of rows")
        cols = static_int(m, node, "the number of columns")
        if rows < 0 or cols < 0:
            raise ShapeError(f"eye: negative size (n, m) = ({rows}, {cols})\n"
                             f"{node_context(node)}")
        # The offset may be traced: compare column - row with it.
        diag = jnp.arange(cols)[None, :] - jnp.arange(rows)[:, None]
        return (diag == jnp.asarray(k)).astype(dtype)

    return f


@jax_funcify.register(Arange)
def _arange(op: Arange, node: Apply) -> JaxFn:
    dtype = op.dtype

    def f(start: Any, stop: Any, step: Any) -> Any:
        a, b, s = (static_array(v, node, "the bounds and step of arange")[()]
                   for v in (start, stop, step))
        if s == 0:
            raise GnomonValueError(with_hint(
                f"arange: step is 0.\n{node_context(node)}", "use a non-zero step"))
        # NumPy's own rule for the length and values; the result is a constant of the trace.
        return jnp.asarray(np.arange(a, b, s, dtype=dtype))  # type: ignore[call-overload]

    return f


@jax_funcify.register(Linspace)
def _linspace(op: Linspace, node: Apply) -> JaxFn:
    dtype, endpoint = op.dtype, op.endpoint
    work = dtype if np.dtype(dtype).kind in "fc" else "float64"

    def f(start: Any, stop: Any, num: Any) -> Any:
        n = static_int(num, node, "the number of values")
        if n < 0:
            raise GnomonValueError(f"linspace: num must be >= 0, not {n}\n{node_context(node)}")
        a, b = as_dtype(jnp.asarray(start), work), as_dtype(jnp.asarray(stop), work)
        out = jnp.linspace(a, b, n, endpoint=endpoint, dtype=work)
        if np.dtype(dtype).kind not in "fc":
            out = jnp.floor(out)  # NumPy rounds toward -inf for integer dtypes
        return as_dtype(out, dtype)

    return f
