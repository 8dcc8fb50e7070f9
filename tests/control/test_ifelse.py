"""ifelse: laziness in every backend, several outputs, gradients, rewrites."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest
from scipy import stats

import gnomon
import gnomon.tensor as gt
from gnomon.control import IfElse, ifelse
from gnomon.errors import GnomonError, GnomonTypeError
from gnomon.graph.basic import Apply
from gnomon.graph.op import Op
from gnomon.graph.traversal import toposort
from gnomon.tensor.basic import as_tensor
from gnomon.testing import available_modes, check_grads, compare_backends


@dataclass(frozen=True)
class Boom(Op):
    """An op that fails whenever it is computed: it must never run in an untaken branch."""

    def make_node(self, x):  # type: ignore[no-untyped-def]
        x = as_tensor(x)
        return Apply.make(self, [x], [x.type])

    def perform(self, node, inputs):  # type: ignore[no-untyped-def]
        raise RuntimeError("boom: the untaken branch was computed")

    def pullback(self, node, output_grads):  # type: ignore[no-untyped-def]
        return [Boom()(output_grads[0])]  # its gradient fails when computed, too


def _n_ifelse(f: gnomon.Function) -> int:
    return sum(isinstance(n.op, IfElse) for n in f.program.nodes)


# JAX cannot run an op without a lowering (Boom), so its laziness is lax.cond's, and is
# checked below by the results only.
@pytest.mark.parametrize("mode", [m for m in available_modes() if m != "jax"])
def test_only_the_taken_branch_runs(mode: str) -> None:
    c, x = gt.dscalar("c"), gt.dvector("x")
    out = ifelse(c > 0, gt.exp(x), Boom()(x * 2) + 1.0)
    f = gnomon.function([c, x], out, mode=mode)
    np.testing.assert_allclose(f(1.0, np.zeros(2)), [1.0, 1.0])
    with pytest.raises(GnomonError, match="boom"):
        f(-1.0, np.zeros(2))


def test_condition_is_computed_once_and_branches_cut_at_it() -> None:
    x = gt.dvector("x")
    s = gt.sum(x)
    out = ifelse(s > 0, s * 2.0, gt.exp(x)[0])
    node = out.owner
    assert isinstance(node.op, IfElse)
    assert any(v is s for v in node.inputs)  # s is needed by the condition: an input
    assert x in node.inputs
    assert not any(type(n.op).__name__ == "Elemwise" and "exp" in str(n.op)
                   for n in toposort([node.inputs[0]]))


def test_several_outputs_match_numpy() -> None:
    c, x, y = gt.dscalar("c"), gt.dvector("x"), gt.dmatrix("y")
    a, b = ifelse(gt.lt(c, 0.5), [gt.sum(y, axis=0) + x, c * 2], [x - 1.0, c])
    f = gnomon.function([c, x, y], [a, b], mode="numpy")
    rng = np.random.default_rng(0)
    xv, yv = rng.standard_normal(3), rng.standard_normal((2, 3))
    r = f(0.1, xv, yv)
    np.testing.assert_allclose(r[0], yv.sum(0) + xv)
    assert float(r[1]) == 0.2
    r = f(0.9, xv, yv)
    np.testing.assert_allclose(r[0], xv - 1.0)
    assert float(r[1]) == 0.9


def test_dtypes_are_upcast_and_ranks_checked() -> None:
    c, x, k = gt.dscalar("c"), gt.dvector("x"), gt.lvector("k")
    out = ifelse(c > 0, x, k)
    assert out.dtype == "float64"
    with pytest.raises(GnomonTypeError, match="dimension"):
        ifelse(c > 0, x, gt.dmatrix("m"))
    with pytest.raises(GnomonTypeError, match="scalar"):
        ifelse(x, x, x)
    with pytest.raises(GnomonTypeError, match="same number"):
        ifelse(c > 0, [x, x], [x])


@pytest.mark.parametrize("cval", [1.3, -0.7])
def test_gradient(cval: float) -> None:
    rng = np.random.default_rng(1)
    vals = [np.array(cval), rng.standard_normal(3), rng.standard_normal(3)]

    def fn(c, x, y):  # type: ignore[no-untyped-def]
        a, b = ifelse(c > 0, [gt.exp(x) * y * c, gt.sum(x * y)], [gt.sin(y), gt.sum(x) * c])
        return [a, b]

    check_grads(fn, vals, order=2)


def test_gradient_is_lazy_too() -> None:
    c, x = gt.dscalar("c"), gt.dvector("x")
    out = ifelse(c > 0, gt.sum(gt.exp(x)), gt.sum(Boom()(x)))
    g = gnomon.grad(out, x)
    f = gnomon.function([c, x], g, mode="numpy", on_unused_input="ignore")
    np.testing.assert_allclose(f(1.0, np.zeros(2)), [1.0, 1.0])
    with pytest.raises(GnomonError, match="boom"):
        f(-1.0, np.zeros(2))


def test_constant_condition_is_lifted() -> None:
    x = gt.dvector("x")
    out = ifelse(gt.constant(1.0) > 0, gt.exp(x), Boom()(x))
    f = gnomon.function([x], out, mode="numpy")
    assert "ifelse_constant_condition" in [s.rule for s in f.rewrite_trace]
    assert _n_ifelse(f) == 0
    np.testing.assert_allclose(f(np.zeros(2)), [1.0, 1.0])


def test_equal_branches_need_no_test() -> None:
    c, x = gt.dscalar("c"), gt.dvector("x")
    f = gnomon.function([c, x], ifelse(c > 0, x * 2.0, x * 2.0), mode="numpy",
                        on_unused_input="ignore")
    assert _n_ifelse(f) == 0
    np.testing.assert_allclose(f(-1.0, np.ones(2)), [2.0, 2.0])


def test_ifelses_with_the_same_condition_are_merged() -> None:
    c, x = gt.dscalar("c"), gt.dvector("x")
    cond = c > 0
    o1 = ifelse(cond, gt.sum(gt.exp(x)), gt.sum(x))
    o2 = ifelse(cond, x * 2.0, x * 3.0)
    # o1 is not needed by the condition, so o3's branches compute it themselves: o3's node
    # reads only c and x, and all three nodes merge into one.
    o3 = ifelse(cond, o1 + 1.0, o1)
    f = gnomon.function([c, x], [o1, o2, o3], mode="numpy")
    assert "ifelse_merge" in [s.rule for s in f.rewrite_trace]
    assert _n_ifelse(f) == 1
    xv = np.array([0.5, -1.0])
    for cv in (1.0, -1.0):
        r = f(cv, xv)
        s = np.exp(xv).sum() if cv > 0 else xv.sum()
        np.testing.assert_allclose(r[0], s)
        np.testing.assert_allclose(r[1], xv * (2.0 if cv > 0 else 3.0))
        np.testing.assert_allclose(r[2], s + 1.0 if cv > 0 else s)
    f2 = gnomon.function([c, x], [o1, o2], mode=gnomon.Mode("numpy").excluding("ifelse_merge"))
    assert _n_ifelse(f2) == 2


def test_structural_identity() -> None:
    c, x = gt.dscalar("c"), gt.dvector("x")
    a = ifelse(c > 0, gt.exp(x), -x)
    b = ifelse(c > 0, gt.exp(x), -x)
    assert a is b  # equal IfElse ops on the same inputs: one interned node


@pytest.mark.parametrize("cval", [2.0, -2.0])
def test_every_backend_matches_the_reference(cval: float) -> None:
    rng = np.random.default_rng(3)
    vals = [np.array(cval), rng.standard_normal(4)]

    def fn(c, x):  # type: ignore[no-untyped-def]
        a, b = ifelse(c > 0, [gt.sum(gt.exp(x)) * c, x * 2.0], [gt.sum(x), -x])
        return [a, b, gnomon.grad(a + gt.sum(b), x)]

    compare_backends(fn, vals)


@pytest.mark.skipif("numba" not in available_modes(), reason="numba is not installed")
def test_numba_compiles_both_branches() -> None:
    c, x = gt.dscalar("c"), gt.dvector("x")
    out = ifelse(c > 0, gt.exp(x), -x)
    f = gnomon.function([c, x], out, mode="numba")
    assert f.compiled.state.nopython
    np.testing.assert_allclose(f(1.0, np.zeros(2)), [1.0, 1.0])
    np.testing.assert_allclose(f(-1.0, np.ones(2)), [-1.0, -1.0])


@pytest.mark.parametrize("mode", available_modes())
def test_branches_may_draw_random_variables(mode):
    # the branches' generators are inputs of the IfElse node (not tensors): only the taken
    # branch draws, and the default updates give new draws at every call
    import gnomon.random as gr

    z = gt.scalar("z", dtype="bool")
    srng = gr.RandomStream(1)
    a = srng.normal(0.0, 1.0, size=4000)
    b = srng.normal(5.0, 1.0, size=4000)
    f = gnomon.function([z], gnomon.ifelse(z, a, b), mode=mode)
    r1, r2, r3 = (np.asarray(r) for r in (f(True), f(True), f(False)))
    assert np.all(r1 != r2)
    assert stats.kstest(r1, "norm").pvalue > 1e-3
    assert stats.kstest(r3 - 5.0, "norm").pvalue > 1e-3
