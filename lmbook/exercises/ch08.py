"""Exercises of chapter 8, "Pre-training and fine-tuning" (``notebooks/08_pretraining_finetuning.ipynb``).

Every expected value is computed from the question's own numbers.

Example:
    >>> from lmbook.exercises.ch08 import q1
    >>> q1.check(None)
    ⬜ q1: not answered yet — set your answer and run this cell again.
"""

from __future__ import annotations

from lmbook.exercises import Exercise, expect_equal, expect_number

__all__ = ["CURVE", "ENTITY_TEXT", "FREEZE", "SPANS", "q1", "q2", "q3", "q4", "q5"]

_ROWS, _LEN, _RATE = 32, 128, 0.15
_masked = _ROWS * _LEN * _RATE * 0.8
_exact = _ROWS * round(_LEN * _RATE) * 0.8          # BERT's script: round(0.15 · 128) = 19 per window
q1 = Exercise(
    "q1",
    f"A batch holds {_ROWS} windows of {_LEN} ordinary characters. lmbook's coin-flip variant of "
    f"BERT's masking selects each position with probability {_RATE} (BERT's own script selects a fixed "
    "number per window instead) and replaces a selected one by <mask> 80% of the time, by a random "
    "character 10% and keeps it 10%. How many <mask> tokens does the batch hold on average?",
    lambda a: expect_number(
        a,
        _masked,
        wrong=[
            (_exact, "that is BERT's script, which selects exactly round(0.15 · 128) = 19 positions per "
                     "window; the coin flips select 0.15 · 128 = 19.2 on average."),
            (_ROWS * _LEN * _RATE, "that counts every selected position; only 80% of them become <mask>."),
            (_ROWS * _LEN * 0.8, "only 15% of the positions are selected in the first place."),
            (_LEN * _RATE * 0.8, "that is one window; the batch has several."),
        ],
    ),
    hint="positions × selection rate × the share that becomes <mask>.",
    solution=f"{_ROWS} × {_LEN} × {_RATE} × 0.8 = {_masked:g}",
)

_D, _HEADS, _LAYERS, _RANK = 256, 8, 4, 8
_dk = _D // _HEADS
_lora = _LAYERS * 2 * _RANK * (_D * _HEADS + _dk)
q2 = Exercise(
    "q2",
    f"An encoder has {_LAYERS} blocks of width {_D} with {_HEADS} heads; each query and value "
    f"projection is a Keras EinsumDense with kernel shape ({_D}, {_HEADS}, {_dk}). Keras's "
    f"enable_lora(rank) adds A of shape kernel.shape[:-1] + (rank,) and B of shape (rank, "
    f"kernel.shape[-1]). How many parameters do the adapters of rank {_RANK} on every query and "
    "value projection add?",
    lambda a: expect_number(
        a,
        _lora,
        wrong=[
            (_LAYERS * 2 * 2 * _D * _RANK, "that is Hu et al.'s LoRA of the d × d map (d·r + r·d, "
                                           "lmbook's method='lora'); Keras keeps the heads axis in A: "
                                           "(d, heads, r)."),
            (_LAYERS * _RANK * (_D * _HEADS + _dk), "both the query and the value projections get adapters."),
            (2 * _RANK * (_D * _HEADS + _dk), "every block has its own adapters."),
        ],
    ),
    hint="Per projection: d·heads·r (A) + r·d_k (B); two projections per block.",
    solution=f"{_LAYERS} × 2 × {_RANK} × ({_D}·{_HEADS} + {_dk}) = {_lora:,}",
)

ENTITY_TEXT = "江泽民在北京会见新华社记者"
SPANS = [(0, 3, "PER"), (4, 6, "LOC"), (8, 11, "ORG")]
_bio = ["O"] * len(ENTITY_TEXT)
for _start, _end, _kind in SPANS:
    _bio[_start:_end] = [f"B-{_kind}"] + [f"I-{_kind}"] * (_end - _start - 1)
q3 = Exercise(
    "q3",
    f"Write the BIO tags (a list of strings, one per character) of {ENTITY_TEXT!r} with the entity "
    f"spans (start, end, type) {SPANS}.",
    lambda a: expect_equal(
        list(a) if isinstance(a, (list, tuple)) else a,
        _bio,
        wrong=[
            ([t.replace("I-", "B-") for t in _bio], "only an entity's first character is B-; "
                                                    "the rest are I-."),
            ([t.split("-")[0] for t in _bio], "keep the type: B-PER, I-PER, ..."),
        ],
    ),
    hint="B-TYPE at a span's start, I-TYPE inside it, O elsewhere; end is exclusive.",
    solution=str(_bio),
)

#: A made-up data-scarcity curve, shaped like ULMFiT's (not chapter 8's measurements):
#: labelled examples → (pre-trained accuracy, scratch accuracy).
CURVE = {32: (0.70, 0.55), 128: (0.78, 0.60), 256: (0.81, 0.64), 1024: (0.85, 0.74),
         4096: (0.88, 0.82), 13888: (0.90, 0.86)}
_target = CURVE[256][0]
_needed = min((n for n, (_, s) in CURVE.items() if s >= _target), default=None)
_ratio = (_needed / 256) if _needed else float("inf")
q4 = Exercise(
    "q4",
    f"On a made-up curve shaped like ULMFiT's, {CURVE} (labels: (pre-trained, scratch) "
    "accuracy; not this chapter's measurements), how many times more labels "
    "than 256 does scratch need before it matches what the pre-trained model reaches with 256? "
    "Answer the ratio (inf if it never does).",
    lambda a: expect_number(
        a,
        _ratio,
        wrong=[
            (1024 / 256, "at 1024 labels scratch is still below the pre-trained model's 256-label accuracy."),
            (13888 / 256, "scratch catches up before it has every label."),
        ],
    ),
    hint=f"Find the smallest size at which scratch reaches {_target}.",
    solution=f"scratch first reaches {_target} at {_needed} labels: {_ratio:g}×",
)

#: Made-up accuracies (not chapter 8's measurements) of a frozen encoder (head only) and of full
#: fine-tuning, by labelled examples.
FREEZE = {32: (0.66, 0.61), 128: (0.72, 0.73), 1024: (0.78, 0.85), 13888: (0.80, 0.91)}
_frozen_wins = sorted(n for n, (frozen, full) in FREEZE.items() if frozen > full)
q5 = Exercise(
    "q5",
    f"The made-up table {FREEZE} (not this chapter's measurements) gives (frozen, full) test "
    "accuracy by the number of labelled reviews. "
    "At which sizes does freezing the encoder beat full fine-tuning? Answer a list of sizes.",
    lambda a: expect_equal(
        sorted(a) if isinstance(a, (list, tuple, set)) else a,
        _frozen_wins,
        wrong=[(sorted(FREEZE), "only where frozen's accuracy is higher."),
               ([n for n in sorted(FREEZE) if n not in _frozen_wins],
                "upside down: where frozen is higher.")],
    ),
    hint="Few labels cannot pin down millions of weights; a frozen encoder cannot forget what "
         "pre-training taught. Compare the two columns row by row.",
    solution=f"{_frozen_wins}: with so few labels the 4.4M free weights of full fine-tuning fit noise",
)
