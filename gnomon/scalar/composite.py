"""``Composite``: a scalar op made of a small graph of scalar ops, the result of fusion.

The fusion rewrite (:mod:`gnomon.rewrite.rules.fusion`) turns a chain of elementwise nodes into
one ``Elemwise(Composite(...))`` node so that a backend can emit a single loop over the
broadcast shape. The inner graph is a straight-line *program* over numbered slots:

* slots ``0 .. n_inputs-1`` hold the inputs (element values, after broadcasting);
* instruction ``k`` of ``program`` is ``(scalar_op, (slot, ...))``: it applies ``scalar_op`` to
  the given slots and writes slot ``n_inputs + k``; a :class:`ScalarConstant` instruction takes
  no slot and produces its value;
* ``out_slots`` lists the slots returned, one per output.

The dtype of every slot follows from the input dtypes (:meth:`Composite.slot_dtypes`): each
instruction's result has its scalar op's output dtype, exactly as if the nodes were not fused.
A backend lowers a Composite by walking ``program`` once per element (or once per array, as the
NumPy :meth:`Composite.impl` does), casting each result to its slot dtype.

Examples
--------
>>> import numpy as np
>>> from gnomon.scalar.basic import Add, Mul
>>> from gnomon.scalar.math import Exp
>>> c = Composite(2, ((Exp(), (0,)), (Mul(), (2, 1)), (ScalarConstant(1.0, "float64"), ()),
...                   (Add(), (3, 4))), (5,))
>>> print(c)
Composite{add(mul(exp(i0), i1), 1.0)}
>>> c.impl(np.array([0.0, 1.0]), np.array([2.0, 2.0])).tolist()
[3.0, 6.43656365691809]
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from gnomon.errors import GnomonValueError
from gnomon.scalar.basic import ScalarOp

if TYPE_CHECKING:
    from gnomon.graph.basic import Variable

Instruction = tuple[ScalarOp, tuple[int, ...]]


@dataclass(frozen=True)
class ScalarConstant(ScalarOp):
    """A constant inside a :class:`Composite` program (no inputs)."""

    value: Any
    dtype: str

    nin = 0

    @property
    def name(self) -> str:  # type: ignore[override]
        return repr(self.value)

    def impl(self, *args: Any) -> Any:
        return np.asarray(self.value, dtype=self.dtype)

    def output_dtypes(self, *dtypes: str) -> tuple[str, ...]:
        return (self.dtype,)

    def pullback(self, inputs, outputs, grads):
        return []


@dataclass(frozen=True)
class Composite(ScalarOp):
    """A fused scalar function: ``n_inputs`` inputs, a straight-line ``program`` and the
    ``out_slots`` it returns (see the module docstring for the layout).

    Identity is the structure: two Composites with the same program are equal, so fused nodes
    intern like any other node.
    """

    n_inputs: int
    program: tuple[Instruction, ...]
    out_slots: tuple[int, ...]

    def __post_init__(self) -> None:
        n = self.n_inputs
        for k, (op, ins) in enumerate(self.program):
            if not isinstance(op, ScalarOp) or isinstance(op, Composite):
                raise GnomonValueError(
                    f"Composite instruction {k} is {op!r}; instructions are non-composite "
                    "scalar ops.\nHint: inline a nested Composite's program instead."
                )
            if op.nin != -1 and op.nin != len(ins):
                raise GnomonValueError(f"Composite instruction {k}: {op} takes {op.nin} inputs, "
                                       f"got {len(ins)}")
            if any(not 0 <= i < n + k for i in ins):
                raise GnomonValueError(f"Composite instruction {k} reads a slot not yet written: "
                                       f"{ins}")
        if not self.out_slots or any(not 0 <= s < n + len(self.program) for s in self.out_slots):
            raise GnomonValueError(f"Composite out_slots {self.out_slots} are not slots")

    # -- ScalarOp interface -------------------------------------------------------------
    @property
    def nin(self) -> int:  # type: ignore[override]
        return self.n_inputs

    @property
    def nout(self) -> int:  # type: ignore[override]
        return len(self.out_slots)

    @functools.cached_property
    def name(self) -> str:  # type: ignore[override]
        # Cached: printed in every make_node's messages, and the program never changes.
        return "Composite{" + ", ".join(self.expressions()) + "}"

    def slot_dtypes(self, *dtypes: str) -> tuple[str, ...]:
        """The dtype of every slot (inputs first) for inputs of ``dtypes``."""
        return _slot_dtypes(self, tuple(dtypes))

    def output_dtypes(self, *dtypes: str) -> tuple[str, ...]:
        sd = self.slot_dtypes(*dtypes)
        return tuple(sd[s] for s in self.out_slots)

    def impl(self, *args: Any) -> Any:
        """Evaluate the program with NumPy (the reference for every backend)."""
        arrays = [np.asarray(a) for a in args]
        sd = self.slot_dtypes(*[a.dtype.name for a in arrays])
        vals: list[Any] = list(arrays)
        with np.errstate(all="ignore"):
            for k, (op, ins) in enumerate(self.program):
                r = op.impl(*[vals[i] for i in ins])
                vals.append(np.asarray(r, dtype=sd[self.n_inputs + k]))
        shape = np.broadcast_shapes(*[a.shape for a in arrays]) if arrays else ()
        outs = tuple(np.broadcast_to(vals[s], shape) if vals[s].shape != shape else vals[s]
                     for s in self.out_slots)
        return outs[0] if len(outs) == 1 else outs

    def expand(self, inputs: Sequence[Variable]) -> list[Variable]:
        """The unfused tensor graph: each instruction as an ``Elemwise`` node on ``inputs``."""
        from gnomon.tensor.basic import constant
        from gnomon.tensor.elemwise import Elemwise

        vals: list[Any] = list(inputs)
        for op, ins in self.program:
            if isinstance(op, ScalarConstant):
                vals.append(constant(op.value, dtype=op.dtype))
            else:
                vals.append(Elemwise(op)(*[vals[i] for i in ins]))
        return [vals[s] for s in self.out_slots]

    def pullback(self, inputs, outputs, grads):
        # Differentiate the unfused graph: each inner op keeps its own pullback.
        from gnomon.gradient import pullback

        outs = self.expand(inputs)
        pairs = [(o, g) for o, g in zip(outs, grads, strict=True) if g is not None]
        wrt = [x for x in inputs if np.dtype(x.dtype).kind in "fc"]
        if not pairs or not wrt:
            return [None] * len(inputs)
        got = pullback([o for o, _ in pairs], wrt, [g for _, g in pairs])
        got = got if isinstance(got, list | tuple) else [got]
        by_id = {id(x): g for x, g in zip(wrt, got, strict=True)}
        return [by_id.get(id(x)) for x in inputs]

    # -- printing -----------------------------------------------------------------------
    def expressions(self) -> list[str]:
        """Each output as an infix-free expression string over ``i0, i1, ...``."""
        text = [f"i{i}" for i in range(self.n_inputs)]
        for op, ins in self.program:
            if isinstance(op, ScalarConstant):
                text.append(repr(op.value))
            else:
                text.append(f"{op}({', '.join(text[i] for i in ins)})")
        return [text[s] for s in self.out_slots]

    def __str__(self) -> str:
        return self.name


@functools.lru_cache(maxsize=4096)
def _slot_dtypes(c: Composite, dtypes: tuple[str, ...]) -> tuple[str, ...]:
    if len(dtypes) != c.n_inputs:
        raise GnomonValueError(f"{c} takes {c.n_inputs} inputs, got {len(dtypes)} dtypes")
    sd = list(dtypes)
    for op, ins in c.program:
        (d,) = op.output_dtypes(*[sd[i] for i in ins])
        sd.append(d)
    return tuple(sd)
