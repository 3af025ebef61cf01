"""Benchmark a character LM: validation nats/char and training time.

Usage::

    python benchmarks/char_lm.py --model lstm --mode quick      # 2-core CPU, <= 4 min training
    python benchmarks/char_lm.py --model gpt --corpus peoples_daily
    KERAS_BACKEND=jax python benchmarks/char_lm.py --model gpt --mode full
    python benchmarks/char_lm.py --model gpt --mode full --steps 300   # full mode, as far as a CPU allows
    python benchmarks/char_lm.py --model gru --corpus peoples_daily --set stateful=False --set steps=1000

Models: ``lstm``, ``gru``, ``rnn`` (chapter 3) and ``gpt`` (chapter 4); corpora:
``tiny_shakespeare`` (:func:`lmbook.data.load_tiny_shakespeare`: the first 90% of characters
train, the next 5% validate) and ``peoples_daily`` (:func:`lmbook.data.peoples_daily_stream`:
the sentence split, sentences joined by newlines).  The test split is never read here.
The figure is the cross-entropy in nats per character over the whole validation stream,
newlines included (:func:`lmbook.metrics.stream_cross_entropy`, with windows as long as the
training sequences, so every character is scored with at least half a window of context; a
model trained statefully, with truncated backpropagation through time, reads the stream with
its state carried instead: :func:`lmbook.metrics.stateful_cross_entropy`).
The last line reads
``val_loss_nats=<x> train_s=<seconds> device=<name>``.
"""

from __future__ import annotations

import argparse
import ast
import math

import _local  # noqa: F401  (this tree's lmbook, the local data copy)
import keras

from lmbook import data
from lmbook.config import Settings, accelerator
from lmbook.metrics import stateful_cross_entropy, stream_cross_entropy
from lmbook.models import gpt_lm, recurrent_lm, stateful_batch_size
from lmbook.text import Vocabulary
from lmbook.training import compile_lm, fit_windows

# Each setting is (quick, full): quick fits 4 minutes of training on a 2-core CPU.
RECURRENT = {
    "tiny_shakespeare": dict(
        units=(256, 512), layers=(1, 2), embedding_dim=(64, 128), tie_embeddings=(False, False),
        dropout=(0.0, 0.2), batch_size=(128, 64), seq_len=(64, 256), steps=(1300, 12000),
        peak_lr=(6e-3, 2e-3), weight_decay=(0.0, 0.0), stateful=(False, False)),
    # 4,621 characters: a tied output layer keeps the softmax affordable.  Quick mode trains
    # statefully (truncated BPTT over 64 parallel streams), which lets a 384-unit GRU with
    # locked dropout learn from unbounded context: measured against random windows in
    # chapter 3.  Full mode keeps random 256-character windows until a GPU run compares them.
    "peoples_daily": dict(
        units=(384, 512), layers=(1, 2), embedding_dim=(256, 256), tie_embeddings=(True, True),
        dropout=(0.1, 0.2), batch_size=(64, 64), seq_len=(64, 256), steps=(1100, 12000),
        peak_lr=(1e-2, 2e-3), weight_decay=(0.0, 0.0), stateful=(True, False)),
}
# Quick: nanoGPT's CPU recipe (4 layers, 4 heads, d 128, block 64); full: its "baby GPT"
# (6 layers, 6 heads, d 384, block 256, dropout 0.2, 5,000 steps of 64 sequences).
GPT = dict(
    d_model=(128, 384), num_heads=(4, 6), layers=(4, 6), dropout=(0.0, 0.2),
    batch_size=(32, 64), seq_len=(64, 256), steps=(2000, 5000), peak_lr=(2e-3, 1e-3),
    weight_decay=(0.1, 0.1))
# People's Daily, quick: the 4,621-way softmax costs about as much as the blocks, so two wider
# blocks (d 192) on 32-character windows use four CPU minutes better than nanoGPT's shape
# (measured: 4.086 against 4.235 nats/char; see chapter 4).
SETTINGS = {("gpt", "tiny_shakespeare"): GPT,
            ("gpt", "peoples_daily"): GPT | dict(d_model=(192, 384), layers=(2, 6), seq_len=(32, 256),
                                                 steps=(4000, 5000))} | {
    (cell, corpus): settings for cell in ("lstm", "gru", "rnn") for corpus, settings in RECURRENT.items()}


