"""CheckParameters and the check_parameters policy on every backend."""

from __future__ import annotations

import numpy as np
import pytest

import gnomon
import gnomon.logprob as glp
import gnomon.random as gr
import gnomon.tensor as gt
from gnomon.errors import GnomonValueError
from gnomon.logprob.check import CheckParameters
from gnomon.testing import available_modes


@pytest.mark.parametrize("mode", available_modes())
def test_invalid_parameters_raise_or_give_nan_on_jax(mode: str) -> None:
    # (cheap formulas: this test compiles once per backend)
    a, b = gt.dvector("a"), gt.dvector("b")
    v = gt.dvector("v")
    x = gr.uniform(a, b)
    f = gnomon.function([a, b, v], glp.logp(x, v), mode=mode)
    ok = f(np.array([0.0, 1.0]), np.array([2.0, 5.0]), np.array([0.5, 0.5]))
    np.testing.assert_allclose(ok, [np.log(0.5), -np.inf])
    bad = (np.array([0.0, 1.0]), np.array([2.0, -1.0]), np.array([0.5, 0.5]))
    if mode == "jax":
        assert np.all(np.isnan(f(*bad)))
    else:
        with pytest.raises(GnomonValueError, match=r"(?s)uniform: invalid parameter: low < high"
                                                    r".*test_check.py.*glp.logp\(x, v\)"):
            f(*bad)


@pytest.mark.parametrize("mode", available_modes())
def test_unchecked_parameters_give_minus_inf(mode: str) -> None:
    a, b = gt.dvector("a"), gt.dvector("b")
    v, q = gt.dvector("v"), gt.dvector("q")
    x = gr.beta(a, b)
    f = gnomon.function([a, b, v, q], [glp.logp(x, v, check_parameters=False),
                                       glp.logcdf(x, v, check_parameters=False),
                                       glp.icdf(x, q, check_parameters=False)], mode=mode)
    lp, lc, iq = f(np.array([2.0, 3.0]), np.array([1.0, -1.0]), np.array([0.5, 0.5]),
                   np.array([0.5, 0.5]))
    assert lp[1] == -np.inf and lc[1] == -np.inf and np.isnan(iq[1])
    np.testing.assert_allclose([lp[0], lc[0], iq[0]], [np.log(1.0), np.log(0.25), 0.5 ** 0.5],
                               atol=1e-12)


def test_known_valid_constant_parameters_add_no_check() -> None:
    v = gt.dvector("v")
    lp = glp.logp(gr.normal(0.0, 2.0, size=3), v)
    from gnomon.graph.traversal import toposort

    assert not any(isinstance(n.op, CheckParameters) for n in toposort([lp]))


def test_check_op_is_not_folded_and_passes_gradients() -> None:
    s = gt.dscalar("s")
    out = CheckParameters("s must be positive")(s * 3.0, gt.gt(gt.as_tensor(-1.0), 0.0))
    f = gnomon.function([s], out, mode="numpy")  # compiling must not raise
    with pytest.raises(GnomonValueError, match="s must be positive"):
        f(1.0)
    g = gnomon.function([s], gnomon.grad(CheckParameters("ok")(s * s, gt.gt(s, 0.0)), s),
                        mode="numpy")
    assert float(g(2.0)) == 4.0
