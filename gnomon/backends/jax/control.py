"""JAX lowerings of the ops with inner graphs (:mod:`gnomon.control`): ``OpFromGraph``,
``IfElse`` (``jax.lax.cond``) and ``Scan`` (``jax.lax.scan``).

Each inner graph is compiled with ``mode="jax"`` (rewrites included, like the reference
compiles it with ``mode="numpy"``) and its pure JAX function is called inside the outer trace,
so the whole program stays one XLA computation. Inputs known at trace time (constants, shapes)
are closed over rather than passed as operands, so they stay static inside the inner graphs.

Limits under ``jax.jit`` (the function then falls back to op-by-op execution, see
:mod:`gnomon.backends.jax.linker`): the number of steps of a ``Scan`` fixes its output shape and
must be known at trace time; an ``IfElse`` whose branches give different shapes needs a
condition known at trace time.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp

from gnomon.backends.jax.dispatch import (
    JaxFn,
    NeedsConcreteValue,
    is_concrete,
    is_tracer,
    jax_funcify,
    static_int,
)
from gnomon.backends.jax.linker import JaxThunk
from gnomon.control.ifelse import IfElse
from gnomon.control.inner import InnerGraph
from gnomon.control.opfromgraph import OpFromGraph
from gnomon.control.scan import Scan
from gnomon.errors import GnomonValueError, node_context, with_hint
from gnomon.graph.basic import Apply


def inner_jax_fn(graph: InnerGraph) -> Callable[..., tuple[Any, ...]]:
    """The pure JAX function of a closed inner graph (compiled once per graph)."""
    thunk: JaxThunk = graph.function("jax").compiled.state
    return thunk.jax_fn


def _split_static(vals: list[Any]) -> tuple[list[Any], Callable[[list[Any]], list[Any]]]:
    """Operands that are traced, and a function putting them back among the static ones."""
    dyn_pos = [k for k, v in enumerate(vals) if not is_concrete(v)]

    def merge(dyn: list[Any]) -> list[Any]:
        out = list(vals)
        for k, v in zip(dyn_pos, dyn, strict=True):
            out[k] = v
        return out

    return [vals[k] for k in dyn_pos], merge


@jax_funcify.register(OpFromGraph)
def _op_from_graph(op: OpFromGraph, node: Apply) -> JaxFn:
    fn = inner_jax_fn(op.graph)
    return lambda *xs: tuple(fn(*xs))


@jax_funcify.register(IfElse)
def _ifelse(op: IfElse, node: Apply) -> JaxFn:
    then_fn, else_fn = inner_jax_fn(op.then_graph), inner_jax_fn(op.else_graph)

    def f(cond: Any, *xs: Any) -> Any:
        if not is_tracer(cond):  # known now: take the branch, like the reference
            return tuple((then_fn if bool(jnp.asarray(cond) != 0) else else_fn)(*xs))
        dyn, merge = _split_static(list(xs))
        structs = [jax.ShapeDtypeStruct(jnp.shape(v), v.dtype) for v in dyn]
        shapes = [
            [(o.shape, o.dtype) for o in jax.eval_shape(lambda *d, g=g: g(*merge(list(d))),
                                                        *structs)]
            for g in (then_fn, else_fn)
        ]
        if shapes[0] != shapes[1]:
            raise NeedsConcreteValue(with_hint(
                f"{op}: the branches give arrays of different shapes ({shapes[0]} and "
                f"{shapes[1]}), so the condition must be known when the graph is compiled, but "
                f"under jax.jit it is computed from the values of the inputs.\n"
                f"{node_context(node)}",
                "make both branches the same shape, or compile with mode='numpy'; "
                "gnomon.function(mode='jax') falls back to running op by op",
            ))
        return tuple(jax.lax.cond(
            cond != 0,
            lambda d: tuple(then_fn(*merge(list(d)))),
            lambda d: tuple(else_fn(*merge(list(d)))),
            tuple(dyn),
        ))

    return f


@jax_funcify.register(Scan)
def _scan(op: Scan, node: Apply) -> JaxFn:
    fn = inner_jax_fn(op.graph)
    lags = op.lags
    nr = op.n_rec
    # opaque states (random generators) are keys carried whole; their output is the last key
    opaque = set(op.opaque_states)
    dtypes = [getattr(o, "dtype", "uint32") for o in node.outputs]
    keep = [op.kept(k) for k in range(len(node.outputs))]
    full = [k for k, kk in enumerate(keep) if not kk and k not in opaque]
    kept = [k for k, kk in enumerate(keep) if kk]

    def f(*inputs: Any) -> Any:
        n_arr, seqs, bufs, nonseqs = op.split(inputs)
        n = static_int(n_arr, node, "the number of steps")
        if n < 0:
            raise GnomonValueError(with_hint(f"scan: n_steps is {n}", "n_steps must be >= 0"))
        if n == 0:
            # No step runs: empty traces (the shape of an output without recurrence is not
            # known without a step; like the reference, unknown dimensions are 0).
            empty = [(0, *jnp.shape(b)[1:]) for b in bufs]
            empty += [(0, *(s or 0 for s in o.type.shape[1:]))  # type: ignore[attr-defined]
                      for o in node.outputs[nr:]]
            return tuple(jnp.asarray(bufs[k]) if k in opaque else jnp.zeros(s, d)
                         for k, (s, d) in enumerate(zip(empty, dtypes, strict=True)))
        xs = tuple(jnp.asarray(s)[:n] for s in seqs)
        carry0 = tuple(jnp.asarray(b) if j in opaque else jnp.asarray(b)[jnp.shape(b)[0] - L:]
                       for j, (b, L) in enumerate(zip(bufs, lags, strict=True)))

        def args_at(states: tuple[Any, ...], x: tuple[Any, ...]) -> list[Any]:
            args = list(x)
            for j, taps in enumerate(op.taps):
                if j in opaque:
                    args.append(states[j])
                    continue
                args.extend(states[j][lags[j] + k] for k in taps)
            return args

        def step_fn(*args: Any) -> tuple[Any, ...]:
            # Non-sequences are closed over, never abstracted: values known at trace time
            # (shapes computed outside the loop) stay static inside the body.
            return tuple(fn(*args, *nonseqs))

        # Outputs read only at their end (``keep``, set by the scan_save_mem rewrite) ride in
        # the carry as rings of their last values instead of being stacked by lax.scan, so
        # memory is O(keep), not O(n_steps).
        rings0: tuple[Any, ...] = ()
        if kept:
            shapes = jax.eval_shape(step_fn, *args_at(carry0, tuple(x[0] for x in xs)))
            rings0 = tuple(jnp.zeros((keep[k], *shapes[k].shape), dtypes[k]) for k in kept)

        def body(carry: tuple[Any, Any], x: tuple[Any, ...]) -> tuple[Any, Any]:
            states, rings = carry
            res = tuple(jnp.asarray(r, d)
                        for r, d in zip(step_fn(*args_at(states, x)), dtypes, strict=True))
            new = tuple(r if j in opaque else jnp.concatenate([c[1:], r[None]], axis=0)
                        for j, (c, r) in enumerate(zip(states, res[:nr], strict=True)))
            new_rings = tuple(jnp.concatenate([ring[1:], res[k][None]], axis=0)
                              for ring, k in zip(rings, kept, strict=True))
            return (new, new_rings), tuple(res[k] for k in full)

        (last, rings), ys = jax.lax.scan(body, (carry0, rings0), xs, length=n)
        outs: list[Any] = [None] * len(node.outputs)
        for j in opaque:
            outs[j] = last[j]
        for k, y in zip(full, ys, strict=True):
            outs[k] = y
        for k, ring in zip(kept, rings, strict=True):
            outs[k] = ring[keep[k] - min(n, keep[k]):]
        return tuple(outs)

    return f
