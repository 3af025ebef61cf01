"""Low-rank adaptation (LoRA): Hu et al.'s form, and Keras's per-head form beside it.

Taught in chapter 8 (``notebooks/08_pretraining_finetuning.ipynb``).

LoRA freezes a projection's weight ``W`` (``d × n``) and learns ``ΔW = A·B`` with ``A``
``(d × r)`` and ``B`` ``(r × n)``, so the update has rank at most ``r`` and costs
``r·(d + n)`` parameters (Hu et al. 2021).  ``B`` starts at zero, so training starts from
the pre-trained model, and the update is scaled by ``alpha / r``.

An attention projection of :mod:`lmbook.transformer` is an ``EinsumDense`` with a kernel
``(d, heads, d_k)``.  Two forms adapt it:

- :class:`LoRA` (``form="hu"``): the kernel read as the ``d × (heads·d_k)`` map it is, and
  adapted as Hu et al. do: rank ``r``, ``2·d·r`` parameters when ``heads·d_k = d``;
- Keras's ``EinsumDense.enable_lora(r)`` (``form="per_head"``): ``A`` is ``(d, heads, r)``
  and ``B`` ``(r, d_k)``, so each head gets its own ``A_h·B``: the update has rank up to
  ``heads·r`` and ``r·(d·heads + d_k)`` parameters.

:func:`enable_lora` adapts every block's query and value projections in either form and
freezes every other weight of the encoder.

Example:
    >>> import keras
    >>> dense = keras.layers.EinsumDense("btd,dhk->bthk", (None, 2, 4))
    >>> dense.build((None, None, 8))
    >>> lora = LoRA(dense, rank=2)
    >>> lora.build((None, None, 8))
    >>> [tuple(w.shape) for w in lora.trainable_weights]
    [(8, 2), (2, 8)]
"""

from __future__ import annotations

import math

import keras
import numpy as np
from keras import ops

from lmbook.checks import check_int

__all__ = ["FORMS", "LoRA", "enable_lora", "update"]

#: The two forms of :func:`enable_lora`: Hu et al.'s, and Keras's ``EinsumDense.enable_lora``.
FORMS = ("hu", "per_head")


@keras.saving.register_keras_serializable(package="lmbook")
class LoRA(keras.layers.Layer):
    """A frozen projection plus Hu et al.'s low-rank update: ``y = W(x) + (alpha/r)·(x A) B``.

    ``projection`` is a built layer whose kernel is ``(d, *output)``, such as the
    ``"btd,dhk->bthk"`` ``EinsumDense`` of an attention head group; the update is computed as
    a ``d × prod(output)`` matrix product and reshaped to the projection's output.  ``A``
    starts as Keras's LoRA does (He-uniform), ``B`` at zero.

    Args:
        projection: the layer to adapt; it is frozen.
        rank: ``r``, at least 1.
        alpha: the scale's numerator.  Default ``rank`` (a scale of 1), as Keras.

    Example:
        >>> dense = keras.layers.EinsumDense("btd,dhk->bthk", (None, 2, 4))
        >>> dense.build((None, None, 8))
        >>> x = np.ones((1, 3, 8), "float32")
        >>> bool(np.allclose(LoRA(dense, rank=2)(x), dense(x)))   # B starts at zero
        True
    """

    def __init__(self, projection: keras.layers.Layer, rank: int, alpha: float | None = None, **kwargs):
        super().__init__(**kwargs)
        if not projection.built:
            raise ValueError(f"projection {projection.name!r} must be built before LoRA adapts it")
        self.projection = projection
        self.rank = check_int("rank", rank, minimum=1)
        self.alpha = float(rank if alpha is None else alpha)
        projection.trainable = False

    def build(self, input_shape):
        """``A`` ``(d, r)`` and ``B`` ``(r, n)`` for the projection's kernel ``(d, *output)``."""
        shape = tuple(self.projection.kernel.shape)
        self.output_dims = shape[1:]
        self.lora_a = self.add_weight(name="lora_a", shape=(shape[0], self.rank),
                                      initializer=keras.initializers.HeUniform())
        self.lora_b = self.add_weight(name="lora_b", shape=(self.rank, math.prod(self.output_dims)),
                                      initializer="zeros")

    def call(self, x):
        """The frozen projection's output plus the scaled low-rank update."""
        delta = ops.matmul(ops.matmul(x, self.lora_a), self.lora_b) * (self.alpha / self.rank)
        return self.projection(x) + ops.reshape(delta, (*ops.shape(x)[:-1], *self.output_dims))

    def get_config(self):
        """The constructor arguments (the projection serialised)."""
        return {**super().get_config(), "rank": self.rank, "alpha": self.alpha,
                "projection": keras.saving.serialize_keras_object(self.projection)}

    @classmethod
    def from_config(cls, config):
        """Rebuild the projection, then the adapter around it."""
        projection = keras.saving.deserialize_keras_object(config.pop("projection"))
        return cls(projection, **config)


