"""``Composite`` (a fused group of scalar ops) as straight-line statements in one loop body.

Each instruction of the Composite's program becomes one local variable ``t<slot>``, cast to the
slot's dtype exactly as the unfused nodes would have stored it, so fusing never changes a
result's dtype or rounding. Constants become literals.
"""

from __future__ import annotations

from collections.abc import Sequence

from gnomon.backends.numba.scalar import ctor, literal, scalar_source
from gnomon.errors import NotLoweredError


def composite_body(
    op: object, args: Sequence[str], in_dtypes: Sequence[str], out_dtypes: Sequence[str],
) -> tuple[list[str], list[str]]:
    """Statements computing every slot of Composite ``op``, and the output expressions."""
    from gnomon.scalar.composite import ScalarConstant

    n = op.n_inputs  # type: ignore[attr-defined]
    sd = op.slot_dtypes(*in_dtypes)  # type: ignore[attr-defined]
    names = list(args)
    lines: list[str] = []
    for k, (sop, ins) in enumerate(op.program):  # type: ignore[attr-defined]
        slot = n + k
        dt = sd[slot]
        if isinstance(sop, ScalarConstant):
            lit = literal(sop.value, dt)
            if lit is None:
                raise NotLoweredError(f"no Numba literal for the constant {sop}")
            names.append(lit)
            continue
        expr = scalar_source(sop, [names[i] for i in ins], [sd[i] for i in ins], [dt])
        lines.append(f"t{slot} = {ctor(dt)}({expr})")
        names.append(f"t{slot}")
    return lines, [names[s] for s in op.out_slots]  # type: ignore[attr-defined]
