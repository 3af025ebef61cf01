"""Masked language modelling: BERT's pre-training objective, on characters.

Taught in chapter 8 (``notebooks/08_pretraining_finetuning.ipynb``), which builds the
masking from scratch, compares it with keras-hub's ``MaskedLMMaskGenerator``, and
pre-trains the ``peoples-daily-bert`` preset with it (:mod:`lmbook.presets`).

- :func:`mask_tokens`: BERT's 80/10/10 corruption, in a coin-flip variant.  Each ordinary
  position is *selected* with probability ``rate`` (at most ``max_predictions`` per row); a
  selected position becomes ``<mask>`` 80% of the time, a random ordinary token 10% and
  stays itself 10%, and the model must predict the original token there.  BERT's own
  ``create_pretraining_data.py`` selects exactly ``min(max_predictions, max(1, round(rate·n)))``
  of a window's ``n`` ordinary positions and draws its random tokens from the whole
  vocabulary; keras-hub's generator also draws from every id.  Here special tokens
  (``<pad>``, ``<unk>``, ``<mask>``) are never selected and never drawn as replacements, so
  the model is never asked to read padding as text (chapter 8 measures all three).
- :func:`encoder` and :func:`masked_lm`: a Transformer encoder (blocks of
  :class:`lmbook.transformer.EncoderBlock`) and the model that pre-trains it.  The
  output layer (the tied embedding, one logit per character of the preset's 4,622-character
  table) is applied only at the selected positions, which the model takes as a second
  input: a row of 128 characters needs at most 48 softmaxes (the preset's
  ``max_predictions``), not 128.
- :class:`MaskedBatches`: random windows of a character stream, masked afresh each time.
- :func:`evaluate` and :func:`fill_mask`: the card's masked-token loss and accuracy, and
  the most likely characters at each ``<mask>`` of a text.

Example:
    >>> ids = np.arange(3, 103).reshape(2, 50)
    >>> masked, positions, targets, weights = mask_tokens(ids, np.random.default_rng(0), 200)
    >>> bool((np.take_along_axis(ids, positions, 1)[weights > 0] == targets[weights > 0]).all())
    True
"""

from __future__ import annotations

import keras
import numpy as np
from keras import ops

from lmbook import transformer
from lmbook.checks import check_int, check_rate
from lmbook.perplexity import log_softmax
from lmbook.text import PAD, UNK, Vocabulary, random_windows

__all__ = ["MASK", "RESERVED", "MaskedBatches", "encoder", "evaluate", "fill_mask", "mask_tokens",
           "masked_lm"]

MASK = "<mask>"
#: The reserved tokens of an encoder's vocabulary, ids 0, 1 and 2: ``<pad>``, ``<unk>``, ``<mask>``.
RESERVED = (PAD, UNK, MASK)
PAD_ID, UNK_ID, MASK_ID = range(3)


