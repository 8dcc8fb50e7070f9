"""Compilation: modes, shared variables, scheduling and ``gnomon.function``."""

from gnomon.compile.compiled import CompiledProgram
from gnomon.compile.function import Function, function
from gnomon.compile.mode import Mode, get_mode
from gnomon.compile.shared import SharedVariable, TensorSharedVariable, shared

__all__ = ["CompiledProgram", "Function", "Mode", "SharedVariable", "TensorSharedVariable",
           "function", "get_mode", "shared"]
