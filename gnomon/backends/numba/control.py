"""Numba lowerings of the inner-graph ops (:mod:`gnomon.control`).

Each inner graph is rewritten for ``mode='numba'`` and compiled to one ``@njit`` *inner program*
that calls the kernels of its nodes (like the linker does for a whole program). The node's
kernel then calls that inner program from compiled code:

* ``OpFromGraph`` -- one call;
* ``IfElse`` -- an ``if`` on the condition calling one of the two inner programs (lazy);
* ``Scan`` -- a compiled loop: the history of each recurrent output lives in one array of
  ``L + n_steps`` rows, outputs without recurrence are allocated after the first step (when
  their shape is known).

Kernels must be self-contained source files (for Numba's disk cache), so a kernel reaches its
inner program through :func:`registered`, keyed by the content hash of the inner program's
source (which includes a digest of its constants, frozen into the compiled code as globals).
The inner program is always built (and registered) by the lowering before its kernel is
imported.

When some node of an inner graph has no Numba lowering, the op is not lowered either: the
linker then runs the node's NumPy ``perform`` (the reference: the loop and the branches run in
Python with the NumPy backend), which keeps results and laziness correct, only slower.
"""

from __future__ import annotations

import hashlib
from typing import Any

import numpy as np

from gnomon.backends.numba import cache
from gnomon.backends.numba.dispatch import copy_loops, indent, numba_funcify
from gnomon.control.ifelse import IfElse
from gnomon.control.inner import InnerGraph
from gnomon.control.opfromgraph import OpFromGraph
from gnomon.control.scan import Scan
from gnomon.errors import NotLoweredError
from gnomon.graph.basic import Apply

_INNER: dict[str, Any] = {}
_FAILED = "no-numba-lowering"


def registered(key: str) -> Any:
    """The compiled inner program registered under ``key`` (used by generated kernels)."""
    return _INNER[key]


def inner_program(graph: InnerGraph) -> str:
    """The key of the ``@njit`` program computing ``graph``: ``inner(*inputs) -> tuple``.

    Raises NotImplementedError when a node of the graph has no Numba lowering.
    """

    def build() -> str:
        try:
            return _build_inner(graph)
        except NotImplementedError:
            return _FAILED

    key = graph.cached(("numba",), build)
    if key == _FAILED:
        raise NotLoweredError("an inner graph has a node without a Numba lowering")
    return key


def _build_inner(graph: InnerGraph) -> str:
    from gnomon.backends.numba.elemwise import kernel_constants
    from gnomon.backends.numba.linker import _DECORATOR, _PRELUDE, compile_kernel, lower_node
    from gnomon.compile.mode import Mode
    from gnomon.compile.schedule import schedule
    from gnomon.rewrite.pipeline import rewrite_for_mode
    from gnomon.tensor.elemwise import Elemwise

    outs, _ = rewrite_for_mode(list(graph.outputs), Mode("numba"))
    program = schedule(list(graph.inputs), outs)
    slot = program.slot
    namespace: dict[str, Any] = {}
    digest = hashlib.sha256()
    lines = [f"def inner({', '.join(f'v{slot[v]}' for v in program.inputs)}):"]
    for c in program.constants:
        if c.data is None:  # a random variable's size=None
            lines.append(f"    v{slot[c]} = None")
            continue
        arr = np.asarray(c.data)
        digest.update(f"{arr.dtype.str}{arr.shape}".encode() + arr.tobytes())
        namespace[f"_c{slot[c]}"] = arr
        lines.append(f"    v{slot[c]} = _c{slot[c]}")
    for i, node in enumerate(program.nodes):
        src = lower_node(node)  # NotImplementedError: no lowering for this node
        kname = "k_" + hashlib.sha256(src.encode()).hexdigest()[:16]
        namespace[kname] = compile_kernel(src)
        outs_txt = "".join(f"v{slot[o]}, " for o in node.outputs)
        ins = [f"v{slot[v]}" for v in node.inputs]
        if isinstance(node.op, Elemwise):
            # the constants a fused kernel takes as arguments (composite.py): frozen globals
            # here, like the graph's constants, and part of the digest
            for j, val in enumerate(kernel_constants(node)):
                namespace[f"_s{i}_{j}"] = val
                digest.update(f"{i}.{j}:{val.dtype.str}{val!r}".encode())
                ins.append(f"_s{i}_{j}")
        ins_txt = ", ".join(ins)
        lines.append(f"    ({outs_txt}) = {kname}({ins_txt})")
    copies = program.outputs_needing_copy()
    rets = [f"v{slot[o]}.copy()" if c else f"v{slot[o]}"
            for o, c in zip(program.outputs, copies, strict=True)]
    lines.append("    return (" + "".join(r + ", " for r in rets) + ")")
    source = (_PRELUDE + f"\n# constants: {digest.hexdigest()}\n\n" + _DECORATOR + "\n"
              + "\n".join(lines) + "\n")
    mod = cache.load_module(source, namespace)
    key = cache.module_name(source)
    _INNER[key] = mod.inner
    return key


