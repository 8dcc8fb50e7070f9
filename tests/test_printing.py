"""debugprint, pprint, dot."""

import numpy as np

import gnomon
import gnomon.tensor as gt
from gnomon.printing import debugprint, dot, pprint


def test_debugprint_marks_shared_subgraphs():
    x = gt.dvector("x")
    e = gt.exp(x)
    out = e * e
    text = debugprint(out, file="str")
    lines = text.splitlines()
    assert lines[0].startswith("Elemwise(mul) [id A]")
    assert sum("Elemwise(exp)" in ln for ln in lines) == 2
    assert any(ln.rstrip().endswith("···") for ln in lines)


def test_debugprint_function_shows_updates_and_shared():
    x = gt.dvector("x")
    w = gnomon.shared(np.zeros(2), name="w")
    f = gnomon.function([x], x + w, updates=[(w, w + 1)], mode="numpy")
    text = debugprint(f, file="str")
    assert "(shared)" in text and "update" in text


def test_debugprint_types_and_locations():
    x = gt.dvector("x")
    y = gt.exp(x)
    text = debugprint(y, file="str", print_location=True)
    assert "<vector<float64>>" in text and "test_printing.py" in text
    assert "<" not in debugprint(y, file="str", print_type=False)


def test_pprint_infix_and_functions():
    x, y = gt.dscalar("x"), gt.dscalar("y")
    assert pprint(-(x * y) + gt.exp(x)) == "(-(x * y) + exp(x))"
    assert pprint(x < y) == "(x < y)"


def test_dot_is_valid_graphviz_text():
    x = gt.dvector("x")
    text = dot(gt.exp(x) + x)
    assert text.startswith("digraph gnomon {") and text.rstrip().endswith("}")
    # edges: x->exp, exp->e, e->add, x->add, add->out
    assert text.count("->") == 5
