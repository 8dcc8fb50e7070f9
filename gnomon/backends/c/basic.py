"""Pass-through ops in C: ``SpecifyShape`` (checks lengths, then a view), ``GradientModifier``
(a view; it only matters to ``grad``) and ``CheckParameters`` (a view once every condition
holds; otherwise the call fails and the reference raises the op's message)."""

from __future__ import annotations

from gnomon.backends.c.dispatch import c_funcify, ctype, kernel
from gnomon.gradient import GradientModifier
from gnomon.graph.basic import Apply
from gnomon.logprob.check import CheckParameters
from gnomon.tensor.arrays import SpecifyShape


@c_funcify.register
def _(op: SpecifyShape, node: Apply) -> str:
    body, k = [], 1
    for i, g in enumerate(op.given):
        if g:
            dt = node.inputs[k].type.dtype  # type: ignore[attr-defined]
            body += [f"if (in[0]->shape[{i}] != (int64_t)*(const {ctype(dt)} *)in[{k}]->data)",
                     f"    return gn_fail(ctx, \"specify_shape: dimension {i} differs\");"]
            k += 1
    return kernel([*body, "gn_view(&out[0], in[0]);"])


@c_funcify.register
def _(op: GradientModifier, node: Apply) -> str:
    return kernel(["gn_view(&out[0], in[0]);"])


@c_funcify.register
def _(op: CheckParameters, node: Apply) -> str:
    body = []
    for k, c in enumerate(node.inputs[1:], start=1):
        t = ctype(c.type.dtype)  # type: ignore[attr-defined]
        nd = c.type.ndim  # type: ignore[attr-defined]
        idx, pad = [], ""
        for d in range(nd):
            body.append(f"{pad}for (int64_t i{d} = 0; i{d} < in[{k}]->shape[{d}]; i{d}++)")
            idx.append(f"i{d} * in[{k}]->strides[{d}]")
            pad += "    "
        off = " + ".join(idx) or "0"
        body.append(f"{pad}if (!*(const {t} *)(in[{k}]->data + {off})) "
                    "return gn_fail(ctx, \"a parameter check failed\");")
    return kernel([*body, "gn_view(&out[0], in[0]);"])
