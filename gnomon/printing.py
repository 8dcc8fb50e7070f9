"""Looking at graphs: ``debugprint`` (a text tree), ``pprint`` (one math-like line) and
``dot`` (Graphviz source); PyTensor's names ``dprint`` and ``pp`` for the first two, and the
``Print`` op (prints a value while a compiled function runs).

Examples
--------
>>> import gnomon.tensor as gt
>>> x, y = gt.dscalar("x"), gt.dscalar("y")
>>> pprint(gt.exp(x) * y + 1)
'((exp(x) * y) + 1.0)'
"""

from __future__ import annotations

import io
import os
import string
import sys
from typing import Any, TextIO

from gnomon.graph.basic import Apply, Constant, Variable
from gnomon.graph.traversal import toposort
from gnomon.tensor.debug import Print

__all__ = ["Print", "debugprint", "dot", "dprint", "pp", "pprint"]


def _outputs_of(obj: Any) -> tuple[list[Variable], str]:
    """Variables to print for a variable, a list of them, an Apply or a compiled Function."""
    from gnomon.compile.function import Function

    if isinstance(obj, Function):
        outs = list(obj.program.outputs)
        n = len(obj.outputs)
        header = "" if n == len(outs) else f"(outputs 0..{n - 1}, then {len(outs) - n} update(s))\n"
        return outs, header
    if isinstance(obj, Apply):
        return list(obj.outputs), ""
    if isinstance(obj, Variable):
        return [obj], ""
    return list(obj), ""


def _ident(i: int) -> str:
    letters = string.ascii_uppercase
    s = ""
    i += 1
    while i:
        i, r = divmod(i - 1, 26)
        s = letters[r] + s
    return s


def _loc(node: Apply) -> str:
    if node.trace is None:
        return ""
    return f"  ({os.path.basename(node.trace[0])}:{node.trace[1]})"


def debugprint(
    obj: Any,
    file: TextIO | str | None = None,
    *,
    print_type: bool = True,
    print_location: bool = False,
    depth: int = -1,
) -> str | None:
    """Print a graph as an indented tree, one line per variable.

    Each node gets an id (``[id A]``); a node used in several places is printed in full the
    first time and as ``[id A] ···`` afterwards, which marks shared subgraphs. Accepts a
    variable, a list of variables, or a compiled function (shows the rewritten graph,
    including the values computed for ``updates``).

    Parameters
    ----------
    file : file-like, ``"str"`` or None
        Where to write; ``"str"`` returns the text instead; None prints to stdout.
    print_type : bool
        Show each variable's type.
    print_location : bool
        Show the file and line of the user's code that built each node.
    depth : int
        Stop after this many levels (-1: no limit).

    Examples
    --------
    >>> import gnomon.tensor as gt
    >>> x = gt.dvector("x")
    >>> print(debugprint(gt.exp(x) + x, file="str"))
    Elemwise(add) [id A] <vector<float64>>
     ├─ Elemwise(exp) [id B] <vector<float64>>
     │  └─ x [id C] <vector<float64>>
     └─ x [id C] <vector<float64>>
    """
    outs, header = _outputs_of(obj)
    ids: dict[int, str] = {}
    done: set[int] = set()
    lines: list[str] = [header.rstrip("\n")] if header else []

    def ident(key: Any) -> str:
        k = id(key)
        if k not in ids:
            ids[k] = _ident(len(ids))
        return ids[k]

    def label(v: Variable) -> str:
        t = f" <{v.type}>" if print_type else ""
        if v.owner is None:
            name = str(v)
            kind = ""
            from gnomon.compile.shared import SharedVariable

            if isinstance(v, SharedVariable):
                kind = " (shared)"
            elif isinstance(v, Constant):
                return f"{name}{t}"
            return f"{name} [id {ident(v)}]{t}{kind}"
        node = v.owner
        op = str(node.op)
        out = f".{v.index}" if len(node.outputs) > 1 else ""
        nm = f" '{v.name}'" if v.name else ""
        loc = _loc(node) if print_location else ""
        return f"{op}{out} [id {ident(node)}]{t}{nm}{loc}"

    def walk(v: Variable, prefix: str, child_prefix: str, level: int) -> None:
        key = v.owner if v.owner is not None else v
        seen = id(key) in done
        lines.append(prefix + label(v) + (" ···" if seen and v.owner is not None else ""))
        if v.owner is None or seen or level == depth:
            return
        done.add(id(key))
        ins = v.owner.inputs
        # an op may name its inputs (a random variable: rng, size, loc, scale)
        names = getattr(v.owner.op, "input_labels", None)
        labels = names(v.owner) if names is not None else [""] * len(ins)
        for i, inp in enumerate(ins):
            last = i == len(ins) - 1
            lab = f"{labels[i]}=" if labels[i] else ""
            walk(inp, child_prefix + ("└─ " if last else "├─ ") + lab,
                 child_prefix + ("   " if last else "│  "), level + 1)

    for o in outs:
        walk(o, "", " ", 0)
    text = "\n".join(lines)
    if file == "str":
        return text
    print(text, file=file or sys.stdout)  # type: ignore[arg-type]
    return None