def load_corpus(corpus: str) -> tuple[str, str]:
    """The (train, validation) character streams of ``corpus``.

    People's Daily sentences are joined by newlines, so each sentence end is one character.
    """
    load = data.load_tiny_shakespeare if corpus == "tiny_shakespeare" else data.peoples_daily_stream
    return load("train"), load("validation")


def build(model: str, vocab_size: int, s: Settings) -> keras.Model:
    """The model named ``model``, sized by the settings ``s``."""
    if model == "gpt":
        return gpt_lm(vocab_size, s.seq_len, s.d_model, s.num_heads, s.layers, s.dropout)
    return recurrent_lm(vocab_size, model, units=s.units, layers=s.layers,
                        embedding_dim=s.embedding_dim, dropout=s.dropout,
                        tie_embeddings=s.tie_embeddings,
                        stateful_batch_size=s.batch_size if s.stateful else None)


def parse_setting(item: str, pairs: dict, parser: argparse.ArgumentParser) -> tuple[str, object]:
    """``"units=384"`` → ``("units", 384)``; exits with a usage error for an unknown name or a bad value.

    Example: ``parse_setting("dropout=0.1", {"dropout": (0.0, 0.2)}, parser)`` gives ``("dropout", 0.1)``.
    """
    name, sep, text = item.partition("=")
    if not sep or name not in pairs:
        parser.error(f"--set expects NAME=VALUE with NAME one of {', '.join(pairs)}; got {item!r}")
    default = pairs[name][0]
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
    parser.add_argument("--corpus", choices=tuple(RECURRENT), default="tiny_shakespeare")
    parser.add_argument("--mode", choices=("quick", "full"), default="quick")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--steps", type=int, default=None,
                        help="train for this many steps instead of the mode's (the learning-rate "
                             "schedule is compressed to fit): full mode's model on a CPU")
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                        help="override one of the model's settings in both modes, e.g. --set units=512 "
                             "(repeatable): for sweeps")
    args = parser.parse_args(argv)
    pairs = SETTINGS[args.model, args.corpus]
    for item in args.set + ([] if args.steps is None else [f"steps={args.steps}"]):  # --steps N: steps=N
        name, value = parse_setting(item, pairs, parser)
        pairs = pairs | {name: (value, value)}
    s = Settings(mode=args.mode, **pairs)
    if s.steps < 10 or s.steps % 10:
        parser.error(f"steps must be a multiple of 10 (training runs in 10 epochs), got {s.steps}")
    keras.utils.set_random_seed(args.seed)

    train_text, val_text = load_corpus(args.corpus)
    vocab = Vocabulary.from_tokens(train_text)
    train_ids, val_ids = vocab.encode(train_text), vocab.encode(val_text)
    model = compile_lm(build(args.model, len(vocab), s), s.steps, s.peak_lr, s.weight_decay,
                       jit_compile=True)
    print(f"{args.model} on {args.corpus}, mode {args.mode}, backend {keras.backend.backend()}, "
          f"{len(vocab):,} symbols, {model.count_params():,} parameters\n{s}")

    _, train_s = fit_windows(model, train_ids, s.steps, s.batch_size, s.seq_len,
                             seed=args.seed, verbose=2)
    if stateful_batch_size(model):   # its state has run on through the whole training stream
        loss = stateful_cross_entropy(model, val_ids)
    else:  # windows as long as the training sequences: the model has never run longer
        loss = stream_cross_entropy(model, val_ids, context=s.seq_len)
    tokens = s.steps * s.batch_size * s.seq_len
    print(f"trained on {tokens:,} tokens in {train_s:.0f} s ({tokens / train_s:,.0f} tokens/s); "
          f"validation perplexity {math.exp(loss):.2f} per character")
    device = accelerator() or "cpu"
    print(f"val_loss_nats={loss:.4f} train_s={train_s:.1f} device={device}")
    return loss


if __name__ == "__main__":
    main()
