"""Elementwise loops in C: ``Elemwise`` (fused ``Composite`` groups included) and ``SumToShape``.

An Elemwise node is one loop over the broadcast shape, computed at run time as NumPy does (a
length-1 dimension broadcasts even when its length was unknown when the graph was built). Two
loops are generated: a flat one over ``n`` elements when every input and the output are
C-contiguous with the full shape (the common case; GCC vectorizes it), and a strided loop nest
where a broadcast input has stride 0. A fused group is one loop whose body holds the inner
scalar graph as local variables, each cast to the dtype the unfused node would have stored.
One-element constants are written into the code as literals.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from gnomon.backends.c.dispatch import alloc, c_funcify, ctype, kernel, tensor_dtypes
from gnomon.backends.c.scalar import _cast, c_scalar, literal
from gnomon.errors import NotLoweredError
from gnomon.graph.basic import Apply, Constant, Variable
from gnomon.scalar.composite import Composite, ScalarConstant
from gnomon.tensor.elemwise import Elemwise, SumToShape


def _const_literal(v: Variable) -> str | None:
    """A literal for a one-element constant input (possibly behind a DimShuffle)."""
    from gnomon.tensor.shapes import DimShuffle

    if v.owner is not None and isinstance(v.owner.op, DimShuffle):
        v = v.owner.inputs[0]
    if isinstance(v, Constant) and np.asarray(v.data).size == 1:
        return literal(np.asarray(v.data).reshape(()), v.type.dtype)  # type: ignore[attr-defined]
    return None


def scalar_body(op: object, args: Sequence[str], in_dtypes: Sequence[str],
                out_dtypes: Sequence[str]) -> tuple[list[str], list[str]]:
    """Statements and one expression per output computing scalar ``op`` on ``args``."""
    if isinstance(op, Composite):
        sd = op.slot_dtypes(*in_dtypes)
        names = list(args)
        lines: list[str] = []
        for k, (sop, ins) in enumerate(op.program):
            slot = op.n_inputs + k
            dt = sd[slot]
            if isinstance(sop, ScalarConstant):
                names.append(literal(sop.value, dt))
                continue
            expr = c_scalar(sop, [names[i] for i in ins], [sd[i] for i in ins], [dt])
            lines.append(f"{ctype(dt)} t{slot} = {_cast(expr, dt, dt)};")
            names.append(f"t{slot}")
        return lines, [names[s] for s in op.out_slots]
    if getattr(op, "nout", 1) != 1:
        raise NotLoweredError(f"scalar op {op} with several outputs")
    return [], [c_scalar(op, args, in_dtypes, out_dtypes)]  # type: ignore[arg-type]


def elemwise_source(node: Apply, inplace: int | None = None) -> str:
    """The kernel of an Elemwise node; ``inplace=k`` writes output 0 into input ``k`` when that
    input has the output's shape (the memory plan guarantees it is dead and unaliased)."""
    tensor_dtypes(node)
    op: Elemwise = node.op  # type: ignore[assignment]
    ins, outs = node.inputs, node.outputs
    nd, nin = outs[0].ndim, len(ins)
    lits = [_const_literal(v) for v in ins]
    static = [v.type.shape for v in ins]  # type: ignore[attr-defined]
    in_dt = [v.dtype for v in ins]
    out_dt = [o.dtype for o in outs]
    stmts, exprs = scalar_body(op.scalar_op, [f"x{k}" for k in range(nin)], in_dt, out_dt)
    arrays = [k for k in range(nin) if lits[k] is None]
    body: list[str] = [f"int64_t n[{max(nd, 1)}]; (void)n;"]
    # 1. the broadcast shape, checked like NumPy (a runtime helper: one call, not a block per
    # input and dimension, keeps kernels short to compile). Each array input with the
    # dimensions it cannot broadcast along skipped: static length 1.
    if nd:
        spec = []
        for k in arrays:
            spec += [k, sum(1 << d for d in range(nd) if static[k][d] == 1)]
        body.append(f"static const int64_t bc[] = {{{', '.join(map(str, spec)) or '0'}}};")
        body.append(f"if (gn_broadcast(ctx, in, bc, {len(arrays)}, {nd}, n) < 0) return -1;")
    # 2. outputs
    for j, dt in enumerate(out_dt):
        set_shape = [f"out[{j}].nd = {nd};"] + [f"out[{j}].shape[{d}] = n[{d}];"
                                                 for d in range(nd)]
        if j == 0 and inplace is not None:
            same = " && ".join(f"in[{inplace}]->shape[{d}] == n[{d}]" for d in range(nd)) or "1"
            body += [f"if ({same}) gn_view(&out[0], in[{inplace}]);", "else {"]
            body += ["    " + ln for ln in set_shape] + ["    " + alloc("out[0]", dt), "}"]
        else:
            body += set_shape + [alloc(f"out[{j}]", dt)]
    body.append("int64_t total = 1;")
    body += [f"total *= n[{d}];" for d in range(nd)]
    body.append("if (total == 0) return 0;")

    def elem(read: list[str], write: list[str]) -> list[str]:
        lines = []
        for k in range(nin):
            lines.append(f"{ctype(in_dt[k])} x{k} = {lits[k] if lits[k] is not None else read[k]};")
        lines += stmts
        for j, e in enumerate(exprs):
            lines.append(f"{write[j]} = {_cast(e, out_dt[j], out_dt[j])};")
        return lines

    # 3a. the flat loop: every array C-contiguous with the full shape
    contig = [f"gn_is_c_contiguous(in[{k}], {np.dtype(in_dt[k]).itemsize})" for k in arrays]
    contig += [f"gn_is_c_contiguous(&out[{j}], {np.dtype(dt).itemsize})"
               for j, dt in enumerate(out_dt)]
    for k in arrays:
        contig += [f"in[{k}]->shape[{d}] == n[{d}]" for d in range(nd) if static[k][d] != 1]
    ptrs = [f"const {ctype(in_dt[k])} *p{k} = (const {ctype(in_dt[k])} *)in[{k}]->data;"
            for k in arrays]
    ptrs += [f"{ctype(dt)} *o{j} = ({ctype(dt)} *)out[{j}].data;" for j, dt in enumerate(out_dt)]
    flat_read = [f"p{k}[i]" if lits[k] is None else "" for k in range(nin)]
    # an input with a static length-1 dimension is not full-shape unless nd == 0; such
    # inputs go through the strided loop (stride 0 on that dimension)
    full = [k for k in arrays if all(s != 1 for s in static[k])]
    # (a 0-d node has one element: the strided block below reads and writes it without the
    # flat loop's checks and vector loop, which only cost the C compiler time)
    if len(full) == len(arrays) and nd > 0:
        body.append(f"if ({' && '.join(contig) or '1'}) {{")
        body += ["    " + ln for ln in ptrs]
        # omp simd (with GNOMON_VECMATH): no dependence between iterations (an in-place
        # output is the input it replaces, element for element), so the loop vectorizes and
        # calls libmvec's vector math (see the runtime)
        body.append("    GN_SIMD")
        body.append("    for (int64_t i = 0; i < total; i++) {")
        flat_write = [f"o{j}[i]" for j in range(len(out_dt))]
        body += ["        " + ln for ln in elem(flat_read, flat_write)]
        body += ["    }", "    return 0;", "}"]
    # 3b. the strided loop nest
    for k in arrays:
        body.append(f"int64_t s{k}[{max(nd, 1)}]; (void)s{k};")
        for d in range(nd):
            if static[k][d] == 1:
                body.append(f"s{k}[{d}] = 0;")
            else:
                body.append(f"s{k}[{d}] = in[{k}]->shape[{d}] == 1 ? 0 : in[{k}]->strides[{d}];")
    names = [f"a{k}" for k in arrays] + [f"b{j}" for j in range(len(out_dt))]
    strides = [f"s{k}" for k in arrays] + [f"out[{j}].strides" for j in range(len(out_dt))]
    body += [f"char *{nm}_0 = in[{k}]->data;" for nm, k in zip(names, arrays, strict=False)]
    body += [f"char *b{j}_0 = out[{j}].data;" for j in range(len(out_dt))]
    nest: list[str] = []
    for d in range(nd):
        pad = "    " * d
        nest.append(f"{pad}for (int64_t i{d} = 0; i{d} < n[{d}]; i{d}++) {{")
        for nm, st in zip(names, strides, strict=True):
            nest.append(f"{pad}    char *{nm}_{d + 1} = {nm}_{d} + i{d} * {st}[{d}];")
    pad = "    " * nd
    read = ["" if lits[k] is not None else f"*(const {ctype(in_dt[k])} *)a{k}_{nd}"
            for k in range(nin)]
    write = [f"*({ctype(dt)} *)b{j}_{nd}" for j, dt in enumerate(out_dt)]
    nest += [pad + ln for ln in ["{", *["    " + e for e in elem(read, write)], "}"]]
    nest += ["    " * d + "}" for d in reversed(range(nd))]
    body += nest
    return kernel(body)


