"""gnomon: define, rewrite, differentiate and compile expressions over multi-dimensional arrays.

Examples
--------
>>> import gnomon, gnomon.tensor as gt
>>> a, b = gt.dscalar("a"), gt.dscalar("b")
>>> f = gnomon.function([a, b], a + b)
>>> float(f(1.5, 2.5))
4.0
"""

import importlib as _importlib

from gnomon import printing, tensor
from gnomon.compile.function import Function, function
from gnomon.compile.io import In, Out
from gnomon.compile.mode import Mode
from gnomon.compile.shared import SharedVariable, shared
from gnomon.config import config
from gnomon.control import OpFromGraph, foldl, foldr, map, reduce
from gnomon.gradient import (
    Lop,
    Rop,
    consider_constant,
    disconnected_grad,
    grad,
    grad_clip,
    grad_scale,
    hessian,
    hessian_vector_product,
    jacobian,
    pullback,
    pushforward,
    verify_grad,
    zero_grad,
)
from gnomon.graph.replace import clone_replace, graph_replace, vectorize_graph
from gnomon.printing import dprint, pp
from gnomon.rewrite.engine import rewrite_graph as rewrite_graph

# PyTensor's names in the tensor namespace (``pt.grad``): the gradient layer sits above
# gnomon.tensor, so they are bound here, where both are imported.
tensor.grad = grad  # type: ignore[attr-defined]
tensor.jacobian = jacobian  # type: ignore[attr-defined]
tensor.hessian = hessian  # type: ignore[attr-defined]

# PyTensor's module paths. ``gnomon.ifelse`` is the module gnomon/ifelse.py, callable as the
# function (``gnomon.ifelse(c, a, b)`` and ``from gnomon.ifelse import ifelse`` both work).
# Importing the package gnomon/scan binds ``gnomon.scan`` to it; as in PyTensor the name is then
# the function again, and ``from gnomon.scan.utils import until`` finds the module.
ifelse = _importlib.import_module("gnomon.ifelse")
_importlib.import_module("gnomon.scan")
scan = _importlib.import_module("gnomon.control.scan").scan

__version__ = "0.1.0"

__all__ = [
    "Function", "Mode", "SharedVariable", "config", "consider_constant", "disconnected_grad",
    "function", "grad", "grad_clip", "grad_scale", "hessian", "hessian_vector_product",
    "jacobian", "printing", "pullback", "pushforward", "shared", "tensor", "zero_grad",
    "OpFromGraph", "foldl", "foldr", "ifelse", "map", "reduce", "scan", "random", "draw",
    "logprob", "export_c",
    "Lop", "Rop", "clone_replace", "dprint", "graph_replace", "pp", "vectorize_graph",
    "verify_grad", "In", "Out",
]


def __getattr__(name: str) -> object:
    # Imported on first use, not with gnomon: gnomon.export_c (the C backend), and the
    # probabilistic layers gnomon.random, gnomon.draw and gnomon.logprob (~0.3 s of the ~0.9 s
    # that ``import gnomon`` took; a graph with random variables imports them to be built).
    if name == "export_c":
        from gnomon.backends.c.export import export_c

        return export_c
    if name in ("random", "logprob"):
        return _importlib.import_module(f"gnomon.{name}")
    if name == "draw":
        from gnomon.random import draw

        return draw
    raise AttributeError(f"module 'gnomon' has no attribute {name!r}")
