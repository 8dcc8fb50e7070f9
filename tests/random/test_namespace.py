"""The ``gnomon.random`` namespace: explicit ``__all__``, a clean ``dir``, every distribution
reachable from it and from ``RandomStream``."""

from __future__ import annotations

import inspect

import gnomon.random as gr
import gnomon.tensor as gt
from gnomon.random import distributions
from gnomon.random.op import RandomVariable


def test_dir_is_the_public_names() -> None:
    assert dir(gr) == sorted(gr.__all__)
    assert len(set(gr.__all__)) == len(gr.__all__)
    for leak in ("annotations", "sys", "distributions", "op", "type", "stream"):
        assert leak not in dir(gr), leak
    for name in gr.__all__:
        assert getattr(gr, name) is not None, name


def test_every_distribution_is_exported_with_a_stream_method() -> None:
    classes = [v for v in vars(distributions).values() if inspect.isclass(v)
               and issubclass(v, RandomVariable) and not inspect.isabstract(v)
               and not v.__name__.startswith("_")]
    assert len(classes) >= 36
    for cls in classes:
        assert cls.__name__ in gr.__all__, cls
    functions = [n for n in distributions.__all__ if n[0].islower()]
    for name in functions:
        assert name in gr.__all__
        assert callable(getattr(gr.RandomStream, name)), name
    names = {c.name for c in classes}
    assert names <= set(functions), names - set(functions)  # op name = function name


def test_pytensor_spelling() -> None:
    import gnomon.tensor.random as gtr

    assert gt.random is gr and gtr is gr
