"""Scoring a language model on a whole token stream, in nats per token.

Taught in chapter 3 (``notebooks/03_rnn_lstm.ipynb``); the book's quality figures
(``benchmarks/char_lm.py``) are computed with :func:`stream_cross_entropy`.

A validation text is one long stream of ids.  Cutting it into disjoint windows would score
the first tokens of every window with almost no context.  Instead, windows of
``context`` ids overlap by ``context - stride``; each token is scored once, in the first
window where it has at least ``context - stride`` tokens of context (or all its history,
at the start of the stream).  Every token but the first is scored.

Example:
    >>> import keras
    >>> uniform = keras.Sequential([keras.Input((None,), dtype="int32"),
    ...                             keras.layers.Embedding(4, 4, embeddings_initializer="zeros")])
    >>> round(stream_cross_entropy(uniform, np.arange(20) % 4, context=8), 4)   # ln 4
    1.3863
"""

from __future__ import annotations

import math

import keras
import numpy as np

__all__ = ["StreamLoss", "bits", "stream_cross_entropy"]


def bits(nats: float) -> float:
    """Convert nats to bits (divide by ln 2).

    Example:
        >>> round(bits(math.log(2)), 6)
        1.0
    """
    return nats / math.log(2)


def stream_cross_entropy(
    model: keras.Model, ids: np.ndarray, context: int, stride: int | None = None,
    batch_size: int = 64,
) -> float:
    """Mean negative log-probability (nats) of ``ids[1:]``, each given its preceding ids.

    Args:
        model: maps ids ``(batch, time)`` to logits ``(batch, time, vocab)``.
        ids: the token stream, 1-D.
        context: the window length fed to the model.
        stride: how far consecutive windows move (default ``context // 2``).
        batch_size: windows per model call.
    """
    ids = np.asarray(ids)
    if ids.ndim != 1 or len(ids) < 2:
        raise ValueError(f"ids must be a 1-D stream of at least 2 ids, got shape {ids.shape}")
    stride = stride or max(1, context // 2)
    if not 1 <= stride <= context:
        raise ValueError(f"stride must be in [1, context={context}], got {stride}")
    # Window w covers ids[s : s + context] (s = w * stride) and scores its targets from
    # position (context - stride) on; the first window scores all of its targets.
    n_targets = len(ids) - 1
    starts = np.arange(0, max(n_targets - context, 0) + stride, stride)
    starts = starts[starts < n_targets]
    total, count = 0.0, 0
    for b in range(0, len(starts), batch_size):
        chunk = starts[b:b + batch_size]
        length = min(context, n_targets - int(chunk.min()))
        x = np.stack([np.pad(ids[s:s + length], (0, max(0, s + length - n_targets)))[:length]
                      for s in chunk])
        logits = keras.ops.convert_to_numpy(model(x.astype("int32"), training=False))
        logits = logits.astype(np.float64)
        logp = logits - logits.max(-1, keepdims=True)
        logp -= np.log(np.exp(logp).sum(-1, keepdims=True))
        for row, s in enumerate(chunk):
            first = 0 if s == 0 else context - stride
            last = min(length, n_targets - s)
            targets = ids[s + 1 + first: s + 1 + last]
            total -= logp[row, np.arange(first, last), targets].sum()
            count += len(targets)
    assert count == n_targets, (count, n_targets)
    return float(total / count)


class StreamLoss(keras.callbacks.Callback):
    """Log :func:`stream_cross_entropy` on a held-out stream at the end of every epoch.

    The value is added to the epoch's logs as ``name`` (so ``History``, ``EarlyStopping``
    and ``ModelCheckpoint`` can use it) and appended to :attr:`values`.

    Args:
        ids: the held-out token stream.
        context: the window length, as for :func:`stream_cross_entropy`.
        name: the log key.

    Example:
        >>> track = StreamLoss(np.arange(50) % 5, context=8)
        >>> track.values
        []
    """

    def __init__(self, ids: np.ndarray, context: int, name: str = "val_stream_loss"):
        super().__init__()
        self.ids, self.context, self.name = np.asarray(ids), context, name
        self.values: list[float] = []

    def on_epoch_end(self, epoch, logs=None):
        """Score the stream and record the value."""
        value = stream_cross_entropy(self.model, self.ids, self.context)
        self.values.append(value)
        if logs is not None:
            logs[self.name] = value
