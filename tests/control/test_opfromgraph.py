"""OpFromGraph: calling, nesting, structural identity, gradients, rewrites, backends."""

from __future__ import annotations

import numpy as np
import pytest

import gnomon
import gnomon.tensor as gt
from gnomon.control import OpFromGraph
from gnomon.errors import GnomonTypeError
from gnomon.graph.traversal import toposort
from gnomon.rewrite.engine import register_rule, unregister_rule
from gnomon.rewrite.pattern import P
from gnomon.testing import available_modes, check_grads, compare_backends

KEEP = "inline_opfromgraph"  # the inlining rule's name


def _muladd() -> OpFromGraph:
    x, y = gt.dvector("x"), gt.dvector("y")
    return OpFromGraph([x, y], [x * y + gt.exp(x)], name="muladd")


def _ops(outs: list) -> list[str]:
    return [type(n.op).__name__ for n in toposort(outs)]


def test_called_twice_and_nested_match_numpy() -> None:
    op = _muladd()
    a, b = gt.dvector("a"), gt.dvector("b")
    out = op(op(a, b), b)  # nested: the output of one call feeds the next
    rng = np.random.default_rng(0)
    va, vb = rng.standard_normal(4), rng.standard_normal(4)
    inner = va * vb + np.exp(va)
    want = inner * vb + np.exp(inner)
    f = gnomon.function([a, b], out, mode=gnomon.Mode("numpy").excluding(KEEP))
    assert _ops(f.program.outputs).count("OpFromGraph") == 2
    np.testing.assert_allclose(f(va, vb), want)
    np.testing.assert_allclose(gnomon.function([a, b], out, mode="numpy")(va, vb), want)


def test_op_inside_an_op() -> None:
    op = _muladd()
    u, v = gt.dvector("u"), gt.dvector("v")
    outer = OpFromGraph([u, v], [op(u, v) * 2 - v])
    a, b = gt.dvector("a"), gt.dvector("b")
    va, vb = np.array([0.5, -1.0]), np.array([2.0, 3.0])
    want = (va * vb + np.exp(va)) * 2 - vb
    out = outer(a, b)
    np.testing.assert_allclose(out.eval({a: va, b: vb}, mode="numpy"), want)
    check_grads(lambda x, y: outer(x, y), [va, vb], order=2)


def test_structural_identity() -> None:
    op1, op2 = _muladd(), _muladd()
    assert op1 is not op2 and op1 == op2 and hash(op1) == hash(op2)
    a, b = gt.dvector("a"), gt.dvector("b")
    assert op1(a, b) is op2(a, b)  # equal ops on the same inputs: the same interned node
    x, y = gt.dvector("x"), gt.dvector("y")
    assert OpFromGraph([x, y], [x * y + gt.exp(y)]) != op1  # a different graph
    assert OpFromGraph([x, y], [y * x + gt.exp(x)]) != op1  # mul(y, x) is another graph
    f32 = gt.fvector("x"), gt.fvector("y")
    assert OpFromGraph(list(f32), [f32[0] * f32[1] + gt.exp(f32[0])]) != op1  # other types
    c1 = OpFromGraph([x], [x + 1.0])
    assert c1 == OpFromGraph([y], [y + 1.0]) and c1 != OpFromGraph([x], [x + 2.0])


def test_gradients_match_finite_differences() -> None:
    op = _muladd()
    rng = np.random.default_rng(1)
    vals = [rng.standard_normal(3), rng.standard_normal(3)]
    check_grads(lambda a, b: op(op(a, b), a), vals, order=2)
    check_grads(lambda a, b: op(a, b), vals, mode=gnomon.Mode("numpy").excluding(KEEP))


def test_multiple_outputs_and_integer_inputs() -> None:
    x, k = gt.dvector("x"), gt.lscalar("k")
    op = OpFromGraph([x, k], [x * k, gt.sum(x), k + 1])
    a, n = gt.dvector("a"), gt.lscalar("n")
    o1, o2, o3 = op(a, n)
    f = gnomon.function([a, n], [o1, o2, o3], mode="numpy")
    r = f(np.array([1.0, 2.0]), 3)
    np.testing.assert_allclose(r[0], [3.0, 6.0])
    assert float(r[1]) == 3.0 and int(r[2]) == 4
    check_grads(lambda v: op(v, gt.constant(3))[:2], [np.array([0.3, -0.7])], order=2)


def test_pullback_override_function_and_op() -> None:
    x = gt.dvector("x")
    # A "straight-through" gradient: forward is round, gradient is the identity.
    st = OpFromGraph([x], [gt.round(x)], pullback=lambda ins, gs: [gs[0]])
    a = gt.dvector("a")
    g = gnomon.grad(gt.sum(st(a) * 3.0), a)
    np.testing.assert_allclose(g.eval({a: np.array([0.2, 1.7])}, mode="numpy"), [3.0, 3.0])
    xx, gg = gt.dvector("xx"), gt.dvector("gg")
    double = OpFromGraph([xx, gg], [2.0 * gg])
    op = OpFromGraph([x], [x * x], pullback=double)  # claims d(x*x) = 2, on purpose
    g = gnomon.grad(gt.sum(op(a)), a)
    np.testing.assert_allclose(g.eval({a: np.array([5.0, 7.0])}, mode="numpy"), [2.0, 2.0])
    bad = OpFromGraph([x], [x * x], pullback=lambda ins, gs: [])
    with pytest.raises(GnomonTypeError, match="returned 0 gradient"):
        gnomon.grad(gt.sum(bad(a)), a)


