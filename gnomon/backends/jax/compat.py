"""Lowerings of the ops behind PyTensor's names (:mod:`gnomon.tensor.arrays`, ``Print``).

``SpecifyShape``: JAX knows every shape when it traces, so the lengths given as constants are
checked then (a ``ValueError``, like the reference); lengths given as symbolic values are
traced values under ``jax.jit`` and are not checked."""

from __future__ import annotations

from typing import Any

import jax
import numpy as np

from gnomon.backends.jax.dispatch import JaxFn, jax_funcify
from gnomon.errors import ShapeError
from gnomon.graph.basic import Apply, Constant
from gnomon.tensor.arrays import SpecifyShape
from gnomon.tensor.debug import Print


@jax_funcify.register(SpecifyShape)
def _(op: SpecifyShape, node: Apply) -> JaxFn:
    dims = [d for d, g in enumerate(op.given) if g]
    known = {d: int(v.data) for d, v in zip(dims, node.inputs[1:], strict=True)
             if isinstance(v, Constant)}

    def specify(x: Any, *_: Any) -> Any:
        for d, want in known.items():
            if x.shape[d] != want:
                raise ShapeError(f"specify_shape: dimension {d} has length {x.shape[d]}, not "
                                 f"{want} (the value has shape {tuple(x.shape)})")
        return x

    return specify


@jax_funcify.register(Print)
def _print(op: Print, node: Apply) -> JaxFn:
    def show(x: Any) -> Any:
        # runs on the host with the concrete value, also under jax.jit
        jax.debug.callback(lambda v: op.show(np.asarray(v)), x)
        return x

    return show
