"""Auto-checked exercises, in the spirit of Kaggle's learntools.

Taught in chapter 1 (``notebooks/01_language_models.ipynb``); each chapter has a module
``lmbook.exercises.chNN`` that binds ``q1`` ... ``qN``.

Each exercise has ``check(answer)``, ``hint()`` and ``solution()``.  ``check`` prints a
verdict and records it in ``.correct``; for the common wrong answers it says what went
wrong.  :func:`score` counts the exercises answered correctly, for grading.  An unanswered
exercise (``None`` or ``...``) is reported, not failed loudly, so a student's notebook still
runs top to bottom.

Example:
    >>> checker = lambda a: expect_number(a, 4, wrong=[(22, "+ on strings")])
    >>> q = Exercise("q0", "What is 2 + 2?", checker, hint="Count.", solution="4")
    >>> q.check(22)
    ❌ q0: + on strings
    >>> q.check(4)
    ✅ q0: correct!
    >>> score([q])
    (1, 1)
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable

from lmbook.notebook import fill

__all__ = ["Exercise", "Incorrect", "expect_equal", "expect_function", "expect_number", "score"]


def _fill(text: str) -> str:
    """``text`` as :func:`lmbook.notebook.fill` prints it, continuations indented by four spaces."""
    return fill(text, indent="    ")


class Incorrect(Exception):
    """Raised by a checker, with a message that tells the student what is wrong."""


class Exercise:
    """One exercise: a prompt, a checker, a hint and a solution.

    Args:
        name: e.g. ``"q1"``.
        prompt: the question, shown by ``repr``.
        checker: ``checker(answer)`` returns for a right answer and raises
            :class:`Incorrect` with a specific message for a wrong one.
        hint: a nudge, shown by :meth:`hint`.
        solution: the worked answer, shown by :meth:`solution`.
    """

    def __init__(self, name: str, prompt: str, checker: Callable, hint: str, solution: str):
        self.name, self.prompt, self.checker = name, prompt, checker
        self._hint, self._solution = hint, solution
        self.correct = False

    def __repr__(self) -> str:
        return _fill(f"{self.name}: {self.prompt}")

    def check(self, answer=None) -> None:
        """Print a verdict on ``answer`` and record it in ``self.correct``."""
        self.correct = False
        if answer is None or answer is Ellipsis:
            print(_fill(f"⬜ {self.name}: not answered yet — set your answer and run this cell again."))
            return
        try:
            self.checker(answer)
        except Incorrect as wrong:
            print(_fill(f"❌ {self.name}: {wrong}"))
            return
        self.correct = True
        print(f"✅ {self.name}: correct!")

    def hint(self) -> None:
        """Print the hint."""
        print(_fill(f"💡 {self.name}: {self._hint}"))

    def solution(self) -> None:
        """Print the solution."""
        print(_fill(f"📖 {self.name}: {self._solution}"))


def _as_float(answer) -> float:
    try:
        return float(answer)
    except (TypeError, ValueError):
        raise Incorrect(f"expected a number, got {type(answer).__name__} {answer!r}") from None


def expect_number(
    answer,
    expected: float,
    rel_tol: float = 1e-3,
    wrong: Iterable[tuple[float, str]] = (),
) -> None:
    """Check that ``answer`` is close to ``expected``; explain known wrong answers.

    Args:
        answer: the student's number.
        expected: the right value (computed, never typed in).
        rel_tol: relative tolerance.
        wrong: ``(value, message)`` pairs for common mistakes.

    Example:
        >>> expect_number(0.5, 0.5)
        >>> expect_number(2.0, 0.5, wrong=[(2.0, "you inverted it")])
        Traceback (most recent call last):
        ...
        lmbook.exercises.Incorrect: you inverted it
    """
    value = _as_float(answer)
    if math.isclose(value, expected, rel_tol=rel_tol, abs_tol=1e-12):
        return
    for wrong_value, message in wrong:
        if math.isclose(value, wrong_value, rel_tol=rel_tol, abs_tol=1e-12):
            raise Incorrect(message)
    raise Incorrect(f"{value:.6g} is not right; try the hint.")


def expect_equal(answer, expected, wrong: Iterable[tuple[object, str]] = ()) -> None:
    """Check that ``answer == expected`` (a string, a list of words…); explain known wrong ones.

    Example:
        >>> expect_equal("BES", "BES")
        >>> expect_equal("BBS", "BES", wrong=[("BBS", "a word cannot begin twice")])
        Traceback (most recent call last):
        ...
        lmbook.exercises.Incorrect: a word cannot begin twice
    """
    if answer == expected:
        return
    for wrong_value, message in wrong:
        if answer == wrong_value:
            raise Incorrect(message)
    raise Incorrect(f"{answer!r} is not right; try the hint.")


def expect_function(
    fn,
    reference: Callable,
    cases: Iterable[tuple],
    wrong: Iterable[tuple[Callable, str]] = (),
    rel_tol: float = 1e-6,
) -> None:
    """Check a student's function against ``reference`` on every argument tuple in ``cases``.

    Args:
        fn: the student's function.
        reference: the right function.
        cases: argument tuples to call both with.
        wrong: ``(mistaken_function, message)`` pairs for common mistakes: when the
            student's result matches a mistaken function's on a case, its message is shown.
        rel_tol: relative tolerance.

    Example:
        >>> expect_function(lambda x: 2 * x, lambda x: x + x, [(1,), (5,)])
        >>> expect_function(lambda x: x * x, lambda x: x + x, [(1,), (5,)],
        ...                 wrong=[(lambda x: x * x, "that squares")])
        Traceback (most recent call last):
        ...
        lmbook.exercises.Incorrect: that squares
    """
    if not callable(fn):
        raise Incorrect(f"expected a function, got {type(fn).__name__} {fn!r}")
    for args in cases:
        want = float(reference(*args))
        try:
            got = float(fn(*args))
        except Exception as err:
            raise Incorrect(f"your function raised {type(err).__name__}: {err} "
                            f"on arguments {args}") from None
        if math.isclose(got, want, rel_tol=rel_tol, abs_tol=1e-12):
            continue
        for mistaken, message in wrong:
            try:
                if math.isclose(got, float(mistaken(*args)), rel_tol=rel_tol, abs_tol=1e-12):
                    raise Incorrect(message)
            except (ArithmeticError, ValueError):
                pass
        raise Incorrect(f"on arguments {args} expected {want:.6g}, got {got:.6g}.")


def score(exercises: Iterable[Exercise]) -> tuple[int, int]:
    """``(number correct, number of exercises)``, from each exercise's last check.

    Example:
        >>> score([])
        (0, 0)
    """
    exercises = list(exercises)
    return sum(q.correct for q in exercises), len(exercises)