def _footer(names: dict[str, str]) -> str:
    """Module-level lines binding each ``name`` to the inner program ``key``."""
    lines = ["", "", "from gnomon.backends.numba.control import registered as _registered", ""]
    lines += [f'{name} = _registered("{key}")' for name, key in names.items()]
    return "\n".join(lines) + "\n"


def _dt(dtype: str) -> str:
    return "np.bool_" if dtype == "bool" else f"np.{dtype}"


@numba_funcify.register(OpFromGraph)
def _opfromgraph(op: OpFromGraph, node: Apply) -> str:
    key = inner_program(op.graph)
    args = ", ".join(f"a{k}" for k in range(len(node.inputs)))
    return f"def kernel({args}):\n    return _inner({args})\n" + _footer({"_inner": key})


@numba_funcify.register(IfElse)
def _ifelse(op: IfElse, node: Apply) -> str:
    keys = {"_then": inner_program(op.then_graph), "_else": inner_program(op.else_graph)}
    args = ", ".join(f"a{k}" for k in range(len(node.inputs) - 1))
    return (f"def kernel(cond, {args}):\n"
            f"    if cond[()]:\n"
            f"        return _then({args})\n"
            f"    return _else({args})\n" + _footer(keys))


def _store(pad: str, tag: str, row: str, val: str, nd: int, msg: str) -> list[str]:
    """Statements storing the step result ``val`` (``nd`` dims) into the history row ``row``:
    shapes checked (the reference stacks the results, so they must agree) and copied element
    by element (see dispatch.copy_loops: no array-to-slice assignment)."""
    v, w = f"V{tag}_", f"W{tag}_"
    return [f"{pad}{v} = {val}", f"{pad}{w} = {row}",
            f"{pad}if {v}.shape != {w}.shape:", f"{pad}    raise ValueError({msg!r})",
            *(pad + ln for ln in copy_loops(w, v, nd))]


