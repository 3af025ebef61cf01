"""Exercises of chapter 6, "Parallel training" (``notebooks/06_parallel_training.ipynb``).

Every expected value is computed from the question's own numbers.

Example:
    >>> from lmbook.exercises.ch06 import q1
    >>> q1.check(None)
    ⬜ q1: not answered yet — set your answer and run this cell again.
"""

from __future__ import annotations

from lmbook.exercises import Exercise, expect_number

__all__ = ["GRADIENTS", "q1", "q2", "q3", "q4", "q5"]

# The gradient of one weight on each of four devices, each from an equal share of the batch.
GRADIENTS = (0.5, -1.0, 2.0, 0.3)
_mean = sum(GRADIENTS) / len(GRADIENTS)
q1 = Exercise(
    "q1",
    f"Four data-parallel devices computed the gradients {GRADIENTS} of one weight, each on a quarter "
    "of the batch (the loss is a mean over the batch). After the all-reduce, what gradient does "
    "every device apply?",
    lambda a: expect_number(
        a,
        _mean,
        wrong=[
            (sum(GRADIENTS), "the loss is a mean over the batch: average the shards' gradients, don't sum."),
            (GRADIENTS[0], "that is device 0's own gradient; the all-reduce combines all four."),
        ],
    ),
    hint="Each shard's gradient is the mean over its quarter; the batch mean is the mean of the four.",
    solution=f"({' + '.join(map(str, GRADIENTS))}) / 4 = {_mean:.4f}",
)

_P, _M = 4, 8
_bubble = (_P - 1) / (_M + _P - 1)
q2 = Exercise(
    "q2",
    f"A GPipe pipeline has {_P} stages and splits each batch into {_M} micro-batches. "
    "What fraction of the whole schedule's time is a device idle (the bubble)?",
    lambda a: expect_number(
        a,
        _bubble,
        wrong=[
            ((_P - 1) / _M, "(p − 1)/m is the same bubble normalised another way: Narayanan et al. "
                            "(2021) divide it by the ideal compute time, m slots. This question asks for "
                            "the idle share of the whole schedule, m + p − 1 slots."),
            (1 / _P, "the bubble shrinks as micro-batches are added: it depends on m too."),
            (1 - _bubble, "that is the busy fraction; the bubble is the idle one."),
        ],
    ),
    hint="Each stage waits p − 1 slots to start and to finish, out of m + p − 1.",
    solution=f"(p − 1) / (m + p − 1) = {_P - 1} / {_M + _P - 1} = {_bubble:.4f} of the schedule "
             f"(against the ideal time, (p − 1) / m = {(_P - 1) / _M:.4f})",
)

_PARAMS, _DEVICES = 7e9, 8
_zero3 = 16 * _PARAMS / _DEVICES / 1e9
q3 = Exercise(
    "q3",
    f"Mixed-precision Adam keeps 16 bytes per parameter. How many GB (10⁹ bytes) does each of "
    f"{_DEVICES} devices hold for a {_PARAMS / 1e9:.0f}B-parameter model under ZeRO-3 "
    "(activations aside)?",
    lambda a: expect_number(
        a,
        _zero3,
        wrong=[
            (16 * _PARAMS / 1e9, "that is one device holding everything (plain data parallelism)."),
            ((4 * _PARAMS + 12 * _PARAMS / _DEVICES) / 1e9, "that is ZeRO-1: stage 3 shards weights and "
                                                            "gradients too."),
            (2 * _PARAMS / _DEVICES / 1e9, "count the gradients and the optimiser state too."),
        ],
    ),
    hint="ZeRO-3 shards the 2 + 2 + 12 bytes of every parameter over the devices.",
    solution=f"16 × {_PARAMS:.0e} / {_DEVICES} = {_zero3:.1f} GB",
)

_TOKENS_S, _FLOPS_TOKEN, _PEAK = 2.0e5, 8.5e8, 989e12
_mfu = _TOKENS_S * _FLOPS_TOKEN / _PEAK
q4 = Exercise(
    "q4",
    f"A GPT trains at {_TOKENS_S:,.0f} tokens/s and costs {_FLOPS_TOKEN:.2e} FLOPs per token "
    f"(6N + 12·L·d·T). On a GPU with a dense bf16 peak of {_PEAK:.3g} FLOP/s, what is its MFU "
    "(a fraction, not a percentage)?",
    lambda a: expect_number(
        a,
        _mfu,
        wrong=[
            (100 * _mfu, "give a fraction between 0 and 1, not a percentage."),
            (_TOKENS_S * _FLOPS_TOKEN / 3 / _PEAK, "the FLOPs per token already count the backward pass."),
        ],
    ),
    hint="MFU = tokens/s × FLOPs per token / peak FLOP/s.",
    solution=f"{_TOKENS_S:.1e} × {_FLOPS_TOKEN:.2e} / {_PEAK:.3g} = {_mfu:.4f}",
)

_MICRO, _ACC, _REPLICAS = 16, 4, 8
_effective = _MICRO * _ACC * _REPLICAS
q5 = Exercise(
    "q5",
    f"Each of {_REPLICAS} data-parallel replicas runs micro-batches of {_MICRO} sequences, with "
    f"gradient_accumulation_steps={_ACC}. How many sequences does one optimiser update average over?",
    lambda a: expect_number(
        a,
        _effective,
        rel_tol=0,
        wrong=[
            (_MICRO * _ACC, "that is one replica; the all-reduce averages all of them."),
            (_MICRO * _REPLICAS, "accumulation adds micro-batches too: multiply by the steps."),
            (_MICRO, "that is one micro-batch of one replica."),
        ],
    ),
    hint="micro-batch × accumulation steps × replicas.",
    solution=f"{_MICRO} × {_ACC} × {_REPLICAS} = {_effective}",
)
