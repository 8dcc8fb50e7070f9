"""Discrepancies the fuzzer reports without failing: known bugs not fixed yet (:data:`KNOWN`) and
differences accepted by design (:data:`ACCEPTED`).

Each entry matches only its own discrepancies: the backend, the kind of difference, and where
it helps an op of the case, a phrase of the detail and a test on the values. Delete a
:data:`KNOWN` entry when its fix lands: the suite then checks that class of inputs again.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from tests.fuzz.spec import Spec


@dataclass(frozen=True)
class Known:
    """One known discrepancy.

    ``ops``: the case uses one of these ops (``None``: any). ``detail``: a phrase of the
    discrepancy's description. ``when``: a test on the value set that shows it (every value
    set of a crash, where the failing one is not known). ``graph``: a test on the case."""

    issue: str
    backend: str
    kinds: tuple[str, ...]
    ops: frozenset[str] | None = None
    detail: str | None = None
    when: Callable[[Sequence[np.ndarray]], bool] | None = None
    graph: Callable[[Spec], bool] | None = None

    def matches(self, spec: Spec, disc: dict[str, Any]) -> bool:
        """Does this entry explain discrepancy ``disc`` of ``spec``?"""
        if disc["backend"] != self.backend or disc["kind"] not in self.kinds:
            return False
        if self.ops is not None and not self.ops & set(spec.ops()):
            return False
        if self.detail is not None and self.detail not in disc.get("detail", ""):
            return False
        if self.graph is not None and not self.graph(spec):
            return False
        if self.when is None:
            return True
        i = disc.get("value_set")
        sets = spec.values if i is None else [spec.values[i]]
        return any(self.when(vs) for vs in sets)


def _same_operand_twice(ops: set[str]) -> Callable[[Spec], bool]:
    """The case applies one of ``ops`` with one value as two of its operands (``t / t``)."""
    return lambda spec: any(s.op in ops and len(set(s.args)) < len(s.args) for s in spec.steps)


def _floats(values: Sequence[np.ndarray]) -> list[np.ndarray]:
    out = []
    for v in values:
        if v.dtype.kind == "f":
            out.append(v)
        elif v.dtype.kind == "c":
            out += [v.real, v.imag]
    return out


def _subnormal(values: Sequence[np.ndarray]) -> bool:
    """A float input holds a subnormal number."""
    return any(((v != 0) & (np.abs(v) < np.finfo(v.dtype).tiny)).any() for v in _floats(values))


def _complex_extreme(values: Sequence[np.ndarray]) -> bool:
    """A complex input has an infinite, NaN or huge (beyond 1e15) part."""
    with np.errstate(all="ignore"):
        return any(v.dtype.kind == "c" and not (np.abs(v.view(v.real.dtype)) < 1e15).all()
                   for v in values)


def _complex_zero(values: Sequence[np.ndarray]) -> bool:
    """A complex input holds a zero (a divisor, in the entries that use this)."""
    return any(v.dtype.kind == "c" and (v == 0).any() for v in values)






def _has_int_zero(values: Sequence[np.ndarray]) -> bool:
    return any(v.dtype.kind in "iu" and (v == 0).any() for v in values)


#: known bugs, not fixed yet (found by the fuzzer, issue 16); delete an entry when it is fixed
KNOWN: list[Known] = [
    Known("jax: an integer to a negative integer power returns a number; the reference raises "
          "ValueError like NumPy (a value check XLA cannot make under jit)",
          "jax", ("missing-error",), frozenset({"pow", "pow_int"}),
          detail="Integers to negative integer powers"),
    Known("jax: advanced set_subtensor with both an out-of-bounds constant index and values "
          "that do not broadcast reports the index, NumPy the shapes "
          "(gnomon/backends/jax/indexing.py checks bounds first)", "jax", ("error-class",),
          frozenset({"set_subtensor_advanced"}),
          detail="backend raised IndexOutOfBoundsError"),
    Known("numba: gammaln of a negative subnormal gives -log|x| (C lgamma, correct) where SciPy, "
          "the reference, gives inf", "numba", ("value",), frozenset({"gammaln"}),
          when=_subnormal),
]

#: differences accepted by design (documented limits of a backend, results NumPy leaves
#: undefined); reported as such, never failures
ACCEPTED: list[Known] = [
    Known("rewrites: t / t -> 1 and t - t -> 0 assume a finite, non-zero t (NaN, inf and 0/0 "
          "give 1 or 0; errors computing t are dropped): the algebra_ieee group, documented in "
          "docs/differences.md, as in PyTensor",
          "noopt", ("value", "unexpected-error"),
          graph=_same_operand_twice({"true_div", "true_div_int", "sub"})),
    Known("jax: indices that are traced (not known at compile time) are not bounds-checked; "
          "JAX clamps them (documented in gnomon/backends/jax/indexing.py)",
          "jax", ("missing-error", "error-class"),
          detail="reference raised IndexOutOfBoundsError"),
    Known("jax: no LinAlgError under jit (singular or non-finite matrices give inf/nan, as in "
          "JAX)", "jax", ("missing-error", "error-class"), detail="LinAlgError"),
    Known("jax: XLA on CPU flushes subnormal floats to zero", "jax", ("value",),
          when=_subnormal),
    Known("jax: complex functions at infinite, NaN or huge arguments follow XLA, not C99 "
          "Annex G as NumPy does", "jax", ("value",), when=_complex_extreme),
    Known("jax: complex division by zero follows XLA (inf, signs per C99) where NumPy gives "
          "nan+nanj or inf+nanj", "jax", ("value",),
          frozenset({"reciprocal", "true_div", "true_div_int"}), when=_complex_zero),
    Known("numba: complex division by zero follows C99 (inf with signs) where NumPy gives "
          "inf+nanj or nan+nanj", "numba", ("value",),
          frozenset({"reciprocal", "true_div", "true_div_int"}), when=_complex_zero),
    Known("rewrites skip computing values no output needs (the shape of a reduction, a reshape "
          "of a reshape): errors those computations would raise are dropped, as in PyTensor",
          "noopt", ("unexpected-error",)),
    Known("numba: when several nodes fail, which error is reported depends on the order the "
          "nodes run in (not specified)", "numba", ("error-class",),
          graph=lambda spec: len(spec.outputs) > 1),
    Known("jax: when several nodes fail, which error is reported depends on the order the nodes "
          "run in (not specified)", "jax", ("error-class",),
          graph=lambda spec: len(spec.outputs) > 1),
    Known("stabilizing rewrites (log(softmax) -> log_softmax, ...) give finite results where "
          "the graph as written overflows", "noopt", ("value",), detail="[overflow:"),
    Known("jax: the integer reciprocal of 0 is undefined in NumPy (INT_MIN on x86, from an "
          "inf-to-int cast); XLA gives INT_MAX", "jax", ("value",), frozenset({"reciprocal"}),
          when=_has_int_zero),
]


def known_issue(spec: Spec, disc: dict[str, Any]) -> str | None:
    """Why ``disc`` is not a failure (``"known bug: ..."`` or ``"accepted: ..."``), or ``None``
    when no entry of :data:`KNOWN` or :data:`ACCEPTED` explains it."""
    for k in KNOWN:
        if k.matches(spec, disc):
            return "known bug: " + k.issue
    for k in ACCEPTED:
        if k.matches(spec, disc):
            return "accepted: " + k.issue
    return None
