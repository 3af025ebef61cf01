"""lmbook.evaluation: bootstrap intervals, checked against their definition, and their errors."""

from __future__ import annotations

import math

import numpy as np
import pytest
import sacrebleu
from hypothesis import given, settings
from hypothesis import strategies as st
from rouge_score import rouge_scorer
from sklearn.metrics import precision_recall_fscore_support

from lmbook import evaluation
from lmbook.evaluation import (
    BLEU_TOKENIZERS,
    ROUGE_TOKENIZERS,
    Interval,
    bleu,
    bootstrap_ci,
    chrf,
    copy_rate,
    distinct_n,
    expected_calibration_error,
    fit_temperature,
    multiple_choice,
    paired_bootstrap,
    prf1,
    rouge,
    stream_difference,
)

# Text that exercises the tokenizers: Latin words, Chinese, full-width forms, digits, punctuation
# (ASCII, CJK and general), entities, and all kinds of space.
PIECES = ["the", "cat", "Cat", "sat", "a", "mat", "人民", "日报", "发表", "社论", "１９９８", "1998", "年",
          "，", "。", "“", "”", "—", "…", ",", ".", "-", "3.5", "1,000", "&amp;", "<skipped>", "'s", "(",
          ")", "ｗｏｒｄ", " ", "  ", "\u3000", "\t"]
texts = st.lists(st.sampled_from(PIECES), max_size=12).map("".join)
corpora = st.integers(1, 4).flatmap(lambda n: st.tuples(
    st.lists(texts, min_size=n, max_size=n),
    st.lists(st.lists(texts, min_size=1, max_size=3), min_size=n, max_size=n)))


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


@settings(max_examples=300, deadline=None)
@given(corpora, st.sampled_from(sorted(BLEU_TOKENIZERS)))
def test_bleu_equals_sacrebleu(corpus, tokenize):
    hypotheses, references = corpus
    width = max(len(r) for r in references)
    streams = [[refs[k] if k < len(refs) else None for refs in references] for k in range(width)]
    expected = sacrebleu.corpus_bleu(hypotheses, streams, tokenize=tokenize).score
    assert bleu(hypotheses, references, tokenize=tokenize) == pytest.approx(expected, abs=1e-6)


@settings(max_examples=300, deadline=None)
@given(corpora)
def test_chrf_equals_sacrebleu(corpus):
    hypotheses, references = corpus
    width = max(len(r) for r in references)
    streams = [[refs[k] if k < len(refs) else None for refs in references] for k in range(width)]
    expected = sacrebleu.corpus_chrf(hypotheses, streams).score
    assert chrf(hypotheses, references) == pytest.approx(expected, abs=1e-6)


class _Tokens:
    """A rouge-score tokenizer that cuts text as one of lmbook's ROUGE tokenizers does."""

    def __init__(self, name):
        self.tokenize = ROUGE_TOKENIZERS[name]


@settings(max_examples=300, deadline=None)
@given(corpora, st.sampled_from(sorted(ROUGE_TOKENIZERS)))
def test_rouge_equals_rouge_score_averaged_over_pairs(corpus, tokenize):
    hypotheses, references = corpus
    kinds = ["rouge1", "rouge2", "rougeL"]
    tokenizer = None if tokenize == "rouge_score" else _Tokens(tokenize)        # None: rouge-score's own
    scorer = rouge_scorer.RougeScorer(kinds, tokenizer=tokenizer)
    pairs = [scorer.score_multi(refs, hyp) for hyp, refs in zip(hypotheses, references)]
    got = rouge(hypotheses, references, tokenize=tokenize)
    for kind in kinds:
        for ours, field in zip(got[kind], ("precision", "recall", "fmeasure")):
            assert ours == pytest.approx(np.mean([getattr(p[kind], field) for p in pairs]), abs=1e-9)


