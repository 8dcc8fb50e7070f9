"""PyTensor's ``pytensor.scan.views`` module path: ``map``, ``reduce``, ``foldl``, ``foldr``."""

from __future__ import annotations

from gnomon.control.scan import foldl, foldr, map, reduce

__all__ = ["foldl", "foldr", "map", "reduce"]
