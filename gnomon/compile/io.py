"""``In`` and ``Out``: how a compiled function takes an input and returns an output (PyTensor's
``compile.io``).

Give them in place of plain variables in :func:`gnomon.function`'s ``inputs`` and ``outputs``
lists.

Examples
--------
>>> import gnomon, gnomon.tensor as gt
>>> from gnomon.compile.io import In, Out
>>> x, y = gt.dscalar("x"), gt.dscalar("y")
>>> f = gnomon.function([x, In(y, value=1.0, name="offset")], Out(x + y), mode="numpy")
>>> float(f(2.0)), float(f(2.0, 3.0)), float(f(2.0, offset=5.0))
(3.0, 5.0, 7.0)
"""

from __future__ import annotations

from typing import Any

from gnomon.errors import GnomonTypeError, GnomonValueError, with_hint
from gnomon.graph.basic import Variable

__all__ = ["In", "Out"]

_NO_DEFAULT = object()


class In:
    """An input of a compiled function, with a default value and a keyword name.

    Parameters
    ----------
    variable : Variable
        The symbolic input (a root variable).
    name : str, optional
        The keyword under which a call may pass this input (default: the variable's name).
    value : optional
        The default value, used when a call does not pass this input. ``f[name] = v`` (or
        ``f[variable] = v``) changes it later.
    mutable : bool
        Accepted for PyTensor's sake: PyTensor may then overwrite the caller's array in place.
        gnomon never writes into an argument, so ``True`` and ``False`` behave the same.
    strict : bool
        Take only values of exactly the input's type (dtype and rank), with no conversion.
    allow_downcast : bool, optional
        Per-input override of ``gnomon.function``'s ``allow_input_downcast``.
    borrow : bool
        Accepted (gnomon never keeps a reference to an argument between calls).
    update, implicit
        PyTensor's "state" inputs (a default whose value an update expression replaces after
        each call) are not supported: use a shared variable and ``updates=``.

    Examples
    --------
    >>> import gnomon, gnomon.tensor as gt
    >>> a, b = gt.dvector("a"), gt.dscalar("b")
    >>> f = gnomon.function([a, In(b, value=2.0)], a * b, mode="numpy")
    >>> f([1.0, 2.0]).tolist()
    [2.0, 4.0]
    >>> f[b] = 10.0
    >>> f([1.0, 2.0]).tolist()
    [10.0, 20.0]
    """

    def __init__(
        self,
        variable: Variable,
        name: str | None = None,
        value: Any = _NO_DEFAULT,
        update: Any = None,
        mutable: bool = False,
        strict: bool = False,
        allow_downcast: bool | None = None,
        autoname: bool = True,
        implicit: bool | None = None,
        borrow: bool = False,
        shared: bool = False,
    ) -> None:
        if not isinstance(variable, Variable):
            raise GnomonTypeError(with_hint(
                f"In(...) takes a symbolic variable, got {type(variable).__name__}",
                "write In(x, value=...) with x = gt.dscalar('x') (or another type constructor)",
            ))
        if update is not None or implicit or shared:
            raise GnomonValueError(with_hint(
                "In(..., update=...) (an input whose value an update expression replaces after "
                "each call) is not supported by gnomon",
                "use a shared variable and gnomon.function(..., updates=[(s, new_value)])",
            ))
        if name is not None and not isinstance(name, str):
            raise GnomonTypeError(f"In(..., name=) must be a string, got {name!r}")
        self.variable = variable
        self.name = name if name is not None else (variable.name if autoname else None)
        self.value = value
        self.mutable = bool(mutable)
        self.strict = bool(strict)
        self.allow_downcast = allow_downcast
        self.borrow = bool(borrow)

    @property
    def has_default(self) -> bool:
        """Whether a call may leave this input out."""
        return self.value is not _NO_DEFAULT

    def __repr__(self) -> str:
        extra = f", value={self.value!r}" if self.has_default else ""
        return f"In({self.variable}{extra})"


class Out:
    """An output of a compiled function.

    Parameters
    ----------
    variable : Variable
        The symbolic output.
    borrow : bool
        Accepted for PyTensor's sake (PyTensor may then return its internal buffer, which the
        next call overwrites). gnomon always returns arrays the caller owns, so ``True`` and
        ``False`` behave the same.

    Examples
    --------
    >>> import gnomon, gnomon.tensor as gt
    >>> x = gt.dvector("x")
    >>> f = gnomon.function([x], Out(x * 2, borrow=True), mode="numpy")
    >>> f([1.0]).tolist()
    [2.0]
    """

    def __init__(self, variable: Any, borrow: bool = False) -> None:
        self.variable = variable
        self.borrow = bool(borrow)

    def __repr__(self) -> str:
        return f"Out({self.variable}, borrow={self.borrow})"