def test_rouge_score_drops_chinese_and_auto_does_not():
    hyp, ref = ["全国人民代表大会在北京召开"], ["全国人民代表大会今天在北京开幕"]
    assert rouge(hyp, ref, "rouge_score")["rouge1"].f == 0.0
    # 12 shared characters (全国人民代表大会, 在, 北京, 开) of 13 and of 15
    assert rouge(hyp, ref)["rouge1"] == pytest.approx((12 / 13, 12 / 15, 2 * 12 / (13 + 15)))


@settings(max_examples=300, deadline=None)
@given(st.integers(1, 30).flatmap(lambda n: st.tuples(st.lists(st.integers(0, 3), min_size=n, max_size=n),
                                                       st.lists(st.integers(0, 3), min_size=n, max_size=n))),
       st.sampled_from(["binary", "micro", "macro"]))
def test_prf1_equals_scikit_learn(labels, average):
    y_true, y_pred = labels
    if average == "binary":
        y_true, y_pred = [y % 2 for y in y_true], [y % 2 for y in y_pred]
    expected = precision_recall_fscore_support(y_true, y_pred, average=average, zero_division=0)[:3]
    assert prf1(y_true, y_pred, average) == pytest.approx(expected, abs=1e-12)


def test_bleu_takes_one_reference_string_per_hypothesis():
    hyps, refs = ["the cat sat on the mat", "人民日报"], ["the cat sat on a mat", "人民日报社论"]
    assert bleu(hyps, refs, "zh") == pytest.approx(sacrebleu.corpus_bleu(hyps, [refs], tokenize="zh").score)


@pytest.mark.parametrize("call, message", [
    (lambda: bleu([], []), "hypotheses must not be empty"),
    (lambda: bleu(["a"], ["a", "b"]), "equally long, got 1 hypotheses and 2 references"),
    (lambda: bleu(["a"], [[]]), "item 0: expected a hypothesis string and at least one reference"),
    (lambda: bleu([None], ["a"]), "item 0: expected a hypothesis string"),
    (lambda: bleu(["a"], ["a"], tokenize="intl"), "tokenize must be one of 13a, zh, char, none, got 'intl'"),
    (lambda: bleu(["a"], ["a"], order=0), "order must be an integer >= 1"),
    (lambda: chrf(["a"], ["a", "b"]), "equally long"),
    (lambda: chrf(["a"], ["a"], beta=0), "beta must be"),
    (lambda: rouge(["a"], ["a"], tokenize="jieba"), "tokenize must be one of auto, char, rouge_score"),
    (lambda: prf1([1, 0], [1]), r"equally long, non-empty label lists, got shapes \(2,\) and \(1,\)"),
    (lambda: prf1([], []), "non-empty"),
    (lambda: prf1([1, 2], [1, 2]), "average='binary' needs labels 0 and 1, got \\[1, 2\\]"),
    (lambda: prf1([1, 0], [1, 0], average="weighted"), "average must be one of binary, micro, macro"),
])
def test_bleu_errors_name_the_problem(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_ece_is_the_weighted_gap_between_accuracy_and_confidence_per_bin():
    rng = np.random.default_rng(1)
    probs = rng.dirichlet(np.ones(3), size=500)
    labels = rng.integers(0, 3, 500)
    confidence, correct = probs.max(1), probs.argmax(1) == labels
    expected = 0.0
    for k in range(15):                                   # the definition, bin by bin
        inside = (confidence > k / 15) & (confidence <= (k + 1) / 15)
        if inside.any():
            expected += inside.mean() * abs(correct[inside].mean() - confidence[inside].mean())
    assert expected_calibration_error(probs, labels) == pytest.approx(expected)
    perfect = np.eye(3)[labels]
    assert expected_calibration_error(perfect, labels) == 0.0


def test_temperature_minimises_the_nll_and_keeps_the_predictions():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 4, 3000)
    logits = 4 * np.eye(4)[labels] + rng.normal(scale=2.5, size=(3000, 4))

    def nll(t):
        z = logits / t - (logits / t).max(1, keepdims=True)
        return np.mean(np.log(np.exp(z).sum(1)) - z[np.arange(3000), labels])

    t = fit_temperature(logits, labels)
    grid = np.exp(np.linspace(np.log(0.05), np.log(20), 2001))
    assert nll(t) <= min(nll(g) for g in grid) + 1e-9
    probs = np.exp(logits / t) / np.exp(logits / t).sum(1, keepdims=True)
    assert (probs.argmax(1) == logits.argmax(1)).all()


