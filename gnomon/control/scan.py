"""``scan``: loops with recurrences, and ``map``, ``reduce``, ``foldl``, ``foldr`` built on it.

A :class:`Scan` node holds the loop body as a closed inner graph. Its inputs are, in order:

* ``n_steps`` (an int64 scalar);
* the sequences (arrays whose leading axis is iterated; each inner step sees one slice);
* one *state buffer* per recurrent output, of shape ``(L, ...)`` where ``L`` is the largest lag
  (``taps=[-1, -3]`` needs ``L = 3``): ``buffer[i]`` is the value at step ``i - L``;
* the non-sequences (loop invariants).

The inner graph takes the sequence slices, then for each recurrent output the values at its
taps (in the order given), then the non-sequences; it returns the new value of each recurrent
output, then the outputs without recurrence. The node returns the trace of every output, of
shape ``(n_steps, ...)`` (the initial values are not included, as in PyTensor).

*Opaque states* -- recurrent states whose type is not a tensor type (random generators) -- have
the single tap ``-1``; their outer input is the initial value itself (no buffer axis) and their
output is the value after the last step (no trace): a generator threaded through the loop
advances at every step. :func:`scan` makes one for each shared generator the body updates
(``return x, {rng: next_rng}``), for each one with a ``default_update`` read in the body
(``RandomStream``), and for each generator given in ``outputs_info``. The reverse-mode gradient
of a scan with opaque states is not implemented.

Sequence taps (``{"input": x, "taps": [-1, 0]}``) and ``go_backwards`` are resolved by
:func:`scan` with slicing, so the op only sees tap-0 sequences. Loop-invariant computation is
moved out of the loop when the graph is built: any value the body uses that does not depend on
the loop variables becomes a non-sequence, computed once.

The gradient is a reverse scan (backpropagation through time) carrying, for each recurrent
output, the cotangents still owed to its last ``L`` values, and accumulating the gradients of
the non-sequences; ``truncate_gradient=k`` runs only its last ``k`` steps.

Rewrites (stage ``specialize``, group ``scan``):

* ``scan_vectorize`` turns a scan with no recurrence and an elementwise body into one
  elementwise graph over whole sequences (no loop), when its number of steps is provably no
  more than every sequence's length (the default ``n_steps`` of tap-0 sequences; sequences
  with taps stay loops);
* ``scan_merge`` merges independent scans with the same number of steps into one loop;
* ``scan_save_mem`` marks outputs read only at their end (``trace[-1]``, ``trace[-2]`` ...) so
  the Numba and JAX loops keep only their last steps (O(taps + k) memory instead of
  O(n_steps); the reference backend still stores the whole trace and slices it).

Left out (not implemented): positive (future) taps of outputs; a rewrite that pushes
loop-invariant computation out of an already built node (``scan`` does it when the graph is
built, which covers the loops it builds for gradients too); vectorizing a scan without
recurrence whose body has non-elementwise ops (it needs a batching rule per op). A gradient needs
``n_steps >= 1``. Second-order gradients work (the reverse scan is itself a scan).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from gnomon.control.inner import InnerGraph, inner_shapes
from gnomon.errors import GnomonTypeError, GnomonValueError, with_hint
from gnomon.graph.basic import Apply, Constant, Variable
from gnomon.graph.op import Op
from gnomon.graph.replace import graph_replace
from gnomon.graph.traversal import clients, graph_inputs, toposort
from gnomon.rewrite.engine import register_graph_rule, register_rule
from gnomon.tensor.type import TensorType

__all__ = ["Scan", "foldl", "foldr", "map", "reduce", "scan", "until"]


@dataclass(frozen=True)
class Scan(Op):
    """The loop op built by :func:`scan` (see the module docstring for its inputs/outputs).

    Attributes
    ----------
    graph : InnerGraph
        The loop body.
    n_seqs : int
        Number of sequences.
    taps : tuple of tuple of int
        The (negative) taps of each recurrent output, in the order the body reads them.
    n_nitsot : int
        Number of outputs without recurrence.
    truncate_gradient : int
        ``-1`` for the full gradient, else the number of steps backpropagated.
    keep : tuple of int
        Empty, or one entry per output: ``0`` returns the whole trace, ``k > 0`` only its last
        ``min(k, n_steps)`` steps, so the backends store O(taps + k) values instead of
        O(n_steps). Set by the ``scan_save_mem`` rewrite when an output is only read at its end.
    inplace : bool
        The loop may advance the initial values of its opaque states (random generators) in
        place instead of copies. Set by the ``random_inplace`` rewrite when nothing else reads
        them; never set it by hand.
    """

    #: tiered execution (``gnomon/compile/tiered.py``) never runs a program with a scan on the
    #: NumPy reference: the reference runs each step in Python, which can take longer than
    #: compiling (100,000 steps: 23 s, against 1.8 s from a warm disk cache)
    slow_on_reference: ClassVar[bool] = True

    graph: InnerGraph
    n_seqs: int
    taps: tuple[tuple[int, ...], ...]
    n_nitsot: int
    truncate_gradient: int = -1
    name: str | None = field(default=None, compare=False)
    keep: tuple[int, ...] = ()
    inplace: bool = False

    def kept(self, k: int) -> int:
        """How many last steps output ``k`` keeps (0: all of them)."""
        return self.keep[k] if self.keep else 0

    @property
    def n_rec(self) -> int:
        return len(self.taps)

    @property
    def lags(self) -> tuple[int, ...]:
        return tuple(-min(t) for t in self.taps)

    def opaque(self, j: int) -> bool:
        """Whether recurrent state ``j`` is opaque (not a tensor: a random generator)."""
        return not isinstance(self.graph.outputs[j].type, TensorType)

    @property
    def opaque_states(self) -> tuple[int, ...]:
        return tuple(j for j in range(self.n_rec) if self.opaque(j))

    @property
    def n_tap_inputs(self) -> int:
        return sum(len(t) for t in self.taps)

    def split(self, seq: Sequence[Any]) -> tuple[Any, list[Any], list[Any], list[Any]]:
        """``(n_steps, sequences, buffers, non_sequences)`` of a node's inputs."""
        ns, nr = self.n_seqs, self.n_rec
        return seq[0], list(seq[1:1 + ns]), list(seq[1 + ns:1 + ns + nr]), list(seq[1 + ns + nr:])

    def make_node(self, *inputs: Any) -> Apply:
        from gnomon.tensor.basic import as_tensor, cast

        ins = [v if isinstance(v, Variable) and not isinstance(v.type, TensorType)
               else as_tensor(v) for v in inputs]
        n_steps, seqs, bufs, _ = self.split(ins)
        if n_steps.ndim != 0 or n_steps.dtype[0] not in "iu":
            raise GnomonTypeError(with_hint(
                f"scan: n_steps must be an integer scalar, got {n_steps} ({n_steps.type})",
                "pass an int or an integer scalar variable",
            ))
        ins[0] = cast(n_steps, "int64") if n_steps.dtype != "int64" else n_steps
        g = self.graph
        for k, s in enumerate(seqs):
            _check_outer(s, g.inputs[k], f"sequence {k}")
        tap_inputs = g.inputs[self.n_seqs:self.n_seqs + self.n_tap_inputs]
        pos = 0
        for j, b in enumerate(bufs):
            if self.opaque(j):
                if self.taps[j] != (-1,) or b.type != tap_inputs[pos].type:
                    raise GnomonTypeError(with_hint(
                        f"scan: state {j} has type {tap_inputs[pos].type}, read with taps "
                        f"{list(self.taps[j])}, but its initial value is {b} ({b.type})",
                        "pass an initial value of the state's type; a random generator is "
                        "read with the single tap -1",
                    ))
            else:
                _check_outer(b, tap_inputs[pos], f"the initial values of recurrent output {j}")
            pos += len(self.taps[j])
        n_static = int(ins[0].data) if isinstance(ins[0], Constant) else None
        types = []
        for k, o in enumerate(g.outputs):
            if k < self.n_rec and self.opaque(k):
                types.append(o.type)  # the state after the last step
                continue
            t: TensorType = o.type  # type: ignore[assignment]
            lead = n_static
            if self.kept(k):
                lead = None if n_static is None else min(n_static, self.kept(k))
            types.append(TensorType(t.dtype, (lead, *t.shape)))
        return Apply.make(self, ins, types)

    def perform(self, node: Apply, inputs: Sequence[Any]) -> tuple[Any, ...]:
        n_arr, seqs, bufs, nonseqs = self.split(inputs)
        n = int(n_arr)
        if n < 0:
            raise GnomonValueError(with_hint(f"scan: n_steps is {n}", "n_steps must be >= 0"))
        for k, s in enumerate(seqs):
            if s.shape[0] < n:
                raise GnomonValueError(with_hint(
                    f"scan: sequence {k} has {s.shape[0]} entries, fewer than n_steps={n}",
                    "pass a shorter n_steps or longer sequences",
                ))
        fn = self.graph.function("numpy")
        lags = self.lags
        hist: list[list[Any]] = [[b] if self.opaque(j) else list(b[b.shape[0] - L:])
                                 for j, (b, L) in enumerate(zip(bufs, lags, strict=True))]
        nit: list[list[Any]] = [[] for _ in range(self.n_nitsot)]
        nr = self.n_rec
        for t in range(n):
            args = [s[t] for s in seqs]
            for j, taps in enumerate(self.taps):
                args.extend(hist[j][lags[j] + t + k] for k in taps)
            args.extend(nonseqs)
            res = fn(*args)
            for j in range(nr):
                hist[j].append(res[j])
            for i in range(self.n_nitsot):
                nit[i].append(res[nr + i])
        outs = []
        for k, (vals, var) in enumerate(zip([h[L:] for h, L in zip(hist, lags, strict=True)]
                                            + nit, node.outputs, strict=True)):
            if k < nr and self.opaque(k):
                outs.append(hist[k][-1])  # the initial value when no step ran
                continue
            if self.kept(k):
                vals = vals[len(vals) - min(len(vals), self.kept(k)):]
            if vals:
                outs.append(np.stack(vals).astype(var.dtype, copy=False))
            else:
                inner = (bufs[k].shape[1:] if k < nr
                         else tuple(s or 0 for s in var.type.shape[1:]))  # type: ignore[attr-defined]
                outs.append(np.empty((0, *inner), dtype=var.dtype))
        return tuple(outs)

    def infer_shape(
        self, node: Apply, input_shapes: Sequence[tuple[Variable, ...]]
    ) -> list[tuple[Variable, ...]] | None:
        n = node.inputs[0]
        ns, nr = self.n_seqs, self.n_rec
        seq_shapes = [s[1:] for s in input_shapes[1:1 + ns]]
        buf_shapes = [s[1:] for s in input_shapes[1 + ns:1 + ns + nr]]
        tap_shapes = [bs for bs, taps in zip(buf_shapes, self.taps, strict=True) for _ in taps]
        inner_in = [*seq_shapes, *tap_shapes, *input_shapes[1 + ns + nr:]]
        nit: list[tuple[Variable, ...]] = []
        if self.n_nitsot:
            got = inner_shapes(self.graph, inner_in)
            if got is None:
                return None
            nit = got[nr:]
        from gnomon.tensor import math as tm
        from gnomon.tensor.basic import constant

        lead = [tm.minimum(n, constant(self.kept(k), "int64")) if self.kept(k) else n
                for k in range(len(node.outputs))]
        return [() if k < nr and self.opaque(k) else (d, *s)
                for k, (d, s) in enumerate(zip(lead, buf_shapes + nit, strict=True))]

    def pullback(
        self, node: Apply, output_grads: Sequence[Variable | None]
    ) -> Sequence[Any]:
        if self.opaque_states:
            from gnomon.graph.op import grad_not_implemented

            why = ("the gradient of a scan that threads a random generator through its steps "
                   "(it would need the generator's state at every step)")
            return [grad_not_implemented(self, i, v, why) if _is_float(v) else None
                    for i, v in enumerate(node.inputs)]
        if self.keep:
            return _kept_pullback(self, node, output_grads)
        return _scan_pullback(self, node, output_grads)

    def __str__(self) -> str:
        return self.name or "Scan"


