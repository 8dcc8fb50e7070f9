"""``c_funcify(op, node)``: the lowering of one node to C, dispatched on the op class.

A lowering returns the C text of one function named ``KERNEL``::

    static int KERNEL(gn_ctx *ctx, gn_arr *const *in, gn_arr *out)

reading ``in[k]`` (one per node input) and filling ``out[j]`` (one per node output) with a
buffer from ``gn_alloc`` or a view of an input (``gn_view``), returning 0, or -1 after
``gn_fail(ctx, ...)`` (see :mod:`gnomon.backends.c.runtime`). The linker renames ``KERNEL`` to a
hash of the text, so one kernel serves every program (and every node) that needs it.

Ops without a lowering raise ``NotLoweredError``; their nodes run with the op's NumPy
``perform``, called from the compiled program between C kernels (``UNLOWERED`` in
``gnomon/backends/c/__init__.py`` lists them with the reason).
"""

from __future__ import annotations

import functools

import numpy as np

from gnomon.errors import NotLoweredError
from gnomon.graph.basic import Apply
from gnomon.graph.op import Op

_CTYPES = {
    "bool": "gn_bool", "int8": "int8_t", "int16": "int16_t", "int32": "int32_t",
    "int64": "int64_t", "uint8": "uint8_t", "uint16": "uint16_t", "uint32": "uint32_t",
    "uint64": "uint64_t", "float32": "float", "float64": "double",
}


@functools.singledispatch
def c_funcify(op: Op, node: Apply) -> str:
    """C text of ``static int KERNEL(gn_ctx *ctx, gn_arr *const *in, gn_arr *out)``."""
    raise NotLoweredError(f"no C lowering for {type(op).__name__}")


def has_lowering(op_class: type) -> bool:
    """Whether ``op_class`` has its own C lowering (not the NotLoweredError default)."""
    return c_funcify.dispatch(op_class) is not c_funcify.dispatch(object)


def ctype(dtype: str) -> str:
    """The C type of a NumPy dtype; NotLoweredError for float16 and complex dtypes."""
    t = _CTYPES.get(dtype)
    if t is None:
        raise NotLoweredError(f"the C backend has no {dtype} arithmetic")
    return t


def typenum(dtype: str) -> int:
    """NumPy's type number of ``dtype`` (what ``PyArray_EMPTY`` takes)."""
    return int(np.dtype(dtype).num)


def itemsize(dtype: str) -> int:
    return int(np.dtype(dtype).itemsize)


def alloc(out: str, dtype: str) -> str:
    """``if (gn_alloc(ctx, &out, ...) < 0) return -1;`` for an output whose nd/shape are set."""
    return f"if (gn_alloc(ctx, &{out}, {typenum(dtype)}, {itemsize(dtype)}) < 0) return -1;"


def tensor_dtypes(node: Apply) -> None:
    """NotLoweredError unless every input and output is an array of a dtype C computes in."""
    for v in (*node.inputs, *node.outputs):
        dt = getattr(v.type, "dtype", None)
        if dt is None:
            raise NotLoweredError("a value that is not an array")
        ctype(dt)


def kernel(body: list[str]) -> str:
    """The kernel text around ``body`` (statements, indented here)."""
    return ("static int KERNEL(gn_ctx *ctx, gn_arr *const *in, gn_arr *out) {\n"
            "    (void)ctx; (void)in; (void)out;\n"
            + "".join(f"    {ln}\n" if ln else "\n" for ln in body) + "    return 0;\n}\n")
