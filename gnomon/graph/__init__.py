"""gnomon's intermediate representation: immutable, hash-consed graphs of ops."""

from gnomon.graph.basic import Apply, Constant, Variable, is_root
from gnomon.graph.check import IRError, verify
from gnomon.graph.op import Op
from gnomon.graph.replace import clone_replace, graph_replace
from gnomon.graph.traversal import ancestors, clients, graph_inputs, is_in_ancestors, toposort
from gnomon.graph.type import Type

__all__ = [
    "Apply", "Constant", "IRError", "Op", "Type", "Variable", "ancestors", "clients",
    "clone_replace", "graph_inputs", "graph_replace", "is_in_ancestors", "is_root", "toposort",
    "verify",
]
