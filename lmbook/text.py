"""Tokens to ids and back, and training windows.

Taught in chapter 1 (``notebooks/01_language_models.ipynb``); chapters 3 and 4 train on
:class:`WindowBatches` (random windows with next-token targets, :func:`random_windows`),
chapter 3's stateful models on :class:`StreamBatches` (consecutive windows of parallel
streams), and chapter 5's segmenter on windows with a label per position
(:func:`tagging_windows`).  Pure numpy, so it works under every Keras backend.

Example:
    >>> vocab = Vocabulary.from_tokens("hello")
    >>> ids = vocab.encode("hello")
    >>> "".join(vocab.decode(ids))
    'hello'
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence

import keras
import numpy as np

from lmbook.checks import check_int

__all__ = ["PAD", "UNK", "StreamBatches", "Vocabulary", "WindowBatches", "pad_rows", "random_windows",
           "tagging_windows"]

PAD, UNK = "<pad>", "<unk>"


class Vocabulary:
    """A bijection between tokens and integer ids, with reserved tokens first.

    Ids ``0..len(reserved)-1`` belong to the reserved tokens (by default ``<pad>`` = 0 and
    ``<unk>`` = 1); the other tokens follow by decreasing frequency, ties in first-seen
    order.  Unknown tokens encode to ``<unk>``.

    Args:
        tokens: the tokens in id order, reserved ones included.

    Example:
        >>> v = Vocabulary.from_tokens("abca")
        >>> v.tokens
        ['<pad>', '<unk>', 'a', 'b', 'c']
        >>> v.encode("abz").tolist()
        [2, 3, 1]
    """

    def __init__(self, tokens: Sequence[str]):
        tokens = list(tokens)
        if UNK not in tokens:
            raise ValueError(f"tokens must include {UNK!r}")
        if len(set(tokens)) != len(tokens):
            raise ValueError("tokens must be unique")
        self.tokens = tokens
        self.index = {t: i for i, t in enumerate(tokens)}
        self.unk_id = self.index[UNK]

    @classmethod
    def from_tokens(
        cls,
        tokens: Iterable[str],
        min_count: int = 1,
        max_size: int | None = None,
        reserved: Sequence[str] = (PAD, UNK),
    ) -> Vocabulary:
        """Build a vocabulary from a token stream (a string is a stream of characters).

        Args:
            tokens: the training tokens.
            min_count: drop tokens seen fewer times.
            max_size: keep at most this many tokens, reserved ones included.
            reserved: tokens placed first; must include ``<unk>``.
        """
        counts = Counter(tokens)
        if not counts:
            raise ValueError("tokens is empty: cannot build a vocabulary from no text")
        min_count = check_int("min_count", min_count, minimum=1)
        if max_size is not None:   # room for one token besides the reserved ones
            max_size = check_int("max_size", max_size, minimum=len(reserved) + 1)
        kept = [t for t, c in counts.most_common() if c >= min_count and t not in reserved]
        if max_size is not None:
            kept = kept[: max_size - len(reserved)]
        return cls(list(reserved) + kept)

    def __len__(self) -> int:
        return len(self.tokens)

    def __repr__(self) -> str:
        return f"Vocabulary(size={len(self)}, first={self.tokens[:6]})"

    def encode(self, tokens: Iterable[str]) -> np.ndarray:
        """Token ids as an ``int32`` array; unknown tokens become ``<unk>``."""
        get, unk = self.index.get, self.unk_id
        return np.array([get(t, unk) for t in tokens], dtype=np.int32).reshape(-1)

    def decode(self, ids: Iterable[int]) -> list[str]:
        """Tokens for ``ids``; raises ``IndexError`` for an id outside ``[0, len(self))``."""
        ids = np.asarray(list(ids) if not isinstance(ids, np.ndarray) else ids)
        if ids.size and (ids.min() < 0 or ids.max() >= len(self)):
            bad = ids[(ids < 0) | (ids >= len(self))]
            raise IndexError(
                f"ids must be in [0, {len(self)}) for this vocabulary, got {bad[:5].tolist()}"
            )
        return [self.tokens[i] for i in ids.ravel().tolist()]


def pad_rows(rows, length: int | None = None) -> np.ndarray:
    """Rows of ids as one ``int32`` array: each cut to ``length`` (default: the longest row) and
    right-padded with ``<pad>``, id 0.  A causal model never reads the padding after a row's
    last real token; an encoder is told where it is.

    Taught in chapter 7 (scoring texts in batches) and used by :mod:`lmbook.finetune`.

    Example:
        >>> pad_rows([[5, 6, 7], [8]]).tolist()
        [[5, 6, 7], [8, 0, 0]]
        >>> pad_rows([[5, 6, 7], [8]], length=2).tolist()
        [[5, 6], [8, 0]]
    """
    rows = [np.asarray(row) for row in rows]
    if not rows:
        raise ValueError("rows must hold at least one row of ids")
    length = max(map(len, rows)) if length is None else check_int("length", length, minimum=1)
    out = np.zeros((len(rows), length), dtype="int32")
    for i, row in enumerate(rows):
        out[i, :min(len(row), length)] = row[:length]
    return out


def _window_starts(n_ids: int, span: int, need: str, batch_size: int, rng: np.random.Generator) -> np.ndarray:
    """Row ``b`` holds the indices ``s_b .. s_b + span - 1`` of a random window of ``n_ids`` ids."""
    if n_ids < span:
        raise ValueError(f"need at least {need} = {span} ids, got {n_ids}")
    starts = rng.integers(0, n_ids - span + 1, size=batch_size)
    return starts[:, None] + np.arange(span)


def random_windows(
    ids: np.ndarray, batch_size: int, seq_len: int, rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """Sample ``batch_size`` random windows of ``seq_len`` ids and their next tokens.

    ``x = ids[s : s + T]`` and ``y = ids[s + 1 : s + T + 1]`` for a random start ``s`` per
    row, so ``y[b, t] == x[b, t + 1]``: the targets of a language model.

    Example:
        >>> x, y = random_windows(np.arange(10), 2, 4, np.random.default_rng(0))
        >>> x.shape, bool((x[:, 1:] == y[:, :-1]).all())
        ((2, 4), True)
    """
    ids = np.asarray(ids)
    if ids.ndim != 1:
        raise ValueError(f"ids must be 1-D, got shape {ids.shape}")
    batch_size = check_int("batch_size", batch_size, minimum=1)
    seq_len = check_int("seq_len", seq_len, minimum=1)
    windows = ids[_window_starts(len(ids), seq_len + 1, "seq_len + 1", batch_size, rng)]
    return windows[:, :-1], windows[:, 1:]


def tagging_windows(
    ids: np.ndarray, labels: np.ndarray, batch_size: int, seq_len: int, rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """Sample ``batch_size`` random windows of ``seq_len`` positions and their labels.

    For a tagger (chapter 5's segmenter): ``x = ids[s : s + T]`` and ``y = labels[s : s + T]``,
    the labels of the *same* positions.  ``ids`` may have feature columns, shape ``(N, F)``;
    ``labels`` has one label per row of ``ids``.

    Example:
        >>> x, y = tagging_windows(np.arange(10), np.arange(10) * 2, 2, 4, np.random.default_rng(0))
        >>> x.shape, bool((y == 2 * x).all())
        ((2, 4), True)
    """
    ids, labels = np.asarray(ids), np.asarray(labels)
    if labels.ndim != 1 or len(labels) != len(ids):
        raise ValueError(f"labels must have one label per id: labels of shape {labels.shape} "
                         f"for {len(ids)} ids")
    batch_size = check_int("batch_size", batch_size, minimum=1)
    seq_len = check_int("seq_len", seq_len, minimum=1)
    index = _window_starts(len(ids), seq_len, "seq_len", batch_size, rng)
    return ids[index], labels[index]


class WindowBatches(keras.utils.PyDataset):
    """A ``keras.utils.PyDataset`` of random windows, for ``model.fit``.

    Batch ``i`` is drawn from a generator seeded with ``(seed, epoch, i)``, so a run is
    reproducible and every epoch sees fresh windows: :func:`random_windows` (next-token
    targets), or :func:`tagging_windows` when ``labels`` are given.

    Args:
        ids: the token ids, 1-D (or ``(N, F)`` feature rows when ``labels`` are given).
        batch_size, seq_len: the shape of ``x`` and ``y``.
        steps: batches per epoch.
        seed: the random seed.
        labels: per-id targets for tagging; default: next-token targets.

    Example:
        >>> data = WindowBatches(np.arange(100), batch_size=4, seq_len=8, steps=10)
        >>> [a.shape for a in data[0]]
        [(4, 8), (4, 8)]
    """

    def __init__(self, ids, batch_size: int, seq_len: int, steps: int, seed: int = 0, labels=None, **kw):
        super().__init__(**kw)
        self.steps = check_int("steps", steps, minimum=1)
        self.ids, self.batch_size, self.seq_len = np.asarray(ids), batch_size, seq_len
        self.labels = None if labels is None else np.asarray(labels)
        self.seed, self.epoch = seed, 0
        self.__getitem__(0)  # validate the arguments now, not in the middle of fit

    def __len__(self) -> int:
        return self.steps

    def __getitem__(self, i: int):
        rng = np.random.default_rng((self.seed, self.epoch, i))
        if self.labels is None:
            return random_windows(self.ids, self.batch_size, self.seq_len, rng)
        return tagging_windows(self.ids, self.labels, self.batch_size, self.seq_len, rng)

    def on_epoch_end(self):
        self.epoch += 1


class StreamBatches(keras.utils.PyDataset):
    """Consecutive windows of ``batch_size`` parallel streams, for truncated BPTT.

    The ids are cut into ``batch_size`` streams of equal length, and row ``b`` of each
    batch is the window of stream ``b`` that follows the one in the previous batch, so a
    stateful model (``recurrent_lm(..., stateful_batch_size=batch_size)``) carries its state
    across batches.  Each pass over the data starts at a random offset below ``seq_len``
    (seeded with ``(seed, pass)``), so the window boundaries move from pass to pass.  Batches
    run on across Keras epochs: epoch ``e``, batch ``i`` is batch ``e * steps + i`` overall.

    Args:
        ids: the token ids, 1-D.
        batch_size: the number of streams (the stateful model's batch size).
        seq_len: the window length: gradients flow back at most this far.
        steps: batches per epoch.
        seed: the random seed.

    Example:
        >>> data = StreamBatches(np.arange(100), batch_size=2, seq_len=4, steps=3)
        >>> x0, y0 = data[0]
        >>> x1, _ = data[1]
        >>> bool((x1[:, 0] == x0[:, -1] + 1).all() and (y0 == x0 + 1).all())   # stream b continues
        True
    """

    def __init__(self, ids, batch_size: int, seq_len: int, steps: int, seed: int = 0, **kw):
        super().__init__(**kw)
        self.ids = np.asarray(ids)
        if self.ids.ndim != 1:
            raise ValueError(f"ids must be 1-D, got shape {self.ids.shape}")
        batch_size = check_int("batch_size", batch_size, minimum=1)
        seq_len = check_int("seq_len", seq_len, minimum=1)
        steps = check_int("steps", steps, minimum=1)
        # Every offset below seq_len leaves streams of stream_len ids plus one target.
        self.stream_len = (len(self.ids) - seq_len) // batch_size
        if self.stream_len < seq_len:
            raise ValueError(f"need at least (batch_size + 1) * seq_len = {(batch_size + 1) * seq_len} "
                             f"ids for {batch_size} streams of one window, got {len(self.ids)}")
        self.batch_size, self.seq_len, self.steps, self.seed, self.epoch = batch_size, seq_len, steps, seed, 0
        self.per_pass = self.stream_len // seq_len

    def __len__(self) -> int:
        return self.steps

    def __getitem__(self, i: int):
        n = self.epoch * self.steps + i
        pass_, k = divmod(n, self.per_pass)
        offset = int(np.random.default_rng((self.seed, pass_)).integers(self.seq_len))
        starts = offset + np.arange(self.batch_size) * self.stream_len + k * self.seq_len
        windows = self.ids[starts[:, None] + np.arange(self.seq_len + 1)]
        return windows[:, :-1], windows[:, 1:]

    def on_epoch_end(self):
        self.epoch += 1
