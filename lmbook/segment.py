"""Chinese word segmentation: evaluation, maximum matching, BMES tagging and a neural segmenter.

Taught in chapter 5 (``notebooks/05_chinese_segmentation.ipynb``).

- :func:`normalize` folds full-width ASCII variants (``１``, ``Ａ``, ``％``) to ASCII, one
  character for one character, so spans computed on normalised text are spans of the original.
- :func:`evaluate_segmentation`: word precision, recall, F1 and OOV recall on character spans.
- :func:`max_match`: forward or backward maximum matching with a dictionary.
- :func:`to_bmes` / :func:`from_bmes`: words ↔ one tag per character (Begin, Middle, End,
  Single).
- :func:`viterbi`: the best tag sequence that never makes a forbidden transition.
- :func:`train_segmenter` → :class:`Segmenter` (``.segment``, ``.save``) and
  :func:`load_segmenter`: a bidirectional recurrent BMES tagger over character and
  character-bigram embeddings, written in backend-agnostic Keras 3.

Example:
    >>> to_bmes(["我们", "爱", "北京天安门"])
    'BESBMMME'
    >>> from_bmes("我们爱北京天安门", "BESBMMME")
    ['我们', '爱', '北京天安门']
"""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path

import keras
import numpy as np

from lmbook.config import Settings
from lmbook.text import Vocabulary
from lmbook.training import compile_lm, fit_windows

__all__ = ["ALLOWED", "TAGS", "Segmenter", "evaluate_segmentation", "from_bmes", "load_segmenter",
           "max_match", "normalize", "spans", "to_bmes", "train_segmenter", "viterbi"]

TAGS = "BMES"
#: ALLOWED[i, j]: may tag TAGS[j] follow tag TAGS[i]?  A word that began (B, M) must go on
#: (M) or end (E); after a word ended (E, S) the next one must begin (B) or be single (S).
ALLOWED = np.array([[c in follow for c in TAGS] for follow in ("ME", "ME", "BS", "BS")])
#: Tags a sentence may start (B, S) or end (E, S) with.
START, END = np.array([t in "BS" for t in TAGS]), np.array([t in "ES" for t in TAGS])

_FULL_WIDTH = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}
# After normalisation: a clause-final mark not followed by a digit (so "1,000" stays whole).
_CLAUSE_END = re.compile(r"[,;:!?。、](?![0-9])")


def normalize(text: str) -> str:
    """Fold full-width ASCII variants to ASCII (``"１９９８年"`` → ``"1998年"``), length-preserving.

    This is the part of Unicode NFKC that matters for Chinese text: full-width digits,
    Latin letters and ASCII punctuation (U+FF01–U+FF5E) and the ideographic space.  Full NFKC
    also rewrites some characters into several (``"㈠"`` → ``"(一)"``), which would move
    every later character; folding one character to one keeps word spans aligned with the
    original text.  Chinese punctuation such as ``，`` and ``。`` (no ASCII twin in use) is
    folded too when it has a full-width ASCII form (``，`` U+FF0C → ``,``).

    Example:
        >>> normalize("１９９８年ＡＰＥＣ会议％")
        '1998年APEC会议%'
    """
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, got {type(text).__name__}")
    return text.translate(_FULL_WIDTH)


def spans(words: Sequence[str]) -> list[tuple[int, int]]:
    """The ``(start, end)`` character offsets of each word.

    Example:
        >>> spans(["我们", "爱", "北京"])
        [(0, 2), (2, 3), (3, 5)]
    """
    out, start = [], 0
    for word in words:
        out.append((start, start + len(word)))
        start += len(word)
    return out


