"""Loops over the broadcast batch dimensions of stacked-matrix ops (linear algebra, matmul).

A kernel for ops like ``solve_triangular`` or ``matmul`` on stacks of matrices computes the
broadcast batch shape at run time (as NumPy does: a batch dimension of length 1 pairs with any
length), loops over it, and applies the core routine to one matrix of each operand.
"""

from __future__ import annotations

from gnomon.backends.numba.dispatch import shape_tuple_text


def batch_loops(names: list[str],
                batch_ranks: list[int]) -> tuple[list[str], list[str], list[str], int]:
    """Lines computing the broadcast batch shape ``B0, B1, ...`` of ``names`` (each with
    ``batch_ranks[j]`` leading batch dimensions, aligned to the right as NumPy broadcasts),
    the loop headers over it, and each operand's index text into its batch.

    A batch dimension of length 1 pairs with any length (read at index 0); other lengths must
    agree, else ``ValueError`` (the reference then reports its own error).
    """
    nb = max(batch_ranks, default=0)
    lines = [f"B{d} = 1" for d in range(nb)]
    idx = []
    for name, r in zip(names, batch_ranks, strict=True):
        off = nb - r
        parts = []
        for e in range(r):
            d = e + off
            lines += [f"if {name}.shape[{e}] != 1:",
                      f"    if B{d} != 1 and B{d} != {name}.shape[{e}]:",
                      "        raise ValueError('the batch dimensions do not broadcast')",
                      f"    B{d} = {name}.shape[{e}]"]
            parts.append(f"i{d} * ({name}.shape[{e}] != 1)")
        idx.append("".join(p + ", " for p in parts))
    loops = ["    " * d + f"for i{d} in range(B{d}):" for d in range(nb)]
    return lines, loops, idx, nb


def at(name: str, index: str) -> str:
    """``name[index...]`` (the core of one batch), or ``name`` itself without batch dims."""
    return f"{name}[{index}...]" if index else name


def batch_shape(batch: int, core: list[str]) -> str:
    """Text of the output shape: the batch shape ``B0, ...`` followed by ``core``."""
    return shape_tuple_text([f"B{d}" for d in range(batch)] + core)
