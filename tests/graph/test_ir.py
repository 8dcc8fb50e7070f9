"""The IR: interning, identity, traversal, replacement, verification."""

import gc

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import gnomon.tensor as gt
from gnomon.graph import (
    Apply,
    IRError,
    ancestors,
    clients,
    clone_replace,
    graph_inputs,
    graph_replace,
    toposort,
    verify,
)
from gnomon.graph.basic import Constant


def test_apply_is_interned():
    x, y = gt.dvector("x"), gt.dvector("y")
    a = gt.exp(x) + y
    b = gt.exp(x) + y
    assert a is b
    assert (x + y) is not (y + x)  # argument order is part of identity


def test_roots_are_unique_and_names_are_metadata():
    a, b = gt.dscalar("x"), gt.dscalar("x")
    assert a is not b
    assert (a + 1) is not (b + 1)


def test_constants_interned_by_dtype_shape_value():
    assert gt.constant(2.0) is gt.constant(2.0)
    assert gt.constant(2.0) is not gt.constant(2.0, dtype="float32")
    assert gt.constant([1, 2]) is not gt.constant([[1, 2]])
    c = gt.constant(np.arange(3.0))
    assert isinstance(c, Constant) and not c.data.flags.writeable


def test_interning_table_does_not_leak():
    before = len(Apply._table)
    for _ in range(50):
        x = gt.dvector()
        _ = gt.exp(x) * 2
    del x, _
    gc.collect()
    assert len(Apply._table) <= before + 5


def test_toposort_orders_dependencies():
    x = gt.dvector("x")
    y = gt.exp(x)
    z = y * y + gt.log(y)
    order = toposort([z])
    pos = {id(n): i for i, n in enumerate(order)}
    for n in order:
        for i in n.inputs:
            if i.owner is not None:
                assert pos[id(i.owner)] < pos[id(n)]
    assert len(order) == len({id(n) for n in order})


def test_toposort_deep_graph_no_recursion_limit():
    x = gt.dscalar("x")
    y = x
    for _ in range(5000):
        y = y + 1.0
    assert len(toposort([y])) == 5000


def test_graph_inputs_ancestors_clients():
    x, y = gt.dvector("x"), gt.dvector("y")
    z = gt.exp(x) * y + 1.0
    assert set(map(id, graph_inputs([z], include_constants=False))) == {id(x), id(y)}
    assert any(isinstance(v, Constant) for v in graph_inputs([z], include_constants=True))
    assert x in set(ancestors([z]))
    c = clients([z])
    assert len(c[x]) == 1 and c[x][0][0].op.scalar_op.name == "exp"


def test_graph_replace_rebuilds_and_shares():
    x, y, w = gt.dvector("x"), gt.dvector("y"), gt.dvector("w")
    shared_part = gt.exp(y)
    z = x * 2 + shared_part
    (z2,) = graph_replace([z], {x: w})
    assert z2 is w * 2 + shared_part
    assert z2.owner.inputs[1] is shared_part


def test_graph_replace_type_check():
    x = gt.dvector("x")
    with pytest.raises(TypeError, match="cannot replace"):
        graph_replace([x + 1], {x: gt.dmatrix("m")})


def test_clone_replace_fresh_roots():
    x, y = gt.dvector("x"), gt.dvector("y")
    z = x + y
    (z2,) = clone_replace([z], {x: x})
    assert z2 is not z
    assert z2.owner.inputs[0] is x and z2.owner.inputs[1] is not y


def test_verify_accepts_good_graph_and_catches_broken_one():
    x = gt.dvector("x")
    z = gt.exp(x) + 1
    verify([z])
    node = z.owner
    # Simulate corruption: an output pointing at the wrong index.
    out = node.outputs[0]
    old = out.index
    out.index = 5
    try:
        with pytest.raises(IRError):
            verify([z])
    finally:
        out.index = old


def test_source_line_recorded():
    x = gt.dvector("x")
    y = gt.exp(x)  # the line below must be this file
    assert y.owner.trace[0] == __file__
    assert x.trace[0] == __file__


@settings(max_examples=30, deadline=None)
@given(st.lists(st.sampled_from(["exp", "neg", "add", "mul"]), min_size=1, max_size=12))
def test_building_twice_gives_identical_graph(ops):
    x = gt.dvector("x")

    def build():
        y = x
        for o in ops:
            y = {"exp": gt.exp, "neg": gt.neg, "add": lambda v: v + x, "mul": lambda v: v * 2.0}[
                o](y)
        return y

    assert build() is build()


def test_bool_of_variable_is_a_clear_error():
    x = gt.dscalar("x")
    with pytest.raises(TypeError, match="ifelse"):
        if x > 0:
            pass