@numba_funcify.register(Scan)
def _scan(op: Scan, node: Apply) -> str:
    opaque = set(op.opaque_states)
    if opaque and not op.inplace:
        raise NotLoweredError(
            f"{op} threads a random generator that is read elsewhere or given by the caller; "
            "compiled code cannot copy it cheaply")
    if opaque:
        from gnomon.random.rewriting import owned_body

        key = inner_program(owned_body(op))
    else:
        key = inner_program(op.graph)
    ns, nr, nn = op.n_seqs, op.n_rec, op.n_nitsot
    nq = len(node.inputs) - 1 - ns - nr
    _, seqs, bufs, _ = op.split(node.inputs)
    lags = op.lags
    keep = [op.kept(k) for k in range(len(node.outputs))]
    params = ["n_", *(f"s{k}" for k in range(ns)), *(f"b{j}" for j in range(nr)),
              *(f"q{k}" for k in range(nq))]
    body = ["    n = n_[()]",
            # a negative count would size the history buffers below their lags and write
            # past them (heap corruption), so it is refused as the reference refuses it
            "    if n < 0:",
            "        raise ValueError('scan: n_steps must be >= 0')"]
    for k in range(ns):
        body += [f"    if s{k}.shape[0] < n:",
                 f"        raise ValueError('scan: sequence {k} is shorter than n_steps')"]

    # History of recurrent output j: logical position p (= lag + step) lives in row p, or in
    # row p % M of a ring of M = max(lag + 1, keep) rows when only the last steps are kept.
    def hrow(j: int, expr: str) -> str:
        return f"({expr}) % {max(lags[j] + 1, keep[j])}" if keep[j] else expr

    for j, b in enumerate(bufs):
        if j in opaque:  # a generator: advanced in place by the body, returned at the end
            body.append(f"    g{j} = b{j}")
            continue
        rows = str(max(lags[j] + 1, keep[j])) if keep[j] else f"{lags[j]} + n"
        # the last lags[j] initial values, copied element by element (see copy_loops)
        src = f"b{j}[b{j}.shape[0] - {lags[j]}:]"
        body += [f"    if b{j}.shape[0] < {lags[j]}:",
                 f"        raise ValueError('scan: recurrent output {j} has fewer initial "
                 f"values than its taps need')",
                 f"    H{j} = np.empty(({rows},) + b{j}.shape[1:], {_dt(b.dtype)})",
                 f"    I{j} = {src}",
                 *indent(copy_loops(f"H{j}", f"I{j}", b.ndim), 1)]
    nit_outs = node.outputs[nr:]
    empty_nit = []
    for o in nit_outs:
        rest = [s if s is not None else 0 for s in o.type.shape[1:]]  # type: ignore[attr-defined]
        shape = "(0, " + "".join(f"{s}, " for s in rest) + ")"
        empty_nit.append(f"np.empty({shape}, {_dt(o.dtype)})")
    empty_rec = [f"b{j}" if j in opaque else f"H{j}[:0]" if keep[j] else f"H{j}[{lags[j]}:]"
                 for j in range(nr)]
    body += ["    if n == 0:",
             "        return (" + "".join(r + ", " for r in empty_rec + empty_nit) + ")"]

    def step(t: str, first: bool, indent: str) -> list[str]:
        out: list[str] = []
        args: list[str] = []
        for k, s in enumerate(seqs):
            if s.ndim == 1:
                out += [f"{indent}x{k} = np.empty((), {_dt(s.dtype)})",
                        f"{indent}x{k}[()] = s{k}[{t}]"]
                args.append(f"x{k}")
            else:
                args.append(f"s{k}[{t}]")
        for j, taps in enumerate(op.taps):
            if j in opaque:
                args.append(f"g{j}")
                continue
            for m, tap in enumerate(taps):
                idx = hrow(j, f"{lags[j] + tap} + {t}")
                if bufs[j].ndim == 1:
                    out += [f"{indent}h{j}_{m} = np.empty((), {_dt(bufs[j].dtype)})",
                            f"{indent}h{j}_{m}[()] = H{j}[{idx}]"]
                    args.append(f"h{j}_{m}")
                else:
                    args.append(f"H{j}[{idx}]")
        args += [f"q{k}" for k in range(nq)]
        out.append(f"{indent}r = _inner({', '.join(args)})")
        for j in range(nr):
            if j in opaque:
                out.append(f"{indent}g{j} = r[{j}]")
                continue
            row = f"H{j}[{hrow(j, f'{lags[j]} + {t}')}]"
            if bufs[j].ndim == 1:
                out.append(f"{indent}{row} = r[{j}][()]")
            else:
                out += _store(indent, f"h{j}", row, f"r[{j}]", bufs[j].ndim - 1,
                              f"scan: step output {j} has another shape than its state")
        for i, o in enumerate(nit_outs):
            k = keep[nr + i]
            if first:
                rows = str(k) if k else "n"
                out.append(f"{indent}N{i} = np.empty(({rows},) + r[{nr + i}].shape, "
                           f"{_dt(o.dtype)})")
            row = f"N{i}[{f'({t}) % {k}' if k else t}]"
            if o.ndim == 1:
                out.append(f"{indent}{row} = r[{nr + i}][()]")
            else:
                out += _store(indent, f"n{i}", row, f"r[{nr + i}]", o.ndim - 1,
                              f"scan: step output {nr + i} changes shape between steps")
        return out

    body += step("0", True, "    ")
    body += ["    for t in range(1, n):"] + step("t", False, "        ")
    # Kept outputs: copy the last min(n, keep) steps out of their rings, oldest first.
    rets = []
    for j in range(nr):
        if j in opaque:
            rets.append(f"g{j}")
            continue
        if not keep[j]:
            rets.append(f"H{j}[{lags[j]}:]")
            continue
        body += [f"    c = min(n, {keep[j]})",
                 f"    R{j} = np.empty((c,) + H{j}.shape[1:], H{j}.dtype)",
                 "    for i in range(c):",
                 f"        R{j}[i] = H{j}[{hrow(j, f'{lags[j]} + n - c + i')}]"]
        rets.append(f"R{j}")
    for i in range(nn):
        k = keep[nr + i]
        if not k:
            rets.append(f"N{i}")
            continue
        body += [f"    c = min(n, {k})",
                 f"    K{i} = np.empty((c,) + N{i}.shape[1:], N{i}.dtype)",
                 "    for i in range(c):",
                 f"        K{i}[i] = N{i}[(n - c + i) % {k}]"]
        rets.append(f"K{i}")
    body.append("    return (" + "".join(r + ", " for r in rets) + ")")
    return (f"def kernel({', '.join(params)}):\n" + "\n".join(body) + "\n"
            + _footer({"_inner": key}))
