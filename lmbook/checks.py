"""Argument checks: one way, everywhere, to reject bad integers and rates with a clear error.

Taught in chapter 1 (``notebooks/01_language_models.ipynb``), where the book's conventions
are set out: a bad argument raises an error that names the argument, what was expected and
what was given.  Integers accept Python and numpy integers and reject ``bool`` (``True`` is
an ``int`` to Python, but never a step count); rates accept any real number in a range.

Example:
    >>> check_int("steps", 100, minimum=1)
    100
    >>> check_int("steps", True)
    Traceback (most recent call last):
    ...
    ValueError: steps must be an integer, got True
"""

from __future__ import annotations

import numbers

__all__ = ["check_int", "check_rate"]


def check_int(name: str, value, minimum: int | None = None, maximum: int | None = None) -> int:
    """Return ``value`` as a Python ``int`` if it is an integer in ``[minimum, maximum]``.

    Args:
        name: the argument's name, for the error message.
        value: the value to check; Python and numpy integers pass, ``bool`` does not.
        minimum: the smallest value allowed (``None``: no bound).
        maximum: the largest value allowed (``None``: no bound).

    Raises:
        ValueError: naming ``name``, the expected range and the value given.

    Example:
        >>> import numpy as np
        >>> check_int("order", np.int64(3), minimum=1)
        3
        >>> check_int("order", 0, minimum=1)
        Traceback (most recent call last):
        ...
        ValueError: order must be an integer >= 1, got 0
    """
    if minimum is not None and maximum is not None:
        expected = f"an integer in [{minimum}, {maximum}]"
    elif minimum is not None:
        expected = f"an integer >= {minimum}"
    elif maximum is not None:
        expected = f"an integer <= {maximum}"
    else:
        expected = "an integer"
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{name} must be {expected}, got {value!r}")
    if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
        raise ValueError(f"{name} must be {expected}, got {value!r}")
    return int(value)


def check_rate(name: str, value, low: float = 0.0, high: float = 1.0,
               include_low: bool = True, include_high: bool = False) -> float:
    """Return ``value`` as a ``float`` if it is a real number in the given interval.

    Args:
        name: the argument's name, for the error message.
        value: the value to check; ints, floats and numpy scalars pass, ``bool`` does not.
        low, high: the interval's ends (default ``[0, 1)``, a dropout rate).
        include_low, include_high: whether each end is allowed.

    Raises:
        ValueError: naming ``name``, the interval and the value given.

    Example:
        >>> check_rate("dropout", 0.1)
        0.1
        >>> check_rate("dropout", 1.0)
        Traceback (most recent call last):
        ...
        ValueError: dropout must be a number in [0.0, 1.0), got 1.0
    """
    interval = f"{'[' if include_low else '('}{low}, {high}{']' if include_high else ')'}"
    ok = (isinstance(value, numbers.Real) and not isinstance(value, bool)
          and (value >= low if include_low else value > low)
          and (value <= high if include_high else value < high))
    if not ok:
        raise ValueError(f"{name} must be a number in {interval}, got {value!r}")
    return float(value)
