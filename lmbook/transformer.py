"""The pieces of a GPT-style Transformer decoder, written with ``keras.ops``.

Taught in chapter 4 (``notebooks/04_transformers.ipynb``), which builds each piece from
scratch, checks it against Keras, and assembles them with :func:`lmbook.models.gpt_lm`.

- :func:`causal_mask` and :func:`sinusoidal_encoding`: the mask and the fixed positions;
- :func:`attention_weights` and :func:`attention`: scaled dot-product attention,
  ``softmax(q kᵀ / √d_k + mask) v``;
- :class:`CausalSelfAttention`: multi-head causal self-attention;
- :class:`DecoderBlock`: a pre-LayerNorm block, ``x + attn(LN(x))`` then ``x + MLP(LN(x))``;
- :class:`TokenAndPositionEmbedding`: token plus learned position embeddings, whose token
  matrix is reused as the (tied) output layer;
- :func:`check_length`: the window rule: a sequence may not be longer than the position
  table (``seq_len``).

All layers are serialisable (``get_config``) and backend-agnostic.

Example:
    >>> causal_mask(3).astype(int).tolist()
    [[1, 0, 0], [1, 1, 0], [1, 1, 1]]
"""

from __future__ import annotations

import math

import keras
import numpy as np
from keras import ops

from lmbook.checks import check_int, check_rate

__all__ = ["CausalSelfAttention", "DecoderBlock", "EncoderBlock", "SelfAttention",
           "TokenAndPositionEmbedding", "TransformerBlock", "attention", "attention_weights",
           "causal_mask", "check_length", "sinusoidal_encoding"]

#: GPT-2's initialisation: weights ~ N(0, 0.02²), biases zero.
INIT = {"class_name": "RandomNormal", "config": {"stddev": 0.02}}


def causal_mask(length: int) -> np.ndarray:
    """Boolean ``(length, length)`` mask: query ``t`` may attend to keys ``0..t``.

    Example:
        >>> causal_mask(2)
        array([[ True, False],
               [ True,  True]])
    """
    length = check_int("length", length, minimum=1)
    return np.tril(np.ones((length, length), dtype=bool))


def sinusoidal_encoding(length: int, d_model: int, base: float = 10000.0) -> np.ndarray:
    """Vaswani et al.'s fixed positions: ``PE[p, 2i] = sin(p / base^(2i/d_model))``, ``PE[p, 2i+1] = cos(…)``.

    Sines and cosines are *interleaved*: even dimensions hold the sine and the following odd
    dimension the cosine of the same frequency.

    Example:
        >>> pe = sinusoidal_encoding(4, 6)
        >>> pe.shape, float(pe[0, 0]), float(pe[0, 1])
        ((4, 6), 0.0, 1.0)
    """
    d_model = check_int("d_model", d_model, minimum=2)
    if d_model % 2:
        raise ValueError(f"d_model must be even, got {d_model}")
    length = check_int("length", length, minimum=1)
    angles = np.arange(length)[:, None] / base ** (np.arange(0, d_model, 2) / d_model)
    pe = np.empty((length, d_model), dtype="float32")
    pe[:, 0::2], pe[:, 1::2] = np.sin(angles), np.cos(angles)
    return pe


def check_length(ids, seq_len: int):
    """Return ``ids`` if its last axis (the sequence) is at most ``seq_len`` long; else raise.

    A learned position table has ``seq_len`` rows, so a longer sequence has positions
    with no embedding (under JAX, an out-of-range lookup silently gives NaN).  The check
    reads the *static* length, the one known when Python runs: always under JAX (every
    trace has concrete shapes) and in eager calls, and in a TensorFlow graph unless that
    graph was traced for any length (``None``), in which case it passes ``ids`` through.
    Anything without a ``shape`` (a dataset, a generator) also passes through.

    Raises:
        ValueError: naming ``seq_len`` and the length given.

    Example:
        >>> check_length(np.zeros((2, 4)), seq_len=4).shape
        (2, 4)
        >>> check_length(np.zeros((2, 5)), seq_len=4)    # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        ValueError: got a sequence of length 5, longer than seq_len=4 (the model's window: ...
    """
    shape = getattr(ids, "shape", None)
    length = shape[-1] if shape is not None and len(shape) else None
    if isinstance(length, (int, np.integer)) and length > seq_len:
        raise ValueError(f"got a sequence of length {length}, longer than seq_len={seq_len} "
                         f"(the model's window: its number of learned positions); "
                         f"feed at most the last {seq_len} tokens")
    return ids


