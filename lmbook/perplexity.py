"""Scoring a language model on a whole token stream, in nats per token.

Taught in chapter 3 (``notebooks/03_rnn_lstm.ipynb``); the book's quality figures
(``benchmarks/char_lm.py``) are computed with :func:`stream_cross_entropy`, or with
:func:`stateful_cross_entropy` for a model trained statefully.

A validation text is one long stream of ids.  Cutting it into disjoint windows would score
the first tokens of every window with almost no context.  Instead, windows of
``seq_len`` ids overlap by ``seq_len - stride``; each token is scored once, in the first
window where it has at least ``seq_len - stride`` tokens of context (or all its history,
at the start of the stream).  Every token but the first is scored.  A stateful recurrent
model needs no windows: it reads the stream in ``batch_size`` consecutive pieces and carries
its state to the end of each.

Example:
    >>> import keras
    >>> uniform = keras.Sequential([keras.Input((None,), dtype="int32"),
    ...                             keras.layers.Embedding(4, 4, embeddings_initializer="zeros")])
    >>> round(stream_cross_entropy(uniform, np.arange(20) % 4, seq_len=8), 4)   # ln 4
    1.3863
"""

from __future__ import annotations

import math

import keras
import numpy as np

from lmbook.checks import check_int
from lmbook.models import logits, reset_states, stateful_batch_size

__all__ = ["StreamLoss", "bits", "block_cross_entropy", "log_softmax", "stateful_cross_entropy",
           "stateful_losses", "stream_cross_entropy", "stream_losses"]


def bits(nats: float) -> float:
    """Convert nats to bits (divide by ln 2).

    Example:
        >>> round(bits(math.log(2)), 6)
        1.0
    """
    return nats / math.log(2)


def log_softmax(logits, axis: int = -1) -> np.ndarray:
    """Log-probabilities from ``logits`` along ``axis``, in float64: ``z - log Σ exp z``,
    computed stably (the largest logit is subtracted first; ``-inf`` logits stay ``-inf``).

    Every per-token loss in lmbook goes through it.

    Example:
        >>> np.exp(log_softmax(np.array([1000.0, 1000.0]))).tolist()
        [0.5, 0.5]
    """
    z = np.asarray(logits, dtype=np.float64)
    top = z.max(axis=axis, keepdims=True)
    z = z - np.where(np.isfinite(top), top, 0.0)
    return z - np.log(np.exp(z).sum(axis=axis, keepdims=True))


