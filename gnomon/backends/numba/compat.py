"""Lowerings of the ops behind PyTensor's names (:mod:`gnomon.tensor.arrays`):
``SpecifyShape`` checks the given lengths and returns its input (a view, ``view_map``). The
kernel's message is generic; the linker replays a failing program with the reference, whose
error names the dimension, the node and its line."""

from __future__ import annotations

from gnomon.backends.numba.dispatch import numba_funcify
from gnomon.graph.basic import Apply
from gnomon.tensor.arrays import SpecifyShape


@numba_funcify.register
def _(op: SpecifyShape, node: Apply) -> str:
    dims = [d for d, g in enumerate(op.given) if g]
    args = "".join(f", d{k}" for k in range(len(dims)))
    lines = [f"def kernel(x{args}):"]
    for k, d in enumerate(dims):
        lines += [f"    if x.shape[{d}] != d{k}[()]:",
                  "        raise ValueError('specify_shape: the value has another shape')"]
    lines.append("    return (x,)")
    return "\n".join(lines) + "\n"
