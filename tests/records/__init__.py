"""The op-records table: one row per op (or per distinct use of an op), driving the tests.

A row says how to build the op symbolically, what NumPy/SciPy computes for the same inputs, on
which input cases, and which derivative orders to check. ``tests/test_op_records.py`` runs every
row against the reference backend, gradients by finite differences, and every other backend
against the reference. Each family has its own module ``tests/records/<family>_records.py``
defining ``RECORDS: list[OpRecord]``.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Arg:
    """A random input array: dtype, shape and value range (``kind`` picks the generator)."""

    shape: tuple[int, ...]
    dtype: str = "float64"
    low: float = -2.0
    high: float = 2.0
    kind: str = "uniform"  # uniform | int | bool | spd | positive | unit | distinct
    static: bool = False   # give the symbolic input this static shape

    def draw(self, rng: np.random.Generator) -> np.ndarray:
        dt = np.dtype(self.dtype)
        if self.kind == "bool" or dt.kind == "b":
            return rng.random(self.shape) < 0.5
        if self.kind == "int" or dt.kind in "iu":
            return rng.integers(int(self.low), int(self.high) + 1, self.shape).astype(dt)
        if self.kind == "spd":
            n = self.shape[-1]
            a = rng.standard_normal(self.shape)
            return (a @ np.swapaxes(a, -1, -2) + n * np.eye(n)).astype(dt)
        if self.kind == "distinct":
            # Values far apart: for sort / max / argmax, where ties break finite differences.
            n = int(np.prod(self.shape))
            vals = rng.permutation(n).astype("float64") * 0.5 + rng.uniform(0, 0.1, n)
            return vals.reshape(self.shape).astype(dt)
        x = rng.uniform(self.low, self.high, self.shape)
        if dt.kind == "c":
            x = x + 1j * rng.uniform(self.low, self.high, self.shape)
        return x.astype(dt)


def F(*shape: int, dtype: str = "float64", low: float = -2.0, high: float = 2.0,
      static: bool = False) -> Arg:
    """A float input of ``shape`` uniform in ``[low, high)``."""
    return Arg(tuple(shape), dtype, low, high, "uniform", static)


def P(*shape: int, dtype: str = "float64", low: float = 0.2, high: float = 3.0) -> Arg:
    """A positive float input."""
    return Arg(tuple(shape), dtype, low, high, "uniform")


def I(*shape: int, dtype: str = "int64", low: int = -5, high: int = 5) -> Arg:  # noqa: E743
    """An integer input."""
    return Arg(tuple(shape), dtype, low, high, "int")


def B(*shape: int) -> Arg:
    """A boolean input."""
    return Arg(tuple(shape), "bool", kind="bool")


def SPD(*shape: int, dtype: str = "float64") -> Arg:
    """A symmetric positive-definite matrix (or stack of them)."""
    return Arg(tuple(shape), dtype, kind="spd")


def D(*shape: int, dtype: str = "float64") -> Arg:
    """Distinct, well-separated float values (no ties)."""
    return Arg(tuple(shape), dtype, kind="distinct")


@dataclass(frozen=True)
class OpRecord:
    """One row of the table.

    Attributes
    ----------
    name : unique id of the row (shown in test ids)
    fn : builds the output(s) from symbolic inputs, e.g. ``lambda x: gt.sum(x, axis=1)``
    ref : computes the same from NumPy arrays, e.g. ``lambda x: np.sum(x, axis=1)``
    cases : input cases; each is a sequence of :class:`Arg` (one per input of ``fn``)
    grad : highest derivative order to check (0: not differentiable / integer output)
    ops : the op classes this row exercises (for the backend coverage test)
    rtol, atol : override the dtype's default tolerance
    grad_wrt : which inputs to differentiate (default: every float input)
    random : the row draws random numbers: the reference must equal ``ref`` (same seed), but
        other backends' streams differ, so they are compared on shapes and dtypes only
    """

    name: str
    fn: Callable[..., Any]
    ref: Callable[..., Any]
    cases: Sequence[Sequence[Arg]]
    grad: int = 1
    ops: tuple[type, ...] = ()
    rtol: float | None = None
    atol: float | None = None
    grad_wrt: tuple[int, ...] | None = None
    grad_rtol: float | None = None
    marks: tuple[Any, ...] = field(default_factory=tuple)
    random: bool = False


def all_records() -> list[OpRecord]:
    """Every row of every ``*_records`` module in this package."""
    out: list[OpRecord] = []
    for m in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if m.name.endswith("_records"):
            mod = importlib.import_module(f"{__name__}.{m.name}")
            out.extend(mod.RECORDS)
    names = [r.name for r in out]
    dup = {n for n in names if names.count(n) > 1}
    assert not dup, f"duplicate op-record names: {sorted(dup)}"
    return out
