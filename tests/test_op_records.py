"""Run every row of the op-records table: reference values, gradients, other backends."""

from __future__ import annotations

import zlib

import numpy as np
import pytest

import gnomon
from gnomon.testing import available_modes, check_grads, compare_backends, tolerance
from tests.records import OpRecord, all_records

RECORDS = all_records()
CASES = [(r, i) for r in RECORDS for i in range(len(r.cases))]
IDS = [f"{r.name}-{i}" for r, i in CASES]


def _inputs(rec: OpRecord, case: int) -> list[np.ndarray]:
    # crc32, not hash(): hash() of a string changes per process, so a failure could not be
    # reproduced with the same inputs
    rng = np.random.default_rng(zlib.crc32(f"{rec.name}-{case}".encode()))
    return [a.draw(rng) for a in rec.cases[case]]


def _symbolic(rec: OpRecord, case: int, values: list[np.ndarray]) -> list:
    import gnomon.tensor as gt

    return [
        gt.tensor(f"x{k}", dtype=v.dtype, shape=v.shape if a.static else (None,) * v.ndim)
        for k, (a, v) in enumerate(zip(rec.cases[case], values, strict=True))
    ]


def _as_list(x):  # type: ignore[no-untyped-def]
    return list(x) if isinstance(x, list | tuple) else [x]


@pytest.mark.parametrize(("rec", "case"), CASES, ids=IDS)
def test_reference(rec: OpRecord, case: int) -> None:
    values = _inputs(rec, case)
    xs = _symbolic(rec, case, values)
    outs = _as_list(rec.fn(*xs))
    gnomon.graph.verify(outs)
    got = _as_list(gnomon.function(xs, outs, mode="numpy", on_unused_input="ignore")(*values))
    want = _as_list(rec.ref(*[v.copy() for v in values]))
    assert len(got) == len(want)
    for g, w in zip(got, want, strict=True):
        w = np.asarray(w)
        assert g.shape == w.shape, f"shape {g.shape} != numpy's {w.shape}"
        assert g.dtype == w.dtype, f"dtype {g.dtype} != numpy's {w.dtype}"
        rt, at = tolerance(w.dtype)
        np.testing.assert_allclose(g, w, rtol=rec.rtol or rt, atol=rec.atol or at)


GRAD_CASES = [(r, i) for r, i in CASES if r.grad >= 1]


@pytest.mark.parametrize(("rec", "case"), GRAD_CASES, ids=[f"{r.name}-{i}" for r, i in GRAD_CASES])
def test_grad(rec: OpRecord, case: int) -> None:
    values = _inputs(rec, case)
    if not any(v.dtype.kind == "f" for v in values):
        pytest.skip("no float input in this case")
    check_grads(rec.fn, values, order=1, wrt=rec.grad_wrt, rtol=rec.grad_rtol)
    if rec.grad >= 2 and all(v.dtype != np.float32 for v in values if v.dtype.kind == "f"):
        check_grads(rec.fn, values, order=2, wrt=rec.grad_wrt, rtol=rec.grad_rtol,
                    modes=("pullback",))


OTHER = [m for m in available_modes() if m != "numpy"]
BACKEND_CASES = [(m, r, i) for m in OTHER for r, i in CASES]


@pytest.mark.parametrize(("mode", "rec", "case"), BACKEND_CASES,
                         ids=[f"{m}-{r.name}-{i}" for m, r, i in BACKEND_CASES])
def test_backend_matches_reference(mode: str, rec: OpRecord, case: int) -> None:
    values = _inputs(rec, case)
    if rec.random:
        # draws: each backend has its own stream, so shapes and dtypes must match, not values
        xs = _symbolic(rec, case, values)
        outs = _as_list(rec.fn(*xs))
        want = _as_list(gnomon.function(xs, outs, mode="numpy", on_unused_input="ignore")(*values))
        got = _as_list(gnomon.function(xs, outs, mode=mode, on_unused_input="ignore")(*values))
        for g, w in zip(got, want, strict=True):
            assert (np.shape(g), np.asarray(g).dtype) == (w.shape, w.dtype)
        return
    compare_backends(rec.fn, values, modes=[mode], rtol=rec.rtol, atol=rec.atol)


# Op classes without a row of their own, and why. Everything else must appear in some row's
# ``ops``, so a new op cannot skip the reference / gradient / backend checks of this table.
NO_ROW = {
    "Composite": "built only by the fusion rewrite (tests/rewrite/test_fusion.py)",
    "ScalarConstant": "a constant inside a Composite (tests/rewrite/test_fusion.py)",
    "VariadicScalarOp": "the shared base of Add and Mul, not an op on its own",
    "_FlatRV": "gnomon.ppl's improper flat distribution has no draws (every backend raises: "
               "tests/ppl/test_model_layer.py)",
    "_HalfFlatRV": "as _FlatRV",
}


def test_every_op_class_has_a_row() -> None:
    import importlib
    import inspect
    import pkgutil
    import sys

    from gnomon.graph.op import Op
    from gnomon.scalar.basic import ScalarOp

    for m in pkgutil.walk_packages(gnomon.__path__, "gnomon."):
        if ".backends." not in m.name and not m.name.endswith("__main__"):
            importlib.import_module(m.name)

    def concrete(base: type) -> set[type]:
        # private classes too (a leading underscore is no exemption); classes made at run time
        # (CustomDist makes one per call) are not module attributes and share their base's row
        out, todo = set(), list(base.__subclasses__())
        while todo:
            c = todo.pop()
            todo.extend(c.__subclasses__())
            mod = sys.modules.get(c.__module__)
            if (c.__module__.startswith("gnomon.") and getattr(mod, c.__qualname__, None) is c
                    and not inspect.isabstract(c)):
                out.add(c)
        return out

    from gnomon.logprob.rewriting import MeasurableOp

    covered = {op for r in RECORDS for op in r.ops}
    # Measurable ops live only in the graph a density is derived from (strip_measurable turns
    # each back into the op it replaced); tests/logprob covers them.
    measurable = concrete(MeasurableOp) | {MeasurableOp}
    missing = {c.__name__ for c in (concrete(Op) | concrete(ScalarOp)) - measurable
               if c not in covered}
    assert missing <= set(NO_ROW), f"op classes without a row: {sorted(missing - set(NO_ROW))}"
    stale = set(NO_ROW) - missing
    assert not stale, f"NO_ROW lists classes that have rows or no longer exist: {sorted(stale)}"
