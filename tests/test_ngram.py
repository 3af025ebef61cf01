"""lmbook.ngram: n-gram models, checked against KenLM's figures and by hand."""

import json
import math
import os
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lmbook import data
from lmbook.ngram import (
    ADD_K_GRID,
    SMOOTHINGS,
    WEIGHTS,
    NGramLM,
    estimate_discounts,
    stream_cross_entropy,
    stream_losses,
)

SHARED = Path(__file__).parents[1].parent / "shared"
# KenLM lmplz/query figures (a copy of shared/reference/; the file spells out the preprocessing),
# computed on nanoGPT's validation split (the last 10% of characters).
REFERENCE = Path(__file__).parents[1] / "lmbook" / "reference" / "kenlm_tinyshakespeare.json"


def toy_corpus(n_sentences=200, seed=0):
    """Sentences of a small random language with some structure (a few frequent bigrams)."""
    rng = np.random.default_rng(seed)
    words = ["the", "cat", "dog", "sat", "on", "mat", "a", "ran", "to", "house", "big", "red"]
    sents = []
    for _ in range(n_sentences):
        s = [str(w) for w in rng.choice(words, size=rng.integers(1, 8))]
        if rng.random() < 0.5:
            s = ["the", "cat", "sat", *s]
        sents.append(s)
    return sents


# ----------------------------------------------------------------- KenLM reference figures


@pytest.fixture(scope="module")
def shakespeare():
    """The reference figures and Tiny Shakespeare split as the reference file describes:
    nanoGPT's 90/10 split, which the figures were computed on."""
    with pytest.MonkeyPatch.context() as mp:
        if "LMBOOK_DATA_DIR" not in os.environ and (SHARED / "data").is_dir():
            mp.setenv("LMBOOK_DATA_DIR", str(SHARED / "data"))
        train = data.load_tiny_shakespeare_lines("train")
        validation = data.load_tiny_shakespeare_lines("nanogpt_validation")
    return json.loads(REFERENCE.read_text()), train, validation


@pytest.mark.parametrize(
    "level, order, rel_tol",
    [("char", n, 1e-3) for n in range(2, 7)] + [("word", n, 1e-2) for n in range(2, 6)],
)
def test_mkn_matches_kenlm(shakespeare, level, order, rel_tol):
    ref, train, validation = shakespeare
    tokens = list if level == "char" else str.split
    lm = NGramLM(order, "mkn").fit([tokens(ln) for ln in train])
    result = lm.evaluate([tokens(ln) for ln in validation])
    want = ref[level][str(order)]
    assert result["tokens"] == want["scored_tokens"]
    assert result["oov"] == want["oov_tokens"]
    assert result["perplexity"] == pytest.approx(want["perplexity_including_oov"], rel=rel_tol)
    assert result["perplexity_excluding_oov"] == pytest.approx(
        want["perplexity_excluding_oov"], rel=rel_tol
    )
    if level == "char":  # too few distinct characters to estimate unigram discounts
        assert lm.discounts[1] == (0.5, 1.0, 1.5)


# ----------------------------------------------------------------- counting


@pytest.mark.parametrize("high", [1, 70, 7_000_000_000, 2**62])  # 2**62: too wide to pack
@pytest.mark.parametrize("size", [0, 1, 1000])
def test_unique_matches_numpy(high, size):
    from lmbook.ngram import _unique

    keys = np.random.default_rng(size).integers(0, high, size)
    for got, want in zip(_unique(keys), np.unique(keys, return_inverse=True, return_counts=True),
                         strict=True):
        assert got.tolist() == want.tolist()


# ----------------------------------------------------------------- probabilities sum to 1