def test_distinct_n_and_copy_rate():
    assert distinct_n(["aaaa"], 1) == 0.25 and distinct_n(["abcd"], 2) == 1.0 and distinct_n(["a"], 2) == 0.0
    assert distinct_n(["ab", "ab"], 2) == 0.5                       # the same bigram in two texts
    assert copy_rate(["to be or"], "to be or not to be", 4) == 1.0
    assert copy_rate(["xyz"], "abc", 1) == 0.0 and copy_rate([""], "abc", 2) == 0.0


def test_multiple_choice_acc_and_acc_norm():
    totals = {"a": -2.0, "bbbb": -4.0, "cc": -3.0}                  # per character: -2, -1, -1.5
    score = lambda context, choice: totals[choice]                  # noqa: E731
    result = multiple_choice(score, ["q1", "q2"], [["a", "bbbb", "cc"], ["cc", "a"]], [1, 0])
    assert result == {"acc": 0.0, "acc_norm": 1.0}


@pytest.mark.parametrize("call, message", [
    (lambda: expected_calibration_error([[0.5, 0.6]], [0]), "each row must sum to 1"),
    (lambda: expected_calibration_error([1.2], [1]), r"lie in \[0, 1\]"),
    (lambda: expected_calibration_error([0.5, 0.5], [1]), "labels as many"),
    (lambda: expected_calibration_error([0.5], [2]), r"class indices in \[0, 1\]"),
    (lambda: expected_calibration_error([0.5], [1], bins=0), "bins must be an integer >= 1"),
    (lambda: fit_temperature([1.0, 2.0], [0, 1]), "logits must be"),
    (lambda: distinct_n(["ab"], 0), "n must be an integer >= 1"),
    (lambda: multiple_choice(len, ["c"], [["a"]], []), "equally long, got 1, 1 and 0"),
    (lambda: multiple_choice(len, ["c"], [["a", "b"]], [2]), "item 0: answer 2 is not an index of its 2"),
])
def test_calibration_and_generation_errors_name_the_problem(call, message):
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


def test_normalisation_is_an_option_that_makes_full_width_digits_match():
    hyp, ref = ["１９９８年１月１日人民日报"], ["1998年1月1日人民日报"]
    assert bleu(hyp, ref, "zh") < 100 and bleu(hyp, ref, "zh", normalize=True) == pytest.approx(100)
    assert chrf(hyp, ref) < 100 and chrf(hyp, ref, normalize=True) == pytest.approx(100)
    assert rouge(hyp, ref, "char")["rouge1"].f < 1
    assert rouge(hyp, ref, "char", normalize=True)["rouge1"].f == 1


# --- Leaderboard rows: block sums, intervals, bits per byte ------------------------------------------


def test_block_sums_of_a_difference_give_the_stream_difference():
    rng = np.random.default_rng(0)
    a, b = rng.random(1000), rng.random(1000)
    (sa, counts), (sb, _) = evaluation.block_sums(a), evaluation.block_sums(b)
    paired = evaluation.block_difference(sa - sb, counts)
    assert np.allclose(paired, evaluation.stream_difference(a, b), rtol=1e-12)
    assert np.allclose(paired[:3], evaluation.block_interval(sa - sb, counts), rtol=1e-12)   # same resamples
    assert counts.sum() == 1000 and len(counts) == 64


def test_bits_per_byte_counts_utf8_bytes():
    text = "ab中文\n"                                  # scores "b中文\n": 1 + 3 + 3 + 1 bytes
    losses = np.full(4, math.log(2))                  # one bit per character
    assert evaluation.bits_per_byte(losses, text) == pytest.approx(4 / 8)
    row = evaluation.stream_row("m", losses, text, blocks=2)
    assert row["bits_per_byte"] == pytest.approx(0.5) and row["block_counts"] == [2, 2]