def _check_outer(outer: Variable, inner: Variable, what: str) -> None:
    it: TensorType = inner.type  # type: ignore[assignment]
    if outer.dtype != it.dtype or outer.ndim != it.ndim + 1:
        raise GnomonTypeError(with_hint(
            f"scan: {what} has type {outer.type}, but the loop body reads slices of type {it}",
            "give it the dtype of the loop body's value and one more leading dimension",
        ))


# --- the user function ---------------------------------------------------------------------


def _normalize_seq(s: Any) -> tuple[Variable, list[int]]:
    from gnomon.tensor.basic import as_tensor

    if isinstance(s, dict):
        if "input" not in s:
            raise GnomonTypeError(with_hint(
                "scan: a sequence given as a dict needs the key 'input'",
                "write {'input': x, 'taps': [0]}",
            ))
        taps = list(s.get("taps", [0]) or [0])
        return as_tensor(s["input"]), [int(t) for t in taps]
    return as_tensor(s), [0]


def _normalize_out(o: Any) -> tuple[Variable | None, list[int]]:

    if o is None:
        return None, []
    if isinstance(o, dict):
        init = o.get("initial")
        if init is None:
            return None, []
        taps = [int(t) for t in o.get("taps", [-1])]
        if not taps or any(t >= 0 for t in taps):
            raise GnomonValueError(with_hint(
                f"scan: output taps {taps} are not supported; taps of outputs must be negative "
                "(earlier steps)",
                "use taps like [-1] or [-2, -1]",
            ))
        return _as_state(init), taps
    return _as_state(o), [-1]