def mask_tokens(
    ids, rng: np.random.Generator, vocab_size: int, rate: float = 0.15, max_predictions: int | None = None,
    special_ids=(PAD_ID, UNK_ID, MASK_ID), mask_id: int = MASK_ID,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """BERT's masking of a batch ``ids`` ``(B, T)``: select, then mask 80%, randomise 10%, keep 10%.

    Each position whose id is not in ``special_ids`` is selected with probability ``rate``;
    a row keeps at most ``max_predictions`` selections (default ``T``), chosen at random.

    Returns:
        ``(masked_ids, positions, targets, weights)``: the corrupted batch ``(B, T)``; for
        each row, ``P = max_predictions`` positions, their original ids and a weight of 1 for
        a selected position, 0 for padding (``P`` is fixed so that batches stack).

    Example:
        >>> ids = np.full((1, 8), 5)
        >>> masked, positions, targets, weights = mask_tokens(ids, np.random.default_rng(1), 10, rate=0.5)
        >>> int(weights.sum()), sorted(set(masked[0].tolist()) - {5}) <= [2, 3, 4, 6, 7, 8, 9]
        (4, True)
    """
    ids = np.asarray(ids)
    if ids.ndim != 2:
        raise ValueError(f"ids must be a batch of shape (B, T), got shape {ids.shape}")
    vocab_size = check_int("vocab_size", vocab_size, minimum=len(special_ids) + 1)
    rate = check_rate("rate", rate, include_low=False, include_high=True)
    predictions = ids.shape[1] if max_predictions is None else check_int(
        "max_predictions", max_predictions, minimum=1, maximum=ids.shape[1])
    keys = rng.random(ids.shape)
    keys[np.isin(ids, special_ids)] = 2.0                      # never selected
    positions = np.argsort(keys, axis=1)[:, :predictions]      # a random order of the candidates
    selected = np.take_along_axis(keys, positions, 1) < rate
    positions = np.sort(np.where(selected, positions, ids.shape[1]), axis=1)   # selected first, in order
    selected = positions < ids.shape[1]
    positions = np.where(selected, positions, 0)
    targets = np.where(selected, np.take_along_axis(ids, positions, 1), 0)
    ordinary = np.setdiff1d(np.arange(vocab_size), special_ids)
    u = rng.random(positions.shape)
    replacement = np.where(u < 0.8, mask_id,
                           np.where(u < 0.9, rng.choice(ordinary, positions.shape), targets))
    masked = ids.copy()
    rows = np.broadcast_to(np.arange(len(ids))[:, None], positions.shape)
    masked[rows[selected], positions[selected]] = replacement[selected]
    return masked, positions.astype("int32"), targets.astype("int32"), selected.astype("float32")


def encoder(
    vocab_size: int, seq_len: int, d_model: int = 256, num_heads: int = 8, layers: int = 4,
    dropout: float = 0.0, name: str = "encoder",
) -> keras.Model:
    """A Transformer encoder: ids ``(B, T)`` → hidden states ``(B, T, d_model)``.

    Token and learned position embeddings, ``layers`` pre-LayerNorm blocks with
    bidirectional attention (:class:`lmbook.transformer.EncoderBlock`)
    and a final LayerNorm: a GPT without its mask.  Id 0 is padding: no position attends
    to it.  At most ``seq_len`` ids per row.

    Example:
        >>> tuple(encoder(10, 8, d_model=16, num_heads=2, layers=1)(np.ones((2, 5), "int32")).shape)
        (2, 5, 16)
    """
    ids = keras.Input(shape=(None,), dtype="int32", name="ids")
    padding_mask = ops.not_equal(ids, PAD_ID)
    embedding = transformer.TokenAndPositionEmbedding(vocab_size, seq_len, d_model, name="embedding")
    x = keras.layers.Dropout(dropout)(embedding(ids))
    for i in range(check_int("layers", layers, minimum=1)):
        x = transformer.EncoderBlock(num_heads, 4 * d_model, dropout, name=f"block_{i}")(
            x, padding_mask=padding_mask)
    x = keras.layers.LayerNormalization(epsilon=1e-5, name="final_norm")(x)
    return keras.Model(ids, x, name=name)


def masked_lm(
    vocab_size: int, seq_len: int, d_model: int = 256, num_heads: int = 8, layers: int = 4,
    dropout: float = 0.0,
) -> keras.Model:
    """The pre-training model: :func:`encoder`, then the tied output layer at chosen positions.

    Inputs ``{"ids": (B, T), "positions": (B, P)}``; output: logits ``(B, P, vocab_size)``
    for the hidden states at ``positions`` only (the masked ones, :func:`mask_tokens`).
    The encoder is the sub-model ``model.get_layer("encoder")``, which fine-tuning reuses.

    Example:
        >>> m = masked_lm(10, 8, d_model=16, num_heads=2, layers=1)
        >>> x = {"ids": np.ones((2, 8), "int32"), "positions": np.zeros((2, 3), "int32")}
        >>> tuple(m(x).shape)
        (2, 3, 10)
    """
    body = encoder(vocab_size, seq_len, d_model, num_heads, layers, dropout)
    ids = keras.Input(shape=(None,), dtype="int32", name="ids")
    positions = keras.Input(shape=(None,), dtype="int32", name="positions")
    hidden = ops.take_along_axis(body(ids), positions[:, :, None], axis=1)     # (B, P, d)
    logits = body.get_layer("embedding")(hidden, reverse=True)
    return keras.Model({"ids": ids, "positions": positions}, logits, name="masked_lm")


class MaskedBatches(keras.utils.PyDataset):
    """Random windows of ``ids``, masked by :func:`mask_tokens`, for ``model.fit``.

    Batch ``i`` of epoch ``e`` is drawn from a generator seeded with ``(seed, e, i)``.  Each
    batch is ``({"ids", "positions"}, targets, weights)``: the weights make the loss a mean
    over the selected positions (``reduction="mean_with_sample_weight"``).

    Example:
        >>> b = MaskedBatches(np.arange(3, 300), 100, 4, 32, steps=2, max_predictions=8)
        >>> x, y, w = b[0]
        >>> x["ids"].shape, x["positions"].shape, y.shape
        ((4, 32), (4, 8), (4, 8))
    """

    def __init__(self, ids, vocab_size: int, batch_size: int, seq_len: int, steps: int, rate: float = 0.15,
                 max_predictions: int | None = None, seed: int = 0, **kw):
        super().__init__(**kw)
        self.ids, self.vocab_size = np.asarray(ids), vocab_size
        self.batch_size, self.seq_len = batch_size, seq_len
        self.steps = check_int("steps", steps, minimum=1)
        self.rate, self.max_predictions, self.seed, self.epoch = rate, max_predictions, seed, 0
        self.__getitem__(0)   # validate the arguments now, not in the middle of fit

    def __len__(self) -> int:
        return self.steps

    def __getitem__(self, i: int):
        rng = np.random.default_rng((self.seed, self.epoch, i))
        windows, _ = random_windows(self.ids, self.batch_size, self.seq_len, rng)
        masked, positions, targets, weights = mask_tokens(windows, rng, self.vocab_size, self.rate,
                                                          self.max_predictions)
        return {"ids": masked, "positions": positions}, targets, weights

    def on_epoch_end(self):
        self.epoch += 1


def evaluate(model: keras.Model, ids, seq_len: int, rate: float = 0.15, max_predictions: int | None = None,
             seed: int = 0, batch_size: int = 64) -> dict:
    """Masked-token loss (nats), accuracy and perplexity of ``model`` on the stream ``ids``.

    The stream is cut into consecutive windows of ``seq_len`` (the last partial one is
    dropped) and masked once with ``seed``, so two calls score the same positions.

    Example:
        >>> m = masked_lm(10, 8, d_model=16, num_heads=2, layers=1)
        >>> sorted(evaluate(m, np.arange(3, 67) % 7 + 3, 8))
        ['accuracy', 'loss', 'perplexity', 'predictions']
    """
    ids = np.asarray(ids)
    seq_len = check_int("seq_len", seq_len, minimum=1)
    rows = len(ids) // seq_len
    if rows == 0:
        raise ValueError(f"ids must hold at least one window of seq_len={seq_len}, got {len(ids)}")
    windows = ids[: rows * seq_len].reshape(rows, seq_len)
    vocab_size = model.output.shape[-1]
    masked, positions, targets, weights = mask_tokens(windows, np.random.default_rng(seed), vocab_size,
                                                      rate, max_predictions)
    logits = model.predict({"ids": masked, "positions": positions}, batch_size=batch_size, verbose=0)
    log_probs = log_softmax(logits)
    chosen = weights > 0
    losses = -np.take_along_axis(log_probs, targets[..., None], -1)[..., 0][chosen]
    correct = (logits.argmax(-1) == targets)[chosen]
    return {"loss": float(losses.mean()), "accuracy": float(correct.mean()),
            "perplexity": float(np.exp(losses.mean())), "predictions": int(chosen.sum())}


def fill_mask(model: keras.Model, vocabulary: Vocabulary, text: str, top_k: int = 5,
              ) -> list[list[tuple[str, float]]]:
    """The ``top_k`` characters (and probabilities) ``model`` predicts at each ``<mask>`` of ``text``.

    Write a masked character as ``<mask>`` (or ``＿``): ``"中华人民<mask>和国"``.  The special
    tokens are never guessed: the probabilities are renormalised over the characters.

    Example:
        >>> fill_mask(preset.model, preset.vocabulary, "中华人民<mask>和国")   # doctest: +SKIP
        [[('共', 0.99), ...]]
    """
    pieces = text.replace("＿", MASK).split(MASK)
    if len(pieces) < 2:
        raise ValueError(f"text must contain at least one {MASK} (or ＿), got {text!r}")
    ids = []
    for i, piece in enumerate(pieces):
        ids.extend(vocabulary.encode(piece).tolist() + ([MASK_ID] if i < len(pieces) - 1 else []))
    ids = np.array([ids], dtype="int32")
    positions = np.flatnonzero(ids[0] == MASK_ID)[None].astype("int32")
    logits = model.predict({"ids": ids, "positions": positions}, verbose=0)[0]
    logits[:, [PAD_ID, UNK_ID, MASK_ID]] = -np.inf           # guess characters, not special tokens
    probs = np.exp(log_softmax(logits))
    best = np.argsort(-probs, axis=-1)[:, :top_k]
    return [[(vocabulary.tokens[j], float(p[j])) for j in row] for row, p in zip(best, probs)]