@pytest.mark.parametrize("call, message", [
    (lambda: evaluation.bits_per_byte(np.ones(3), "abc"), "losses must score text"),
    (lambda: evaluation.block_sums(np.ones((2, 3))), "losses must be one loss per token"),
    (lambda: evaluation.block_sums(np.ones(3), blocks=4), "blocks"),
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
    assert abs(evaluation.binomial_test(k, n, p) - binomtest(k, n, p).pvalue) < 1e-9


def test_binomial_test_is_not_twice_the_smaller_tail():
    from scipy.stats import binom

    doubled = min(1.0, 2 * binom.sf(63, 200, 0.25))              # P(X >= 64), doubled
    exact = evaluation.binomial_test(64, 200, 0.25)
    assert exact == pytest.approx(0.0271, abs=1e-4) and abs(exact - doubled) > 1e-3
    assert evaluation.binomial_test(100, 200, 0.5) == 1.0


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.booleans(), st.booleans()), min_size=1, max_size=400))
def test_mcnemar_equals_statsmodels_exact(pairs):
    from statsmodels.stats.contingency_tables import mcnemar as sm_mcnemar

    a, b = (np.array(column, dtype=bool) for column in zip(*pairs))
    table = [[np.sum(a & b), np.sum(a & ~b)], [np.sum(~a & b), np.sum(~a & ~b)]]
    assert abs(evaluation.mcnemar(a, b) - sm_mcnemar(table, exact=True).pvalue) < 1e-9


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(st.floats(0.0, 1.0), st.sampled_from([0.0, 0.01, 0.05, 1.0])), min_size=1,
                max_size=30))
def test_holm_equals_statsmodels_multipletests(p_values):
    from statsmodels.stats.multitest import multipletests

    ours = evaluation.holm(p_values)
    assert np.abs(ours - multipletests(p_values, method="holm")[1]).max() < 1e-9


def test_holm_on_chapter_7s_six_cloze_comparisons():
    p = [evaluation.binomial_test(k, 200, 0.25) for k in (46, 51, 54, 57, 55, 64)]
    adjusted = evaluation.holm(p)
    assert adjusted[-1] == pytest.approx(0.163, abs=1e-3) and np.all(adjusted >= p)


def test_bootstrap_difference_p_value_is_the_share_of_centred_resamples_as_extreme():
    rng = np.random.default_rng(5)
    a, b = rng.normal(0.1, 1, 300), rng.normal(0, 1, 300)
    diff = evaluation.bootstrap_difference(lambda x, y: np.mean(x - y), a, b, n=500, seed=3)
    picks = np.random.default_rng(3).integers(0, 300, size=(500, 300))
    stats = (a - b)[picks].mean(axis=1)
    observed = np.mean(a - b)
    assert diff.estimate == pytest.approx(observed)
    assert diff.p == (np.sum(np.abs(stats - stats.mean()) >= abs(observed)) + 1) / 501
    assert (diff.low, diff.high) == tuple(np.quantile(stats, [0.025, 0.975]))
    assert evaluation.bootstrap_difference(lambda x, y: np.mean(x - y), a, a).p == 1.0
    assert evaluation.bootstrap_difference(lambda x, y: np.mean(x - y), a + 5, a, n=99).p == 1 / 100


def test_stream_difference_p_value_is_small_for_a_gap_and_large_for_noise():
    rng = np.random.default_rng(0)
    b = rng.exponential(size=64_000)
    assert stream_difference(b - 0.05, b).p == 1 / 1001
    assert stream_difference(b + rng.normal(scale=0.5, size=b.size), b).p > 0.05


