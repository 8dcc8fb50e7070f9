"""Lifting indexing and dimshuffles through random variables (``random_subtensor_lift``,
``random_dimshuffle_lift``): the rules fire where only part of a draw is observable, the lifted
draw has the same distribution (Kolmogorov-Smirnov against the exact distribution), and they
leave alone every graph where a lift could be observed (the results then equal those of the
graph compiled without the rules, value by value)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

import gnomon
import gnomon.random as gr
import gnomon.tensor as gt
from gnomon.compile.mode import Mode
from gnomon.random.type import NoneConst
from gnomon.rewrite import rewrite_graph
from gnomon.testing import available_modes

MODES = available_modes()
ALPHA = 0.01 / (2 * len(MODES))  # two KS tests per backend
LIFTS = ("random_subtensor_lift", "random_dimshuffle_lift")


def _rng(seed: int = 0):  # type: ignore[no-untyped-def]
    return gnomon.shared(np.random.default_rng(seed))


def _rvs(f) -> list:  # type: ignore[no-untyped-def]
    return [n for n in f.program.nodes if isinstance(n.op, gr.RandomVariable)]


def test_indexing_a_large_draw_draws_only_the_indexed_entries() -> None:
    mu, s, idx = gt.dscalar("mu"), gt.dscalar("s"), gt.lvector("idx")
    x = gr.normal(mu, s, size=(10_000,), rng=_rng())[idx]
    (y,), trace = rewrite_graph([x])
    assert "random_subtensor_lift" in [t.rule for t in trace]
    assert isinstance(y.owner.op, gr.Normal) and y.owner.inputs[1] is NoneConst
    f = gnomon.function([mu, s, idx], x, mode="numpy")
    (node,) = _rvs(f)
    storage = f(0.0, 1.0, np.array([3, 9_999, 3]))
    assert storage.shape == (3,)
    # the draw node's parameters have the shape of idx: 3 numbers are drawn, not 10 000
    assert node.outputs[1].type.shape == (None,)
    with pytest.raises(IndexError, match=r"out of bounds|index"):  # bounds still checked
        f(0.0, 1.0, np.array([10_000]))


def test_transposes_and_new_axes_move_into_parameters_and_size() -> None:
    x = gr.normal(size=(3, 4), rng=_rng()).T
    (y,), trace = rewrite_graph([x])
    assert "random_dimshuffle_lift" in [t.rule for t in trace]
    assert isinstance(y.owner.op, gr.Normal) and y.type.shape == (4, 3)
    z = gt.expand_dims(gr.dirichlet(np.ones((2, 3)), rng=_rng()), 0)  # support stays last
    (w,), _ = rewrite_graph([z])
    assert isinstance(w.owner.op, gr.Dirichlet) and w.type.shape == (1, 2, 3)


@pytest.mark.parametrize("mode", MODES)
def test_lifted_draws_have_the_same_distribution(mode: str) -> None:
    n = 4000
    rng = np.random.default_rng(1)
    mu, s = rng.uniform(-5, 5, n), rng.uniform(0.5, 3, n)
    idx = rng.permutation(n)[: n // 2]
    x = gr.normal(mu, s, rng=_rng(2))[idx]
    f = gnomon.function([], x, mode=mode)
    assert [node.outputs[1].type.shape for node in _rvs(f)] == [(n // 2,)]
    z = (np.asarray(f()) - mu[idx]) / s[idx]
    p = stats.kstest(z, stats.norm.cdf).pvalue
    assert p > ALPHA, f"lifted normal on {mode}: KS p-value {p:.3g}"
    # a gamma matrix, transposed and sliced: each entry's CDF value is uniform
    a = rng.uniform(0.5, 4, (60, 50))
    g = gr.gamma(a, 2.0, rng=_rng(3)).T[::2, 5:]
    h = gnomon.function([], g, mode=mode)
    assert [n.outputs[1].type.shape for n in _rvs(h)] == [(25, 55)]
    u = stats.gamma.cdf(np.asarray(h()) / 2.0, a.T[::2, 5:])
    p = stats.kstest(u.ravel(), "uniform").pvalue
    assert p > ALPHA, f"lifted gamma on {mode}: KS p-value {p:.3g}"


def _both(outs, mode="numpy"):  # type: ignore[no-untyped-def]
    """Results with and without the lifts (fresh generators of the same seed each time)."""
    res = []
    for m in (Mode(mode), Mode(mode).excluding(*LIFTS)):
        f = gnomon.function([], outs(), mode=m)
        res.append(([np.asarray(v) for v in f()], f))
    return res


NOT_LIFTED = {
    # the draw is read twice: the kept entries must be those of the whole draw
    "draw-read-twice": lambda: (lambda x: [x[2:4], x.sum()])(
        gr.normal(size=10, rng=_rng(4))),
    # two draws from one state share their numbers: x is y[5:8] / 2, a coupling a lift breaks
    "generator-read-twice": lambda: (lambda r: [gr.normal(0.0, 1.0, size=10, rng=r)[5:8],
                                                gr.normal(0.0, 2.0, size=10, rng=r)])(_rng(5)),
    "draw-is-an-output": lambda: (lambda x: [x, x[::2]])(gr.normal(size=6, rng=_rng(6))),
    "support-dimension": lambda: [gr.dirichlet(np.ones(3), size=4, rng=_rng(7))[:, 0]],
    "without-replacement": lambda: [gr.choice(10, size=5, replace=False, rng=_rng(8))[1:3]],
    "permutation": lambda: [gr.permutation(6, rng=_rng(9))[:2]],
}


@pytest.mark.parametrize("case", list(NOT_LIFTED))
def test_observable_lifts_do_not_happen(case: str) -> None:
    (with_rules, f), (without, _) = _both(NOT_LIFTED[case])
    assert not any(t.rule in LIFTS for t in f.rewrite_trace), case
    for a, b in zip(with_rules, without, strict=True):
        np.testing.assert_array_equal(a, b)
    if case == "generator-read-twice":
        x, y = with_rules
        np.testing.assert_allclose(x, y[5:8] / 2, rtol=1e-15)


def test_a_later_draw_from_the_lifted_generator_is_still_fresh() -> None:
    # next_rng of the lifted draw feeds another draw: both stay independent standard normals
    r = _rng(10)
    x = gr.normal(size=(2000,), rng=r)
    y = gr.normal(size=(1000,), rng=x.owner.outputs[0])
    f = gnomon.function([], [x[:1000], y], mode="numpy")
    assert any(t.rule == "random_subtensor_lift" for t in f.rewrite_trace)
    a, b = f()
    assert stats.kstest(b, stats.norm.cdf).pvalue > 1e-3
    assert abs(np.corrcoef(a, b)[0, 1]) < 4.5 / np.sqrt(1000)
