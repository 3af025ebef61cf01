"""Language-model builders in backend-agnostic Keras 3.

Taught in chapter 3 (``notebooks/03_rnn_lstm.ipynb``): :func:`recurrent_lm`,
:func:`stateful_batch_size` and :func:`reset_states`; and in
chapter 4 (``notebooks/04_transformers.ipynb``): :func:`gpt_lm`, which returns a
:class:`WindowedLM`, and :func:`context_window`.

Every model maps token ids of shape ``(batch, time)`` to next-token logits of shape
``(batch, time, vocab_size)``.  Only Keras layers and ``keras.ops`` are used, so the same
code runs under TensorFlow, JAX or PyTorch; keras-hub (which loads TensorFlow when it is
installed) is imported only when ``gpt_lm(..., layers_from="keras_hub")`` asks for it.

Example:
    >>> model = recurrent_lm(vocab_size=50, cell="gru", units=32)
    >>> model.output_shape
    (None, None, 50)
"""

from __future__ import annotations

import keras
import numpy as np

from lmbook import transformer
from lmbook.checks import check_int, check_rate

__all__ = ["CELLS", "WindowedLM", "context_window", "gpt_lm", "logits", "recurrent_lm", "reset_states",
           "stateful_batch_size"]

CELLS = {"rnn": keras.layers.SimpleRNN, "gru": keras.layers.GRU, "lstm": keras.layers.LSTM}


