"""Language-model builders in backend-agnostic Keras 3.

Taught in chapter 3 (``notebooks/03_rnn_lstm.ipynb``): :func:`recurrent_lm` and
:func:`stateful_batch_size` and :func:`reset_states`; and in
chapter 4 (``notebooks/04_transformers.ipynb``): :func:`gpt_lm`.

Every model maps token ids of shape ``(batch, time)`` to next-token logits of shape
``(batch, time, vocab_size)``.  Only Keras layers and ``keras.ops`` are used, so the same
code runs under TensorFlow, JAX or PyTorch.

Example:
    >>> model = recurrent_lm(vocab_size=50, cell="gru", units=32)
    >>> model.output_shape
    (None, None, 50)
"""

from __future__ import annotations

import keras
import keras_hub
from keras_hub.layers import ReversibleEmbedding

from lmbook import transformer

__all__ = ["CELLS", "gpt_lm", "recurrent_lm", "reset_states", "stateful_batch_size"]

CELLS = {"rnn": keras.layers.SimpleRNN, "gru": keras.layers.GRU, "lstm": keras.layers.LSTM}


def recurrent_lm(
    vocab_size: int,
    cell: str = "lstm",
    units: int = 256,
    layers: int = 1,
    embedding_dim: int | None = None,
    dropout: float = 0.0,
    tie_embeddings: bool = False,
    stateful_batch_size: int | None = None,
    name: str | None = None,
) -> keras.Model:
    """A recurrent LM: embedding → ``layers`` × (RNN cell, dropout) → logits.

    Args:
        vocab_size: number of token ids.
        cell: ``"rnn"`` (SimpleRNN), ``"gru"`` or ``"lstm"``.
        units: hidden size of every recurrent layer.
        layers: number of stacked recurrent layers.
        embedding_dim: embedding width; defaults to ``units``.
        dropout: dropout rate after the embedding and after each recurrent layer.  The
            dropout is *variational* (Gal & Ghahramani, 2016): one mask per sequence, the
            same at every time step, which regularises an RNN better than a fresh mask per
            step and needs 1/time as many random numbers.
        tie_embeddings: share the input embedding matrix with the output layer
            (Press & Wolf, 2017); a linear projection to ``embedding_dim`` is added when
            ``units != embedding_dim``.
        stateful_batch_size: if set, build a *stateful* model for truncated
            backpropagation through time: the recurrent state carries over from one batch
            to the next, which needs a fixed batch size.
        name: the model's name (default ``"<cell>_lm"``).

    Example:
        >>> m = recurrent_lm(100, "lstm", units=16, layers=2, tie_embeddings=True)
        >>> m.count_params() == recurrent_lm(100, "lstm", units=16, layers=2).count_params() - 16 * 100
        True
    """
    if cell not in CELLS:
        raise ValueError(f"cell must be one of {', '.join(CELLS)}, got {cell!r}")
    for arg, value in (("vocab_size", vocab_size), ("units", units), ("layers", layers)):
        if not isinstance(value, int) or value < 1:
            raise ValueError(f"{arg} must be a positive int, got {value!r}")
    if not 0.0 <= dropout < 1.0:
        raise ValueError(f"dropout must be in [0, 1), got {dropout!r}")
    embedding_dim = embedding_dim or units
    if stateful_batch_size:
        inputs = keras.Input(batch_shape=(stateful_batch_size, None), dtype="int32", name="ids")
    else:
        inputs = keras.Input(shape=(None,), dtype="int32", name="ids")
    embedding = ReversibleEmbedding(vocab_size, embedding_dim, tie_weights=tie_embeddings,
                                    name="embedding")
    per_sequence = (None, 1, None)  # dropout noise shape: one mask for all time steps
    x = keras.layers.Dropout(dropout, noise_shape=per_sequence)(embedding(inputs))
    for i in range(layers):
        x = CELLS[cell](units, return_sequences=True, stateful=bool(stateful_batch_size),
                        name=f"{cell}_{i}")(x)
        x = keras.layers.Dropout(dropout, noise_shape=per_sequence)(x)
    if units != embedding_dim:
        x = keras.layers.Dense(embedding_dim, name="projection")(x)
    logits = embedding(x, reverse=True)
    return keras.Model(inputs, logits, name=name or f"{cell}_lm")