def _opaque(v: Variable) -> bool:
    return not isinstance(v.type, TensorType)


def _as_state(v: Any) -> Variable:
    """A tensor, or a variable of another type (a random generator) as it is."""
    from gnomon.tensor.basic import as_tensor

    return v if isinstance(v, Variable) and _opaque(v) else as_tensor(v)


class until:
    """A stopping condition for :func:`scan`: the body returns ``outputs, until(cond)`` (or
    ``outputs, updates, until(cond)``) and the loop stops after the first step where ``cond``
    is true; the outputs hold the steps run, that one included (PyTensor's
    ``scan.utils.until``).

    The loop needs an upper bound on its steps (``n_steps`` or a sequence). It is compiled as
    that many steps with a "done" flag: once ``cond`` has held, the states keep their values
    and the outputs are cut to the steps run, so the steps after the stop still run (on frozen
    states) and cost time.

    Examples
    --------
    >>> import gnomon.tensor as gt
    >>> m = gt.dscalar("m")
    >>> powers, _ = scan(lambda p, m: (p * 2, until(p * 2 > m)),
    ...                  outputs_info=gt.constant(1.0), non_sequences=m, n_steps=1024)
    >>> powers.eval({m: 45.0}, mode="numpy").tolist()
    [2.0, 4.0, 8.0, 16.0, 32.0, 64.0]
    """

    def __init__(self, condition: Any) -> None:
        from gnomon.tensor.basic import as_tensor, cast

        c = as_tensor(condition)
        if c.ndim != 0:
            raise GnomonTypeError(with_hint(
                f"until: the condition must be a scalar, got {c.type}",
                "reduce it, e.g. gt.all(...) or gt.any(...)"))
        self.condition = c if c.dtype == "bool" else cast(c, "bool")


def _split_fn_result(ret: Any) -> tuple[list[Variable], dict[Variable, Variable]]:
    outs, updates, stop = _split_fn_result_until(ret)
    if stop is not None:  # pragma: no cover - scan() itself handles until
        raise GnomonValueError("until() is only meaningful in a scan body")
    return outs, updates


def _split_fn_result_until(
    ret: Any,
) -> tuple[list[Variable], dict[Variable, Variable], Variable | None]:
    """``fn``'s result as (outputs, updates, stopping condition or None)."""
    stop = None
    if isinstance(ret, until):
        return [], {}, ret.condition
    if isinstance(ret, tuple) and any(isinstance(r, until) for r in ret):
        stop = next(r for r in ret if isinstance(r, until)).condition
        rest = tuple(r for r in ret if not isinstance(r, until))
        ret = rest[0] if len(rest) == 1 else rest
        if len(rest) == 2 and isinstance(rest[0], dict):  # (updates, outputs) order
            ret = (rest[1], rest[0])
    outs, updates = _split_plain(ret)
    return outs, updates, stop


def _split_plain(ret: Any) -> tuple[list[Variable], dict[Variable, Variable]]:

    updates: dict[Variable, Variable] = {}
    if isinstance(ret, dict):
        return [], dict(ret)
    if isinstance(ret, tuple) and len(ret) == 2 and isinstance(ret[1], dict):
        ret, updates = ret[0], dict(ret[1])
    if ret is None:
        return [], updates
    if isinstance(ret, list | tuple):
        return [_as_state(v) for v in ret], updates
    return [_as_state(ret)], updates


