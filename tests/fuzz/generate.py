"""Hypothesis strategies that draw fuzz cases, and the targeted cases the suite always runs.

A case is a chain of one to ``max_ops`` ops from :func:`tests.fuzz.catalog.catalog`: each op
takes its operands from earlier results (so ops compose) or from fresh inputs of any dtype.
Steps that graph building refuses (a :class:`~gnomon.errors.GnomonError`, e.g. an integer op on
floats) are dropped while drawing, so every case builds. Each case carries several value sets,
so one compilation serves many inputs: shapes change between sets (empty and length-1
dimensions included), values mix edge cases with the records' own input generators.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import numpy as np
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis import strategies as st

from tests.fuzz.catalog import DTYPES, FuzzOp, by_name, catalog, namespace
from tests.fuzz.spec import Ref, Spec, Step, graph_code
from tests.records import Arg

#: how often each op family is picked (elementwise ops are the most numerous and the cheapest)
GROUP_WEIGHTS: dict[str, int] = {
    "elemwise": 10, "reduce": 4, "shape": 3, "indexing": 3, "sort": 1, "creation": 1,
    "control": 1, "linalg": 1, "blas": 1, "support": 1,
}
INT_DTYPES = tuple(d for d in DTYPES if d[0] in "iu")


def edge_values(dtype: str) -> list[Any]:
    """Values of ``dtype`` where implementations tend to differ."""
    dt = np.dtype(dtype)
    if dt.kind == "b":
        return [False, True]
    if dt.kind in "iu":
        info = np.iinfo(dt)
        cands = [info.min, info.min + 1, -2, -1, 0, 1, 2, 3, 7, info.max - 1, info.max,
                 2**7, 2**8, 2**15, 2**16, 2**24 + 1, 2**31, 2**32, 2**53 + 1, 2**63 - 1]
        return sorted({int(c) for c in cands if info.min <= c <= info.max})
    part = np.dtype("float32") if dt.name in ("float32", "complex64") else np.dtype("float64")
    fi = np.finfo(part)
    cands = [0.0, -0.0, 1.0, -1.0, 0.5, -0.5, 2.0, -2.0, 3.0, 0.1, 100.0, np.nan, np.inf,
             -np.inf, fi.max, -fi.max, fi.tiny, -fi.tiny, fi.smallest_subnormal,
             -fi.smallest_subnormal, fi.eps, 1e30, -1e30, 1e-30, 88.8, -104.0, 710.0, -746.0,
             2.0**24 + 1, 2.0**31, -(2.0**31), 2.0**63, -(2.0**63), 2.0**64, 1e300, 1e-300]
    with np.errstate(all="ignore"):
        vals = [float(part.type(c)) for c in cands]
    return vals


def _float_strategy(width: int) -> st.SearchStrategy[float]:
    dt = "float32" if width == 32 else "float64"
    return st.one_of(st.sampled_from(edge_values(dt)), st.floats(-4, 4, width=width),
                     st.floats(width=width))


def elements(dtype: str, small: bool = False) -> st.SearchStrategy[Any]:
    """Scalars of ``dtype``: edge values, small values and anything representable.
    ``small``: sizes and counts, kept in ``[-2, 6]``."""
    dt = np.dtype(dtype)
    if dt.kind == "b":
        return st.booleans()
    if dt.kind in "iu":
        info = np.iinfo(dt)
        lo, hi = max(int(info.min), -2), min(int(info.max), 6)
        if small:
            return st.integers(lo, hi)
        return st.one_of(st.sampled_from(edge_values(dtype)), st.integers(lo, hi),
                         st.integers(int(info.min), int(info.max)))
    if small:
        return st.sampled_from([-1.5, -1.0, 0.0, 0.5, 1.0, 2.0, 3.5])
    if dt.kind == "c":
        part = _float_strategy(32 if dt.name == "complex64" else 64)
        return st.builds(complex, part, part)
    return _float_strategy(32 if dt.name == "float32" else 64)


@dataclasses.dataclass
class _Input:
    """A fresh input while a case is drawn: its template shape and where it came from."""

    dtype: str
    shape: tuple[int, ...]
    arg: Arg | None       # the record's generator for it, if any
    small: bool           # a size or count
    free_rank: bool       # an elementwise operand (its rank and shape may vary)


def _groups() -> dict[str, list[FuzzOp]]:
    out: dict[str, list[FuzzOp]] = {}
    for op in catalog():
        out.setdefault(op.group, []).append(op)
    return out


def _pick_dtype(draw: Callable[..., Any], op: FuzzOp, k: int, arg: Arg) -> str:
    if op.group != "elemwise" and k > 0 and arg.kind in ("int", "bool"):
        # an index, a mask or a count: keep the kind, vary the width
        return "bool" if arg.kind == "bool" else draw(st.sampled_from(INT_DTYPES))
    if op.group in ("linalg", "blas") and draw(st.booleans()):
        return arg.dtype
    return draw(st.one_of(st.just(arg.dtype), st.sampled_from(DTYPES)))


@st.composite
def specs(draw: Callable[..., Any], max_ops: int = 4, max_value_sets: int = 6,
          groups: tuple[str, ...] | None = None) -> Spec:
    """A case: a graph of 1 to ``max_ops`` ops and 1 to ``max_value_sets`` value sets."""
    by_group = _groups()
    names = [g for g in GROUP_WEIGHTS if g in by_group and (groups is None or g in groups)]
    weighted = [g for g in names for _ in range(GROUP_WEIGHTS[g])]
    inputs: list[_Input] = []
    steps: list[Step] = []
    results: list[tuple[Ref, int]] = []  # (ref, ndim) of step outputs
    n_ops = draw(st.integers(1, max_ops))
    for _ in range(n_ops):
        group = draw(st.sampled_from(weighted))
        op = draw(st.sampled_from(by_group[group]))
        case = draw(st.sampled_from(op.cases))
        args: list[Ref] = []
        n_new = 0
        for k, arg in enumerate(case):
            rank = len(arg.shape)
            reusable = [r for r, nd in results if op.group == "elemwise" or nd == rank]
            if reusable and draw(st.integers(0, 3)) < (3 if k == 0 else 1):
                # mostly chain on the latest result, sometimes branch from an earlier one
                latest = draw(st.integers(0, 2)) > 0
                args.append(reusable[-1] if latest else draw(st.sampled_from(reusable)))
                continue
            dtype = _pick_dtype(draw, op, k, arg)
            shape = arg.shape
            free = op.group == "elemwise"
            if free and draw(st.integers(0, 3)) == 0:
                shape = shape[len(shape) - draw(st.integers(0, len(shape))):]
            inputs.append(_Input(dtype, tuple(shape), arg, op.small_ints(k), free))
            args.append((-1, len(inputs) - 1))
            n_new += 1
        trial = Spec([(i.dtype, len(i.shape)) for i in inputs], [*steps, Step(op.name,
                     tuple(args))], [])
        try:
            outs = _build_last(trial)
        except Exception:
            del inputs[len(inputs) - n_new:]
            continue
        n_out = len(outs) if isinstance(outs, list | tuple) else 0
        steps.append(Step(op.name, tuple(args), n_out))
        j = len(steps) - 1
        if n_out:
            results += [((j, o), outs[o].ndim) for o in range(n_out)
                        if hasattr(outs[o], "ndim")]
        else:
            results.append(((j, 0), outs.ndim))
    if not steps:
        # every drawn op refused its operands: fall back to one negation of one input
        inputs = [_Input("float64", (3,), None, False, True)]
        steps = [Step("neg", ((-1, 0),))]
    spec = Spec([(i.dtype, len(i.shape)) for i in inputs], steps, _sinks(steps))
    n_sets = draw(st.integers(1, max_value_sets))
    spec.values = [draw(value_set(inputs)) for _ in range(n_sets)]
    _drop_unused_inputs(spec)
    return spec


def _build_last(spec: Spec) -> Any:
    """Build ``spec`` and return the value(s) of its last step (a variable or a list)."""
    env: dict[str, Any] = {}
    exec("\n".join(graph_code(spec)), namespace(), env)
    out = env[f"t{len(spec.steps) - 1}"]
    return list(out) if isinstance(out, tuple) else out


def _sinks(steps: list[Step]) -> list[Ref]:
    """Outputs of the graph: the results no later step uses."""
    used = {r for s in steps for r in s.args}
    out: list[Ref] = []
    for j, s in enumerate(steps):
        refs = [(j, o) for o in range(s.n_out)] if s.n_out else [(j, 0)]
        out += [r for r in refs if r not in used]
    return out


def _drop_unused_inputs(spec: Spec) -> None:
    """Inputs no step reads (their step was refused): remove them, renumber the rest."""
    used = sorted({o for s in spec.steps for j, o in s.args if j < 0})
    if len(used) == len(spec.inputs):
        return
    new = {old: i for i, old in enumerate(used)}
    spec.inputs = [spec.inputs[k] for k in used]
    spec.steps = [Step(s.op, tuple((j, new[o]) if j < 0 else (j, o) for j, o in s.args),
                       s.n_out) for s in spec.steps]
    spec.values = [[vs[k] for k in used] for vs in spec.values]


@st.composite
def value_set(draw: Callable[..., Any], inputs: list[_Input]) -> list[np.ndarray]:
    """One array per input. Free-rank inputs share a drawn base shape (with some dimensions
    set to 1 for broadcasting); the others keep their record's shape with each length mapped
    the same way (sometimes to 0 or 1)."""
    base = draw(st.lists(st.sampled_from([0, 1, 2, 3, 3, 4]), min_size=4, max_size=4))
    lengths = sorted({d for i in inputs for d in i.shape})
    remap = {d: draw(st.sampled_from([d, d, d, 0, 1])) for d in lengths}
    out = []
    for inp in inputs:
        if inp.free_rank:
            tail = base[len(base) - len(inp.shape):] if inp.shape else []
            shape = tuple(1 if draw(st.integers(0, 4)) == 0 else d for d in tail)
        else:
            shape = tuple(remap[d] for d in inp.shape)
        out.append(draw(array(inp.dtype, shape, inp.arg, inp.small)))
    return out


@st.composite
def array(draw: Callable[..., Any], dtype: str, shape: tuple[int, ...], arg: Arg | None,
          small: bool) -> np.ndarray:
    """An array of ``dtype`` and ``shape``: from the record's generator (``arg``), or edge
    values mixed with ordinary ones."""
    n = int(np.prod(shape))
    if arg is not None and not small and draw(st.integers(0, 3)) == 0:
        seed = draw(st.integers(0, 2**32 - 1))
        try:
            a = np.asarray(dataclasses.replace(arg, shape=shape).draw(
                np.random.default_rng(seed)))
            if a.dtype.kind == "c" and np.dtype(dtype).kind != "c":
                a = a.real
            with np.errstate(all="ignore"):
                return a.astype(dtype)
        except Exception:
            pass
    items = draw(st.lists(elements(dtype, small), min_size=n, max_size=n))
    with np.errstate(all="ignore"):
        return np.array(items, dtype=dtype).reshape(shape)


def generate(n: int, *, seed: int | None = None, max_ops: int = 4, max_value_sets: int = 6,
             groups: tuple[str, ...] | None = None) -> list[Spec]:
    """Draw ``n`` cases with hypothesis: derandomized (the same every run) when ``seed`` is
    ``None``, else from ``seed``."""
    out: list[Spec] = []

    @settings(max_examples=n, database=None, deadline=None, derandomize=seed is None,
              phases=[Phase.generate], suppress_health_check=list(HealthCheck))
    @given(st.data())
    def collect(data: st.DataObject) -> None:
        out.append(data.draw(specs(max_ops, max_value_sets, groups)))

    run = collect if seed is None else hypothesis_seed(seed)(collect)
    run()
    return out


# --- targeted cases: the input classes the suite always checks ---------------------------------


def _spec(inputs: list[tuple[str, int]], steps: list[Step],
          values: list[list[Any]]) -> Spec:
    arrays = [[np.asarray(v, dtype=d) for v, (d, _) in zip(vs, inputs, strict=True)]
              for vs in values]
    return Spec(inputs, steps, _sinks(steps), arrays)


def _wrap(values: list[int], dtype: str) -> np.ndarray:
    """Integers as ``dtype``, wrapping modulo 2**bits (-1 is the maximum of an unsigned type)."""
    bits = 8 * np.dtype(dtype).itemsize
    if np.dtype(dtype).kind == "u":
        values = [v % 2**bits for v in values]
    return np.array(values, dtype=dtype)


#: dtype pairs of the targeted mixed-dtype case (NumPy's promotion table at its corners)
MIXED_PAIRS = (("int64", "float32"), ("uint64", "int64"), ("int8", "uint8"), ("bool", "int8"),
               ("uint64", "float32"), ("int32", "complex64"))


def _big(dtype: str) -> np.ndarray:
    """Values that lose precision or change sign when converted to a narrower type."""
    dt = np.dtype(dtype)
    if dt.kind == "b":
        return np.array([True, False, True])
    if dt.kind in "iu":
        info = np.iinfo(dt)
        return _wrap([min(2**24 + 1, int(info.max)), -1, int(info.max)], dtype)
    return np.array([2**24 + 1, -1, 2**53 + 1]).astype(dtype)


def targeted() -> list[Spec]:
    """Cases aimed at fragile spots, run by the suite besides the drawn ones: integer ``//``
    and ``%`` at INT_MIN with -1 and 0, mixed-dtype arithmetic where NumPy promotes to a wider
    type than either operand, ``scan`` with a negative ``n_steps``, out-of-bounds indices.
    Few graphs, many values: compilation is what costs time."""
    out: list[Spec] = []
    # a // b and a % b in int32 and int64, in one graph
    inputs = [("int32", 1), ("int32", 1), ("int64", 1), ("int64", 1)]
    steps = [Step(name, ((-1, a), (-1, a + 1))) for a in (0, 2) for name in ("floor_div", "mod")]
    rows = [([7, -7, 0, "min"], [2, 2, 3, 1]), (["min", "min", 5, -5], [-1, -1, -1, -1]),
            ([5, -5, "min", "max"], [0, 0, 0, 0]), (["max", "min", -1, 0], ["min", "max", 1, -1])]
    vals = []
    for a, b in rows:
        vs: list[Any] = []
        for d in ("int32", "int64"):
            info = np.iinfo(d)
            sub = {"min": int(info.min), "max": int(info.max)}
            vs += [[sub.get(x, x) for x in a], [sub.get(x, x) for x in b]]
        vals.append(vs)
    out.append(_spec(inputs, steps, vals))
    # every other pair has a 0-d first operand (NumPy 2: a 0-d array is not a weak scalar)
    inputs = [(d, 0 if k == 0 and i % 2 else 1) for i, pair in enumerate(MIXED_PAIRS)
              for k, d in enumerate(pair)]
    steps = [Step("add", ((-1, 2 * i), (-1, 2 * i + 1))) for i in range(len(MIXED_PAIRS))]
    rows = [[_big(d) for d, _ in inputs],
            [np.array([0.5, 3, 2**7 - 1]).astype(d) for d, _ in inputs]]
    out.append(_spec(inputs, steps, [[v if nd else v[j] for v, (_, nd) in zip(row, inputs)]
                                     for row in rows for j in (0, 2)]))
    out.append(_spec([("float64", 0), ("int64", 0)], [Step("scan_nsteps", ((-1, 0), (-1, 1)))],
                     [[1.0, n] for n in (-1, 0, 2, -3)]))
    out.append(_spec([("float64", 2), ("int64", 0)],
                     [Step("getitem_symbolic_int", ((-1, 0), (-1, 1)))],
                     [[np.ones((2, 3)), i] for i in (1, -2, 2, -3, np.iinfo("int64").min)]))
    for s in out:
        for step in s.steps:
            assert step.op in by_name(), step.op
    return out