def update(projection: keras.layers.Layer):
    """The weight update ``ΔW`` of an adapted projection (a :class:`LoRA`, or an ``EinsumDense``
    after Keras's ``enable_lora``), as the ``d × n`` matrix it adds to ``W`` (NumPy): to
    measure its rank.

    Example:
        >>> dense = keras.layers.EinsumDense("btd,dhk->bthk", (None, 2, 4))
        >>> dense.build((None, None, 8))
        >>> dense.enable_lora(1)
        >>> update(dense).shape
        (8, 8)
    """
    if isinstance(projection, LoRA):
        a, b = (np.asarray(ops.convert_to_numpy(w)) for w in (projection.lora_a, projection.lora_b))
        return (a @ b) * (projection.alpha / projection.rank)
    if not getattr(projection, "lora_enabled", False):
        raise ValueError(f"projection {projection.name!r} has no LoRA update")
    a, b = (np.asarray(ops.convert_to_numpy(w)) for w in (projection.lora_kernel_a, projection.lora_kernel_b))
    delta = (a @ b) * (projection.lora_alpha / projection.lora_rank)
    return delta.reshape(delta.shape[0], -1)


def enable_lora(encoder: keras.Model, rank: int, form: str = "hu") -> None:
    """LoRA of ``rank`` on every block's query and value projections, in ``form``
    (:data:`FORMS`); every other weight of ``encoder`` frozen explicitly (Keras's
    ``enable_lora`` freezes only the kernel it adapts).

    Example:
        >>> from lmbook import masked_lm
        >>> enc = masked_lm.encoder(vocab_size=50, seq_len=16, d_model=32, num_heads=4, layers=1)
        >>> enable_lora(enc, rank=2)
        >>> sum(math.prod(w.shape) for w in enc.trainable_weights)   # 2 projections × 2·32·2
        256
    """
    if form not in FORMS:
        raise ValueError(f"form must be one of {', '.join(FORMS)}, got {form!r}")
    rank = check_int("rank", rank, minimum=1)
    for layer in encoder.layers:
        attention = getattr(layer, "attention", None)
        if attention is None:
            continue
        for name in ("query", "value"):
            projection = getattr(attention, name)
            if form == "per_head":
                projection.enable_lora(rank)
            else:
                adapter = LoRA(projection, rank, name=f"{name}_lora")
                with keras.name_scope(layer.name), keras.name_scope(attention.name):
                    adapter.build((None, None, projection.kernel.shape[0]))   # paths name the block
                attention._tracker.unlock()      # a built layer's state is locked (Keras's
                setattr(attention, name, adapter)  # enable_lora unlocks it the same way)
                attention._tracker.lock()
    for weight in encoder.weights:
        weight.trainable = "lora" in weight.path.rsplit("/", 1)[-1]
