"""lmbook.significance: bootstrap intervals, paired and exact tests, Holm's correction, seed variance
and leaderboard rows, checked against their definitions and against scipy, statsmodels and sacreBLEU."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lmbook import significance
from lmbook.output_metrics import bleu, chrf
from lmbook.significance import (
    Interval,
    bootstrap_ci,
    paired_bootstrap,
    stream_difference,
)


def test_bootstrap_ci_is_the_percentile_interval_of_resampled_rows():
    x = np.random.default_rng(3).normal(size=50)
    got = bootstrap_ci(np.mean, x, n=500, seed=7)
    picks = np.random.default_rng(7).integers(0, 50, size=(500, 50))
    stats = x[picks].mean(axis=1)
    assert got == Interval(float(x.mean()), *np.quantile(stats, [0.025, 0.975]))
    assert got.low < got.estimate < got.high


def test_a_wider_level_gives_a_wider_interval_and_the_seed_repeats():
    x = np.random.default_rng(0).normal(size=40)
    narrow, wide = bootstrap_ci(np.mean, x, level=0.5), bootstrap_ci(np.mean, x, level=0.99)
    assert wide.low < narrow.low < narrow.high < wide.high
    assert bootstrap_ci(np.mean, x, seed=1) == bootstrap_ci(np.mean, x, seed=1)


def test_stream_difference_sees_a_real_gap_and_not_noise():
    rng = np.random.default_rng(0)
    b = rng.exponential(size=64_000)
    better = stream_difference(b - 0.05, b)
    assert better.estimate == pytest.approx(-0.05) and better.high < 0 and better.excludes_zero()
    same = stream_difference(b + rng.normal(scale=0.5, size=b.size), b)
    assert same.low < 0 < same.high and not same.excludes_zero()


def test_stream_difference_weights_blocks_by_their_length():
    a, b = np.arange(10.0), np.zeros(10)
    assert stream_difference(a, b, blocks=3).estimate == pytest.approx(4.5)   # blocks of 4, 3, 3


@pytest.mark.parametrize("call, message", [
    (lambda: bootstrap_ci(np.mean), "at least one column"),
    (lambda: bootstrap_ci(np.mean, [1, 2], [1]), r"equally long, got lengths \[2, 1\]"),
    (lambda: bootstrap_ci(np.mean, [1, 2], level=1.0), r"level must be a number in \(0.0, 1.0\)"),
    (lambda: bootstrap_ci(np.mean, [1, 2], n=0), "n must be an integer >= 1, got 0"),
    (lambda: stream_difference(np.zeros(5), np.zeros(4)), r"same targets, got shapes \(5,\) and \(4,\)"),
    (lambda: stream_difference(np.zeros(5), np.zeros(5), blocks=6), "blocks must be an integer"),
])
def test_bad_arguments_name_themselves(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_paired_bootstrap_equals_sacrebleus_paired_bs():
    from sacrebleu.metrics import BLEU, CHRF
    from sacrebleu.significance import PairedTest

    rng = np.random.default_rng(0)
    words = "the cat sat on a mat dog ran fast big red".split()
    refs = [" ".join(rng.choice(words, 8)) for _ in range(40)]
    a = [" ".join(r.split()[:6]) for r in refs]
    b = [" ".join(rng.choice(words, 8)) if i % 3 == 0 else r for i, r in enumerate(refs)]
    theirs = PairedTest([("a", a), ("b", b)], {"BLEU": BLEU(), "chrF": CHRF()}, [refs], test_type="bs",
                        n_samples=300)()[1]                # sacreBLEU's seed: 12345
    assert paired_bootstrap(bleu, b, a, refs, n=300, seed=12345) == pytest.approx(theirs["BLEU"][1].p_value)
    assert paired_bootstrap(chrf, b, a, refs, n=300, seed=12345) == pytest.approx(theirs["chrF2"][1].p_value)
    assert paired_bootstrap(bleu, a, a, refs, n=50) == 1.0          # a system does not differ from itself,
    same = PairedTest([("a", a), ("a", a)], {"BLEU": BLEU()}, [refs], test_type="bs", n_samples=50)()[1]
    assert same["BLEU"][1].p_value == 1 / 51                      # where sacreBLEU says it does
    with pytest.raises(ValueError, match="equally long"):
        paired_bootstrap(bleu, a, b[:-1], refs)


# --- Leaderboard rows: block sums, intervals, bits per byte ------------------------------------------


def test_block_sums_of_a_difference_give_the_stream_difference():
    rng = np.random.default_rng(0)
    a, b = rng.random(1000), rng.random(1000)
    (sa, counts), (sb, _) = significance.block_sums(a), significance.block_sums(b)
    paired = significance.block_difference(sa - sb, counts)
    assert np.allclose(paired, significance.stream_difference(a, b), rtol=1e-12)
    same_resamples = significance.block_interval(sa - sb, counts)
    assert np.allclose(paired[:3], same_resamples, rtol=1e-12)
    assert counts.sum() == 1000 and len(counts) == 64


def test_bits_per_byte_counts_utf8_bytes():
    text = "ab中文\n"                                  # scores "b中文\n": 1 + 3 + 3 + 1 bytes
    losses = np.full(4, math.log(2))                  # one bit per character
    assert significance.bits_per_byte(losses, text) == pytest.approx(4 / 8)
    row = significance.stream_row("m", losses, text, blocks=2)
    assert row["bits_per_byte"] == pytest.approx(0.5) and row["block_counts"] == [2, 2]


@pytest.mark.parametrize("call, message", [
    (lambda: significance.bits_per_byte(np.ones(3), "abc"), "losses must score text"),
    (lambda: significance.block_sums(np.ones((2, 3))), "losses must be one loss per token"),
    (lambda: significance.block_sums(np.ones(3), blocks=4), "blocks"),
])
def test_leaderboard_helpers_reject_bad_input(call, message):
    with pytest.raises(ValueError, match=message):
        call()


# --- The statistical protocol: exact tests, Holm, bootstrap p-values, seed variance -----------------


@settings(max_examples=400, deadline=None)
@given(st.integers(1, 5000).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))),
       st.one_of(st.sampled_from([0.5, 0.25, 0.1, 0.0, 1.0]),
                 st.floats(1e-6, 1 - 1e-6)))                  # scipy's binomtest fails at p = 1e-308
def test_binomial_test_equals_scipys_binomtest(counts, p):
    from scipy.stats import binomtest

    k, n = counts
    assert abs(significance.binomial_test(k, n, p) - binomtest(k, n, p).pvalue) < 1e-9


def test_binomial_test_is_not_twice_the_smaller_tail():
    from scipy.stats import binom

    doubled = min(1.0, 2 * binom.sf(63, 200, 0.25))              # P(X >= 64), doubled
    exact = significance.binomial_test(64, 200, 0.25)
    assert exact == pytest.approx(0.0271, abs=1e-4) and abs(exact - doubled) > 1e-3
    assert significance.binomial_test(100, 200, 0.5) == 1.0


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.booleans(), st.booleans()), min_size=1, max_size=400))
def test_mcnemar_equals_statsmodels_exact(pairs):
    from statsmodels.stats.contingency_tables import mcnemar as sm_mcnemar

    a, b = (np.array(column, dtype=bool) for column in zip(*pairs))
    table = [[np.sum(a & b), np.sum(a & ~b)], [np.sum(~a & b), np.sum(~a & ~b)]]
    assert abs(significance.mcnemar(a, b) - sm_mcnemar(table, exact=True).pvalue) < 1e-9


def test_holm_equals_statsmodels_multipletests(monkeypatch):
    """On 200 seeded lists of 1 to 30 p-values, a third of them tied at 0, 0.01, 0.05 or 1.

    statsmodels' multipletests calls ``gc.collect()`` each time, which takes seconds in a test
    process full of TensorFlow objects: it is switched off here."""
    import gc

    from statsmodels.stats.multitest import multipletests

    monkeypatch.setattr(gc, "collect", lambda *args: 0)
    rng = np.random.default_rng(0)
    for _ in range(200):
        p_values = rng.random(rng.integers(1, 31))
        ties = rng.random(len(p_values)) < 1 / 3
        p_values[ties] = rng.choice([0.0, 0.01, 0.05, 1.0], size=ties.sum())
        ours = significance.holm(p_values.tolist())
        assert np.abs(ours - multipletests(p_values, method="holm")[1]).max() < 1e-9, p_values


def test_holm_on_chapter_7s_six_cloze_comparisons():
    p = [significance.binomial_test(k, 200, 0.25) for k in (46, 51, 54, 57, 55, 64)]
    adjusted = significance.holm(p)
    assert adjusted[-1] == pytest.approx(0.163, abs=1e-3) and np.all(adjusted >= p)


def test_bootstrap_difference_p_value_is_the_share_of_centred_resamples_as_extreme():
    rng = np.random.default_rng(5)
    a, b = rng.normal(0.1, 1, 300), rng.normal(0, 1, 300)
    diff = significance.bootstrap_difference(lambda x, y: np.mean(x - y), a, b, n=500, seed=3)
    picks = np.random.default_rng(3).integers(0, 300, size=(500, 300))
    stats = (a - b)[picks].mean(axis=1)
    observed = np.mean(a - b)
    assert diff.estimate == pytest.approx(observed)
    assert diff.p == (np.sum(np.abs(stats - stats.mean()) >= abs(observed)) + 1) / 501
    assert (diff.low, diff.high) == tuple(np.quantile(stats, [0.025, 0.975]))
    assert significance.bootstrap_difference(lambda x, y: np.mean(x - y), a, a).p == 1.0
    assert significance.bootstrap_difference(lambda x, y: np.mean(x - y), a + 5, a, n=99).p == 1 / 100


def test_stream_difference_p_value_is_small_for_a_gap_and_large_for_noise():
    rng = np.random.default_rng(0)
    b = rng.exponential(size=64_000)
    assert stream_difference(b - 0.05, b).p == 1 / 1001
    assert stream_difference(b + rng.normal(scale=0.5, size=b.size), b).p > 0.05


def test_two_level_bootstrap_resamples_seeds_and_items():
    rng = np.random.default_rng(0)
    scores = rng.random((3, 300)) < np.array([[0.6], [0.7], [0.8]])
    ci = significance.two_level_bootstrap(scores, n=400, seed=2)
    draws = np.random.default_rng(2)
    stats = [scores[np.ix_(draws.integers(0, 3, 3), draws.integers(0, 300, 300))].mean() for _ in range(400)]
    assert ci == Interval(float(scores.mean()), *np.quantile(stats, [0.025, 0.975]))
    items_only = bootstrap_ci(lambda s: s.mean(), scores.T, n=400)      # the seeds held fixed
    assert ci.high - ci.low > 1.5 * (items_only.high - items_only.low)
    one_seed = significance.two_level_bootstrap(scores[:1], n=400, seed=1)
    assert one_seed == bootstrap_ci(np.mean, scores[0], n=400, seed=1)     # conditional on the one model


def test_paired_two_level_bootstrap_draws_one_item_set_for_both_systems():
    rng = np.random.default_rng(1)
    hard = rng.random(500)                                        # item difficulty, shared
    a = rng.random((10, 500)) < 1.0 - hard
    b = rng.random((8, 500)) < 0.95 - hard
    paired = significance.paired_two_level_bootstrap(a, b, n=300, seed=4)
    draws = np.random.default_rng(4)
    stats = []
    for _ in range(300):                     # seeds of a, seeds of b, then the items both share
        sa, sb, items = draws.integers(0, 10, 10), draws.integers(0, 8, 8), draws.integers(0, 500, 500)
        stats.append(a[np.ix_(sa, items)].mean() - b[np.ix_(sb, items)].mean())
    stats, observed = np.array(stats), a.mean() - b.mean()
    assert paired.estimate == pytest.approx(observed)
    assert (paired.low, paired.high) == pytest.approx(tuple(np.quantile(stats, [0.025, 0.975])), abs=1e-12)
    assert paired.p == (np.sum(np.abs(stats - stats.mean()) >= abs(observed)) + 1) / 301
    unpaired = [a[np.ix_(draws.integers(0, 10, 10), draws.integers(0, 500, 500))].mean()
                - b[np.ix_(draws.integers(0, 8, 8), draws.integers(0, 500, 500))].mean() for _ in range(300)]
    width = np.subtract(*np.quantile(unpaired, [0.975, 0.025]))
    assert paired.high - paired.low < 0.7 * width           # the shared difficulty cancels when paired


@pytest.mark.parametrize("call, message", [
    (lambda: significance.binomial_test(5, 4, 0.5), r"successes must be an integer in \[0, 4\], got 5"),
    (lambda: significance.binomial_test(1, 0, 0.5), "trials must be an integer >= 1, got 0"),
    (lambda: significance.binomial_test(1, 4, 1.5), r"p must be a number in \[0.0, 1.0\]"),
    (lambda: significance.binomial_test(1.5, 4, 0.5), "successes must be an integer"),
    (lambda: significance.mcnemar([True, False], [True]), "equally long, non-empty 1-D boolean arrays"),
    (lambda: significance.mcnemar([1, 0], [0, 1]), "boolean arrays"),
    (lambda: significance.holm([]), "non-empty 1-D list of numbers in"),
    (lambda: significance.holm([0.1, 1.2]), r"numbers in \[0, 1\]"),
    (lambda: significance.holm([[0.1]]), "1-D"),
    (lambda: significance.holm([float("nan")]), "numbers in"),
    (lambda: significance.two_level_bootstrap(np.ones(5)), r"\(seeds, items\) array.*got shape \(5,\)"),
    (lambda: significance.two_level_bootstrap(np.ones((2, 5)), n=0), "n must be an integer >= 1"),
    (lambda: significance.paired_two_level_bootstrap(np.ones((2, 5)), np.ones((2, 4))),
     "same items, got 5 and 4"),
    (lambda: significance.bootstrap_difference(np.mean), "at least one column"),
    (lambda: significance.bootstrap_difference(lambda a: np.nan, np.ones(4)),
     "metric must return a finite number"),
    (lambda: significance.mcnemar(np.array([], bool), np.array([], bool)), "non-empty 1-D boolean"),
    (lambda: significance.holm(["a"]), "p_values must be a non-empty 1-D list"),
])
def test_protocol_errors_name_the_problem(call, message):
    with pytest.raises(ValueError, match=message):
        call()