@pytest.mark.parametrize("smoothing", SMOOTHINGS)
@pytest.mark.parametrize("order", [1, 2, 3, 4])
def test_distributions_sum_to_one(smoothing, order):
    corpus = toy_corpus()
    lm = NGramLM(order, smoothing).fit(corpus)
    contexts = [(), ("<s>",), ("<s>", "the"), ("the", "cat"), ("cat", "the", "zebra"),
                ("zebra", "unicorn"), ("red", "red", "red"), ("<s>", "zebra")]
    for context in contexts:
        p = lm.next_probs(context)
        assert p[lm.index["<s>"]] == 0.0
        assert p.sum() == pytest.approx(1.0, abs=1e-9), context
        assert (p >= 0).all()
        for token in ("cat", "</s>", "zebra"):  # the two code paths agree
            expected = p[lm.index.get(token, 0)]
            assert math.exp(lm.logprob(token, context)) == pytest.approx(expected, abs=1e-12)


@settings(max_examples=40, deadline=None)
@given(
    corpus=st.lists(st.text(alphabet="abc", max_size=6), min_size=2, max_size=6),
    context=st.text(alphabet="abcd", max_size=3),
    order=st.integers(1, 4),
    smoothing=st.sampled_from(SMOOTHINGS),
)
def test_sum_to_one_on_random_corpora(corpus, context, order, smoothing):
    p = NGramLM(order, smoothing).fit(corpus).next_probs(context)
    assert p.sum() == pytest.approx(1.0, abs=1e-9)


@pytest.mark.parametrize("smoothing", SMOOTHINGS)
def test_corpus_scoring_matches_token_by_token(smoothing):
    corpus = toy_corpus()
    lm = NGramLM(3, smoothing).fit(corpus[:150])
    test = [*corpus[150:], ["zebra", "the", "cat"], []]
    by_token = sum(
        lm.logprob(w, ["<s>", *s[:i]]) for s in test for i, w in enumerate([*s, "</s>"])
    )
    result = lm.evaluate(test)
    assert result["tokens"] == sum(len(s) + 1 for s in test)
    assert result["oov"] == 1
    assert result["logprob"] == pytest.approx(by_token, rel=1e-12)


# ----------------------------------------------------------------- hand-checked smoothings


def test_mle_unseen_events_give_infinite_perplexity():
    lm = NGramLM(2, "mle").fit([["a", "b"], ["a", "c"]])
    assert math.exp(lm.logprob("b", ["<s>", "a"])) == pytest.approx(0.5)
    assert lm.perplexity([["a", "b"]]) == pytest.approx((1 * 0.5 * 1) ** (-1 / 3))
    assert lm.logprob("a", ["b"]) == -math.inf
    assert lm.perplexity([["b", "a"]]) == math.inf
    assert lm.perplexity([["a", "zebra"]]) == math.inf


def test_add_k_by_hand():
    corpus = [["a", "b"], ["a", "c"]]  # |V| = 5: <unk> </s> a b c
    lm = NGramLM(2, "add_k").fit(corpus)
    assert math.exp(lm.logprob("b", ["a"])) == pytest.approx((1 + 1) / (2 + 5))
    assert math.exp(lm.logprob("a", ["<s>"])) == pytest.approx((2 + 1) / (2 + 5))
    assert math.exp(lm.logprob("</s>", ["b"])) == pytest.approx((1 + 1) / (1 + 5))
    assert math.exp(lm.logprob("a", ["zebra"])) == pytest.approx(1 / 5)  # unseen context
    want = (3 / 7 * 2 / 7 * 2 / 6) ** (-1 / 3)
    assert lm.perplexity([["a", "b"]]) == pytest.approx(want)
    half = NGramLM(2, "add_k", k=0.5).fit(corpus)
    assert math.exp(half.logprob("b", ["a"])) == pytest.approx(1.5 / (2 + 2.5))


