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
from gnomon.graph.op import NullGrad
from gnomon.scalar.basic import ZERO_GRAD, ScalarOp, elementwise

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
        """The unfused graph: each instruction mapped over ``inputs`` by their type (an
        ``Elemwise`` node for tensors)."""
        vals: list[Any] = list(inputs)
        for op, ins in self.program:
            vals.append(elementwise(op, *[vals[i] for i in ins], like=inputs[0]))
        return [vals[s] for s in self.out_slots]

    def pullback(self, inputs, outputs, grads):
        # Reverse sweep over the unfused program, each instruction with its own pullback.
        # Gradients stay at the broadcast shape of the whole kernel (every instruction is
        # elementwise); the Elemwise node holding this Composite reduces them to each input's.
        vals = list(inputs) + [None] * len(self.program)
        for k, (op, ins) in enumerate(self.program):
            vals[self.n_inputs + k] = elementwise(op, *[vals[i] for i in ins], like=inputs[0])
        acc: list[Any] = [None] * len(vals)
        for s, g in zip(self.out_slots, grads, strict=True):
            if g is not None:
                acc[s] = g if acc[s] is None else acc[s] + g
        for k in range(len(self.program) - 1, -1, -1):
            op, ins = self.program[k]
            g = acc[self.n_inputs + k]
            if g is None or isinstance(op, ScalarConstant):
                continue
            if isinstance(g, NullGrad):  # an instruction downstream cannot be differentiated
                for i in ins:
                    acc[i] = g
                continue
            gs = op.pullback([vals[i] for i in ins], [vals[self.n_inputs + k]], [g])
            for i, gi in zip(ins, gs, strict=True):
                if gi is None or gi is ZERO_GRAD or np.dtype(vals[i].dtype).kind not in "fc":
                    continue
                if isinstance(gi, NullGrad) or isinstance(acc[i], NullGrad):
                    acc[i] = gi if isinstance(gi, NullGrad) else acc[i]
                else:
                    acc[i] = gi if acc[i] is None else acc[i] + gi
        out = []
        for i, x in enumerate(inputs):
            if np.dtype(x.dtype).kind not in "fc":
                out.append(None)
            else:
                out.append(ZERO_GRAD if acc[i] is None else acc[i])
        return out

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