def test_two_level_bootstrap_resamples_seeds_and_items():
    rng = np.random.default_rng(0)
    scores = rng.random((3, 300)) < np.array([[0.6], [0.7], [0.8]])
    ci = evaluation.two_level_bootstrap(scores, n=400, seed=2)
    draws = np.random.default_rng(2)
    stats = [scores[np.ix_(draws.integers(0, 3, 3), draws.integers(0, 300, 300))].mean() for _ in range(400)]
    assert ci == Interval(float(scores.mean()), *np.quantile(stats, [0.025, 0.975]))
    items_only = bootstrap_ci(lambda s: s.mean(), scores.T, n=400)      # the seeds held fixed
    assert ci.high - ci.low > 1.5 * (items_only.high - items_only.low)
    one_seed = evaluation.two_level_bootstrap(scores[:1], n=400, seed=1)
    assert one_seed == bootstrap_ci(np.mean, scores[0], n=400, seed=1)     # conditional on the one model


def test_paired_two_level_bootstrap_draws_one_item_set_for_both_systems():
    rng = np.random.default_rng(1)
    hard = rng.random(500)                                        # item difficulty, shared
    a = rng.random((10, 500)) < 1.0 - hard
    b = rng.random((8, 500)) < 0.95 - hard
    paired = evaluation.paired_two_level_bootstrap(a, b, n=300, seed=4)
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


@settings(max_examples=60, deadline=None)
@given(st.integers(2, 1500), st.integers(2, 5), st.integers(1, 40), st.floats(0.2, 4.0),
       st.integers(0, 2**31))
def test_calibration_error_equals_uncertainty_calibration(n, classes, bins, scale, seed):
    import calibration

    rng = np.random.default_rng(seed)
    logits = rng.normal(size=(n, classes)) * scale
    probs = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    labels = np.array([rng.choice(classes, p=row) for row in probs])
    for p, debiased in ((2, True), (2, False), (1, False)):
        if debiased and bins > n // 2:
            continue                                  # fewer than two examples a bin: an error here
        theirs = calibration.lower_bound_scaling_ce(probs, labels, p=p, debias=debiased, num_bins=bins,
                                                    mode="top-label")
        assert abs(evaluation.calibration_error(probs, labels, bins, p, debiased) - theirs) < 1e-9


def test_calibration_error_scores_a_binary_1d_input_by_its_top_label():
    import calibration

    rng = np.random.default_rng(3)
    p1 = rng.random(400)
    labels = (rng.random(400) < p1 ** 2).astype(int)
    two_column = np.stack([1 - p1, p1], axis=1)
    for debiased in (True, False):
        ours = evaluation.calibration_error(p1, labels, debiased=debiased)
        assert ours == evaluation.calibration_error(two_column, labels, debiased=debiased)
        assert abs(ours - calibration.lower_bound_scaling_ce(two_column, labels, debias=debiased,
                                                              mode="top-label")) < 1e-9


def test_debiased_calibration_error_is_near_zero_for_a_calibrated_model():
    rng = np.random.default_rng(0)
    confidence = rng.uniform(0.5, 1, 5000)
    labels = (rng.random(5000) < confidence).astype(int)
    plug_in = [evaluation.calibration_error(confidence, labels, debiased=False), expected_calibration_error(
        confidence, labels)]
    assert evaluation.calibration_error(confidence, labels) < 0.5 * min(plug_in)


def test_bleu_and_chrf_statistics_sum_to_the_corpus_score():
    refs = ["the cat sat on the mat", "人民日报发表社论", "a b c d"]
    hyps = ["the cat sat on a mat", "人民日报发表评论", "a b x d"]
    stats = evaluation.bleu_statistics(hyps, refs, tokenize="zh")
    assert evaluation.bleu_score(stats) == pytest.approx(bleu(hyps, refs, tokenize="zh"))
    assert evaluation.bleu_score(stats[[0, 0, 2]]) == pytest.approx(
        bleu([hyps[0], hyps[0], hyps[2]], [refs[0], refs[0], refs[2]], tokenize="zh"))
    for beta in (1.0, 2.0):
        chrf_stats = evaluation.chrf_statistics(hyps, refs, beta=beta)
        assert evaluation.chrf_score(chrf_stats, beta) == pytest.approx(chrf(hyps, refs, beta=beta))
        assert evaluation.chrf_score(chrf_stats[[1, 1]], beta) == pytest.approx(
            chrf([hyps[1]] * 2, [refs[1]] * 2, beta=beta))


