"""Training recipes: every neural model's hyperparameters, in one place.

Taught in chapter 3 (``notebooks/03_rnn_lstm.ipynb``, :class:`RecurrentRecipe`),
chapter 4 (``notebooks/04_transformers.ipynb``, :class:`GPTRecipe`), chapter 5
(``notebooks/05_chinese_segmentation.ipynb``, :class:`SegmenterRecipe`) and chapter 8
(``notebooks/08_pretraining_finetuning.ipynb``, :class:`EncoderRecipe`).

A recipe is a frozen dataclass: the model's shape, its training schedule and its data.
Each corpus has three named recipes per model kind, in the style of nanoGPT's
``config/train_shakespeare_char.py``:

- ``quick``: four minutes of training on a 2-core CPU (the benchmark's quick mode);
- ``full``: a GPU or Colab run;
- ``preset``: what the book's presets were trained with (:mod:`lmbook.presets`).

The notebooks, ``benchmarks/char_lm.py`` and :mod:`lmbook.presets` all read them, and a
deliberate difference is a visible :func:`dataclasses.replace`, e.g. a notebook's shorter
demonstration ``replace(RECIPES["gpt", "tiny_shakespeare", "quick"], steps=600)``.

Example:
    >>> r = recipe("gpt", "tiny_shakespeare", "quick")
    >>> r.d_model, r.layers, r.tokens
    (128, 4, 4096000)
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields, replace
from typing import ClassVar

import keras
import numpy as np

from lmbook.checks import check_int, check_rate
from lmbook.data import CHARACTER_CORPORA

__all__ = ["CORPORA", "FINETUNE", "RECIPES", "ULMFIT", "EncoderRecipe", "FinetuneRecipe", "GPTRecipe",
           "LanguageModelRecipe", "RecurrentRecipe", "SegmenterRecipe", "recipe", "resolve"]

#: The corpora the character models train on (:func:`lmbook.data.character_stream`).
CORPORA = CHARACTER_CORPORA


@dataclass(frozen=True)
class _Training:
    """The fields every recipe shares: batches and optimiser (see :mod:`lmbook.training`)."""

    batch_size: int      # sequences per step
    seq_len: int         # tokens per sequence: the model's window
    steps: int           # optimiser steps; the learning rate warms up, then decays over them
    peak_lr: float       # the learning rate after the warm-up (lmbook.training.warmup_cosine)
    weight_decay: float  # AdamW's decoupled decay of the matrices; 0 gives plain Adam
    dropout: float       # see the model builder
    seed: int            # weights, batches and dropout

    def __post_init__(self):
        for name in ("batch_size", "seq_len", "steps"):
            check_int(name, getattr(self, name), minimum=1)
        check_int("seed", self.seed, minimum=0)
        check_rate("dropout", self.dropout)

    @property
    def tokens(self) -> int:
        """The tokens one training run reads: ``steps × batch_size × seq_len``."""
        return self.steps * self.batch_size * self.seq_len

    def as_dict(self) -> dict:
        """The recipe as a plain dict, its kind included (for a card or a log)."""
        return {"kind": type(self).__name__, **{f.name: getattr(self, f.name) for f in fields(self)}}


@dataclass(frozen=True)
class LanguageModelRecipe(_Training):
    """A language model of a character corpus: what every kind of model answers the same way.

    Each kind (:class:`RecurrentRecipe`, :class:`GPTRecipe`, :class:`EncoderRecipe`) overrides
    what differs, as keras-hub's ``CausalLM`` and ``MaskedLM`` do: adding a kind is one class.
    The questions, each answered once: the vocabulary's reserved tokens (:attr:`reserved`),
    whether the text is folded first (:meth:`prepare`), the model (:meth:`model`) and the one
    that trains (:meth:`trainee`, :meth:`compiled`), the batches (:meth:`batches`), the stream
    protocol of its card (:meth:`stream_losses`, :meth:`reader`), nanoGPT's block
    (:attr:`nanogpt_seq_len`), and whether it predicts the next token and can generate
    (:attr:`causal`).

    Example:
        >>> [spec.causal for spec in (recipe("gru", "peoples_daily", "preset"),
        ...                           recipe("bert", "peoples_daily", "preset"))]
        [True, False]
    """

    corpus: str          # "tiny_shakespeare" or "peoples_daily" (a character stream)

    #: Whether the model predicts the next token (and can generate); an encoder does not.
    causal: ClassVar[bool] = True
    #: The name of the card's headline loss: a causal LM's stream loss, or a masked-token loss.
    loss_name: ClassVar[str] = "stream"
    #: The loss reduction of :func:`lmbook.training.compile_lm` (an encoder's weighs its masks).
    reduction: ClassVar[str] = "sum_over_batch_size"

    def __post_init__(self):
        super().__post_init__()
        if self.corpus not in CORPORA:
            raise ValueError(f"corpus must be one of {', '.join(CORPORA)}, got {self.corpus!r}")

    def model(self, vocab_size: int) -> keras.Model:
        """The untrained model for a vocabulary of ``vocab_size`` tokens (each kind builds its own)."""
        raise NotImplementedError(f"{type(self).__name__} does not build a model")

    def build(self, *args, **kwargs) -> keras.Model:
        """The same as :meth:`model` (the name before chapter 9)."""
        return self.model(*args, **kwargs)

    @property
    def reserved(self) -> tuple[str, ...]:
        """The vocabulary's reserved tokens: padding and unknown (:class:`lmbook.text.Vocabulary`)."""
        from lmbook.text import PAD, UNK

        return (PAD, UNK)

    def prepare(self, text: str) -> str:
        """The text as the model reads it: unchanged (an encoder folds full-width ASCII)."""
        return text

    def trainee(self, vocab_size: int) -> keras.Model:
        """The model as it trains, untrained and uncompiled (a stateful recipe's has a fixed batch)."""
        return self.model(vocab_size)

    def compiled(self, vocab_size: int, **compile_kwargs) -> keras.Model:
        """:meth:`trainee`, compiled with the recipe's schedule (:func:`lmbook.training.compile_lm`).

        Example:
            >>> type(recipe("gpt", "tiny_shakespeare", "quick").compiled(65).optimizer).__name__
            'AdamW'
        """
        from lmbook.training import compile_lm

        return compile_lm(self.trainee(vocab_size), self.steps, self.peak_lr, self.weight_decay,
                          **{"reduction": self.reduction, **compile_kwargs})

    def batches(self, ids: np.ndarray, vocab_size: int, steps: int) -> keras.utils.PyDataset:
        """``steps`` training batches of ``ids``: random windows (:class:`lmbook.text.WindowBatches`)."""
        from lmbook.text import WindowBatches

        return WindowBatches(ids, self.batch_size, self.seq_len, steps=steps, seed=self.seed)

    def reader(self, model: keras.Model) -> keras.Model:
        """The model that scores and samples a text: ``model`` itself (a recurrent recipe's is stateful)."""
        return model

    def stream_losses(self, model: keras.Model, ids: np.ndarray) -> np.ndarray:
        """The loss of each of ``ids[1:]`` under the recipe's stream protocol (the card's)."""
        raise NotImplementedError(f"{type(self).__name__} has no stream protocol")

    @property
    def nanogpt_seq_len(self) -> int:
        """The block of nanoGPT's random-block protocol: 256 characters, nanoGPT's own."""
        return 256


