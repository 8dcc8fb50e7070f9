"""``Model``: contexts, names, coords/dims, Data, Deterministic, Potential, initial points,
point_logps, debug, and the errors a modeller can act on."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.stats as st

import gnomon.ppl as pm
from gnomon.errors import GnomonError


def test_model_collects_variables():
    y = np.array([0.1, -0.2, 0.3])
    with pm.Model(coords={"obs": ["a", "b", "c"]}) as m:
        mu = pm.Normal("mu", 0.0, 1.0)
        s = pm.HalfNormal("s", 1.0)
        d = pm.Deterministic("twice", 2 * mu)
        pm.Potential("pen", -(mu ** 2))
        obs = pm.Normal("y", mu, s, observed=y, dims="obs")
    assert m.free_RVs == [mu, s] and m.observed_RVs == [obs]
    assert m.deterministics == [d] and len(m.potentials) == 1
    assert set(m.named_vars) == {"mu", "s", "twice", "pen", "y"}
    assert m["mu"] is mu and "twice" in m and m.coords["obs"] == ("a", "b", "c")
    point = {"mu": 0.5, "s_log__": np.log(2.0)}
    want = (st.norm.logpdf(0.5) + st.halfnorm.logpdf(2.0) + np.log(2.0) - 0.25
            + st.norm(0.5, 2.0).logpdf(y).sum())
    np.testing.assert_allclose(m.compile_logp(mode="numpy")(point), want, rtol=1e-12)
    terms = m.point_logps(point, round_vals=6)
    assert set(terms) == {"mu", "s", "y", "pen"}
    assert terms["pen"] == -0.25


def test_nested_models_prefix_names():
    with pm.Model() as outer:
        a = pm.Normal("a", 0.0, 1.0)
        with pm.Model("inner") as inner:
            b = pm.Normal("b", a, 1.0)
            with pm.Model("deep"):
                c = pm.HalfNormal("c", 1.0)
    assert b.name == "inner::b" and c.name == "inner::deep::c"
    assert outer.free_RVs == [a, b, c] and inner.free_RVs == [b, c]
    assert inner["b"] is b and outer["inner::b"] is b
    assert [v.name for v in outer.value_vars] == ["a", "inner::b", "inner::deep::c_log__"]


def test_data_and_set_data_change_predictions():
    with pm.Model() as m:
        x = pm.Data("x", np.array([1.0, 2.0, 3.0]))
        beta = pm.Normal("beta", 0.0, 1.0)
        pm.Normal("y", beta * x, 0.01, shape=x.shape[0])
    pm.set_data({"x": np.array([10.0, 20.0])}, model=m)
    post = {"beta": np.full((1, 3), 2.0)}
    pp = pm.sample_posterior_predictive(post, model=m, var_names=["y"], random_seed=1,
                                        return_inferencedata=False)
    assert pp["y"].shape == (1, 3, 2)
    np.testing.assert_allclose(pp["y"], np.broadcast_to([20.0, 40.0], (1, 3, 2)), atol=0.1)


def test_initial_point_uses_support_points_and_initvals():
    with pm.Model() as m:
        pm.Normal("a", 3.0, 1.0, shape=2)
        pm.Gamma("g", alpha=2.0, beta=4.0)           # mean 0.5
        pm.Beta("b", 1.0, 3.0)                       # mean 0.25
        pm.Uniform("u", -1.0, 3.0, initval=2.0)
        pm.Poisson("k", 4.5)
    ip = m.initial_point()
    np.testing.assert_allclose(ip["a"], [3.0, 3.0])
    np.testing.assert_allclose(ip["g_log__"], np.log(0.5))
    np.testing.assert_allclose(ip["b_logodds__"], np.log(0.25 / 0.75))
    np.testing.assert_allclose(ip["u_interval__"], np.log(3.0 / 1.0))  # (2 - -1) / (3 - 2)
    assert ip["k"] == 4 and ip["k"].dtype == np.int64


def test_point_and_debug_name_the_variable():
    with pm.Model() as m:
        s = pm.HalfNormal("s", 1.0)
        pm.Poisson("counts", s, observed=np.array([1, -2]))
    report = m.debug_report()
    assert "The log-density of 'counts' is -inf" in report
    assert "1 of 2 entries" in report and "outside the distribution's support" in report
    assert report.rstrip().splitlines()[-1].startswith("Hint: ")
    with pm.Model() as m2:
        s = pm.HalfNormal("s", 1.0)
        pm.Normal("y", 0.0, s, observed=[1.0])
    report = m2.debug_report({"s_log__": -1e4})
    assert "parameter scale: 0.0  <- invalid" in report and "scale > 0" in report


def test_find_map_refuses_a_start_with_zero_probability():
    with pm.Model() as m:
        lam = pm.Exponential("lam", 1.0)
        pm.Poisson("y", lam, observed=np.array([1, -3]))
    with pytest.raises(GnomonError) as e:
        pm.find_MAP(model=m)
    msg = str(e.value)
    assert "'y' is -inf" in msg and "test_model.py" in msg and "\nHint: " in msg


def test_errors_name_the_variable_and_the_line():
    with pm.Model():
        pm.Normal("x", 0.0, 1.0)
        with pytest.raises(GnomonError) as e:
            pm.Normal("x", 0.0, 1.0)
    assert "'x' is already used" in str(e.value) and "test_model.py" in str(e.value)
    assert "\nHint: " in str(e.value)

    with pm.Model(coords={"a": [1, 2]}):
        with pytest.raises(GnomonError) as e:
            pm.Normal("z", 0.0, 1.0, dims="nope")
    assert "'nope' is not in the model's coords" in str(e.value) and "Hint: " in str(e.value)

    with pm.Model():
        with pytest.raises(GnomonError) as e:
            pm.Normal("y", 0.0, 1.0, shape=3, observed=np.zeros(4))
    assert "observed data of 'y' has shape (4,)" in str(e.value) and "Hint: " in str(e.value)

    with pm.Model():
        with pytest.raises(GnomonError) as e:
            pm.MvNormal("y", np.zeros(2), np.eye(2), observed=np.array([[1.0, np.nan]]))
    msg = str(e.value)
    assert "1 row(s) with some entries missing" in msg and "imputes whole rows" in msg
    assert "test_model.py" in msg and "Hint: " in msg

    with pm.Model():
        d = pm.Data("d", np.array([1.0, np.nan, 2.0]))
        with pytest.raises(GnomonError, match="1 missing value"):
            pm.Normal("yd", 0.0, 1.0, observed=d)

    with pytest.raises(TypeError, match="No model on context stack"):
        pm.Normal("x", 0.0, 1.0)
    with pm.Model():
        with pytest.raises(GnomonError, match="pass only one of sigma, tau"):
            pm.Normal("x", 0.0, sigma=1.0, tau=1.0)
        with pytest.raises(GnomonError, match="first argument must be the variable's name"):
            pm.Normal(0.0, 1.0)


def test_dims_with_data_follow_set_data():
    with pm.Model() as m:
        x = pm.Data("x", np.arange(3.0), dims="obs")
        b = pm.Normal("b", 0.0, 1.0)
        pm.Normal("y", b * x, 1.0, dims="obs")
    assert m.initial_point()["b"] == 0.0
    pm.set_data({"x": np.arange(5.0)}, model=m)
    d = pm.sample_prior_predictive(3, model=m, random_seed=0, return_inferencedata=False)
    assert d["y"].shape == (3, 5)


def test_transform_argument_and_ordered():
    with pm.Model() as m:
        x = pm.Normal("x", 0.0, 1.0, shape=3, transform=pm.distributions.transforms.ordered,
                      initval=np.array([-1.0, 0.0, 1.0]))
        pm.Exponential("e", 1.0, default_transform=None)
    assert [v.name for v in m.value_vars] == ["x_ordered__", "e"]
    ip = m.initial_point()
    np.testing.assert_allclose(ip["x_ordered__"], [-1.0, 0.0, 0.0])
    assert m.rvs_to_transforms[x] is not None


def test_total_size_scales_the_minibatch_density():
    y = np.array([0.5, -0.5])
    with pm.Model() as m:
        mu = pm.Normal("mu", 0.0, 1.0)
        pm.Normal("y", mu, 1.0, observed=y, total_size=100)
    want = st.norm.logpdf(0.2) + 50 * st.norm(0.2, 1).logpdf(y).sum()
    np.testing.assert_allclose(m.compile_logp(mode="numpy")({"mu": 0.2}), want, rtol=1e-12)


def test_missing_observations_are_imputed():
    y = np.array([1.0, np.nan, 3.0, np.nan])
    with pm.Model() as m:
        mu = pm.Normal("mu", 0.0, 10.0)
        s = pm.HalfNormal("s", 2.0)
        with pytest.warns(UserWarning, match="missing values and will be automatically imputed"):
            pm.Normal("y", mu + np.arange(4.0), s, observed=y)
    assert [v.name for v in m.value_vars] == ["mu", "s_log__", "y_unobserved"]
    assert [r.name for r in m.observed_RVs] == ["y_observed"]
    assert [d.name for d in m.deterministics] == ["y"]
    np.testing.assert_allclose(m.initial_point()["y_unobserved"], [1.0, 3.0])  # mu + index
    point = {"mu": 0.5, "s_log__": 0.0, "y_unobserved": np.array([2.0, 4.0])}
    full = np.array([1.0, 2.0, 3.0, 4.0])
    want = (st.norm(0, 10).logpdf(0.5) + st.halfnorm(scale=2).logpdf(1.0)
            + st.norm(0.5 + np.arange(4.0), 1.0).logpdf(full).sum())
    np.testing.assert_allclose(m.compile_logp(mode="numpy")(point), want, rtol=1e-12)
    f = m.logp_dlogp_function(mode="numpy")
    np.testing.assert_allclose(f.unflatten(np.array([0.5, 0.0, 2.0, 4.0]))["y"], full)
