"""Check each built preset against its bar: the MKN n-gram on the same validation stream.

Usage::

    python benchmarks/presets.py                      # every built preset
    python benchmarks/presets.py peoples-daily-gru    # one

Every figure is measured here, from ``lmbook.presets.load`` and the validation text, never
taken from a training log or a card.  A preset *beats* the n-gram when the mean per-character
difference (preset − n-gram, nats) has a bootstrap 95% interval, over 64 contiguous blocks
of the validation stream (:func:`lmbook.evaluation.stream_difference`), that lies below
zero; People's Daily's bar also asks for a difference of at most −0.15 nats.  The goals
(nanoGPT's protocol, 0.75 × the n-gram's perplexity) are reported beside the bars.
Run on every preset, it also writes each one's validation losses as block sums to
``lmbook/results/presets-validation.json`` (:func:`lmbook.presets.validation_row`), with its
command, commit and device: chapters 3 and 4 read them.
The last line reads ``presets_checked=<n> bars_met=<m>``.
"""

from __future__ import annotations

import argparse
import math
import time
from dataclasses import dataclass

import _local  # noqa: F401  (this tree's lmbook, the local data copy)

from lmbook import data, presets, results
from lmbook.provenance import environment_info, git_commit
from lmbook.significance import stream_row


@dataclass(frozen=True)
class Bar:
    """What a preset must reach on the validation stream, and its goals."""

    order: int                     # the MKN n-gram it is compared with
    margin: float                  # the point difference must be at most -margin nats
    nanogpt_goal: float | None     # nanoGPT's protocol (its split for Tiny Shakespeare)


BARS = {
    "shakespeare-gpt": Bar(order=7, margin=0.0, nanogpt_goal=1.47),   # nanoGPT's baby GPT: 1.4697
    "shakespeare-lstm": Bar(order=7, margin=0.0, nanogpt_goal=1.50),
    "peoples-daily-gpt": Bar(order=6, margin=0.15, nanogpt_goal=None),
    "peoples-daily-gru": Bar(order=6, margin=0.15, nanogpt_goal=None),
}   # peoples-daily-bert, a masked LM, has no next-character bar: chapter 8's fine-tuning is its test


def check(name: str, rows: dict) -> bool:
    """Measure preset ``name`` against the n-gram; print the figures; return whether the bar is met.
    The preset's validation row (:func:`lmbook.significance.stream_row`) goes into ``rows``."""
    bar = BARS[name]
    row = presets.against_ngram(name, bar.order)
    text = data.character_stream(presets.PRESETS[name].corpus, "validation")
    rows[name] = stream_row(name, row["losses"], text)
    diff = row["difference"]
    met = diff.high < 0 and diff.estimate <= -bar.margin
    moonshot = row["preset"] <= row["ngram"] + math.log(0.75)
    print(f"{name}: {row['preset']:.4f} nats/char against the MKN {bar.order}-gram's {row['ngram']:.4f}; "
          f"difference {diff.estimate:+.4f} [{diff.low:+.4f}, {diff.high:+.4f}] "
          f"-> bar {'met' if met else 'MISSED'} (needs < 0 and <= {-bar.margin:+.2f}); "
          f"0.75 x the n-gram's perplexity: {'reached' if moonshot else 'not reached'}")
    if bar.nanogpt_goal is not None:
        text = data.character_stream("tiny_shakespeare", data.NANOGPT_VALIDATION)
        figure = presets.load(name).nanogpt_loss(text)
        print(f"  nanoGPT's protocol on its split: {figure:.4f}; goal <= {bar.nanogpt_goal}: "
              f"{'reached' if figure <= bar.nanogpt_goal else 'not reached'}")
    return met


def main(argv=None) -> int:
    """Check the named presets (default: every built one); return how many met their bar."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("names", nargs="*", metavar="NAME", help=f"one of {', '.join(sorted(BARS))}")
    names = parser.parse_args(argv).names
    unknown = sorted(set(names) - set(BARS))
    if unknown:
        parser.error(f"unknown preset {', '.join(unknown)}; known: {', '.join(sorted(BARS))}")
    everyone = not names
    names = names or [n for n in sorted(BARS) if (presets.PRETRAINED / f"{n}.json").is_file()]
    start, rows = time.perf_counter(), {}
    met = sum(check(name, rows) for name in names)
    if everyone:
        path = results.write(presets.VALIDATION_FILE, {
            "command": "python benchmarks/presets.py", "commit": git_commit(),
            "environment": environment_info(), "split": "validation",
            "wall_s": round(time.perf_counter() - start, 1), "rows": rows})
        print(f"wrote {path}")
    print(f"presets_checked={len(names)} bars_met={met}")
    return met


if __name__ == "__main__":
    main()
