"""N-gram language models with the classic smoothings, counted and scored with numpy.

Taught in chapter 2 (``notebooks/02_ngram_models.ipynb``).

Conventions (KenLM's, so that the numbers can be checked against ``lmplz`` and ``query``):

- A corpus is an iterable of sentences; a sentence is a sequence of tokens (a ``str`` is a
  sequence of characters).  Each sentence is read as ``<s> w1 ... wm </s>``: ``<s>`` is
  context only and never predicted; ``</s>`` is predicted and scored.
- The vocabulary is ``<unk>``, ``<s>``, ``</s>`` and then the training tokens, sorted.  A
  token never seen in training is scored as ``<unk>`` (an OOV).  Probabilities are spread
  over the ``|V| = len(vocab) - 1`` tokens that can be predicted (all but ``<s>``).
- An n-gram starts with at most one ``<s>`` and never crosses it: near the start of a
  sentence the model uses the shorter context it has (``<s> w1`` predicts ``w2``).
- A context never seen in training backs off with weight 1: the model uses the longest
  suffix of the context that it has seen.
- Perplexity is ``exp`` of the mean negative natural-log probability over all scored tokens:
  every token of every sentence, OOVs included (KenLM's "including OOVs"), plus one ``</s>``
  per sentence.

Every smoothing is one recursion over the orders ``n = 1 .. N``, with ``c`` the context
(the last ``n - 1`` tokens) and ``c'`` the context shortened by its first token::

    p_0(w)     = 1 / |V|
    p_n(w | c) = alpha_n(c w) + gamma_n(c) * p_{n-1}(w | c')   if c was seen as a context
               = p_{n-1}(w | c')                                otherwise

``alpha_n`` is the n-gram's own (discounted) share and ``gamma_n`` the weight the context
gives to the shorter one; ``alpha_n(c w) = 0`` for an n-gram never seen.  The recursion is
written once (:meth:`NGramLM._combine`); each smoothing only supplies its ``alpha`` and
``gamma`` arrays, in one function (:data:`WEIGHTS`), as NLTK's ``InterpolatedLanguageModel``
does.  With ``a`` the count used at order ``n`` and ``A(c) = sum_w a(c w)``:

- ``"mle"``: ``alpha = a / A``, ``gamma = 0``: the longest seen context alone; unseen
  events get probability 0.
- ``"add_k"``: ``p = (a + k) / (A + k |V|)`` at the longest order a position has (``N``, or
  a shorter one whose context starts with ``<s>``), and nothing from the orders below it.
  In the recursion that is ``alpha = a / (A + k |V|)``, ``gamma = k |V| / (A + k |V|)`` at
  that order, over orders that pass ``p_0`` through (``alpha = 0``, ``gamma = 1``): the
  ``k`` of every token is ``gamma`` times the uniform ``p_0``.  A context of fewer than
  ``N - 1`` tokens in mid-sentence is read as unseen: ``p = 1 / |V|``.  With ``k=None``,
  ``k`` is tuned on held-out sentences, as the lambdas of ``"interpolated"`` are: the value
  of :data:`ADD_K_GRID` with the lowest held-out cross-entropy.
- ``"interpolated"`` (Jelinek-Mercer): ``alpha = lambda_n a / A``,
  ``gamma = 1 - lambda_n``, one ``lambda_n`` per order tuned by EM on held-out sentences.
- ``"absolute"``: ``alpha = (a - D_n) / A``, ``gamma = D_n N_{1+}(c) / A``, raw counts.
- ``"kn"`` (Kneser-Ney): as ``"absolute"``, but below the top order ``a`` is the
  continuation count, the number of distinct tokens seen just before the n-gram
  (n-grams that start with ``<s>`` keep their raw count: nothing comes before ``<s>``).
- ``"mkn"`` (modified Kneser-Ney, Chen & Goodman 1998, exactly as KenLM's ``lmplz``): as
  ``"kn"`` with three discounts per order, ``D1``, ``D2``, ``D3+`` for counts 1, 2, 3+,
  ``D_k = k - (k + 1) Y n_{k+1} / n_k`` with ``Y = n_1 / (n_1 + 2 n_2)`` and ``n_k`` the
  number of n-grams of that order with count ``k``.  Where that fails (some ``n_k = 0``, or
  ``D_k`` outside ``[0, k]``) KenLM's fallback ``0.5, 1, 1.5`` is used.

``"absolute"`` and ``"kn"`` use ``discount`` (0.75 by default) at every order; pass
``discount=None`` to estimate ``D = Y = n_1 / (n_1 + 2 n_2)`` per order instead (falling back
to 0.5 where ``n_1`` or ``n_2`` is 0).  ``model.discounts[n]`` is always a triple
``(D1, D2, D3+)``, with three equal values for these two.

A stream of characters (a whole text, newlines included) is one sentence;
:func:`stream_cross_entropy` scores one in the convention of :mod:`lmbook.perplexity`, and gives
chapter 2's stream figures, the bars of chapters 3 and 4.

How it is computed: tokens become integer ids; the n-grams of order ``n`` get dense ids
``0 .. count-1`` in order of their key ``prefix_id * V + last_id``, where ``prefix_id`` is
the dense id of their first ``n - 1`` tokens.  One sort counts them (``_unique``) and
``np.searchsorted`` finds them again when scoring, one order at a time for all positions
at once.

Example:
    >>> lm = NGramLM(2, smoothing="add_k").fit([["a", "b"], ["a", "c"]])
    >>> lm.vocab
    ['<unk>', '<s>', '</s>', 'a', 'b', 'c']
    >>> round(float(np.exp(lm.logprob("b", ["a"]))), 4)   # (1 + 1) / (2 + 5)
    0.2857
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from itertools import chain, repeat
from pathlib import Path

import numpy as np

from lmbook.checks import check_int, check_rate
from lmbook.data import write_atomic

__all__ = [
    "ADD_K_GRID", "BOS", "EOS", "SMOOTHINGS", "UNK", "WEIGHTS",
    "NGramLM", "as_corpus", "estimate_discounts", "stream_cross_entropy", "stream_losses",
]

UNK, BOS, EOS = "<unk>", "<s>", "</s>"
UNK_ID, BOS_ID, EOS_ID = 0, 1, 2
SMOOTHINGS = ("mle", "add_k", "interpolated", "absolute", "kn", "mkn")
DISCOUNTING = ("absolute", "kn", "mkn")
CONTINUATION = ("kn", "mkn")  # smooth continuation counts below the top order
FALLBACK_DISCOUNTS = (0.5, 1.0, 1.5)  # KenLM's --discount_fallback defaults
ADD_K_GRID = np.logspace(-6, 1, 141)  # the k tried by add_k with k=None: 20 per decade


def as_corpus(sentences, name: str = "sentences") -> list:
    """Check that ``sentences`` is an iterable of token sequences and return it as a list.

    A bare string is refused: it would be read as one-character sentences.

    Example:
        >>> as_corpus(iter(["ab", ["c", "d"]]))
        ['ab', ['c', 'd']]
    """
    if isinstance(sentences, (str, bytes)):
        raise TypeError(
            f"{name} must be an iterable of sentences, got a single {type(sentences).__name__}; "
            f"wrap it in a list ([text]) or split it into lines"
        )
    if not isinstance(sentences, Iterable):
        raise TypeError(f"{name} must be an iterable of sentences, got {type(sentences).__name__}")
    sents = list(sentences)
    for i, s in enumerate(sents):
        if not isinstance(s, (Sequence, np.ndarray)) or isinstance(s, bytes):
            raise TypeError(
                f"{name}[{i}] must be a sequence of tokens (list, tuple or str), "
                f"got {type(s).__name__}"
            )
    return sents


def estimate_discounts(counts: np.ndarray, modified: bool) -> tuple[float, float, float]:
    """Discounts ``(D1, D2, D3+)`` from the counts of counts of one order.

    Modified Kneser-Ney: ``D_k = k - (k + 1) Y n_{k+1} / n_k``, ``Y = n_1 / (n_1 + 2 n_2)``,
    with KenLM's fallback ``(0.5, 1, 1.5)`` when a needed ``n_k`` is 0 or a ``D_k`` leaves
    ``[0, k]``.  Otherwise one discount ``Y`` (fallback 0.5) used for every count.

    Example:
        >>> estimate_discounts(np.array([1, 1, 1, 1, 2, 2, 3, 4]), modified=True)
        (0.5, 1.25, 1.0)
        >>> estimate_discounts(np.array([1, 1, 2]), modified=True)    # no count 3: fallback
        (0.5, 1.0, 1.5)
        >>> estimate_discounts(np.array([1, 1, 1, 1, 2, 2, 3, 4]), modified=False)
        (0.5, 0.5, 0.5)
    """
    n = [int(np.count_nonzero(counts == j)) for j in range(5)]  # n[j]: n-grams with count j
    if not modified:
        d = n[1] / (n[1] + 2 * n[2]) if n[1] and n[2] else FALLBACK_DISCOUNTS[0]
        return (d, d, d)
    if not all(n[1:4]):
        return FALLBACK_DISCOUNTS
    y = n[1] / (n[1] + 2 * n[2])
    d = tuple(j - (j + 1) * y * n[j + 1] / n[j] for j in (1, 2, 3))
    if not all(0.0 <= dj <= j for j, dj in zip((1, 2, 3), d, strict=True)):
        return FALLBACK_DISCOUNTS
    return d


def _gather(values: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """``values[idx]``, with 0 where ``idx`` is -1 (absent)."""
    if values.size == 0:
        return np.zeros(idx.shape)
    return np.where(idx >= 0, values[np.maximum(idx, 0)], 0)


def _shift(a: np.ndarray) -> np.ndarray:
    """``a`` moved one step right, with -1 in front: what precedes each position."""
    out = np.full_like(a, -1)
    out[1:] = a[:-1]
    return out


def _find(keys: np.ndarray, query: np.ndarray) -> np.ndarray:
    """Index of each ``query`` in the sorted ``keys``, or -1 where it is absent."""
    if keys.size == 0:
        return np.full(query.shape, -1)
    j = np.minimum(np.searchsorted(keys, query), len(keys) - 1)
    return np.where(keys[j] == query, j, -1)


def _unique(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``np.unique(keys, return_inverse=True, return_counts=True)`` for keys >= 0, faster.

    Each key is packed with its position into one int64 when the bits allow, so that a plain
    sort (much faster than numpy's argsort) orders the keys and carries their positions.

    Example:
        >>> [a.tolist() for a in _unique(np.array([7, 3, 7, 0]))]
        [[0, 3, 7], [2, 1, 2, 0], [1, 1, 2]]
    """
    n = len(keys)
    shift = max(1, (n - 1).bit_length())
    if n and int(keys.max()).bit_length() + shift <= 63:
        packed = np.sort((keys << shift) | np.arange(n))
        order, ordered = packed & ((1 << shift) - 1), packed >> shift
    else:
        order = np.argsort(keys, kind="stable")
        ordered = keys[order]
    first = np.empty(n, dtype=bool)  # where a new key starts in sorted order
    first[:1] = True
    np.not_equal(ordered[1:], ordered[:-1], out=first[1:])
    inverse = np.empty(n, dtype=np.int64)
    inverse[order] = np.cumsum(first) - 1
    return ordered[first], inverse, np.diff(np.append(np.flatnonzero(first), n))


