"""Presets: small models trained once by this repository's own command, loaded by name.

Taught in chapter 3 (``notebooks/03_rnn_lstm.ipynb``) and chapter 4
(``notebooks/04_transformers.ipynb``), which train quick models for real and then load the
presets to show what longer training gives; chapter 8 (``notebooks/08_pretraining_finetuning.ipynb``)
fine-tunes the masked-LM encoder ``peoples-daily-bert``.

A preset is a recipe from :mod:`lmbook.recipes`, trained by::

    python -m lmbook.presets build peoples-daily-gru     # resumable: run it again after a stop
    python -m lmbook.presets list                        # the presets and their figures

It is stored as two files in ``lmbook/pretrained/``: the weights and vocabulary
(``<name>.npz``, float16 where that changes the validation loss by less than 1e-3) and its
**card** (``<name>.json``): the recipe, the tokens seen, the device, the wall time, the
commit, the losses and the weights' SHA-256.  :func:`load` checks the hash before it
trusts the weights.  An installed package (Colab) has the cards but not the weights; it
fetches them from the repository at the package's version tag through
:mod:`lmbook.data`'s registry, hash-checked.

Training them, resumably, and writing their cards is the maintainer's side:
:mod:`lmbook.preset_training`, run by this module's command line.

Example:
    >>> sorted(PRESETS)
    ['peoples-daily-bert', 'peoples-daily-gpt', 'peoples-daily-gru', 'shakespeare-gpt', 'shakespeare-lstm']
    >>> preset = load("peoples-daily-gru")                 # doctest: +SKIP
    >>> preset.vocabulary.decode(preset.generate("人民", 10, seed=0))   # doctest: +SKIP
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np

from lmbook import __version__, data, results
from lmbook.notebook import fill
from lmbook.recipes import LanguageModelRecipe, recipe

__all__ = ["PRESETS", "VALIDATION_FILE", "Preset", "PresetFileError", "against_ngram", "card", "load",
           "table", "train", "validation_row"]

#: The presets, by name: the recipe each is trained with.
PRESETS: dict[str, LanguageModelRecipe] = {
    "shakespeare-gpt": recipe("gpt", "tiny_shakespeare", "preset"),
    "shakespeare-lstm": recipe("lstm", "tiny_shakespeare", "preset"),
    "peoples-daily-gru": recipe("gru", "peoples_daily", "preset"),
    "peoples-daily-gpt": recipe("gpt", "peoples_daily", "preset"),
    "peoples-daily-bert": recipe("bert", "peoples_daily", "preset"),
}

#: The slice a test re-scores in seconds: the first characters of the validation stream.
SLICE_CHARS = 2000
#: Random blocks in the nanoGPT protocol (nanoGPT averages 200 batches of its batch size).
NANOGPT_BLOCKS = 1024
PRETRAINED = Path(__file__).parent / "pretrained"
REPOSITORY = "https://raw.githubusercontent.com/lmbook/lmbook"
#: The environment variable that replaces the weights' base URL (a mirror, or a local server).
PRESETS_URL = "LMBOOK_PRESETS_URL"


class PresetFileError(RuntimeError):
    """A preset's weights are missing, or do not match the hash on its card."""


def _check_name(name: str) -> LanguageModelRecipe:
    if name not in PRESETS:
        raise KeyError(f"unknown preset {name!r}; known presets: {', '.join(sorted(PRESETS))}")
    return PRESETS[name]


def card(name: str) -> dict:
    """The card of preset ``name`` (its JSON file), or raise if it has not been built.

    Example:
        >>> card("peoples-daily-gru")["recipe"]["cell"]      # doctest: +SKIP
        'gru'
    """
    _check_name(name)
    path = PRETRAINED / f"{name}.json"
    if not path.is_file():
        raise PresetFileError(f"preset {name!r} has no card at {path}: it has not been built; "
                              f"build it with: python -m lmbook.presets build {name}")
    return json.loads(path.read_text(encoding="utf-8"))


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _release_url(name: str, file_name: str) -> str:
    """Where preset ``name``'s file is downloaded from: ``$LMBOOK_PRESETS_URL/FILE`` if that is
    set, else the published repository's folder at this package's version tag."""
    base = os.environ.get(PRESETS_URL) or f"{REPOSITORY}/v{__version__}/lmbook/pretrained"
    return f"{base.rstrip('/')}/{file_name}"


def _weights_path(name: str, info: dict) -> Path:
    """The local weights file of ``name``, checked against the card's hash; fetched if absent."""
    path = PRETRAINED / info["weights"]["file"]
    expected = info["weights"]["sha256"]
    if path.is_file():
        if _sha256(path) != expected:
            raise PresetFileError(f"{path} does not match the SHA-256 on the card of {name!r} "
                                  f"(corrupted or truncated): delete it, or restore it from the "
                                  f"repository (git checkout -- {path.name})")
        return path
    # An installed package: the cards ship with it, the weights are fetched by hash.
    key = f"preset-{name}"
    data.REGISTRY[key] = data.RemoteFile(folder="presets", file_name=path.name, sha256=expected,
                                         url=_release_url(name, path.name))
    try:
        return data.fetch(key)
    except data.DatasetUnavailableError as err:
        raise PresetFileError(f"the weights of preset {name!r} are not in {PRETRAINED} and could not "
                              f"be downloaded: {err}") from err