@keras.saving.register_keras_serializable(package="lmbook")
class WindowedLM(keras.Model):
    """A functional language model that reads at most ``seq_len`` tokens (its window).

    Built like ``keras.Model(inputs, outputs)``, plus ``seq_len``.  Every way in checks
    the input's length with :func:`lmbook.transformer.check_length` and raises a
    ``ValueError`` naming ``seq_len`` and the length given: a call ``model(x)`` (eager, or
    inside any trace whose length is known: always under JAX), and ``predict``, ``evaluate``,
    ``fit`` and their ``*_on_batch`` forms on arrays *before* they reach a compiled step.
    The second matters under TensorFlow: once it has seen two lengths, its step function is
    retraced for any length, and a check inside the model then no longer sees one.

    Args:
        seq_len: the longest input, e.g. the number of learned positions.
        *args, **kwargs: those of ``keras.Model(inputs, outputs, name=...)``.

    Example:
        >>> import numpy as np
        >>> ids = keras.Input(shape=(None,), dtype="int32")
        >>> model = WindowedLM(ids, keras.layers.Embedding(5, 5)(ids), seq_len=3)
        >>> model.predict(np.zeros((1, 3), "int32"), verbose=0).shape
        (1, 3, 5)
        >>> model.predict(np.zeros((1, 4), "int32"), verbose=0)    # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        ValueError: got a sequence of length 4, longer than seq_len=3 ...
    """

    def __init__(self, *args, seq_len: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.seq_len = check_int("seq_len", seq_len, minimum=1)

    def call(self, inputs, *args, **kwargs):
        """Check the length, then run the graph."""
        return super().call(transformer.check_length(inputs, self.seq_len), *args, **kwargs)

    def predict(self, x, *args, **kwargs):
        """``keras.Model.predict``, after checking the length of ``x``."""
        return super().predict(transformer.check_length(x, self.seq_len), *args, **kwargs)

    def predict_on_batch(self, x):
        """``keras.Model.predict_on_batch``, after checking the length of ``x``."""
        return super().predict_on_batch(transformer.check_length(x, self.seq_len))

    def evaluate(self, x=None, *args, **kwargs):
        """``keras.Model.evaluate``, after checking the length of ``x``."""
        return super().evaluate(transformer.check_length(x, self.seq_len), *args, **kwargs)

    def test_on_batch(self, x, *args, **kwargs):
        """``keras.Model.test_on_batch``, after checking the length of ``x``."""
        return super().test_on_batch(transformer.check_length(x, self.seq_len), *args, **kwargs)

    def fit(self, x=None, *args, **kwargs):
        """``keras.Model.fit``, after checking the length of ``x``."""
        return super().fit(transformer.check_length(x, self.seq_len), *args, **kwargs)

    def train_on_batch(self, x, *args, **kwargs):
        """``keras.Model.train_on_batch``, after checking the length of ``x``."""
        return super().train_on_batch(transformer.check_length(x, self.seq_len), *args, **kwargs)

    def get_config(self):
        """The functional graph's config plus ``seq_len``, for saving."""
        return {**super().get_config(), "seq_len": self.seq_len}


def context_window(model: keras.Model) -> int | None:
    """The longest input ``model`` reads (a GPT's ``seq_len``), or ``None`` for no limit.

    A recurrent model reads any length; a :class:`WindowedLM` at most its ``seq_len``.

    Example:
        >>> context_window(gpt_lm(10, seq_len=8, d_model=8, num_heads=2, layers=1))
        8
        >>> context_window(recurrent_lm(10, units=4)) is None
        True
    """
    return getattr(model, "seq_len", None)


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
            dropout is *locked* (Merity et al., 2018): one mask per sequence, the same at
            every time step, on the inputs of each recurrent layer and the last one's output
            only; the recurrent connections are never dropped (that would be Gal &
            Ghahramani's variational dropout, Keras's ``recurrent_dropout``).
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
    vocab_size = check_int("vocab_size", vocab_size, minimum=1)
    units = check_int("units", units, minimum=1)
    layers = check_int("layers", layers, minimum=1)
    embedding_dim = units if embedding_dim is None else check_int("embedding_dim", embedding_dim, minimum=1)
    dropout = check_rate("dropout", dropout)
    if stateful_batch_size is not None:
        stateful_batch_size = check_int("stateful_batch_size", stateful_batch_size, minimum=1)
        inputs = keras.Input(batch_shape=(stateful_batch_size, None), dtype="int32", name="ids")
    else:
        inputs = keras.Input(shape=(None,), dtype="int32", name="ids")
    # Keras's ReversibleEmbedding (keras-hub's layer of that name is the same class): called
    # with reverse=True it maps hidden states to logits, with the same matrix when tied.
    # Its logits are computed in float32 under any dtype policy (chapter 6's mixed precision).
    embedding = keras.layers.ReversibleEmbedding(vocab_size, embedding_dim, tie_weights=tie_embeddings,
                                                 reverse_dtype="float32", name="embedding")
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


def logits(model: keras.Model, ids: np.ndarray) -> np.ndarray:
    """``model``'s logits for ``ids`` ``(B, T)``, as a NumPy array, from a compiled call.

    ``predict_on_batch`` runs the model as a compiled function, traced once per input shape:
    a recurrent layer's loop over time steps is then ten times faster than in an eager call,
    and a GPT's forward pass several times.  Under JAX that compiled step is a pure function
    that does not keep a stateful layer's new state, so a stateful model is called directly
    there.  :mod:`lmbook.perplexity` and :mod:`lmbook.generate` call the model through it.

    Example:
        >>> logits(recurrent_lm(5, "gru", units=4), np.zeros((2, 3), "int32")).shape
        (2, 3, 5)
    """
    ids = np.asarray(ids).astype("int32")
    stateful = any(getattr(layer, "stateful", False) for layer in model.layers)
    if stateful and keras.backend.backend() != "tensorflow":
        return keras.ops.convert_to_numpy(model(ids, training=False))
    return keras.ops.convert_to_numpy(model.predict_on_batch(ids))


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
    The model is a :class:`WindowedLM` of window ``seq_len``: fed more than
    ``seq_len`` tokens, it raises a ``ValueError`` (crop the context to the last
    ``seq_len`` tokens, as :func:`lmbook.generate.generate` does).

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
        >>> gpt_lm(**small).predict(keras.ops.zeros((1, 17), "int32"))    # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        ValueError: got a sequence of length 17, longer than seq_len=16 ...
    """
    vocab_size = check_int("vocab_size", vocab_size, minimum=1)
    seq_len = check_int("seq_len", seq_len, minimum=1)
    d_model = check_int("d_model", d_model, minimum=1)
    num_heads = check_int("num_heads", num_heads, minimum=1)
    layers = check_int("layers", layers, minimum=1)
    if d_model % num_heads:
        raise ValueError(f"num_heads ({num_heads}) must divide d_model ({d_model})")
    dropout = check_rate("dropout", dropout)
    if layers_from not in ("lmbook", "keras_hub"):
        raise ValueError(f"layers_from must be 'lmbook' or 'keras_hub', got {layers_from!r}")
    inputs = keras.Input(shape=(None,), dtype="int32", name="ids")
    if layers_from == "lmbook":
        embedding = transformer.TokenAndPositionEmbedding(vocab_size, seq_len, d_model, name="embedding")
        blocks = [transformer.DecoderBlock(num_heads, 4 * d_model, dropout, name=f"block_{i}")
                  for i in range(layers)]
    else:
        import keras_hub  # only here: it loads TensorFlow when that is installed

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
    return WindowedLM(inputs, logits, seq_len=seq_len, name=name or "gpt_lm")
