"""lmbook.output_metrics: BLEU, chrF, ROUGE, P/R/F1, calibration and the rest, equal to the libraries
the field uses (sacreBLEU, rouge-score, scikit-learn, uncertainty-calibration), and their errors."""

from __future__ import annotations

import numpy as np
import pytest
import sacrebleu
from hypothesis import given, settings
from hypothesis import strategies as st
from rouge_score import rouge_scorer
from sklearn.metrics import precision_recall_fscore_support

from lmbook import output_metrics
from lmbook.output_metrics import (
    BLEU_TOKENIZERS,
    PRF,
    ROUGE_TOKENIZERS,
    bleu,
    chrf,
    copy_rate,
    distinct_n,
    expected_calibration_error,
    fit_temperature,
    multiple_choice,
    prf1,
    prf_from_counts,
    rouge,
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
    assert rouge(hyp, ref, "rouge_score")["rouge1"].f1 == 0.0
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


def test_normalisation_is_an_option_that_makes_full_width_digits_match():
    hyp, ref = ["１９９８年１月１日人民日报"], ["1998年1月1日人民日报"]
    assert bleu(hyp, ref, "zh") < 100 and bleu(hyp, ref, "zh", normalize=True) == pytest.approx(100)
    assert chrf(hyp, ref) < 100 and chrf(hyp, ref, normalize=True) == pytest.approx(100)
    assert rouge(hyp, ref, "char")["rouge1"].f1 < 1
    assert rouge(hyp, ref, "char", normalize=True)["rouge1"].f1 == 1


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
        assert abs(output_metrics.calibration_error(probs, labels, bins, p, debiased) - theirs) < 1e-9


def test_calibration_error_scores_a_binary_1d_input_by_its_top_label():
    import calibration

    rng = np.random.default_rng(3)
    p1 = rng.random(400)
    labels = (rng.random(400) < p1 ** 2).astype(int)
    two_column = np.stack([1 - p1, p1], axis=1)
    for debiased in (True, False):
        ours = output_metrics.calibration_error(p1, labels, debiased=debiased)
        assert ours == output_metrics.calibration_error(two_column, labels, debiased=debiased)
        assert abs(ours - calibration.lower_bound_scaling_ce(two_column, labels, debias=debiased,
                                                              mode="top-label")) < 1e-9


def test_debiased_calibration_error_is_near_zero_for_a_calibrated_model():
    rng = np.random.default_rng(0)
    confidence = rng.uniform(0.5, 1, 5000)
    labels = (rng.random(5000) < confidence).astype(int)
    plug_in = [output_metrics.calibration_error(confidence, labels, debiased=False),
               expected_calibration_error(confidence, labels)]
    assert output_metrics.calibration_error(confidence, labels) < 0.5 * min(plug_in)


def test_bleu_and_chrf_statistics_sum_to_the_corpus_score():
    refs = ["the cat sat on the mat", "人民日报发表社论", "a b c d"]
    hyps = ["the cat sat on a mat", "人民日报发表评论", "a b x d"]
    stats = output_metrics.bleu_statistics(hyps, refs, tokenize="zh")
    assert output_metrics.bleu_score(stats) == pytest.approx(bleu(hyps, refs, tokenize="zh"))
    assert output_metrics.bleu_score(stats[[0, 0, 2]]) == pytest.approx(
        bleu([hyps[0], hyps[0], hyps[2]], [refs[0], refs[0], refs[2]], tokenize="zh"))
    for beta in (1.0, 2.0):
        chrf_stats = output_metrics.chrf_statistics(hyps, refs, beta=beta)
        assert output_metrics.chrf_score(chrf_stats, beta) == pytest.approx(chrf(hyps, refs, beta=beta))
        assert output_metrics.chrf_score(chrf_stats[[1, 1]], beta) == pytest.approx(
            chrf([hyps[1]] * 2, [refs[1]] * 2, beta=beta))


def test_multiple_choice_mutual_information_subtracts_the_unconditional_score():
    totals = {("q", "a"): -2.0, ("q", "bb"): -3.0, ("", "a"): -1.0, ("", "bb"): -4.0}
    score = lambda context, choice: totals[(context, choice)]       # noqa: E731
    result = multiple_choice(score, ["q"], [["a", "bb"]], [1], unconditional="")
    assert result == {"acc": 0.0, "acc_norm": 1.0, "acc_mutual_info": 1.0}   # gains -1 and +1
    assert multiple_choice(score, ["q"], [["a", "bb"]], [1], unconditional=[""]) == result


@pytest.mark.parametrize("call, message", [
    (lambda: output_metrics.calibration_error([0.6, 0.7], [1, 0], p=1), "debiased=True needs p=2"),
    (lambda: output_metrics.calibration_error([0.6, 0.7], [1, 0], p=0, debiased=False),
     "p must be an integer >= 1"),
    (lambda: output_metrics.calibration_error([0.6], [1], bins=0), "bins must be an integer >= 1"),
    (lambda: output_metrics.calibration_error([0.6, 0.7, 0.8], [1, 0, 1], bins=2), "bins must be at most 1"),
    (lambda: output_metrics.bleu_score(np.ones(10)), r"bleu_statistics rows.*got shape \(10,\)"),
    (lambda: output_metrics.bleu_score(np.ones((2, 5))), r"2 \* order \+ 2"),
    (lambda: output_metrics.chrf_score(np.ones((6, 3))), r"chrf_statistics rows.*got shape \(6, 3\)"),
    (lambda: multiple_choice(len, ["c", "d"], [["a"], ["b"]], [0, 0], unconditional=["", None]),
     "one string per"),
    (lambda: multiple_choice(len, ["c"], [["a"]], [0], unconditional=["", ""]), "one string per item"),
])
def test_statistics_calibration_and_choice_errors_name_the_problem(call, message):
    with pytest.raises(ValueError, match=message):
        call()


# --- F1 from counts: one formula for ROUGE, prf1, segmentation and entities ------------------------


def test_prf_has_one_name_for_f1():
    assert PRF._fields == ("precision", "recall", "f1")
    assert prf1([1, 0, 1], [1, 1, 1]).f1 == pytest.approx(0.8)


@pytest.mark.parametrize("counts", [(0, 0, 0), (0, 0, 5), (0, 5, 0), (0, 3, 4)])
def test_prf_from_counts_is_zero_where_a_count_or_the_matches_are_zero(counts):
    assert prf_from_counts(*counts) == PRF(0.0, 0.0, 0.0)


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 50).flatmap(lambda m: st.tuples(st.just(m), st.integers(m, 100), st.integers(m, 100))))
def test_prf_from_counts_is_precision_recall_and_their_harmonic_mean(counts):
    matches, predicted, expected = counts
    got = prf_from_counts(matches, predicted, expected)
    assert all(type(x) is float for x in got)
    if matches:
        assert got.precision == matches / predicted and got.recall == matches / expected
        assert got.f1 == pytest.approx(2 * matches / (predicted + expected))    # 2 TP / (2 TP + FP + FN)
    # scikit-learn's binary scores of labels with these counts (true negatives do not matter)
    fp, fn = predicted - matches, expected - matches
    y_true, y_pred = [1] * matches + [0] * fp + [1] * fn + [0], [1] * matches + [1] * fp + [0] * fn + [0]
    expected_scores = precision_recall_fscore_support(y_true, y_pred, average="binary", zero_division=0)[:3]
    assert got == pytest.approx(expected_scores, abs=1e-12)


def test_prf_from_counts_gives_numpy_counts_plain_floats():
    assert repr(prf_from_counts(np.int64(1), np.int64(2), np.int64(4))) == \
        "PRF(precision=0.5, recall=0.25, f1=0.3333333333333333)"


def test_rouge_is_f1_from_clipped_counts():
    # 人民日报发表 + 论: 7 of the 8 characters on each side
    assert rouge(["人民日报发表社论"], ["人民日报发表评论"])["rouge1"] == prf_from_counts(7, 8, 8)


@pytest.mark.parametrize("counts", [(-1, 2, 2), (1, -2, 2), (3, 2, 4), (3, 4, 2)])
def test_prf_from_counts_refuses_impossible_counts(counts):
    with pytest.raises(ValueError, match="counts must be non-negative with matches <= predicted"):
        prf_from_counts(*counts)
