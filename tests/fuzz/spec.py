"""A fuzz case as plain data: inputs, steps, outputs and value sets.

A :class:`Spec` survives a trip through JSON (to a worker subprocess and back), rebuilds the
same graph every time (:func:`build`; graphs are hash-consed), and prints as a short script that
reproduces it (:func:`reproducer`).
"""

from __future__ import annotations

import base64
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from tests.fuzz.catalog import NAMESPACE_IMPORTS, by_name, namespace

#: a reference to a value: ``(-1, k)`` is input ``k``; ``(j, o)`` is output ``o`` of step ``j``
Ref = tuple[int, int]


@dataclass(frozen=True)
class Step:
    """One op applied to earlier values. ``n_out`` is 0 when the op returns one variable, else
    the length of the list it returns."""

    op: str
    args: tuple[Ref, ...]
    n_out: int = 0


@dataclass
class Spec:
    """A graph (``inputs``: ``(dtype, ndim)`` each; ``steps``; ``outputs``) and the value sets
    to run it on (one array per input in each set)."""

    inputs: list[tuple[str, int]]
    steps: list[Step]
    outputs: list[Ref]
    values: list[list[np.ndarray]] = field(default_factory=list)

    def structure(self) -> str:
        """A key equal for specs that build the same graph (values left out)."""
        return json.dumps([self.inputs, [[s.op, s.args, s.n_out] for s in self.steps],
                           self.outputs])

    def ops(self) -> list[str]:
        """The names of the ops used, in order."""
        return [s.op for s in self.steps]

    def with_values(self, values: list[list[np.ndarray]]) -> Spec:
        """The same graph with other value sets."""
        return Spec(list(self.inputs), list(self.steps), list(self.outputs), values)

    def to_json(self) -> dict[str, Any]:
        return {"inputs": self.inputs,
                "steps": [[s.op, [list(a) for a in s.args], s.n_out] for s in self.steps],
                "outputs": [list(r) for r in self.outputs],
                "values": [[encode_array(a) for a in vs] for vs in self.values]}

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Spec:
        return cls([(str(t), int(n)) for t, n in d["inputs"]],
                   [Step(op, tuple((int(j), int(o)) for j, o in args), int(n))
                    for op, args, n in d["steps"]],
                   [(int(j), int(o)) for j, o in d["outputs"]],
                   [[decode_array(a) for a in vs] for vs in d["values"]])


def encode_array(a: np.ndarray) -> dict[str, Any]:
    """An array as JSON: dtype, shape and base64 of its bytes (exact, NaN payloads included)."""
    a = np.array(a, copy=True, order="C")  # (np.ascontiguousarray would make 0-d arrays 1-d)
    return {"d": a.dtype.name, "s": list(a.shape), "b": base64.b64encode(a.tobytes()).decode()}


def decode_array(d: dict[str, Any]) -> np.ndarray:
    """Inverse of :func:`encode_array`."""
    raw = base64.b64decode(d["b"])
    return np.frombuffer(raw, dtype=d["d"]).reshape(d["s"]).copy()


def _operand(spec: Spec, ref: Ref) -> str:
    j, o = ref
    if j < 0:
        return f"x{o}"
    return f"t{j}[{o}]" if spec.steps[j].n_out else f"t{j}"


def graph_code(spec: Spec) -> list[str]:
    """The lines that build the graph: inputs ``x0, x1, ...``, steps ``t0, t1, ...``, ``outs``."""
    lines = [f"x{k} = gt.tensor('x{k}', dtype={d!r}, shape={(None,) * nd!r})"
             for k, (d, nd) in enumerate(spec.inputs)]
    for j, s in enumerate(spec.steps):
        lines.append(f"t{j} = " + by_name()[s.op].code([_operand(spec, r) for r in s.args]))
    lines.append("outs = [" + ", ".join(_operand(spec, r) for r in spec.outputs) + "]")
    return lines


def build(spec: Spec) -> tuple[list[Any], list[Any]]:
    """The graph's input variables and output variables. Raises what graph building raises
    (a :class:`~gnomon.errors.GnomonError` when an op refuses its operands)."""
    env = build_env(spec)
    return [env[f"x{k}"] for k in range(len(spec.inputs))], list(env["outs"])


def build_env(spec: Spec) -> dict[str, Any]:
    """Every name :func:`graph_code` defines: ``x0, ...``, ``t0, ...`` and ``outs``."""
    env: dict[str, Any] = {}
    exec("\n".join(graph_code(spec)), namespace(), env)
    return env


def step_values(spec: Spec) -> list[tuple[Ref, Any]]:
    """``(ref, variable)`` of every result of every step (tensors only), in order."""
    env = build_env(spec)
    out: list[tuple[Ref, Any]] = []
    for j, s in enumerate(spec.steps):
        vals = env[f"t{j}"] if s.n_out else [env[f"t{j}"]]
        out += [((j, o), v) for o, v in enumerate(vals) if hasattr(v, "ndim")]
    return out


def _float_literal(x: float) -> str:
    if math.isnan(x):
        return "np.nan"
    if math.isinf(x):
        return "np.inf" if x > 0 else "-np.inf"
    return repr(float(x))


def array_literal(a: np.ndarray) -> str:
    """Python source that recreates ``a`` exactly (dtype, shape, values, signed zeros)."""
    a = np.asarray(a)
    dt = a.dtype.name
    if a.size == 0:
        return f"np.zeros({a.shape!r}, dtype={dt!r})"
    if a.dtype.kind == "b":
        items = [repr(bool(v)) for v in a.ravel()]
    elif a.dtype.kind in "iu":
        items = [str(int(v)) for v in a.ravel()]
    elif a.dtype.kind == "c":
        items = [f"complex({_float_literal(v.real)}, {_float_literal(v.imag)})"
                 for v in a.ravel()]
    else:
        items = [_float_literal(float(v)) for v in a.ravel()]
    if a.ndim == 0:
        return f"np.array({items[0]}, dtype={dt!r})"
    flat = f"np.array([{', '.join(items)}], dtype={dt!r})"
    return flat if a.ndim == 1 else f"{flat}.reshape({a.shape!r})"


def reproducer(spec: Spec, values: Sequence[np.ndarray], mode: str, comment: str = "") -> str:
    """A standalone script: build the graph, compile it with ``mode``, call it on ``values``."""
    lines = [NAMESPACE_IMPORTS.rstrip(), *graph_code(spec)]
    xs = ", ".join(f"x{k}" for k in range(len(spec.inputs)))
    # tiered="off": the first call must run the backend's program, not the reference
    m = f"gnomon.Mode({mode!r}, tiered='off')" if mode in ("numba", "jax") else repr(mode)
    lines.append(f"f = gnomon.function([{xs}], outs, mode={m}, on_unused_input='ignore')")
    lines.append("print(f(" + ", ".join(array_literal(v) for v in values) + "))")
    if comment:
        lines += ["# " + c for c in comment.splitlines()]
    return "\n".join(lines)
