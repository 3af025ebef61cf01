"""Prompting a causal language model: zero-shot classification by the next token.

Taught in chapter 8 (``notebooks/08_pretraining_finetuning.ipynb``), beside fine-tuning
(:mod:`lmbook.finetune`, which re-exports :func:`zero_shot`): a GPT preset reads a review and
a prompt such as "all in all, this product is very", and the more probable of two next
characters ("bad" or "good") is its label.

Example:
    >>> PROMPT.format(text="质量很好").split()
    ['质量很好', '总之，这个东西很']
"""

from __future__ import annotations

from collections.abc import Sequence

import keras
import numpy as np

from lmbook import presets
from lmbook.perplexity import log_softmax
from lmbook.segment import FULL_WIDTH
from lmbook.text import pad_rows

__all__ = ["PROMPT", "next_log_probs", "zero_shot"]

#: The prompt of :func:`zero_shot`: a review, then "All in all, this product is very ..."
PROMPT = "{text}\n总之，这个东西很"


def zero_shot(preset, texts: Sequence[str], choices: Sequence[str] = ("差", "好"), template: str = PROMPT,
              calibrate: bool = True) -> np.ndarray:
    """Prompting a causal preset: the log-probability of each one-character ``choice`` after
    ``template`` filled with each text, ``(N, len(choices))``; ``argmax`` is the prediction.

    The text is :func:`clean`-ed, then its ASCII forms are written full-width again, as the
    People's Daily presets read them (``,`` → ``，``), and cut from the left so the prompt fits
    the model's window.  With ``calibrate`` (Zhao et al., 2021, "Calibrate before use"), the
    log-probabilities of the choices after the template filled with no text are subtracted,
    so the model's prior preference for one word does not decide every review.

    Example:
        >>> scores = zero_shot("peoples-daily-gpt", ["质量很好，推荐"])        # doctest: +SKIP
        >>> int(scores.argmax(axis=1)[0])                                     # doctest: +SKIP
        1
    """
    if any(len(c) != 1 for c in choices) or len(choices) < 2:
        raise ValueError(f"choices must be two or more single characters, got {list(choices)}")
    from lmbook.finetune import _check_texts  # its checks and clean(), as a classifier's input

    texts = _check_texts(texts)
    loaded = presets.load(preset) if isinstance(preset, str) else preset
    if not loaded.recipe.causal:
        raise ValueError(f"preset {loaded.name!r} is a masked LM: prompting needs a causal LM")
    window, vocab = loaded.recipe.seq_len, loaded.vocabulary
    unfold = {ascii_: wide for wide, ascii_ in FULL_WIDTH.items() if ascii_ != 0x20}   # spaces stay
    rows = []
    for text in [*texts, ""]:
        ids = vocab.encode(template.format(text=text.translate(unfold)))
        rows.append(ids[-window:])
    scores = np.stack(next_log_probs(loaded.model, rows))[:, vocab.encode(list(choices))]
    return scores[:-1] - scores[-1] if calibrate else scores[:-1]


def next_log_probs(model: keras.Model, rows: list[np.ndarray], batch_size: int = 64) -> list[np.ndarray]:
    """A causal model's next-token log-probabilities after each row of ids (rows of any lengths,
    right-padded in batches by :func:`lmbook.text.pad_rows`: a causal model's last real position
    never sees the padding).

    Example:
        >>> from lmbook.models import gpt_lm
        >>> gpt = gpt_lm(6, seq_len=4, d_model=8, num_heads=2, layers=1)
        >>> [p.shape for p in next_log_probs(gpt, [np.array([1, 2, 3]), np.array([4])])]
        [(6,), (6,)]
    """
    out = []
    for first in range(0, len(rows), batch_size):
        chunk = rows[first:first + batch_size]
        x = pad_rows(chunk)
        logits = np.asarray(model.predict_on_batch(x), dtype="float64")
        last = logits[np.arange(len(chunk)), [len(r) - 1 for r in chunk]]
        out += list(log_softmax(last))
    return out
