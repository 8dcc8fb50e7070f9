"""``CheckParameters`` (the parameter checks of log-densities): raise ``ValueError`` when a
condition is false somewhere. The kernel's source does not contain the check's message, so
every check of the same arity shares one compiled kernel; the linker replays a failing
program with the reference, whose error carries the message, the node and its line."""

from __future__ import annotations

from gnomon.backends.numba.dispatch import numba_funcify
from gnomon.graph.basic import Apply
from gnomon.logprob.check import CheckParameters


@numba_funcify.register
def _(op: CheckParameters, node: Apply) -> str:
    conds = [f"c{i}" for i in range(len(node.inputs) - 1)]
    lines = [f"def kernel(x{''.join(', ' + c for c in conds)}):"]
    for c in conds:
        lines += [f"    if not np.all({c}):",
                  "        raise ValueError('invalid parameter (see the reference message)')"]
    lines.append("    return (x,)")
    return "\n".join(lines) + "\n"
