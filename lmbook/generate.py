"""Sampling text from any lmbook/Keras language model.

Taught in chapter 3 (``notebooks/03_rnn_lstm.ipynb``) and used again in chapter 4.

A model maps ids ``(batch, time)`` to logits ``(batch, time, vocab)``.  :func:`generate`
feeds it the prompt, turns the last position's logits into a distribution with
:func:`next_token_probs` (temperature, top-k, top-p) and samples from it, one token at a
time.  ``temperature=0`` is greedy decoding.  A model with a window (a GPT, see
:func:`lmbook.models.context_window`) is fed only the last tokens that fit in it, as nanoGPT's
``generate`` does, right-padded to the window so that one compiled function serves every
step; a GPT built from lmbook's layers instead reads one new token per step with a
key/value cache (chapter 4) until its window is full.  A recurrent model reads the whole
text, and a stateful one (batch size 1) reads the prompt once and then one new token per
step, its state carrying the rest.

Example:
    >>> probs = next_token_probs(np.array([2.0, 1.0, 0.0]), temperature=1.0, top_k=2)
    >>> probs.round(3).tolist()
    [0.731, 0.269, 0.0]
"""

from __future__ import annotations

import math
import weakref
from collections.abc import Sequence

import keras
import numpy as np

from lmbook.checks import check_int, check_rate
from lmbook.models import WindowedLM, context_window, logits, reset_states, stateful_batch_size

__all__ = ["generate", "next_token_probs"]


def _check_sampling(temperature: float, top_k: int | None, top_p: float | None) -> None:
    check_rate("temperature", temperature, high=math.inf)        # 0 is greedy
    if top_k is not None:
        check_int("top_k", top_k, minimum=1)
    if top_p is not None:
        check_rate("top_p", top_p, include_low=False, include_high=True)


def next_token_probs(
    logits: np.ndarray, temperature: float = 1.0, top_k: int | None = None,
    top_p: float | None = None,
) -> np.ndarray:
    """The sampling distribution for one position's ``logits`` (1-D).

    Args:
        logits: unnormalised log-probabilities over the vocabulary.
        temperature: divide the logits by it; < 1 sharpens, > 1 flattens, 0 is greedy
            (all mass on the argmax).
        top_k: keep only the ``k`` most likely tokens.
        top_p: keep the smallest set of most likely tokens whose mass reaches ``p``
            (nucleus sampling, Holtzman et al. 2020).

    Example:
        >>> next_token_probs(np.array([1.0, 3.0, 2.0]), temperature=0).tolist()
        [0.0, 1.0, 0.0]
    """
    _check_sampling(temperature, top_k, top_p)
    logits = np.asarray(logits, dtype=np.float64)
    if temperature == 0:
        probs = np.zeros_like(logits)
        probs[np.argmax(logits)] = 1.0
        return probs
    z = logits / temperature
    probs = np.exp(z - z.max())
    probs /= probs.sum()
    order = np.argsort(-probs, kind="stable")
    keep = np.ones(len(probs), dtype=bool)
    if top_k is not None:
        keep[order[top_k:]] = False
    if top_p is not None:
        cumulative = np.cumsum(probs[order])
        cut = int(np.searchsorted(cumulative, top_p)) + 1  # include the token that crosses p
        keep[order[cut:]] = False
    probs = np.where(keep, probs, 0.0)
    return probs / probs.sum()


