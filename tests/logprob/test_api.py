"""The user API of gnomon.logprob: conditioning, sums, value checks, error messages."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.stats as st

import gnomon
import gnomon.logprob as glp
import gnomon.random as gr
import gnomon.tensor as gt
from gnomon.errors import GnomonTypeError, GnomonValueError


def test_conditional_logp_conditions_on_the_values_of_the_others() -> None:
    mu = gr.normal(1.0, 2.0)
    sigma = gr.exponential(1.5)
    y = gr.normal(mu, sigma, size=4)
    mu_v, s_v, y_v = gt.dscalar("mu_v"), gt.dscalar("s_v"), gt.dvector("y_v")
    terms = glp.conditional_logp({mu: mu_v, sigma: s_v, y: y_v})
    assert list(terms) == [mu_v, s_v, y_v]
    f = gnomon.function([mu_v, s_v, y_v], [terms[mu_v], terms[s_v], terms[y_v]], mode="numpy")
    yv = np.array([0.3, -1.0, 2.5, 0.0])
    a, b, c = f(0.7, 0.9, yv)
    np.testing.assert_allclose(a, st.norm(1.0, 2.0).logpdf(0.7))
    np.testing.assert_allclose(b, st.expon(scale=1.5).logpdf(0.9))
    np.testing.assert_allclose(c, st.norm(0.7, 0.9).logpdf(yv))
    joint = glp.joint_logp({mu: mu_v, sigma: s_v, y: y_v})
    got = gnomon.function([mu_v, s_v, y_v], joint, mode="numpy")(0.7, 0.9, yv)
    np.testing.assert_allclose(got, a + b + c.sum())


def test_joint_logp_gradient_flows_through_the_values() -> None:
    mu = gr.normal(0.0, 1.0)
    y = gr.normal(mu, 1.0, size=3)
    mu_v, y_v = gt.dscalar("mu_v"), gt.dvector("y_v")
    lp = glp.joint_logp({mu: mu_v, y: y_v})
    g = gnomon.function([mu_v, y_v], gnomon.grad(lp, mu_v), mode="numpy")
    yv = np.array([1.0, 2.0, 3.0])
    np.testing.assert_allclose(g(0.5, yv), -0.5 + np.sum(yv - 0.5))


def test_joint_logp_sum_false_lists_the_terms() -> None:
    x = gr.normal(0.0, 1.0, size=2)
    x_v = gt.dvector("x_v")
    terms = glp.joint_logp({x: x_v}, sum=False)
    assert isinstance(terms, list) and len(terms) == 1 and terms[0].ndim == 1


def test_unvalued_parent_is_an_error_naming_it() -> None:
    mu = gr.normal(0.0, 1.0)
    mu.name = "mu"
    y = gr.normal(mu, 1.0)
    with pytest.raises(GnomonValueError, match=r"(?s)'mu'.*no value variable.*Hint:"):
        glp.conditional_logp({y: gt.dscalar("y_v")})


def test_logp_of_a_parameter_that_is_a_draw_stays_symbolic() -> None:
    mu = gr.normal(0.0, 1.0, rng=gnomon.shared(np.random.default_rng(3)))
    y = gr.normal(mu, 1.0)
    lp = glp.logp(y, 0.0)
    m = gnomon.function([], [lp, mu], mode="numpy")()
    np.testing.assert_allclose(m[0], st.norm(m[1], 1.0).logpdf(0.0))


def test_wrong_value_dtype_kind_and_rank() -> None:
    x = gr.normal(0.0, 1.0, size=3)
    with pytest.raises(GnomonTypeError, match=r"(?s)continuous.*int64.*test_api.py.*Hint:"):
        glp.logp(x, gt.lvector("v"))
    with pytest.raises(GnomonTypeError, match=r"(?s)2 dimension\(s\).*has 1.*Hint:"):
        glp.logp(x, gt.dmatrix("v"))
    with pytest.raises(GnomonValueError, match=r"(?s)static shapes differ.*Hint:.*\(3,\)"):
        glp.logp(x, gt.tensor(dtype="float64", shape=(4,), name="v4"))
    k = gr.poisson(3.0)
    with pytest.raises(GnomonTypeError, match=r"(?s)discrete.*float64.*Hint:"):
        glp.logp(k, gt.dscalar("v"))
    with pytest.raises(GnomonTypeError, match=r"integer values"):
        glp.logp(k, 1.5)


def test_not_measurable_names_op_variable_line_and_supported() -> None:
    x = gr.normal(0.0, 1.0)
    y = gt.cosh(x)
    y.name = "y"
    with pytest.raises(glp.NotMeasurableError,
                       match=r"(?s)'y'.*cosh.*test_api.py.*y = gt.cosh\(x\).*Normal.*Hint:"):
        glp.logp(y, 0.0)
    with pytest.raises(glp.NotMeasurableError, match=r"(?s)not a random variable.*root"):
        glp.logp(gt.dscalar("z"), 0.0)


def test_check_parameters_policy() -> None:
    s = gt.dscalar("s")
    x = gr.normal(0.0, s, size=2)
    v = gt.dvector("v")
    f = gnomon.function([s, v], glp.logp(x, v), mode="numpy")
    np.testing.assert_allclose(f(2.0, np.zeros(2)), st.norm(0, 2).logpdf(np.zeros(2)))
    with pytest.raises(GnomonValueError, match=r"(?s)normal: invalid parameter: scale > 0.*"
                                                r"test_api.py"):
        f(-1.0, np.zeros(2))
    g = gnomon.function([s, v], glp.logp(x, v, check_parameters=False), mode="numpy")
    assert np.all(g(-1.0, np.zeros(2)) == -np.inf)
    q = gt.dvector("q")
    h = gnomon.function([s, q], glp.icdf(gr.exponential(s, size=2), q, check_parameters=False),
                        mode="numpy")
    assert np.all(np.isnan(h(-1.0, np.array([0.5, 0.5]))))
