"""Basic indexing in C: ``Subtensor`` (integers, slices and new axes, constant or given as
inputs) as a strided view, with Python's rules for negative indices and slice bounds; an
integer index out of bounds fails the call (the reference then raises its ``IndexError``)."""

from __future__ import annotations

from gnomon.backends.c.dispatch import c_funcify, ctype, kernel
from gnomon.errors import NotLoweredError
from gnomon.graph.basic import Apply
from gnomon.tensor.indexing import INPUT, NewAxis, SliceIndex, Subtensor


@c_funcify.register
def _(op: Subtensor, node: Apply) -> str:
    x = node.inputs[0]
    nd = x.type.ndim  # type: ignore[attr-defined]
    dyn = iter(range(1, len(node.inputs)))
    body = ["gn_view(&out[0], in[0]);", "char *p = in[0]->data;"]
    od, xd = 0, 0

    def part(v: object) -> tuple[str, str]:
        """(present, value) C texts of a slice part or an index."""
        if v is None:
            return "0", "0"
        if v is INPUT:
            k = next(dyn)
            t = ctype(node.inputs[k].type.dtype)  # type: ignore[attr-defined]
            return "1", f"(int64_t)*(const {t} *)in[{k}]->data"
        return "1", f"(int64_t){int(v)}LL"  # type: ignore[call-overload]

    for e in op.idx_list:
        if isinstance(e, NewAxis):
            body += [f"out[0].shape[{od}] = 1; out[0].strides[{od}] = 0;"]
            od += 1
        elif isinstance(e, SliceIndex):
            (hs, s), (he, t), (hp, st) = part(e.start), part(e.stop), part(e.step)
            body += ["{ int64_t a, n, st;",
                     f"  if (gn_slice(in[0]->shape[{xd}], {hs}, {s}, {he}, {t}, {hp}, {st}, "
                     "&a, &n, &st) < 0) return gn_fail(ctx, \"slice step cannot be zero\");",
                     f"  p += a * in[0]->strides[{xd}];",
                     f"  out[0].shape[{od}] = n;",
                     f"  out[0].strides[{od}] = st * in[0]->strides[{xd}]; }}"]
            od += 1
            xd += 1
        elif e is INPUT or isinstance(e, int):
            _, v = part(e)
            body += [f"{{ int64_t i = {v};",
                     f"  if (i < 0) i += in[0]->shape[{xd}];",
                     f"  if (i < 0 || i >= in[0]->shape[{xd}]) return gn_fail(ctx, \"index out of "
                     f"bounds for dimension {xd}\");",
                     f"  p += i * in[0]->strides[{xd}]; }}"]
            xd += 1
        else:
            raise NotLoweredError(f"index entry {e}")
    for d in range(xd, nd):
        body.append(f"out[0].shape[{od}] = in[0]->shape[{d}]; "
                    f"out[0].strides[{od}] = in[0]->strides[{d}];")
        od += 1
    body += [f"out[0].nd = {od};", "out[0].data = p;"]
    # on a failure the program releases out[0] (gn_view retained its base) with every slot
    return kernel(body)