@dataclass(frozen=True)
class RecurrentRecipe(LanguageModelRecipe):
    """A recurrent character LM (:func:`lmbook.models.recurrent_lm`) and its training.

    Example:
        >>> r = recipe("gru", "peoples_daily", "quick")
        >>> r.cell, r.units, r.stateful
        ('gru', 384, True)
    """

    cell: str = "lstm"            # "rnn", "gru" or "lstm"
    units: int = 256              # hidden size of every recurrent layer
    layers: int = 1               # stacked recurrent layers
    embedding_dim: int = 64       # input (and tied output) embedding width
    tie_embeddings: bool = False  # share the embedding with the output layer (Press & Wolf)
    stateful: bool = False        # truncated BPTT on parallel streams instead of random windows

    def model(self, vocab_size: int, stateful_batch_size: int | None = None) -> keras.Model:
        """The untrained model; stateful with ``stateful_batch_size`` rows when given.

        Example:
            >>> recipe("lstm", "tiny_shakespeare", "quick").model(65).name
            'lstm_lm'
        """
        from lmbook.models import recurrent_lm

        return recurrent_lm(vocab_size, self.cell, units=self.units, layers=self.layers,
                            embedding_dim=self.embedding_dim, dropout=self.dropout,
                            tie_embeddings=self.tie_embeddings, stateful_batch_size=stateful_batch_size)

    def trainee(self, vocab_size: int) -> keras.Model:
        """The model as it trains: stateful, with ``batch_size`` streams, when the recipe is."""
        return self.model(vocab_size, self.batch_size if self.stateful else None)

    def batches(self, ids: np.ndarray, vocab_size: int, steps: int) -> keras.utils.PyDataset:
        """Consecutive windows of parallel streams (:class:`lmbook.text.StreamBatches`) when the
        recipe is stateful (truncated backpropagation through time), else random windows."""
        from lmbook.text import StreamBatches

        if not self.stateful:
            return super().batches(ids, vocab_size, steps)
        return StreamBatches(ids, self.batch_size, self.seq_len, steps=steps, seed=self.seed)

    def reader(self, model: keras.Model) -> keras.Model:
        """A stateful copy of ``model`` with one row: it reads a text in pieces, its state carrying
        the rest, and samples one new token per step.

        Example:
            >>> spec = recipe("gru", "peoples_daily", "quick")
            >>> spec.reader(spec.model(50)).get_layer("embedding").input_dim
            50
        """
        reader = self.model(model.get_layer("embedding").input_dim, stateful_batch_size=1)
        reader.set_weights(model.get_weights())
        return reader

    def stream_losses(self, model: keras.Model, ids: np.ndarray) -> np.ndarray:
        """One stateful pass over ``ids`` (:func:`lmbook.perplexity.stateful_losses`): every token
        given the whole text before it."""
        from lmbook.perplexity import stateful_losses

        return stateful_losses(self.reader(model), ids)