def attention_weights(q, k, mask=None):
    """``softmax(q kᵀ / √d_k)``, with disallowed positions (``mask`` False) set to zero.

    Shapes: ``q`` ``(..., T_q, d_k)``, ``k`` ``(..., T_k, d_k)``; ``mask`` broadcasts to
    ``(..., T_q, T_k)``.  Computed in float32, so that the mask's large negative score and
    the softmax stay safe under mixed precision.

    Example:
        >>> q = k = np.eye(2, dtype="float32")[None]
        >>> ops.convert_to_numpy(attention_weights(q, k, causal_mask(2)))[0, 0].tolist()
        [1.0, 0.0]
    """
    scores = ops.matmul(ops.cast(q, "float32"), ops.swapaxes(ops.cast(k, "float32"), -1, -2))
    scores = scores / math.sqrt(q.shape[-1])
    if mask is not None:
        scores = ops.where(mask, scores, -1e9)
    return ops.softmax(scores, axis=-1)


def attention(q, k, v, mask=None):
    """Scaled dot-product attention: :func:`attention_weights` applied to the values ``v``.

    Example:
        >>> q = k = v = np.eye(2, dtype="float32")[None]
        >>> ops.convert_to_numpy(attention(q, k, v, causal_mask(2)))[0].astype(float).round(2).tolist()
        [[1.0, 0.0], [0.33, 0.67]]
    """
    return ops.matmul(ops.cast(attention_weights(q, k, mask), v.dtype), v)


