"""Benchmark a character LM: validation nats/char and training time.

Usage::

    python benchmarks/char_lm.py --model lstm --mode quick      # 2-core CPU, <= 4 min training
    python benchmarks/char_lm.py --model gpt --corpus peoples_daily
    KERAS_BACKEND=jax python benchmarks/char_lm.py --model gpt --mode full
    python benchmarks/char_lm.py --model gpt --mode full --steps 300   # full mode, as far as a CPU allows
    python benchmarks/char_lm.py --model gru --corpus peoples_daily --set stateful=False --set steps=1000

Every model's settings are its recipe in :mod:`lmbook.recipes` (quick or full); ``--set``
and ``--steps`` make a visible ``dataclasses.replace`` of it.

Models: ``lstm``, ``gru``, ``rnn`` (chapter 3) and ``gpt`` (chapter 4); corpora:
``tiny_shakespeare`` (:func:`lmbook.data.load_tiny_shakespeare`: the first 90% of characters
train, the next 5% validate) and ``peoples_daily`` (:func:`lmbook.data.peoples_daily_stream`:
the sentence split, sentences joined by newlines).  The test split is never read here.
The figure is the cross-entropy in nats per character over the whole validation stream,
newlines included (:func:`lmbook.perplexity.stream_cross_entropy`, with windows as long as the
training sequences, so every character is scored with at least half a window of context; a
model trained statefully, with truncated backpropagation through time, reads the stream with
its state carried instead: :func:`lmbook.perplexity.stateful_cross_entropy`).
The last line reads
``val_loss_nats=<x> train_s=<seconds> device=<name>``.
"""

from __future__ import annotations

import argparse
import ast
import dataclasses
import math

import _local  # noqa: F401  (this tree's lmbook, the local data copy)
import keras

from lmbook import data
from lmbook.config import accelerator
from lmbook.models import stateful_batch_size
from lmbook.perplexity import stateful_cross_entropy, stream_cross_entropy
from lmbook.recipes import CORPORA, RecurrentRecipe, recipe
from lmbook.text import Vocabulary
from lmbook.training import fit_windows

#: The recurrent recipe of each corpus (lmbook.recipes); another cell is a visible replace.
RECURRENT = {"tiny_shakespeare": "lstm", "peoples_daily": "gru"}
#: What ``--set`` may change: every recipe field but the corpus and the seed (their own flags).
FIXED = ("corpus", "seed")


def benchmark_recipe(model: str, corpus: str, mode: str) -> RecurrentRecipe:
    """The recipe the benchmark trains: ``lmbook.recipes``' for ``model``, or the corpus's
    recurrent recipe with its cell replaced (e.g. a GRU on Tiny Shakespeare).

    Example: ``benchmark_recipe("gru", "tiny_shakespeare", "quick").units`` is the LSTM recipe's 256.
    """
    if model == "gpt" or model == RECURRENT[corpus]:
        return recipe(model, corpus, mode)
    return dataclasses.replace(recipe(RECURRENT[corpus], corpus, mode), cell=model)


def parse_setting(item: str, spec, parser: argparse.ArgumentParser) -> tuple[str, object]:
    """``"units=384"`` → ``("units", 384)``; exits with a usage error for an unknown name or a bad value.

    Example: ``parse_setting("dropout=0.1", recipe("gru", "peoples_daily", "quick"), parser)``
    gives ``("dropout", 0.1)``.
    """
    names = [f.name for f in dataclasses.fields(spec) if f.name not in FIXED]
    name, sep, text = item.partition("=")
    if not sep or name not in names:
        parser.error(f"--set expects NAME=VALUE with NAME one of {', '.join(names)}; got {item!r}")
    default = getattr(spec, name)
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError):
        value = None
    if isinstance(default, float) and type(value) is int:
        value = float(value)
    if type(value) is not type(default):
        parser.error(f"--set {name}: expected a value of type {type(default).__name__} "
                     f"(like {default!r}), got {text!r}")
    return name, value


def main(argv=None) -> float:
    """Train, evaluate on the validation stream, print the summary line; return the loss."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", choices=("lstm", "gru", "rnn", "gpt"), default="lstm")
    parser.add_argument("--corpus", choices=CORPORA, default="tiny_shakespeare")
    parser.add_argument("--mode", choices=("quick", "full"), default="quick")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--steps", type=int, default=None,
                        help="train for this many steps instead of the recipe's (the learning-rate "
                             "schedule is compressed to fit): full mode's model on a CPU")
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                        help="override one of the recipe's values, e.g. --set units=512 "
                             "(repeatable): for sweeps")
    args = parser.parse_args(argv)
    spec = benchmark_recipe(args.model, args.corpus, args.mode)
    changes = dict(parse_setting(item, spec, parser)
                   for item in args.set + ([] if args.steps is None else [f"steps={args.steps}"]))
    if changes.get("steps", spec.steps) < 10 or changes.get("steps", spec.steps) % 10:
        parser.error(f"steps must be a multiple of 10 (training runs in 10 epochs), "
                     f"got {changes.get('steps', spec.steps)}")
    spec = dataclasses.replace(spec, seed=args.seed, **changes)
    keras.utils.set_random_seed(spec.seed)

    train_text, val_text = (data.character_stream(args.corpus, split) for split in ("train", "validation"))
    vocab = Vocabulary.from_tokens(train_text)
    train_ids, val_ids = vocab.encode(train_text), vocab.encode(val_text)
    model = spec.compiled(len(vocab), jit_compile=True)
    print(f"{args.model} on {args.corpus}, mode {args.mode}, backend {keras.backend.backend()}, "
          f"{len(vocab):,} symbols, {model.count_params():,} parameters\n{spec}")

    _, train_s = fit_windows(model, train_ids, spec.steps, spec.batch_size, spec.seq_len,
                             seed=spec.seed, verbose=2)
    if stateful_batch_size(model):   # its state has run on through the whole training stream
        loss = stateful_cross_entropy(model, val_ids)
    else:  # windows as long as the training sequences: the model has never run longer
        loss = stream_cross_entropy(model, val_ids, seq_len=spec.seq_len)
    print(f"trained on {spec.tokens:,} tokens in {train_s:.0f} s ({spec.tokens / train_s:,.0f} tokens/s); "
          f"validation perplexity {math.exp(loss):.2f} per character")
    device = accelerator() or "cpu"
    print(f"val_loss_nats={loss:.4f} train_s={train_s:.1f} device={device}")
    return loss


if __name__ == "__main__":
    main()
