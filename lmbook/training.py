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

__all__ = ["compile_lm", "fit_windows", "warmup_cosine"]


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


def compile_lm(
    model: keras.Model, steps: int, peak_lr: float = 6e-3, weight_decay: float = 0.0,
    clipnorm: float = 1.0, jit_compile: bool | str = "auto", reduction: str = "sum_over_batch_size",
) -> keras.Model:
    """Compile an LM (logits out) with Adam, or AdamW when ``weight_decay > 0``.

    AdamW (decoupled weight decay, β₂ = 0.99 as in nanoGPT) decays the weight matrices and
    embeddings, not biases or LayerNorm scales.
    The loss is the cross-entropy on logits, so the reported loss is in nats per token.
    Gradients are clipped to global norm ``clipnorm``; the learning rate follows
    :func:`warmup_cosine`.  ``reduction="mean_with_sample_weight"`` averages the loss over
    the positions with a nonzero sample weight (a masked LM's, chapter 8).  Returns ``model``.

    Example:
        >>> from lmbook.models import recurrent_lm
        >>> m = compile_lm(recurrent_lm(20, units=8), steps=10, weight_decay=0.1)
        >>> type(m.optimizer).__name__
        'AdamW'
    """
    schedule = warmup_cosine(peak_lr, steps)
    weight_decay = check_rate("weight_decay", weight_decay, high=math.inf)
    clipnorm = check_rate("clipnorm", clipnorm, high=math.inf, include_low=False)
    if weight_decay:
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
    callbacks (early stopping, checkpoints, :class:`lmbook.metrics.StreamLoss`) run ``epochs``
    times; ``epochs`` must divide ``steps``.  The targets are the next tokens, or ``labels``
    (one per id) for a tagger (:func:`lmbook.text.tagging_windows`).  A *stateful* model (one with a
    fixed batch size, ``recurrent_lm(..., stateful_batch_size=batch_size)``) trains instead on
    consecutive windows of parallel streams (:class:`lmbook.text.StreamBatches`): truncated
    backpropagation through time.  A model with a window (a GPT) trains on windows that fit
    in it: ``seq_len`` at most its ``max_length``.  Returns the Keras history and the training
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
        raise ValueError(f"got seq_len={seq_len}, longer than the model's window, max_length={window}")
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