_INFIX = {"add": "+", "sub": "-", "mul": "*", "true_div": "/", "floor_div": "//", "mod": "%",
          "pow": "**", "lt": "<", "gt": ">", "le": "<=", "ge": ">=", "eq": "==", "neq": "!=",
          "and": "&", "or": "|", "xor": "^"}
_PREFIX = {"neg": "-", "invert": "~"}


def pprint(obj: Any) -> str:
    """One math-like line per output: ``((exp(x) * y) + 1.0)``.

    Shared subexpressions are repeated (use :func:`debugprint` to see sharing).
    """
    from gnomon.tensor.elemwise import Elemwise

    outs, _ = _outputs_of(obj)
    memo: dict[int, str] = {}

    for node in toposort(outs):
        args = [memo.get(id(i)) or _leaf(i) for i in node.inputs]
        op = node.op
        if isinstance(op, Elemwise):
            name = str(op.scalar_op)
            if name in _INFIX and len(args) >= 2:
                text = "(" + f" {_INFIX[name]} ".join(args) + ")"
            elif name in _PREFIX:
                text = f"{_PREFIX[name]}{args[0]}"
            else:
                text = f"{name}({', '.join(args)})"
        elif hasattr(op, "pprint_node"):  # its own notation, one text per output
            texts = op.pprint_node(node, args)
            for o, t in zip(node.outputs, texts, strict=True):
                memo[id(o)] = t
            continue
        else:
            text = f"{op}({', '.join(args)})"
        for j, o in enumerate(node.outputs):
            memo[id(o)] = text if len(node.outputs) == 1 else f"{text}[{j}]"
    res = [memo.get(id(o)) or _leaf(o) for o in outs]
    return res[0] if len(res) == 1 else "\n".join(res)


def _leaf(v: Variable) -> str:
    return str(v)


def dot(obj: Any, file: str | None = None) -> str:
    """Graphviz DOT source for the graph (variables as ellipses, ops as boxes).

    Write it to ``file`` if given (render with ``dot -Tpng file -o out.png``).

    Examples
    --------
    >>> import gnomon.tensor as gt
    >>> x = gt.dscalar("x")
    >>> dot(gt.exp(x)).splitlines()[0]
    'digraph gnomon {'
    """
    outs, _ = _outputs_of(obj)
    buf = io.StringIO()
    buf.write("digraph gnomon {\n  rankdir=BT;\n")
    names: dict[int, str] = {}

    def vid(v: Variable) -> str:
        if id(v) not in names:
            names[id(v)] = f"v{len(names)}"
            shape = "box" if isinstance(v, Constant) else "ellipse"
            style = ', style=filled, fillcolor="#e8f0ff"' if v.owner is None and not isinstance(
                v, Constant) else ""
            text = _esc(str(v) if v.owner is None else str(v.type))
            buf.write(f'  {names[id(v)]} [label="{text}", shape={shape}{style}];\n')
        return names[id(v)]

    for k, node in enumerate(toposort(outs)):
        nid = f"n{k}"
        buf.write(f'  {nid} [label="{_esc(str(node.op))}", shape=box, style=rounded];\n')
        for i, inp in enumerate(node.inputs):
            label = f' [label="{i}"]' if len(node.inputs) > 1 else ""
            buf.write(f"  {vid(inp)} -> {nid}{label};\n")
        for o in node.outputs:
            buf.write(f"  {nid} -> {vid(o)};\n")
    for o in outs:
        vid(o)
    buf.write("}\n")
    text = buf.getvalue()
    if file is not None:
        with open(file, "w") as fh:
            fh.write(text)
    return text


def _esc(s: str) -> str:
    return s.replace("\\", "\\\\").replace('"', '\\"')




#: PyTensor's short names (``pytensor.dprint``, ``pytensor.pp``).
dprint = debugprint
pp = pprint