@dataclass(frozen=True)
class GPTRecipe(LanguageModelRecipe):
    """A GPT character LM (:func:`lmbook.models.gpt_lm`) and its training.

    Example:
        >>> recipe("gpt", "tiny_shakespeare", "full").seq_len
        256
    """

    d_model: int = 128   # model width
    num_heads: int = 4   # attention heads per block (d_model / num_heads each)
    layers: int = 4      # decoder blocks

    def model(self, vocab_size: int) -> keras.Model:
        """The untrained model, a window of ``seq_len`` tokens.

        Example:
            >>> recipe("gpt", "peoples_daily", "quick").model(100).seq_len
            32
        """
        from lmbook.models import gpt_lm

        return gpt_lm(vocab_size, self.seq_len, self.d_model, self.num_heads, self.layers, self.dropout)

    def stream_losses(self, model: keras.Model, ids: np.ndarray) -> np.ndarray:
        """Overlapping windows of ``seq_len`` (:func:`lmbook.perplexity.stream_losses`): each token
        given up to a window of text before it."""
        from lmbook.perplexity import stream_losses

        return stream_losses(model, ids, seq_len=self.seq_len)

    @property
    def nanogpt_seq_len(self) -> int:
        """nanoGPT's protocol reads blocks as long as the model's window."""
        return self.seq_len