def _target_losses(model: keras.Model, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """``-log p(y | x)`` at every position ``(B, T)``, in float64, from a compiled call
    (:func:`lmbook.models.logits`).

    The same log-softmax as :func:`log_softmax`, taken at the targets only: the logits stay in
    float32 (the log-sum-exp accumulates in float64), so a 4,621-way softmax over a batch of
    windows never becomes a float64 array of every log-probability.
    """
    z = logits(model, x)
    z = z.astype(np.float32, copy=False)
    top = z.max(axis=-1, keepdims=True)
    log_total = np.log(np.exp(z - top).sum(axis=-1, dtype=np.float64)) + top[..., 0]
    return log_total - np.take_along_axis(z, y[..., None].astype(np.int64), axis=-1)[..., 0]


def stream_cross_entropy(
    model: keras.Model, ids: np.ndarray, seq_len: int, stride: int | None = None,
    batch_size: int = 64,
) -> float:
    """Mean negative log-probability (nats) of ``ids[1:]``, each given its preceding ids.

    The mean of :func:`stream_losses`; the arguments are the same.
    """
    return float(stream_losses(model, ids, seq_len, stride, batch_size).mean())


def stream_losses(
    model: keras.Model, ids: np.ndarray, seq_len: int, stride: int | None = None,
    batch_size: int = 64,
) -> np.ndarray:
    """The negative log-probability (nats) of each of ``ids[1:]``, given its preceding ids.

    One loss per target, in stream order, so that two models scored on the same text can be
    compared token by token (:func:`lmbook.evaluation.stream_difference`).

    Args:
        model: maps ids ``(batch, time)`` to logits ``(batch, time, vocab)``.
        ids: the token stream, 1-D.
        seq_len: the window length fed to the model (at most a GPT's ``seq_len``).
        stride: how far consecutive windows move (default ``seq_len // 2``).
        batch_size: windows per model call.
    """
    ids = np.asarray(ids)
    if ids.ndim != 1 or len(ids) < 2:
        raise ValueError(f"ids must be a 1-D stream of at least 2 ids, got shape {ids.shape}")
    seq_len = check_int("seq_len", seq_len, minimum=1)
    if stride is None:
        stride = max(1, seq_len // 2)
    stride = check_int("stride", stride, minimum=1, maximum=seq_len)
    batch_size = check_int("batch_size", batch_size, minimum=1)
    # Window w covers ids[s : s + seq_len] (s = w * stride) and scores its targets from
    # position (seq_len - stride) on; the first window scores all of its targets.
    n_targets = len(ids) - 1
    starts = np.arange(0, max(n_targets - seq_len, 0) + stride, stride)
    starts = starts[starts < n_targets]
    losses = np.full(n_targets, np.nan)
    for b in range(0, len(starts), batch_size):
        chunk = starts[b:b + batch_size]
        length = min(seq_len, n_targets - int(chunk.min()))
        padded = np.pad(ids, (0, length + 1))                    # windows past the end read padding
        x = np.stack([padded[s:s + length] for s in chunk])
        per_position = _target_losses(model, x, np.stack([padded[s + 1:s + 1 + length] for s in chunk]))
        for row, s in enumerate(chunk):
            first = 0 if s == 0 else seq_len - stride
            last = min(length, n_targets - s)
            losses[s + first: s + last] = per_position[row, first:last]
    assert not np.isnan(losses).any(), "a target was not scored"
    return losses


def stateful_cross_entropy(model: keras.Model, ids: np.ndarray, chunk: int = 256) -> float:
    """Mean negative log-probability (nats) of ``ids[1:]``, read by a stateful model.

    The mean of :func:`stateful_losses`.

    Example:
        >>> from lmbook.models import recurrent_lm
        >>> m = recurrent_lm(4, "gru", units=2, tie_embeddings=True, stateful_batch_size=3)
        >>> m.get_layer("embedding").set_weights([np.zeros((4, 2))])   # all logits 0: uniform
        >>> round(stateful_cross_entropy(m, np.arange(20) % 4, chunk=4), 4)   # ln 4
        1.3863
    """
    return float(stateful_losses(model, ids, chunk).mean())


def stateful_losses(model: keras.Model, ids: np.ndarray, chunk: int = 256) -> np.ndarray:
    """The negative log-probability (nats) of each of ``ids[1:]``, read by a stateful model.

    The stream is cut into as many consecutive pieces as the model's fixed batch size
    (:func:`lmbook.models.recurrent_lm`'s ``stateful_batch_size``), and each piece is read
    ``chunk`` ids at a time with the state carried along, so every target is scored given
    all of its piece before it.  Piece ``b``'s targets start where piece ``b - 1``'s end, so
    every token but the first is scored exactly once.  The model's state is reset before
    and after.

    Example:
        >>> from lmbook.models import recurrent_lm
        >>> m = recurrent_lm(4, "gru", units=2, tie_embeddings=True, stateful_batch_size=3)
        >>> stateful_losses(m, np.arange(20) % 4, chunk=4).shape
        (19,)
    """
    batch_size = stateful_batch_size(model)
    if batch_size is None:
        raise ValueError("model must be stateful, with a fixed batch size "
                         "(recurrent_lm(..., stateful_batch_size=B)); got a model with batch size None")
    ids = np.asarray(ids)
    if ids.ndim != 1 or len(ids) < 2:
        raise ValueError(f"ids must be a 1-D stream of at least 2 ids, got shape {ids.shape}")
    chunk = check_int("chunk", chunk, minimum=1)
    n_targets = len(ids) - 1
    length = -(-n_targets // batch_size)                       # ceil: the pieces' length
    padded = np.pad(ids, (0, batch_size * length + 1 - len(ids)))
    index = np.arange(batch_size)[:, None] * length + np.arange(length)
    x, y, scored = padded[index], padded[index + 1], index < n_targets
    reset_states(model)
    losses = np.empty((batch_size, length))
    for k in range(0, length, chunk):
        losses[:, k:k + chunk] = _target_losses(model, x[:, k:k + chunk], y[:, k:k + chunk])
    reset_states(model)
    return losses[scored]                         # row-major: piece after piece, in stream order


def block_cross_entropy(
    model: keras.Model, ids: np.ndarray, seq_len: int, blocks: int = 2048, seed: int = 0,
    batch_size: int = 64,
) -> float:
    """nanoGPT's validation protocol: the mean loss over random blocks of ``seq_len`` targets.

    ``blocks`` windows of ``seq_len + 1`` ids start at random places in ``ids`` (seeded); the
    model reads each from a cold start (no earlier context, a zero state), and the loss
    is averaged over every position of every block, so a target is scored with anything
    from 0 to ``seq_len - 1`` characters of context, ``(seq_len - 1) / 2`` on average.
    nanoGPT's ``estimate_loss`` does this with 200 batches of its training batch size; a
    stream score (:func:`stream_cross_entropy`) gives every target a long context and is
    lower.

    Example:
        >>> from lmbook.models import recurrent_lm
        >>> m = recurrent_lm(4, "gru", units=2, tie_embeddings=True)
        >>> m.get_layer("embedding").set_weights([np.zeros((4, 2))])   # all logits 0: uniform
        >>> round(block_cross_entropy(m, np.arange(50) % 4, seq_len=8, blocks=10), 4)   # ln 4
        1.3863
    """
    ids = np.asarray(ids)
    seq_len = check_int("seq_len", seq_len, minimum=1)
    if ids.ndim != 1 or len(ids) < seq_len + 1:
        raise ValueError(f"ids must be a 1-D stream of at least seq_len + 1 = {seq_len + 1} ids, "
                         f"got shape {ids.shape}")
    blocks = check_int("blocks", blocks, minimum=1)
    batch_size = check_int("batch_size", batch_size, minimum=1)
    starts = np.random.default_rng(seed).integers(0, len(ids) - seq_len, size=blocks)
    windows = ids[starts[:, None] + np.arange(seq_len + 1)]
    total = 0.0
    for b in range(0, blocks, batch_size):
        x, y = windows[b:b + batch_size, :-1], windows[b:b + batch_size, 1:]
        total += _target_losses(model, x, y).sum()
    return float(total / (blocks * seq_len))


class StreamLoss(keras.callbacks.Callback):
    """Log :func:`stream_cross_entropy` on a held-out stream at the end of every epoch.

    The value is added to the epoch's logs as ``name`` (so ``History``, ``EarlyStopping``
    and ``ModelCheckpoint`` can use it) and appended to :attr:`values`.

    Args:
        ids: the held-out token stream.
        seq_len: the window length, as for :func:`stream_cross_entropy`.
        name: the log key.

    Example:
        >>> track = StreamLoss(np.arange(50) % 5, seq_len=8)
        >>> track.values
        []
    """

    def __init__(self, ids: np.ndarray, seq_len: int, name: str = "val_stream_loss"):
        super().__init__()
        self.ids, self.seq_len, self.name = np.asarray(ids), check_int("seq_len", seq_len, minimum=1), name
        self.values: list[float] = []

    def on_epoch_end(self, epoch, logs=None):
        """Score the stream and record the value."""
        value = stream_cross_entropy(self.model, self.ids, self.seq_len)
        self.values.append(value)
        if logs is not None:
            logs[self.name] = value
