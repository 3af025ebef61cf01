"""The training recipe shared by the neural chapters: schedule, optimiser, clipping, batches.

Taught in chapter 3 (``notebooks/03_rnn_lstm.ipynb``); chapter 4 trains its GPT with the
same recipe and AdamW.  ``benchmarks/char_lm.py`` uses it too, so the book's figures and
the benchmark's come from one definition.

The learning rate warms up linearly from ``peak_lr / 10`` to ``peak_lr`` over the first
4% of the steps, then follows a half cosine down to ``final_fraction * peak_lr``.

Example:
    >>> schedule = warmup_cosine(1e-3, steps=100)
    >>> [round(float(schedule(s)), 6) for s in (0, 4, 104)]
    [0.0001, 0.001, 5e-05]
"""

from __future__ import annotations

import math
import time

import keras
import numpy as np

from lmbook.checks import check_int, check_rate
from lmbook.models import context_window, stateful_batch_size
from lmbook.text import StreamBatches, WindowBatches

__all__ = ["LayerwiseAdamW", "SlantedTriangular", "compile_lm", "fit_windows", "warmup_cosine"]


def warmup_cosine(
    peak_lr: float, steps: int, warmup_steps: int | None = None, final_fraction: float = 0.05
) -> keras.optimizers.schedules.LearningRateSchedule:
    """Linear warm-up to ``peak_lr``, then cosine decay over ``steps`` steps.

    Args:
        peak_lr: the learning rate at the end of the warm-up.
        steps: length of the cosine decay (after the warm-up).
        warmup_steps: default ``max(1, steps // 25)``.
        final_fraction: the last learning rate, as a fraction of ``peak_lr``.

    Example:
        >>> round(float(warmup_cosine(0.01, steps=10, warmup_steps=2)(2)), 6)
        0.01
    """
    peak_lr = check_rate("peak_lr", peak_lr, high=math.inf, include_low=False)
    steps = check_int("steps", steps, minimum=1)
    warmup_steps = max(1, steps // 25) if warmup_steps is None else check_int("warmup_steps", warmup_steps,
                                                                              minimum=0)
    final_fraction = check_rate("final_fraction", final_fraction, include_high=True)
    return keras.optimizers.schedules.CosineDecay(
        peak_lr / 10, decay_steps=steps, alpha=final_fraction, warmup_target=peak_lr,
        warmup_steps=warmup_steps)


@keras.saving.register_keras_serializable(package="lmbook")
class SlantedTriangular(keras.optimizers.schedules.LearningRateSchedule):
    """ULMFiT's slanted triangular learning rate (Howard & Ruder 2018, eq. 3): a short linear
    rise over the first ``cut_frac`` of the ``steps``, then a long linear decay; the rate
    goes from ``peak_lr / ratio`` to ``peak_lr`` and back.

    Taught in chapter 8.

    Example:
        >>> schedule = SlantedTriangular(0.01, steps=100)
        >>> [round(float(schedule(s)), 6) for s in (0, 10, 55, 100)]
        [0.000312, 0.01, 0.005156, 0.000312]
    """

    def __init__(self, peak_lr: float, steps: int, cut_frac: float = 0.1, ratio: float = 32.0):
        self.peak_lr = check_rate("peak_lr", peak_lr, high=math.inf, include_low=False)
        self.steps = check_int("steps", steps, minimum=2)
        self.cut_frac = check_rate("cut_frac", cut_frac, include_low=False)
        self.ratio = check_rate("ratio", ratio, low=1.0, high=math.inf)

    def __call__(self, step):
        """The learning rate at ``step`` (plus ``offset``)."""
        t = keras.ops.cast(step, "float32")
        cut = max(1, min(self.steps - 1, math.floor(self.steps * self.cut_frac)))
        p = keras.ops.where(t < cut, t / cut, 1.0 - (t - cut) / (self.steps - cut))
        return self.peak_lr * (1.0 + keras.ops.clip(p, 0.0, 1.0) * (self.ratio - 1.0)) / self.ratio

    def get_config(self):
        """The constructor arguments."""
        return {"peak_lr": self.peak_lr, "steps": self.steps, "cut_frac": self.cut_frac,
                "ratio": self.ratio}


