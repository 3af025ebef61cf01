"""Run modes and per-notebook settings: every knob has a quick value and a full value.

Taught in chapter 1 (``notebooks/01_language_models.ipynb``) and used by every chapter.

The mode comes from ``$LMBOOK_MODE`` (``quick`` or ``full``).  Without it, the mode is
``full`` when a GPU or TPU is visible to the Keras backend, else ``quick``.  Quick settings
run a chapter in a few minutes on a 2-core CPU (the test suite uses them); full settings
are for a GPU or Colab.

Example:
    >>> s = Settings(steps=(200, 5000), batch_size=(32, 64), mode="quick")
    >>> s.steps, s.batch_size
    (200, 32)
"""

from __future__ import annotations

import os

__all__ = ["MODES", "Settings", "accelerator", "get_mode"]

MODES = ("quick", "full")


def accelerator() -> str | None:
    """The accelerator visible to the active Keras backend, e.g. ``"gpu"``, or ``None``.

    Example:
        >>> accelerator() in (None, "gpu", "tpu")
        True
    """
    import keras

    backend = keras.backend.backend()
    if backend == "jax":
        import jax

        platforms = {d.platform for d in jax.devices()}
    elif backend == "tensorflow":
        import tensorflow as tf

        platforms = {d.device_type.lower() for d in tf.config.list_physical_devices()}
    elif backend == "torch":
        import torch

        platforms = {"gpu"} if torch.cuda.is_available() else set()
    else:
        platforms = set()
    platforms = {"gpu" if p == "cuda" else p for p in platforms}
    for kind in ("tpu", "gpu"):
        if kind in platforms:
            return kind
    return None


def get_mode() -> str:
    """The run mode: ``$LMBOOK_MODE`` if set, else ``full`` with an accelerator, else ``quick``.

    Example:
        >>> os.environ["LMBOOK_MODE"] = "quick"; get_mode()
        'quick'
    """
    mode = os.environ.get("LMBOOK_MODE", "").strip().lower()
    if mode:
        if mode not in MODES:
            raise ValueError(f"LMBOOK_MODE must be 'quick' or 'full', got {mode!r}")
        return mode
    return "full" if accelerator() else "quick"


class Settings:
    """A notebook's settings, each declared once as a ``(quick, full)`` pair.

    Args:
        mode: ``"quick"`` or ``"full"``; ``None`` asks :func:`get_mode`.
        **pairs: ``name=(quick_value, full_value)``.

    Attribute access returns the value for the chosen mode, and ``print(settings)`` shows a
    table of both columns with the chosen one marked.

    Example:
        >>> s = Settings(mode="full", seq_len=(64, 256))
        >>> s.seq_len
        256
    """

    def __init__(self, mode: str | None = None, **pairs):
        if mode is None:
            mode = get_mode()
        if mode not in MODES:
            raise ValueError(f"mode must be 'quick' or 'full', got {mode!r}")
        for name, pair in pairs.items():
            if not (isinstance(pair, tuple) and len(pair) == 2):
                raise TypeError(
                    f"setting {name!r} must be a (quick, full) tuple, got {pair!r}"
                )
        self.mode = mode
        self._pairs = dict(pairs)

    def __getattr__(self, name):
        pairs = self.__dict__.get("_pairs", {})
        if name not in pairs:
            raise AttributeError(f"no setting named {name!r}; known: {', '.join(pairs)}")
        return pairs[name][MODES.index(self.mode)]

    def as_dict(self) -> dict:
        """The chosen values as a plain dict (e.g. to log them)."""
        return {name: getattr(self, name) for name in self._pairs}

    def __repr__(self) -> str:
        width = max([len(n) for n in self._pairs] + [7])
        head = [m + ("*" if m == self.mode else "") for m in MODES]
        rows = [f"{'setting':<{width}}  {head[0]:>10}  {head[1]:>10}"]
        for name, (quick, full) in self._pairs.items():
            rows.append(f"{name:<{width}}  {quick!s:>10}  {full!s:>10}")
        return "\n".join(rows)
