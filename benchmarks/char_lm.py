"""Benchmark a character LM on Tiny Shakespeare: validation nats/char and training time.

Usage::

    python benchmarks/char_lm.py --model lstm --mode quick      # 2-core CPU, <= 4 min training
    KERAS_BACKEND=jax python benchmarks/char_lm.py --model lstm --mode full

The figure is the validation cross-entropy in nats per character on nanoGPT's split
(first 90% of characters train, the rest validate), over the whole validation stream,
newlines included (:func:`lmbook.metrics.stream_cross_entropy`, with windows as long as the
training sequences, so every character is scored with at least half a window of context).  The last line reads
``val_loss_nats=<x> train_s=<seconds> device=<name>``.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the lmbook of this source tree
SHARED_DATA = ROOT.parent / "shared" / "data"
if "LMBOOK_DATA_DIR" not in os.environ and SHARED_DATA.is_dir():
    os.environ["LMBOOK_DATA_DIR"] = str(SHARED_DATA)  # a local copy: no download
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402

from lmbook import data  # noqa: E402
from lmbook.config import Settings, accelerator  # noqa: E402
from lmbook.metrics import stream_cross_entropy  # noqa: E402
from lmbook.models import recurrent_lm  # noqa: E402
from lmbook.text import Vocabulary, WindowBatches  # noqa: E402

# Each setting is (quick, full): quick fits 4 minutes of training on a 2-core CPU.
RECURRENT = dict(
    units=(256, 512), layers=(1, 2), embedding_dim=(64, 128), dropout=(0.0, 0.2),
    batch_size=(128, 64), seq_len=(64, 256), steps=(1300, 12000), peak_lr=(6e-3, 2e-3),
)


def build(model: str, vocab_size: int, s: Settings) -> keras.Model:
    """The model named ``model``, sized by the settings ``s``."""
    return recurrent_lm(vocab_size, model, units=s.units, layers=s.layers,
                        embedding_dim=s.embedding_dim, dropout=s.dropout)


def main(argv=None) -> float:
    """Train, evaluate on the validation stream, print the summary line; return the loss."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", choices=("lstm", "gru", "rnn"), default="lstm")
    parser.add_argument("--mode", choices=("quick", "full"), default="quick")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    s = Settings(mode=args.mode, **RECURRENT)
    keras.utils.set_random_seed(args.seed)

    train_text, val_text = (data.load_tiny_shakespeare(split) for split in ("train", "validation"))
    vocab = Vocabulary.from_tokens(train_text)
    train_ids, val_ids = vocab.encode(train_text), vocab.encode(val_text)
    model = build(args.model, len(vocab), s)
    schedule = keras.optimizers.schedules.CosineDecay(
        s.peak_lr / 10, decay_steps=s.steps, alpha=0.05, warmup_target=s.peak_lr,
        warmup_steps=max(1, s.steps // 25))
    model.compile(optimizer=keras.optimizers.Adam(schedule, clipnorm=1.0),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  jit_compile=True)
    print(f"{args.model}, mode {args.mode}, backend {keras.backend.backend()}, "
          f"{model.count_params():,} parameters\n{s}")

    epochs = 10
    batches = WindowBatches(train_ids, s.batch_size, s.seq_len, steps=s.steps // epochs,
                            seed=args.seed)
    start = time.perf_counter()
    model.fit(batches, epochs=epochs, verbose=2)
    train_s = time.perf_counter() - start
    # Score with windows as long as the training sequences: the model has never run longer.
    loss = stream_cross_entropy(model, val_ids, context=s.seq_len)
    tokens = s.steps // epochs * epochs * s.batch_size * s.seq_len
    print(f"trained on {tokens:,} tokens in {train_s:.0f} s ({tokens / train_s:,.0f} tokens/s)")
    device = accelerator() or "cpu"
    print(f"val_loss_nats={loss:.4f} train_s={train_s:.1f} device={device}")
    return loss


if __name__ == "__main__":
    main()
