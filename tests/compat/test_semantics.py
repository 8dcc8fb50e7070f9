"""PyTensor semantics that PyTensor code relies on (issue #17, part A): NumPy arrays on the left of
an operator, unused inputs after ``grad``, single-variable graph helpers, constants as graph
inputs and as tensor variables, type constructors compared with types, the built-in error
classes of run-time failures, and clear errors for strings."""

from __future__ import annotations

import numpy as np
import pytest

import gnomon
import gnomon.tensor as pt
from gnomon.errors import GnomonTypeError, UnusedInputError
from gnomon.graph.basic import Constant, graph_inputs
from gnomon.graph.replace import clone_replace, graph_replace


@pytest.fixture(autouse=True)
def _numpy_mode():
    # the backend is not what these tests are about
    with gnomon.config.change_flags(mode="numpy"):
        yield


RNG = np.random.default_rng(1701)


@pytest.mark.parametrize("op", [
    lambda a, x: a - x, lambda a, x: a + x, lambda a, x: a * x, lambda a, x: a / x,
    lambda a, x: a ** x, lambda a, x: a > x, lambda a, x: a <= x, lambda a, x: a @ x,
], ids=["sub", "add", "mul", "div", "pow", "gt", "le", "matmul"])
def test_ndarray_on_the_left_builds_one_variable(op) -> None:
    y_obs = RNG.uniform(0.5, 2.0, size=3)
    mu = pt.dvector("mu")
    out = op(y_obs, mu)
    # NumPy defers to the variable: one graph variable, not an object array of variables
    assert isinstance(out, pt.TensorVariable)
    m = RNG.uniform(0.5, 2.0, size=3)
    np.testing.assert_allclose(out.eval({mu: m}), op(y_obs, m))


def test_ndarray_on_the_left_in_a_model_line() -> None:
    y_obs = RNG.normal(size=5)
    mu, sigma = pt.dscalar("mu"), pt.dscalar("sigma")
    logp = pt.sum(-0.5 * ((y_obs - mu) / sigma) ** 2 - pt.log(sigma))
    f = gnomon.function([mu, sigma], logp)
    ref = np.sum(-0.5 * ((y_obs - 0.3) / 1.5) ** 2 - np.log(1.5))
    np.testing.assert_allclose(f(0.3, 1.5), ref)


def test_grad_outputs_do_not_make_cost_inputs_unused() -> None:
    # PyTensor's README example: the gradient no longer depends on b after simplification
    a, b = pt.dscalars("a", "b")
    f = gnomon.function([a, b], gnomon.grad(a + b, a))
    assert float(f(1.0, 2.0)) == 1.0
    g = gnomon.function([a, b], [gnomon.grad(a * 2 + b, a) * 3.0])
    assert float(g(1.0, 2.0)[0]) == 6.0
    # an input nothing was ever computed from is still reported
    c = pt.dscalar("c")
    with pytest.raises(UnusedInputError, match="c"):
        gnomon.function([a, b, c], gnomon.grad(a + b, a))


def test_graph_helpers_take_and_return_one_variable() -> None:
    x, y = pt.dscalars("x", "y")
    out = graph_replace(x + 1.0, {x: y})
    assert isinstance(out, pt.TensorVariable)
    assert float(out.eval({y: 2.0})) == 3.0
    out2 = graph_replace(x * 2.0, [(x, y)])  # PyTensor also takes a list of pairs
    assert float(out2.eval({y: 2.0})) == 4.0
    lst = graph_replace([x + 1.0], {x: y})
    assert isinstance(lst, list) and len(lst) == 1
    c = clone_replace(x * y, {x: pt.constant(3.0)})
    assert isinstance(c, pt.TensorVariable)
    (root,) = graph_inputs(c, include_constants=False)
    assert root is not y and root.type == y.type  # y was cloned
    assert float(c.eval({root: 2.0})) == 6.0
    assert gnomon.clone_replace is clone_replace


def test_graph_inputs_include_constants_and_constants_are_tensor_variables() -> None:
    x = pt.dvector("x")
    roots = graph_inputs([x * 2.0])
    consts = [r for r in roots if isinstance(r, Constant)]
    assert x in roots and len(consts) == 1
    assert isinstance(consts[0], pt.TensorVariable)
    assert isinstance(pt.constant(np.ones(2)), pt.TensorConstant)
    assert graph_inputs(x * 2.0, include_constants=False) == [x]


def test_type_constructors_compare_with_types() -> None:
    x = pt.dscalar("x")
    assert x.type == pt.dscalar and pt.dscalar == x.type
    assert x.type != pt.fscalar and x.type != pt.dvector
    m = pt.matrix("m", dtype="float64")
    assert m.type == pt.dmatrix
    assert pt.dvector.type == pt.TensorType("float64", (None,))
    r = pt.row("r")
    assert r.type == pt.row and r.broadcastable == (True, False)
    assert pt.col.broadcastable == (False, True)
    assert pt.dmatrix("a", shape=(2, 3)).type.shape == (2, 3)


def test_broadcastable_and_shared_broadcastable() -> None:
    w = gnomon.shared(np.zeros((1, 3)), name="w", broadcastable=(True, False))
    assert w.broadcastable == (True, False)
    assert pt.tensor("t", shape=(1, None, 1)).broadcastable == (True, False, True)
    with pytest.raises(ValueError, match="static shape"):
        gnomon.shared(np.zeros((2, 3)), broadcastable=(True, False))


def test_run_time_shape_mismatch_is_a_value_error_with_gnomons_message() -> None:
    x, y = pt.dvectors("x", "y")
    f = gnomon.function([x, y], x + y)
    with pytest.raises(ValueError, match=r"(?s)Elemwise\(add\).*test_semantics.py"):
        f(np.ones(2), np.ones(3))
    with pytest.raises(gnomon.errors.GnomonError):
        f(np.ones(2), np.ones(3))
    m = pt.dmatrix("m")
    g = gnomon.function([m, x], pt.dot(m, x))
    with pytest.raises(ValueError, match=r"test_semantics\.py"):
        g(np.ones((2, 3)), np.ones(2))


def test_strings_for_a_float_input_get_a_clear_error() -> None:
    x = pt.dvector("x")
    f = gnomon.function([x], x * 2)
    with pytest.raises(GnomonTypeError, match=r"(?s)non-numbers.*np\.asarray"):
        f(["1.0", "2.0"])
    with pytest.raises(GnomonTypeError, match="str"):
        f(np.array(["1.0"]))


def test_dprint_method_prints_the_graph(capsys) -> None:
    x = pt.dscalar("x")
    (pt.exp(x) + 1.0).dprint()
    out = capsys.readouterr().out
    assert "Elemwise(add)" in out and "Elemwise(exp)" in out and "x" in out
    text = (x * 2.0).dprint(file="str")
    assert "Elemwise(mul)" in text