def stateful_batch_size(model: keras.Model) -> int | None:
    """The fixed batch size of a stateful model, or ``None`` for a model of any batch size.

    Example:
        >>> stateful_batch_size(recurrent_lm(10, units=4, stateful_batch_size=8))
        8
        >>> stateful_batch_size(recurrent_lm(10, units=4)) is None
        True
    """
    return model.inputs[0].shape[0]


def reset_states(model: keras.Model) -> keras.Model:
    """Zero the carried state of every stateful recurrent layer of ``model``; return ``model``.

    Call it before a stateful model reads a new text.

    Example:
        >>> m = recurrent_lm(10, "gru", units=4, stateful_batch_size=1)
        >>> first = keras.ops.convert_to_numpy(m(keras.ops.ones((1, 3), "int32")))
        >>> again = keras.ops.convert_to_numpy(reset_states(m)(keras.ops.ones((1, 3), "int32")))
        >>> bool((first == again).all())
        True
    """
    for layer in model.layers:
        if getattr(layer, "stateful", False):
            layer.reset_states()
    return model


def gpt_lm(
    vocab_size: int,
    seq_len: int,
    d_model: int = 128,
    num_heads: int = 4,
    layers: int = 4,
    dropout: float = 0.0,
    layers_from: str = "lmbook",
    name: str | None = None,
) -> keras.Model:
    """A GPT-style decoder-only LM: embeddings → ``layers`` pre-LN blocks → LN → tied logits.

    Token and learned position embeddings (dropout after their sum), ``layers`` decoder
    blocks with causal multi-head attention and a ``4 d_model`` GELU MLP, a final
    LayerNorm, and the token matrix reused as the output layer — nanoGPT's architecture.

    Args:
        vocab_size: number of token ids.
        seq_len: the longest input (number of learned positions).
        d_model: model width; ``num_heads`` must divide it.
        num_heads: attention heads per block.
        layers: number of decoder blocks.
        dropout: on the embeddings, the attention weights and the residual branches.
        layers_from: ``"lmbook"`` builds it from :mod:`lmbook.transformer`'s layers;
            ``"keras_hub"`` from keras-hub's ``TokenAndPositionEmbedding`` and
            ``TransformerDecoder`` (``normalize_first=True``).  Both have the same parameters.
        name: the model's name (default ``"gpt_lm"``).

    Example:
        >>> small = dict(vocab_size=65, seq_len=16, d_model=32, num_heads=2, layers=2)
        >>> gpt_lm(**small).count_params() == gpt_lm(**small, layers_from="keras_hub").count_params()
        True
    """
    for arg, value in (("vocab_size", vocab_size), ("seq_len", seq_len), ("d_model", d_model),
                       ("num_heads", num_heads), ("layers", layers)):
        if not isinstance(value, int) or value < 1:
            raise ValueError(f"{arg} must be a positive int, got {value!r}")
    if d_model % num_heads:
        raise ValueError(f"num_heads ({num_heads}) must divide d_model ({d_model})")
    if not 0.0 <= dropout < 1.0:
        raise ValueError(f"dropout must be in [0, 1), got {dropout!r}")
    if layers_from not in ("lmbook", "keras_hub"):
        raise ValueError(f"layers_from must be 'lmbook' or 'keras_hub', got {layers_from!r}")
    inputs = keras.Input(shape=(None,), dtype="int32", name="ids")
    if layers_from == "lmbook":
        embedding = transformer.TokenAndPositionEmbedding(vocab_size, seq_len, d_model, name="embedding")
        blocks = [transformer.DecoderBlock(num_heads, 4 * d_model, dropout, name=f"block_{i}")
                  for i in range(layers)]
    else:
        embedding = keras_hub.layers.TokenAndPositionEmbedding(
            vocab_size, seq_len, d_model, tie_weights=True, embeddings_initializer=transformer.INIT,
            name="embedding")
        blocks = [keras_hub.layers.TransformerDecoder(
            4 * d_model, num_heads, dropout, activation="gelu", normalize_first=True,
            kernel_initializer=transformer.INIT, name=f"block_{i}") for i in range(layers)]
    x = keras.layers.Dropout(dropout)(embedding(inputs))
    for block in blocks:
        x = block(x)
    x = keras.layers.LayerNormalization(epsilon=1e-5, name="final_norm")(x)
    head = embedding if layers_from == "lmbook" else embedding.token_embedding
    logits = head(x, reverse=True)
    return keras.Model(inputs, logits, name=name or "gpt_lm")
