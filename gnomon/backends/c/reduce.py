"""Reductions in C: ``Sum``, ``Prod``, ``Max``, ``Min``, ``AllTrue``, ``AnyTrue``, ``LogSumExp``,
``Softmax`` and ``LogSoftmax``.

A reduction over trailing axes of a C-contiguous input keeps its accumulator in a register per
output element (one flat inner loop); any other case walks the input in index order and
accumulates into the output. Sums accumulate left to right (NumPy sums pairwise): results agree
to rounding.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from gnomon.backends.c.dispatch import (
    alloc,
    c_funcify,
    ctype,
    itemsize,
    kernel,
    tensor_dtypes,
    typenum,
)
from gnomon.backends.c.scalar import literal
from gnomon.errors import NotLoweredError
from gnomon.graph.basic import Apply
from gnomon.tensor.reduce import (
    AllTrue,
    AnyTrue,
    Argmax,
    Argmin,
    Cumprod,
    Cumsum,
    LogSoftmax,
    LogSumExp,
    Max,
    Min,
    Prod,
    Softmax,
    Sum,
)


def _sfx(dtype: str) -> str:
    return "f" if dtype == "float32" else ""


def reduce_source(node: Apply, axes: Sequence[int], init: str,
                  update: Callable[[str, str], str], empty_error: str | None = None,
                  finish: Callable[[str], str] | None = None, cast_input: bool = True) -> str:
    """Kernel reducing input 0 over ``axes`` with ``acc = update(acc, x)`` (x cast to the
    output dtype unless ``cast_input`` is false), then ``out = finish(acc)``."""
    tensor_dtypes(node)
    x = node.inputs[0]
    nd = x.ndim
    dt, xt = node.outputs[0].dtype, x.dtype
    t, ct = ctype(dt), ctype(xt)
    axes = sorted(axes)
    kept = [d for d in range(nd) if d not in axes]
    fin = finish or (lambda a: a)
    body = [f"out[0].nd = {len(kept)};"]
    body += [f"out[0].shape[{j}] = in[0]->shape[{d}];" for j, d in enumerate(kept)]
    body.append(alloc("out[0]", dt))
    body.append("int64_t m = gn_size(&out[0]);")
    inner = " * ".join(f"in[0]->shape[{d}]" for d in axes) or "1"
    body.append(f"int64_t r = {inner}; (void)r;")
    if empty_error is not None:
        body.append(f"if (r == 0 && m > 0) return gn_fail(ctx, \"{empty_error}\");")
    val = f"({t})p[j]" if t != ct and cast_input else "p[j]"
    trailing = axes == list(range(nd - len(axes), nd))
    if trailing:
        body += [f"if (gn_is_c_contiguous(in[0], {itemsize(xt)})) {{",
                 f"    const {ct} *p0 = (const {ct} *)in[0]->data;",
                 f"    {t} *o = ({t} *)out[0].data;",
                 "    for (int64_t i = 0; i < m; i++) {",
                 f"        const {ct} *p = p0 + i * r;",
                 f"        {t} acc = {init};",
                 f"        for (int64_t j = 0; j < r; j++) acc = {update('acc', val)};",
                 f"        o[i] = {fin('acc')};",
                 "    }", "    return 0;", "}"]
    # general: accumulate into the (contiguous) output in index order
    body += [f"{t} *o = ({t} *)out[0].data;",
             f"for (int64_t i = 0; i < m; i++) o[i] = {init};"]
    ostr = {d: f"os{j}" for j, d in enumerate(kept)}
    body += [f"int64_t os{j} = out[0].strides[{j}];" for j in range(len(kept))]
    loops, pad = [], ""
    for d in range(nd):
        loops.append(f"{pad}for (int64_t i{d} = 0; i{d} < in[0]->shape[{d}]; i{d}++) {{")
        pad += "    "
    src = " + ".join(f"i{d} * in[0]->strides[{d}]" for d in range(nd)) or "0"
    dst = " + ".join(f"i{d} * {ostr[d]}" for d in kept) or "0"
    xv = f"*(const {ct} *)(in[0]->data + {src})"
    xv = f"({t}){xv}" if t != ct and cast_input else xv
    loops += [f"{pad}{t} *q = ({t} *)((char *)o + {dst});",
              f"{pad}*q = {update('*q', xv)};"]
    loops += ["    " * d + "}" for d in reversed(range(nd))]
    body += loops
    if finish is not None:
        body.append(f"for (int64_t i = 0; i < m; i++) o[i] = {fin('o[i]')};")
    return kernel(body)


def _maxmin(which: str, node: Apply, axes: Sequence[int]) -> str:
    dt = node.outputs[0].dtype
    name = "maximum" if which == "max" else "minimum"
    err = f"zero-size array to reduction operation {name} which has no identity"
    if dt in ("float32", "float64"):
        init = "INFINITY" if which == "min" else "(-INFINITY)"
        f = f"gn_{which}{_sfx(dt)}"
        return reduce_source(node, axes, init, lambda a, x: f"{f}({a}, {x})", err)
    if dt == "bool":
        raise NotLoweredError(f"{which} of booleans")
    import numpy as np

    info = np.iinfo(dt)
    init = literal(info.min if which == "max" else info.max, dt)
    cmp = ">" if which == "max" else "<"
    return reduce_source(node, axes, init, lambda a, x: f"({x} {cmp} {a} ? {x} : {a})", err)


def _normalize(node: Apply, axes: Sequence[int], kind: str) -> str:
    """Softmax, LogSoftmax and LogSumExp over trailing axes of the input, computed stably as
    the reference does (shift by the finite maximum of each row)."""
    tensor_dtypes(node)
    x = node.inputs[0]
    nd = x.ndim
    xt, dt = x.dtype, node.outputs[0].dtype
    if dt not in ("float32", "float64") or sorted(axes) != list(range(nd - len(axes), nd)):
        raise NotLoweredError(f"{kind} over leading axes or of non-float output")
    t, ct, s = ctype(dt), ctype(xt), _sfx(dt)
    out_nd = node.outputs[0].ndim
    kept = nd - len(axes)
    body = ["gn_arr c = *in[0]; c.base = NULL;"]
    # a contiguous copy in the output dtype when the input is strided or of another dtype
    body += [f"int contiguous = gn_is_c_contiguous(in[0], {itemsize(xt)});",
             f"const {ct} *p0 = (const {ct} *)in[0]->data;",
             "if (!contiguous) {", "    " + alloc("c", xt),
             f"    gn_copy(&c, in[0], {itemsize(xt)});",
             f"    p0 = (const {ct} *)c.data;", "}"]
    body += [f"out[0].nd = {out_nd};"]
    body += [f"out[0].shape[{d}] = in[0]->shape[{d}];" for d in range(out_nd)]
    body += [f"if (gn_alloc(ctx, &out[0], {typenum(dt)}, {itemsize(dt)}) < 0) "
             "{ gn_release(c.base); return -1; }"]
    body.append("int64_t m = 1, r = 1;")
    body += [f"m *= in[0]->shape[{d}];" for d in range(kept)]
    body += [f"r *= in[0]->shape[{d}];" for d in range(kept, nd)]
    body += [f"{t} *o = ({t} *)out[0].data;",
             "for (int64_t i = 0; i < m; i++) {",
             f"    const {ct} *p = p0 + i * r;",
             f"    {t} mx = -INFINITY;",
             f"    for (int64_t j = 0; j < r; j++) mx = gn_max{s}(mx, ({t})p[j]);",
             "    if (!isfinite(mx)) mx = 0;",
             f"    {t} acc = 0;",
             f"    for (int64_t j = 0; j < r; j++) acc += exp{s}(({t})p[j] - mx);"]
    if kind == "logsumexp":
        body.append(f"    o[i] = mx + log{s}(acc);")
    elif kind == "softmax":
        body.append(f"    for (int64_t j = 0; j < r; j++) "
                    f"o[i * r + j] = exp{s}(({t})p[j] - mx) / acc;")
    else:
        body.append(f"    {t} l = log{s}(acc);")
        body.append(f"    for (int64_t j = 0; j < r; j++) o[i * r + j] = (({t})p[j] - mx) - l;")
    body += ["}", "gn_release(c.base);"]
    return kernel(body)


def _arg(node: Apply, axis: int | None, which: str) -> str:
    """Argmax / argmin along ``axis`` (None: of the C-order flattened input); the first NaN
    wins, ties go to the first index, as in NumPy."""
    tensor_dtypes(node)
    x = node.inputs[0]
    nd = x.ndim
    ct = ctype(x.dtype)
    isf = x.dtype in ("float32", "float64")
    cmp = ">" if which == "max" else "<"
    kept = [] if axis is None else [d for d in range(nd) if d != axis]
    red = list(range(nd)) if axis is None else [axis]
    body = [f"out[0].nd = {len(kept)};"]
    body += [f"out[0].shape[{j}] = in[0]->shape[{d}];" for j, d in enumerate(kept)]
    body += [alloc("out[0]", "int64"),
             "int64_t r = 1;"] + [f"r *= in[0]->shape[{d}];" for d in red]
    body.append(f"if (r == 0 && gn_size(&out[0]) > 0) return gn_fail(ctx, \"attempt to get "
                f"arg{which} of an empty sequence\");")
    pad, loops = "", []
    for d in kept:
        loops.append(f"{pad}for (int64_t i{d} = 0; i{d} < in[0]->shape[{d}]; i{d}++) {{")
        pad += "    "
    base = " + ".join(f"i{d} * in[0]->strides[{d}]" for d in kept) or "0"
    obase = " + ".join(f"i{d} * out[0].strides[{j}]" for j, d in enumerate(kept)) or "0"
    inner = [f"char *b = in[0]->data + {base};", "int64_t best = 0, q = 0;",
             f"{ct} bv = 0;", "int first = 1;"]
    # walk the reduced dimensions in C order, counting q
    ipad = ""
    for d in red:
        inner.append(f"{ipad}for (int64_t j{d} = 0; j{d} < in[0]->shape[{d}]; j{d}++) {{")
        ipad += "    "
    off = " + ".join(f"j{d} * in[0]->strides[{d}]" for d in red)
    nan = " || (isnan(v) && !isnan(bv))" if isf else ""
    stop = "if (isnan(v)) goto done; " if isf else ""
    inner += [f"{ipad}{ct} v = *(const {ct} *)(b + {off});",
              f"{ipad}if (first || v {cmp} bv{nan}) {{ bv = v; best = q; first = 0; {stop}}}",
              f"{ipad}q++;"]
    inner += ["    " * k + "}" for k in reversed(range(len(red)))]
    inner += ["done:" if isf else "", f"*(int64_t *)(out[0].data + {obase}) = best;"]
    if isf:
        inner[-2] = "done: ;"
    body += loops + [pad + ln for ln in inner if ln] + \
        ["    " * k + "}" for k in reversed(range(len(kept)))]
    return kernel(body)


def _cumulative(node: Apply, axis: int, reverse: bool, opr: str) -> str:
    """Cumulative sum / product along ``axis`` (from the end when ``reverse``), accumulated in
    the output dtype as NumPy does."""
    tensor_dtypes(node)
    x = node.inputs[0]
    nd = x.ndim
    dt = node.outputs[0].dtype
    if dt == "bool":
        raise NotLoweredError("a cumulative op accumulated in bool")
    t, ct = ctype(dt), ctype(x.dtype)
    body = [f"out[0].nd = {nd};"] + [f"out[0].shape[{d}] = in[0]->shape[{d}];" for d in range(nd)]
    body.append(alloc("out[0]", dt))
    kept = [d for d in range(nd) if d != axis]
    pad, loops = "", []
    for d in kept:
        loops.append(f"{pad}for (int64_t i{d} = 0; i{d} < in[0]->shape[{d}]; i{d}++) {{")
        pad += "    "
    src = " + ".join(f"i{d} * in[0]->strides[{d}]" for d in kept) or "0"
    dst = " + ".join(f"i{d} * out[0].strides[{d}]" for d in kept) or "0"
    n = f"in[0]->shape[{axis}]"
    j = f"({n} - 1 - j)" if reverse else "j"
    init = "0" if opr == "+" else "1"
    inner = [f"{t} acc = ({t}){init};",
             f"for (int64_t j = 0; j < {n}; j++) {{",
             f"    acc = acc {opr} ({t})*(const {ct} *)(in[0]->data + {src} + {j} * "
             f"in[0]->strides[{axis}]);",
             f"    *({t} *)(out[0].data + {dst} + {j} * out[0].strides[{axis}]) = acc;", "}"]
    closes = ["    " * k + "}" for k in reversed(range(len(kept)))]
    body += loops + [pad + ln for ln in inner] + closes
    return kernel(body)


def _accumulate(what: str, init: int, opr: str) -> Callable[[Any, Apply], str]:
    def lower(op: Any, node: Apply) -> str:
        dt = node.outputs[0].dtype
        if dt == "bool":
            raise NotLoweredError(f"a {what} accumulated in bool")
        return reduce_source(node, op.axes, literal(init, dt), lambda a, x: f"{a} {opr} {x}")
    return lower


def _logical(init: str, opr: str) -> Callable[[Any, Apply], str]:
    return lambda op, node: reduce_source(node, op.axes, init,
                                          lambda a, x: f"({a} {opr} ({x} != 0))",
                                          cast_input=False)


#: op class -> lowering (registered with c_funcify below)
LOWERINGS: dict[type, Callable[[Any, Apply], str]] = {
    Sum: _accumulate("sum", 0, "+"), Prod: _accumulate("product", 1, "*"),
    Max: lambda op, node: _maxmin("max", node, op.axes),
    Min: lambda op, node: _maxmin("min", node, op.axes),
    AllTrue: _logical("1", "&&"), AnyTrue: _logical("0", "||"),
    LogSumExp: lambda op, node: _normalize(node, op.axes, "logsumexp"),
    Softmax: lambda op, node: _normalize(node, op.axes, "softmax"),
    LogSoftmax: lambda op, node: _normalize(node, op.axes, "logsoftmax"),
    Argmax: lambda op, node: _arg(node, op.axis, "max"),
    Argmin: lambda op, node: _arg(node, op.axis, "min"),
    Cumsum: lambda op, node: _cumulative(node, op.axis, op.reverse, "+"),
    Cumprod: lambda op, node: _cumulative(node, op.axis, op.reverse, "*"),
}
for _cls, _lower in LOWERINGS.items():
    c_funcify.register(_cls)(_lower)
