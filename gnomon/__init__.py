"""gnomon: define, rewrite, differentiate and compile expressions over multi-dimensional arrays.

Examples
--------
>>> import gnomon, gnomon.tensor as gt
>>> a, b = gt.dscalar("a"), gt.dscalar("b")
>>> f = gnomon.function([a, b], a + b)
>>> float(f(1.5, 2.5))
4.0
"""

from gnomon import logprob, printing, random, tensor
from gnomon.compile.function import Function, function
from gnomon.compile.mode import Mode
from gnomon.compile.shared import SharedVariable, shared
from gnomon.config import config
from gnomon.control import OpFromGraph, foldl, foldr, ifelse, map, reduce, scan
from gnomon.gradient import (
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
    zero_grad,
)
from gnomon.random import draw
from gnomon.rewrite.engine import rewrite_graph as rewrite_graph

__version__ = "0.1.0"

__all__ = [
    "Function", "Mode", "SharedVariable", "config", "consider_constant", "disconnected_grad",
    "function", "grad", "grad_clip", "grad_scale", "hessian", "hessian_vector_product",
    "jacobian", "printing", "pullback", "pushforward", "shared", "tensor", "zero_grad",
    "OpFromGraph", "foldl", "foldr", "ifelse", "map", "reduce", "scan", "random", "draw",
    "logprob",
]