class LayerwiseAdamW(keras.optimizers.AdamW):
    """AdamW with a learning-rate factor per variable: ULMFiT's discriminative rates.

    Under Adam, scaling a variable's *gradient* does not change its step (the step is
    ``m / sqrt(v)``, invariant to the gradient's scale), so the factor scales the *update*:
    ``update_step`` runs with ``learning_rate × factor``, and the decoupled weight decay is
    applied there too, at the same scaled rate (a factor of 0 leaves the variable untouched).

    Taught in chapter 8.

    Args:
        factors: variable path → factor; a variable not named gets 1.
        **kwargs: ``keras.optimizers.AdamW``'s.

    Example:
        >>> w = keras.Variable(np.zeros(2, "float32"), name="w")
        >>> opt = LayerwiseAdamW({w.path: 0.5}, learning_rate=0.1, weight_decay=0.0)
        >>> opt.apply([np.ones(2, "float32")], [w])
        >>> [round(float(v), 4) for v in keras.ops.convert_to_numpy(w)]     # Adam: -lr·sign(g) first
        [-0.05, -0.05]
    """

    def __init__(self, factors: dict[str, float], **kwargs):
        super().__init__(**kwargs)
        self.factors = {str(path): check_rate(f"factors[{path!r}]", f, high=math.inf)
                        for path, f in factors.items()}

    def build(self, variables):
        """Adam's moments, and each variable's factor, in the optimiser's order."""
        super().build(variables)
        self._factor_of = [self.factors.get(v.path, 1.0) for v in variables]

    def _apply_weight_decay(self, variables):
        """Nothing here: :meth:`update_step` decays each variable at its own rate."""

    def update_step(self, gradient, variable, learning_rate):
        """Decay, then Adam's step, both at ``learning_rate × factor``."""
        factor = self._factor_of[self._get_variable_index(variable)]
        if factor == 0:
            return
        lr = keras.ops.cast(learning_rate, variable.dtype) * factor
        if self.weight_decay and self._use_weight_decay(variable):
            self.assign_sub(variable, variable * keras.ops.cast(self.weight_decay, variable.dtype) * lr)
        super().update_step(gradient, variable, lr)


def compile_lm(
    model: keras.Model, steps: int, peak_lr: float = 6e-3, weight_decay: float = 0.0,
    clipnorm: float = 1.0, jit_compile: bool | str = "auto", reduction: str = "sum_over_batch_size",
    schedule: keras.optimizers.schedules.LearningRateSchedule | None = None,
    layer_factors: dict[str, float] | None = None,
) -> keras.Model:
    """Compile an LM (logits out) with Adam, or AdamW when ``weight_decay > 0``.

    AdamW (decoupled weight decay, β₂ = 0.99 as in nanoGPT) decays the weight matrices and
    embeddings, not biases or LayerNorm scales.
    The loss is the cross-entropy on logits, so the reported loss is in nats per token.
    Gradients are clipped to global norm ``clipnorm``; the learning rate follows
    :func:`warmup_cosine`, or ``schedule`` when given.  ``reduction="mean_with_sample_weight"``
    averages the loss over the positions with a nonzero sample weight (a masked LM's, chapter 8).
    ``layer_factors`` (variable path → learning-rate factor) gives :class:`LayerwiseAdamW`
    (chapter 8's discriminative rates).  Returns ``model``.

    Example:
        >>> from lmbook.models import recurrent_lm
        >>> m = compile_lm(recurrent_lm(20, units=8), steps=10, weight_decay=0.1)
        >>> type(m.optimizer).__name__
        'AdamW'
    """
    schedule = warmup_cosine(peak_lr, steps) if schedule is None else schedule
    weight_decay = check_rate("weight_decay", weight_decay, high=math.inf)
    clipnorm = check_rate("clipnorm", clipnorm, high=math.inf, include_low=False)
    if layer_factors is not None:
        optimizer = LayerwiseAdamW(layer_factors, learning_rate=schedule, weight_decay=weight_decay,
                                   beta_2=0.99, global_clipnorm=clipnorm)
        optimizer.exclude_from_weight_decay(var_names=["bias", "gamma", "beta"])
    elif weight_decay:
        optimizer = keras.optimizers.AdamW(schedule, weight_decay=weight_decay, beta_2=0.99,
                                           global_clipnorm=clipnorm)
        optimizer.exclude_from_weight_decay(var_names=["bias", "gamma", "beta"])  # decay matrices only
    else:
        optimizer = keras.optimizers.Adam(schedule, global_clipnorm=clipnorm)
    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True, reduction=reduction)
    model.compile(optimizer=optimizer, loss=loss, jit_compile=jit_compile)
    return model