@keras.saving.register_keras_serializable(package="lmbook")
class SelfAttention(keras.layers.Layer):
    """Multi-head self-attention: every position attends to every other one, in both
    directions, as in a BERT encoder (chapter 8, :mod:`lmbook.masked_lm`); with
    ``causal=True`` (:class:`CausalSelfAttention`) each attends only to itself and the past.

    Separate query, key and value projections map ``(B, T, d)`` to ``(B, T, heads, d_k)``
    with ``d_k = d / num_heads``; each head attends with :func:`attention` under the causal
    mask; the output projection maps the heads back to ``d``.  The four projections are
    ``EinsumDense`` layers named and shaped as in ``keras.layers.MultiHeadAttention``
    (kernels ``(d, heads, d_k)`` and ``(heads, d_k, d)``), so the two layers exchange
    weights with ``set_weights(other.get_weights())``, and a head is a slice of the
    ``heads`` axis: what tensor parallelism shards (chapter 6) and what LoRA adapts in the
    query and value projections alone (chapter 8).

    A ``padding_mask`` (``(B, T)``, False at padding) keeps every query off the padding keys.

    Args:
        num_heads: number of heads; must divide the input width.
        dropout: dropout on the attention weights.  Default 0.
        causal: mask the future.  Default False; :class:`CausalSelfAttention` sets it.

    Example:
        >>> layer = SelfAttention(num_heads=2)
        >>> tuple(layer(np.zeros((1, 5, 8), "float32")).shape)
        (1, 5, 8)
        >>> [tuple(w.shape) for w in layer.weights][:2]
        [(8, 2, 4), (2, 4)]
    """

    def __init__(self, num_heads: int, dropout: float = 0.0, causal: bool = False, **kwargs):
        super().__init__(**kwargs)
        self.num_heads = check_int("num_heads", num_heads, minimum=1)
        self.dropout = check_rate("dropout", dropout)
        self.causal = bool(causal)

    def build(self, input_shape):
        """Create the query, key, value and output projections for width ``input_shape[-1]``."""
        d = input_shape[-1]
        if d % self.num_heads:
            raise ValueError(f"num_heads={self.num_heads} must divide the input width {d}")
        head_shape = (None, self.num_heads, d // self.num_heads)

        def projection(name, equation, output_shape, bias_axes):
            return keras.layers.EinsumDense(equation, output_shape, bias_axes=bias_axes,
                                            kernel_initializer=INIT, dtype=self.dtype_policy, name=name)

        self.query, self.key, self.value = (projection(name, "btd,dhk->bthk", head_shape, "hk")
                                            for name in ("query", "key", "value"))
        self.attention_output = projection("attention_output", "bthk,hkd->btd", (None, d), "d")
        for layer in (self.query, self.key, self.value):
            layer.build(input_shape)
        self.attention_output.build((*input_shape[:-1], *head_shape[1:]))
        self.attention_dropout = keras.layers.Dropout(self.dropout, dtype=self.dtype_policy)

    def call(self, x, padding_mask=None, training=None, return_attention_scores=False, cache=None,
             cache_index=None):
        """Attend; optionally also return the weights ``(B, heads, T, T)``.

        With a key/value ``cache`` ``(B, 2, heads, W, d_k)`` (causal layers only), ``x`` holds
        the tokens at positions ``cache_index, cache_index + 1, …``: their keys and values are
        written into the cache at those positions, each query attends to the cache's
        positions up to its own, and the call returns ``(y, new_cache)``
        (:func:`lmbook.generate.generate` decodes one token per step this way, chapter 4).
        """
        q, k, v = (ops.transpose(p(x), (0, 2, 1, 3)) for p in (self.query, self.key, self.value))
        length = ops.shape(x)[1]
        if cache is not None:       # write this step's keys and values, then attend over the cache
            if not self.causal:
                raise ValueError("a key/value cache needs a causal layer: an encoder reads every position")
            start = (0, 0, cache_index, 0)
            cache = ops.stack([ops.slice_update(cache[:, i], start, ops.cast(new, cache.dtype))
                               for i, new in enumerate((k, v))], axis=1)
            k, v = ops.cast(cache[:, 0], v.dtype), ops.cast(cache[:, 1], v.dtype)
            mask = ops.arange(ops.shape(k)[2])[None, :] <= cache_index + ops.arange(length)[:, None]
        else:
            mask = ops.tril(ops.ones((length, length), dtype="bool")) if self.causal else None
        if padding_mask is not None:   # (B, T) → (B, 1, 1, T): no query looks at a padding key
            keys = ops.cast(padding_mask, "bool")[:, None, None, :]
            mask = keys if mask is None else ops.logical_and(mask, keys)
        weights = attention_weights(q, k, mask)
        y = ops.matmul(ops.cast(self.attention_dropout(weights, training=training), v.dtype), v)
        y = self.attention_output(ops.transpose(y, (0, 2, 1, 3)))
        if cache is not None:
            return y, cache
        return (y, weights) if return_attention_scores else y

    def get_config(self):
        """Constructor arguments, for saving."""
        return {**super().get_config(), "num_heads": self.num_heads, "dropout": self.dropout,
                "causal": self.causal}


@keras.saving.register_keras_serializable(package="lmbook")
class CausalSelfAttention(SelfAttention):
    """Multi-head causal self-attention, as in GPT-2 and nanoGPT: :class:`SelfAttention` under
    the causal mask, so position ``t`` attends to positions ``0..t`` only.

    Example:
        >>> layer = CausalSelfAttention(num_heads=2)
        >>> tuple(layer(np.zeros((1, 5, 8), "float32")).shape)
        (1, 5, 8)
        >>> [tuple(w.shape) for w in layer.weights][:2]
        [(8, 2, 4), (2, 4)]
    """

    def __init__(self, num_heads: int, dropout: float = 0.0, **kwargs):
        kwargs.pop("causal", None)        # a saved config records it; the class fixes it
        super().__init__(num_heads, dropout, causal=True, **kwargs)


@keras.saving.register_keras_serializable(package="lmbook")
class TransformerBlock(keras.layers.Layer):
    """A pre-LayerNorm Transformer block:

    ``x = x + Dropout(Attention(LN(x)))``, then ``x = x + Dropout(MLP(LN(x)))`` with
    ``MLP = Dense(hidden_dim, gelu) → Dense(d)``.  Its attention looks both ways (an
    :class:`EncoderBlock`) or only back (a :class:`DecoderBlock`); ``padding_mask`` is passed
    on to the attention.

    Args:
        num_heads: attention heads.
        hidden_dim: the MLP's inner width (GPT and BERT use ``4 d``).
        dropout: on the attention weights and on both residual branches.
        causal: mask the future.  Default False; :class:`DecoderBlock` sets it.

    Example:
        >>> tuple(TransformerBlock(num_heads=2, hidden_dim=32)(np.zeros((2, 3, 8), "float32")).shape)
        (2, 3, 8)
    """

    def __init__(self, num_heads: int, hidden_dim: int, dropout: float = 0.0, causal: bool = False,
                 **kwargs):
        super().__init__(**kwargs)
        self.num_heads = check_int("num_heads", num_heads, minimum=1)
        self.hidden_dim = check_int("hidden_dim", hidden_dim, minimum=1)
        self.dropout = check_rate("dropout", dropout)
        self.causal = bool(causal)
        self.norm1 = keras.layers.LayerNormalization(epsilon=1e-5, name="norm1")
        self.attention = SelfAttention(self.num_heads, self.dropout, self.causal, name="attention")
        self.norm2 = keras.layers.LayerNormalization(epsilon=1e-5, name="norm2")
        self.mlp_in = keras.layers.Dense(self.hidden_dim, activation="gelu", kernel_initializer=INIT,
                                         name="mlp_in")
        self.residual_dropout = keras.layers.Dropout(self.dropout)

    def build(self, input_shape):
        """Build the sublayers for width ``input_shape[-1]``."""
        d = input_shape[-1]
        self.mlp_out = keras.layers.Dense(d, kernel_initializer=INIT, name="mlp_out")
        for layer in (self.norm1, self.attention, self.norm2, self.mlp_in):
            layer.build(input_shape)
        self.mlp_out.build((*input_shape[:-1], self.hidden_dim))

    def call(self, x, padding_mask=None, training=None, cache=None, cache_index=None):
        """The two residual updates; with a key/value ``cache`` (see :class:`SelfAttention`),
        ``(output, new_cache)``."""
        attended = self.attention(self.norm1(x), padding_mask=padding_mask, training=training, cache=cache,
                                  cache_index=cache_index)
        if cache is not None:
            attended, cache = attended
        x = x + self.residual_dropout(attended, training=training)
        mlp = self.mlp_out(self.mlp_in(self.norm2(x)))
        x = x + self.residual_dropout(mlp, training=training)
        return x if cache is None else (x, cache)

    def get_config(self):
        """Constructor arguments, for saving."""
        return {**super().get_config(), "num_heads": self.num_heads,
                "hidden_dim": self.hidden_dim, "dropout": self.dropout, "causal": self.causal}


@keras.saving.register_keras_serializable(package="lmbook")
class DecoderBlock(TransformerBlock):
    """A GPT-2 decoder block: :class:`TransformerBlock` with causal self-attention (chapter 4).

    Example:
        >>> tuple(DecoderBlock(num_heads=2, hidden_dim=32)(np.zeros((2, 3, 8), "float32")).shape)
        (2, 3, 8)
    """

    def __init__(self, num_heads: int, hidden_dim: int, dropout: float = 0.0, **kwargs):
        kwargs.pop("causal", None)        # a saved config records it; the class fixes it
        super().__init__(num_heads, hidden_dim, dropout, causal=True, **kwargs)


@keras.saving.register_keras_serializable(package="lmbook")
class EncoderBlock(TransformerBlock):
    """A BERT encoder block: :class:`TransformerBlock` with attention in both directions (chapter 8).

    Example:
        >>> tuple(EncoderBlock(num_heads=2, hidden_dim=32)(np.zeros((2, 3, 8), "float32")).shape)
        (2, 3, 8)
    """

    def __init__(self, num_heads: int, hidden_dim: int, dropout: float = 0.0, **kwargs):
        kwargs.pop("causal", None)        # a saved config records it; the class fixes it
        super().__init__(num_heads, hidden_dim, dropout, causal=False, **kwargs)


@keras.saving.register_keras_serializable(package="lmbook")
class TokenAndPositionEmbedding(keras.layers.Layer):
    """Token embeddings plus learned position embeddings, indexed by *position* ``0..T-1``.

    Called with ``reverse=True`` on hidden states ``(B, T, d)`` it returns logits
    ``h Eᵀ`` with the same token matrix ``E`` (tied input and output embeddings), computed
    in float32 under any dtype policy (chapter 6: bfloat16 logits lose the softmax's precision).
    A sequence longer than ``seq_len`` has no positions to look up: the layer raises a
    ``ValueError`` (:func:`check_length`) wherever its length is known.

    Args:
        vocab_size: number of token ids.
        seq_len: the longest sequence (number of learned positions).
        d_model: embedding width.

    Example:
        >>> emb = TokenAndPositionEmbedding(10, seq_len=4, d_model=6)
        >>> h = emb(np.array([[1, 2, 3]]))
        >>> tuple(h.shape), tuple(emb(h, reverse=True).shape)
        ((1, 3, 6), (1, 3, 10))
    """

    def __init__(self, vocab_size: int, seq_len: int, d_model: int, **kwargs):
        super().__init__(**kwargs)
        self.vocab_size = check_int("vocab_size", vocab_size, minimum=1)
        self.seq_len = check_int("seq_len", seq_len, minimum=1)
        self.d_model = check_int("d_model", d_model, minimum=1)

    def build(self, input_shape):
        """Create the two tables."""
        self.tokens = self.add_weight((self.vocab_size, self.d_model), INIT, name="tokens")
        self.positions = self.add_weight((self.seq_len, self.d_model), INIT, name="positions")

    def call(self, x, reverse=False, start=0):
        """Embed ids at positions ``start, start + 1, …``, or (``reverse=True``) map hidden
        states to logits.  ``start`` is where a key/value-cached step resumes (chapter 4)."""
        if reverse:   # in float32 even under mixed precision: the softmax needs the logits' precision
            return ops.matmul(ops.cast(x, "float32"), ops.cast(ops.transpose(self.tokens), "float32"))
        check_length(x, self.seq_len)
        # Rows start..start+T-1, by position, never by token id.  A slice, not a gather: a
        # TensorFlow graph traced for any length still fails on a long input (a gather on a GPU
        # would return zeros).
        table = ops.convert_to_tensor(self.positions)
        positions = ops.slice(table, (start, 0), (ops.shape(x)[-1], self.d_model))
        return ops.take(self.tokens, x, axis=0) + positions

    def compute_output_spec(self, x, reverse=False, start=0):
        """The output's shape without running :meth:`call`; checks a known length too."""
        if reverse:
            return keras.KerasTensor((*x.shape[:-1], self.vocab_size), dtype="float32")
        check_length(x, self.seq_len)
        return keras.KerasTensor((*x.shape, self.d_model), dtype=self.compute_dtype)

    def get_config(self):
        """Constructor arguments, for saving."""
        return {**super().get_config(), "vocab_size": self.vocab_size,
                "seq_len": self.seq_len, "d_model": self.d_model}
