"""Indexing in C: ``Subtensor`` (integers, slices and new axes, constant or given as inputs)
as a strided view, with Python's rules for negative indices and slice bounds, and
``IncSubtensor`` (``x[idx] += y`` or ``x[idx] = y`` on a copy of ``x``, ``y`` broadcast);
advanced indexing (``AdvancedSubtensor`` and ``AdvancedIncSubtensor``: integer arrays, integer
scalars and boolean masks mixed with slices and new axes, NumPy's layout; see the section
below) and ``Nonzero``. Nothing calls Python: the kernels serve ``gnomon.export_c`` too. An
index out of bounds fails the call with NumPy's message (``mode="c"`` then replays the call on
the reference, which raises its ``IndexError`` naming the node)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

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
# where the first of them does when they are next to each other, first otherwise). A kernel:
#
# 1. computes the slices, checks the integer scalars, turns each boolean mask into the byte
#    offsets of its true elements (``moff``, np.nonzero's order) and broadcasts the advanced
#    indices (NumPy's rule, with the lengths known only now);
# 2. turns every broadcast position of the advanced indices into one byte offset into x (a
#    temporary ``aoff`` array, in C order), each index wrapped if negative and checked against
#    its axis, so that every index is checked before any element is read or written, as NumPy
#    does (also when a slice dimension is empty, and so is the output);
# 3. runs one loop nest over the output (or the indexed region, for a write) in C order: slice
#    dimensions step through x's strides, the block of advanced dimensions adds its offset.
#
# When nothing but new axes stands before the advanced dimensions (``x[idx]``, ``x[idx, 1:]``,
# the gather of a hierarchical model and its gradient), the loop nest visits every broadcast
# position once, before any slice dimension could be empty: step 2 is done inside step 3 (no
# temporary, one pass), with the same checks.
#
# An increment runs in C order one element at a time, so repeated indices accumulate
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


class _Region:
    """The region ``x[idx]`` of an advanced index as C text, for :func:`_adv_kernel`.

    After :attr:`lines`, ``base`` points at the region's first element, ``rs[d]`` is the
    region's length along dimension ``d`` and, for a dimension from a slice or a new axis,
    ``rst[d]`` its byte stride in ``x``; ``B[j]`` are the broadcast dimensions of the advanced
    indices. :meth:`loops` is the loop nest over the region. ``x`` is a ``gn_arr *`` C
    expression; dynamic index parts are the node inputs ``first_dyn, first_dyn + 1, ...``.
    """

    def __init__(self, idx_list: Sequence[Entry], node: Apply, x: str, first_dyn: int) -> None:
        from gnomon.tensor.indexing import _layout

        xv = node.inputs[0]
        self.dyn = dyn = node.inputs[first_dyn:]
        lay = _layout(idx_list, xv.type.ndim, dyn, True)  # type: ignore[attr-defined]
        if lay.consumed > xv.type.ndim:  # type: ignore[attr-defined]
            raise NotLoweredError("too many indices")  # make_node refuses it anyway
        self.dims, self.rank, self.x, self.first_dyn = lay.dims, len(lay.dims), x, first_dyn
        self.na = na = lay.adv_ndim
        self.adv = [d for d, dim in enumerate(lay.dims) if dim[0] == "adv"]
        self.fused = all(dim[0] == "new" for dim in lay.dims[:self.adv[0]])
        self.temps = [] if self.fused else ["aoff"]
        self.decls = [f"int64_t rs[{self.rank}], rst[{self.rank}], B[{na}];",
                      "char *base = NULL;", "(void)rst;"]
        if not self.fused:
            self.decls.append("int64_t *aoff = NULL;")
        lines = self.lines = [f"base = {x}->data;"]

        def scalar(p: object) -> tuple[str, str]:
            """(present, value) of a slice part or integer index: a constant or ("in", k),
            an integer scalar input."""
            if p is None:
                return "0", "0"
            if not isinstance(p, tuple):
                return "1", f"(int64_t){int(p)}LL"  # type: ignore[call-overload]
            k = first_dyn + p[1]
            return "1", f"(int64_t)*(const {ctype(node.inputs[k].type.dtype)} *)in[{k}]->data"

        for d, dim in enumerate(lay.dims):
            if dim[0] == "new":
                lines.append(f"rs[{d}] = 1; rst[{d}] = 0;")
            elif dim[0] == "slice":
                _, axis, sl, ks = dim
                vals = [scalar(("in", q)) if q is not None else scalar(p)
                        for p, q in zip(sl.parts(), ks, strict=True)]
                (hs, s), (he, e), (hp, st) = vals
                lines += ["{ int64_t a, n, st;",
                          f"  if (gn_slice({x}->shape[{axis}], {hs}, {s}, {he}, {e}, {hp}, "
                          f"{st}, &a, &n, &st) < 0) {{ gn_fail(ctx, \"slice step cannot be "
                          "zero\"); goto done; }",
                          f"  base += a * {x}->strides[{axis}]; rs[{d}] = n; "
                          f"rst[{d}] = st * {x}->strides[{axis}]; }}"]
        # integer scalars: one offset for every position, checked even if there is no
        # position (NumPy does)
        for kind, ref, axis in lay.adv:
            if kind == "int":
                _, v = scalar(ref)
                lines += [f"{{ const int64_t sv = {v}; int64_t so = 0;",
                          *("  " + ln for ln in _int_index("int64", "&sv", axis, x, "so")),
                          "  base += so; }"]
        # (kind, rank in the broadcast, lengths, position in lay.adv, dynamic input, axis)
        self.per: list[tuple[str, int, list[str], int, int, int]] = []
        for c, (kind, ref, axis) in enumerate(lay.adv):
            if kind == "int":
                continue
            k = first_dyn + ref
            m = f"in[{k}]"
            r = dyn[ref].type.ndim
            if kind == "arr":
                self.per.append(("arr", r, [f"{m}->shape[{j}]" for j in range(r)], c, ref, axis))
                lines += [f"int64_t cs{c}_{j} = {m}->shape[{j}] == 1 ? 0 : {m}->strides[{j}];"
                          for j in range(r)]
                continue
            # a mask: the byte offsets of its true elements, in C order (np.nonzero)
            self.decls.append(f"int64_t *moff{c} = NULL, mn{c} = 0;")
            self.temps.append(f"moff{c}")
            lines += [f"if ({m}->shape[{j}] != {x}->shape[{axis + j}]) {{ gn_fail(ctx, "
                      f"\"boolean index did not match indexed array along axis {axis + j}; "
                      "size of axis is %lld but size of corresponding boolean axis is %lld\", "
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
            self.per.append(("mask", 1, [f"mn{c}"], c, ref, axis))
        # the broadcast shape of the advanced indices
        lines.append(" ".join(f"B[{j}] = 1;" for j in range(na)))
        for _, r, lens, *_ in self.per:
            for j, n in enumerate(lens):
                b = f"B[{na - r + j}]"
                lines.append(f"if ({n} != 1) {{ if ({b} != 1 && {b} != {n}) {{ gn_fail(ctx, "
                             "\"shape mismatch: indexing arrays could not be broadcast "
                             f"together (dimension {na - r + j} of the broadcast: %lld "
                             f"against %lld)\", (long long){n}, (long long){b}); goto done; }} "
                             f"{b} = {n}; }}")
        for j, d in enumerate(self.adv):
            lines.append(f"rs[{d}] = B[{j}];")
        if not self.fused:  # every broadcast position's offset, every index checked
            nb = " * ".join(f"B[{j}]" for j in range(na))
            lines += [f"aoff = (int64_t *)malloc((size_t)({nb} > 0 ? {nb} : 1) * 8);",
                      "if (aoff == NULL) { gn_fail(ctx, \"out of memory\"); ctx->code = 2; "
                      "goto done; }", "{ int64_t t = 0;"]
            lines += ["    " + ln for ln in _nest(
                [f"B[{j}]" for j in range(na)], "b",
                ["int64_t off = 0;", *self._offset(lambda j: f"b{j}"), "aoff[t++] = off;"])]
            lines.append("}")

    def _offset(self, pos: Callable[[int], str]) -> list[str]:
        """C lines adding to ``int64_t off`` the byte offset in ``x`` of the broadcast position
        whose index along broadcast dimension ``j`` is the C variable ``pos(j)``."""
        out: list[str] = []
        for kind, r, _, c, ref, axis in self.per:
            if kind == "arr":
                k = self.first_dyn + ref
                ptr = f"in[{k}]->data" + "".join(f" + {pos(self.na - r + j)} * cs{c}_{j}"
                                                 for j in range(r))
                out += _int_index(self.dyn[ref].type.dtype, ptr, axis, self.x, "off")  # type: ignore[attr-defined]
            else:
                out.append(f"off += moff{c}[mn{c} == 1 ? 0 : {pos(self.na - 1)}];")
        return out

    def loops(self, inner: list[str], q_strides: list[str] | None = None) -> list[str]:
        """The loop nest over the region in C order. In ``inner``, ``@P`` (a ``char *``)
        points at the element of ``x``; with ``q_strides`` (one byte stride per region
        dimension), ``@Q`` (a ``const char *`` starting at ``qstart``) steps through a second
        array alongside."""
        out, pad = ["{ char *p_ = base; (void)p_;"], "    "
        if q_strides is not None:
            out.append("  const char *q_ = qstart; (void)q_;")
        prev, qprev = "p_", "q_"
        for d, dim in enumerate(self.dims):
            out.append(f"{pad}for (int64_t i{d} = 0; i{d} < rs[{d}]; i{d}++) {{")
            pad += "    "
            if dim[0] == "adv" and d == self.adv[-1] and self.fused:
                out += [f"{pad}int64_t off = 0;",
                        *(pad + ln for ln in self._offset(lambda j: f"i{self.adv[j]}"))]
                ptr = f"{prev} + off"
            elif dim[0] == "adv":
                f = f"i{d}" if d == self.adv[0] else f"f{d - 1} * B[{dim[1]}] + i{d}"
                if not self.fused:
                    out.append(f"{pad}const int64_t f{d} = {f};")
                ptr = f"{prev} + aoff[f{d}]" if d == self.adv[-1] else prev
            else:
                ptr = f"{prev} + i{d} * rst[{d}]"
            out.append(f"{pad}char *p{d} = {ptr};")
            prev = f"p{d}"
            if q_strides is not None:
                out.append(f"{pad}const char *q{d} = {qprev} + i{d} * {q_strides[d]};")
                qprev = f"q{d}"
        out += [pad + ln.replace("@P", prev).replace("@Q", qprev) for ln in inner]
        out += ["    " * d + "}" for d in reversed(range(self.rank + 1))]
        return out

    def kernel(self, body: list[str]) -> str:
        """The kernel running ``body`` (after :attr:`lines`, which it includes where it
        wants them); failures go to ``done``, which frees the temporaries."""
        text = ["int rc = -1;", *self.decls, *body, "rc = 0;", "done:",
                *[f"free({v});" for v in self.temps], "return rc;"]
        return ("static int KERNEL(gn_ctx *ctx, gn_arr *const *in, gn_arr *out) {\n"
                "    (void)ctx; (void)in; (void)out;\n"
                + "".join(f"    {ln}\n" for ln in text) + "}\n")


@c_funcify.register
def _(op: AdvancedSubtensor, node: Apply) -> str:
    tensor_dtypes(node)
    dt = node.outputs[0].type.dtype  # type: ignore[attr-defined]
    t = ctype(dt)
    reg = _Region(op.idx_list, node, "in[0]", 1)
    body = [*reg.lines, f"out[0].nd = {reg.rank};",
            *(f"out[0].shape[{d}] = rs[{d}];" for d in range(reg.rank)),
            alloc("out[0]", dt).replace("return -1;", "goto done;"),
            "{ char *o = out[0].data;",
            *reg.loops([f"*({t} *)o = *(const {t} *)@P;", f"o += {itemsize(dt)};"]), "}"]
    return reg.kernel(body)


@c_funcify.register
def _(op: AdvancedIncSubtensor, node: Apply) -> str:
    tensor_dtypes(node)
    x, y = node.inputs[0], node.inputs[1]
    dt = x.type.dtype  # type: ignore[attr-defined]
    t = ctype(dt)
    yd = y.type.ndim  # type: ignore[attr-defined]
    # the region is in x's copy, made first
    reg = _Region(op.idx_list, node, "(&out[0])", 2)
    rank = reg.rank
    if yd > rank:
        raise NotLoweredError("a value of higher rank than the indexed region")
    body = ["out[0] = *in[0]; out[0].base = NULL;",
            alloc("out[0]", dt).replace("return -1;", "goto done;"),
            f"gn_copy(&out[0], in[0], {itemsize(dt)});", *reg.lines]
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
    body += ["{ const char *qstart = in[1]->data;", *reg.loops([upd], qs), "}"]
    return reg.kernel(body)


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