# ------------------------------------------------------------------- the smoothings' weights
# Each takes a model counted by NGramLM.fit and an order n, and returns alpha (one value
# per n-gram of order n, in dense-id order) and gamma (one per context, the dense ids of
# order n - 1; a single entry, the empty context, for n = 1).


def _shares(lm: NGramLM, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The counts ``a`` of order ``n``, each n-gram's context id, and each context's ``A``."""
    return lm.counts[n].astype(float), lm._context_of(n), lm._ctx_total[n]


def _mle_weights(lm: NGramLM, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Maximum likelihood: ``alpha = a / A``, ``gamma = 0`` (the longest seen context alone).

    Example:
        >>> lm = NGramLM(2, "mle").fit(["ab", "ac"])
        >>> alpha, gamma = _mle_weights(lm, 2)
        >>> alpha.tolist(), gamma.tolist()   # <s> a, a b, a c, b </s>, c </s>
        ([1.0, 0.5, 0.5, 1.0, 1.0], [0.0, 0.0, 0.0, 0.0, 0.0, 0.0])
    """
    a, ctx, total = _shares(lm, n)
    return a / np.maximum(total[ctx], 1e-300), np.zeros(len(total))


def _add_k_weights(lm: NGramLM, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Add-k: ``(a + k) / (A + k |V|)`` at a context's longest order, pass-through below it.

    A context is at its longest order when ``n`` is the model's order or the context starts
    with ``<s>`` (a longer n-gram would cross it).  There ``alpha = a / (A + k |V|)`` and
    ``gamma = k |V| / (A + k |V|)``, which the recursion multiplies by the uniform
    ``p_0 = 1 / |V|`` that the orders below pass through (``alpha = 0``, ``gamma = 1``).

    Example:
        >>> lm = NGramLM(2, "add_k").fit(["ab", "ac"])      # |V| = 5, k = 1
        >>> alpha, gamma = _add_k_weights(lm, 2)
        >>> alpha.round(4).tolist()                           # <s> a, a b, a c, b </s>, c </s>
        [0.2857, 0.1429, 0.1429, 0.1667, 0.1667]
        >>> gamma.round(4).tolist()                           # contexts <unk> <s> </s> a b c
        [1.0, 0.7143, 1.0, 0.7143, 0.8333, 0.8333]
        >>> _add_k_weights(lm, 1)                             # below the top order: p_0
        (array([0., 0., 0., 0., 0., 0.]), array([1.]))
    """
    a, ctx, total = _shares(lm, n)
    if n == lm.order:
        longest = np.ones(len(total), dtype=bool)
    elif n == 1:
        longest = np.zeros(1, dtype=bool)
    else:
        longest = lm._starts_bos[n - 1]
    mass = lm.pseudo_count * (len(lm.vocab) - 1)
    alpha = np.where(longest[ctx], a / (total[ctx] + mass), 0.0)
    return alpha, np.where(longest, mass / (total + mass), 1.0)


def _interpolated_weights(lm: NGramLM, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Jelinek-Mercer: ``alpha = lambda_n a / A``, ``gamma = 1 - lambda_n``.

    Example:
        >>> lm = NGramLM(2, "interpolated").fit(["ab", "ac"], heldout=["ab"])
        >>> lm.lambdas = {1: 0.5, 2: 0.75}
        >>> alpha, gamma = _interpolated_weights(lm, 2)
        >>> alpha.tolist(), gamma.tolist()[:2]               # <s> a, a b, a c, b </s>, c </s>
        ([0.75, 0.375, 0.375, 0.75, 0.75], [0.25, 0.25])
    """
    a, ctx, total = _shares(lm, n)
    lam = lm.lambdas[n]
    return lam * a / np.maximum(total[ctx], 1e-300), np.full(len(total), 1.0 - lam)


def _discounted_weights(lm: NGramLM, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Absolute discounting: ``alpha = (a - D(a)) / A``, ``gamma = sum_w D(a(c w)) / A``.

    ``D(a)`` is ``D1``, ``D2`` or ``D3+`` of ``lm.discounts[n]`` by the count ``a``.  The
    weights of ``"absolute"``, and of ``"kn"`` and ``"mkn"`` too: those differ only in their
    counts (continuation counts below the top order) and discounts.

    Example:
        >>> lm = NGramLM(2, "absolute").fit(["ab", "ac"])    # D = 0.75
        >>> alpha, gamma = _discounted_weights(lm, 2)
        >>> alpha.tolist()                                    # <s> a, a b, a c, b </s>, c </s>
        [0.625, 0.125, 0.125, 0.25, 0.25]
        >>> gamma.tolist()                                    # contexts <unk> <s> </s> a b c
        [0.0, 0.375, 0.0, 0.75, 0.75, 0.75]
    """
    a, ctx, total = _shares(lm, n)
    d = np.array((0.0, *lm.discounts[n]))[np.minimum(lm.counts[n], 3)]
    gamma = np.bincount(ctx, weights=d, minlength=len(total)) / np.maximum(total, 1)
    return (a - d) / np.maximum(total[ctx], 1e-300), gamma


WEIGHTS = {
    "mle": _mle_weights,
    "add_k": _add_k_weights,
    "interpolated": _interpolated_weights,
    "absolute": _discounted_weights,
    "kn": _discounted_weights,
    "mkn": _discounted_weights,
}
"""Each smoothing's function ``(model, n) -> (alpha, gamma)``."""


class NGramLM:
    """An n-gram language model of order ``order`` (3 = trigram).

    Args:
        order: the n of the n-grams, >= 1.
        smoothing: one of :data:`SMOOTHINGS` (see the module docstring).
        k: the pseudo-count of ``"add_k"``, > 0 (1 = Laplace), or ``None`` to tune it on
            held-out sentences (see :meth:`fit`).
        discount: the fixed discount of ``"absolute"`` and ``"kn"``, in ``(0, 1]``, or
            ``None`` to estimate it per order from counts of counts.

    After :meth:`fit`: ``vocab`` (tokens, id order) and ``index`` (token to id);
    ``raw_counts[n]`` the count of each n-gram and ``counts[n]`` the count the smoothing
    uses (continuation counts below the top order for ``"kn"`` and ``"mkn"``), both in
    dense-id order (:meth:`ngram_ids` gives the tokens, :meth:`ngram_counts` a dict);
    ``discounts[n] == (D1, D2, D3+)`` for the discounting smoothings; ``lambdas[n]`` for
    ``"interpolated"``; ``pseudo_count``, the ``k`` that ``"add_k"`` uses (tuned if
    ``k=None``).

    Example:
        >>> lm = NGramLM(3).fit(["abab", "abba"])      # two sentences of characters
        >>> lm.ngram_counts(3)[("a", "b", "a")]
        1
        >>> round(lm.perplexity(["abab"]), 3)
        2.079
    """

    def __init__(self, order: int, smoothing: str = "mkn", k: float | None = 1.0,
                 discount: float | None = 0.75):
        order = check_int("order", order, minimum=1)
        if smoothing not in SMOOTHINGS:
            raise ValueError(f"smoothing must be one of {', '.join(SMOOTHINGS)}; got {smoothing!r}")
        if k is not None:
            k = check_rate("k", k, low=0.0, high=float("inf"), include_low=False)
        if discount is not None:
            discount = check_rate("discount", discount, include_low=False, include_high=True)
        self.order, self.smoothing, self.k, self.discount = order, smoothing, k, discount
        self.vocab: list[str] | None = None

    def __repr__(self) -> str:
        fitted = f", vocab={len(self.vocab)}" if self.vocab is not None else ""
        return f"NGramLM(order={self.order}, smoothing={self.smoothing!r}{fitted})"

    # ----------------------------------------------------------------------------- fitting

    def fit(self, sentences, heldout=None) -> NGramLM:
        """Count the n-grams of ``sentences`` and set the smoothing's weights; returns self.

        Args:
            sentences: an iterable of token sequences.
            heldout: for ``"interpolated"``, and ``"add_k"`` with ``k=None``, the sentences
                the lambdas or ``k`` are tuned on (ignored otherwise).  If ``None``, the
                last 10% of ``sentences`` are held out for the tuning, then the counts are
                taken again on all of them.

        Example:
            >>> NGramLM(2).fit([["to", "be"], ["or", "not"]]).vocab[3:]
            ['be', 'not', 'or', 'to']
            >>> lm = NGramLM(1, "add_k", k=None).fit(["aaab"], heldout=["abb"])
            >>> round(lm.pseudo_count, 3)   # the grid's nearest to the exact optimum, 1/2
            0.501
        """
        sents = as_corpus(sentences)
        if not sents:
            raise ValueError("sentences is empty: an n-gram model needs at least one sentence")
        tune = self.smoothing == "interpolated" or (self.smoothing == "add_k" and self.k is None)
        train = sents
        if tune:
            what = "interpolated smoothing" if self.smoothing == "interpolated" else "add_k with k=None"
            if heldout is not None:
                held = as_corpus(heldout, "heldout")
                if not held:
                    raise ValueError(f"heldout is empty: {what} needs sentences to tune on")
            elif len(sents) < 2:
                raise ValueError(f"{what} needs >= 2 sentences (10% are held out), or heldout=")
            else:
                cut = len(sents) - max(1, len(sents) // 10)
                train, held = sents[:cut], sents[cut:]
        self._build_vocab(sents)
        self._count(train)
        if self.smoothing == "interpolated":
            self.lambdas = self._em_lambdas(held)
        if self.smoothing == "add_k":
            self.pseudo_count = self._tune_k(held) if self.k is None else self.k
        if train is not sents:
            self._count(sents)
        self._set_weights()
        return self

    def _build_vocab(self, sents: list) -> None:
        """``vocab``: ``<unk>``, ``<s>``, ``</s>``, then the training tokens sorted."""
        try:
            types = set(chain.from_iterable(sents))
        except TypeError as err:
            raise TypeError(f"tokens must be strings: {err}") from None
        bad = [t for t in types if not isinstance(t, str)]
        if bad:
            raise TypeError(f"tokens must be strings, got {type(bad[0]).__name__} {bad[0]!r}")
        if BOS in types or EOS in types:
            raise ValueError(f"sentences must not contain {BOS!r} or {EOS!r}: they are added")
        self.vocab = [UNK, BOS, EOS, *sorted(types - {UNK})]
        self.index = {t: i for i, t in enumerate(self.vocab)}

    def _check_fitted(self) -> None:
        if self.vocab is None:
            raise RuntimeError("this NGramLM is not fitted yet: call fit() first")

    def _encode(self, sents: list) -> tuple[np.ndarray, np.ndarray]:
        """All sentences as one id stream ``<s> w.. </s> <s> ..``, and each id's position.

        ``pos`` counts from the sentence's ``<s>`` (position 0), so a token at position
        ``p`` has ``p`` tokens of context.
        """
        lens = np.fromiter(map(len, sents), dtype=np.int64, count=len(sents))
        flat = list(chain.from_iterable(sents))
        try:
            tok = np.fromiter(map(self.index.get, flat, repeat(UNK_ID)), np.int64, len(flat))
        except TypeError as err:
            raise TypeError(f"tokens must be strings: {err}") from None
        starts = np.cumsum(lens + 2) - (lens + 2)
        ids = np.empty(int(lens.sum()) + 2 * len(sents), dtype=np.int64)
        is_tok = np.ones(len(ids), dtype=bool)
        is_tok[starts] = is_tok[starts + lens + 1] = False
        ids[starts], ids[starts + lens + 1], ids[is_tok] = BOS_ID, EOS_ID, tok
        pos = np.arange(len(ids)) - np.repeat(starts, lens + 2)
        return ids, pos

    def _count(self, sents: list) -> None:
        """Dense n-gram ids, raw counts, and the counts the smoothing uses, per order."""
        ids, pos = self._encode(sents)
        V, N = len(self.vocab), self.order
        scored = pos >= 1
        self._keys = {1: np.arange(V)}
        raw = {1: np.bincount(ids[scored], minlength=V)}
        suffix, starts_bos = {}, {1: np.arange(V) == BOS_ID}
        gram = ids  # the dense id of the n-gram that ends at each position (-1: none)
        for n in range(2, N + 1):
            ok = pos >= n - 1
            prefix = _shift(gram)[ok]  # the (n-1)-gram just before
            keys, dense, raw[n] = _unique(prefix * V + ids[ok])
            self._keys[n] = keys
            suffix[n] = np.empty(len(keys), dtype=np.int64)
            suffix[n][dense] = gram[ok]                    # its last n-1 tokens
            starts_bos[n] = np.zeros(len(keys), dtype=bool)
            starts_bos[n][dense] = pos[ok] == n - 1        # its first token is <s>
            gram = np.full(len(ids), -1)
            gram[ok] = dense
        self._suffix, self._starts_bos = suffix, starts_bos
        self.raw_counts = raw
        self.counts = dict(raw)
        if self.smoothing in CONTINUATION:  # continuation counts below the top order
            for n in range(1, N):
                left = np.bincount(suffix[n + 1], minlength=len(raw[n]))
                self.counts[n] = np.where(starts_bos[n], raw[n], left)
        self._ctx_total = {
            n: np.bincount(self._context_of(n), weights=self.counts[n],
                           minlength=len(self._keys[n - 1]) if n > 1 else 1)
            for n in range(1, N + 1)
        }
        if self.smoothing in DISCOUNTING:
            fixed = self.smoothing != "mkn" and self.discount is not None
            self.discounts = {
                n: (self.discount,) * 3 if fixed
                else estimate_discounts(self.counts[n], self.smoothing == "mkn")
                for n in range(1, N + 1)
            }

    def _context_of(self, n: int) -> np.ndarray:
        """The dense id of each n-gram's context (its first n-1 tokens); 0 for unigrams."""
        if n == 1:
            return np.zeros(len(self.vocab), dtype=np.int64)
        return self._keys[n] // len(self.vocab)

    def _set_weights(self) -> None:
        """``alpha[n]`` per n-gram and ``gamma[n]`` per context, from :data:`WEIGHTS`."""
        weights = WEIGHTS[self.smoothing]
        self._alpha, self._gamma = {}, {}
        for n in range(1, self.order + 1):
            self._alpha[n], self._gamma[n] = weights(self, n)

    def _tune_k(self, heldout: list) -> float:
        """The ``k`` of :data:`ADD_K_GRID` that gives ``heldout`` the lowest cross-entropy.

        Each held-out token's add-k probability ``(a + k) / (A + k |V|)`` needs only the
        counts ``a`` and ``A`` at the longest order its position has, so they are gathered
        once and every ``k`` of the grid is scored on the distinct ``(a, A)`` pairs.
        """
        ids, pos = self._encode(heldout)
        grams, ctxs, avail = self._lookup(ids, pos)
        s = pos >= 1
        a, total = np.zeros(int(s.sum())), np.zeros(int(s.sum()))
        for n in range(1, self.order + 1):
            at = avail[s] == n
            a[at] = _gather(self.counts[n], grams[n][s][at])
            total[at] = _gather(self._ctx_total[n], ctxs[n][s][at])
        pairs, weight = np.unique(np.stack([a, total]), axis=1, return_counts=True)
        size = len(self.vocab) - 1
        loss = [-(weight * np.log((pairs[0] + k) / (pairs[1] + k * size))).sum()
                for k in ADD_K_GRID]
        return float(ADD_K_GRID[int(np.argmin(loss))])

    def _em_lambdas(self, heldout: list) -> dict[int, float]:
        """Tune the Jelinek-Mercer ``lambda_n`` by EM on held-out sentences.

        Read the recursion as a walk down from the longest order: at each order whose
        context was seen, stop with probability ``lambda_n`` and emit the MLE ``a / A``,
        else go one order down; order 0 emits ``1 / |V|``.  The E step gets how likely each
        stop was for each held-out token; the M step sets ``lambda_n`` = expected stops at
        ``n`` / expected visits of ``n``.
        """
        ids, pos = self._encode(heldout)
        grams, ctxs, _ = self._lookup(ids, pos)
        s = pos >= 1
        use, mle = [], []
        for n in range(1, self.order + 1):
            total = _gather(self._ctx_total[n], ctxs[n][s])
            use.append(total > 0)
            mle.append(_gather(self.counts[n], grams[n][s]) / np.maximum(total, 1))
        lam, last = np.full(self.order, 0.5), -np.inf
        for _ in range(200):
            reach, stop = np.ones(s.sum()), []
            for n in reversed(range(self.order)):  # E step, from the longest order down
                stop.append(np.where(use[n], reach * lam[n] * mle[n], 0.0))
                reach = np.where(use[n], reach * (1 - lam[n]), reach)
            stop = stop[::-1]
            below = reach / (len(self.vocab) - 1)  # stops at order 0, then cumulated
            p = below + sum(stop)
            loglik = float(np.log(p).sum())
            for n in range(self.order):  # M step
                below = below + stop[n]
                visits = (below / p)[use[n]].sum()
                if visits > 0:
                    lam[n] = np.clip((stop[n] / p)[use[n]].sum() / visits, 1e-6, 1 - 1e-6)
            if loglik - last < 1e-7 * abs(loglik):
                break
            last = loglik
        return {n + 1: float(lam[n]) for n in range(self.order)}

    # ----------------------------------------------------------------------------- scoring

    def _lookup(self, ids: np.ndarray, pos: np.ndarray):
        """Per order n: the dense id of the n-gram ending at each position and of its context.

        Returns ``grams[n]``, ``ctxs[n]`` (-1 where absent or crossing ``<s>``) and the
        longest usable order at each position.
        """
        grams, ctxs = {1: ids}, {1: np.zeros_like(ids)}
        for n in range(2, self.order + 1):
            prev = _shift(grams[n - 1])
            ctx = np.where((pos >= n - 1) & (prev >= 0), prev, -1)
            gram = np.full(len(ids), -1)
            ok = ctx >= 0
            gram[ok] = _find(self._keys[n], ctx[ok] * len(self.vocab) + ids[ok])
            grams[n], ctxs[n] = gram, ctx
        return grams, ctxs, np.minimum(pos, self.order - 1) + 1

    def _combine(self, grams: dict, ctxs: dict, avail) -> np.ndarray:
        """The probability of each n-gram by the recursion of the module docstring."""
        p = np.full(grams[1].shape, 1.0 / (len(self.vocab) - 1))  # p_0: |V| = all but <s>
        for n in range(1, self.order + 1):
            seen = (n <= avail) & (_gather(self._ctx_total[n], ctxs[n]) > 0)
            step = _gather(self._alpha[n], grams[n]) + _gather(self._gamma[n], ctxs[n]) * p
            p = np.where(seen, step, p)
        return p

    def token_logprobs(self, sentences) -> tuple[np.ndarray, np.ndarray]:
        """Natural-log probability of every scored token (OOVs and ``</s>`` included), in
        order, and a mask of the OOVs.

        Example:
            >>> logp, oov = NGramLM(1, "mle").fit(["ab"]).token_logprobs(["ba"])
            >>> np.exp(logp).round(4).tolist(), oov.tolist()     # b, a, </s>
            ([0.3333, 0.3333, 0.3333], [False, False, False])
        """
        self._check_fitted()
        ids, pos = self._encode(as_corpus(sentences))
        grams, ctxs, avail = self._lookup(ids, pos)
        s = pos >= 1
        with np.errstate(divide="ignore"):
            logp = np.log(self._combine(grams, ctxs, avail)[s])
        return logp, ids[s] == UNK_ID

    def evaluate(self, sentences) -> dict:
        """Total log-probability, token and OOV counts, and perplexities of a corpus.

        Returns a dict: ``logprob`` (natural log, summed), ``tokens`` (scored tokens, OOVs
        and ``</s>`` included), ``oov``, ``perplexity`` (OOVs included) and
        ``perplexity_excluding_oov`` (OOV tokens dropped from sum and count).

        Example:
            >>> lm = NGramLM(2, "add_k").fit(["ab"])
            >>> r = lm.evaluate(["abz"])
            >>> r["tokens"], r["oov"]
            (4, 1)
        """
        logp, oov = self.token_logprobs(sentences)
        total, n_tok, n_oov = float(logp.sum()), int(logp.size), int(oov.sum())
        known = float(logp[~oov].sum())
        return {
            "logprob": total,
            "tokens": n_tok,
            "oov": n_oov,
            "perplexity": float(np.exp(-total / n_tok)) if n_tok else float("nan"),
            "perplexity_excluding_oov":
                float(np.exp(-known / (n_tok - n_oov))) if n_tok > n_oov else float("nan"),
        }

    def perplexity(self, sentences) -> float:
        """``exp`` of the mean negative log-probability per scored token, OOVs included.

        Example:
            >>> lm = NGramLM(1, "mle").fit(["ab"])           # 1/3 each for a, b and </s>
            >>> round(lm.perplexity(["ba"]), 6)
            3.0
        """
        return self.evaluate(sentences)["perplexity"]

    def _context_ids(self, context) -> list[int]:
        """Ids of the usable context: from its last ``<s>``, at most ``order - 1`` tokens."""
        ids = [self.index.get(t, UNK_ID) for t in self._check_tokens(context)]
        if BOS_ID in ids:
            ids = ids[len(ids) - 1 - ids[::-1].index(BOS_ID):]
        return ids[max(0, len(ids) - (self.order - 1)):] if self.order > 1 else []

    def logprob(self, token: str, context=()) -> float:
        """Natural-log probability of ``token`` after ``context`` (its last order-1 tokens).

        Start ``context`` with ``"<s>"`` for the beginning of a sentence; without it the
        context is taken as the middle of one.  ``<s>`` itself has probability 0.

        Example:
            >>> lm = NGramLM(2, "mle").fit([["a", "b"], ["a", "c"]])
            >>> float(np.exp(lm.logprob("b", ["<s>", "a"])))
            0.5
        """
        self._check_fitted()
        if not isinstance(token, str):
            raise TypeError(f"token must be a str, got {type(token).__name__}")
        ids = np.array([*self._context_ids(context), self.index.get(token, UNK_ID)])
        grams, ctxs, avail = self._lookup(ids, np.arange(len(ids)))
        p = self._combine(grams, ctxs, avail)[-1] if ids[-1] != BOS_ID else 0.0
        with np.errstate(divide="ignore"):
            return float(np.log(p))

    def next_probs(self, context=()) -> np.ndarray:
        """The distribution of the next token after ``context``, aligned with ``vocab``.

        Example:
            >>> lm = NGramLM(2, "mle").fit([["a", "b"], ["a", "c"]])
            >>> dict(zip(lm.vocab, lm.next_probs(["a"]).tolist()))["c"]
            0.5
        """
        self._check_fitted()
        ctx_ids = np.array(self._context_ids(context), dtype=np.int64)
        m, V = len(ctx_ids), len(self.vocab)
        known = self._lookup(ctx_ids, np.arange(m))[0] if m else {}
        cand = np.arange(V)
        grams, ctxs = {1: cand}, {1: np.zeros(V, dtype=np.int64)}
        for n in range(2, self.order + 1):
            c = int(known[n - 1][-1]) if m >= n - 1 else -1
            ctxs[n] = np.full(V, c)
            grams[n] = _find(self._keys[n], c * V + cand) if c >= 0 else np.full(V, -1)
        p = self._combine(grams, ctxs, min(m, self.order - 1) + 1)
        p[BOS_ID] = 0.0
        return p

    def generate(self, seed=None, max_new_tokens: int = 100, context=()) -> list[str]:
        """Sample one sentence, token by token, until ``</s>`` or ``max_new_tokens`` tokens.

        The arguments are named as :func:`lmbook.generate.generate`'s, the neural sampler.

        Args:
            seed: a seed, or a ``np.random.Generator``.
            max_new_tokens: the most tokens to sample.
            context: the sentence's first tokens, given (not returned).

        Returns the sampled tokens, without ``<s>`` and ``</s>``.

        Example:
            >>> NGramLM(3, "mle").fit([["to", "be", "or"]]).generate(0)
            ['to', 'be', 'or']
        """
        self._check_fitted()
        max_new_tokens = check_int("max_new_tokens", max_new_tokens, minimum=0)
        rng = np.random.default_rng(seed)
        history, out = [BOS, *self._check_tokens(context)], []
        while len(out) < max_new_tokens:
            p = self.next_probs(history)
            i = int(rng.choice(len(p), p=p / p.sum()))
            if i == EOS_ID:
                break
            out.append(self.vocab[i])
            history.append(self.vocab[i])
        return out

    @staticmethod
    def _check_tokens(context) -> list:
        """``context`` as a list of tokens; a TypeError if it is not a sequence."""
        if context is None or not isinstance(context, (Sequence, np.ndarray)):
            raise TypeError(f"context must be a sequence of tokens, got {type(context).__name__}")
        return list(context)

    # ------------------------------------------------------------------- inspection, ARPA

    def ngram_ids(self, n: int) -> np.ndarray:
        """The token ids of every n-gram, shape ``(count, n)``, rows in dense-id order.

        Example:
            >>> NGramLM(2).fit(["ab"]).ngram_ids(2).tolist()    # <s> a, a b, b </s>
            [[1, 3], [3, 4], [4, 2]]
        """
        self._check_fitted()
        n = check_int("n", n, minimum=1, maximum=self.order)
        rows = np.arange(len(self.vocab))[:, None]
        for m in range(2, n + 1):
            V = len(self.vocab)
            rows = np.hstack([rows[self._keys[m] // V], (self._keys[m] % V)[:, None]])
        return rows

    def ngram_counts(self, n: int) -> dict[tuple[str, ...], int]:
        """``{n-gram: count}`` with the counts the smoothing uses (for small models).

        Example:
            >>> NGramLM(2, "kn").fit(["ab", "b"]).ngram_counts(1)[("b",)]   # after a, <s>
            2
        """
        vocab = self.vocab
        rows = self.ngram_ids(n).tolist()
        return {
            tuple(vocab[i] for i in row): int(c)
            for row, c in zip(rows, self.counts[n].tolist(), strict=True)
            if c > 0
        }

    def backoff_form(self) -> dict[int, tuple[np.ndarray, np.ndarray]]:
        """Per order: ``p(w | c)`` of every n-gram ``c w`` and the backoff weight of each.

        The recursion written as a backoff model (what ARPA files store): an n-gram's
        probability includes its lower orders; its backoff weight is its ``gamma`` when it is
        a context of the next order, else 1.  ``<s>`` has probability 0.  Exact for every
        smoothing, since ``alpha`` is 0 for an unseen n-gram.

        Example:
            >>> p, bow = NGramLM(2, "kn").fit(["ab"]).backoff_form()[1]
            >>> p.round(4).tolist()      # <unk> <s> </s> a b
            [0.1875, 0.0, 0.2708, 0.2708, 0.2708]
            >>> bow.tolist()             # a and b are contexts: gamma = 0.75 * 1 / 1
            [1.0, 0.75, 1.0, 0.75, 0.75]
        """
        self._check_fitted()
        out, V = {}, len(self.vocab)
        prob = self._alpha[1] + self._gamma[1][0] / (V - 1)
        prob[BOS_ID] = 0.0
        for n in range(1, self.order + 1):
            if n > 1:
                prob = self._alpha[n] + self._gamma[n][self._context_of(n)] * prob[self._suffix[n]]
            if n < self.order:
                bow = np.where(self._ctx_total[n + 1] > 0, self._gamma[n + 1], 1.0)
            else:
                bow = np.ones(len(prob))
            out[n] = (prob, bow)
        return out

    def to_arpa(self, path) -> Path:
        """Write the model as an ARPA file (log10 probabilities and backoffs), atomically.

        ARPA stores log10 backoff weights, so a model with a backoff weight of 0 (``"mle"``,
        whose ``gamma`` is 0) cannot be written.  Tokens must not contain
        whitespace (map a space character to e.g. ``"▁"`` first).

        Example:
            >>> import tempfile
            >>> path = Path(tempfile.mkdtemp()) / "lm.arpa"
            >>> print(NGramLM(2).fit(["ab"]).to_arpa(path).read_text()[:26])
            \\data\\
            ngram 1=5
            ngram 2=3
        """
        form = self.backoff_form()
        if any((bow == 0).any() for _, bow in form.values()):
            raise ValueError(
                f"ARPA stores log10 backoff weights; smoothing={self.smoothing!r} has a backoff "
                f"weight of 0 (unseen events get probability 0), so it cannot be written"
            )
        bad = [t for t in self.vocab if not t or any(ch.isspace() for ch in t)]
        if bad:
            raise ValueError(f"ARPA separates tokens by whitespace; cannot write token {bad[0]!r}")
        path = Path(path)
        lines = ["\\data\\"]
        lines += [f"ngram {n}={len(form[n][0])}" for n in form]
        words = np.array(self.vocab, dtype=object)
        with np.errstate(divide="ignore"):
            for n, (prob, bow) in form.items():
                lines += ["", f"\\{n}-grams:"]
                text = [" ".join(r) for r in words[self.ngram_ids(n)].tolist()]
                lp = np.where(prob > 0, np.log10(prob), -99.0).tolist()
                if n < self.order:  # a log10 backoff weight on every line but the top order
                    rows = zip(lp, text, np.log10(bow).tolist(), strict=True)
                    lines += [f"{p:.7g}\t{t}\t{b:.7g}" for p, t, b in rows]
                else:
                    lines += [f"{p:.7g}\t{t}" for p, t in zip(lp, text, strict=True)]
        lines += ["", "\\end\\", ""]
        return write_atomic(path, "\n".join(lines))


def stream_cross_entropy(train_text: str, text: str, order: int, smoothing: str = "mkn") -> float:
    """Mean nats per character of ``text`` after its first, by an n-gram model of ``train_text``.

    Taught in chapter 2, whose best figure is the bar of chapters 3 and 4.  Both texts are
    read as one sequence of characters, newlines included (a newline is a character to
    predict, as for a neural model reading the stream): the model is fitted on
    ``train_text`` as a single sentence and scores ``text`` as a single sentence.  The
    scored characters are ``text[1:]``, each given the characters before it (at most
    ``order - 1`` of them): exactly the targets :func:`lmbook.perplexity.stream_cross_entropy`
    scores.  The first character (which has no context) and the closing ``</s>`` are not
    scored.

    Args:
        train_text: the training stream.
        text: the stream to score, at least 2 characters.
        order: the n of the n-grams, >= 1.
        smoothing: one of :data:`SMOOTHINGS` but ``"interpolated"``, which needs held-out
            sentences that one stream does not have.

    Example:
        >>> # MLE bigram: after "a" always "b"; after "b", "a" 3 times out of 4 (then </s>)
        >>> ce = stream_cross_entropy("abababab", "abab", order=2, smoothing="mle")
        >>> round(ce, 6), round(float(-np.log(0.75)) / 3, 6)  # b | a, a | b, b | a
        (0.095894, 0.095894)
    """
    return float(stream_losses(train_text, text, order, smoothing).mean())


def stream_losses(train_text: str, text: str, order: int, smoothing: str = "mkn") -> np.ndarray:
    """The loss (nats) of each character of ``text[1:]``: what :func:`stream_cross_entropy` averages.

    One loss per target, aligned with :func:`lmbook.perplexity.stream_losses`, so an n-gram and
    a neural model can be compared character by character (chapters 3 and 4).

    Example:
        >>> losses = stream_losses("abababab", "abab", order=2, smoothing="mle")
        >>> len(losses), round(float(losses.max()), 4)    # b | a and b | a are certain; a | b is 3/4
        (3, 0.2877)
    """
    for name, value in (("train_text", train_text), ("text", text)):
        if not isinstance(value, str):
            raise TypeError(f"{name} must be a str (one stream of characters), "
                            f"got {type(value).__name__}")
    if not train_text:
        raise ValueError("train_text must not be empty")
    if len(text) < 2:
        raise ValueError(f"text must have at least 2 characters (the first is context only), "
                         f"got {len(text)}")
    if smoothing == "interpolated":
        raise ValueError("smoothing='interpolated' needs held-out sentences to tune its weights, "
                         "and one stream has none; use one of "
                         + ", ".join(s for s in SMOOTHINGS if s != "interpolated"))
    logp, _ = NGramLM(order, smoothing).fit([train_text]).token_logprobs([text])
    return -logp[1:-1]  # drop the first character and the final </s>
