"""``Composite`` (a fused group of scalar ops) as straight-line statements in one loop body.

Each instruction of the Composite's program becomes one local variable ``t<slot>``, cast to the
slot's dtype exactly as the unfused nodes would have stored it, so fusing never changes a
result's dtype or rounding.

Floating-point constants are arguments of the kernel (:func:`constant_arguments`), not
literals, so that programs differing only in a constant's value (``x * 1.5`` and ``x * 2.5``,
a model's prior scale) share one compiled kernel: compiling a kernel costs ~0.3 s, passing a
double costs nothing measurable. The exceptions stay literals, because LLVM specializes on
their value: exponents of ``power`` (``x ** 3.0`` becomes multiplications), and integer and
boolean constants (division by a constant becomes a multiplication, conditions fold).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from gnomon.backends.numba.scalar import ctor, literal, scalar_source
from gnomon.errors import NotLoweredError


def constant_arguments(op: Any, in_dtypes: Sequence[str]) -> dict[int, tuple[str, Any]]:
    """``{slot: (dtype, value)}`` of the constants of Composite ``op`` that its kernel takes as
    arguments (in slot order; see the module docstring)."""
    import numpy as np

    from gnomon.scalar.composite import ScalarConstant

    n = op.n_inputs
    sd = op.slot_dtypes(*in_dtypes)
    exponents = {ins[1] for sop, ins in op.program
                 if getattr(sop, "impl", None) in (np.power, np.float_power) and len(ins) == 2}
    out: dict[int, tuple[str, Any]] = {}
    for k, (sop, _) in enumerate(op.program):
        slot = n + k
        if (isinstance(sop, ScalarConstant) and sd[slot] in ("float32", "float64")
                and slot not in exponents):
            out[slot] = (sd[slot], np.asarray(sop.value, dtype=sd[slot]).reshape(()).item())
    return out


def composite_body(
    op: object, args: Sequence[str], in_dtypes: Sequence[str], out_dtypes: Sequence[str],
    consts: Mapping[int, str] | None = None,
) -> tuple[list[str], list[str]]:
    """Statements computing every slot of Composite ``op``, and the output expressions;
    ``consts`` names the kernel arguments holding constants (slot -> name)."""
    from gnomon.scalar.composite import ScalarConstant

    n = op.n_inputs  # type: ignore[attr-defined]
    sd = op.slot_dtypes(*in_dtypes)  # type: ignore[attr-defined]
    names = list(args)
    lines: list[str] = []
    for k, (sop, ins) in enumerate(op.program):  # type: ignore[attr-defined]
        slot = n + k
        dt = sd[slot]
        if isinstance(sop, ScalarConstant):
            if consts and slot in consts:
                names.append(consts[slot])
                continue
            lit = literal(sop.value, dt)
            if lit is None:
                raise NotLoweredError(f"no Numba literal for the constant {sop}")
            names.append(lit)
            continue
        expr = scalar_source(sop, [names[i] for i in ins], [sd[i] for i in ins], [dt])
        lines.append(f"t{slot} = {ctor(dt)}({expr})")
        names.append(f"t{slot}")
    return lines, [names[s] for s in op.out_slots]  # type: ignore[attr-defined]
