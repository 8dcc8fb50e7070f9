"""Large graphs compile in time linear in their size (issue 13, goal 4).

A chain ``x = x*1.0001 + 1`` of 2,000 steps and a sum of 2,000 scaled scalar inputs: fused
groups are capped (``fusion.MAX_GROUP``), alike groups share one kernel, variadic sums are
bounded (``canonicalize.MAX_ARITY``), and a program with many nodes or arguments is a Python
function calling the compiled kernels (``linker.MAX_WHOLE_NODES``). The checks count kernels
and group sizes (no timing); values are compared with NumPy.
"""

from __future__ import annotations

import numpy as np
import pytest

import gnomon
import gnomon.tensor as gt
from gnomon.backends.numba import linker
from gnomon.compile import tiered
from gnomon.rewrite.rules import canonicalize, fusion
from gnomon.scalar.basic import Add
from gnomon.scalar.composite import Composite
from gnomon.tensor.elemwise import Elemwise

DEPTH = 2000


def _chain(x, depth):
    for _ in range(depth):
        x = x * 1.0001 + 1
    return x


def _kernels(f):
    """The distinct kernel sources of ``f``'s program, and every fused group's size."""
    nodes = f.program.nodes
    sources = {linker.lower_node(n) for n in nodes}
    sizes = [fusion._size(n) for n in nodes
             if isinstance(n.op, Elemwise) and isinstance(n.op.scalar_op, Composite)]
    return sources, sizes


@pytest.fixture(scope="module")
def chain_fn():
    x = gt.tensor(dtype="float64", shape=(None,), name="x")
    saved = linker.MAX_WHOLE_NODES
    # a program of more nodes than this is a Python function calling its kernels (at the
    # default, 256, that takes a chain of ~8,000 steps: too slow for the suite)
    linker.MAX_WHOLE_NODES = 16
    try:
        f = gnomon.function([x], _chain(x, DEPTH), mode=gnomon.Mode("numba", tiered="off"))
        xv = np.linspace(-1.0, 1.0, 7)
        out = f(xv)
    finally:
        linker.MAX_WHOLE_NODES = saved
    return x, f, xv, out


def test_chain_groups_are_capped_and_share_kernels(chain_fn):
    _, f, xv, out = chain_fn
    np.testing.assert_allclose(out, _chain(xv, DEPTH), rtol=1e-12)
    sources, sizes = _kernels(f)
    # 4,000 elementwise nodes in groups of at most MAX_GROUP operations, all but the last
    # alike: two distinct kernels, one compile each
    assert max(sizes) <= fusion.MAX_GROUP
    assert len(sizes) == len(f.program.nodes) == -(-2 * DEPTH // fusion.MAX_GROUP)
    assert len(sources) == 2
    # more nodes than MAX_WHOLE_NODES: the program is not one nopython function
    assert f.compiled.state.nopython is False
    assert f.compiled.outputs_never_alias


def test_chain_python_program_broadcasts_and_checks(chain_fn):
    _, f, _, _ = chain_fn
    # the same compiled program on another length; a wrong rank is refused
    xv = np.arange(3.0)
    np.testing.assert_allclose(f(xv), _chain(xv, DEPTH), rtol=1e-12)
    with pytest.raises(TypeError):
        f(np.zeros((2, 2)))


def test_chain_tiered_first_and_final_agree():
    # the default tiers: the first call on the reference, later ones on the Numba program
    # (whose kernels the module fixture compiled, so this costs only the reference run)
    x = gt.tensor(dtype="float64", shape=(None,), name="x")
    f = gnomon.function([x], _chain(x, DEPTH), mode=gnomon.Mode("numba", tiered="first"))
    xv = np.linspace(-1.0, 1.0, 7)
    first = f(xv)
    assert tiered.wait(f, timeout=600)
    final = f(xv)
    np.testing.assert_allclose(first, _chain(xv, DEPTH), rtol=1e-12)
    np.testing.assert_allclose(final, _chain(xv, DEPTH), rtol=1e-12)


def test_many_scalar_inputs():
    n = 2000
    xs = [gt.tensor(dtype="float64", shape=(), name=f"x{k}") for k in range(n)]
    out = xs[0]
    for k, x in enumerate(xs[1:]):
        out = out + x * (1.0 + k * 1e-3)
    f = gnomon.function(xs, out, mode=gnomon.Mode("numba", tiered="off"))
    rng = np.random.default_rng(13)
    vals = [np.array(v) for v in rng.uniform(-1, 1, n)]
    expected = vals[0] + sum(v * (1.0 + k * 1e-3) for k, v in enumerate(vals[1:]))
    np.testing.assert_allclose(f(*vals), expected, rtol=1e-12)
    nodes = f.program.nodes
    sources, sizes = _kernels(f)
    assert max(sizes) <= fusion.MAX_GROUP
    # every node reads a bounded number of arrays (no kernel of 2,000 arguments)
    assert max(len(nd.inputs) for nd in nodes) <= fusion.MAX_GROUP
    # alike groups share kernels: a handful of distinct kernels for ~60 groups (and a few
    # one-node products where a capped group ends inside a flattened sum)
    assert len(sizes) <= 2 * n // fusion.MAX_GROUP + 2
    assert len(nodes) <= 2 * n // fusion.MAX_GROUP + 32
    assert len(sources) <= 6
    assert f.compiled.state.nopython is False  # 2,000 arguments: a Python program


def test_flattened_sums_are_bounded():
    # (a + b) + c + ... flattens into variadic adds of at most MAX_ARITY terms, same value
    n = 200
    xs = [gt.tensor(dtype="float64", shape=(3,), name=f"x{k}") for k in range(n)]
    out = xs[0]
    for x in xs[1:]:
        out = out + x
    f = gnomon.function(xs, out, mode="numpy")
    rng = np.random.default_rng(7)
    vals = [rng.normal(size=3) for _ in range(n)]
    np.testing.assert_allclose(f(*vals), np.sum(vals, axis=0), rtol=1e-12)
    adds = [nd for nd in f.program.nodes
            if isinstance(nd.op, Elemwise) and isinstance(nd.op.scalar_op, Add)]
    assert adds and max(len(nd.inputs) for nd in adds) <= canonicalize.MAX_ARITY
    assert len(adds) >= (n - 1) // (canonicalize.MAX_ARITY - 1)


def test_broadcasting_copy_of_a_large_loop():
    # the run-time broadcasting copy of a fused loop (its locals renamed, elemwise._renamed)
    x = gt.tensor(dtype="float64", shape=(None,), name="x")
    y = gt.tensor(dtype="float64", shape=(None,), name="y")
    f = gnomon.function([x, y], _chain(x * y, 5), mode=gnomon.Mode("numba", tiered="off"))
    xv, yv = np.linspace(0, 1, 5), np.array([2.0])
    np.testing.assert_allclose(f(xv, yv), _chain(xv * yv, 5), rtol=1e-12)
    np.testing.assert_allclose(f(yv, xv), _chain(yv * xv, 5), rtol=1e-12)
    src = linker.lower_node(f.program.nodes[0])
    assert src.count("x0 = ") == 1 and src.count("x0_g = ") == 1