def scan(
    fn: Callable[..., Any],
    sequences: Any = None,
    outputs_info: Any = None,
    non_sequences: Any = None,
    n_steps: Any = None,
    truncate_gradient: int = -1,
    go_backwards: bool = False,
    strict: bool = False,
    name: str | None = None,
    return_list: bool = False,
) -> tuple[Any, dict[Variable, Variable]]:
    """Repeat ``fn`` over sequences and recurrent states, like PyTensor's ``scan``.

    ``fn`` is called once, on symbolic values, with: one argument per sequence tap (sequences
    in order, each sequence's taps in order), then one per output tap (outputs with initial
    values in order, each output's taps in order), then the non-sequences. It returns the
    outputs (a variable or a list), optionally with a dict of shared-variable updates:
    ``return outputs, {w: new_w}``.

    Parameters
    ----------
    fn : callable
    sequences : Variable, dict or list of them
        Iterated along the leading axis. A dict ``{"input": x, "taps": [-1, 0]}`` reads several
        steps; step ``t`` sees ``x[t + tap - min(taps)]``.
    outputs_info : list
        One entry per output of ``fn``: ``None`` (not fed back), an initial value (fed back
        with ``taps=[-1]``), or ``{"initial": x0, "taps": [-2, -1]}`` where ``x0`` has a
        leading axis holding the ``max(-taps)`` values before the first step (``x0[-1]`` is the
        value just before it). With ``taps=[-1]`` the initial value has no leading axis.
    non_sequences : list
        Values the body uses unchanged at every step. Values ``fn`` uses from its closure are
        found automatically (unless ``strict=True``).
    n_steps : int or integer scalar, optional
        Number of steps; default: the length of the shortest sequence.
    truncate_gradient : int
        ``-1``: full gradient; ``k > 0``: backpropagate through the last ``k`` steps only.
    go_backwards : bool
        Iterate the sequences from the end (outputs are in iteration order).
    strict : bool
        Raise if ``fn`` uses a variable that is not a sequence, state or non-sequence.
    name : str, optional
    return_list : bool
        Always return a list of outputs (even for one output).

    Returns
    -------
    (outputs, updates)
        ``outputs``: the trace of each output, shape ``(n_steps, ...)`` (one variable or a
        list); ``updates``: a dict from shared variables updated in ``fn`` to their value after
        the last step, to pass to ``gnomon.function(..., updates=updates)``.

    Examples
    --------
    Cumulative product:

    >>> import numpy as np, gnomon, gnomon.tensor as gt
    >>> x = gt.dvector("x")
    >>> out, _ = scan(lambda v, acc: v * acc, sequences=[x], outputs_info=[gt.constant(1.0)])
    >>> out.eval({x: np.array([1.0, 2.0, 3.0])}).tolist()
    [1.0, 2.0, 6.0]

    Fibonacci with two taps:

    >>> x0 = gt.constant(np.array([0.0, 1.0]))
    >>> fib, _ = scan(lambda a, b: a + b, outputs_info=[{"initial": x0, "taps": [-2, -1]}],
    ...               n_steps=5)
    >>> fib.eval().tolist()
    [1.0, 2.0, 3.0, 5.0, 8.0]

    A Gaussian random walk: the generator is a state of the loop and advances at every step
    (``docs/random.md``, "Generators in scan"):

    >>> import gnomon.random as gr
    >>> rng = gnomon.shared(np.random.default_rng(0))
    >>> def step(prev, r):
    ...     x = gr.normal(prev, 1.0, rng=r)
    ...     return x, {r: x.owner.outputs[0]}
    >>> walk, updates = scan(step, outputs_info=[gt.constant(0.0)], non_sequences=[rng],
    ...                      n_steps=3)
    >>> f = gnomon.function([], walk, updates=updates, mode="numpy")
    >>> bool(np.allclose(f(), np.cumsum(np.random.default_rng(0).normal(size=3))))
    True
    """
    from gnomon.compile.shared import SharedVariable
    from gnomon.tensor import math as tm
    from gnomon.tensor.basic import as_tensor, cast
    from gnomon.tensor.shapes import expand_dims, shape_i

    seq_list = [] if sequences is None else (
        list(sequences) if isinstance(sequences, list | tuple) else [sequences])
    out_list = [] if outputs_info is None else (
        list(outputs_info) if isinstance(outputs_info, list | tuple) else [outputs_info])
    nonseq_list = [] if non_sequences is None else (
        list(non_sequences) if isinstance(non_sequences, list | tuple) else [non_sequences])
    nonseq_list = [_as_state(v) for v in nonseq_list]

    # --- sequences: taps and direction become slices --------------------------------------
    op_seqs: list[Variable] = []
    for s in seq_list:
        x, taps = _normalize_seq(s)
        if x.ndim == 0:
            raise GnomonTypeError(with_hint(
                f"scan: sequence {x} is a scalar; sequences are iterated along their first axis",
                "pass it as a non-sequence, or give it a leading axis",
            ))
        if go_backwards:
            x = x[::-1]
        lo, hi = min(taps), max(taps)
        for k in taps:
            start, end = k - lo, hi - k
            # (no slice node for the common single tap)
            op_seqs.append(x if start == end == 0 else x[start:] if end == 0 else x[start:-end])
    if n_steps is None:
        if not op_seqs:
            raise GnomonValueError(with_hint(
                "scan: with no sequences the number of steps is unknown",
                "pass n_steps=",
            ))
        n = shape_i(op_seqs[0], 0)
        for s in op_seqs[1:]:
            n = tm.minimum(n, shape_i(s, 0))
    else:
        n = as_tensor(n_steps)
        if n.ndim != 0 or n.dtype[0] not in "iu":
            raise GnomonTypeError(with_hint(
                f"scan: n_steps must be an integer scalar, got {n.type}",
                "pass an int or an integer scalar variable",
            ))
        n = cast(n, "int64") if n.dtype != "int64" else n

    # --- placeholders for the body --------------------------------------------------------
    seq_ph = [TensorType(s.dtype, s.type.shape[1:])(f"{s.name or 'seq'}[t]")  # type: ignore[attr-defined]
              for s in op_seqs]
    rec: list[tuple[int, Variable, list[int]]] = []  # (output index, initial, taps)
    for k, o in enumerate(out_list):
        init, taps = _normalize_out(o)
        if init is not None:
            rec.append((k, init, taps))
    tap_ph: list[Variable] = []
    bufs: list[Variable] = []
    for k, init, taps in rec:
        if _opaque(init):
            if taps != [-1]:
                raise GnomonValueError(with_hint(
                    f"scan: output {k} is a {init.type}, read with taps {taps}; such a state "
                    "has only its last value",
                    "use taps=[-1] (the default)",
                ))
            state_t = init.type
            bufs.append(init)
        elif taps == [-1]:
            state_t = init.type
            bufs.append(expand_dims(init, 0))
        else:
            L = -min(taps)
            if init.ndim == 0:
                raise GnomonTypeError(with_hint(
                    f"scan: output {k} has taps {taps}, so its initial value needs a leading "
                    f"axis holding the {L} values before the first step, but it is a scalar",
                    "stack the earlier values: gt.stack([x_minus_2, x_minus_1])",
                ))
            state_t = TensorType(init.dtype, init.type.shape[1:])  # type: ignore[attr-defined]
            bufs.append(init[-L:])
        for t in taps:
            tap_ph.append(state_t(f"out{k}[t{t}]"))

    ret = fn(*seq_ph, *tap_ph, *nonseq_list)
    outs, updates, stop = _split_fn_result_until(ret)
    if out_list and len(out_list) != len(outs):
        raise GnomonValueError(with_hint(
            f"scan: fn returned {len(outs)} output(s) but outputs_info has {len(out_list)} "
            "entries",
            "give one outputs_info entry per output (None for outputs not fed back)",
        ))

    # Shared generators read in the body with a default update (RandomStream's, or a draw
    # without rng=) advance at every step, as PyTensor users expect: their default update
    # becomes a loop update.
    for v in graph_inputs([*outs, *updates.values()], include_constants=False):
        if (isinstance(v, SharedVariable) and _opaque(v) and v not in updates
                and getattr(v, "default_update", None) is not None):
            updates[v] = v.default_update
    auto_updated = [v for v in updates if getattr(v, "default_update", None) is updates[v]]

    # Shared variables updated in the loop are recurrent states too.
    upd_vars = list(updates)
    for s in upd_vars:
        if not isinstance(s, SharedVariable):
            raise GnomonTypeError(with_hint(
                f"scan: updates can only change shared variables, but {s} is not one",
                "create it with gnomon.shared(value)",
            ))
    upd_ph = [s.type(f"{s.name or 'shared'}[t-1]") for s in upd_vars]
    body_outs = [outs[k] for k, _, _ in rec]
    rec_k = {k for k, _, _ in rec}
    body_outs += [_as_state(updates[s]) for s in upd_vars]
    body_outs += [o for k, o in enumerate(outs) if k not in rec_k]
    if upd_vars:
        body_outs = graph_replace(body_outs, dict(zip(upd_vars, upd_ph, strict=True)),
                                  strict=False)
        if stop is not None:
            stop = graph_replace([stop], dict(zip(upd_vars, upd_ph, strict=True)),
                                 strict=False)[0]
    all_taps = [tuple(taps) for _, _, taps in rec] + [(-1,)] * len(upd_vars)
    bufs += [s if _opaque(s) else expand_dims(s, 0) for s in upd_vars]
    tap_ph += upd_ph
    if stop is not None:
        body_outs, done_ph = _mask_after_stop(body_outs, stop, rec, tap_ph, upd_ph, n_steps,
                                              op_seqs)
        # the "done" flag is one more recurrent state, after the shared-variable states
        n_state = len(rec) + len(upd_vars)
        all_taps.append((-1,))
        bufs.append(expand_dims(as_tensor(np.bool_(False)), 0))
        tap_ph.append(done_ph)
        body_outs = body_outs[:n_state] + [body_outs[-1]] + body_outs[n_state:-1]

    # Recurrent outputs must keep the state's type.
    pos = 0
    state_types = []
    for taps in all_taps:
        state_types.append(tap_ph[pos].type)
        pos += len(taps)
    for j, st in enumerate(state_types):
        o = body_outs[j]
        if _opaque(o) or not isinstance(st, TensorType):
            if o.type != st:
                raise GnomonTypeError(with_hint(
                    f"scan: recurrent output {j} is a {o.type} but its initial value is a {st}",
                    "return the state's next value (a random generator: the draw's "
                    "x.owner.outputs[0])",
                ))
            continue
        if o.dtype != st.dtype:
            if np.can_cast(o.dtype, st.dtype):
                o = cast(o, st.dtype)
            else:
                raise GnomonTypeError(with_hint(
                    f"scan: recurrent output {j} has dtype {o.dtype} but its initial value has "
                    f"dtype {st.dtype}",
                    "give the initial value the dtype fn returns (e.g. gt.cast(x0, 'float64'))",
                ))
        if o.ndim != st.ndim:
            raise GnomonTypeError(with_hint(
                f"scan: recurrent output {j} has {o.ndim} dimension(s) but its initial value "
                f"(one step of it) has {st.ndim}",
                "return a value of the same shape as the state it replaces",
            ))
        body_outs[j] = o

    # --- loop invariants: what the body uses that does not depend on loop variables -------
    ph = seq_ph + tap_ph
    dep = {id(v) for v in ph}
    frontier: list[Variable] = []
    fseen: set[int] = set()

    def add_frontier(v: Variable) -> None:
        if id(v) not in dep and not isinstance(v, Constant) and id(v) not in fseen:
            fseen.add(id(v))
            frontier.append(v)

    for node in toposort(body_outs):
        if any(id(i) in dep for i in node.inputs):
            dep.update(id(o) for o in node.outputs)
    for node in toposort(body_outs):
        if any(id(o) in dep for o in node.outputs):
            for i in node.inputs:
                add_frontier(i)
    for o in body_outs:
        add_frontier(o)
    # a non-sequence that is also updated reaches the body as its state placeholder
    upd_ids = {id(v) for v in upd_vars}
    nonseq_list = [v for v in nonseq_list if id(v) not in upd_ids]
    explicit = {id(v) for v in nonseq_list}
    if strict:
        allowed = explicit | {id(v) for v in upd_vars}
        for v in frontier:
            if id(v) in allowed:
                continue
            roots = [v] if v.owner is None else graph_inputs([v], include_constants=False)
            bad = [r for r in roots if id(r) not in allowed]
            if bad:
                raise GnomonTypeError(with_hint(
                    f"scan(strict=True): the loop body uses {bad[0]}, which is not a sequence, "
                    "an output or a non-sequence",
                    f"pass {bad[0]} in non_sequences, or use strict=False",
                ))
    nonseqs = nonseq_list + [v for v in frontier if id(v) not in explicit]
    graph = InnerGraph.cut(ph + nonseqs, body_outs)
    op = Scan(graph, len(op_seqs), tuple(all_taps), len(body_outs) - len(all_taps),
              int(truncate_gradient), name)
    node = op.make_node(n, *op_seqs, *bufs, *nonseqs)
    traces = list(node.outputs)
    n_user_rec = len(rec)
    n_upd = len(upd_vars)
    rec_traces = traces[:n_user_rec]
    upd_traces = traces[n_user_rec:n_user_rec + n_upd]
    nit_traces = traces[n_user_rec + n_upd:]
    if stop is not None:
        # steps run: those before the stop, and the step where the condition held
        done_trace, nit_traces = nit_traces[0], nit_traces[1:]
        from gnomon.tensor.reduce import sum as _sum

        k = _sum(cast(done_trace, "int64"))
        n_run = tm.add(tm.sub(n, k), cast(tm.gt(k, 0), "int64"))
        rec_traces = [t[:n_run] for t in rec_traces]
        nit_traces = [t[:n_run] for t in nit_traces]
    result: list[Variable] = []
    ri = ni = 0
    for k in range(len(outs)):
        if k in rec_k:
            result.append(rec_traces[ri])
            ri += 1
        else:
            result.append(nit_traces[ni])
            ni += 1
    new_updates = {s: tr if _opaque(s) else tr[-1]
                   for s, tr in zip(upd_vars, upd_traces, strict=True)}
    for s in auto_updated:  # its old default update lives in the loop body
        s.default_update = new_updates[s]  # type: ignore[attr-defined]
    if return_list or len(result) != 1:
        return result, new_updates
    return result[0], new_updates


