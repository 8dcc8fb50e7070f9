"""``CheckParameters`` (the parameter checks of log-densities): raise ``ValueError`` with the
check's message when a condition is false somewhere; the linker replays the node with the
reference to report the node, its line and the message."""

from __future__ import annotations

from gnomon.backends.numba.dispatch import numba_funcify
from gnomon.graph.basic import Apply
from gnomon.logprob.check import CheckParameters


@numba_funcify.register
def _(op: CheckParameters, node: Apply) -> str:
    conds = [f"c{i}" for i in range(len(node.inputs) - 1)]
    lines = [f"def kernel(x{''.join(', ' + c for c in conds)}):"]
    for c in conds:
        lines += [f"    if not np.all({c}):", f"        raise ValueError({op.message!r})"]
    lines.append("    return (x,)")
    return "\n".join(lines) + "\n"
