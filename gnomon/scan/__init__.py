"""PyTensor's ``pytensor.scan`` package path: ``scan`` and its views (``map``, ``reduce``,
``foldl``, ``foldr``), with the submodules ``basic``, ``views`` and ``utils`` (``until``).

The loop itself lives in :mod:`gnomon.control.scan`. As in PyTensor, the top-level name
``gnomon.scan`` is the function (``gnomon/__init__.py`` binds it after importing this package),
while ``from gnomon.scan.utils import until`` and ``from gnomon.scan import scan`` reach the
modules.
"""

from __future__ import annotations

from gnomon.control.scan import Scan, foldl, foldr, map, reduce, scan, until
from gnomon.scan import basic, utils, views

__all__ = ["Scan", "basic", "foldl", "foldr", "map", "reduce", "scan", "until", "utils", "views"]