# --- map / reduce / folds ------------------------------------------------------------------


def _mask_after_stop(body_outs: list[Variable], stop: Variable,
                     rec: list[tuple[int, Variable, list[int]]], tap_ph: list[Variable],
                     upd_ph: list[Variable], n_steps: Any,
                     op_seqs: list[Variable]) -> tuple[list[Variable], Variable]:
    """``body_outs`` with each recurrent state frozen once the loop is done, followed by the
    new "done" flag; and the flag's placeholder (the value after the previous step)."""
    from gnomon.tensor import math as tm

    done_ph = TensorType("bool", ())("done[t-1]")
    out = list(body_outs)
    pos = 0
    for j, (k, _, taps) in enumerate(rec):
        if -1 not in taps:
            raise GnomonValueError(with_hint(
                f"scan with until: output {k} is read with taps {taps}; a stopped loop keeps "
                "the last value of each state, which needs tap -1",
                "add -1 to the output's taps"))
        prev = tap_ph[pos + taps.index(-1)]
        pos += len(taps)
        if _opaque(prev):
            raise GnomonTypeError(with_hint(
                f"scan with until: output {k} is a {prev.type}, which cannot be frozen after "
                "the stop", "draw random numbers outside the loop, or drop until"))
        out[j] = tm.where(done_ph, prev, out[j])
    for i, ph in enumerate(upd_ph):
        if _opaque(ph):
            raise GnomonTypeError(with_hint(
                f"scan with until: the shared {ph.type} updated in the loop cannot be frozen "
                "after the stop", "draw random numbers outside the loop, or drop until"))
        j = len(rec) + i
        out[j] = tm.where(done_ph, ph, out[j])
    out.append(tm.or_(done_ph, stop))
    return out, done_ph


