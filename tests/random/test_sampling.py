"""``choice`` and ``permutation`` on every backend: shapes and dtypes equal NumPy's
``Generator``; frequencies match (chi-square); without replacement the items are distinct and
follow successive sampling; permutations are permutations, uniform over the orderings.

Significance: ``ALPHA = 0.01 / number of chi-square tests`` (Bonferroni), fixed seeds."""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import pytest
from scipy import stats

import gnomon
import gnomon.random as gr
from gnomon.testing import available_modes

MODES = available_modes()
N_CHI2 = 6  # chi-square tests per mode
ALPHA = 0.01 / (N_CHI2 * len(MODES))
DRAWS = 600
P = np.array([0.1, 0.2, 0.3, 0.4])


def _rng(seed: int = 0) -> Any:
    return gnomon.shared(np.random.default_rng(seed))


def _chi2(observed: np.ndarray, probs: np.ndarray, where: str) -> None:
    assert observed.sum() == DRAWS, f"{where}: {observed.sum()} of {DRAWS} draws counted"
    p = stats.chisquare(observed, probs * observed.sum()).pvalue
    assert p > ALPHA, f"{where}: chi-square p-value {p:.3g} < {ALPHA:.3g}"


SHAPE_CASES = [
    ("int", lambda g: g.choice(5), lambda **k: gr.choice(5, **k)),
    ("int-size", lambda g: g.choice(5, size=(2, 3)), lambda **k: gr.choice(5, size=(2, 3), **k)),
    ("float-array", lambda g: g.choice(np.arange(4.0), size=4, replace=False),
     lambda **k: gr.choice(np.arange(4.0), size=4, replace=False, **k)),
    ("rows", lambda g: g.choice(np.eye(3, dtype="float32"), size=(2,)),
     lambda **k: gr.choice(np.eye(3, dtype="float32"), size=(2,), **k)),
    ("p", lambda g: g.choice(4, size=(3,), p=P), lambda **k: gr.choice(4, size=(3,), p=P, **k)),
    ("p-no-replace", lambda g: g.choice(np.arange(4, dtype="int32"), size=2, p=P, replace=False),
     lambda **k: gr.choice(np.arange(4, dtype="int32"), size=2, p=P, replace=False, **k)),
    ("permutation-int", lambda g: g.permutation(4), lambda **k: gr.permutation(4, **k)),
    ("permutation-vector", lambda g: g.permutation(np.arange(3.0)),
     lambda **k: gr.permutation(np.arange(3.0), **k)),
    ("permutation-rows", lambda g: g.permutation(np.ones((3, 2))),
     lambda **k: gr.permutation(np.ones((3, 2)), **k)),
]


@pytest.mark.parametrize("mode", MODES)
def test_shapes_and_dtypes_are_numpys(mode: str) -> None:
    for name, ref, build in SHAPE_CASES:
        want = np.asarray(ref(np.random.default_rng(0)))
        x = build(rng=_rng())
        got = np.asarray(gnomon.function([], x, mode=mode)())
        assert (got.shape, got.dtype) == (want.shape, want.dtype), (name, mode)
        assert x.type.shape == want.shape, name  # static shapes too
        if mode == "numpy":  # the reference draws NumPy's numbers
            np.testing.assert_array_equal(got, want, err_msg=name)


@pytest.mark.parametrize("mode", MODES)
def test_choice_with_replacement_frequencies(mode: str) -> None:
    f = gnomon.function([], [gr.choice(4, size=DRAWS, rng=_rng(1)),
                             gr.choice(np.arange(4) * 10, size=DRAWS, p=P, rng=_rng(2))],
                        mode=mode)
    uni, weighted = (np.asarray(v) for v in f())
    _chi2(np.bincount(uni, minlength=4), np.full(4, 0.25), f"uniform choice on {mode}")
    assert set(np.unique(weighted).tolist()) <= {0, 10, 20, 30}
    _chi2(np.bincount(weighted // 10, minlength=4), P, f"choice with p on {mode}")


def _pair_counts(samples: np.ndarray, k: int) -> np.ndarray:
    counts = np.zeros((k, k))
    np.add.at(counts, (samples[:, 0], samples[:, 1]), 1)
    return counts[~np.eye(k, dtype=bool)]


@pytest.mark.parametrize("mode", MODES)
def test_choice_without_replacement_is_successive_sampling(mode: str) -> None:
    uni = gr.choice(4, size=3, replace=False, rng=_rng(3))
    weighted = gr.choice(4, size=(1, 2), replace=False, p=P, rng=_rng(4))
    draws = gnomon.draw([uni, weighted], draws=DRAWS, random_seed=5, mode=mode)
    a, b = (np.asarray(v) for v in draws)
    assert a.shape == (DRAWS, 3) and b.shape == (DRAWS, 1, 2)
    b = b.reshape(DRAWS, 2)
    for s in (a, b):  # distinct items in every sample
        assert np.all(np.sort(s, axis=1)[:, 1:] != np.sort(s, axis=1)[:, :-1])
    # ordered pairs (first, second): uniform over the 12, or p_i * p_j / (1 - p_i)
    _chi2(_pair_counts(a, 4), np.full(12, 1 / 12), f"uniform without replacement on {mode}")
    want = (P[:, None] * P[None, :] / (1 - P[:, None]))[~np.eye(4, dtype=bool)]
    _chi2(_pair_counts(b, 4), want, f"p without replacement on {mode}")


@pytest.mark.parametrize("mode", MODES)
def test_permutations_are_uniform_permutations(mode: str) -> None:
    rows = np.arange(6.0).reshape(3, 2)
    perm, shuffled = gr.permutation(3, rng=_rng(6)), gr.permutation(rows, rng=_rng(7))
    a, b = (np.asarray(v) for v in gnomon.draw([perm, shuffled], draws=DRAWS, random_seed=8,
                                               mode=mode))
    np.testing.assert_array_equal(np.sort(a, axis=1), np.tile(np.arange(3), (DRAWS, 1)))
    orders = list(itertools.permutations(range(3)))
    counts = np.array([np.sum(np.all(a == o, axis=1)) for o in orders])
    _chi2(counts, np.full(6, 1 / 6), f"permutation on {mode}")
    # rows move whole: each draw is rows[some permutation]
    idx = b[:, :, 0] // 2
    np.testing.assert_array_equal(b, rows[idx.astype(int)])
    counts = np.array([np.sum(np.all(idx == o, axis=1)) for o in orders])
    _chi2(counts, np.full(6, 1 / 6), f"permutation of rows on {mode}")