def fused_sum_source(node: Apply, axes: Sequence[int], dtype: str) -> str:
    """The kernel of ``Sum(axes, dtype)`` of the (only) output of Elemwise ``node``: one loop
    over the broadcast shape adding each value to an accumulator, no array of the elementwise
    values. Its ``in`` are the Elemwise node's inputs, its ``out[0]`` the Sum's output.

    Each value is computed and cast to the Elemwise output's dtype as the unfused loop would
    store it, then to ``dtype``. Sums over trailing axes of C-contiguous full-shape inputs (the
    whole array included) keep one register accumulator per output element, in ``double`` for
    a float32 sum (NumPy sums float32 pairwise in float32: the two agree to float32 rounding),
    lanes summed separately when vectorized (``GN_SIMD_ACC``). Sums over leading axes of such
    operands add each reduced row to the whole output in a vectorized loop, in ``dtype`` (as
    NumPy adds the rows of a C-contiguous array). Other cases walk the broadcast
    shape in index order with a register accumulator over the innermost reduced axes, added
    into the output (zero-filled, of ``dtype``). NotLoweredError when there is nothing to fuse
    (several outputs, a 0-d output, no axes) or ``dtype`` is bool.
    """
    tensor_dtypes(node)
    op: Elemwise = node.op  # type: ignore[assignment]
    ins, outs = node.inputs, node.outputs
    nd, nin = outs[0].ndim, len(ins)
    axes = sorted(set(axes))
    if len(outs) != 1 or nd == 0 or not axes or dtype == "bool":
        raise NotLoweredError("no fused sum for this node")
    rt = ctype(dtype)
    at = "double" if dtype == "float32" else rt  # the register accumulator's type
    lits = [_const_literal(v) for v in ins]
    static = [v.type.shape for v in ins]  # type: ignore[attr-defined]
    in_dt = [v.dtype for v in ins]
    od = outs[0].dtype
    stmts, exprs = scalar_body(op.scalar_op, [f"x{k}" for k in range(nin)], in_dt, [od])
    arrays = [k for k in range(nin) if lits[k] is None]
    kept = [d for d in range(nd) if d not in axes]
    body: list[str] = [f"int64_t n[{nd}]; (void)n;"]
    spec = []
    for k in arrays:
        spec += [k, sum(1 << d for d in range(nd) if static[k][d] == 1)]
    body.append(f"static const int64_t bc[] = {{{', '.join(map(str, spec)) or '0'}}};")
    body.append(f"if (gn_broadcast(ctx, in, bc, {len(arrays)}, {nd}, n) < 0) return -1;")
    body.append(f"out[0].nd = {len(kept)};")
    body += [f"out[0].shape[{j}] = n[{d}];" for j, d in enumerate(kept)]
    body += [alloc("out[0]", dtype), "int64_t m = gn_size(&out[0]);",
             f"{rt} *o = ({rt} *)out[0].data;",
             "for (int64_t q = 0; q < m; q++) o[q] = 0;",
             "int64_t total = 1;"]
    body += [f"total *= n[{d}];" for d in range(nd)]
    body.append("if (total == 0) return 0;")

    def add(read: list[str]) -> list[str]:
        lines = [f"{ctype(in_dt[k])} x{k} = {lits[k] if lits[k] is not None else read[k]};"
                 for k in range(nin)]
        lines += stmts
        # the value as the unfused loop would store it, then as the Sum casts it
        lines.append(f"acc += ({at})({rt})({_cast(exprs[0], od, od)});")
        return lines

    # 1. flat: trailing axes reduced, every array C-contiguous with the full shape
    # (an input of static shape (1, ..., 1), a broadcast scalar, reads its one element)
    full = [k for k in arrays if all(s != 1 for s in static[k])]
    one = [k for k in arrays if all(s == 1 for s in static[k])]
    if axes == list(range(len(kept), nd)) and len(full) + len(one) == len(arrays):
        contig = [f"gn_is_c_contiguous(in[{k}], {np.dtype(in_dt[k]).itemsize})" for k in full]
        for k in full:
            contig += [f"in[{k}]->shape[{d}] == n[{d}]" for d in range(nd)]
        body.append(f"if ({' && '.join(contig) or '1'}) {{")
        body += [f"    const {ctype(in_dt[k])} *p{k} = (const {ctype(in_dt[k])} *)in[{k}]->data;"
                 for k in arrays]
        body += ["    int64_t r = total / m;",
                 "    for (int64_t q = 0; q < m; q++) {",
                 f"        {at} acc = 0;",
                 "        GN_SIMD_ACC",
                 "        for (int64_t i = q * r; i < (q + 1) * r; i++) {"]
        body += ["            " + ln
                 for ln in add([f"p{k}[0]" if k in one else f"p{k}[i]" for k in range(nin)])]
        body += ["        }", f"        o[q] = ({rt})acc;", "    }", "    return 0;", "}"]
    # 1b. flat: leading axes reduced (same conditions): each reduced row added to the whole
    # output, vectorized across output elements, accumulated in the Sum's dtype (as NumPy
    # adds the rows of a C-contiguous array)
    elif axes == list(range(len(axes))) and len(full) + len(one) == len(arrays):
        contig = [f"gn_is_c_contiguous(in[{k}], {np.dtype(in_dt[k]).itemsize})" for k in full]
        for k in full:
            contig += [f"in[{k}]->shape[{d}] == n[{d}]" for d in range(nd)]
        body.append(f"if ({' && '.join(contig) or '1'}) {{")
        body += [f"    const {ctype(in_dt[k])} *p{k} = (const {ctype(in_dt[k])} *)in[{k}]->data;"
                 for k in arrays]
        body += ["    int64_t r = total / m;",
                 "    for (int64_t b = 0; b < r; b++) {",
                 "        GN_SIMD",
                 "        for (int64_t q = 0; q < m; q++) {",
                 "            int64_t i = b * m + q;"]
        row = add([f"p{k}[0]" if k in one else f"p{k}[i]" for k in range(nin)])
        row[-1] = row[-1].replace(f"acc += ({at})", "o[q] += ", 1)
        body += ["            " + ln for ln in row]
        body += ["        }", "    }", "    return 0;", "}"]
    # 2. strided: index order; the accumulator covers the axes after the last kept one
    for k in arrays:
        body.append(f"int64_t s{k}[{nd}];")
        for d in range(nd):
            if static[k][d] == 1:
                body.append(f"s{k}[{d}] = 0;")
            else:
                body.append(f"s{k}[{d}] = in[{k}]->shape[{d}] == 1 ? 0 : in[{k}]->strides[{d}];")
    body += [f"char *a{k}_0 = in[{k}]->data;" for k in arrays]
    last = kept[-1] + 1 if kept else 0
    off = " + ".join(f"i{d} * out[0].strides[{j}]" for j, d in enumerate(kept)) or "0"
    read = ["" if lits[k] is not None else f"*(const {ctype(in_dt[k])} *)a{k}_{nd}"
            for k in range(nin)]
    nest: list[str] = []
    for d in range(nd):
        pad = "    " * d
        if d == last:
            nest.append(f"{pad}{at} acc = 0;")
        nest.append(f"{pad}for (int64_t i{d} = 0; i{d} < n[{d}]; i{d}++) {{")
        nest += [f"{pad}    char *a{k}_{d + 1} = a{k}_{d} + i{d} * s{k}[{d}];" for k in arrays]
    pad = "    " * nd
    if last == nd:
        nest.append(f"{pad}{at} acc = 0;")
    nest += [pad + ln for ln in ["{", *["    " + e for e in add(read)], "}"]]
    if last == nd:
        nest.append(f"{pad}*({rt} *)((char *)o + {off}) += ({rt})acc;")
    for d in reversed(range(nd)):
        nest.append("    " * d + "}")
        if d == last:
            nest.append("    " * d + f"*({rt} *)((char *)o + {off}) += ({rt})acc;")
    body += nest
    return kernel(body)


