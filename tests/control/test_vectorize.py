"""The batching rules of :mod:`gnomon.control.vectorize` that the PyTensor-compatibility tests
(tests/compat/test_modules.py) do not reach: indexing and ``set_subtensor`` / ``inc_subtensor``,
joins, ``alloc`` / ``broadcast_to``, cumulative sums and argmax, with two batch dimensions and a
replacement that has fewer of them (broadcast), each checked entry by entry against the core
graph; and ``batch_graph``'s ``no_rule="report"`` policy (used by ``unflatten_many``)."""

from __future__ import annotations

import numpy as np
import pytest

import gnomon
import gnomon.random as gr
import gnomon.tensor as gt
from gnomon.control.scan import Scan
from gnomon.control.vectorize import batch_graph, vectorize_graph
from gnomon.errors import GnomonTypeError, GnomonValueError
from gnomon.graph.basic import ancestors

RNG = np.random.default_rng(20261201)


def _ops(outs):
    return {type(v.owner.op) for v in ancestors(outs) if v.owner is not None}


def test_rules_batch_indexing_joins_and_allocs_without_a_scan():
    x, v = gt.dmatrix("x"), gt.dvector("v")  # core shapes (3, 4) and (4,)
    a2, i3 = np.array([2, 0, 2]), np.array([1, 1])
    outs = [
        x[1:, ::2] + x[0, None, 1:3],                            # basic, with a new axis
        x[:, a2] * x[np.array([0, 2, 1]), np.array([1, 3, 0])][:, None],  # adjacent advanced
        gt.set_subtensor(x[0], v),                               # x and y batched
        gt.inc_subtensor(x[:, i3], 1.0),                         # repeated advanced index
        gt.set_subtensor(gt.zeros((3, 4))[1, 1:], v[:3]),        # only y batched
        gt.set_subtensor(gt.stack([v, v, v])[0], x[1]),          # x has a length-1 batch dim
        gt.concatenate([v[None, :], x, gt.ones((1, 4))], axis=0),
        gt.alloc(v, 2, 4) + gt.broadcast_to(x[0], (5, 4)).sum(0),
        gt.cumsum(x, axis=1) + gt.argmax(x, axis=0),
        gt.reshape(x, (2, -1)),
    ]
    # two batch dimensions; v has one (broadcast over the first)
    xs, vs = gt.dtensor4("xs"), gt.dmatrix("vs")
    batched = vectorize_graph(outs, {x: xs, v: vs})
    assert Scan not in _ops(batched)
    xv, vv = RNG.normal(size=(2, 5, 3, 4)), RNG.normal(size=(5, 4))
    got = gnomon.function([xs, vs], batched, mode="numpy")(xv, vv)
    core = gnomon.function([x, v], outs, mode="numpy")
    for i in range(2):
        for j in range(5):
            for k, want in enumerate(core(xv[i, j], vv[j])):
                # (an output of v alone keeps a length-1 first batch dimension, as in NumPy)
                full = np.broadcast_to(got[k], (2, 5, *np.shape(want)))
                np.testing.assert_allclose(full[i, j], want, rtol=1e-13, err_msg=str(k))


def test_no_rule_report_marks_the_outputs_that_need_an_unbatchable_node():
    x, A = gt.dmatrix("x"), gt.dmatrix("A")
    z = gt.dtensor3("z")
    idx = np.array([0, 1])
    outs = [gt.linalg.det(x) + 1.0, gt.sum(x, axis=0), A * 2.0, z[idx, :, idx],
            gr.normal(x.sum())]
    xs, zs = gt.dtensor3("xs"), gt.dtensor4("zs")
    det, colsum, same, gather, draw = batch_graph(outs, {x: xs, z: zs}, no_rule="report")
    assert det is None and gather is None and draw is None  # no rule; a generator input
    assert same == (outs[2], False) and colsum is not None and colsum[1]
    xv = RNG.normal(size=(4, 3, 3))
    np.testing.assert_allclose(colsum[0].eval({xs: xv}, mode="numpy"), xv.sum(1), rtol=1e-13)
    # the default maps them with scan instead (correct entry by entry); a generator is refused
    zv = RNG.normal(size=(4, 2, 3, 2))
    (mapped,) = vectorize_graph([outs[3]], {z: zs})
    assert Scan in _ops([mapped])
    np.testing.assert_allclose(mapped.eval({zs: zv}, mode="numpy"),
                               np.stack([zi[idx, :, idx] for zi in zv]), rtol=1e-13)
    with pytest.raises(GnomonTypeError, match="not an array type"):
        vectorize_graph(outs[4], {x: xs})
    with pytest.raises(GnomonValueError, match="no_rule"):
        batch_graph(outs, {x: xs}, no_rule="loop")  # type: ignore[arg-type]