@dataclass
class Preset:
    """A loaded preset: the Keras ``model``, its ``vocabulary`` and its ``card``.

    ``model`` takes any batch and length (a recurrent model) or at most its window (a GPT),
    and :meth:`generate` samples from it.  :meth:`cross_entropy` scores a text as the card
    does: a GPT in overlapping windows (:func:`lmbook.perplexity.stream_cross_entropy`), a
    recurrent model in one pass with its state carried through the whole text.  An encoder
    (``peoples-daily-bert``) is a masked LM instead: :meth:`masked_scores` and
    :meth:`fill_mask`; :meth:`score` is the card's headline loss for either kind.
    """

    name: str
    model: object
    vocabulary: object
    card: dict
    recipe: LanguageModelRecipe

    def _causal(self, method: str) -> None:
        """Refuse ``method``, which only a causal LM has, on an encoder."""
        if not self.recipe.causal:
            raise TypeError(f"{self.name} is a masked LM (an encoder), it has no {method}(): "
                            f"use masked_scores() or fill_mask()")

    def _masked(self, method: str) -> None:
        """Refuse ``method``, which only a masked LM has, on a causal LM."""
        if self.recipe.causal:
            raise TypeError(f"{self.name} is a causal LM, it has no {method}(): "
                            f"use cross_entropy() or generate()")

    def score(self, text: str) -> float:
        """The card's loss of ``text``: :meth:`cross_entropy`, or an encoder's masked-token loss."""
        return self.cross_entropy(text) if self.recipe.causal else self.masked_scores(text)["loss"]

    def masked_scores(self, text: str) -> dict:
        """An encoder's masked-token loss, accuracy and perplexity on ``text``, masked with seed 0
        (:func:`lmbook.masked_lm.evaluate`); the text is folded first (the recipe's ``prepare``)."""
        from lmbook.masked_lm import evaluate

        self._masked("masked_scores")
        spec = self.recipe
        return evaluate(self.model, self.vocabulary.encode(spec.prepare(text)), spec.seq_len, spec.mask_rate,
                        spec.max_predictions)

    def fill_mask(self, text: str, top_k: int = 5) -> list[list[tuple[str, float]]]:
        """An encoder's ``top_k`` guesses at each ``<mask>`` of ``text``: :func:`lmbook.masked_lm.fill_mask`.

        The text is folded first (the recipe's ``prepare``)."""
        from lmbook.masked_lm import MASK, fill_mask

        self._masked("fill_mask")
        return fill_mask(self.model, self.vocabulary, self.recipe.prepare(text.replace("＿", MASK)), top_k)

    def losses(self, text: str) -> np.ndarray:
        """The loss (nats) of each character of ``text[1:]``, given the text before it that fits."""
        self._causal("losses")
        with _float32():
            return self.recipe.stream_losses(self.model, self.vocabulary.encode(text))

    def cross_entropy(self, text: str) -> float:
        """Nats per character of ``text[1:]``: the mean of :meth:`losses`."""
        return float(self.losses(text).mean())

    def nanogpt_loss(self, text: str) -> float:
        """nanoGPT's protocol on ``text``: :data:`NANOGPT_BLOCKS` random blocks, each read cold
        (:func:`lmbook.perplexity.block_cross_entropy`), as long as a GPT's window, or 256
        characters (nanoGPT's) for a recurrent model."""
        from lmbook.perplexity import block_cross_entropy

        self._causal("nanogpt_loss")
        return block_cross_entropy(self.model, self.vocabulary.encode(text), self.recipe.nanogpt_seq_len,
                                   NANOGPT_BLOCKS)

    def generate(self, prompt: str, max_new_tokens: int, **sampling) -> np.ndarray:
        """Continue ``prompt``; ``sampling`` as :func:`lmbook.generate.generate` takes it.

        A recurrent preset generates statefully: each step reads one new character."""
        from lmbook.generate import generate

        self._causal("generate")
        with _float32():
            model = self.recipe.reader(self.model)
        return generate(model, self.vocabulary.encode(prompt), max_new_tokens, **sampling)


@contextmanager
def _float32():
    """Build models in float32 whatever the global dtype policy (a notebook may have set
    ``mixed_bfloat16``): a preset computes as its card was measured."""
    policy = keras.mixed_precision.dtype_policy()
    keras.mixed_precision.set_global_policy("float32")
    try:
        yield
    finally:
        keras.mixed_precision.set_global_policy(policy)


def _restore(spec, arrays) -> tuple:
    """The model and vocabulary stored in ``arrays`` (an ``.npz``)."""
    from lmbook.text import Vocabulary

    vocabulary = Vocabulary(list(arrays["vocabulary"]))
    with _float32():
        model = spec.model(len(vocabulary))
    weights = [arrays[f"w{i:03d}"].astype("float32") for i in range(len(model.weights))]
    model.set_weights(weights)
    return model, vocabulary


