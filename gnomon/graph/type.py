"""The abstract base of variable types."""

from __future__ import annotations

import abc
from typing import Any, ClassVar

from gnomon.errors import GnomonTypeError


class Type(abc.ABC):
    """What values a variable may hold. Subclasses are frozen dataclasses (equal by value).

    A type knows how to check and convert a user's value (:meth:`filter`), which Python class
    represents its variables, and how to print constants.
    """

    variable_class: ClassVar[type]
    constant_class: ClassVar[type]

    @abc.abstractmethod
    def filter(self, value: Any, *, name: str = "input", allow_downcast: bool = False) -> Any:
        """Return ``value`` converted to this type, or raise a clear error."""

    @abc.abstractmethod
    def is_valid_value(self, value: Any) -> bool:
        """True if ``value`` already is of this type, without conversion."""

    def constant_str(self, data: Any) -> str:
        return repr(data)

    def map_scalar_op(self, op: Any, args: tuple[Any, ...]) -> Any:
        """A variable: scalar op ``op`` applied element by element to ``args``.

        ``args`` holds at least one variable of this type (and may hold Python numbers). Array
        types override this; the scalar layer builds gradients with it (see
        :func:`gnomon.scalar.basic.elementwise`), so it never imports the array types.
        """
        raise GnomonTypeError(
            f"{type(self).__name__} values cannot be mapped element by element by {op}"
        )

    def __call__(self, name: str | None = None) -> Any:
        """Make a new root variable of this type."""
        return self.variable_class(self, name=name)