def map(
    fn: Callable[..., Any], sequences: Any, non_sequences: Any = None,
    truncate_gradient: int = -1, go_backwards: bool = False, name: str | None = None,
) -> tuple[Any, dict[Variable, Variable]]:
    """``fn`` applied to each step of the sequences (a scan with no recurrence).

    Examples
    --------
    >>> import numpy as np, gnomon.tensor as gt
    >>> x = gt.dmatrix("x")
    >>> rows, _ = map(lambda r: gt.sum(r ** 2), [x])
    >>> rows.eval({x: np.arange(6.0).reshape(2, 3)}).tolist()
    [5.0, 50.0]
    """
    return scan(fn, sequences, None, non_sequences, truncate_gradient=truncate_gradient,
                go_backwards=go_backwards, name=name)


def reduce(
    fn: Callable[..., Any], sequences: Any, outputs_info: Any, non_sequences: Any = None,
    go_backwards: bool = False, name: str | None = None,
) -> tuple[Any, dict[Variable, Variable]]:
    """The value after the last step of a scan (its trace is not kept in the result).

    Examples
    --------
    >>> import numpy as np, gnomon.tensor as gt
    >>> x = gt.dvector("x")
    >>> total, _ = reduce(lambda v, acc: acc + v, [x], [gt.constant(0.0)])
    >>> float(total.eval({x: np.array([1.0, 2.0, 3.0])}))
    6.0
    """
    outs, upd = scan(fn, sequences, outputs_info, non_sequences, go_backwards=go_backwards,
                     name=name, return_list=True)
    last = [o[-1] for o in outs]
    return (last[0] if len(last) == 1 else last), upd


def foldl(
    fn: Callable[..., Any], sequences: Any, outputs_info: Any, non_sequences: Any = None,
    name: str | None = None,
) -> tuple[Any, dict[Variable, Variable]]:
    """:func:`reduce` from the first step to the last.

    Examples
    --------
    >>> import numpy as np, gnomon.tensor as gt
    >>> x = gt.dvector("x")
    >>> r, _ = foldl(lambda v, acc: acc * 10 + v, [x], [gt.constant(0.0)])
    >>> float(r.eval({x: np.array([1.0, 2.0, 3.0])}))
    123.0
    """
    return reduce(fn, sequences, outputs_info, non_sequences, False, name)


def foldr(
    fn: Callable[..., Any], sequences: Any, outputs_info: Any, non_sequences: Any = None,
    name: str | None = None,
) -> tuple[Any, dict[Variable, Variable]]:
    """:func:`reduce` from the last step to the first.

    Examples
    --------
    >>> import numpy as np, gnomon.tensor as gt
    >>> x = gt.dvector("x")
    >>> r, _ = foldr(lambda v, acc: acc * 10 + v, [x], [gt.constant(0.0)])
    >>> float(r.eval({x: np.array([1.0, 2.0, 3.0])}))
    321.0
    """
    return reduce(fn, sequences, outputs_info, non_sequences, True, name)


# --- gradient: a reverse scan ------------------------------------------------------------


def _is_float(v: Variable) -> bool:
    return isinstance(v.type, TensorType) and v.dtype[0] in "fc"


def _kept_pullback(op: Scan, node: Apply, output_grads: Sequence[Variable | None]) -> list[Any]:
    """The gradient of a scan keeping only last steps: that of the full scan, with the
    cotangents of the dropped steps zero."""
    import dataclasses

    from gnomon.tensor.basic import zeros_like
    from gnomon.tensor.indexing import set_subtensor
    from gnomon.tensor.shapes import shape_i

    full_op = dataclasses.replace(op, keep=())
    full = full_op.make_node(*node.inputs)
    n = node.inputs[0]
    ogs: list[Variable | None] = []
    for k, (g, short, long) in enumerate(zip(output_grads, node.outputs, full.outputs,
                                             strict=True)):
        if g is None or not op.kept(k):
            ogs.append(g)
            continue
        c = shape_i(short, 0)
        ogs.append(set_subtensor(zeros_like(long)[n - c:n], g))
    return _scan_pullback(full_op, full, ogs)


