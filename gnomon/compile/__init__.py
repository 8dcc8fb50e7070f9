"""Compilation: modes, shared variables, scheduling and ``gnomon.function``."""

from gnomon.compile.compiled import CompiledProgram
from gnomon.compile.function import Function, function
from gnomon.compile.io import In, Out
from gnomon.compile.mode import Mode, get_mode
from gnomon.compile.ops import as_op
from gnomon.compile.shared import SharedVariable, TensorSharedVariable, shared

__all__ = ["CompiledProgram", "Function", "In", "Mode", "Out", "SharedVariable",
           "TensorSharedVariable", "as_op", "function", "get_mode", "shared"]