def evaluate_segmentation(
    gold: Sequence[Sequence[str]], pred: Sequence[Sequence[str]], train_vocab: Iterable[str] | None = None,
) -> dict[str, float]:
    """Word-level precision, recall and F1, and recall on out-of-vocabulary words.

    A predicted word is correct when its character span equals a gold word's span.  OOV
    recall is the recall over gold words not in ``train_vocab`` (NaN without one, or when
    there are no OOV words).

    Args:
        gold: gold sentences, each a list of words.
        pred: predicted sentences, aligned with ``gold``.
        train_vocab: the training vocabulary, for OOV recall.

    Example:
        >>> r = evaluate_segmentation([["我们", "爱", "北京"]], [["我", "们", "爱", "北京"]], {"我们", "爱"})
        >>> round(r["precision"], 3), round(r["recall"], 3), r["oov_recall"]
        (0.5, 0.667, 1.0)
    """
    if len(gold) != len(pred):
        raise ValueError(f"gold has {len(gold)} sentences but pred has {len(pred)}")
    vocab = set(train_vocab) if train_vocab is not None else None
    n_gold = n_pred = correct = n_oov = oov_correct = 0
    for i, (g, p) in enumerate(zip(gold, pred)):
        if "".join(g) != "".join(p):
            raise ValueError(f"sentence {i}: gold and pred differ in their characters: "
                             f"{''.join(g)[:30]!r} vs {''.join(p)[:30]!r}")
        predicted = set(spans(p))
        n_gold, n_pred = n_gold + len(g), n_pred + len(p)
        for word, span in zip(g, spans(g)):
            hit = span in predicted
            correct += hit
            if vocab is not None and word not in vocab:
                n_oov, oov_correct = n_oov + 1, oov_correct + hit
    precision = correct / n_pred if n_pred else 0.0
    recall = correct / n_gold if n_gold else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1,
            "oov_recall": oov_correct / n_oov if n_oov else math.nan}


def max_match(
    text: str, dictionary: set[str], max_len: int | None = None, backward: bool = False
) -> list[str]:
    """Greedy maximum matching: repeatedly take the longest dictionary word (or one character).

    Forward matching scans left to right; backward matching right to left, which on Chinese
    usually makes fewer errors.

    Example:
        >>> d = {"研究", "研究生", "生命", "起源"}
        >>> max_match("研究生命起源", d), max_match("研究生命起源", d, backward=True)
        (['研究生', '命', '起源'], ['研究', '生命', '起源'])
    """
    max_len = max_len or max((len(w) for w in dictionary), default=1)
    words = []
    if backward:
        end = len(text)
        while end > 0:
            n = min(max_len, end)
            while n > 1 and text[end - n:end] not in dictionary:
                n -= 1
            words.append(text[end - n:end])
            end -= n
        return words[::-1]
    start = 0
    while start < len(text):
        n = min(max_len, len(text) - start)
        while n > 1 and text[start:start + n] not in dictionary:
            n -= 1
        words.append(text[start:start + n])
        start += n
    return words


def to_bmes(words: Sequence[str]) -> str:
    """One tag per character: ``S`` for a one-character word, else ``B M… E``.

    Example:
        >>> to_bmes(["中国", "人民", "的"])
        'BEBES'
    """
    if any(not w for w in words):
        raise ValueError("words must be non-empty strings")
    return "".join("S" if len(w) == 1 else "B" + "M" * (len(w) - 2) + "E" for w in words)


def from_bmes(chars: str, tags: str) -> list[str]:
    """Cut ``chars`` after every ``E`` or ``S`` tag (the inverse of :func:`to_bmes`).

    Example:
        >>> from_bmes("中国人民的", "BEBES")
        ['中国', '人民', '的']
    """
    if len(chars) != len(tags):
        raise ValueError(f"chars and tags differ in length: {len(chars)} vs {len(tags)}")
    if set(tags) - set(TAGS):
        raise ValueError(f"tags must be letters of {TAGS!r}, got {sorted(set(tags) - set(TAGS))}")
    ends = [m.end() for m in re.finditer("[ES]", tags)]
    if not ends or ends[-1] != len(tags):
        ends.append(len(tags))                  # an unfinished last word still ends the text
    return [chars[a:b] for a, b in zip([0, *ends], ends)] if chars else []


