"""Compile a program for the reference backend: a Python loop over nodes calling ``perform``.

Every failure is re-raised as :class:`~gnomon.errors.GnomonRuntimeError` naming the node, the
input shapes and the user's line that built it. Outputs of ``perform`` are checked against the
node's declared types, so a wrong shape rule or dtype rule is caught here, in the reference.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gnomon.compile.compiled import CompiledProgram
from gnomon.compile.schedule import Program
from gnomon.errors import GnomonError, GnomonRuntimeError, node_context, runtime_error_class


def compile_program(program: Program) -> CompiledProgram:
    """The reference program: ``perform`` of each node in order, outputs checked against the
    node's types."""
    slot = program.slot
    n_in = len(program.inputs)
    consts = [(slot[c], c.data) for c in program.constants]
    steps = [
        (node, [slot[v] for v in node.inputs], [slot[v] for v in node.outputs])
        for node in program.nodes
    ]
    out_slots = [slot[o] for o in program.outputs]
    n = program.n_slots

    def thunk(values: list[Any]) -> list[Any]:
        storage: list[Any] = [None] * n
        storage[:n_in] = values
        for i, c in consts:
            storage[i] = c
        for node, ins, outs in steps:
            args = [storage[i] for i in ins]
            try:
                results = node.op.perform(node, args)
            except Exception as e:
                raise runtime_error(node, args, e) from e
            for i, r, v in zip(outs, results, node.outputs, strict=True):
                storage[i] = _check_output(node, v, r)
        return [storage[i] for i in out_slots]

    return CompiledProgram(run=thunk)


def _check_output(node: Any, var: Any, value: Any) -> Any:
    t = var.type
    if not hasattr(t, "dtype"):  # not an array type (a random generator): the type checks it
        if not t.is_valid_value(value):
            raise GnomonRuntimeError(f"{node.op} produced a {type(value).__name__}, but its "
                                     f"output type is {t} (a bug in the op).\n"
                                     f"{node_context(node)}")
        return value
    if not isinstance(value, np.ndarray):
        value = np.asarray(value)
    if value.dtype.name != t.dtype or not t.fits_shape(value.shape):
        raise GnomonRuntimeError(
            f"{node.op} produced an array of dtype {value.dtype} and shape {value.shape}, but its "
            f"output type is {t} (this is a bug in the op, or a run-time shape mismatch).\n"
            f"{node_context(node)}"
        )
    return value


def runtime_error(node: Any, args: list[Any], e: Exception) -> GnomonError:
    shapes = ", ".join(str(getattr(a, "shape", "?")) for a in args)
    msg = (
        f"{type(e).__name__} while computing {node.op}: {e}\n"
        f"  Input shapes: {shapes}\n{node_context(node)}"
    )
    if isinstance(e, GnomonError):
        # Keep the class (ShapeError stays a ShapeError) and add the node's context.
        try:
            return type(e)(msg)
        except TypeError:
            return runtime_error_class(e)(msg)
    # Keep the built-in class users catch (a shape mismatch stays a ValueError).
    return runtime_error_class(e)(msg)
