"""Run every row of the op-records table: reference values, gradients, other backends."""

from __future__ import annotations

import zlib
from typing import Any

import numpy as np
import pytest

import gnomon
from gnomon.testing import available_modes, check_grads, tolerance
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
ROWS = [r for r in RECORDS if not r.random]
BACKEND_ROWS = [(m, r) for m in OTHER for r in ROWS]


@pytest.mark.parametrize(("mode", "rec"), BACKEND_ROWS,
                         ids=[f"{m}-{r.name}" for m, r in BACKEND_ROWS])
def test_backend_matches_reference(mode: str, rec: OpRecord) -> None:
    """Every case of the row, each on its own inputs, in one program per backend.

    The kernels are those of separate programs (a kernel is a function of its node's op and
    input types; the cases' subgraphs share no input, so no rewrite joins them), but the
    backend compiles one program per row instead of one per case (cold, this saved about 6 %
    of the Numba rows' CPU time and a quarter of the JAX rows'). Stricter than
    compare_backends: a program Numba cannot compile fails the row (instead of warning and
    running on the reference backend), and so does a backend that writes into an input.
    """
    row = _RowProgram(mode, rec, range(len(rec.cases)))
    if len(rec.cases) == 1:
        row.check()
        return
    if row.nopython and not row.check():
        return
    # A case that runs a node in Python makes the whole Numba program a Python loop over
    # kernels, and one that jax.jit cannot trace makes the whole JAX program run op by op;
    # compile each case alone, so that the others are still checked as compiled programs.
    for case in range(len(rec.cases)):
        _RowProgram(mode, rec, [case]).check()


class _RowProgram:
    """The cases of one row compiled in one function of ``mode``, and their reference values."""

    def __init__(self, mode: str, rec: OpRecord, cases: Any) -> None:
        import warnings

        import gnomon.tensor as gt
        from gnomon.config import config

        xs, outs, self.values, self.where = [], [], [], []
        for case in cases:
            values = _inputs(rec, case)
            # dynamic shapes, as compare_backends gives (the reference test covers static ones)
            cx = [gt.tensor(f"c{case}_x{k}", dtype=v.dtype, shape=(None,) * v.ndim)
                  for k, v in enumerate(values)]
            co = _as_list(rec.fn(*cx))
            xs += cx
            outs += co
            self.values += values
            self.where += [(case, k) for k in range(len(co))]
        self.rec, self.mode = rec, mode
        self.inputs = [v.copy() for v in self.values]
        self.ref = _as_list(gnomon.function(xs, outs, mode="numpy",
                                            on_unused_input="ignore")(*self.values))
        with config.change(tiered="off"), warnings.catch_warnings():
            # a Numba compile failure must fail the row, not run it on the reference backend
            warnings.filterwarnings("error", "Numba could not compile", RuntimeWarning)
            self.f = gnomon.function(xs, outs, mode=mode, on_unused_input="ignore")
        state = getattr(self.f.compiled, "state", None)
        self.nopython = bool(getattr(state, "nopython", True))

    def check(self) -> bool:
        """Compare with the reference; True if the program fell back to running op by op
        (JAX: a node jax.jit cannot trace)."""
        import warnings

        with warnings.catch_warnings(record=True) as record:
            warnings.simplefilter("always")
            warnings.filterwarnings("error", "Numba could not compile", RuntimeWarning)
            got = _as_list(self.f(*self.values))
        fell_back = False
        for w in record:
            if w.category.__name__ == "JaxFallbackWarning":
                fell_back = True
            else:  # as if not recorded
                warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
        rec = self.rec
        for v, w in zip(self.values, self.inputs, strict=True):
            np.testing.assert_array_equal(v, w, err_msg=f"[{self.mode}] wrote into an input")
        for (case, k), g, r in zip(self.where, got, self.ref, strict=True):
            g, r = np.asarray(g), np.asarray(r)
            at = f"[{self.mode}] case {case} output {k}"
            assert g.dtype == r.dtype, f"{at}: dtype {g.dtype} != reference {r.dtype}"
            assert g.shape == r.shape, f"{at}: shape {g.shape} != reference {r.shape}"
            rt, a = tolerance(r.dtype)
            np.testing.assert_allclose(g, r, rtol=rec.rtol if rec.rtol is not None else rt,
                                       atol=rec.atol if rec.atol is not None else a,
                                       err_msg=f"{at} differs from the reference")
        return fell_back


DRAW_CASES = [(m, r, i) for m in OTHER for r in RECORDS if r.random for i in range(len(r.cases))]


@pytest.mark.parametrize(("mode", "rec", "case"), DRAW_CASES,
                         ids=[f"{m}-{r.name}-{i}" for m, r, i in DRAW_CASES])
def test_backend_draws_match_reference(mode: str, rec: OpRecord, case: int) -> None:
    # draws: each backend has its own stream, so shapes and dtypes must match, not values
    values = _inputs(rec, case)
    xs = _symbolic(rec, case, values)
    outs = _as_list(rec.fn(*xs))
    want = _as_list(gnomon.function(xs, outs, mode="numpy", on_unused_input="ignore")(*values))
    got = _as_list(gnomon.function(xs, outs, mode=mode, on_unused_input="ignore")(*values))
    for g, w in zip(got, want, strict=True):
        assert (np.shape(g), np.asarray(g).dtype) == (w.shape, w.dtype)


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