def viterbi(log_probs: np.ndarray, transitions: np.ndarray | None = None,
            lengths: Sequence[int] | None = None) -> str | list[str]:
    """The best-scoring tag string under the BMES constraints.

    Maximises ``Σ_t log_probs[t, y_t] + Σ_t transitions[y_{t-1}, y_t]`` over tag sequences
    that start with B/S, end with E/S and never make a transition that :data:`ALLOWED`
    forbids.  A batch ``(B, T, 4)`` with ``lengths`` is decoded at once (one vectorised
    pass over time), returning one string per sentence.

    Args:
        log_probs: ``(T, 4)`` per-character tag scores, columns in ``TAGS`` order, or a
            padded batch ``(B, T, 4)``.
        transitions: optional ``(4, 4)`` transition scores (zero by default).
        lengths: the true length of each sentence of a batch (default: all ``T``).

    Example:
        >>> lp = np.log(np.array([[.1, .1, .1, .7], [.1, .1, .7, .1]]))   # greedy: S then E
        >>> viterbi(lp)
        'BE'
    """
    log_probs = np.asarray(log_probs, dtype=float)
    single = log_probs.ndim == 2
    batch = log_probs[None] if single else log_probs
    if batch.ndim != 3 or batch.shape[2] != 4:
        raise ValueError(f"log_probs must have shape (T, 4) or (B, T, 4), got {log_probs.shape}")
    B, T, _ = batch.shape
    lengths = np.full(B, T) if lengths is None else np.asarray(lengths)
    trans = np.where(ALLOWED, 0.0 if transitions is None else transitions, -np.inf)
    score = np.where(START, batch[:, 0], -np.inf)                         # (B, 4)
    back = np.zeros((B, T, 4), dtype=np.int8)
    for t in range(1, T):
        total = score[:, :, None] + trans                                  # (B, previous, tag)
        back[:, t] = total.argmax(1)
        live = (t < lengths)[:, None]                                      # padding keeps the score
        score = np.where(live, total.max(1) + batch[:, t], score)
    rows = np.arange(B)
    tag = np.where(END, score, -np.inf).argmax(1)
    path = np.zeros((B, T), dtype=np.int8)
    for t in range(T - 1, -1, -1):                # walk back, each sentence from its own end
        tag = np.where(t == lengths - 1, np.where(END, score, -np.inf).argmax(1), tag)
        path[:, t] = tag
        tag = np.where(t < lengths, back[rows, t, tag], tag)
    letters = np.array(list(TAGS))
    tags = ["".join(letters[path[b, :lengths[b]]]) for b in range(B)]
    return tags[0] if single else tags


# Each setting is (quick, full): quick trains in under 4 minutes on a 2-core CPU.
# Quick trains in about 3 minutes on a 2-core CPU, full in about 7 (no GPU needed).
SEGMENTER = dict(cell=("gru", "gru"), embedding_dim=(48, 64), units=(64, 96), dropout=(0.2, 0.35),
                 bigram_min_count=(2, 2), batch_size=(64, 64), seq_len=(64, 64), steps=(2500, 5000),
                 peak_lr=(4e-3, 4e-3))


def _features(sentences: Sequence[str], chars: Vocabulary, bigrams: Vocabulary) -> list[np.ndarray]:
    """Per sentence, an int32 array ``(T, 3)``: character, left bigram and right bigram ids.

    Bigrams use ``\\x02`` and ``\\x03`` as sentence start and end marks.  All sentences are
    encoded in one pass over ``\\x02 s1 \\x03\\x02 s2 \\x03 …``.
    """
    stream = "\x02" + "\x03\x02".join(sentences) + "\x03"
    pair_ids = bigrams.encode([stream[i:i + 2] for i in range(len(stream) - 1)])
    lengths = np.array([len(s) for s in sentences], dtype=int)
    starts = np.cumsum(np.concatenate([[1], lengths[:-1] + 2])) if len(sentences) else lengths
    positions = np.concatenate([np.arange(s, s + n) for s, n in zip(starts, lengths)] or [np.zeros(0, int)])
    feats = np.stack([chars.encode("".join(sentences)), pair_ids[positions - 1], pair_ids[positions]],
                     axis=1).astype("int32")
    return np.split(feats, np.cumsum(lengths)[:-1])


