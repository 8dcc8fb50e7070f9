"""The Numba lowering of ``x[int_array, ...] += y`` / ``= y`` (AdvancedIncSubtensor on the first
axis): the gradient of indexing parameters by group, so hierarchical models stay nopython."""

from __future__ import annotations

import zlib

import numpy as np
import pytest

import gnomon
import gnomon.tensor as gt
from gnomon.errors import GnomonError

pytest.importorskip("numba")

CASES = [  # x shape, index shape, value shape, set?
    ((5,), (7,), (7,), False),     # repeated indices accumulate
    ((5,), (7,), (), False),       # scalar value broadcast
    ((9, 3), (2, 4), (4, 3), True),
    ((5, 3), (6,), (3,), False),   # value broadcast along the index
    ((4,), (3,), (1,), True),
    ((5, 2), (0,), (0, 2), False),  # empty index
]


def _graph(xs, idxs, ys, setv):
    x = gt.tensor(dtype="float64", shape=(None,) * len(xs))
    y = gt.tensor(dtype="float64", shape=(None,) * len(ys))
    i = gt.tensor(dtype="int64", shape=(None,) * len(idxs))
    z = gt.set_subtensor(x[i], y) if setv else gt.inc_subtensor(x[i], y)
    return [x, y, i], z


@pytest.mark.parametrize("case", CASES, ids=str)
def test_scatter_matches_reference_and_is_compiled(case):
    xs, idxs, ys, setv = case
    ins, z = _graph(*case)
    with gnomon.config.change(tiered="off"):
        f = gnomon.function(ins, z, mode="numba")
    ref = gnomon.function(ins, z, mode="numpy")
    rng = np.random.default_rng(zlib.crc32(str(case).encode()))
    xv, yv = rng.normal(size=xs), rng.normal(size=ys)
    iv = rng.integers(-xs[0], xs[0], idxs)
    if setv:  # repeated indices keep an unspecified one of the values in NumPy: avoid them
        iv = rng.permutation(xs[0])[:int(np.prod(idxs))].reshape(idxs)
    np.testing.assert_allclose(f(xv, yv, iv), ref(xv, yv, iv), rtol=1e-13)
    assert f.compiled.state.nopython and not f.compiled.state.fallback_nodes


def test_scatter_out_of_bounds_and_bad_value_shape_are_errors():
    ins, z = _graph((5,), (2,), (2,), False)
    with gnomon.config.change(tiered="off"):
        f = gnomon.function(ins, z, mode="numba")
    with pytest.raises(GnomonError, match="out of bounds"):
        f(np.zeros(5), np.ones(2), np.array([1, 5]))
    with pytest.raises(GnomonError, match=r"shape mismatch|broadcast"):
        f(np.zeros(5), np.ones(3), np.array([1, 2]))


def test_gradient_of_group_indexing_is_nopython():
    a = gt.dvector("a")
    g = np.array([0, 2, 2, 1, 0])
    cost = gt.sum(gt.sin(a[g]) ** 2)
    with gnomon.config.change(tiered="off"):
        f = gnomon.function([a], gnomon.grad(cost, a), mode="numba")
    av = np.array([0.3, -1.2, 2.0])
    expect = np.zeros(3)
    np.add.at(expect, g, 2 * np.sin(av[g]) * np.cos(av[g]))
    np.testing.assert_allclose(f(av), expect, rtol=1e-12)
    assert f.compiled.state.nopython
