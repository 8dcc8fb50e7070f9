"""The gradient graph of every differentiable op-records row, compiled by every backend,
matches the reference backend (values of the gradients, not just of the forward pass)."""

from __future__ import annotations

import numpy as np
import pytest

import gnomon
import gnomon.tensor as gt
from gnomon.testing import available_modes, compare_backends
from tests.records import all_records
from tests.test_op_records import _inputs

# Random rows are left out: their draws (and so their reparameterized gradients) differ between
# backends; tests/random/test_gradients.py checks them on every backend.
ROWS = [r for r in all_records() if r.grad >= 1 and not r.random]
MODES = [m for m in available_modes() if m != "numpy"]
CASES = [(m, r) for m in MODES for r in ROWS]


@pytest.mark.parametrize(("mode", "rec"), CASES, ids=[f"{m}-{r.name}" for m, r in CASES])
def test_gradient_graph_matches_reference(mode, rec) -> None:  # type: ignore[no-untyped-def]
    values = _inputs(rec, 0)
    idx = [k for k, v in enumerate(values) if v.dtype.kind == "f"
           and (rec.grad_wrt is None or k in rec.grad_wrt)]
    if not idx:
        pytest.skip("no float input to differentiate")
    rng = np.random.default_rng(0)

    def grads(*xs):  # type: ignore[no-untyped-def]
        outs = rec.fn(*xs)
        outs = list(outs) if isinstance(outs, list | tuple) else [outs]
        outs = [o for o in outs if o.dtype[0] == "f"]
        if not outs:
            pytest.skip("no float output")
        vals = gnomon.function(list(xs), outs, mode="numpy", on_unused_input="ignore")(*values)
        vals = vals if isinstance(vals, list) else [vals]
        cost = gt.add(*[gt.sum(o * gt.constant(rng.standard_normal(np.shape(v)).astype(o.dtype)))
                        for o, v in zip(outs, vals, strict=True)], 0.0)
        return gnomon.grad(cost, [xs[k] for k in idx], disconnected_inputs="ignore")

    rtol = 1e-4 if any(v.dtype == np.float32 for v in values) else None
    compare_backends(grads, values, modes=[mode], rtol=rtol if rec.rtol is None else rec.rtol,
                     atol=rec.atol)
