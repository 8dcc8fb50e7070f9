"""C text of a scheduled program: its kernels and one function running them in order.

``gn_prog_<tag>(ctx, s, fallbacks)`` works on an array of slots ``s`` (one ``gn_arr`` per
variable of the :class:`~gnomon.compile.schedule.Program`, then one per output): inputs and
constants are filled by the caller, each node's kernel fills its output slots, a slot is
released right after its last reader (so memory is returned as early as the reference would
drop it), and the outputs are written to the result slots, copied where they would alias an
input, a constant or another output. Nodes without a C lowering call the op's NumPy
``perform`` through ``fallbacks`` (Python mode only; :func:`gnomon.export_c` refuses them).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from gnomon.backends.c.dispatch import c_funcify, itemsize, typenum
from gnomon.backends.c.elemwise import elemwise_source, fused_sum_source
from gnomon.compile.memory import fusable_sums, plan_inplace
from gnomon.compile.schedule import Program
from gnomon.graph.basic import Apply, Constant
from gnomon.tensor.elemwise import Elemwise


@dataclass
class ProgramC:
    """The generated C of one program."""

    tag: str
    #: kernel name -> text (shared between programs of one module)
    kernels: dict[str, str]
    #: ``static int gn_prog_<tag>(gn_ctx *ctx, gn_arr *s, void *py)``
    function: str
    n_slots: int
    maxd: int
    #: nodes running their NumPy ``perform`` (index into ``fallbacks``)
    fallback_nodes: list[Apply] = field(default_factory=list)
    #: the memory plan: node index -> input whose buffer the output reuses
    inplace: dict[int, int] = field(default_factory=dict)
    #: Sum nodes computed by the loop producing their input (no array of its values)
    fused_sums: list[Apply] = field(default_factory=list)


def lower_node(node: Apply, inplace: int | None = None) -> str:
    """Kernel text of ``node``; NotLoweredError when it must run in Python."""
    if inplace is not None:
        return elemwise_source(node, inplace)
    from gnomon.random.op import RandomVariable

    if isinstance(node.op, RandomVariable):
        from gnomon.backends.c.random import random_source

        return random_source(node)
    return c_funcify(node.op, node)


def _name(text: str) -> str:
    return "k_" + hashlib.sha256(text.encode()).hexdigest()[:20]


def is_array_program(program: Program) -> bool:
    """Whether every value of ``program`` is an array (C slots hold arrays only)."""
    return all(hasattr(v.type, "dtype") for v in program.slot)


def is_exportable_program(program: Program) -> bool:
    """Whether every value is an array, a random generator (a ``uint64`` seed in exported
    code) or ``None`` (the ``size`` of a draw)."""
    from gnomon.backends.c.random import is_rng

    return all(hasattr(v.type, "dtype") or is_rng(v)
               or (isinstance(v, Constant) and v.data is None) for v in program.slot)


def generate(program: Program, tag: str, python: bool = True) -> ProgramC:
    """The C of ``program``; ``python=False`` (export) raises NotLoweredError for a node
    without a C lowering."""
    slot = program.slot
    texts: list[str | None] = []
    for node in program.nodes:
        try:
            texts.append(lower_node(node))
        except NotImplementedError:
            if not python:
                raise
            texts.append(None)
    lowered = {n for n, t in zip(program.nodes, texts, strict=True)
               if t is not None and not n.op.view_map}
    plan = plan_inplace(program, lambda n: isinstance(n.op, Elemwise) and len(n.outputs) == 1,
                        lambda n: n in lowered)
    # a Python fallback's perform may return a view it does not declare, so buffers could be
    # shared in ways the plan cannot see: no reuse in programs with fallbacks (as in Numba)
    plan = {} if any(t is None for t in texts) else plan
    for i, k in plan.items():
        texts[i] = lower_node(program.nodes[i], k)
    # Sums fused into the loop producing their input: the pair runs as one kernel at the
    # elementwise node's place, writing the Sum's output slot; the Sum's place is empty and
    # the elementwise output's slot stays unfilled (nothing else reads it)
    fused: dict[int, int] = {}
    for i, j in fusable_sums(program, [t is not None for t in texts]).items():
        red = program.nodes[j]
        try:
            texts[i] = fused_sum_source(program.nodes[i], red.op.axes,  # type: ignore[attr-defined]
                                        red.outputs[0].type.dtype)  # type: ignore[attr-defined]
        except NotImplementedError:
            continue
        plan.pop(i, None)
        fused[i] = j
    skip = set(fused.values())

    n_slots = program.n_slots
    outputs = [slot[o] for o in program.outputs]
    last: dict[int, int] = {s: -1 for s in range(n_slots)}
    for i, node in enumerate(program.nodes):
        for v in node.inputs:
            last[slot[v]] = i
        for v in node.outputs:  # an output nobody reads is released after its node
            last[slot[v]] = i
    keep = set(outputs)
    release_after: dict[int, list[int]] = {}
    for s, i in last.items():
        if s not in keep:
            release_after.setdefault(i, []).append(s)

    kernels: dict[str, str] = {}
    fallback: list[Apply] = []
    lines = [f"static int gn_prog_{tag}(gn_ctx *ctx, gn_arr *s, void *py) {{", "    (void)py;"]
    lines += [f"    gn_release(s[{k}].base); s[{k}].base = NULL;"
              for k in release_after.get(-1, [])]
    for i, (node, text) in enumerate(zip(program.nodes, texts, strict=True)):
        ins = ", ".join(f"&s[{slot[v]}]" for v in node.inputs) or "NULL"
        first_out = slot[node.outputs[0]] if node.outputs else 0
        if i in fused:
            first_out = slot[program.nodes[fused[i]].outputs[0]]
        if i in skip:  # a Sum computed by its input's loop
            lines += [f"    gn_release(s[{k}].base); s[{k}].base = NULL;"
                      for k in release_after.get(i, [])]
            continue
        lines.append("    {")
        lines.append(f"        gn_arr *in_[] = {{{ins}}}; (void)in_;")
        if text is not None:
            kname = _name(text)
            kernels[kname] = text.replace("KERNEL", kname, 1)
            lines.append(f"        if ({kname}(ctx, in_, &s[{first_out}]) < 0) goto fail;")
        else:
            idx = len(fallback)
            fallback.append(node)
            itypes = ", ".join(str(typenum(v.type.dtype)) for v in node.inputs) or "0"  # type: ignore[attr-defined]
            otypes = ", ".join(str(typenum(v.type.dtype)) for v in node.outputs)  # type: ignore[attr-defined]
            onds = ", ".join(str(v.type.ndim) for v in node.outputs)  # type: ignore[attr-defined]
            lines += [f"        static const int it[] = {{{itypes}}}, ot[] = {{{otypes}}}, "
                      f"on[] = {{{onds}}};",
                      f"        if (gn_call_py(ctx, py, {idx}, in_, it, {len(node.inputs)}, "
                      f"&s[{first_out}], ot, on, {len(node.outputs)}) < 0) goto fail;"]
        lines.append("    }")
        lines += [f"    gn_release(s[{k}].base); s[{k}].base = NULL;"
                  for k in release_after.get(i, [])]
    copies = program.outputs_needing_copy()
    for j, (o, c) in enumerate(zip(program.outputs, copies, strict=True)):
        r, src = n_slots + j, slot[o]
        if c:
            dt = o.type.dtype  # type: ignore[attr-defined]
            lines += [f"    s[{r}].nd = s[{src}].nd;",
                      f"    for (int d = 0; d < s[{src}].nd; d++) "
                      f"s[{r}].shape[d] = s[{src}].shape[d];",
                      f"    if (gn_alloc(ctx, &s[{r}], {typenum(dt)}, {itemsize(dt)}) < 0) "
                      "goto fail;",
                      f"    gn_copy(&s[{r}], &s[{src}], {itemsize(dt)});"]
        else:
            lines.append(f"    gn_view(&s[{r}], &s[{src}]);")
    lines += [f"    gn_release(s[{k}].base); s[{k}].base = NULL;" for k in sorted(keep)]
    lines += ["    return 0;", "fail:",
              f"    for (int k = 0; k < {n_slots + len(outputs)}; k++) "
              "{ gn_release(s[k].base); s[k].base = NULL; }",
              "    return -1;", "}"]
    maxd = max([getattr(v.type, "ndim", 0) for v in slot] + [1])
    return ProgramC(tag, kernels, "\n".join(lines) + "\n", n_slots, maxd, fallback, plan,
                    [program.nodes[j] for j in fused.values()])