def test_shared_variables_are_implicit_inputs() -> None:
    w = gnomon.shared(np.array([1.0, 2.0]), name="w")
    x = gt.dvector("x")
    op = OpFromGraph([x], [x * w])
    a = gt.dvector("a")
    out = op(a)
    assert len(out.owner.inputs) == 2 and out.owner.inputs[1] is w
    f = gnomon.function([a], out, mode=gnomon.Mode("numpy").excluding(KEEP))
    np.testing.assert_allclose(f(np.ones(2)), [1.0, 2.0])
    w.set_value(np.array([3.0, 4.0]))
    np.testing.assert_allclose(f(np.ones(2)), [3.0, 4.0])
    gw = gnomon.grad(gt.sum(out), w)
    np.testing.assert_allclose(gw.eval({a: np.array([5.0, 6.0])}, mode="numpy"), [5.0, 6.0])


def test_inline_true_builds_no_node() -> None:
    x = gt.dvector("x")
    op = OpFromGraph([x], [gt.exp(x) + 1.0], inline=True)
    a = gt.dvector("a")
    assert "OpFromGraph" not in _ops([op(a)])
    np.testing.assert_allclose(op(a).eval({a: np.zeros(2)}, mode="numpy"), [2.0, 2.0])


def test_rewritten_as_a_unit_and_inlined_by_default() -> None:
    x = gt.dvector("x")
    expensive = OpFromGraph([x], [gt.sqrt(x * x)], name="my_abs")
    a = gt.dvector("a")
    out = expensive(a) + 1.0

    @register_rule(P(expensive, "v"), groups=("canonicalize", "test_ofg"), default=False,
                   name="test_my_abs_is_abs")
    def _(node, v):  # type: ignore[no-untyped-def]
        return gt.abs(v)

    try:
        f = gnomon.function([a], out, mode=gnomon.Mode("numpy").including("test_my_abs_is_abs"))
        assert next(s.rule for s in f.rewrite_trace) == "test_my_abs_is_abs"
        assert "OpFromGraph" not in _ops(list(f.program.outputs))
        np.testing.assert_allclose(f(np.array([-2.0, 3.0])), [3.0, 4.0])
    finally:
        unregister_rule("test_my_abs_is_abs")
    f = gnomon.function([a], out, mode="numpy")
    assert "inline_opfromgraph" in [s.rule for s in f.rewrite_trace]
    assert "OpFromGraph" not in _ops(list(f.program.outputs))


def test_infer_shape_uses_the_inner_graph() -> None:
    x, y = gt.dmatrix("x"), gt.dvector("y")
    op = OpFromGraph([x, y], [gt.dot(x, y), x.T])
    a, b = gt.dmatrix("a"), gt.dvector("b")
    o1, _o2 = op(a, b)
    shapes = o1.owner.op.infer_shape(o1.owner, [gt.shape_tuple(a), gt.shape_tuple(b)])
    assert shapes is not None
    f = gnomon.function([a, b], [*shapes[0], *shapes[1]], mode="numpy",
                        on_unused_input="ignore")
    assert [int(s) for s in f(np.ones((2, 3)), np.ones(3))] == [2, 3, 2]
    # a shape that needs values is not known without running the graph
    n = gt.lscalar("n")
    op2 = OpFromGraph([x, n], [x[:n]])
    o = op2(a, gt.lscalar("m"))
    assert o.owner.op.infer_shape(o.owner, [gt.shape_tuple(a), ()]) is None


def test_errors() -> None:
    x, y = gt.dvector("x"), gt.dvector("y")
    with pytest.raises(GnomonTypeError, match="not among the inputs"):
        OpFromGraph([x], [x + y])
    with pytest.raises(GnomonTypeError, match="not a root"):
        OpFromGraph([x * 2], [x])
    op = OpFromGraph([x], [x + 1.0])
    with pytest.raises(GnomonTypeError, match="takes 1 input"):
        op(x, y)
    with pytest.raises(GnomonTypeError, match="must have type"):
        op(gt.dmatrix("m"))


@pytest.mark.parametrize("inline", [True, False])
def test_every_backend_matches_the_reference(inline: bool) -> None:
    op = _muladd()
    rng = np.random.default_rng(2)
    vals = [rng.standard_normal(4), rng.standard_normal(4)]
    modes = available_modes()
    def fn(a, b):
        return ([op(op(a, b), b), gnomon.grad(gt.sum(op(a, b)), a)])
    if inline:
        compare_backends(fn, vals, modes=modes)
    else:
        for m in modes:
            xs = [gt.dvector("p"), gt.dvector("q")]
            outs = fn(*xs)
            ref = gnomon.function(xs, outs, mode="numpy")(*vals)
            got = gnomon.function(xs, outs, mode=gnomon.Mode(m).excluding(KEEP))(*vals)
            for g, r in zip(got, ref, strict=True):
                np.testing.assert_allclose(np.asarray(g), r, rtol=1e-10)


@pytest.mark.skipif("numba" not in available_modes(), reason="numba is not installed")
def test_numba_compiles_the_wrapped_graph() -> None:
    op = _muladd()
    a, b = gt.dvector("a"), gt.dvector("b")
    f = gnomon.function([a, b], op(a, b), mode=gnomon.Mode("numba").excluding(KEEP))
    assert f.compiled.state.nopython and isinstance(f.program.nodes[0].op, OpFromGraph)
    np.testing.assert_allclose(f(np.zeros(2), np.ones(2)), [1.0, 1.0])
