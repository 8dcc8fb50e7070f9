"""The Python classes of tensor variables, with NumPy-style operators and methods.

``==`` and ``!=`` keep identity semantics (variables are dictionary keys throughout gnomon, as in
PyTensor); use :func:`gnomon.tensor.eq` / :func:`gnomon.tensor.neq` for elementwise equality.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from gnomon.graph.basic import Constant, Variable

if TYPE_CHECKING:
    from gnomon.tensor.type import TensorType


def _m() -> Any:
    import gnomon.tensor as gt

    return gt


class TensorOperators:
    """Operator overloads and array methods shared by every tensor variable class."""

    __slots__ = ()

    # NumPy must not treat a variable as an array-like scalar: ``ndarray - x`` would otherwise
    # build an object array of one variable per element. With ``__array_ufunc__ = None`` NumPy's
    # operators return NotImplemented and Python calls the variable's reflected operator.
    __array_ufunc__ = None
    __array_priority__ = 1000

    # arithmetic
    def __add__(self, o: Any) -> Any: return _m().add(self, o)
    def __radd__(self, o: Any) -> Any: return _m().add(o, self)
    def __sub__(self, o: Any) -> Any: return _m().sub(self, o)
    def __rsub__(self, o: Any) -> Any: return _m().sub(o, self)
    def __mul__(self, o: Any) -> Any: return _m().mul(self, o)
    def __rmul__(self, o: Any) -> Any: return _m().mul(o, self)
    def __truediv__(self, o: Any) -> Any: return _m().true_divide(self, o)
    def __rtruediv__(self, o: Any) -> Any: return _m().true_divide(o, self)
    def __floordiv__(self, o: Any) -> Any: return _m().floor_divide(self, o)
    def __rfloordiv__(self, o: Any) -> Any: return _m().floor_divide(o, self)
    def __mod__(self, o: Any) -> Any: return _m().mod(self, o)
    def __rmod__(self, o: Any) -> Any: return _m().mod(o, self)
    def __pow__(self, o: Any) -> Any: return _m().power(self, o)
    def __rpow__(self, o: Any) -> Any: return _m().power(o, self)
    def __matmul__(self, o: Any) -> Any: return _m().matmul(self, o)
    def __rmatmul__(self, o: Any) -> Any: return _m().matmul(o, self)
    def __neg__(self) -> Any: return _m().neg(self)
    def __pos__(self) -> Any: return self
    def __abs__(self) -> Any: return _m().abs(self)
    # comparisons (== and != are identity on purpose, see the module docstring)
    def __lt__(self, o: Any) -> Any: return _m().lt(self, o)
    def __le__(self, o: Any) -> Any: return _m().le(self, o)
    def __gt__(self, o: Any) -> Any: return _m().gt(self, o)
    def __ge__(self, o: Any) -> Any: return _m().ge(self, o)
    # bitwise / logical
    def __and__(self, o: Any) -> Any: return _m().bitwise_and(self, o)
    def __rand__(self, o: Any) -> Any: return _m().bitwise_and(o, self)
    def __or__(self, o: Any) -> Any: return _m().bitwise_or(self, o)
    def __ror__(self, o: Any) -> Any: return _m().bitwise_or(o, self)
    def __xor__(self, o: Any) -> Any: return _m().bitwise_xor(self, o)
    def __rxor__(self, o: Any) -> Any: return _m().bitwise_xor(o, self)
    def __invert__(self) -> Any: return _m().invert(self)

    def __getitem__(self, idx: Any) -> Any:
        return _m().getitem(self, idx)

    def __len__(self) -> int:
        n = self.type.shape[0] if self.type.ndim else None  # type: ignore[attr-defined]
        if n is None:
            from gnomon.errors import GnomonTypeError

            raise GnomonTypeError(
                f"len({self}) is unknown until the graph runs.\nHint: use x.shape[0]."
            )
        return int(n)

    def __iter__(self) -> Any:
        for i in range(len(self)):
            yield self[i]

    # array-like properties and methods
    @property
    def shape(self) -> Any:
        return _m().shape(self)

    @property
    def broadcastable(self) -> tuple[bool, ...]:
        """Which dimensions have static length 1 (PyTensor's name; see ``type.shape``)."""
        return self.type.broadcastable  # type: ignore[attr-defined]

    def dprint(self, **kwargs: Any) -> Any:
        """Print this variable's graph as a tree: :func:`gnomon.printing.debugprint` of it.

        Examples
        --------
        >>> import gnomon.tensor as gt
        >>> x = gt.dscalar("x")
        >>> (x + 1).dprint(print_type=False)
        Elemwise(add) [id A]
         ├─ x [id B]
         └─ 1.0
        """
        from gnomon.printing import debugprint

        return debugprint(self, **kwargs)

    @property
    def size(self) -> Any:
        return _m().prod(_m().shape(self))

    @property
    def T(self) -> Any:
        return _m().transpose(self)

    @property
    def mT(self) -> Any:
        return _m().swapaxes(self, -1, -2)

    @property
    def real(self) -> Any:
        return _m().real(self)

    @property
    def imag(self) -> Any:
        return _m().imag(self)

    def conj(self) -> Any: return _m().conj(self)
    def astype(self, dtype: Any) -> Any: return _m().cast(self, dtype)
    def transpose(self, *axes: Any) -> Any:
        return _m().transpose(self, axes[0] if len(axes) == 1 else (axes or None))
    def dimshuffle(self, *pattern: Any) -> Any:
        if len(pattern) == 1 and isinstance(pattern[0], list | tuple):
            pattern = tuple(pattern[0])
        return _m().dimshuffle(self, pattern)
    def reshape(self, *shape: Any, **kw: Any) -> Any:
        return _m().reshape(self, shape[0] if len(shape) == 1 else shape, **kw)
    def flatten(self, ndim: int = 1) -> Any: return _m().flatten(self, ndim)
    def ravel(self) -> Any: return _m().flatten(self, 1)
    def squeeze(self, axis: Any = None) -> Any: return _m().squeeze(self, axis)
    def sum(self, axis: Any = None, keepdims: bool = False, **kw: Any) -> Any:
        return _m().sum(self, axis=axis, keepdims=keepdims, **kw)
    def prod(self, axis: Any = None, keepdims: bool = False, **kw: Any) -> Any:
        return _m().prod(self, axis=axis, keepdims=keepdims, **kw)
    def mean(self, axis: Any = None, keepdims: bool = False, **kw: Any) -> Any:
        return _m().mean(self, axis=axis, keepdims=keepdims, **kw)
    def var(self, axis: Any = None, keepdims: bool = False, **kw: Any) -> Any:
        return _m().var(self, axis=axis, keepdims=keepdims, **kw)
    def std(self, axis: Any = None, keepdims: bool = False, **kw: Any) -> Any:
        return _m().std(self, axis=axis, keepdims=keepdims, **kw)
    def max(self, axis: Any = None, keepdims: bool = False) -> Any:
        return _m().max(self, axis=axis, keepdims=keepdims)
    def min(self, axis: Any = None, keepdims: bool = False) -> Any:
        return _m().min(self, axis=axis, keepdims=keepdims)
    def argmax(self, axis: Any = None, keepdims: bool = False) -> Any:
        return _m().argmax(self, axis=axis, keepdims=keepdims)
    def argmin(self, axis: Any = None, keepdims: bool = False) -> Any:
        return _m().argmin(self, axis=axis, keepdims=keepdims)
    def all(self, axis: Any = None, keepdims: bool = False) -> Any:
        return _m().all(self, axis=axis, keepdims=keepdims)
    def any(self, axis: Any = None, keepdims: bool = False) -> Any:
        return _m().any(self, axis=axis, keepdims=keepdims)
    def cumsum(self, axis: Any = None) -> Any: return _m().cumsum(self, axis=axis)
    def cumprod(self, axis: Any = None) -> Any: return _m().cumprod(self, axis=axis)
    def dot(self, o: Any) -> Any: return _m().dot(self, o)
    def clip(self, lo: Any, hi: Any) -> Any: return _m().clip(self, lo, hi)
    def round(self) -> Any: return _m().round(self)
    def nonzero(self) -> Any: return _m().nonzero(self)
    def sort(self, axis: int = -1) -> Any: return _m().sort(self, axis=axis)
    def argsort(self, axis: int = -1) -> Any: return _m().argsort(self, axis=axis)
    def repeat(self, repeats: Any, axis: Any = None) -> Any:
        return _m().repeat(self, repeats, axis=axis)
    def copy(self) -> Any: return _m().identity(self)

    def set(self, y: Any) -> Any:
        """``set_subtensor(self, y)`` for an indexed variable: ``x[idx].set(y)`` is ``x`` with
        ``x[idx]`` replaced by ``y`` (PyTensor's method, like JAX's ``x.at[idx].set(y)``)."""
        return _m().set_subtensor(self, y)

    def inc(self, y: Any) -> Any:
        """``inc_subtensor(self, y)``: ``x[idx].inc(y)`` is ``x`` with ``y`` added to ``x[idx]``.

        Examples
        --------
        >>> import numpy as np, gnomon.tensor as gt
        >>> x = gt.constant(np.zeros(3))
        >>> x[1:].inc(2.0).eval().tolist(), x[0].set(5.0).eval().tolist()
        ([0.0, 2.0, 2.0], [5.0, 0.0, 0.0])
        """
        return _m().inc_subtensor(self, y)


class TensorVariable(TensorOperators, Variable):
    """A symbolic array: an input of a graph or the result of an op."""

    __slots__ = ()
    type: TensorType


class TensorConstant(TensorVariable, Constant):
    """A constant array, interned by dtype, shape and value.

    A :class:`TensorVariable` too (as in PyTensor): ``isinstance(c, TensorVariable)`` holds.
    """

    __slots__ = ()
    type: TensorType