def test_multiple_choice_mutual_information_subtracts_the_unconditional_score():
    totals = {("q", "a"): -2.0, ("q", "bb"): -3.0, ("", "a"): -1.0, ("", "bb"): -4.0}
    score = lambda context, choice: totals[(context, choice)]       # noqa: E731
    result = multiple_choice(score, ["q"], [["a", "bb"]], [1], unconditional="")
    assert result == {"acc": 0.0, "acc_norm": 1.0, "acc_mutual_info": 1.0}   # gains -1 and +1
    assert multiple_choice(score, ["q"], [["a", "bb"]], [1], unconditional=[""]) == result


@pytest.mark.parametrize("call, message", [
    (lambda: evaluation.binomial_test(5, 4, 0.5), r"successes must be an integer in \[0, 4\], got 5"),
    (lambda: evaluation.binomial_test(1, 0, 0.5), "trials must be an integer >= 1, got 0"),
    (lambda: evaluation.binomial_test(1, 4, 1.5), r"p must be a number in \[0.0, 1.0\]"),
    (lambda: evaluation.binomial_test(1.5, 4, 0.5), "successes must be an integer"),
    (lambda: evaluation.mcnemar([True, False], [True]), "equally long, non-empty 1-D boolean arrays"),
    (lambda: evaluation.mcnemar([1, 0], [0, 1]), "boolean arrays"),
    (lambda: evaluation.holm([]), "non-empty 1-D list of numbers in"),
    (lambda: evaluation.holm([0.1, 1.2]), r"numbers in \[0, 1\]"),
    (lambda: evaluation.holm([[0.1]]), "1-D"),
    (lambda: evaluation.holm([float("nan")]), "numbers in"),
    (lambda: evaluation.two_level_bootstrap(np.ones(5)), r"\(seeds, items\) array.*got shape \(5,\)"),
    (lambda: evaluation.two_level_bootstrap(np.ones((2, 5)), n=0), "n must be an integer >= 1"),
    (lambda: evaluation.paired_two_level_bootstrap(np.ones((2, 5)), np.ones((2, 4))),
     "same items, got 5 and 4"),
    (lambda: evaluation.calibration_error([0.6, 0.7], [1, 0], p=1), "debiased=True needs p=2"),
    (lambda: evaluation.calibration_error([0.6, 0.7], [1, 0], p=0, debiased=False),
     "p must be an integer >= 1"),
    (lambda: evaluation.calibration_error([0.6], [1], bins=0), "bins must be an integer >= 1"),
    (lambda: evaluation.bootstrap_difference(np.mean), "at least one column"),
    (lambda: evaluation.bootstrap_difference(lambda a: np.nan, np.ones(4)),
     "metric must return a finite number"),
    (lambda: evaluation.mcnemar(np.array([], bool), np.array([], bool)), "non-empty 1-D boolean"),
    (lambda: evaluation.holm(["a"]), "p_values must be a non-empty 1-D list"),
    (lambda: evaluation.calibration_error([0.6, 0.7, 0.8], [1, 0, 1], bins=2), "bins must be at most 1"),
    (lambda: evaluation.bleu_score(np.ones(10)), r"bleu_statistics rows.*got shape \(10,\)"),
    (lambda: evaluation.bleu_score(np.ones((2, 5))), r"2 \* order \+ 2"),
    (lambda: evaluation.chrf_score(np.ones((6, 3))), r"chrf_statistics rows.*got shape \(6, 3\)"),
    (lambda: multiple_choice(len, ["c", "d"], [["a"], ["b"]], [0, 0], unconditional=["", None]),
     "one string per"),
    (lambda: multiple_choice(len, ["c"], [["a"]], [0], unconditional=["", ""]), "one string per item"),
])
def test_protocol_errors_name_the_problem(call, message):
    with pytest.raises(ValueError, match=message):
        call()