def fit_windows(
    model: keras.Model, ids: np.ndarray, steps: int, batch_size: int, seq_len: int,
    epochs: int = 10, seed: int = 0, labels: np.ndarray | None = None, **fit_kwargs,
) -> tuple[keras.callbacks.History, float]:
    """Train ``model`` for ``steps`` steps on random windows of ``ids``.

    The steps are split into ``epochs`` Keras epochs of ``steps / epochs`` steps, so per-epoch
    callbacks (early stopping, checkpoints, :class:`lmbook.perplexity.StreamLoss`) run ``epochs``
    times; ``epochs`` must divide ``steps``.  The targets are the next tokens, or ``labels``
    (one per id) for a tagger (:func:`lmbook.text.tagging_windows`).  A *stateful* model (one with a
    fixed batch size, ``recurrent_lm(..., stateful_batch_size=batch_size)``) trains instead on
    consecutive windows of parallel streams (:class:`lmbook.text.StreamBatches`): truncated
    backpropagation through time.  A model with a window (a GPT) trains on windows that fit
    in it: ``seq_len`` at most its ``seq_len``.  Returns the Keras history and the training
    time in seconds.

    Example:
        >>> from lmbook.models import recurrent_lm
        >>> m = compile_lm(recurrent_lm(5, units=4), steps=4)
        >>> history, seconds = fit_windows(m, np.arange(100) % 5, 4, batch_size=2, seq_len=8, epochs=2)
        >>> len(history.history["loss"])
        2
        >>> fit_windows(m, np.arange(100) % 5, 5, batch_size=2, seq_len=8, epochs=2)
        Traceback (most recent call last):
        ...
        ValueError: epochs (2) must divide steps (5): 5 steps cannot be split into 2 equal epochs
    """
    steps = check_int("steps", steps, minimum=1)
    epochs = check_int("epochs", epochs, minimum=1, maximum=steps)
    if steps % epochs:
        raise ValueError(f"epochs ({epochs}) must divide steps ({steps}): "
                         f"{steps} steps cannot be split into {epochs} equal epochs")
    batch_size = check_int("batch_size", batch_size, minimum=1)
    seq_len = check_int("seq_len", seq_len, minimum=1)
    window = context_window(model)
    if window is not None and seq_len > window:
        raise ValueError(f"got seq_len={seq_len}, longer than the model's window, seq_len={window}")
    stateful_batch = stateful_batch_size(model)
    if stateful_batch is None:
        batches = WindowBatches(ids, batch_size, seq_len, steps=steps // epochs, seed=seed, labels=labels)
    elif batch_size != stateful_batch:
        raise ValueError(f"batch_size must be {stateful_batch}, the stateful model's batch size; "
                         f"got {batch_size}")
    elif labels is not None:
        raise ValueError("labels are for taggers; a stateful model trains on next-token targets")
    else:
        batches = StreamBatches(ids, batch_size, seq_len, steps=steps // epochs, seed=seed)
    start = time.perf_counter()
    history = model.fit(batches, epochs=epochs, verbose=fit_kwargs.pop("verbose", 0), **fit_kwargs)
    return history, time.perf_counter() - start
