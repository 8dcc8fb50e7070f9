"""Basic indexing in C: ``Subtensor`` (integers, slices and new axes, constant or given as
inputs) as a strided view, with Python's rules for negative indices and slice bounds, and
``IncSubtensor`` (``x[idx] += y`` or ``x[idx] = y`` on a copy of ``x``, ``y`` broadcast). An
integer index out of bounds fails the call (the reference then raises its ``IndexError``)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from gnomon.backends.c.dispatch import alloc, c_funcify, ctype, itemsize, kernel, tensor_dtypes
from gnomon.errors import NotLoweredError
from gnomon.graph.basic import Apply
from gnomon.tensor.indexing import (
    INPUT,
    AdvancedIncSubtensor,
    AdvancedSubtensor,
    Entry,  # the type of one idx_list entry
    IncSubtensor,
    NewAxis,
    Nonzero,
    SliceIndex,
    Subtensor,
)


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


# --- advanced indexing ------------------------------------------------------------------------
#
# ``x[idx]`` with integer arrays, integer scalars, boolean masks, slices and new axes, and its
# set / increment, in NumPy's layout (gnomon.tensor.indexing._layout is the one rule for where
# each output dimension comes from: the broadcast dimensions of the advanced indices stand
# where the first of them does when they are next to each other, first otherwise). A kernel
# runs in two passes:
#
# 1. every broadcast position of the advanced indices is turned into one byte offset into x
#    (a temporary ``aoff`` array, in C order), each index wrapped if negative and checked
#    against its axis; a mask becomes the offsets of its true elements first (``moff``). All
#    indices are checked before any element is read or written, as NumPy does (also when a
#    slice dimension is empty, so the output is too);
# 2. one loop nest over the output (or the indexed region, for a write) in C order: slice
#    dimensions step through x's strides, the block of advanced dimensions adds its offset.
#
# An increment runs in that order one element at a time, so repeated indices accumulate
# (np.add.at); a set with repeated indices keeps the last value, as NumPy does in practice.
# Temporaries are malloc'd and freed on every path (no Python: the same kernel serves
# gnomon.export_c).


def _int_index(dtype: str, ptr: str, axis: int, x: str, out: str) -> list[str]:
    """C lines adding the byte offset of the index ``*(T *)ptr`` along ``axis`` of ``x`` to
    ``out``: negative values wrap, anything outside the axis fails the call."""
    t = ctype(dtype)
    n = f"{x}->shape[{axis}]"
    if dtype.startswith("uint"):  # no wrap; values above INT64_MAX are out of bounds too
        return [f"{{ uint64_t u = (uint64_t)*(const {t} *)({ptr});",
                f"  if (u >= (uint64_t){n}) {{ gn_fail(ctx, \"index %llu is out of bounds "
                f"for axis {axis} with size %lld\", (unsigned long long)u, (long long){n}); "
                "goto done; }",
                f"  {out} += (int64_t)u * {x}->strides[{axis}]; }}"]
    return [f"{{ int64_t v = (int64_t)*(const {t} *)({ptr}), i = v < 0 ? v + {n} : v;",
            f"  if (i < 0 || i >= {n}) {{ gn_fail(ctx, \"index %lld is out of bounds for axis "
            f"{axis} with size %lld\", (long long)v, (long long){n}); goto done; }}",
            f"  {out} += i * {x}->strides[{axis}]; }}"]


def _nest(shape: Sequence[str], var: str, body: list[str]) -> list[str]:
    """``body`` inside one ``for`` loop per entry of ``shape`` (loop variables var0, var1..)."""
    out, pad = [], ""
    for d, n in enumerate(shape):
        out.append(f"{pad}for (int64_t {var}{d} = 0; {var}{d} < {n}; {var}{d}++) {{")
        pad += "    "
    out += [pad + ln for ln in body]
    out += ["    " * d + "}" for d in reversed(range(len(shape)))]
    return out


def advanced_region(idx_list: Sequence[Entry], node: Apply, x: str, first_dyn: int
                    ) -> tuple[list[str], list[str], int]:
    """C text locating the region ``x[idx]`` of an advanced index, for a kernel that ends
    with a ``done:`` label freeing the temporaries.

    Returns (declarations, lines, rank): after ``lines``, ``base`` points at the region's first
    element, ``rs[d]`` is the region's length along dimension ``d`` and, for a dimension from a
    slice or a new axis, ``rst[d]`` its byte stride in ``x``; ``B[j]`` are the broadcast
    dimensions of the advanced indices and ``aoff`` the byte offset of each of their positions
    (C order). ``x`` is a ``gn_arr *`` C expression; dynamic index parts are the node inputs
    ``first_dyn, first_dyn + 1, ...``.
    """
    from gnomon.tensor.indexing import _layout

    xv = node.inputs[0]
    dyn = node.inputs[first_dyn:]
    lay = _layout(idx_list, xv.type.ndim, dyn, True)  # type: ignore[attr-defined]
    if lay.consumed > xv.type.ndim:  # type: ignore[attr-defined]
        raise NotLoweredError("too many indices")  # make_node refuses it anyway
    rank, na = len(lay.dims), lay.adv_ndim
    decls = ["int64_t *aoff = NULL;", f"int64_t rs[{rank}], rst[{rank}], B[{na}];",
             "char *base = NULL;", "(void)rst;"]
    lines: list[str] = [f"base = {x}->data;"]

    def scalar(p: object) -> tuple[str, str]:
        """(present, value) of a slice part or integer index: constant or a scalar input."""
        if p is None:
            return "0", "0"
        if isinstance(p, tuple):  # ("in", k): an integer scalar input
            p = p[1]
        else:
            return "1", f"(int64_t){int(p)}LL"  # type: ignore[call-overload]
        k = first_dyn + p  # type: ignore[operator]
        return "1", f"(int64_t)*(const {ctype(node.inputs[k].type.dtype)} *)in[{k}]->data"  # type: ignore[attr-defined]

    for d, dim in enumerate(lay.dims):
        if dim[0] == "new":
            lines.append(f"rs[{d}] = 1; rst[{d}] = 0;")
        elif dim[0] == "slice":
            _, axis, sl, ks = dim
            vals = [scalar(("in", q)) if q is not None else scalar(p)
                    for p, q in zip(sl.parts(), ks, strict=True)]
            (hs, s), (he, e), (hp, st) = vals
            lines += ["{ int64_t a, n, st;",
                      f"  if (gn_slice({x}->shape[{axis}], {hs}, {s}, {he}, {e}, {hp}, {st}, "
                      "&a, &n, &st) < 0) { gn_fail(ctx, \"slice step cannot be zero\"); "
                      "goto done; }",
                      f"  base += a * {x}->strides[{axis}]; rs[{d}] = n; "
                      f"rst[{d}] = st * {x}->strides[{axis}]; }}"]
    # integer scalars: one offset for every position, checked even if no position exists
    # (NumPy does)
    for kind, ref, axis in lay.adv:
        if kind == "int":
            _, v = scalar(ref)
            lines += [f"{{ const int64_t sv = {v}; int64_t so = 0;",
                      *("  " + ln for ln in _int_index("int64", "&sv", axis, x, "so")),
                      "  base += so; }"]
    # masks: the byte offsets of their true elements, in C order (np.nonzero)
    # (kind, rank in the broadcast, lengths, position in lay.adv, dynamic input, axis)
    per: list[tuple[str, int, list[str], int, int, int]] = []
    for c, (kind, ref, axis) in enumerate(lay.adv):
        if kind == "int":
            continue
        k = first_dyn + ref
        m = f"in[{k}]"
        r = dyn[ref].type.ndim
        if kind == "arr":
            per.append(("arr", r, [f"{m}->shape[{j}]" for j in range(r)], c, ref, axis))
            lines += [f"int64_t cs{c}_{j} = {m}->shape[{j}] == 1 ? 0 : {m}->strides[{j}];"
                      for j in range(r)]
            continue
        decls += [f"int64_t *moff{c} = NULL, mn{c} = 0;"]
        lines += [f"if ({m}->shape[{j}] != {x}->shape[{axis + j}]) {{ gn_fail(ctx, \"boolean "
                  f"index did not match indexed array along axis {axis + j}; size of axis is "
                  f"%lld but size of corresponding boolean axis is %lld\", "
                  f"(long long){x}->shape[{axis + j}], (long long){m}->shape[{j}]); "
                  "goto done; }" for j in range(r)]
        at = " + ".join(f"m{j} * {m}->strides[{j}]" for j in range(r))
        off = " + ".join(f"m{j} * {x}->strides[{axis + j}]" for j in range(r))
        shape = [f"{m}->shape[{j}]" for j in range(r)]
        lines += _nest(shape, "m", [f"mn{c} += *(const gn_bool *)({m}->data + {at}) != 0;"])
        lines += [f"moff{c} = (int64_t *)malloc((size_t)(mn{c} > 0 ? mn{c} : 1) * 8);",
                  f"if (moff{c} == NULL) {{ gn_fail(ctx, \"out of memory\"); ctx->code = 2; "
                  "goto done; }", "{ int64_t t = 0;"]
        lines += ["    " + ln for ln in _nest(shape, "m", [
            f"if (*(const gn_bool *)({m}->data + {at})) moff{c}[t++] = {off};"])]
        lines += ["}"]
        per.append(("mask", 1, [f"mn{c}"], c, ref, axis))
    # the broadcast shape of the advanced indices (NumPy's rule, lengths known only now)
    lines.append(" ".join(f"B[{j}] = 1;" for j in range(na)))
    for _, r, lens, *_ in per:
        for j, n in enumerate(lens):
            b = f"B[{na - r + j}]"
            lines.append(f"if ({n} != 1) {{ if ({b} != 1 && {b} != {n}) {{ gn_fail(ctx, "
                         "\"shape mismatch: indexing arrays could not be broadcast together "
                         f"(dimension {na - r + j} of the broadcast: %lld against %lld)\", "
                         f"(long long){n}, (long long){b}); goto done; }} {b} = {n}; }}")
    nb = " * ".join(f"B[{j}]" for j in range(na))
    lines += [f"aoff = (int64_t *)malloc((size_t)({nb} > 0 ? {nb} : 1) * 8);",
              "if (aoff == NULL) { gn_fail(ctx, \"out of memory\"); ctx->code = 2; goto done; }"]
    # pass 1: the byte offset of every broadcast position, every index checked
    body = ["int64_t o = 0;"]
    for kind, r, _, c, ref, axis in per:
        if kind == "arr":
            k = first_dyn + ref
            ptr = f"in[{k}]->data" + "".join(f" + b{na - r + j} * cs{c}_{j}" for j in range(r))
            body += _int_index(dyn[ref].type.dtype, ptr, axis, x, "o")  # type: ignore[attr-defined]
        else:
            body.append(f"o += moff{c}[mn{c} == 1 ? 0 : b{na - 1}];")
    body.append("aoff[t++] = o;")
    lines += ["{ int64_t t = 0;", *("    " + ln for ln in _nest(
        [f"B[{j}]" for j in range(na)], "b", body)), "}"]
    j = 0
    for d, dim in enumerate(lay.dims):
        if dim[0] == "adv":
            lines.append(f"rs[{d}] = B[{j}];")
            j += 1
    return decls, lines, rank


def region_loops(idx_list: Sequence[Entry], node: Apply, first_dyn: int,
                 inner: list[str], q_strides: list[str] | None = None) -> list[str]:
    """The loop nest over the region of :func:`advanced_region` in C order: ``inner``'s ``@P``
    (a ``char *``) points at the element of ``x``; with ``q_strides`` (one byte stride per
    region dimension), ``@Q`` (a ``const char *`` starting at ``q0``) steps through a second
    array alongside."""
    from gnomon.tensor.indexing import _layout

    lay = _layout(idx_list, node.inputs[0].type.ndim,  # type: ignore[attr-defined]
                  node.inputs[first_dyn:], True)
    adv = [d for d, dim in enumerate(lay.dims) if dim[0] == "adv"]
    out, pad = ["{ char *p_ = base; (void)p_;"], "    "
    if q_strides is not None:
        out.append("  const char *q_ = q0; (void)q_;")
    prev, qprev = "p_", "q_"
    for d, dim in enumerate(lay.dims):
        out.append(f"{pad}for (int64_t i{d} = 0; i{d} < rs[{d}]; i{d}++) {{")
        pad += "    "
        if dim[0] == "adv":
            f = f"i{d}" if d == adv[0] else f"f{d - 1} * B[{dim[1]}] + i{d}"
            out.append(f"{pad}const int64_t f{d} = {f};")
            ptr = f"{prev} + aoff[f{d}]" if d == adv[-1] else prev
        else:
            ptr = f"{prev} + i{d} * rst[{d}]"
        out.append(f"{pad}char *p{d} = {ptr};")
        prev = f"p{d}"
        if q_strides is not None:
            out.append(f"{pad}const char *q{d} = {qprev} + i{d} * {q_strides[d]};")
            qprev = f"q{d}"
    out += [pad + ln.replace("@P", prev).replace("@Q", qprev) for ln in inner]
    out += ["    " * d + "}" for d in reversed(range(len(lay.dims) + 1))]
    return out


def _adv_kernel(decls: list[str], body: list[str], frees: list[str]) -> str:
    """A kernel whose failures after allocating temporaries go to ``done``."""
    text = ["int rc = -1;", *decls, *body, "rc = 0;", "done:", *[f"free({v});" for v in frees],
            "return rc;"]
    return ("static int KERNEL(gn_ctx *ctx, gn_arr *const *in, gn_arr *out) {\n"
            "    (void)ctx; (void)in; (void)out;\n"
            + "".join(f"    {ln}\n" for ln in text) + "}\n")


def _temporaries(decls: list[str]) -> list[str]:
    out = ["aoff"]
    for d in decls:
        if d.startswith("int64_t *moff"):
            out.append(d.split()[1].lstrip("*"))
    return out


@c_funcify.register
def _(op: AdvancedSubtensor, node: Apply) -> str:
    tensor_dtypes(node)
    dt = node.outputs[0].type.dtype  # type: ignore[attr-defined]
    t = ctype(dt)
    decls, lines, rank = advanced_region(op.idx_list, node, "in[0]", 1)
    body = [*lines, f"out[0].nd = {rank};",
            *(f"out[0].shape[{d}] = rs[{d}];" for d in range(rank)),
            alloc("out[0]", dt).replace("return -1;", "goto done;"),
            "{ char *o = out[0].data;",
            *region_loops(op.idx_list, node, 1, [f"*({t} *)o = *(const {t} *)@P;",
                                                 f"o += {itemsize(dt)};"]),
            "}"]
    return _adv_kernel(decls, body, _temporaries(decls))


@c_funcify.register
def _(op: AdvancedIncSubtensor, node: Apply) -> str:
    tensor_dtypes(node)
    x, y = node.inputs[0], node.inputs[1]
    dt = x.type.dtype  # type: ignore[attr-defined]
    t = ctype(dt)
    yd = y.type.ndim  # type: ignore[attr-defined]
    # x's copy first: the region's pointers are into it
    decls, lines, rank = advanced_region(op.idx_list, node, "(&out[0])", 2)
    if yd > rank:
        raise NotLoweredError("a value of higher rank than the indexed region")
    body = ["out[0] = *in[0]; out[0].base = NULL;",
            alloc("out[0]", dt).replace("return -1;", "goto done;"),
            f"gn_copy(&out[0], in[0], {itemsize(dt)});",
            *lines]
    qs = []
    for d in range(rank):
        j = d - (rank - yd)
        if j < 0:
            qs.append("0")
            continue
        body += [f"if (in[1]->shape[{j}] != 1 && in[1]->shape[{j}] != rs[{d}]) {{ gn_fail(ctx, "
                 "\"shape mismatch: the value array could not be broadcast to the indexing "
                 "result (dimension %d: %lld against %lld)\", "
                 f"{d}, (long long)in[1]->shape[{j}], (long long)rs[{d}]); goto done; }}",
                 f"const int64_t ys{d} = in[1]->shape[{j}] == 1 ? 0 : in[1]->strides[{j}];"]
        qs.append(f"ys{d}")
    if op.set_instead_of_inc:
        upd = f"*({t} *)@P = *(const {t} *)@Q;"
    elif dt == "bool":  # np.add.at on booleans is a logical or
        upd = f"*({t} *)@P = (gn_bool)(*({t} *)@P | *(const {t} *)@Q);"
    else:
        upd = f"*({t} *)@P += *(const {t} *)@Q;"
    body += ["{ const char *q0 = in[1]->data;",
             *region_loops(op.idx_list, node, 2, [upd], qs), "}"]
    return _adv_kernel(decls, body, _temporaries(decls))


@c_funcify.register
def _(op: Nonzero, node: Apply) -> str:
    # two passes in C order, as np.nonzero: count, then write the indices
    tensor_dtypes(node)
    x = node.inputs[0]
    nd = x.type.ndim  # type: ignore[attr-defined]
    t = ctype(x.type.dtype)  # type: ignore[attr-defined]
    at = " + ".join(f"i{d} * in[0]->strides[{d}]" for d in range(nd))
    test = f"*(const {t} *)(in[0]->data + {at}) != 0"
    shape = [f"in[0]->shape[{d}]" for d in range(nd)]
    body = ["int64_t cnt = 0, t = 0;", *_nest(shape, "i", [f"cnt += {test};"])]
    for j in range(nd):
        body += [f"out[{j}].nd = 1; out[{j}].shape[0] = cnt;", alloc(f"out[{j}]", "int64")]
    body += _nest(shape, "i", [f"if ({test}) {{", *(
        f"    *(int64_t *)(out[{j}].data + t * out[{j}].strides[0]) = i{j};" for j in range(nd)),
        "    t++;", "}"])
    return kernel(body)