def test_add_k_uses_the_longest_order_a_position_has():
    """A trigram's first token is predicted by the add-k bigram on <s>, the others by the
    add-k trigram, with nothing from the lower orders (a mid-sentence context too short
    for the top order is unseen: uniform)."""
    corpus = [["a", "b", "c"], ["a", "c"], ["b", "b"]]  # |V| = 5: <unk> </s> a b c
    lm = NGramLM(3, "add_k", k=0.5).fit(corpus)
    bigrams, trigrams = Counter(), Counter()
    for s in corpus:
        padded = ["<s>", *s, "</s>"]
        bigrams.update(zip(padded, padded[1:]))
        trigrams.update(zip(padded, padded[1:], padded[2:]))

    def add_k(counts, context, w):
        total = sum(c for g, c in counts.items() if g[:-1] == context)
        return (counts[(*context, w)] + 0.5) / (total + 0.5 * 5)

    assert math.exp(lm.logprob("a", ["<s>"])) == pytest.approx(add_k(bigrams, ("<s>",), "a"))
    assert math.exp(lm.logprob("b", ["<s>"])) == pytest.approx(add_k(bigrams, ("<s>",), "b"))
    for context, w in [(("<s>", "a"), "b"), (("a", "b"), "c"), (("b", "c"), "</s>"),
                       (("a", "b"), "a"), (("b", "b"), "</s>")]:
        assert math.exp(lm.logprob(w, context)) == pytest.approx(add_k(trigrams, context, w))
    assert math.exp(lm.logprob("c", ["c", "a"])) == pytest.approx(1 / 5)  # unseen context
    assert math.exp(lm.logprob("c", ["a"])) == pytest.approx(1 / 5)  # too short, mid-sentence
    logp, _ = lm.token_logprobs([["a", "b", "c"]])
    want = [add_k(bigrams, ("<s>",), "a"), add_k(trigrams, ("<s>", "a"), "b"),
            add_k(trigrams, ("a", "b"), "c"), add_k(trigrams, ("b", "c"), "</s>")]
    assert np.exp(logp) == pytest.approx(want)


@pytest.mark.parametrize("order", [1, 3])
def test_add_k_tunes_k_on_held_out_sentences(order):
    corpus = toy_corpus(300)
    train, held = corpus[:250], corpus[250:]
    tuned = NGramLM(order, "add_k", k=None).fit(train, heldout=held)
    by_fitting = [NGramLM(order, "add_k", k=k).fit(train).perplexity(held) for k in ADD_K_GRID]
    assert tuned.pseudo_count == ADD_K_GRID[int(np.argmin(by_fitting))]
    assert tuned.perplexity(held) == pytest.approx(min(by_fitting), rel=1e-12)
    # without heldout=: tuned on the last 10% of the sentences, then counted on all of them
    default = NGramLM(order, "add_k", k=None).fit(corpus)
    cut = len(corpus) - len(corpus) // 10
    assert default.pseudo_count == NGramLM(order, "add_k", k=None).fit(
        corpus[:cut], heldout=corpus[cut:]).pseudo_count
    fixed = NGramLM(order, "add_k", k=default.pseudo_count).fit(corpus)
    assert default.perplexity(held) == pytest.approx(fixed.perplexity(held), rel=1e-12)


def test_kneser_ney_continuation_counts_and_discounts():
    lm = NGramLM(2, "kn").fit(["ab", "b", "cb", "b"])
    assert lm.raw_counts[1][lm.index["b"]] == 4
    assert lm.ngram_counts(1)[("b",)] == 3  # after a, <s>, c
    assert lm.ngram_counts(2)[("<s>", "b")] == 2  # starts with <s>: the raw count
    assert lm.discounts[2] == (0.75, 0.75, 0.75)
    est = NGramLM(2, "kn", discount=None).fit(["ab", "b", "cb", "b"])
    assert est.discounts[1] == estimate_discounts(est.counts[1], modified=False)
    counts = np.array([1] * 10 + [2] * 4 + [3] * 3 + [4] * 2)
    y = 10 / (10 + 2 * 4)
    assert estimate_discounts(counts, True) == pytest.approx(
        (1 - 2 * y * 4 / 10, 2 - 3 * y * 3 / 4, 3 - 4 * y * 2 / 3)
    )


def test_interpolated_lambdas_are_tuned():
    corpus = toy_corpus(300)
    lm = NGramLM(3, "interpolated").fit(corpus)
    assert sorted(lm.lambdas) == [1, 2, 3]
    assert all(0 < lam < 1 for lam in lm.lambdas.values())
    held = NGramLM(3, "interpolated").fit(corpus[:250], heldout=corpus[250:])
    fixed = NGramLM(3, "interpolated").fit(corpus[:250], heldout=corpus[250:])
    fixed.lambdas = {1: 0.5, 2: 0.5, 3: 0.5}
    fixed._set_weights()
    assert held.perplexity(corpus[250:]) <= fixed.perplexity(corpus[250:])


