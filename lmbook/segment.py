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
  :func:`load_segmenter`: a bidirectional recurrent BMES tagger over character,
  character-bigram and dictionary-feature embeddings (which words of an external dictionary,
  :func:`jieba_words`, start or end at each character), written in backend-agnostic Keras 3.

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

__all__ = ["ALLOWED", "TAGS", "WORD_LENGTHS", "Segmenter", "dictionary_flags", "evaluate_segmentation",
           "from_bmes", "jieba_words", "load_segmenter", "max_match", "normalize", "spans", "to_bmes",
           "train_segmenter", "viterbi"]

TAGS = "BMES"
#: ALLOWED[i, j]: may tag TAGS[j] follow tag TAGS[i]?  A word that began (B, M) must go on
#: (M) or end (E); after a word ended (E, S) the next one must begin (B) or be single (S).
ALLOWED = np.array([[c in follow for c in TAGS] for follow in ("ME", "ME", "BS", "BS")])
#: Tags a sentence may start (B, S) or end (E, S) with.
START, END = np.array([t in "BS" for t in TAGS]), np.array([t in "ES" for t in TAGS])

_FULL_WIDTH = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}
# After normalisation, clause-final marks (a cut after one, unless a digit follows: "1,000").
_CLAUSE_MARKS = np.array([ord(c) for c in ",;:!?。、"])
#: Dictionary words of these lengths give each character its dictionary feature (see
#: :func:`_dictionary_flags`): which of them start and which end at the character.
WORD_LENGTHS = (2, 3, 4)
_HASH = np.uint64(0x9E3779B97F4A7C15)      # an odd 64-bit multiplier for rolling hashes


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
    lengths = np.full(len(batch), batch.shape[1]) if lengths is None else np.asarray(lengths)
    paths = _best_paths(batch, transitions, lengths)
    letters = np.array(list(TAGS))
    tags = ["".join(letters[path[:n]]) for path, n in zip(paths, lengths)]
    return tags[0] if single else tags


def _best_paths(batch: np.ndarray, transitions: np.ndarray | None, lengths: np.ndarray) -> np.ndarray:
    """:func:`viterbi` on a padded batch ``(B, T, 4)``: tag indices ``(B, T)`` (padding: any)."""
    B, T, _ = batch.shape
    trans = np.where(ALLOWED, 0.0 if transitions is None else transitions, -np.inf)
    score = np.where(START, batch[:, 0], -np.inf)                         # (B, 4)
    back = np.zeros((B, T, 4), dtype=np.int8)
    for t in range(1, T):
        total = score[:, :, None] + trans                                  # (B, previous, tag)
        back[:, t] = total.argmax(1)
        live = (t < lengths)[:, None]                                      # padding keeps the score
        score = np.where(live, total.max(1) + batch[:, t], score)
    rows, last = np.arange(B), np.where(END, score, -np.inf).argmax(1)
    path = np.zeros((B, T), dtype=np.int8)
    tag = last
    for t in range(T - 1, -1, -1):                # walk back, each sentence from its own end
        tag = np.where(t == lengths - 1, last, tag)
        path[:, t] = tag
        tag = np.where(t < lengths, back[rows, t, tag], tag)
    return path


# Each setting is (quick, full).  Quick trains in under 2 minutes on a 2-core CPU, full in
# about 3.5 (no GPU needed): the same network, trained twice as long with more dropout.  The
# recurrent layer is narrow on purpose: it is where inference time goes, and wider ones scored
# within 0.001 F1 of it here (32 units with the dictionary feature; 64 and 96 without).
SEGMENTER = dict(cell=("gru", "gru"), embedding_dim=(48, 48), dictionary_dim=(16, 16),
                 projection_dim=(16, 16), units=(24, 24), dropout=(0.2, 0.3), bigram_min_count=(2, 2),
                 batch_size=(64, 64), seq_len=(64, 64), steps=(2500, 5000), peak_lr=(4e-3, 4e-3))


