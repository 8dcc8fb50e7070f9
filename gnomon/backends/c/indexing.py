"""Basic indexing in C: ``Subtensor`` (integers, slices and new axes, constant or given as
inputs) as a strided view, with Python's rules for negative indices and slice bounds, and
``IncSubtensor`` (``x[idx] += y`` or ``x[idx] = y`` on a copy of ``x``, ``y`` broadcast). An
integer index out of bounds fails the call (the reference then raises its ``IndexError``)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from gnomon.backends.c.dispatch import alloc, c_funcify, ctype, itemsize, kernel, tensor_dtypes
from gnomon.errors import NotLoweredError
from gnomon.graph.basic import Apply
from gnomon.tensor.indexing import INPUT, IncSubtensor, NewAxis, SliceIndex, Subtensor


def index_view(idx_list: Sequence[object], node: Apply, nd: int, src: str, dst: str,
               first_dyn: int) -> tuple[list[str], int]:
    """C lines setting ``gn_arr dst`` (declared by the caller, a copy of ``src``) to the view
    ``src[idx]`` (``src``: a ``gn_arr *``), and the rank of the view. Dynamic index values are
    inputs ``first_dyn, first_dyn + 1, ...``."""
    dyn: Iterator[int] = iter(range(first_dyn, len(node.inputs)))
    body = [f"char *p = {src}->data;"]
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

    for e in idx_list:
        if isinstance(e, NewAxis):
            body += [f"{dst}.shape[{od}] = 1; {dst}.strides[{od}] = 0;"]
            od += 1
        elif isinstance(e, SliceIndex):
            (hs, s), (he, t), (hp, st) = part(e.start), part(e.stop), part(e.step)
            body += ["{ int64_t a, n, st;",
                     f"  if (gn_slice({src}->shape[{xd}], {hs}, {s}, {he}, {t}, {hp}, {st}, "
                     "&a, &n, &st) < 0) return gn_fail(ctx, \"slice step cannot be zero\");",
                     f"  p += a * {src}->strides[{xd}];",
                     f"  {dst}.shape[{od}] = n;",
                     f"  {dst}.strides[{od}] = st * {src}->strides[{xd}]; }}"]
            od += 1
            xd += 1
        elif e is INPUT or isinstance(e, int):
            _, v = part(e)
            body += [f"{{ int64_t i = {v};",
                     f"  if (i < 0) i += {src}->shape[{xd}];",
                     f"  if (i < 0 || i >= {src}->shape[{xd}]) return gn_fail(ctx, \"index out "
                     f"of bounds for dimension {xd}\");",
                     f"  p += i * {src}->strides[{xd}]; }}"]
            xd += 1
        else:
            raise NotLoweredError(f"index entry {e}")
    for d in range(xd, nd):
        body.append(f"{dst}.shape[{od}] = {src}->shape[{d}]; "
                    f"{dst}.strides[{od}] = {src}->strides[{d}];")
        od += 1
    body += [f"{dst}.nd = {od};", f"{dst}.data = p;"]
    return body, od


@c_funcify.register
def _(op: Subtensor, node: Apply) -> str:
    nd = node.inputs[0].type.ndim  # type: ignore[attr-defined]
    lines, _ = index_view(op.idx_list, node, nd, "in[0]", "out[0]", 1)
    # on a failure the program releases out[0] (gn_view retained its base) with every slot
    return kernel(["gn_view(&out[0], in[0]);", *lines])


@c_funcify.register
def _(op: IncSubtensor, node: Apply) -> str:
    tensor_dtypes(node)
    x, y = node.inputs[0], node.inputs[1]
    nd, yd = x.type.ndim, y.type.ndim  # type: ignore[attr-defined]
    dt, yt = x.type.dtype, y.type.dtype  # type: ignore[attr-defined]
    t, ct = ctype(dt), ctype(yt)
    lines, vd = index_view(op.idx_list, node, nd, "in[0]", "v", 2)
    if yd > vd:
        raise NotLoweredError("a value of higher rank than the indexed region")
    if dt == "bool" and not op.set_instead_of_inc:
        raise NotLoweredError("an increment of booleans (a logical or in NumPy)")
    body = ["out[0] = *in[0]; out[0].base = NULL;", alloc("out[0]", dt),
            f"gn_copy(&out[0], in[0], {itemsize(dt)});",
            "gn_arr v = out[0]; gn_arr *o_ = &out[0];"]
    body += [ln.replace("in[0]->", "o_->") for ln in lines]
    for j in range(yd):
        d = j + vd - yd
        body += [f"if (in[1]->shape[{j}] != 1 && in[1]->shape[{j}] != v.shape[{d}]) return "
                 "gn_fail(ctx, \"the value does not broadcast to the indexed region\");",
                 f"int64_t ys{d} = in[1]->shape[{j}] == 1 ? 0 : in[1]->strides[{j}];"]
    body += [f"int64_t ys{d} = 0;" for d in range(vd - yd)]
    pad, loops = "", []
    for d in range(vd):
        loops.append(f"{pad}for (int64_t i{d} = 0; i{d} < v.shape[{d}]; i{d}++)")
        pad += "    "
    dst = " + ".join(f"i{d} * v.strides[{d}]" for d in range(vd)) or "0"
    src = " + ".join(f"i{d} * ys{d}" for d in range(vd)) or "0"
    val = f"({t})*(const {ct} *)(in[1]->data + {src})"
    opr = "=" if op.set_instead_of_inc else "+="
    body += loops + [f"{pad}*({t} *)(v.data + {dst}) {opr} {val};"]
    return kernel(body)