@c_funcify.register
def _(op: Elemwise, node: Apply) -> str:
    return elemwise_source(node)


@c_funcify.register
def _(op: SumToShape, node: Apply) -> str:
    tensor_dtypes(node)
    g = node.inputs[0]
    nd = g.ndim
    dt = node.outputs[0].dtype
    t = ctype(dt)
    gt = ctype(g.dtype)
    st = ctype(node.inputs[1].dtype)
    body = [f"out[0].nd = {nd};"]
    for d in range(nd):
        body += [f"int64_t want{d} = (int64_t)*(const {st} *)(in[1]->data + {d} * "
                 "in[1]->strides[0]);",
                 f"if (want{d} != in[0]->shape[{d}] && want{d} != 1)",
                 "    return gn_fail(ctx, \"the gradient cannot be reduced to the requested "
                 "shape\");",
                 f"out[0].shape[{d}] = want{d};"]
    body += [alloc("out[0]", dt), "int64_t m = gn_size(&out[0]);",
             f"for (int64_t i = 0; i < m; i++) (({t} *)out[0].data)[i] = 0;"]
    body += [f"int64_t ds{d} = want{d} == in[0]->shape[{d}] ? out[0].strides[{d}] : 0;"
             for d in range(nd)]
    loops = ["    " * d + f"for (int64_t i{d} = 0; i{d} < in[0]->shape[{d}]; i{d}++)"
             for d in range(nd)]
    src = " + ".join(f"i{d} * in[0]->strides[{d}]" for d in range(nd)) or "0"
    dst = " + ".join(f"i{d} * ds{d}" for d in range(nd)) or "0"
    body += loops + ["    " * nd + f"*({t} *)(out[0].data + {dst}) += "
                     f"({t})*(const {gt} *)(in[0]->data + {src});"]
    return kernel(body)