def _scan_pullback(op: Scan, node: Apply, output_grads: Sequence[Variable | None]) -> list[Any]:
    from gnomon.tensor import math as tm
    from gnomon.tensor.basic import zeros_like
    from gnomon.tensor.indexing import inc_subtensor, set_subtensor
    from gnomon.tensor.shapes import concatenate

    n, seqs, bufs, nonseqs = op.split(node.inputs)
    nr, ns = op.n_rec, op.n_seqs
    lags = op.lags
    g = op.graph
    outs = list(node.outputs)
    float_out = tuple(k for k, o in enumerate(outs) if _is_float(o))
    n_taps = op.n_tap_inputs
    float_in = tuple(k for k, v in enumerate(g.inputs) if _is_float(v))
    if not float_out or not float_in:
        return [None] * len(node.inputs)
    cots, inner_grads = op.graph.pullback(float_in, float_out)  # built once per body
    grad_of = dict(zip(float_in, inner_grads, strict=True))
    ogs = {k: (output_grads[k] if output_grads[k] is not None else zeros_like(outs[k]))
           for k in float_out}
    float_rec = [j for j in range(nr) if j in ogs]
    float_ns = [k for k, v in enumerate(nonseqs) if _is_float(v)]
    float_seq = [k for k, v in enumerate(seqs) if _is_float(v)]

    # Values each forward step read: sequence slices and, per tap, the history shifted.
    seq_in = [s[:n] for s in seqs]
    tap_seqs = []
    for j in range(nr):
        hist = concatenate([bufs[j][bufs[j].shape[0] - lags[j]:], outs[j]], axis=0)
        for k in op.taps[j]:
            tap_seqs.append(hist[lags[j] + k:lags[j] + k + n])
    g_seqs = [ogs[k][:n] for k in float_out]
    n_fwd = len(seq_in) + len(tap_seqs)
    n_g = len(g_seqs)
    trunc = op.truncate_gradient
    steps = n if trunc < 0 else tm.minimum(n, trunc)

    def step(*args: Variable) -> list[Variable]:
        fwd = list(args[:n_fwd])
        gs = dict(zip(float_out, args[n_fwd:n_fwd + n_g], strict=True))
        d_prev = list(args[n_fwd + n_g:n_fwd + n_g + len(float_rec)])
        acc_prev = list(args[n_fwd + n_g + len(float_rec):
                             n_fwd + n_g + len(float_rec) + len(float_ns)])
        nonseq_vals = list(args[n_fwd + n_g + len(float_rec) + len(float_ns):])
        # total cotangent of each float body output at this step
        total = []
        for k in float_out:
            if k < nr:
                total.append(gs[k] + d_prev[float_rec.index(k)][0])
            else:
                total.append(gs[k])
        mapping: dict[Variable, Variable] = dict(zip(g.inputs, fwd + nonseq_vals, strict=True))
        mapping.update(zip(cots, total, strict=True))
        body_g = graph_replace([grad_of[k] for k in float_in], mapping, strict=False)
        gin = dict(zip(float_in, body_g, strict=True))
        new_d = []
        pos = ns
        tap_pos = {}
        for j in range(nr):
            for t in op.taps[j]:
                tap_pos[(j, t)] = pos
                pos += 1
        for j in float_rec:
            d = d_prev[float_rec.index(j)]
            nd = concatenate([d[1:], zeros_like(d[:1])], axis=0)
            for t in op.taps[j]:
                gt_ = gin.get(tap_pos[(j, t)])
                if gt_ is not None:
                    nd = inc_subtensor(nd[-t - 1], gt_)
            new_d.append(nd)
        new_acc = [a + gin[ns + n_taps + k] for a, k in zip(acc_prev, float_ns, strict=True)]
        d_seq = [gin[k] for k in float_seq]
        return [*new_d, *new_acc, *d_seq]

    out_info: list[Any] = [zeros_like(bufs[j][bufs[j].shape[0] - lags[j]:]) for j in float_rec]
    out_info += [zeros_like(nonseqs[k]) for k in float_ns]
    out_info += [None] * len(float_seq)
    res, _ = scan(step, sequences=[*seq_in, *tap_seqs, *g_seqs], outputs_info=out_info,
                  non_sequences=nonseqs, n_steps=steps, go_backwards=True,
                  name=f"grad({op})", return_list=True)
    grads: list[Any] = [None] * len(node.inputs)
    d_final = res[:len(float_rec)]
    acc_final = res[len(float_rec):len(float_rec) + len(float_ns)]
    d_seqs = res[len(float_rec) + len(float_ns):]
    for j, tr in zip(float_rec, d_final, strict=True):
        last = tr[-1][::-1]  # owed to y[-1], y[-2], ... -> buffer order
        if trunc >= 0:
            last = tm.where(tm.lt(steps, n), zeros_like(last), last)
        b = bufs[j]
        full = zeros_like(b)
        grads[1 + ns + j] = set_subtensor(full[b.shape[0] - lags[j]:], last)
    for k, tr in zip(float_ns, acc_final, strict=True):
        grads[1 + ns + nr + k] = tr[-1]
    for k, tr in zip(float_seq, d_seqs, strict=True):
        s = seqs[k]
        grads[1 + k] = set_subtensor(zeros_like(s)[n - steps:n], tr[::-1])
    return grads


# --- rewrites ------------------------------------------------------------------------------


@register_graph_rule(groups=("specialize", "scan", "scan_merge"), name="scan_merge")
def scan_merge(
    outputs: list[Variable],
) -> tuple[list[Variable], list[tuple[Apply, tuple[Variable, ...]]]]:
    """Merge independent scans with the same number of steps into one loop.

    The merged body reads each shared sequence and non-sequence once, so the two loops cost one
    pass (one Python loop in the reference backend, one compiled loop elsewhere).
    """
    from gnomon.control.ifelse import _depends

    groups: dict[tuple[int, int], list[Apply]] = {}
    for node in toposort(outputs):
        if isinstance(node.op, Scan) and not node.op.keep:
            groups.setdefault((id(node.inputs[0]), node.op.truncate_gradient), []).append(node)
    mapping: dict[Variable, Variable] = {}
    steps: list[tuple[Apply, tuple[Variable, ...]]] = []
    for nodes in groups.values():
        batch: list[Apply] = []
        for n in nodes:
            if all(not _depends(n, m) and not _depends(m, n) for m in batch):
                batch.append(n)
        if len(batch) < 2:
            continue
        new_outs = _merge_scans(batch)
        for n, outs in zip(batch, new_outs, strict=True):
            mapping.update(zip(n.outputs, outs, strict=True))
            steps.append((n, tuple(outs)))
    if not mapping:
        return outputs, []
    return graph_replace(outputs, mapping, strict=False), steps


def _merge_scans(nodes: list[Apply]) -> list[list[Variable]]:
    """One Scan computing every output of ``nodes``; the new outputs of each node, in order."""
    seqs: list[Variable] = []
    nonseqs: list[Variable] = []
    seq_pos: dict[int, int] = {}
    ns_pos: dict[int, int] = {}
    for n in nodes:
        op: Scan = n.op  # type: ignore[assignment]
        _, s, _, q = op.split(n.inputs)
        for v, (lst, pos) in [(v, (seqs, seq_pos)) for v in s] + [(v, (nonseqs, ns_pos))
                                                                   for v in q]:
            if id(v) not in pos:
                pos[id(v)] = len(lst)
                lst.append(v)
    seq_in = [TensorType(v.dtype, v.type.shape[1:])() for v in seqs]  # type: ignore[attr-defined]
    ns_in = [v.type() for v in nonseqs]
    tap_in: list[Variable] = []
    taps: list[tuple[int, ...]] = []
    bufs: list[Variable] = []
    rec_outs: list[Variable] = []
    nit_outs: list[Variable] = []
    layout: list[tuple[int, int, int]] = []  # per node: first rec, first nitsot, counts
    for n in nodes:
        op = n.op  # type: ignore[assignment]
        _, s, b, q = op.split(n.inputs)
        g = op.graph
        m: dict[Variable, Variable] = {}
        for k, v in enumerate(s):
            m[g.inputs[k]] = seq_in[seq_pos[id(v)]]
        own_taps = g.inputs[op.n_seqs:op.n_seqs + op.n_tap_inputs]
        fresh_taps = [t.type() for t in own_taps]
        m.update(zip(own_taps, fresh_taps, strict=True))
        for k, v in enumerate(q):
            m[g.inputs[op.n_seqs + op.n_tap_inputs + k]] = ns_in[ns_pos[id(v)]]
        body = graph_replace(list(g.outputs), m, strict=False)
        layout.append((len(rec_outs), len(nit_outs), op.n_rec))
        tap_in += fresh_taps
        taps += list(op.taps)
        bufs += b
        rec_outs += body[:op.n_rec]
        nit_outs += body[op.n_rec:]
    graph = InnerGraph(seq_in + tap_in + ns_in, rec_outs + nit_outs)
    first: Scan = nodes[0].op  # type: ignore[assignment]
    merged = Scan(graph, len(seqs), tuple(taps), len(nit_outs), first.truncate_gradient)
    new = merged.make_node(nodes[0].inputs[0], *seqs, *bufs, *nonseqs).outputs
    n_rec = len(rec_outs)
    result = []
    for n, (r0, i0, nr) in zip(nodes, layout, strict=True):
        n_nit = len(n.outputs) - nr
        result.append([*new[r0:r0 + nr], *new[n_rec + i0:n_rec + i0 + n_nit]])
    return result