def test_smoothings_rank_sensibly():
    corpus = toy_corpus(400)
    ppl = {s: NGramLM(3, s).fit(corpus[:350]).perplexity(corpus[350:]) for s in SMOOTHINGS}
    assert all(np.isfinite(v) for s, v in ppl.items() if s != "mle")
    assert ppl["mkn"] < ppl["add_k"]


# ----------------------------------------------------------------- ARPA


def read_arpa(path):
    """A tiny ARPA reader: ``({n-gram: (log10 p, log10 backoff)}, {order: count})``."""
    table, header, order = {}, {}, None
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        if line.startswith("ngram "):
            n, count = line[len("ngram "):].split("=")
            header[int(n)] = int(count)
        elif line.startswith("\\") and line.endswith("-grams:"):
            order = int(line[1:-len("-grams:")])
        elif line.strip() and order is not None and not line.startswith("\\"):
            fields = line.split("\t")
            backoff = float(fields[2]) if len(fields) > 2 else 0.0
            table[tuple(fields[1].split(" "))] = (float(fields[0]), backoff)
    return table, header


def arpa_log10(table, order, context, word):
    """log10 p(word | context) with backoff: the longest n-gram found, plus backoffs."""
    history, backoff = tuple(context)[len(context) - order + 1:] if order > 1 else (), 0.0
    for i in range(len(history) + 1):
        h = history[i:]
        if h + (word,) in table:
            return table[h + (word,)][0] + backoff
        backoff += table.get(h, (0.0, 0.0))[1]
    raise KeyError(word)


@pytest.mark.parametrize("smoothing", [s for s in SMOOTHINGS if s != "mle"])
def test_arpa_round_trip(tmp_path, smoothing):
    corpus = toy_corpus()
    lm = NGramLM(3, smoothing).fit(corpus[:150])
    path = lm.to_arpa(tmp_path / "model.arpa")
    assert sorted(os.listdir(tmp_path)) == ["model.arpa"]  # no temporary file left
    table, header = read_arpa(path)
    assert header == {n: len(lm.ngram_ids(n)) for n in (1, 2, 3)}
    assert table[("<s>",)][0] == -99
    for s in [*corpus[150:], ["zebra", "the", "cat"]]:
        words = [w if w in lm.index else "<unk>" for w in s]
        for i, w in enumerate([*words, "</s>"]):
            context = ["<s>", *words[:i]]
            got = arpa_log10(table, 3, context, w) * math.log(10)
            assert got == pytest.approx(lm.logprob(w, context), abs=1e-4)


def test_arpa_refuses_what_it_cannot_write(tmp_path):
    with pytest.raises(ValueError, match="'mle' has a backoff weight of 0"):
        NGramLM(2, "mle").fit([["a"]]).to_arpa(tmp_path / "x.arpa")
    with pytest.raises(ValueError, match="whitespace"):
        NGramLM(2).fit(["a b"]).to_arpa(tmp_path / "x.arpa")
    assert os.listdir(tmp_path) == []


def test_kenlm_scores_our_arpa_export_as_we_do(shakespeare, tmp_path):
    """KenLM's own query code, reading our ARPA file, gives our perplexity (word level)."""
    import kenlm

    _, train, validation = shakespeare
    lm = NGramLM(3).fit([ln.split() for ln in train])
    model = kenlm.Model(str(lm.to_arpa(tmp_path / "ts3.arpa")))
    ours = lm.evaluate([ln.split() for ln in validation])
    log10_total = sum(model.score(" ".join(ln.split()), bos=True, eos=True) for ln in validation)
    assert 10 ** (-log10_total / ours["tokens"]) == pytest.approx(ours["perplexity"], rel=1e-5)


