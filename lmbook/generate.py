"""Sampling text from any lmbook/Keras language model.

Taught in chapter 3 (``notebooks/03_rnn_lstm.ipynb``) and used again in chapter 4.

A model maps ids ``(batch, time)`` to logits ``(batch, time, vocab)``.  :func:`generate`
feeds it the prompt, turns the last position's logits into a distribution with
:func:`next_token_probs` (temperature, top-k, top-p) and samples from it, one token at a
time.  ``temperature=0`` is greedy decoding.

Example:
    >>> probs = next_token_probs(np.array([2.0, 1.0, 0.0]), temperature=1.0, top_k=2)
    >>> probs.round(3).tolist()
    [0.731, 0.269, 0.0]
"""

from __future__ import annotations

from collections.abc import Sequence

import keras
import numpy as np

__all__ = ["generate", "next_token_probs"]


def _check_sampling(temperature: float, top_k: int | None, top_p: float | None) -> None:
    if not isinstance(temperature, (int, float)) or temperature < 0:
        raise ValueError(f"temperature must be a number >= 0 (0 = greedy), got {temperature!r}")
    if top_k is not None and (not isinstance(top_k, (int, np.integer)) or top_k < 1):
        raise ValueError(f"top_k must be None or an int >= 1, got {top_k!r}")
    if top_p is not None and not 0.0 < top_p <= 1.0:
        raise ValueError(f"top_p must be None or in (0, 1], got {top_p!r}")


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
    context_len: int | None = None,
) -> np.ndarray:
    """Continue ``prompt`` (token ids) by ``max_new_tokens`` sampled ids.

    Args:
        model: maps ids ``(1, time)`` to logits ``(1, time, vocab)``.
        prompt: at least one token id.
        max_new_tokens: how many ids to add.
        temperature, top_k, top_p: see :func:`next_token_probs`.
        seed: seed of the sampler, for reproducible samples.
        context_len: feed the model only the last ``context_len`` ids (a Transformer's
            block size); ``None`` feeds everything.

    Returns the prompt followed by the new ids, as an ``int32`` array.

    Example:
        >>> from lmbook.models import recurrent_lm
        >>> model = recurrent_lm(10, "gru", units=8)
        >>> generate(model, [1, 2], max_new_tokens=3, seed=0).shape
        (5,)
    """
    _check_sampling(temperature, top_k, top_p)
    ids = [int(i) for i in prompt]
    if not ids:
        raise ValueError("prompt must contain at least one token id")
    if not isinstance(max_new_tokens, int) or max_new_tokens < 0:
        raise ValueError(f"max_new_tokens must be an int >= 0, got {max_new_tokens!r}")
    rng = np.random.default_rng(seed)
    for _ in range(max_new_tokens):
        window = ids[-context_len:] if context_len else ids
        logits = model(np.array([window], dtype="int32"), training=False)
        last = keras.ops.convert_to_numpy(logits[0, -1])
        probs = next_token_probs(last, temperature, top_k, top_p)
        ids.append(int(rng.choice(len(probs), p=probs)))
    return np.array(ids, dtype=np.int32)
