"""Benchmark Chinese word segmentation on People's Daily: lmbook's segmenter against jieba.

Usage::

    python benchmarks/segmentation.py --mode quick      # trains in under 4 minutes on a 2-core CPU
    python benchmarks/segmentation.py --mode full
    python benchmarks/segmentation.py --dictionary jieba   # the open-track experiment

Trains :func:`lmbook.segmenter.train_segmenter` on the training split of
:func:`lmbook.data.peoples_daily_words`, then segments the validation split with it and
with jieba's default mode (precise, with its HMM for unknown words).  By default the
segmenter is a SIGHAN closed-track system (the training split and nothing else);
``--dictionary jieba`` adds the open-track feature built from jieba's dictionary, which was
counted partly from the 1998 People's Daily corpus itself (see
:func:`lmbook.segmenter.jieba_words`).  jieba gets the same normalised input as the
segmenter (:func:`lmbook.segment.segment_folded`), so full-width digits do not handicap it.

Both are timed in batch on this CPU, in one process: a first, cold pass of each, then
``--rounds`` rounds of one pass each, alternating so that both meet the same machine load;
the median warm speed of each counts.  Word F1 and OOV recall come from
:func:`lmbook.segment.evaluate_segmentation` (OOV = not in the training split's words).  The
last line reads ``f1=<x> oov_recall=<x> kb_per_s=<x> jieba_f1=<x> jieba_oov_recall=<x> jieba_kb_per_s=<x>``.
"""

from __future__ import annotations

import argparse
import logging
import statistics
import time

import _local  # noqa: F401  (this tree's lmbook, the local data copy)

from lmbook import data
from lmbook.segment import evaluate_segmentation, segment_folded
from lmbook.segmenter import jieba_words, train_segmenter


def timed(segment, texts):
    """``(segmentation, KB/s)`` of ``segment(texts)``, in UTF-8 kilobytes per second.

    Example:
        >>> words, speed = timed(lambda ts: [list(t) for t in ts], ["北京"])
        >>> words, speed > 0
        ([['北', '京']], True)
    """
    start = time.perf_counter()
    result = segment(texts)
    return result, sum(len(t.encode("utf-8")) for t in texts) / 1024 / (time.perf_counter() - start)


def alternate(segmenters: dict, texts: list[str], rounds: int) -> tuple[dict, dict, dict]:
    """Time each segmenter once cold, then ``rounds`` times warm, alternating between them.

    Returns ``(outputs, cold, warm)``: each one's output of its first warm pass, its cold
    speed and its median warm speed (KB/s).

    Example:
        >>> out, cold, warm = alternate({"chars": lambda ts: [list(t) for t in ts]}, ["北京"], rounds=3)
        >>> out["chars"], sorted(warm)
        ([['北', '京']], ['chars'])
    """
    cold = {name: timed(segment, texts)[1] for name, segment in segmenters.items()}
    passes = [{name: timed(segment, texts) for name, segment in segmenters.items()} for _ in range(rounds)]
    outputs = {name: passes[0][name][0] for name in segmenters}
    warm = {name: statistics.median(p[name][1] for p in passes) for name in segmenters}
    return outputs, cold, warm


def parse_args(argv=None) -> argparse.Namespace:
    """The command line: ``--mode``, ``--seed``, ``--steps``, ``--rounds``, ``--dictionary``."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mode", choices=("quick", "full"), default="quick")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--steps", type=int, default=None, help="override the mode's training steps")
    parser.add_argument("--rounds", type=int, default=5, help="warm timing rounds (median counts)")
    parser.add_argument("--dictionary", choices=("none", "jieba"), default="none",
                        help="none: closed track (default); jieba: the open-track dictionary feature")
    args = parser.parse_args(argv)
    if args.rounds < 1:
        parser.error(f"--rounds must be at least 1, got {args.rounds}")
    if args.steps is not None and args.steps < 1:
        parser.error(f"--steps must be at least 1, got {args.steps}")
    return args


def main(argv=None) -> dict:
    """Train, segment, evaluate, print the summary line; return the figures."""
    args = parse_args(argv)
    import jieba

    train = data.peoples_daily_words("train")
    gold = data.peoples_daily_words("validation")
    texts = ["".join(words) for words in gold]
    vocab = {w for s in train for w in s}

    start = time.perf_counter()
    segmenter = train_segmenter(train, mode=args.mode, seed=args.seed, steps=args.steps, verbose=2,
                                dictionary=jieba_words() if args.dictionary == "jieba" else None)
    train_s = time.perf_counter() - start
    # Warm passes count: jieba has loaded its dictionary and the tagger's compiled functions
    # exist.  The cold first pass is printed too.
    jieba.setLogLevel(logging.WARNING)
    jieba.initialize()
    segmenters = {"lmbook": segmenter.segment,
                  "jieba": lambda ts: segment_folded(lambda ns: [jieba.lcut(t) for t in ns], ts)}
    outputs, cold, warm = alternate(segmenters, texts, args.rounds)
    print(f"{len(train):,} training and {len(gold):,} validation sentences; trained in {train_s:.0f} s "
          f"(mode {args.mode}, seed {args.seed}, dictionary {args.dictionary})")
    scores = {name: evaluate_segmentation(gold, outputs[name], vocab) for name in segmenters}
    for name, m in scores.items():
        print(f"{name:<7} P {m['precision']:.4f}  R {m['recall']:.4f}  F1 {m['f1']:.4f}  "
              f"OOV recall {m['oov_recall']:.4f}  cold {cold[name]:,.0f} KB/s, "
              f"median of {args.rounds} warm passes {warm[name]:,.0f} KB/s")
    r, j = scores["lmbook"], scores["jieba"]
    print(f"f1={r['f1']:.4f} oov_recall={r['oov_recall']:.4f} kb_per_s={warm['lmbook']:.1f} "
          f"jieba_f1={j['f1']:.4f} jieba_oov_recall={j['oov_recall']:.4f} jieba_kb_per_s={warm['jieba']:.1f}")
    return {"f1": r["f1"], "oov_recall": r["oov_recall"], "kb_per_s": warm["lmbook"], "train_s": train_s,
            "jieba_f1": j["f1"], "jieba_oov_recall": j["oov_recall"], "jieba_kb_per_s": warm["jieba"]}


if __name__ == "__main__":
    main()