def test_kenlm_scores_a_toy_export_sentence_by_sentence(tmp_path):
    import kenlm

    corpus = toy_corpus()
    lm = NGramLM(3).fit(corpus[:150])
    model = kenlm.Model(str(lm.to_arpa(tmp_path / "model.arpa")))
    for s in corpus[150:]:
        want = lm.evaluate([s])["logprob"] / math.log(10)
        assert model.score(" ".join(s), bos=True, eos=True) == pytest.approx(want, abs=1e-4)


# ----------------------------------------------------------------- stream cross-entropy


def by_hand_stream_nats(lm, text):
    """Mean -log p of text[1:], one logprob() call per character, its whole history as context."""
    return -sum(lm.logprob(ch, ["<s>", *text[:i]]) for i, ch in enumerate(text) if i) / (len(text) - 1)


@pytest.mark.parametrize("smoothing", [s for s in SMOOTHINGS if s not in ("interpolated", "mle")])
@pytest.mark.parametrize("order", [1, 2, 4])
def test_stream_cross_entropy_scores_every_character_after_the_first(smoothing, order):
    train_text = "to be, or not to be:\nthat is the question.\n" * 3 + "whether 'tis nobler\n"
    text = "to be or not;\nthe question, whether.\nzebra"          # an unseen 'z' too
    got = stream_cross_entropy(train_text, text, order, smoothing)
    lm = NGramLM(order, smoothing).fit([list(train_text)])
    assert got == pytest.approx(by_hand_stream_nats(lm, text), rel=1e-12)


def test_stream_cross_entropy_by_counting():
    """An MLE bigram from scratch: p(b | a) = count(a b) / count(a ·), newlines included."""
    train_text, text = "abc\nabd\nab\n", "ab\nabd"
    pairs = Counter(zip(train_text, train_text[1:]))
    pairs[train_text[-1], "</s>"] += 1  # the training stream ends with </s>
    after = Counter()
    for (a, _), c in pairs.items():
        after[a] += c
    each = [-math.log(pairs[a, b] / after[a]) for a, b in zip(text, text[1:])]
    assert stream_cross_entropy(train_text, text, 2, "mle") == pytest.approx(np.mean(each), rel=1e-12)
    np.testing.assert_allclose(stream_losses(train_text, text, 2, "mle"), each, rtol=1e-12)


def test_stream_cross_entropy_errors():
    with pytest.raises(TypeError, match="text must be a str"):
        stream_cross_entropy("abc", ["a", "b"], 2)
    with pytest.raises(TypeError, match="train_text must be a str"):
        stream_cross_entropy(["abc"], "ab", 2)
    with pytest.raises(ValueError, match="train_text must not be empty"):
        stream_cross_entropy("", "ab", 2)
    with pytest.raises(ValueError, match="at least 2 characters"):
        stream_cross_entropy("abc", "a", 2)
    with pytest.raises(ValueError, match="interpolated.*held-out"):
        stream_cross_entropy("abc", "ab", 2, "interpolated")
    with pytest.raises(ValueError, match="order must be an integer >= 1, got 0"):
        stream_cross_entropy("abc", "ab", 0)
    with pytest.raises(ValueError, match="smoothing must be one of"):
        stream_cross_entropy("abc", "ab", 2, "witten-bell")


# ----------------------------------------------------------------- generation


def test_generate_is_reproducible_and_ends_sentences():
    lm = NGramLM(3, "mle").fit([["to", "be", "or", "not"]])
    assert lm.generate(0) == ["to", "be", "or", "not"]  # the only sentence it knows
    assert lm.generate(1, context=["to"]) == ["be", "or", "not"]
    model = NGramLM(3).fit(toy_corpus())
    samples = [model.generate(seed, max_new_tokens=50) for seed in range(5)]
    assert samples == [model.generate(seed, max_new_tokens=50) for seed in range(5)]
    assert len({tuple(s) for s in samples}) > 1
    assert model.generate(np.random.default_rng(3)) == model.generate(3)
    assert not {"<s>", "</s>"} & {t for s in samples for t in s}
    assert len(model.generate(0, max_new_tokens=2)) <= 2


