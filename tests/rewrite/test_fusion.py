"""Fusion of elementwise chains into ``Elemwise(Composite)``, and the Composite op itself."""

from __future__ import annotations

import numpy as np
import pytest

import gnomon
import gnomon.tensor as gt
from gnomon.errors import GnomonValueError
from gnomon.graph.traversal import toposort
from gnomon.rewrite import rewrite_graph
from gnomon.scalar.basic import Add, Mul
from gnomon.scalar.composite import Composite, ScalarConstant
from gnomon.scalar.math import Exp, Log
from gnomon.tensor.elemwise import Elemwise
from gnomon.testing import available_modes, check_grads

FUSE = gnomon.Mode("numpy").including("fusion")


def _composites(outs):  # type: ignore[no-untyped-def]
    return [n for n in toposort(outs)
            if isinstance(n.op, Elemwise) and isinstance(n.op.scalar_op, Composite)]


def test_chain_becomes_one_composite_with_inlined_constants() -> None:
    x, y = gt.dmatrix("x"), gt.dvector("y")
    before = gt.exp(x) * 2.0 + gt.log(x + 3.0) - y
    out, trace = rewrite_graph(before, include=["fusion"])
    (node,) = _composites([out])
    comp = node.op.scalar_op
    # exp, 2, mul, 3, add, log, add, neg(y)... : one loop; y enters through a broadcast.
    assert comp.n_inputs == 2
    assert sum(isinstance(op, ScalarConstant) for op, _ in comp.program) == 2
    assert out.type == before.type
    assert [s.rule for s in trace] == ["elemwise_fusion"]


def test_shared_intermediate_ends_a_group() -> None:
    x = gt.dvector("x")
    e = gt.exp(x)
    a, b = gt.sin(e) + 1, gt.cos(e) * 2
    (na, nb), _ = rewrite_graph([a, b], include=["fusion"])
    nodes = toposort([na, nb])
    # exp(x) is used by both groups, so it is computed once, outside them.
    assert sum(isinstance(n.op, Elemwise) and isinstance(n.op.scalar_op, Exp) for n in nodes) == 1
    assert len(_composites([na, nb])) == 2


def test_fused_graph_matches_reference_on_every_backend() -> None:
    x, y = gt.dmatrix("x"), gt.dvector("y")
    out = gt.sum(gt.exp(-x * x) * y + gt.tanh(y) / (1.0 + x ** 2), axis=0)
    rng = np.random.default_rng(0)
    xv, yv = rng.normal(size=(4, 3)), rng.normal(size=3)
    want = gnomon.function([x, y], out, mode=gnomon.Mode("numpy", optimize=False))(xv, yv)
    got = gnomon.function([x, y], out, mode=FUSE)(xv, yv)
    np.testing.assert_allclose(got, want, rtol=1e-12)
    for m in available_modes():
        np.testing.assert_allclose(gnomon.function([x, y], out, mode=m)(xv, yv), want,
                                   rtol=1e-10)


def test_gradient_through_a_composite() -> None:
    x = gt.dvector("x")
    fused, _ = rewrite_graph(gt.exp(x) * gt.sin(x) + x, include=["fusion"])
    assert _composites([fused])

    def fn(v):  # type: ignore[no-untyped-def]
        (o,), _ = rewrite_graph([gt.exp(v) * gt.sin(v) + v], include=["fusion"])
        return o

    check_grads(fn, [np.array([0.3, -1.2, 2.0])], order=2)


def test_gradient_through_a_composite_with_broadcasting_constants_and_floor() -> None:
    # The reverse sweep inside Composite.pullback: a broadcast input (reduced by the Elemwise
    # holding the Composite), a constant instruction, and floor's zero gradient.
    def fn(a, b):  # type: ignore[no-untyped-def]
        (o,), _ = rewrite_graph([gt.exp(a) * gt.floor(b) * 2.5 + gt.sin(b) * a], include=["fusion"])
        assert _composites([o])
        return o

    rng = np.random.default_rng(7)
    check_grads(fn, [rng.normal(size=(3, 4)), rng.uniform(0.1, 0.9, size=4) + 1], order=1)
    b = gt.dvector("b")
    (o,), _ = rewrite_graph([gt.floor(b) * 3.0 + 1.0], include=["fusion"])
    np.testing.assert_array_equal(gnomon.grad(o.sum(), b).eval({b: np.array([0.5, 2.5])}), 0.0)


def test_composite_structure_and_errors() -> None:
    c = Composite(2, ((Exp(), (0,)), (Mul(), (2, 1)), (Log(), (3,))), (4,))
    assert c.nin == 2 and c.nout == 1
    assert c.slot_dtypes("float32", "float32") == ("float32",) * 5
    assert c.output_dtypes("float64", "int64") == ("float64",)
    a, b = np.array([0.5, 1.0]), np.array([2.0, 3.0])
    np.testing.assert_allclose(c.impl(a, b), np.log(np.exp(a) * b))
    assert str(c) == "Composite{log(mul(exp(i0), i1))}"
    assert c == Composite(2, ((Exp(), (0,)), (Mul(), (2, 1)), (Log(), (3,))), (4,))
    with pytest.raises(GnomonValueError, match="not yet written"):
        Composite(1, ((Add(), (0, 2)),), (1,))
    with pytest.raises(GnomonValueError, match="Hint"):
        Composite(1, ((c, (0, 0)),), (1,))
    # A constant output still has the broadcast shape of the inputs.
    k = Composite(1, ((ScalarConstant(2.0, "float64"), ()),), (1,))
    assert k.impl(np.zeros((2, 3))).shape == (2, 3)


def test_fusion_is_left_out_for_the_reference_backend() -> None:
    x = gt.dvector("x")
    f = gnomon.function([x], gt.exp(x) + 1, mode="numpy")
    assert not _composites(list(f.program.outputs))
    g = gnomon.function([x], gt.exp(x) + 1, mode=FUSE)
    assert _composites(list(g.program.outputs))