def _codes(text: str) -> np.ndarray:
    """The Unicode code points of ``text``, as int64."""
    return np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32).astype(np.int64)


def jieba_words() -> list[str]:
    """The words of jieba's main dictionary (about 350,000), normalised and sorted.

    An external dictionary, independent of any train/test split; :func:`train_segmenter`
    uses it for the dictionary feature by default.

    Example:
        >>> "北京" in set(jieba_words())
        True
    """
    import jieba

    with jieba.get_dict_file() as fh:
        lines = fh.read().decode("utf-8").splitlines()
    return sorted({normalize(line.split()[0]) for line in lines if line.strip()})


def _hashes(codes: np.ndarray, k: int) -> np.ndarray:
    """A 64-bit rolling hash of each ``k`` consecutive code points: of each row of an ``(n, k)``
    array, or at each start of a stream ``(N,)`` (the last ``k - 1`` wrap around: ignore them)."""
    h = np.zeros(codes.shape[:1], dtype=np.uint64)
    for column in (codes.T if codes.ndim == 2 else [np.roll(codes, -j) for j in range(k)]):
        h = h * _HASH + column.astype(np.uint64)
    return h


def _table(tokens: Sequence[str], lengths: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
    """Sorted :func:`_hashes` of the tokens whose length is in ``lengths``, and their indices."""
    keys, ids = [np.zeros(0, np.uint64)], [np.zeros(0, np.int32)]
    for k in lengths:
        ids.append(np.array([i for i, t in enumerate(tokens) if len(t) == k], dtype=np.int32))
        keys.append(_hashes(_codes("".join(tokens[i] for i in ids[-1])).reshape(-1, k), k))
    keys, ids = np.concatenate(keys), np.concatenate(ids)
    order = np.argsort(keys)
    return keys[order], ids[order]


def _search(table: tuple[np.ndarray, np.ndarray], queries: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(ids, found)`` of hashes in a :func:`_table` (queries sorted first: cache-friendly)."""
    keys, ids = table
    if not len(keys):
        return np.zeros(len(queries), np.int32), np.zeros(len(queries), bool)
    order, at = np.argsort(queries), np.empty(len(queries), dtype=np.intp)
    at[order] = np.minimum(np.searchsorted(keys, queries[order]), len(keys) - 1)
    return ids[at], keys[at] == queries


def _tables(chars: Vocabulary, bigrams: Vocabulary, words: Sequence[str]) -> tuple:
    """The three :func:`_table` that :func:`_features` needs: characters, bigrams, dictionary words."""
    return _table(chars.tokens, [1]), _table(bigrams.tokens, [2]), _table(words, WORD_LENGTHS)


def _encode(queries: np.ndarray, table: tuple[np.ndarray, np.ndarray], unk: int) -> np.ndarray:
    """Vocabulary ids of hashed tokens, ``unk`` for those not in the :func:`_table`."""
    ids, found = _search(table, queries)
    return np.where(found, ids, unk)


def dictionary_flags(text: str, words: Iterable[str]) -> np.ndarray:
    """The tagger's dictionary feature: per character of ``text``, bit ``2j`` / ``2j+1`` is set
    when a word of ``words`` of length ``WORD_LENGTHS[j]`` starts / ends at that character.

    Example (``天`` starts 天安 and 天安门; ``门`` ends 天安门):
        >>> [format(int(f), "06b") for f in dictionary_flags("天安门", ["天安", "天安门"])]
        ['000101', '000010', '001000']
    """
    return _dictionary_flags(_codes(text), _table(list(words), WORD_LENGTHS))


def _dictionary_flags(stream: np.ndarray, words: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """:func:`dictionary_flags` on code points, with a :func:`_table` of the words.  Words never
    cross the ``\\x02``/``\\x03`` marks between sentences."""
    _, found = _search(words, np.concatenate([_hashes(stream, k) for k in WORD_LENGTHS]))
    flags = np.zeros(len(stream), dtype=np.int32)
    found = found.reshape(len(WORD_LENGTHS), -1).astype(np.int32)
    for j, (k, starts) in enumerate(zip(WORD_LENGTHS, found)):
        starts[max(len(stream) - k + 1, 0):] = 0                   # windows that ran off the end
        flags |= starts << (2 * j)
        flags[k - 1:] |= starts[:len(stream) - k + 1] << (2 * j + 1)
    return flags


def _features(texts: Sequence[str], chars: Vocabulary, bigrams: Vocabulary,
              tables: tuple) -> np.ndarray:
    """An int32 array ``(N, 4)`` for the N characters of ``texts`` in turn: character, left
    bigram and right bigram ids, and the dictionary flags (:func:`dictionary_flags`).

    Bigrams use ``\\x02`` and ``\\x03`` as sentence start and end marks: the stream
    ``\\x02 s1 \\x03\\x02 s2 \\x03 …`` is encoded at once, by binary search over hashes.
    ``tables``: the :func:`_table` of characters, of bigrams and of dictionary words.
    """
    char_table, bigram_table, word_table = tables
    stream = _codes("\x02" + "\x03\x02".join(texts) + "\x03")
    pair_ids = _encode(_hashes(stream, 2)[:-1], bigram_table, bigrams.unk_id)    # pair i: stream[i:i+2]
    lengths = np.array([len(t) for t in texts], dtype=np.int64)
    positions = np.arange(lengths.sum()) + 1 + 2 * np.repeat(np.arange(len(texts)), lengths)
    char_ids = _encode(stream[positions].astype(np.uint64), char_table, chars.unk_id)
    return np.stack([char_ids, pair_ids[positions - 1], pair_ids[positions],
                     _dictionary_flags(stream, word_table)[positions]], axis=1).astype("int32")


def _tagger(n_chars: int, n_bigrams: int, s: Settings) -> keras.Model:
    """Character, bigram and dictionary-flag embeddings → a linear projection → bidirectional GRU
    or LSTM → 4 tag logits.  The projection runs once over all positions, so the recurrent
    layer's own input matrix, applied step by step, stays small."""
    ids = keras.Input((None, 4), dtype="int32", name="features")
    char_emb = keras.layers.Embedding(n_chars, s.embedding_dim, mask_zero=True, name="chars")
    bigram_emb = keras.layers.Embedding(n_bigrams, s.embedding_dim, name="bigrams")
    dict_emb = keras.layers.Embedding(4 ** len(WORD_LENGTHS), s.dictionary_dim, name="dictionary")
    x = keras.layers.Concatenate()([char_emb(ids[..., 0]), bigram_emb(ids[..., 1]), bigram_emb(ids[..., 2]),
                                    dict_emb(ids[..., 3])])
    x = keras.layers.Dense(s.projection_dim, name="projection")(keras.layers.Dropout(s.dropout)(x))
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

    def __init__(self, model: keras.Model, chars: Vocabulary, bigrams: Vocabulary, transitions: np.ndarray,
                 dictionary: Sequence[str]):
        self.model, self.chars, self.bigrams, self.dictionary = model, chars, bigrams, list(dictionary)
        self.transitions = np.asarray(transitions, dtype=float)
        self._tables = _tables(chars, bigrams, self.dictionary)

    def segment(self, texts: Sequence[str], batch_size: int = 1024) -> list[list[str]]:
        """Split each text into words (characters are kept exactly as given).

        All texts are tagged as one stream, in pieces cut after clause-final punctuation
        (``，。、；：！？``, always a one-character word) and at the ends of texts; batches of
        similar-length pieces waste little padding, and the features still see across a cut.
        ``batch_size`` pieces go through the tagger at a time.
        """
        if isinstance(texts, str):
            raise TypeError("texts must be a list of strings, not one string")
        normalized = [normalize(t) for t in texts]
        feats = _features(normalized, self.chars, self.bigrams, self._tables)
        codes = _codes("".join(normalized) + "\x00")
        text_ends = np.cumsum([len(t) for t in texts], dtype=np.int64)
        digit_next = (codes[1:] >= ord("0")) & (codes[1:] <= ord("9"))
        clause_ends = 1 + np.flatnonzero(np.isin(codes[:-1], _CLAUSE_MARKS) & ~digit_next)
        bounds = np.union1d(np.concatenate([[0], text_ends]), clause_ends)
        starts, lengths = bounds[:-1], np.diff(bounds)
        order = np.argsort(lengths, kind="stable")
        tags = np.zeros(len(feats), dtype=np.int8)
        for first in range(0, len(order), batch_size):
            piece = order[first:first + batch_size]
            n = lengths[piece]
            at = starts[piece, None] + np.arange(n.max())                 # (pieces, T) positions
            valid = at < (starts[piece] + n)[:, None]
            x = np.where(valid[..., None], feats[np.where(valid, at, 0)], 0)
            # Logits, not log-probabilities: the softmax's normaliser shifts every path's score
            # at a position by the same amount, so Viterbi's choice is the same.
            logits = np.asarray(self.model.predict_on_batch(x), dtype=float)    # compiled, not eager
            tags[at[valid]] = _best_paths(logits, self.transitions, n)[valid]
        joined, word_ends = "".join(texts), np.flatnonzero(END[tags]) + 1
        words = [joined[a:b] for a, b in zip([0, *word_ends[:-1].tolist()], word_ends.tolist())]
        cuts = np.searchsorted(word_ends, text_ends, side="right").tolist()
        return [words[a:b] for a, b in zip([0, *cuts[:-1]], cuts)]

    def save(self, path: str | os.PathLike) -> None:
        """Write the segmenter to the directory ``path`` (atomically: all or nothing)."""
        path = Path(path)
        tmp = Path(tempfile.mkdtemp(dir=path.parent if path.parent.exists() else None, prefix=".segmenter-"))
        try:
            self.model.save(tmp / "tagger.keras")
            (tmp / "vocab.json").write_text(json.dumps(
                {"chars": self.chars.tokens, "bigrams": self.bigrams.tokens,
                 "transitions": self.transitions.tolist(), "dictionary": self.dictionary},
                ensure_ascii=False), encoding="utf-8")
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
                     np.array(meta["transitions"]), meta["dictionary"])


def train_segmenter(
    sentences: Sequence[Sequence[str]], mode: str = "quick", seed: int = 0, steps: int | None = None,
    verbose: int = 0, dictionary: Iterable[str] | None = None,
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
        dictionary: words for the dictionary feature (default: :func:`jieba_words`; an
            empty list turns the feature off).
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
    words = sorted({w for w in map(normalize, jieba_words() if dictionary is None else dictionary)
                    if len(w) in WORD_LENGTHS})
    labels = np.array([TAGS.index(t) for t in "".join(tags)], dtype="int32")
    counts = np.ones((4, 4))                                   # add-one tag bigram counts
    for t in tags:
        for a, b in zip(t, t[1:]):
            counts[TAGS.index(a), TAGS.index(b)] += 1
    transitions = np.log(counts / counts.sum(1, keepdims=True))

    keras.utils.set_random_seed(seed)
    model = compile_lm(_tagger(len(chars), len(bigrams), s), steps or s.steps, s.peak_lr, jit_compile=False)
    segmenter = Segmenter(model, chars, bigrams, transitions, words)      # builds the lookup tables once
    feats = _features(texts, chars, bigrams, segmenter._tables)
    fit_windows(model, feats, steps or s.steps, s.batch_size, s.seq_len, epochs=min(10, steps or s.steps),
                seed=seed, labels=labels, verbose=verbose)
    return segmenter