@dataclass(frozen=True)
class EncoderRecipe(LanguageModelRecipe):
    """A BERT-style encoder pre-trained by masked language modelling (:func:`lmbook.masked_lm.masked_lm`).

    Taught in chapter 8.  Its text is folded by :func:`lmbook.segment.fold_width` (full-width
    ASCII to ASCII), as every text it is later fine-tuned on.

    Example:
        >>> r = recipe("bert", "peoples_daily", "preset")
        >>> r.mask_rate, r.max_predictions
        (0.3, 48)
    """

    d_model: int = 256         # model width
    num_heads: int = 8         # attention heads per block
    layers: int = 4            # encoder blocks
    mask_rate: float = 0.15    # BERT's share of selected positions (then 80/10/10)
    max_predictions: int = 20  # at most this many selected positions per window (BERT: 20 of 128)

    def __post_init__(self):
        super().__post_init__()
        check_rate("mask_rate", self.mask_rate, include_low=False, include_high=True)
        check_int("max_predictions", self.max_predictions, minimum=1, maximum=self.seq_len)

    causal: ClassVar[bool] = False
    loss_name: ClassVar[str] = "masked"
    reduction: ClassVar[str] = "mean_with_sample_weight"

    def model(self, vocab_size: int) -> keras.Model:
        """The untrained masked LM, a window of ``seq_len`` characters.

        Example:
            >>> recipe("bert", "peoples_daily", "preset").model(100).get_layer("encoder").name
            'encoder'
        """
        from lmbook.masked_lm import masked_lm

        return masked_lm(vocab_size, self.seq_len, self.d_model, self.num_heads, self.layers, self.dropout)

    @property
    def reserved(self) -> tuple[str, ...]:
        """Padding, unknown and BERT's ``<mask>`` (:data:`lmbook.masked_lm.RESERVED`)."""
        from lmbook.masked_lm import RESERVED

        return RESERVED

    def prepare(self, text: str) -> str:
        """``text`` folded (:func:`lmbook.segment.fold_width`): full-width ASCII to ASCII, as every
        text the encoder is later fine-tuned on.

        Example:
            >>> recipe("bert", "peoples_daily", "preset").prepare("１９９８年")
            '1998年'
        """
        from lmbook.segment import fold_width

        return fold_width(text)

    def batches(self, ids: np.ndarray, vocab_size: int, steps: int) -> keras.utils.PyDataset:
        """Random windows with BERT's masking (:class:`lmbook.masked_lm.MaskedBatches`)."""
        from lmbook.masked_lm import MaskedBatches

        return MaskedBatches(ids, vocab_size, self.batch_size, self.seq_len, steps=steps,
                             rate=self.mask_rate, max_predictions=self.max_predictions, seed=self.seed)


@dataclass(frozen=True)
class SegmenterRecipe(_Training):
    """Chapter 5's BMES tagger (:func:`lmbook.segmenter.train_segmenter`) and its training.

    Example:
        >>> recipe("segmenter", "peoples_daily", "quick").units
        24
    """

    cell: str = "gru"             # the bidirectional layer: "gru" or "lstm"
    embedding_dim: int = 48       # character and bigram embeddings
    dictionary_dim: int = 16      # the embedding of the six dictionary flags
    projection_dim: int = 16      # the projection before the recurrent layer
    units: int = 24               # per direction
    bigram_min_count: int = 2     # rarer training bigrams share one id
    folds: int = 10               # blocks of the closed-track dictionary's jackknife


# --- Tiny Shakespeare, LSTM (chapter 3) ------------------------------------------------------
_SHAKESPEARE_LSTM_QUICK = RecurrentRecipe(
    corpus="tiny_shakespeare",
    cell="lstm",
    units=256,            # one layer of 256: what four CPU minutes train
    layers=1,
    embedding_dim=64,     # 65 characters need no wide embedding
    tie_embeddings=False,
    stateful=False,       # random 64-character windows, as chapter 3 first teaches
    dropout=0.0,          # 1300 steps see 5.3M characters, about 5 passes: no overfitting yet
    batch_size=128,
    seq_len=64,
    steps=1300,           # about 4 minutes on the 2-core CPU
    peak_lr=6e-3,         # the highest rate that trained stably in chapter 3's sweep
    weight_decay=0.0,
    seed=0,
)
_SHAKESPEARE_LSTM_FULL = replace(
    _SHAKESPEARE_LSTM_QUICK,
    units=512, layers=2,  # char-rnn's classic 2 × 512
    embedding_dim=128,
    dropout=0.2,          # 12,000 steps overfit 1M characters without it
    batch_size=64, seq_len=256,
    steps=12000,
    peak_lr=2e-3,         # a deeper, wider model wants a lower rate
)

