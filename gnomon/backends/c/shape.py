"""Shape ops in C: ``Shape``, ``ShapeI``, ``MakeVector``, ``DimShuffle`` and ``BroadcastTo``
(views: strides permuted, broadcast dimensions with stride 0), ``Reshape`` (a view of a
C-contiguous input, else a copy) and ``Alloc``."""

from __future__ import annotations

from gnomon.backends.c.dispatch import alloc, c_funcify, ctype, itemsize, kernel, tensor_dtypes
from gnomon.errors import NotLoweredError
from gnomon.graph.basic import Apply, Constant
from gnomon.tensor.basic import Alloc
from gnomon.tensor.creation import Eye
from gnomon.tensor.shapes import (
    BroadcastTo,
    DimShuffle,
    Join,
    MakeVector,
    Reshape,
    Shape,
    ShapeI,
    Split,
)


def _scalar(k: int, dtype: str) -> str:
    """The value of 0-d input ``k`` as int64."""
    return f"((int64_t)*(const {ctype(dtype)} *)in[{k}]->data)"


@c_funcify.register
def _(op: Shape, node: Apply) -> str:
    nd = node.inputs[0].ndim
    body = ["out[0].nd = 1;", f"out[0].shape[0] = {nd};", alloc("out[0]", "int64")]
    body += [f"*(int64_t *)(out[0].data + {d} * out[0].strides[0]) = in[0]->shape[{d}];"
             for d in range(nd)]
    return kernel(body)


@c_funcify.register
def _(op: ShapeI, node: Apply) -> str:
    return kernel(["out[0].nd = 0;", alloc("out[0]", "int64"),
                   f"*(int64_t *)out[0].data = in[0]->shape[{op.i}];"])


@c_funcify.register
def _(op: MakeVector, node: Apply) -> str:
    tensor_dtypes(node)
    n = len(node.inputs)
    t = ctype(op.dtype)
    body = ["out[0].nd = 1;", f"out[0].shape[0] = {n};", alloc("out[0]", op.dtype)]
    body += [f"(({t} *)out[0].data)[{k}] = ({t})*(const {ctype(v.dtype)} *)in[{k}]->data;"
             for k, v in enumerate(node.inputs)]
    return kernel(body)


@c_funcify.register
def _(op: DimShuffle, node: Apply) -> str:
    body = [f"if (in[0]->shape[{d}] != 1) return gn_fail(ctx, \"cannot drop dimension {d}, "
            "whose length is not 1\");" for d in op.dropped]
    body += ["gn_view(&out[0], in[0]);", f"out[0].nd = {len(op.new_order)};"]
    for j, d in enumerate(op.new_order):
        if d == "x":
            body += [f"out[0].shape[{j}] = 1;", f"out[0].strides[{j}] = 0;"]
        else:
            body += [f"out[0].shape[{j}] = in[0]->shape[{d}];",
                     f"out[0].strides[{j}] = in[0]->strides[{d}];"]
    return kernel(body)


@c_funcify.register
def _(op: BroadcastTo, node: Apply) -> str:
    x = node.inputs[0]
    nd, xd = node.outputs[0].ndim, x.ndim
    body = ["gn_arr v = *in[0];", f"out[0].nd = {nd};"]
    for d in range(nd):
        body.append(f"out[0].shape[{d}] = "
                    f"{_scalar(d + 1, node.inputs[d + 1].dtype)};")
        k = d - (nd - xd)
        if k < 0:
            body.append(f"out[0].strides[{d}] = 0;")
            continue
        body += [f"if (v.shape[{k}] == out[0].shape[{d}]) out[0].strides[{d}] = v.strides[{k}];",
                 f"else if (v.shape[{k}] == 1) out[0].strides[{d}] = 0;",
                 "else return gn_fail(ctx, \"cannot broadcast the array to the shape\");"]
    body += ["out[0].data = v.data;", "out[0].base = v.base;", "gn_retain(out[0].base);"]
    return kernel(body)


@c_funcify.register
def _(op: Alloc, node: Apply) -> str:
    tensor_dtypes(node)
    v = node.inputs[0]
    dt = node.outputs[0].dtype
    nd, vd = node.outputs[0].ndim, v.ndim
    t, vt = ctype(dt), ctype(v.dtype)
    body = [f"out[0].nd = {nd};"]
    body += [f"out[0].shape[{d}] = {_scalar(d + 1, node.inputs[d + 1].dtype)};"
             for d in range(nd)]
    body += [alloc("out[0]", dt), "int64_t off = 0; (void)off;"]
    for k in range(vd):
        d = k + nd - vd
        body += [f"if (in[0]->shape[{k}] != 1 && in[0]->shape[{k}] != out[0].shape[{d}])",
                 "    return gn_fail(ctx, \"alloc: the value cannot be broadcast to the shape\");",
                 f"int64_t vs{k} = in[0]->shape[{k}] == 1 ? 0 : in[0]->strides[{k}];"]
    body += ["int64_t n_ = gn_size(&out[0]);", f"{t} *o_ = ({t} *)out[0].data;",
             "for (int64_t i = 0; i < n_; i++) {", "    int64_t r = i;", "    off = 0;"]
    for d in reversed(range(nd)):
        body.append(f"    {{ int64_t id = r % out[0].shape[{d}]; r /= out[0].shape[{d}];")
        k = d - (nd - vd)
        if k >= 0:
            body.append(f"      off += id * vs{k};")
        body.append("      (void)id; }")
    body += [f"    o_[i] = ({t})*(const {vt} *)(in[0]->data + off);", "}"]
    return kernel(body)


