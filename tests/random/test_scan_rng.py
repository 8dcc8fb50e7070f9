"""Random generators threaded through ``scan``: a Gaussian random walk advances its generator at
every step on every backend, repeated calls give new walks, and a seed reproduces them."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from scipy import stats

import gnomon
import gnomon.random as gr
import gnomon.tensor as gt
from gnomon.control.scan import Scan
from gnomon.testing import available_modes

MODES = available_modes()
STEPS = 500
ALPHA = 0.01 / (3 * len(MODES))  # one KS test per walk style and backend


def _pytensor_style(seed: int):  # type: ignore[no-untyped-def]
    """The generator is a non-sequence and the body returns its update (PyTensor's idiom)."""
    rng = gnomon.shared(np.random.default_rng(seed))

    def step(prev, r):  # type: ignore[no-untyped-def]
        x = gr.normal(prev, 1.0, rng=r)
        return x, {r: x.owner.outputs[0]}

    walk, updates = gnomon.scan(step, outputs_info=[gt.constant(0.0)], non_sequences=[rng],
                                n_steps=STEPS)
    return walk, updates


def _stream_style(seed: int):  # type: ignore[no-untyped-def]
    """A RandomStream draw inside the body: its default update becomes a loop update."""
    srng = gr.RandomStream(seed=seed)
    return gnomon.scan(lambda prev: srng.normal(prev, 1.0), outputs_info=[gt.constant(0.0)],
                       n_steps=STEPS)


def _carry_style(seed: int):  # type: ignore[no-untyped-def]
    """The generator rides in outputs_info; the scan returns its last state."""
    rng = gnomon.shared(np.random.default_rng(seed))

    def step(prev, r):  # type: ignore[no-untyped-def]
        x = gr.normal(prev, 1.0, rng=r)
        return x, x.owner.outputs[0]

    (walk, last), _ = gnomon.scan(step, outputs_info=[gt.constant(0.0), rng], n_steps=STEPS)
    assert last.type == rng.type
    return walk, {rng: last}


STYLES = {"pytensor": _pytensor_style, "stream": _stream_style, "carry": _carry_style}


def _compile(style: str, seed: int, mode: str):  # type: ignore[no-untyped-def]
    walk, updates = STYLES[style](seed)
    # the stream style needs no updates=: the generator's default update was moved out of the
    # loop body by scan
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no silent fallback to Python on Numba
        return gnomon.function([], walk, mode=mode,
                               updates=None if style == "stream" else updates)


@pytest.mark.parametrize("style", list(STYLES))
@pytest.mark.parametrize("mode", MODES)
def test_random_walk_advances_the_generator_at_every_step(mode: str, style: str) -> None:
    f = _compile(style, 0, mode)
    scans = [n for n in f.program.nodes if isinstance(n.op, Scan)]
    assert len(scans) == 1
    if mode == "numba":  # the loop owns the shared generator's private copy: no copies
        assert scans[0].op.inplace
    a = np.asarray(f())
    steps = np.diff(a, prepend=0.0)
    p = stats.kstest(steps, stats.norm().cdf).pvalue
    assert p > ALPHA, f"{style} walk on {mode}: increments KS p-value {p:.3g}"
    assert abs(np.corrcoef(steps[:-1], steps[1:])[0, 1]) < 4.5 / np.sqrt(STEPS)
    b = np.asarray(f())  # the generator advanced: a new walk
    assert not np.allclose(a, b)
    assert abs(np.corrcoef(np.diff(a), np.diff(b))[0, 1]) < 4.5 / np.sqrt(STEPS)
    g = _compile(style, 0, mode)  # same seed, same walks
    np.testing.assert_array_equal(np.asarray(g()), a)
    np.testing.assert_array_equal(np.asarray(g()), b)


def test_reference_walk_is_numpys_stream() -> None:
    f = _compile("pytensor", 3, "numpy")
    np.testing.assert_allclose(f(), np.cumsum(np.random.default_rng(3).normal(size=STEPS)),
                               rtol=1e-12)


@pytest.mark.parametrize("mode", MODES)
def test_generator_read_elsewhere_is_not_advanced_in_place(mode: str) -> None:
    # the shared generator is also read after the loop: the loop must work on a copy
    rng = gnomon.shared(np.random.default_rng(4))

    def step(prev, r):  # type: ignore[no-untyped-def]
        x = gr.normal(prev, 1.0, rng=r)
        return x, {r: x.owner.outputs[0]}

    walk, _ = gnomon.scan(step, outputs_info=[gt.constant(0.0)], non_sequences=[rng],
                          n_steps=3)  # (its update is not used)
    first = gr.normal(size=3, rng=rng)  # the generator's state before the loop
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Numba: the loop runs with NumPy
        w, x = gnomon.function([], [walk, first], mode=mode)()
    # each alone draws the same: neither advanced the generator the other read
    np.testing.assert_array_equal(np.asarray(w), gnomon.function([], walk, mode=mode)())
    np.testing.assert_array_equal(np.asarray(x), gnomon.function([], first, mode=mode)())
    if mode != "jax":  # one stream: the walk's steps are the three draws of `first`
        np.testing.assert_allclose(np.diff(np.asarray(w), prepend=0.0), x, rtol=1e-12)


def test_zero_steps_return_the_initial_generator() -> None:
    rng = gnomon.shared(np.random.default_rng(5))
    n = gt.lscalar("n")
    (walk, last), _ = gnomon.scan(
        lambda prev, r: (lambda x: (x, x.owner.outputs[0]))(gr.normal(prev, 1.0, rng=r)),
        outputs_info=[gt.constant(0.0), rng], n_steps=n)
    f = gnomon.function([n], [walk, gr.normal(rng=last)], mode="numpy")
    w, x = f(0)
    assert np.asarray(w).shape == (0,)
    assert x == np.random.default_rng(5).normal()


def test_gradient_through_a_random_scan_is_refused_clearly() -> None:
    mu = gt.dscalar("mu")
    rng = gnomon.shared(np.random.default_rng(6))

    def step(prev, r):  # type: ignore[no-untyped-def]
        x = gr.normal(prev + mu, 1.0, rng=r)
        return x, {r: x.owner.outputs[0]}

    walk, _ = gnomon.scan(step, outputs_info=[gt.constant(0.0)], non_sequences=[rng],
                          n_steps=3)
    with pytest.raises(Exception, match="random generator"):
        gnomon.grad(walk.sum(), mu)


def test_draws_made_outside_the_loop_follow_their_generator() -> None:
    # with a default update (RandomStream) the generator becomes a loop state: new each step;
    # without one the draw is a loop invariant: the same value at every step
    moving = gr.RandomStream(seed=1).normal()
    fixed = gr.normal(rng=gnomon.shared(np.random.default_rng(0)))
    for x, same in ((moving, False), (fixed, True)):
        walk, _ = gnomon.scan(lambda prev, x=x: prev + x, outputs_info=[gt.constant(0.0)],
                              n_steps=4)
        steps = np.diff(gnomon.function([], walk, mode="numpy")(), prepend=0.0)
        assert np.allclose(steps, steps[0]) == same