# --- People's Daily, GRU (chapter 3) ---------------------------------------------------------
_PEOPLES_DAILY_GRU_QUICK = RecurrentRecipe(
    corpus="peoples_daily",
    cell="gru",
    units=384,
    layers=1,
    embedding_dim=256,    # 4,621 characters: a tied 256-wide table keeps the softmax affordable
    tie_embeddings=True,
    stateful=True,        # truncated BPTT over 64 streams: unbounded context (measured in chapter 3)
    dropout=0.1,          # locked dropout; 4.5M characters is 2.5 passes
    batch_size=64,        # the number of parallel streams
    seq_len=64,           # gradients flow back 64 characters
    steps=1100,           # about 4 minutes on the 2-core CPU
    peak_lr=1e-2,
    weight_decay=0.0,
    seed=0,
)
_PEOPLES_DAILY_GRU_FULL = replace(
    _PEOPLES_DAILY_GRU_QUICK,
    units=512, layers=2,
    dropout=0.2,
    stateful=False,       # random 256-character windows, until a GPU run compares the two
    seq_len=256,
    steps=12000,
    peak_lr=2e-3,
)

# --- GPT (chapter 4) -------------------------------------------------------------------------
_SHAKESPEARE_GPT_QUICK = GPTRecipe(
    corpus="tiny_shakespeare",
    d_model=128,          # nanoGPT's CPU recipe: 4 layers, 4 heads, width 128, block 64
    num_heads=4,
    layers=4,
    dropout=0.0,          # 4M characters, 4 passes: too few to overfit
    batch_size=32,
    seq_len=64,
    steps=2000,           # about 4 minutes on the 2-core CPU
    peak_lr=2e-3,
    weight_decay=0.1,     # nanoGPT's AdamW decay
    seed=0,
)
_SHAKESPEARE_GPT_FULL = replace(
    _SHAKESPEARE_GPT_QUICK,
    d_model=384, num_heads=6, layers=6,  # nanoGPT's "baby GPT"
    dropout=0.2,
    batch_size=64, seq_len=256,
    steps=5000,
    peak_lr=1e-3,
)
_PEOPLES_DAILY_GPT_QUICK = replace(
    _SHAKESPEARE_GPT_QUICK,
    corpus="peoples_daily",
    d_model=192, layers=2,  # the 4,621-way softmax costs as much as the blocks: wider, shallower
    seq_len=32,             # 32 characters are about 20 words: enough for four minutes
    steps=4000,
)
_PEOPLES_DAILY_GPT_FULL = replace(_SHAKESPEARE_GPT_FULL, corpus="peoples_daily")

# --- People's Daily, word segmentation (chapter 5) ------------------------------------------
_SEGMENTER_QUICK = SegmenterRecipe(
    cell="gru",
    embedding_dim=48,
    dictionary_dim=16,
    projection_dim=16,
    units=24,             # narrow on purpose: the recurrent layer is where inference time goes
    dropout=0.2,
    bigram_min_count=2,
    folds=10,
    batch_size=64,
    seq_len=64,           # random 64-character windows of the concatenated sentences
    steps=2500,           # under 4 minutes on the 2-core CPU (benchmarks/segmentation.py)
    peak_lr=4e-3,
    weight_decay=0.0,
    seed=0,
)
_SEGMENTER_FULL = replace(_SEGMENTER_QUICK, dropout=0.3, steps=5000)  # twice as long, more dropout

# --- The presets (lmbook.presets): sized for under two hours of one CPU thread each ----------
_PEOPLES_DAILY_GRU_PRESET = replace(
    _PEOPLES_DAILY_GRU_QUICK,
    units=768,            # twice the quick width: 3.7M parameters, 1.9k characters/s on one thread
    dropout=0.2,          # 12M characters are about 7 passes over the 1.7M of training text
    steps=3000,           # 12.3M characters: 107 minutes of one CPU thread (its card)
    peak_lr=5e-3,         # half the quick rate for a model twice as wide
)
_PEOPLES_DAILY_GPT_PRESET = replace(
    _PEOPLES_DAILY_GPT_QUICK,
    d_model=256, num_heads=8, layers=4,  # 4.4M parameters, 1.2M of them the tied embedding
    dropout=0.1,          # about 7 passes over the training text
    batch_size=32,
    seq_len=128,          # a window of about 80 words
    steps=3000,           # 12.3M characters: 91 minutes of one CPU thread (its card)
    peak_lr=1e-3,         # nanoGPT's rate for its baby GPT
)