@register_graph_rule(groups=("specialize", "scan", "scan_save_mem"), name="scan_save_mem")
def scan_save_mem(
    outputs: list[Variable],
) -> tuple[list[Variable], list[tuple[Apply, tuple[Variable, ...]]]]:
    """Keep only the last steps of scan outputs that are only read at their end.

    An output whose every use is ``trace[-j]`` (a constant negative index, possibly followed by
    more indices) needs only its last ``max(j)`` steps, so the loop stores O(taps + j) values
    instead of the whole O(n_steps) trace.
    """
    import dataclasses

    from gnomon.tensor.indexing import Subtensor

    uses = clients(outputs)
    graph_outs = {id(o) for o in outputs}
    mapping: dict[Variable, Variable] = {}
    steps: list[tuple[Apply, tuple[Variable, ...]]] = []
    for node in toposort(outputs):
        op = node.op
        if not isinstance(op, Scan) or op.keep:
            continue
        keep = []
        for o in node.outputs:
            us = uses.get(o, [])
            ok = bool(us) and id(o) not in graph_outs and all(
                isinstance(c.op, Subtensor) and i == 0 and o not in c.inputs[1:]
                and c.op.idx_list and type(c.op.idx_list[0]) is int and c.op.idx_list[0] < 0
                for c, i in us)
            keep.append(max(-c.op.idx_list[0] for c, _ in us) if ok else 0)  # type: ignore[attr-defined]
        if not any(keep):
            continue
        new = dataclasses.replace(op, keep=tuple(keep)).make_node(*node.inputs)
        for k, (o, no) in enumerate(zip(node.outputs, new.outputs, strict=True)):
            if not keep[k]:
                mapping[o] = no
                continue
            for c, _ in uses[o]:
                mapping[c.outputs[0]] = c.op.make_node(no, *c.inputs[1:]).outputs[0]
        steps.append((node, tuple(new.outputs)))
    if not mapping:
        return outputs, []
    return graph_replace(outputs, mapping, strict=False), steps


@register_rule(ops=(Scan,), groups=("specialize", "scan", "scan_vectorize"),
               name="scan_vectorize")
def scan_vectorize(node: Apply) -> list[Variable] | None:
    """A scan with no recurrence whose body is elementwise becomes one elementwise graph over
    whole sequences (no loop). Bodies with other ops are left as loops: vectorizing them
    needs a batching rule per op, which gnomon does not have yet."""
    from gnomon.tensor.elemwise import Elemwise
    from gnomon.tensor.shapes import dimshuffle, expand_dims

    op: Scan = node.op  # type: ignore[assignment]
    if op.n_rec or op.keep:
        return None
    g = op.graph
    body = toposort(g.outputs)
    if not all(isinstance(b.op, Elemwise) for b in body):
        return None
    n, seqs, _, nonseqs = op.split(node.inputs)
    if not _steps_fit(n, seqs):
        return None  # the loop would raise "sequence shorter than n_steps"; keep it
    # Each body value becomes an array with a leading step axis (length n, or 1 when the
    # value is the same at every step).
    vec: dict[Variable, Variable] = {}
    for k, v in enumerate(g.inputs[:op.n_seqs]):
        vec[v] = seqs[k][:n]
    for k, v in enumerate(g.inputs[op.n_seqs:]):
        vec[v] = expand_dims(nonseqs[k], 0)

    def get(v: Variable) -> Variable:
        return vec[v] if v in vec else expand_dims(v, 0)  # constants

    def pad(v: Variable, ndim: int) -> Variable:
        # right-aligned broadcasting inside the body: new axes go after the step axis
        x = get(v)
        if v.ndim == ndim:
            return x
        return dimshuffle(x, [0, *(["x"] * (ndim - v.ndim)), *range(1, v.ndim + 1)])

    for b in body:
        nd = max(o.ndim for o in b.outputs)
        new = b.op.make_node(*[pad(i, nd) for i in b.inputs])
        vec.update(zip(b.outputs, new.outputs, strict=True))
    return [get(o) for o in g.outputs]


def _steps_fit(n: Variable, seqs: Sequence[Variable]) -> bool:
    """Whether ``n <= len(s)`` provably holds for every sequence (``n`` is the length of a
    sequence, a minimum of such lengths, or a constant within the static lengths)."""
    from gnomon.tensor.elemwise import Elemwise
    from gnomon.tensor.shapes import ShapeI

    def bounded(v: Variable) -> set[int]:
        """Indices of the sequences ``v`` is provably no longer than."""
        if isinstance(v, Constant):
            c = int(np.asarray(v.data))
            return {k for k, s in enumerate(seqs)
                    if s.type.shape[0] is not None and s.type.shape[0] >= c}  # type: ignore[attr-defined]
        node = v.owner
        if node is None:
            return set()
        if isinstance(node.op, ShapeI) and node.op.i == 0:
            return {k for k, s in enumerate(seqs) if s is node.inputs[0]}
        if isinstance(node.op, Elemwise) and type(node.op.scalar_op).__name__ == "Minimum":
            out: set[int] = set()
            for i in node.inputs:
                out |= bounded(i)
            return out
        return set()

    return bounded(n) >= set(range(len(seqs)))
