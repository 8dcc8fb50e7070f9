"""Error classes and the helpers that write gnomon's long error messages.

Every error that can be traced to a node of a graph names the node and the line of the
user's code that built it (recorded in :attr:`gnomon.graph.basic.Apply.trace`), and ends with
a hint that says how to fix it.
"""

from __future__ import annotations

import functools
import linecache
import os
import sys
from types import FrameType
from typing import Any

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))


class GnomonError(Exception):
    """Base class of every error gnomon raises on purpose."""


class GnomonTypeError(GnomonError, TypeError):
    """A value or variable has the wrong type, dtype or number of dimensions."""


class GnomonValueError(GnomonError, ValueError):
    """A value is of the right type but unacceptable (a shape that cannot match, say)."""


class ShapeError(GnomonValueError):
    """Shapes that cannot be broadcast or combined, found at graph-build or at run time."""


class GnomonRuntimeError(GnomonError, RuntimeError):
    """A node failed while a compiled function ran; the message names the node and its line."""


class RuntimeValueError(GnomonRuntimeError, ValueError):
    """A node failed at run time with a ``ValueError`` (a shape mismatch, say): catchable as
    ``ValueError``, as in PyTensor, while carrying gnomon's message (the node and its line)."""


class RuntimeIndexError(GnomonRuntimeError, IndexError):
    """A node failed at run time with an ``IndexError`` (an index out of bounds)."""


class RuntimeTypeError(GnomonRuntimeError, TypeError):
    """A node failed at run time with a ``TypeError``."""


class RuntimeArithmeticError(GnomonRuntimeError, ArithmeticError):
    """A node failed at run time with an ``ArithmeticError`` (``ZeroDivisionError``,
    ``FloatingPointError``, ``OverflowError``)."""


def runtime_error_class(original: BaseException) -> type[GnomonRuntimeError]:
    """The error class for a node that failed with ``original``: a ``GnomonRuntimeError`` that
    is also the built-in class users catch (``ValueError``, ``IndexError``, ...)."""
    for base, cls in ((ValueError, RuntimeValueError), (IndexError, RuntimeIndexError),
                      (TypeError, RuntimeTypeError), (ArithmeticError, RuntimeArithmeticError)):
        if isinstance(original, base):
            return cls
    return GnomonRuntimeError


class UnusedInputError(GnomonValueError):
    """An input given to :func:`gnomon.function` is not needed to compute the outputs."""


class MissingInputError(GnomonValueError):
    """A graph needs a root variable that was not given as an input of :func:`gnomon.function`."""


class GradientError(GnomonError, TypeError):
    """A gradient was asked for that cannot be built (undefined, disconnected, not implemented)."""


class NullGradientError(GradientError):
    """An op declares its gradient undefined or not implemented for one of its inputs."""


class DisconnectedInputError(GradientError, ValueError):
    """``grad`` was asked for a variable the cost does not depend on."""


class BackendUnavailableError(GnomonError, ImportError):
    """A backend was selected whose library is not installed."""


class NotLoweredError(GnomonError, NotImplementedError):
    """A backend has no lowering for an op; the message names the op and the fallback."""


SourceLocation = tuple[str, int]


def user_location(skip_internal: bool = True) -> SourceLocation | None:
    """Return ``(filename, lineno)`` of the innermost frame outside the gnomon package.

    Called when a node is built, so that errors found later can point at the user's line.
    """
    frame: FrameType | None = sys._getframe(1)
    while frame is not None:
        filename = frame.f_code.co_filename
        if not (skip_internal and _is_internal(filename)) and not (
            frame.f_code.co_name in _OP_METHODS and _is_op(frame.f_locals.get("self"))
        ):
            return (filename, frame.f_lineno)
        frame = frame.f_back
    return None


@functools.lru_cache(maxsize=1024)
def _is_internal(filename: str) -> bool:
    # Called for every node built: the path test is cached per file.
    return os.path.abspath(filename).startswith(_PACKAGE_DIR)


# Methods of a user's own Op subclass are part of the library from the user's point of view:
# the line to show is where the op was applied.
_OP_METHODS = frozenset({"make_node", "__call__", "pullback", "pushforward"})


def _is_op(obj: Any) -> bool:
    return obj is not None and any(c.__name__ == "Op" and c.__module__ == "gnomon.graph.op"
                                   for c in type(obj).__mro__)


def at_user_line() -> str:
    """`` (at "file", line N)`` naming the user's line that is building a node now, or ``""``;
    graph-build errors (shape and type checks in ``make_node``) end their first line with it."""
    loc = user_location()
    return f' (at "{loc[0]}", line {loc[1]})' if loc else ""


def with_user_line(message: str) -> str:
    """``message`` with the user's line that is running now (source text included) inserted
    before its ``Hint:``; unchanged when no user line is found. For errors raised while a graph
    is being built by a library function (``logp(...)``, ``pm.Normal(...)``)."""
    loc = user_location()
    if loc is None:
        return message
    head, sep, hint = message.partition("\nHint: ")
    return f"{head}\n{format_location(loc)}" + (f"\nHint: {hint}" if sep else "")


def format_location(loc: SourceLocation | None) -> str:
    """Format a recorded location as ``File "...", line N`` followed by the source text."""
    if loc is None:
        return "  (no user source line recorded)"
    filename, lineno = loc
    text = linecache.getline(filename, lineno).strip()
    out = f'  File "{filename}", line {lineno}'
    if text:
        out += f"\n    {text}"
    return out


def node_context(node: Any) -> str:
    """Describe a node (op and inputs) and where the user built it, for error messages."""
    try:
        ins = ", ".join(_describe_var(v) for v in node.inputs)
        text = f"{node.op}({ins})"
    except Exception:  # pragma: no cover - describing must never mask the real error
        text = repr(node)
    out = f"  Node: {text}\n  Built at:\n{format_location(getattr(node, 'trace', None))}"
    earlier = getattr(node, "earlier_traces", ())
    if earlier:
        # the same expression built in several places is one (interned) node
        out += "\n  Also built at:\n" + "\n".join(format_location(t) for t in earlier)
    return out


def _describe_var(v: Any) -> str:
    name = getattr(v, "name", None)
    t = getattr(v, "type", None)
    return f"{name}: {t}" if name else str(t)


def with_hint(message: str, hint: str | None) -> str:
    """Append a ``Hint:`` paragraph to a message."""
    return message if not hint else f"{message}\nHint: {hint}"