_SHAKESPEARE_GPT_PRESET = replace(
    _SHAKESPEARE_GPT_QUICK,
    d_model=256, num_heads=8, layers=4,  # 3.2M parameters: what 100 minutes of one thread train
    dropout=0.1,          # about 18 passes over the 1M training characters
    batch_size=32,
    seq_len=256,          # nanoGPT's block: its protocol scores windows of the model's length
    steps=2200,           # 18M characters, at about 2.9k characters/s on one thread
    peak_lr=1.5e-3,       # between the quick rate at width 128 and nanoGPT's 1e-3 at width 384
)
_SHAKESPEARE_LSTM_PRESET = replace(
    _SHAKESPEARE_LSTM_FULL,
    stateful=True,        # truncated BPTT over 64 streams, as the People's Daily GRU preset
    seq_len=128,          # gradients flow back 128 characters; the state carries on beyond
    steps=1100,           # 9.0M characters, at about 1.6k characters/s on one thread
    peak_lr=3e-3,         # half chapter 3's stable 6e-3, for two layers of 512
)

@dataclass(frozen=True)
class FinetuneRecipe:
    """How :mod:`lmbook.finetune` trains a classifier or a tagger on a pre-trained encoder.

    Taught in chapter 8.  A run takes ``epochs`` passes over the labelled examples, but at
    least ``min_steps`` and at most ``max_steps`` optimiser steps (:meth:`steps`), so that 32
    examples still get enough updates and 14,000 do not take hours.  Each method has its own
    learning rate: a randomly initialised model and a linear probe want larger steps than
    a pre-trained model, whose knowledge large steps would wash out.

    Example:
        >>> FINETUNE["quick"].steps(256), FINETUNE["quick"].steps(100_000)
        (80, 200)
    """

    max_chars: int         # characters per text: a classifier keeps the first ones, a tagger cuts chunks
    batch_size: int        # texts (or chunks) per step
    epochs: int            # passes over the labelled examples...
    min_steps: int         # ...but at least this many steps
    max_steps: int         # ...and at most this many
    full_lr: float         # "full" and "adapted": every weight of a pre-trained encoder
    scratch_lr: float      # "scratch": the same architecture from a random start
    frozen_lr: float       # "frozen": the head alone (a linear probe)
    lora_lr: float         # "lora" and "lora_per_head": the low-rank adapters and the head
    lora_rank: int         # r of LoRA's A (d × r) and B (r × d) on the query and value projections
    weight_decay: float    # AdamW's, on the matrices
    adapt_steps: int       # "adapted": masked-LM steps on the task's unlabelled texts first
    adapt_lr: float        # ...at this learning rate
    seed: int = 0          # weights of the head, batches and dropout (a call's seed= overrides it)
    # ULMFiT's fine-tuning (Howard & Ruder 2018, §3.2), for the methods that train the encoder:
    layer_decay: float = 1.0        # each layer's rate is the one above's divided by this (ULMFiT: 2.6)
    schedule: str = "warmup_cosine"  # or "slanted_triangular" (ULMFiT's: a 10% rise, a ratio of 32)
    gradual_unfreezing: bool = False  # the head first, then one more layer per stage, top down

    def __post_init__(self):
        check_rate("layer_decay", self.layer_decay, low=1.0, high=math.inf)
        if self.schedule not in ("warmup_cosine", "slanted_triangular"):
            raise ValueError(f"schedule must be 'warmup_cosine' or 'slanted_triangular', "
                             f"got {self.schedule!r}")

    def steps(self, examples: int) -> int:
        """Optimiser steps for ``examples`` labelled texts: ``epochs`` passes, clipped to
        ``[min_steps, max_steps]``.

        Example:
            >>> FINETUNE["quick"].steps(32)
            60
        """
        per_epoch = -(-check_int("examples", examples, minimum=1) // self.batch_size)
        return min(max(self.epochs * per_epoch, self.min_steps), self.max_steps)

    def learning_rate(self, method: str) -> float:
        """The peak learning rate of ``method``.

        Example:
            >>> FINETUNE["quick"].learning_rate("lora") > FINETUNE["quick"].learning_rate("full")
            True
        """
        return {"scratch": self.scratch_lr, "frozen": self.frozen_lr, "full": self.full_lr,
                "adapted": self.full_lr, "lora": self.lora_lr, "lora_per_head": self.lora_lr}[method]


# The learning rates: `python benchmarks/finetune.py --mode quick --tune` (validation reviews, 256
# labels, seed 0, commit 1197ad8, on the first 15% encoder build): full 2e-4/5e-4/1e-3/2e-3 gave
# 0.641/0.674/0.684/0.684; scratch 5e-4/1e-3/2e-3 0.681/0.686/0.480; frozen 3e-3/1e-2/3e-2/1e-1
# 0.582/0.596/0.571/0.595; lora 1e-3/2e-3/5e-3/1e-2 0.559/0.603/0.604/0.620.  Twenty epochs instead
# of six added about 2 points to both full and scratch (0.702 and 0.705).
# The same sweep on the 30% build that replaced it (lmbook/results/finetune-tuning-quick.json,
# 3b459b8 plus an exercise's wording): full 0.654/0.671/0.666/0.683; scratch 0.684/0.682/0.659; frozen
# 0.620/0.605/0.586/0.593; lora 0.622/0.633/0.640/0.669.  No method gains 2 points over its rate
# here (one seed, 1-2 points is noise), so chapter 8's benchmark keeps them; LoRA's best is again
# the largest rate tried.
_FINETUNE_QUICK = FinetuneRecipe(
    max_chars=64,         # the first 64 characters: a review's median is 46
    batch_size=32,
    epochs=10,            # 256 labelled reviews: 8 batches × 10 = 80 steps
    min_steps=60,         # 32 reviews: 60 steps over one batch
    max_steps=200,        # the whole training set: 200 steps (0.46 passes), CPU minutes
    full_lr=1e-3,         # the best of the sweep above (tied with 2e-3)
    scratch_lr=1e-3,      # the best; 2e-3 diverged
    frozen_lr=1e-2,       # the best: a linear probe wants large steps
    lora_lr=1e-2,         # the best (the sweep's largest): adapters start at zero
    lora_rank=8,
    weight_decay=0.01,
    adapt_steps=300,      # 300 × 32 windows of 128 review characters: about 0.9 passes over them
    adapt_lr=1e-3,        # the encoder preset's own peak rate: a trial at 2e-4 added nothing on validation
)
_FINETUNE_FULL = replace(
    _FINETUNE_QUICK,
    max_chars=128,        # the encoder's whole window
    epochs=10,
    min_steps=100,
    max_steps=3000,       # about 7 passes over the whole training set
    adapt_steps=2000,
)
#: The fine-tuning recipe of each mode (chapter 8, ``benchmarks/finetune.py``).
FINETUNE = {"quick": _FINETUNE_QUICK, "full": _FINETUNE_FULL}
#: ULMFiT's three fine-tuning techniques, as the paper sets them (Howard & Ruder 2018, §3.2-3.3);
#: chapter 8's benchmark applies them to a mode's recipe with ``dataclasses.replace``.
ULMFIT = dict(layer_decay=2.6,                 # η^(l-1) = η^l / 2.6
              schedule="slanted_triangular",   # cut_frac 0.1, ratio 32
              gradual_unfreezing=True)         # one more layer per stage

# --- People's Daily, BERT (chapter 8): the GPT preset's shape and tokens, the masked objective
_PEOPLES_DAILY_BERT_PRESET = EncoderRecipe(
    corpus="peoples_daily",
    d_model=256, num_heads=8, layers=4,  # the peoples-daily-gpt preset's shape: 4.4M parameters
    # A first build with BERT's 15% (3,000 steps, 1.8M predictions) learned too little: validation
    # masked accuracy 33.9%, and it guessed 族 for 中华人民＿和国.  A masked LM learns only at the
    # selected positions, so 30% doubles what each step teaches (Wettig et al. 2023 find 40%
    # better than 15% for BERT); the 80/10/10 split of the selected positions stays.
    mask_rate=0.3,
    max_predictions=48,   # 30% of 128 is 38.4 on average; the cap keeps batches rectangular
    dropout=0.1,          # BERT's
    batch_size=32,
    seq_len=128,          # reviews have a median of 46 characters; 128 covers 80% of them whole
    steps=6000,           # 24.6M characters, twice the GPT preset's: 7.4M masked predictions
    peak_lr=1e-3,         # the GPT preset's rate
    weight_decay=0.01,    # BERT's
    seed=0,
)

#: Every recipe, by ``(model, corpus, mode)``; see :func:`recipe`.
RECIPES = {
    ("lstm", "tiny_shakespeare", "quick"): _SHAKESPEARE_LSTM_QUICK,
    ("lstm", "tiny_shakespeare", "full"): _SHAKESPEARE_LSTM_FULL,
    ("lstm", "tiny_shakespeare", "preset"): _SHAKESPEARE_LSTM_PRESET,
    ("gru", "peoples_daily", "quick"): _PEOPLES_DAILY_GRU_QUICK,
    ("gru", "peoples_daily", "full"): _PEOPLES_DAILY_GRU_FULL,
    ("gru", "peoples_daily", "preset"): _PEOPLES_DAILY_GRU_PRESET,
    ("gpt", "tiny_shakespeare", "quick"): _SHAKESPEARE_GPT_QUICK,
    ("gpt", "tiny_shakespeare", "full"): _SHAKESPEARE_GPT_FULL,
    ("gpt", "tiny_shakespeare", "preset"): _SHAKESPEARE_GPT_PRESET,
    ("gpt", "peoples_daily", "quick"): _PEOPLES_DAILY_GPT_QUICK,
    ("gpt", "peoples_daily", "full"): _PEOPLES_DAILY_GPT_FULL,
    ("gpt", "peoples_daily", "preset"): _PEOPLES_DAILY_GPT_PRESET,
    ("bert", "peoples_daily", "preset"): _PEOPLES_DAILY_BERT_PRESET,
    ("segmenter", "peoples_daily", "quick"): _SEGMENTER_QUICK,
    ("segmenter", "peoples_daily", "full"): _SEGMENTER_FULL,
}


def recipe(model: str, corpus: str, mode: str) -> LanguageModelRecipe | SegmenterRecipe:
    """The recipe for ``model`` (``"lstm"``, ``"gru"``, ``"gpt"``, ``"bert"``, ``"segmenter"``) on
    ``corpus`` in ``mode``.

    Raises:
        KeyError: naming the known ``(model, corpus, mode)`` triples.

    Example:
        >>> recipe("lstm", "tiny_shakespeare", "full").units
        512
    """
    key = (model, corpus, mode)
    if key not in RECIPES:
        known = ", ".join("/".join(k) for k in RECIPES)
        raise KeyError(f"no recipe for model={model!r}, corpus={corpus!r}, mode={mode!r}; known: {known}")
    return RECIPES[key]


def resolve(given, mode: str | None, of_mode, kind: type):
    """The recipe a training function runs: ``given``, else ``of_mode(mode)``, else the recipe of
    ``$LMBOOK_MODE`` (:func:`lmbook.config.get_mode`).

    :func:`lmbook.finetune.train_classifier`, :func:`lmbook.finetune.train_tagger`,
    :func:`lmbook.finetune.adapt` and :func:`lmbook.segmenter.train_segmenter` take
    ``recipe=None, mode=None`` and ask this.

    Raises:
        ValueError: both ``recipe`` and ``mode`` given, or an unknown mode.
        TypeError: ``given`` is not a ``kind``.

    Example:
        >>> resolve(None, "full", FINETUNE.get, FinetuneRecipe).max_steps
        3000
        >>> resolve(FINETUNE["quick"], "full", FINETUNE.get, FinetuneRecipe)
        Traceback (most recent call last):
        ...
        ValueError: give recipe= or mode=, not both (got recipe=FinetuneRecipe(...) and mode='full')
    """
    from lmbook.config import MODES, get_mode

    if given is not None:
        if mode is not None:
            raise ValueError(f"give recipe= or mode=, not both (got recipe={type(given).__name__}(...) "
                             f"and mode={mode!r})")
        if not isinstance(given, kind):
            raise TypeError(f"recipe must be a {kind.__name__}, got {type(given).__name__}")
        return given
    mode = get_mode() if mode is None else mode
    if mode not in MODES:
        raise ValueError(f"mode must be {' or '.join(map(repr, MODES))}, got {mode!r}")
    return of_mode(mode)