# ----------------------------------------------------------------- errors and conventions


def test_strings_are_character_sequences():
    a = NGramLM(3).fit(["hello", "help"])
    b = NGramLM(3).fit([list("hello"), tuple("help")])
    assert a.vocab == b.vocab
    assert a.perplexity(["held"]) == b.perplexity([list("held")])


@pytest.mark.parametrize("order", [0, -1, 2.5, "3", True, None])
def test_bad_order(order):
    with pytest.raises(ValueError, match="order"):
        NGramLM(order)


def test_every_smoothing_has_its_weights():
    assert set(WEIGHTS) == set(SMOOTHINGS)


@pytest.mark.parametrize("k", [0, -1, True, "1", float("inf")])
def test_bad_k(k):
    with pytest.raises(ValueError, match=r"k must be a number in \(0\.0, inf\)"):
        NGramLM(3, "add_k", k=k)


@pytest.mark.parametrize("discount", [0, 1.5, -0.5, True, "0.75"])
def test_bad_discount(discount):
    with pytest.raises(ValueError, match=r"discount must be a number in \(0\.0, 1\.0\]"):
        NGramLM(3, "absolute", discount=discount)


def test_integer_arguments_accept_numpy_integers():
    lm = NGramLM(np.int64(2), "kn", k=np.float32(0.5), discount=np.float64(1.0)).fit(["ab"])
    assert lm.order == 2 and type(lm.order) is int
    assert lm.ngram_ids(np.int64(2)).shape == (3, 2)
    assert len(lm.generate(0, max_new_tokens=np.int64(1))) <= 1
    for n in (0, 3, True):
        with pytest.raises(ValueError, match=r"n must be an integer in \[1, 2\]"):
            lm.ngram_ids(n)
    for max_new_tokens in (-1, True, 2.0):
        with pytest.raises(ValueError, match="max_new_tokens must be an integer >= 0"):
            lm.generate(0, max_new_tokens=max_new_tokens)


def test_bad_arguments_and_input():
    with pytest.raises(ValueError, match="mle, add_k, interpolated, absolute, kn, mkn"):
        NGramLM(3, "witten-bell")
    lm = NGramLM(2)
    with pytest.raises(RuntimeError, match=r"fit\(\) first"):
        lm.perplexity(["ab"])
    with pytest.raises(RuntimeError, match=r"fit\(\) first"):
        lm.generate(0)
    with pytest.raises(ValueError, match="empty"):
        lm.fit([])
    with pytest.raises(TypeError, match="single str"):
        lm.fit("some string")
    with pytest.raises(TypeError, match=r"sentences\[1\].*int"):
        lm.fit([["a"], 5])
    with pytest.raises(TypeError, match=r"sentences\[0\].*NoneType"):
        lm.fit([None])
    with pytest.raises(TypeError, match="iterable"):
        lm.fit(42)
    with pytest.raises(TypeError, match="tokens must be strings"):
        lm.fit([[1, 2]])
    with pytest.raises(ValueError, match="<s>"):
        lm.fit([["<s>", "a"]])
    lm.fit(["ab"])
    with pytest.raises(TypeError, match="context"):
        lm.logprob("a", None)
    with pytest.raises(TypeError, match="token"):
        lm.logprob(3, ["a"])
    with pytest.raises(TypeError, match=r"sentences\[0\]"):
        lm.evaluate([7])
    with pytest.raises(ValueError, match="interpolated smoothing needs >= 2 sentences"):
        NGramLM(2, "interpolated").fit(["ab"])
    with pytest.raises(ValueError, match="add_k with k=None needs >= 2 sentences"):
        NGramLM(2, "add_k", k=None).fit(["ab"])
    with pytest.raises(ValueError, match="heldout is empty"):
        NGramLM(2, "add_k", k=None).fit(["ab", "ba"], heldout=[])
    with pytest.raises(TypeError, match="heldout must be an iterable"):
        NGramLM(2, "interpolated").fit(["ab", "ba"], heldout="ab")
