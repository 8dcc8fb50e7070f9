"""Elementwise loops: ``Elemwise`` (including fused ``Composite`` scalar ops) and ``SumToShape``.

An Elemwise node becomes one loop nest over the broadcast shape, computed at run time the way
NumPy does (a dimension of length 1 is broadcast even when its length was unknown when the
graph was built). Two copies of the loop nest are generated: a fast one for the common case
where no input is broadcast at run time (plain indices, which LLVM vectorizes) and a general
one where each input's index along each dimension is multiplied by 0 or 1.

A fused group (``Elemwise(Composite)`` from the fusion rewrite) is still one loop: the inner
scalar graph is inlined into the loop body as local variables, so no temporary arrays exist.
Floating-point constants of a fused group are arguments of the kernel, so that graphs that
differ only in their values share kernels (see :mod:`gnomon.backends.numba.composite`); other
one-element constants feeding the loop are written into the kernel as literals.

A loop whose scalar function calls a transcendental function that glibc's ``libmvec`` has in
SIMD form (``exp``, ``log1p``, ``sin``, ... see :mod:`gnomon.backends.numba.vmath`) is
evaluated in blocks of :data:`~gnomon.backends.numba.vmath.BLOCK` elements along the innermost
dimension instead: the scalar statements are split into *phases* at each such call; phase
``p`` is one loop over the block computing the statements whose inputs are ready, storing the
values later phases need in block buffers (a few KiB, in L1 cache); between phases one call
per function evaluates the whole block with the vector routine. Every output is written in the
last phase, after every input element of the block was read, so writing in place into an
input stays safe. Loops without such calls keep the plain one-pass form, which LLVM
vectorizes on its own.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from gnomon.backends.numba.dispatch import indent, numba_funcify, shape_tuple_text
from gnomon.backends.numba.scalar import ctor, literal, loop_dtypes, scalar_source
from gnomon.backends.numba.vmath import BLOCK
from gnomon.errors import NotLoweredError
from gnomon.graph.basic import Apply, Constant, Variable
from gnomon.tensor.elemwise import Elemwise, SumToShape


def _const_literal(v: Variable) -> str | None:
    """A literal for an input that is a one-element constant (possibly behind a DimShuffle)."""
    from gnomon.tensor.shapes import DimShuffle

    if v.owner is not None and isinstance(v.owner.op, DimShuffle):
        v = v.owner.inputs[0]
    if (isinstance(v, Constant) and np.asarray(v.data).size == 1
            and v.type.dtype not in ("float32", "float64")):  # type: ignore[attr-defined]
        # (float constants are passed in, as the program's constants: see composite.py)
        return literal(np.asarray(v.data).reshape(()), v.type.dtype)  # type: ignore[attr-defined]
    return None


def scalar_body(
    op: object, args: Sequence[str], in_dtypes: Sequence[str], out_dtypes: Sequence[str],
    consts: dict[int, str] | None = None,
) -> tuple[list[str], list[str]]:
    """Statements and per-output expressions computing scalar ``op`` on ``args``.

    Composite ops (fused groups) expand into one statement per inner node.
    """
    comp = _composite_body(op, args, in_dtypes, out_dtypes, consts)
    if comp is not None:
        return comp
    expr = scalar_source(op, args, in_dtypes, out_dtypes)  # type: ignore[arg-type]
    if len(out_dtypes) == 1:
        return [], [expr]
    return [f"_r = {expr}"], [f"_r[{k}]" for k in range(len(out_dtypes))]


def _composite_body(op, args, in_dtypes, out_dtypes, consts=None):
    try:
        from gnomon.scalar.composite import Composite
    except ImportError:
        return None
    if not isinstance(op, Composite):
        return None
    from gnomon.backends.numba.composite import composite_body

    return composite_body(op, args, in_dtypes, out_dtypes, consts)


def kernel_constants(node: Apply) -> list[Any]:
    """The values an Elemwise node's kernel takes after its inputs: the Composite's constants
    that are arguments (see :mod:`gnomon.backends.numba.composite`), as NumPy scalars."""
    return [np.dtype(dt).type(v) for dt, v in _constant_arguments(node).values()]


def _constant_arguments(node: Apply) -> dict[int, tuple[str, Any]]:
    from gnomon.scalar.composite import Composite

    op = node.op.scalar_op  # type: ignore[attr-defined]
    if not isinstance(op, Composite):
        return {}
    from gnomon.backends.numba.composite import constant_arguments

    return constant_arguments(op, [v.dtype for v in node.inputs])


def elemwise_source(node: Apply, inplace: int | None = None,
                    reduce: tuple[tuple[int, ...], str] | None = None) -> str:
    """The kernel of an Elemwise node; ``inplace=k`` writes output 0 into input ``k`` when
    that input has the output's shape (the memory plan guarantees it is dead and unaliased).

    ``reduce=(axes, dtype)`` makes it the kernel of ``Sum(axes, dtype)`` of the node's (only)
    output instead: the loop adds each value to an accumulator (one register for a sum over
    every axis, else the output element of the kept indices) in the order the loop visits
    them, as the ``Sum`` kernel does, and no array of the elementwise values exists.
    """
    op: Elemwise = node.op  # type: ignore[assignment]
    ins = node.inputs
    nd = node.outputs[0].ndim
    lits = [_const_literal(v) for v in ins]
    static = [v.type.shape for v in ins]  # type: ignore[attr-defined]
    out_dtypes = [o.dtype for o in node.outputs]
    in_dtypes = [v.dtype for v in ins]
    # constants of a fused group passed as arguments c0, c1, ... (composite.py)
    carg_slots = _constant_arguments(node)
    # The text depends on the scalar program up to the values of the constants passed as
    # arguments: the groups of a long graph are often alike (a chain of 10,000 steps has
    # 313 groups and two distinct kernels), and writing one costs ~0.1 ms per statement.
    from gnomon.backends.numba import vmath

    key = (_structure(op.scalar_op, carg_slots), tuple(static), tuple(lits), tuple(in_dtypes),
           tuple(out_dtypes), nd, inplace, reduce, vmath._isa())
    try:
        src = _SOURCES.get(key)
    except TypeError:  # a scalar op that cannot be hashed: no memo
        return _elemwise_source(op, static, lits, in_dtypes, out_dtypes, nd, carg_slots,
                                inplace, reduce)
    if src is None:
        src = _elemwise_source(op, static, lits, in_dtypes, out_dtypes, nd, carg_slots,
                               inplace, reduce)
        if len(_SOURCES) > 4096:
            _SOURCES.clear()
        _SOURCES[key] = src
    return src


#: memo of elemwise_source: structural key -> kernel text
_SOURCES: dict[Any, str] = {}


def _structure(scalar_op: object, carg_slots: dict[int, tuple[str, Any]]) -> Any:
    """``scalar_op`` as a hashable value, a Composite's argument constants without their
    values."""
    from gnomon.scalar.composite import Composite

    if not isinstance(scalar_op, Composite) or not carg_slots:
        return scalar_op
    n = scalar_op.n_inputs
    return (scalar_op.n_inputs, scalar_op.out_slots, tuple(
        ("carg", carg_slots[n + k][0]) if n + k in carg_slots else (sop, ins)
        for k, (sop, ins) in enumerate(scalar_op.program)))


def _elemwise_source(op: Elemwise, static: list[Any], lits: list[str | None],
                     in_dtypes: list[str], out_dtypes: list[str], nd: int,
                     carg_slots: dict[int, tuple[str, Any]], inplace: int | None,
                     reduce: tuple[tuple[int, ...], str] | None) -> str:
    nin = len(in_dtypes)
    cargs = {slot: f"{ctor(dt)}(c{j})" for j, (slot, (dt, _)) in enumerate(carg_slots.items())}
    params = [f"a{k}" for k in range(nin)] + [f"c{j}" for j in range(len(cargs))]
    lines = [f"def kernel({', '.join(params)}):"]
    body: list[str] = []
    # 1. the broadcast shape, checked like NumPy
    varying = [[k for k in range(nin) if lits[k] is None and static[k][d] != 1]
               for d in range(nd)]
    for d in range(nd):
        body.append(f"n{d} = 1")
        for k in varying[d]:
            body += [
                f"s = a{k}.shape[{d}]",
                "if s != 1:",
                f"    if n{d} != 1 and n{d} != s:",
                "        raise ValueError('operands could not be broadcast together')",
                f"    n{d} = s",
            ]
    shape = shape_tuple_text([f"n{d}" for d in range(nd)])
    # 2. outputs
    by_block, full, acc, rt, kept = False, False, "", "", []
    if reduce is not None:
        axes, rdt = reduce
        if len(out_dtypes) != 1 or inplace is not None or not axes or nd == 0:
            raise ValueError("a reduction kernel reduces the one output over some axes")
        full = len(axes) == nd
        kept = [d for d in range(nd) if d not in axes]
        rt = ctor(rdt)
        # the innermost axis is reduced: values go to a block buffer summed by _bsum
        by_block = nd - 1 in axes
        acc = "acc0" if full else f"out0[{', '.join(f'i{d}' for d in kept)}]"
        if full:
            body.append(f"acc0 = {rt}(0)")
        else:
            body.append(f"out0 = np.zeros({shape_tuple_text([f'n{d}' for d in kept])}, {rt})")
        if by_block:
            body.append(f"bv0 = np.zeros({BLOCK}, {rt})")
    for j, dt in enumerate(out_dtypes):
        if reduce is not None:
            pass
        elif j == 0 and inplace is not None:
            body += [f"if a{inplace}.shape == {shape}:", f"    out0 = a{inplace}",
                     "else:", f"    out0 = _empty({shape}, {ctor(dt)})"]
        else:
            body.append(f"out{j} = _empty({shape}, {ctor(dt)})")

    # 3. the loop body
    def load(k: int, general: bool) -> str:
        if lits[k] is not None:
            return f"x{k} = {lits[k]}"
        if nd == 0:
            return f"x{k} = a{k}[()]"
        idx = []
        for d in range(nd):
            if static[k][d] == 1:
                idx.append("0")
            elif general:
                idx.append(f"i{d} * m{k}_{d}")
            else:
                idx.append(f"i{d}")
        return f"x{k} = a{k}[{', '.join(idx)}]"

    def store(j: int, value: str) -> str:
        v = f"{ctor(out_dtypes[j])}({value})"
        if reduce is None:
            where = ", ".join(f"i{d}" for d in range(nd)) if nd else "()"
            return f"out{j}[{where}] = {v}"
        if by_block:
            return f"bv0[j_] = {rt}({v})"
        return f"{acc} = {acc} + {rt}({v})"

    plan = _vector_plan(op.scalar_op, in_dtypes, out_dtypes, lits, cargs,
                        force=by_block) if nd else None
    after = [f"{acc} = _bsum(bv0, m_, {acc}, {rt}(0))"] if by_block else []
    if plan is not None:
        body += [f"bf{s} = np.zeros({BLOCK}, {ctor(plan.sd[s])})" for s in plan.buffered]

    def loop(general: bool) -> list[str]:
        if plan is not None:
            return _blocked_loop(plan, nd, lambda k: load(k, general), store, after)
        inner = [load(k, general) for k in range(nin)]
        stmts, exprs = scalar_body(op.scalar_op, [f"x{k}" for k in range(nin)], in_dtypes,
                                   out_dtypes, cargs)
        inner += stmts
        inner += [store(j, e) for j, e in enumerate(exprs)]
        nest: list[str] = []
        for d in range(nd):
            nest.append("    " * d + f"for i{d} in range(n{d}):")
        return nest + indent(inner, nd)

    checks = [(k, d) for d in range(nd) for k in varying[d]]
    if nd == 0 or not checks:
        body += loop(False)
    else:
        cond = " and ".join(f"a{k}.shape[{d}] == n{d}" for k, d in checks)
        body.append(f"if {cond}:")
        body += indent(loop(False), 1)
        body.append("else:")
        general = [f"m{k}_{d} = 1 if a{k}.shape[{d}] == n{d} else 0" for k, d in checks]
        body += indent(general + _renamed(loop(True)), 1)
    if reduce is not None and full:
        body += [f"out0 = np.empty((), {rt})", "out0[()] = acc0"]
    body.append("return (" + "".join(f"out{j}, " for j in range(len(out_dtypes))) + ")")
    return "\n".join(lines + indent(body, 1)) + "\n"


# The loop body's locals (x<k> inputs, t<slot> values, i<d>/j_/b_/m_ indices, _r tuples):
# renamed in the broadcasting copy of the loop so that no name is assigned in both copies.
_LOCALS = re.compile(r"\b(x\d+|t\d+|i\d+|j_|b_|m_|_r)\b")


def _renamed(lines: list[str]) -> list[str]:
    """``lines`` with the loop body's locals renamed (``t5`` -> ``t5_g``).

    Numba rebuilds SSA form for every variable assigned more than once, one pass over the
    whole function per variable, so two copies of a loop body of ``n`` statements cost
    O(n**2) (a 1,000-statement fused loop: ~60 s of CPU in ``numba.core.ssa``); distinct
    names make each statement a single definition. (Strings in the loop body, such as error
    messages, contain no such names.)
    """
    return [_LOCALS.sub(r"\1_g", ln) for ln in lines]


@numba_funcify.register
def _(op: Elemwise, node: Apply) -> str:
    if any(v.dtype == "float16" for v in (*node.inputs, *node.outputs)):
        raise NotLoweredError("Numba has no float16 arithmetic")
    return elemwise_source(node)


@numba_funcify.register
def _(op: SumToShape, node: Apply) -> str:
    g = node.inputs[0]
    nd = g.ndim
    dt = node.outputs[0].dtype
    body = []
    for d in range(nd):
        body += [f"if shp[{d}] != g.shape[{d}] and shp[{d}] != 1:",
                 "    raise ValueError('the gradient cannot be reduced to the requested shape')",
                 f"m{d} = 1 if shp[{d}] == g.shape[{d}] else 0"]
    body.append(f"out = np.zeros({shape_tuple_text([f'shp[{d}]' for d in range(nd)])}, "
                f"{ctor(dt)})")
    loops = ["    " * d + f"for i{d} in range(g.shape[{d}]):" for d in range(nd)]
    src = ", ".join(f"i{d}" for d in range(nd)) or "()"
    dst = ", ".join(f"i{d} * m{d}" for d in range(nd)) or "()"
    body += loops + ["    " * nd + f"out[{dst}] += g[{src}]", "return (out,)"]
    return "def kernel(g, shp):\n" + "\n".join(indent(body, 1)) + "\n"


# --- blocked loops around vector math calls ---------------------------------------------------


@dataclass
class _Plan:
    """How a scalar function splits into phases around its vector math calls."""

    n: int  # inputs
    program: list[tuple[Any, tuple[int, ...]]]
    sd: list[str]  # the dtype of every slot
    out_slots: tuple[int, ...]
    names: list[str]  # the value of every slot in the loop body
    kind: list[str]  # per slot: "in", "lit", "scalar", "vec"
    phase: list[int]  # per slot: the first phase whose loop can read it
    vfunc: dict[int, str] = field(default_factory=dict)  # vec slot -> kernel-side function
    buffered: list[int] = field(default_factory=list)  # slots kept in a block buffer

    @property
    def last(self) -> int:
        return max(self.phase)


def _vector_plan(scalar_op: object, in_dtypes: Sequence[str], out_dtypes: Sequence[str],
                 lits: Sequence[str | None], cargs: dict[int, str],
                 force: bool = False) -> _Plan | None:
    """The phases of ``scalar_op`` around its vector math calls; None when it makes none
    (unless ``force``: a fused reduction sums blocks, with or without vector calls)."""
    from gnomon.backends.numba import vmath

    try:
        from gnomon.scalar.composite import Composite, ScalarConstant
    except ImportError:  # pragma: no cover
        return None
    n = len(in_dtypes)
    program: list[tuple[Any, tuple[int, ...]]]
    if isinstance(scalar_op, Composite):
        program = list(scalar_op.program)
        sd = list(scalar_op.slot_dtypes(*in_dtypes))
        out_slots = tuple(scalar_op.out_slots)
    else:
        if len(out_dtypes) != 1:
            return None
        program = [(scalar_op, tuple(range(n)))]
        sd = [*in_dtypes, out_dtypes[0]]
        out_slots = (n,)
    kind = ["lit" if lits[k] is not None else "in" for k in range(n)]
    names = [f"x{k}" for k in range(n)]
    phase = [0] * n
    vfunc: dict[int, str] = {}
    for sop, ins in program:
        s = len(kind)
        if isinstance(sop, ScalarConstant):
            lit = cargs.get(s) or literal(sop.value, sd[s])
            if lit is None:
                raise NotLoweredError(f"no Numba literal for the constant {sop}")
            kind.append("lit")
            names.append(lit)
            phase.append(0)
            continue
        p = max((phase[i] for i in ins), default=0)
        fn = _vector_function(sop, [kind[i] for i in ins], [sd[i] for i in ins], sd[s],
                              vmath) if vmath.available() else None
        if fn is not None:
            vfunc[s] = fn
            kind.append("vec")
            phase.append(p + 1)
        else:
            kind.append("scalar")
            phase.append(p)
        names.append(f"t{s}")
    if not vfunc and not force:
        return None
    plan = _Plan(n, program, sd, out_slots, names, kind, phase, vfunc)
    last = plan.last
    need = set(vfunc)
    for s, (_, ins) in enumerate(program, start=n):
        for i in ins:
            if kind[s] == "vec" and kind[i] in ("in", "scalar"):
                need.add(i)  # an argument of a vector call
            elif kind[s] == "scalar" and kind[i] == "scalar" and phase[i] < phase[s]:
                need.add(i)  # read by a later phase
    need.update(s for s in out_slots if kind[s] == "scalar" and phase[s] < last)
    plan.buffered = sorted(need)
    return plan


def _vector_function(sop: object, arg_kinds: Sequence[str], arg_dtypes: Sequence[str],
                     dtype: str, vmath: object) -> str | None:
    """The kernel-side vector function computing ``sop`` (None: it stays a scalar call)."""
    from gnomon.backends.numba.scalar import scalar_source as default
    from gnomon.scalar.basic import ScalarOp

    impl = getattr(sop, "impl", None)
    if not isinstance(impl, np.ufunc) or getattr(sop, "nout", 1) != 1:
        return None
    # only ops lowered as the plain ufunc call (no special cases of their own)
    if default.dispatch(type(sop)) is not default.dispatch(ScalarOp):
        return None
    if "lit" in arg_kinds:  # pow(x, 2.0): LLVM turns it into x * x, cheaper than any call
        return None
    if any(d != dtype for d in arg_dtypes) or any(
            d != dtype for d in loop_dtypes(impl, arg_dtypes)):
        return None
    return vmath.function_name(impl.__name__, dtype, len(arg_dtypes))  # type: ignore[attr-defined]


def _blocked_loop(plan: _Plan, nd: int, load: Callable[[int], str],
                  store: Callable[[int, str], str], after: Sequence[str] = ()) -> list[str]:
    """The loop nest of a blocked elementwise kernel (see the module docstring)."""
    last_d = nd - 1
    n, kind, phase, names, sd = plan.n, plan.kind, plan.phase, plan.names, plan.sd
    buffered = set(plan.buffered)
    lines = [f"for b_ in range(0, n{last_d}, {BLOCK}):",
             f"    m_ = min({BLOCK}, n{last_d} - b_)"]
    for p in range(plan.last + 1):
        scalars = [(s, sop, ins) for s, (sop, ins) in enumerate(plan.program, start=n)
                   if kind[s] == "scalar" and phase[s] == p]
        reads = {i for _, _, ins in scalars for i in ins}
        if p == plan.last:
            reads.update(plan.out_slots)
        if p == 0:
            reads.update(k for k in range(n) if k in buffered)
        body = [f"i{last_d} = b_ + j_"]
        body += [load(k) for k in range(n) if k in reads]
        body += [f"{names[s]} = bf{s}[j_]" for s in sorted(reads)
                 if kind[s] == "vec" or (kind[s] == "scalar" and phase[s] < p)]
        for s, sop, ins in scalars:
            expr = scalar_source(sop, [names[i] for i in ins],
                                 [sd[i] for i in ins], [sd[s]])
            body.append(f"{names[s]} = {ctor(sd[s])}({expr})")
            if s in buffered:
                body.append(f"bf{s}[j_] = {names[s]}")
        if p == 0:
            body += [f"bf{k}[j_] = x{k}" for k in range(n) if k in buffered]
        if p == plan.last:
            body += [store(j, names[s]) for j, s in enumerate(plan.out_slots)]
        lines += ["    for j_ in range(m_):", *indent(body, 2)]
        for s, (_, ins) in enumerate(plan.program, start=n):
            if kind[s] == "vec" and phase[s] == p + 1:
                args = "".join(f"bf{i}, " for i in ins)
                lines.append(f"    {plan.vfunc[s]}({args}bf{s}, m_)")
    lines += indent(list(after), 1)
    nest = ["    " * d + f"for i{d} in range({f'n{d}'}):" for d in range(last_d)]
    return nest + indent(lines, last_d)