@c_funcify.register
def _(op: Reshape, node: Apply) -> str:
    x = node.inputs[0]
    nd = node.outputs[0].ndim
    isz = itemsize(x.dtype)
    ctype(x.dtype)
    free = [i for i, v in enumerate(node.inputs[1:])
            if isinstance(v, Constant) and int(v.data) == -1]
    if len(free) > 1:
        raise NotLoweredError("reshape with several -1 entries (an error in the reference)")
    body = ["int64_t known = 1;", f"gn_arr r; r.nd = {nd};"]
    for d in range(nd):
        body.append(f"r.shape[{d}] = {_scalar(d + 1, node.inputs[d + 1].dtype)};")
        if d not in free:
            body += [f"if (r.shape[{d}] < 0) return gn_fail(ctx, \"reshape: negative length\");",
                     f"known *= r.shape[{d}];"]
    body.append("int64_t size = gn_size(in[0]);")
    if free:
        f = free[0]
        body += ["if (known == 0 || size % known != 0) return gn_fail(ctx, \"cannot reshape: "
                 "sizes differ\");", f"r.shape[{f}] = size / known;"]
    else:
        body.append("if (known != size) return gn_fail(ctx, \"cannot reshape: sizes differ\");")
    body += [f"if (gn_is_c_contiguous(in[0], {isz})) {{",
             "    r.data = in[0]->data; r.base = in[0]->base; gn_retain(r.base);",
             f"    gn_c_strides(&r, {isz});", "    out[0] = r;", "    return 0;", "}",
             # a strided input: copy it into C order, then the copy has the new shape
             "gn_arr c = *in[0]; c.base = NULL;",
             alloc("c", x.dtype),
             f"gn_copy(&c, in[0], {isz});",
             "r.data = c.data; r.base = c.base;", f"gn_c_strides(&r, {isz});", "out[0] = r;"]
    return kernel(body)


@c_funcify.register
def _(op: Join, node: Apply) -> str:
    tensor_dtypes(node)
    dt = node.outputs[0].dtype
    nd, ax = node.outputs[0].ndim, op.axis
    t = ctype(dt)
    body = [f"out[0].nd = {nd};"]
    body += [f"out[0].shape[{d}] = in[0]->shape[{d}];" for d in range(nd)]
    body.append(f"out[0].shape[{ax}] = 0;")
    for k in range(len(node.inputs)):
        body += [f"if (in[{k}]->shape[{d}] != in[0]->shape[{d}]) return gn_fail(ctx, \"join: "
                 f"input {k} differs in dimension {d}\");" for d in range(nd) if d != ax]
        body.append(f"out[0].shape[{ax}] += in[{k}]->shape[{ax}];")
    body += [alloc("out[0]", dt), "int64_t off = 0;"]
    for k, v in enumerate(node.inputs):
        ct = ctype(v.type.dtype)  # type: ignore[attr-defined]
        pad, loops = "", []
        for d in range(nd):
            loops.append(f"{pad}for (int64_t i{d} = 0; i{d} < in[{k}]->shape[{d}]; i{d}++)")
            pad += "    "
        src = " + ".join(f"i{d} * in[{k}]->strides[{d}]" for d in range(nd)) or "0"
        dst = " + ".join((f"(i{d} + off)" if d == ax else f"i{d}") + f" * out[0].strides[{d}]"
                         for d in range(nd)) or "0"
        body += loops + [f"{pad}*({t} *)(out[0].data + {dst}) = "
                         f"({t})*(const {ct} *)(in[{k}]->data + {src});",
                         f"off += in[{k}]->shape[{ax}];"]
    return kernel(body)


@c_funcify.register
def _(op: Eye, node: Apply) -> str:
    tensor_dtypes(node)
    t = ctype(op.dtype)
    n, m, k = (_scalar(i, node.inputs[i].dtype) for i in range(3))
    return kernel([
        f"int64_t n = {n}, m = {m}, k = {k};",
        "if (n < 0 || m < 0) return gn_fail(ctx, \"eye: negative size\");",
        "out[0].nd = 2; out[0].shape[0] = n; out[0].shape[1] = m;", alloc("out[0]", op.dtype),
        f"{t} *o = ({t} *)out[0].data;",
        "for (int64_t i = 0; i < n; i++) for (int64_t j = 0; j < m; j++) "
        f"o[i * m + j] = ({t})(j - i == k);"])


@c_funcify.register(Split)
def _(op: Split, node: Apply) -> str:
    """Views of consecutive pieces along ``axis``; the sizes are checked as the reference
    checks them (non-negative, adding up to the axis length)."""
    tensor_dtypes(node)
    ax, n = op.axis, op.n_splits
    st = [ctype(v.dtype) for v in node.inputs[1:]]
    body = [f"int64_t sz[{n}], sum = 0, neg = 0;"]
    for k in range(n):
        body += [f"sz[{k}] = (int64_t)*(const {st[k]} *)in[{k + 1}]->data;",
                 f"sum += sz[{k}]; neg |= sz[{k}] < 0;"]
    body += [f"if (neg || sum != in[0]->shape[{ax}]) return gn_fail(ctx, \"split: the sizes "
             f"do not add up to the length %lld of axis {ax}\", (long long)in[0]->shape[{ax}]);",
             "int64_t start = 0;"]
    for k in range(n):
        body += [f"gn_view(&out[{k}], in[0]);",
                 f"out[{k}].shape[{ax}] = sz[{k}];",
                 f"out[{k}].data = in[0]->data + start * in[0]->strides[{ax}];",
                 f"start += sz[{k}];"]
    return kernel(body)
