"""Shape ops in C: ``Shape``, ``ShapeI``, ``MakeVector``, ``DimShuffle`` and ``BroadcastTo``
(views: strides permuted, broadcast dimensions with stride 0), ``Reshape`` (a view of a
C-contiguous input, else a copy) and ``Alloc``."""

from __future__ import annotations

from gnomon.backends.c.dispatch import (
    alloc,
    c_funcify,
    ctype,
    itemsize,
    kernel,
    tensor_dtypes,
    typenum,
)
from gnomon.errors import NotLoweredError
from gnomon.graph.basic import Apply, Constant
from gnomon.tensor.basic import Alloc
from gnomon.tensor.creation import Eye
from gnomon.tensor.shapes import (
    BroadcastTo,
    DimShuffle,
    Join,
    MakeVector,
    Repeat,
    RepeatSum,
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


def _repeat_ids(count: str, n: str, what: str) -> list[str]:
    """C filling ``ids`` (``total`` entries: the source element of each repeated position)
    from the counts ``count(j)`` of ``n`` elements, refusing negative counts."""
    return [f"int64_t total = 0, nn = {n};",
            "for (int64_t j = 0; j < nn; j++) {",
            f"    if ({count} < 0) return gn_fail(ctx, \"{what}: negative repeat count\");",
            f"    total += {count};", "}",
            "int64_t *ids = (int64_t *)malloc((size_t)(total > 0 ? total : 1) * sizeof(int64_t));",
            "if (ids == NULL) { ctx->code = 2; return gn_fail(ctx, \"out of memory\"); }",
            "for (int64_t j = 0, q = 0; j < nn; j++)",
            f"    for (int64_t c = 0; c < {count}; c++) ids[q++] = j;"]


def _walk(nd: int, shape: str, body: list[str]) -> list[str]:
    """A C-order walk over ``shape`` (``idx[d]`` the index, ``k`` the flat position)."""
    return [f"int64_t idx[{max(nd, 1)}] = {{0}}, m = 1; (void)idx;",
            *[f"m *= {shape}[{d}];" for d in range(nd)],
            "for (int64_t k = 0; k < m; k++) {", *["    " + ln for ln in body],
            f"    for (int d = {nd - 1}; d >= 0; d--) {{ if (++idx[d] < {shape}[d]) break; "
            "idx[d] = 0; }", "}"]


def _counts(node: Apply) -> tuple[str, list[str]]:
    """The count of element ``j`` and the checks of the ``repeats`` input (``in[1]``)."""
    r = node.inputs[1]
    rt = ctype(r.dtype)
    if r.ndim == 0:
        return f"(int64_t)*(const {rt} *)in[1]->data", ["int64_t nr = 1;"]
    at = f"(int64_t)*(const {rt} *)(in[1]->data + (nr == 1 ? 0 : j) * in[1]->strides[0])"
    return at, ["int64_t nr = in[1]->shape[0];"]


@c_funcify.register(Repeat)
def _(op: Repeat, node: Apply) -> str:
    """``np.repeat`` along ``axis``: the source index of every output position, then one
    walk over the output."""
    tensor_dtypes(node)
    ax, nd = op.axis, node.inputs[0].ndim
    t, rt = ctype(node.outputs[0].dtype), ctype(node.inputs[1].dtype)
    count, setup = _counts(node)
    body = [*setup, f"int64_t n = in[0]->shape[{ax}];",
            "if (nr != 1 && nr != n) return gn_fail(ctx, \"repeat: %lld repeat counts for axis "
            f"{ax} of length %lld\", (long long)nr, (long long)n);",
            "for (int64_t j = 0; j < nr; j++)  /* every count, used or not (NumPy) */",
            f"    if (*(const {rt} *)(in[1]->data + j * "
            f"{'in[1]->strides[0]' if node.inputs[1].ndim else '0'}) < 0) "
            "return gn_fail(ctx, \"repeat: negative repeat count\");",
            *_repeat_ids(count, "n", "repeat"),
            f"out[0].nd = {nd};",
            *[f"out[0].shape[{d}] = {'total' if d == ax else f'in[0]->shape[{d}]'};"
              for d in range(nd)],
            f"if (gn_alloc(ctx, &out[0], {typenum(node.outputs[0].dtype)}, "
            f"{itemsize(node.outputs[0].dtype)}) < 0) {{ free(ids); return -1; }}",
            f"{t} *o = ({t} *)out[0].data;"]
    off = " + ".join(f"ids[idx[{d}]] * in[0]->strides[{d}]" if d == ax
                     else f"idx[{d}] * in[0]->strides[{d}]" for d in range(nd))
    body += _walk(nd, "out[0].shape", [f"o[k] = *(const {t} *)(in[0]->data + {off});"])
    body.append("free(ids);")
    return kernel(body)


@c_funcify.register(RepeatSum)
def _(op: RepeatSum, node: Apply) -> str:
    """The transpose of Repeat: each position of ``g`` along ``axis`` added into the element
    it was copied from."""
    tensor_dtypes(node)
    ax, nd = op.axis, node.inputs[0].ndim
    t = ctype(node.outputs[0].dtype)
    count, setup = _counts(node)
    body = [*setup, f"int64_t n = (int64_t)*(const {ctype(node.inputs[2].dtype)} *)in[2]->data;",
            "if (n < 0 || (nr != 1 && nr != n)) return gn_fail(ctx, \"RepeatSum: repeats do not "
            "broadcast to the number of elements\");",
            *_repeat_ids(count, "n", "RepeatSum"),
            f"if (total != in[0]->shape[{ax}]) {{ free(ids); return gn_fail(ctx, \"RepeatSum: "
            f"the repeats do not match length %lld of axis {ax}\", "
            f"(long long)in[0]->shape[{ax}]); }}",
            f"out[0].nd = {nd};",
            *[f"out[0].shape[{d}] = {'n' if d == ax else f'in[0]->shape[{d}]'};"
              for d in range(nd)],
            f"if (gn_alloc(ctx, &out[0], {typenum(node.outputs[0].dtype)}, "
            f"{itemsize(node.outputs[0].dtype)}) < 0) {{ free(ids); return -1; }}",
            f"{t} *o = ({t} *)out[0].data;",
            "for (int64_t k = 0, sz = gn_size(&out[0]); k < sz; k++) o[k] = 0;"]
    dst = " + ".join(f"ids[idx[{d}]] * out[0].strides[{d}]" if d == ax
                     else f"idx[{d}] * out[0].strides[{d}]" for d in range(nd))
    src = " + ".join(f"idx[{d}] * in[0]->strides[{d}]" for d in range(nd))
    body += _walk(nd, "in[0]->shape",
                  [f"*({t} *)(out[0].data + {dst}) += *(const {t} *)(in[0]->data + {src});"])
    body.append("free(ids);")
    return kernel(body)