def _tagger(n_chars: int, n_bigrams: int, s: Settings) -> keras.Model:
    """Character + bigram embeddings → bidirectional GRU or LSTM → 4 tag logits per character."""
    ids = keras.Input((None, 3), dtype="int32", name="features")
    char_emb = keras.layers.Embedding(n_chars, s.embedding_dim, mask_zero=True, name="chars")
    bigram_emb = keras.layers.Embedding(n_bigrams, s.embedding_dim, name="bigrams")
    x = keras.layers.Concatenate()([char_emb(ids[..., 0]), bigram_emb(ids[..., 1]), bigram_emb(ids[..., 2])])
    x = keras.layers.Dropout(s.dropout)(x)
    cell = {"gru": keras.layers.GRU, "lstm": keras.layers.LSTM}[s.cell]
    x = keras.layers.Bidirectional(cell(s.units, return_sequences=True), name=f"bi{s.cell}")(x)
    x = keras.layers.Dropout(s.dropout)(x)
    return keras.Model(ids, keras.layers.Dense(len(TAGS), name="tags")(x), name="bmes_tagger")


class Segmenter:
    """A trained BMES segmenter: tagger, vocabularies and transition scores.

    Use :func:`train_segmenter` to make one and :func:`load_segmenter` to reload one.

    Example:
        >>> seg = train_segmenter([["我们", "爱", "北京"]] * 50, mode="quick", steps=5)
        >>> len(seg.segment(["我们爱北京"])[0]) >= 1
        True
    """

    def __init__(self, model: keras.Model, chars: Vocabulary, bigrams: Vocabulary, transitions: np.ndarray):
        self.model, self.chars, self.bigrams = model, chars, bigrams
        self.transitions = np.asarray(transitions, dtype=float)

    def segment(self, texts: Sequence[str], batch_size: int = 512) -> list[list[str]]:
        """Split each text into words (characters are kept exactly as given).

        Texts are tagged in pieces cut after clause-final punctuation (``，。、；：！？``, always
        a one-character word), so that batches of similar-length pieces waste little padding;
        the features still see across the cut.
        """
        if isinstance(texts, str):
            raise TypeError("texts must be a list of strings, not one string")
        normalized = [normalize(t) for t in texts]
        feats = _features(normalized, self.chars, self.bigrams)
        pieces = []                                             # (text, start, end)
        for i, text in enumerate(normalized):
            bounds = [0, *(m.end() for m in _CLAUSE_END.finditer(text)), len(text)]
            pieces += [(i, a, b) for a, b in zip(bounds, bounds[1:]) if b > a]
        pieces.sort(key=lambda p: p[2] - p[1])
        tags: list[list[tuple[int, str]]] = [[] for _ in texts]
        for start in range(0, len(pieces), batch_size):
            batch = pieces[start:start + batch_size]
            lengths = [b - a for _, a, b in batch]
            x = np.zeros((len(batch), max(lengths), 3), dtype="int32")
            for row, (i, a, b) in enumerate(batch):
                x[row, :b - a] = feats[i][a:b]
            # Logits, not log-probabilities: the softmax's normaliser shifts every path's score
            # at a position by the same amount, so Viterbi's choice is the same.
            logits = np.asarray(self.model.predict_on_batch(x), dtype=float)    # compiled, not eager
            for (i, a, _), t in zip(batch, viterbi(logits, self.transitions, lengths)):
                tags[i].append((a, t))
        return [from_bmes(text, "".join(t for _, t in sorted(parts))) for text, parts in zip(texts, tags)]

    def save(self, path: str | os.PathLike) -> None:
        """Write the segmenter to the directory ``path`` (atomically: all or nothing)."""
        path = Path(path)
        tmp = Path(tempfile.mkdtemp(dir=path.parent if path.parent.exists() else None, prefix=".segmenter-"))
        try:
            self.model.save(tmp / "tagger.keras")
            (tmp / "vocab.json").write_text(json.dumps(
                {"chars": self.chars.tokens, "bigrams": self.bigrams.tokens,
                 "transitions": self.transitions.tolist()}, ensure_ascii=False), encoding="utf-8")
            if path.exists():
                shutil.rmtree(path)
            os.replace(tmp, path)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