def load(name: str) -> Preset:
    """Load preset ``name``: its model, vocabulary and card, the weights checked by hash.

    Works offline from a checkout; an installed package fetches the weights once.

    Raises:
        KeyError: an unknown name (the message lists the known ones).
        PresetFileError: no card (not built), a weights file that fails its hash, or
            weights neither here nor downloadable (the message says where to put them).

    Example:
        >>> load("peoples-daily-gpt").model.seq_len       # doctest: +SKIP
        128
    """
    spec = _check_name(name)
    info = card(name)
    with np.load(_weights_path(name, info), allow_pickle=False) as arrays:
        model, vocabulary = _restore(spec, arrays)
    return Preset(name, model, vocabulary, info, spec)


def against_ngram(name: str, order: int, smoothing: str = "mkn") -> dict:
    """Preset ``name`` against an n-gram of its training text, on the same validation stream.

    Returns the two mean losses (nats per character) and their difference (preset minus
    n-gram) with a bootstrap 95% interval over 64 contiguous blocks
    (:func:`lmbook.significance.stream_difference`): a negative interval means the preset wins;
    and the preset's per-character ``losses``.

    Example:
        >>> row = against_ngram("peoples-daily-gpt", order=6)     # doctest: +SKIP
        >>> row["difference"].high < 0                             # doctest: +SKIP
        True
    """
    from lmbook import ngram
    from lmbook.significance import stream_difference

    preset = load(name)
    train, validation = (data.character_stream(preset.recipe.corpus, s) for s in ("train", "validation"))
    ours = preset.losses(validation)
    theirs = ngram.stream_losses(train, validation, order, smoothing)
    return {"preset": float(ours.mean()), "ngram": float(theirs.mean()),
            "difference": stream_difference(ours, theirs), "losses": ours}


#: The result file of every causal preset's validation losses, in blocks (``benchmarks/presets.py``).
VALIDATION_FILE = "presets-validation.json"


def validation_row(name: str) -> dict:
    """Preset ``name``'s losses on the whole validation stream, as block sums
    (:func:`lmbook.significance.stream_row`), from the result file that
    ``python benchmarks/presets.py`` writes (:mod:`lmbook.results`).

    Scoring a preset on the whole stream takes a CPU minute or more; chapters 3 and 4 read
    this row instead, re-score the card's slice live, and pair the row's block sums with an
    n-gram's on the same blocks (:func:`lmbook.significance.block_difference`).  A test ties
    the row to the card's validation loss.

    Example:
        >>> row = validation_row("peoples-daily-gru")
        >>> len(row["block_sums"]), row["chars"] == sum(row["block_counts"])
        (64, True)
    """
    _check_name(name)
    rows = results.load(VALIDATION_FILE, "python benchmarks/presets.py")["rows"]
    if name not in rows:
        raise KeyError(f"preset {name!r} has no row in {VALIDATION_FILE} (a masked LM has none); "
                       f"rows: {', '.join(sorted(rows))}")
    return rows[name]


def table() -> str:
    """The presets and their figures, one line each, then the machines that trained them
    (``python -m lmbook.presets list``); lines of at most :data:`lmbook.notebook.WIDTH` characters.

    Example:
        >>> print(table())                                  # doctest: +SKIP
    """
    rows = [f"{'preset':<19}{'params':>7}{'tokens':>8}{'hours':>6}{'val':>8}{'nanoGPT':>9}{'test':>8}"]
    devices: dict[str, list[str]] = {}
    for name in sorted(PRESETS):
        try:
            info = card(name)
        except PresetFileError:
            rows.append(f"{name:<19} not built: python -m lmbook.presets build NAME")
            continue
        val, test = info["loss"]["validation"], info["loss"]["test"]
        key = "masked" if "masked" in val else "stream"
        nanogpt = f"{val['nanogpt']:>9.4f}" if "nanogpt" in val else f"{'-':>9}"
        rows.append(f"{name:<19}{info['parameters'] / 1e6:>6.2f}M{info['tokens'] / 1e6:>7.1f}M"
                    f"{info['wall_time_s'] / 3600:>6.2f}{val[key]:>8.4f}{nanogpt}{test[key]:>8.4f}")
        devices.setdefault(info["device"]["device_name"], []).append(name)
    rows.append("losses in nats/char; an encoder's is its masked-token loss; nanoGPT: its\n"
                "random-block protocol on the validation split")
    rows += [fill(f"trained on {device}: {', '.join(names)}", indent="  ")
             for device, names in devices.items()]
    return "\n".join(rows)


def train(name: str, save_every: int = 100, threads: int | None = None) -> dict:
    """Train preset ``name`` from its recipe and write its weights and card: a maintainer's job,
    done by :func:`lmbook.preset_training.train` (see there; ``python -m lmbook.presets build NAME``).

    Example:
        >>> train("peoples-daily-gru")                         # doctest: +SKIP
    """
    from lmbook import preset_training

    return preset_training.train(name, save_every, threads)


if __name__ == "__main__":
    from lmbook.preset_training import main

    sys.exit(main())