def generate(
    model: keras.Model,
    prompt: Sequence[int],
    max_new_tokens: int,
    temperature: float = 1.0,
    top_k: int | None = None,
    top_p: float | None = None,
    seed: int | None = None,
    seq_len: int | None = None,
) -> np.ndarray:
    """Continue ``prompt`` (token ids) by ``max_new_tokens`` sampled ids.

    Args:
        model: maps ids ``(1, time)`` to logits ``(1, time, vocab)``.
        prompt: at least one token id.
        max_new_tokens: how many ids to add.
        temperature, top_k, top_p: see :func:`next_token_probs`.
        seed: seed of the sampler, for reproducible samples.
        seq_len: feed the model only the last ``seq_len`` ids.  ``None`` (the
            default) feeds the last ``context_window(model)`` ids, a GPT's ``seq_len``,
            or everything to a model without a window (a recurrent one).  It may not
            exceed the model's window.

    Returns the prompt followed by the new ids, as an ``int32`` array.

    Example:
        >>> from lmbook.models import gpt_lm, recurrent_lm
        >>> generate(recurrent_lm(10, "gru", units=8), [1, 2], max_new_tokens=3, seed=0).shape
        (5,)
        >>> gpt = gpt_lm(10, seq_len=4, d_model=8, num_heads=2, layers=1)
        >>> generate(gpt, [1, 2, 3], max_new_tokens=5, seed=0).shape    # reads the last 4 ids
        (8,)
    """
    _check_sampling(temperature, top_k, top_p)
    ids = [int(i) for i in prompt]
    if not ids:
        raise ValueError("prompt must contain at least one token id")
    max_new_tokens = check_int("max_new_tokens", max_new_tokens, minimum=0)
    window = context_window(model)
    if seq_len is None:
        seq_len = window
    else:
        seq_len = check_int("seq_len", seq_len, minimum=1, maximum=window)
    stateful = _is_stateful(model)
    if stateful:
        reset_states(model)
    rng = np.random.default_rng(seed)
    cached = _CachedGPT.of(model) if seq_len == window and len(ids) < (window or 0) else None
    for step in range(max_new_tokens):
        if stateful:                       # the state holds the text so far: feed only what is new
            fed = ids if step == 0 else ids[-1:]
        else:
            fed = ids[-seq_len:] if seq_len else ids
        if cached is not None and len(ids) <= window:   # the cache holds the keys and values so far
            last = cached.extend(ids)
        elif window:   # always the window's shape, right-padded: one compiled function for every step
            row = np.zeros((1, window), "int32")
            row[0, :len(fed)] = fed
            last = logits(model, row)[0, len(fed) - 1]      # causal: the padding after it is never read
        elif stateful:   # two shapes only: the prompt, then one token
            last = logits(model, np.array([fed], dtype="int32"))[0, -1]
        else:            # a new length every step: an eager call, as compiling each would cost more
            last = keras.ops.convert_to_numpy(model(np.array([fed], dtype="int32"), training=False)[0, -1])
        probs = next_token_probs(last, temperature, top_k, top_p)
        ids.append(int(rng.choice(len(probs), p=probs)))
    if stateful:
        reset_states(model)
    return np.array(ids, dtype=np.int32)


def _is_stateful(model) -> bool:
    """Whether ``model`` carries its recurrent state from call to call (a batch of one, then)."""
    if not any(getattr(layer, "stateful", False) for layer in getattr(model, "layers", ())):
        return False
    if stateful_batch_size(model) != 1:
        raise ValueError(f"a stateful model must have a batch size of 1 to generate, "
                         f"got {stateful_batch_size(model)}")
    return True


class _CachedGPT:
    """A GPT of :func:`lmbook.models.gpt_lm` (lmbook's layers) decoding one token per step.

    Its blocks keep the keys and values of every position read so far in a cache of the
    window's length (chapter 4), so each step computes one position instead of the whole
    window.  The step is one compiled function of fixed shapes (a token, its position and the
    cache), built once per model.
    """

    _steps: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

    def __init__(self, step: _GPTStep, cache_shape: tuple):
        self.step, self.cache, self.read = step, np.zeros(cache_shape, "float32"), 0

    @classmethod
    def of(cls, model) -> _CachedGPT | None:
        """A fresh cache for ``model``, or ``None`` if it is not a GPT built from lmbook's layers."""
        from lmbook.transformer import DecoderBlock, TokenAndPositionEmbedding

        names = [layer.name for layer in model.layers] if isinstance(model, WindowedLM) else []
        if "embedding" not in names or "final_norm" not in names:
            return None
        blocks = [layer for layer in model.layers if layer.name.startswith("block_")]
        if not isinstance(model.get_layer("embedding"), TokenAndPositionEmbedding) or not blocks or \
                not all(isinstance(block, DecoderBlock) for block in blocks):
            return None
        if model not in cls._steps:
            cls._steps[model] = _GPTStep(model.get_layer("embedding"), blocks, model.get_layer("final_norm"))
        step = cls._steps[model]
        heads = blocks[0].attention.num_heads
        return cls(step, (1, len(blocks), 2, heads, model.seq_len, step.embedding.d_model // heads))

    def extend(self, ids: list[int]) -> np.ndarray:
        """Read the ids not read yet (at most the window's length in all); the last one's logits."""
        for i in range(self.read, len(ids)):
            out, self.cache = self.step.predict_on_batch(
                [np.array([[ids[i]]], "int32"), np.array([i], "int32"), self.cache])
            self.read += 1
        return keras.ops.convert_to_numpy(out)[0, -1]


class _GPTStep(keras.Model):
    """One decoding step of a GPT's layers (shared, not copied): ``(token (1, 1), position (1,),
    cache)`` → ``(logits (1, 1, V), new cache)``, compiled by ``predict_on_batch``."""

    def __init__(self, embedding, blocks, norm):
        super().__init__(name="gpt_step")
        self.embedding, self.blocks, self.norm = embedding, blocks, norm

    def call(self, inputs):
        """Embed the token at its position, run every block on its slice of the cache."""
        from keras import ops

        token, position, cache = inputs
        index = position[0]
        x, caches = self.embedding(token, start=index), []
        for n, block in enumerate(self.blocks):
            x, block_cache = block(x, cache=cache[:, n], cache_index=index)
            caches.append(block_cache)
        return self.embedding(self.norm(x), reverse=True), ops.stack(caches, axis=1)