def load_segmenter(path: str | os.PathLike) -> Segmenter:
    """Reload a segmenter written by :meth:`Segmenter.save`.

    Example:
        >>> load_segmenter("/nonexistent")
        Traceback (most recent call last):
        ...
        FileNotFoundError: no segmenter at /nonexistent (expected tagger.keras and vocab.json)
    """
    path = Path(path)
    if not (path / "tagger.keras").is_file() or not (path / "vocab.json").is_file():
        raise FileNotFoundError(f"no segmenter at {path} (expected tagger.keras and vocab.json)")
    meta = json.loads((path / "vocab.json").read_text(encoding="utf-8"))
    model = keras.saving.load_model(path / "tagger.keras")
    return Segmenter(model, Vocabulary(meta["chars"]), Vocabulary(meta["bigrams"]),
                     np.array(meta["transitions"]))


def train_segmenter(
    sentences: Sequence[Sequence[str]], mode: str = "quick", seed: int = 0, steps: int | None = None,
    verbose: int = 0,
) -> Segmenter:
    """Train a BMES segmenter on gold-segmented sentences (lists of words).

    Text is :func:`normalize`-d; character and character-bigram vocabularies come from the
    training text; the tagger (:func:`_tagger`) is trained on random windows of the
    concatenated sentences with the chapter 3 recipe (:mod:`lmbook.training`), and
    transition scores are the log-probabilities of tag bigrams in the training data.

    Args:
        sentences: the training sentences, each a list of words.
        mode: ``"quick"`` (under 4 minutes on a 2-core CPU) or ``"full"``.
        seed: random seed for initialisation and batches.
        steps: override the number of training steps of the mode.
        verbose: Keras ``fit`` verbosity.
    """
    if isinstance(sentences, str) or not sentences:
        raise ValueError("sentences must be a non-empty list of sentences, each a list of words")
    if mode not in ("quick", "full"):
        raise ValueError(f"mode must be 'quick' or 'full', got {mode!r}")
    s = Settings(mode=mode, **SEGMENTER)
    texts = [normalize("".join(words)) for words in sentences]
    tags = [to_bmes([normalize(w) for w in words]) for words in sentences]
    chars = Vocabulary.from_tokens(c for t in texts for c in t)
    bigrams = Vocabulary.from_tokens((f"\x02{t}\x03"[i:i + 2] for t in texts for i in range(len(t) + 1)),
                                     min_count=s.bigram_min_count)
    feats = np.concatenate(_features(texts, chars, bigrams))
    labels = np.array([TAGS.index(t) for t in "".join(tags)], dtype="int32")
    counts = np.ones((4, 4))                                   # add-one tag bigram counts
    for t in tags:
        for a, b in zip(t, t[1:]):
            counts[TAGS.index(a), TAGS.index(b)] += 1
    transitions = np.log(counts / counts.sum(1, keepdims=True))

    keras.utils.set_random_seed(seed)
    model = compile_lm(_tagger(len(chars), len(bigrams), s), steps or s.steps, s.peak_lr, jit_compile=False)
    fit_windows(model, feats, steps or s.steps, s.batch_size, s.seq_len, epochs=min(10, steps or s.steps),
                seed=seed, labels=labels, verbose=verbose)
    return Segmenter(model, chars, bigrams, transitions)
