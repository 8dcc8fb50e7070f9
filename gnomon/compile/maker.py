"""``f.maker`` and ``f.maker.fgraph``: PyTensor's view of what a compiled function runs.

gnomon compiles a function into a scheduled :class:`~gnomon.compile.schedule.Program` (the graph
after rewriting, in execution order). :class:`FunctionGraphView` shows that program with the
attributes PyTensor users read on ``FunctionGraph`` (``inputs``, ``outputs``, ``apply_nodes``,
``toposort()``, ``variables``, ``clients``), read-only: gnomon's graphs are immutable, so
rewriting a compiled function's graph in place is not possible (build a new graph and compile
it). :class:`FunctionMaker` holds it with the function's ``inputs`` (:class:`~gnomon.compile.io.In`
specs), ``outputs`` and ``mode``.

Examples
--------
>>> import gnomon, gnomon.tensor as gt
>>> x = gt.dvector("x")
>>> f = gnomon.function([x], gt.exp(x).sum(), mode="numpy")
>>> fg = f.maker.fgraph
>>> fg.inputs == [x], len(fg.outputs)
(True, 1)
>>> [str(n.op) for n in fg.toposort()][-1]
'Sum{axes=[0]}'
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from gnomon.graph.basic import Apply, Variable

if TYPE_CHECKING:
    from gnomon.compile.io import In
    from gnomon.compile.mode import Mode
    from gnomon.compile.schedule import Program

__all__ = ["FunctionGraphView", "FunctionMaker"]


class FunctionGraphView:
    """The rewritten graph a compiled function runs, with ``FunctionGraph``'s attributes.

    Attributes
    ----------
    inputs : list of Variable
        The explicit inputs, then the shared variables the graph reads (as in PyTensor).
    outputs : list of Variable
        The outputs after rewriting, then the new values of the updated shared variables.
    update_mapping : dict of int to int
        For each update, the index of its output in ``outputs`` to the index of the shared
        variable it updates in ``inputs`` (PyTensor's ``fgraph.update_mapping``).
    """

    def __init__(self, program: Program, n_outputs: int, update_targets: list[Variable]) -> None:
        self._program = program
        self.inputs: list[Variable] = list(program.inputs)
        self.outputs: list[Variable] = list(program.outputs)
        index = {id(v): i for i, v in enumerate(self.inputs)}
        self.update_mapping = {n_outputs + k: index[id(s)] for k, s in enumerate(update_targets)
                               if id(s) in index}

    def toposort(self) -> list[Apply]:
        """The nodes in the order they run (inputs before the nodes that read them)."""
        return list(self._program.nodes)

    @property
    def apply_nodes(self) -> set[Apply]:
        return set(self._program.nodes)

    @property
    def variables(self) -> set[Variable]:
        """Every variable of the graph: inputs, constants and node outputs."""
        out: set[Variable] = set(self.inputs) | set(self._program.constants)
        for n in self._program.nodes:
            out.update(n.inputs)
            out.update(n.outputs)
        return out

    @property
    def clients(self) -> dict[Variable, list[tuple[Apply | str, int]]]:
        """For each variable, ``(node, input index)`` of each use; an output of the function
        is used by ``("output", index)`` (PyTensor uses an ``Output`` op there)."""
        out: dict[Variable, list[tuple[Apply | str, int]]] = {v: [] for v in self.variables}
        for n in self._program.nodes:
            for i, v in enumerate(n.inputs):
                out.setdefault(v, []).append((n, i))
        for i, v in enumerate(self.outputs):
            out.setdefault(v, []).append(("output", i))
        return out

    def __repr__(self) -> str:
        return (f"FunctionGraphView({len(self.inputs)} inputs, {len(self.outputs)} outputs, "
                f"{len(self._program.nodes)} nodes)")


class FunctionMaker:
    """What ``f.maker`` holds: the graph (``fgraph``), the input specs, the outputs, the mode.

    Attributes
    ----------
    fgraph : FunctionGraphView
    inputs : list of In
        One :class:`~gnomon.compile.io.In` per explicit input (defaults, names, ``strict``).
    outputs : list of Variable
        The outputs as given to ``gnomon.function`` (before rewriting).
    mode : Mode
    """

    def __init__(self, fgraph: FunctionGraphView, inputs: list[In], outputs: list[Variable],
                 mode: Mode) -> None:
        self.fgraph = fgraph
        self.inputs = inputs
        self.outputs = outputs
        self.mode = mode

    def __repr__(self) -> str:
        return f"FunctionMaker(mode={self.mode!r}, fgraph={self.fgraph!r})"

    # PyTensor's maker has more (linker, optimizer objects); they are gnomon's Mode fields here
    def __getattr__(self, name: str) -> Any:
        raise AttributeError(
            f"f.maker has no attribute {name!r} in gnomon (it has fgraph, inputs, outputs, "
            "mode); see docs/compatibility.md")
