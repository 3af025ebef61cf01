"""The production Chinese word segmenter: a BMES tagger over hashed character features.

Taught in chapter 5 (``notebooks/05_chinese_segmentation.ipynb``), after the teaching
pieces of :mod:`lmbook.segment` (normalisation, evaluation, maximum matching, BMES, Viterbi).

- :func:`train_segmenter` → :class:`Segmenter` (``.segment``, ``.features``, ``.save``) and
  :func:`load_segmenter`: a bidirectional recurrent BMES tagger over character,
  character-bigram and dictionary-feature embeddings (:func:`dictionary_flags`: which
  dictionary words start or end at each character), decoded by
  :func:`lmbook.segment.viterbi`'s constrained search, written in backend-agnostic Keras 3.
- By default it is a SIGHAN **closed-track** system: everything it knows comes from the
  training sentences, its dictionary too (the training words, flagged on the training text
  block by block from the other blocks' words, so that the flags are as incomplete in
  training as on new text).  ``dictionary=jieba_words()`` is the optional **open-track**
  experiment with an external dictionary; see :func:`jieba_words` for why it is not the default.
- :class:`HashIndex`: the lookup table behind the features.  Every character, bigram and
  dictionary word of a whole text is looked up at once, by binary search over 64-bit
  rolling hashes (:func:`rolling_hashes`), instead of one dictionary lookup per string.

Example:
    >>> index = HashIndex(["北京", "天安门"])
    >>> index.find(rolling_hashes(codes("北京天安门"), 2))[1].tolist()   # 2-character windows
    [True, False, False, False, False]
"""

from __future__ import annotations

import json
import math
import os
import shutil
import tempfile
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path

import keras
import numpy as np

from lmbook import recipes
from lmbook.checks import check_int
from lmbook.recipes import SegmenterRecipe, resolve
from lmbook.segment import END, TAGS, best_paths, fold_width, to_bmes
from lmbook.text import Vocabulary
from lmbook.training import compile_lm, fit_windows

__all__ = ["WORD_LENGTHS", "HashIndex", "Segmenter", "codes", "dictionary_flags", "jieba_words",
           "load_segmenter", "rolling_hashes", "train_segmenter"]

#: Dictionary words of these lengths give each character its dictionary feature (see
#: :func:`dictionary_flags`): which of them start and which end at the character.
WORD_LENGTHS = (2, 3, 4)
_HASH = np.uint64(0x9E3779B97F4A7C15)      # an odd 64-bit multiplier for rolling hashes
# After normalisation, clause-final marks (a cut after one, unless a digit follows: "1,000").
_CLAUSE_MARKS = np.array([ord(c) for c in ",;:!?。、"])



def codes(text: str) -> np.ndarray:
    """The Unicode code points of ``text``, as an int64 array.

    Example:
        >>> codes("北京").tolist()
        [21271, 20140]
    """
    return np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32).astype(np.int64)


def rolling_hashes(points: np.ndarray, k: int) -> np.ndarray:
    """A 64-bit hash of each ``k`` consecutive code points (``uint64``).

    ``points`` is either an ``(n, k)`` array (one hash per row) or a stream ``(N,)``: one
    hash per start position, where the last ``k - 1`` windows wrap around the end (ignore
    them).  Equal strings of ``k`` code points always get equal hashes.

    Example:
        >>> h = rolling_hashes(codes("北京北京"), 2)
        >>> bool(h[0] == h[2]), bool(h[0] == h[1])
        (True, False)
    """
    k = check_int("k", k, minimum=1)
    points = np.asarray(points)
    if points.ndim not in (1, 2) or (points.ndim == 2 and points.shape[1] != k):
        raise ValueError(f"points must have shape (N,) or (n, k={k}), got {points.shape}")
    h = np.zeros(points.shape[:1], dtype=np.uint64)
    for column in (points.T if points.ndim == 2 else [np.roll(points, -j) for j in range(k)]):
        h = h * _HASH + column.astype(np.uint64)
    return h


class HashIndex:
    """Strings → their position in a list, looked up many at once by hash.

    The :func:`rolling_hashes` of the strings are sorted once; a batch of query hashes is
    then answered by one binary search (``np.searchsorted``), with the queries sorted first
    so that the search walks the table in order.  A 64-bit hash makes a false match between
    two different strings of a few characters practically impossible.

    Args:
        tokens: the strings; ``find`` returns their positions in this list.
        lengths: index only the tokens of these lengths (default: every length present).

    Example:
        >>> index = HashIndex(["<pad>", "我", "们"], lengths=[1])
        >>> ids, found = index.find(rolling_hashes(codes("我你们"), 1))
        >>> ids[found].tolist(), found.tolist()
        ([1, 2], [True, False, True])
    """

    def __init__(self, tokens: Sequence[str], lengths: Iterable[int] | None = None):
        if isinstance(tokens, str):
            raise TypeError("tokens must be a list of strings, not one string")
        tokens = list(tokens)
        lengths = sorted({len(t) for t in tokens} - {0} if lengths is None
                         else {check_int("lengths", k, minimum=1) for k in lengths})
        keys, ids = [np.zeros(0, np.uint64)], [np.zeros(0, np.int32)]
        for k in lengths:
            ids.append(np.array([i for i, t in enumerate(tokens) if len(t) == k], dtype=np.int32))
            keys.append(rolling_hashes(codes("".join(tokens[i] for i in ids[-1])).reshape(-1, k), k))
        keys, ids = np.concatenate(keys), np.concatenate(ids)
        order = np.argsort(keys)
        self.keys, self.ids, self.lengths = keys[order], ids[order], tuple(lengths)

    def __len__(self) -> int:
        return len(self.keys)

    def __repr__(self) -> str:
        return f"HashIndex({len(self)} strings of lengths {list(self.lengths)})"

    def find(self, queries: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(ids, found)`` for an array of query hashes: ``ids[i]`` is the position of the
        string whose hash is ``queries[i]`` (meaningless where ``found[i]`` is False)."""
        queries = np.asarray(queries, dtype=np.uint64)
        if not len(self.keys):
            return np.zeros(len(queries), np.int32), np.zeros(len(queries), bool)
        order, at = np.argsort(queries), np.empty(len(queries), dtype=np.intp)
        at[order] = np.minimum(np.searchsorted(self.keys, queries[order]), len(self.keys) - 1)
        return self.ids[at], self.keys[at] == queries

    def encode(self, queries: np.ndarray, unk: int) -> np.ndarray:
        """Positions of the query hashes, ``unk`` for those not in the index.

        Example:
            >>> HashIndex(["a", "b"]).encode(rolling_hashes(codes("bz"), 1), unk=-1).tolist()
            [1, -1]
        """
        ids, found = self.find(queries)
        return np.where(found, ids, unk)


def jieba_words() -> list[str]:
    """The words of jieba's main dictionary (about 350,000), normalised and sorted.

    The resource of the **open-track** experiment of chapter 5 (``train_segmenter(...,
    dictionary=jieba_words())``), never a default: jieba's word list and frequencies were
    counted partly from the segmented 1998 People's Daily corpus (jieba's issues #7 and #896),
    the corpus whose held-out sentences we evaluate on, so it may know words of the evaluation
    text that the training split never shows.

    Example:
        >>> "北京" in set(jieba_words())
        True
    """
    import jieba

    with jieba.get_dict_file() as fh:
        lines = fh.read().decode("utf-8").splitlines()
    return sorted({fold_width(line.split()[0]) for line in lines if line.strip()})


def dictionary_flags(text: str, words: Iterable[str]) -> np.ndarray:
    """The dictionary feature: per character of ``text``, bit ``2j`` / ``2j+1`` is
    set when a word of ``words`` of length ``WORD_LENGTHS[j]`` starts / ends at that character.

    Example (``天`` starts 天安 and 天安门; ``门`` ends 天安门):
        >>> [format(int(f), "06b") for f in dictionary_flags("天安门", ["天安", "天安门"])]
        ['000101', '000010', '001000']
    """
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, got {type(text).__name__}")
    return _dictionary_flags(codes(text), HashIndex(list(words), WORD_LENGTHS))


def _dictionary_flags(stream: np.ndarray, words: HashIndex) -> np.ndarray:
    """:func:`dictionary_flags` on code points, with a :class:`HashIndex` of the words.  Words
    never cross the ``\\x02``/``\\x03`` marks between sentences (no word contains them)."""
    _, found = words.find(np.concatenate([rolling_hashes(stream, k) for k in WORD_LENGTHS]))
    flags = np.zeros(len(stream), dtype=np.int32)
    found = found.reshape(len(WORD_LENGTHS), -1).astype(np.int32)
    for j, (k, starts) in enumerate(zip(WORD_LENGTHS, found)):
        starts[max(len(stream) - k + 1, 0):] = 0                   # windows that ran off the end
        flags |= starts << (2 * j)
        flags[k - 1:] |= starts[:len(stream) - k + 1] << (2 * j + 1)
    return flags


def _stream(texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """The code points of ``\\x02 t1 \\x03\\x02 t2 \\x03 …``, and where the texts' characters are in it."""
    lengths = np.array([len(t) for t in texts], dtype=np.int64)
    positions = np.arange(lengths.sum()) + 1 + 2 * np.repeat(np.arange(len(texts)), lengths)
    return codes("\x02" + "\x03\x02".join(texts) + "\x03"), positions


def _held_out_flags(texts: Sequence[str], words: Sequence[Sequence[str]], folds: int) -> np.ndarray:
    """Dictionary flags of the training texts, each block of ``len(texts) / folds`` consecutive
    sentences flagged with the words of the other blocks only (jackknifing): then a flagged
    word is as often missing from the dictionary in training as new text's words will be."""
    def counts(block):
        return Counter(w for ws in block for w in ws if len(w) in WORD_LENGTHS)

    total, bounds, out = counts(words), np.linspace(0, len(texts), folds + 1).astype(int), []
    for a, b in zip(bounds[:-1], bounds[1:]):
        own = counts(words[a:b])
        others = sorted(w for w, n in total.items() if n > own[w])          # seen outside the block
        stream, positions = _stream(texts[a:b])
        out.append(_dictionary_flags(stream, HashIndex(others, WORD_LENGTHS))[positions])
    return np.concatenate(out)


def _tagger(n_chars: int, n_bigrams: int, s: SegmenterRecipe, dictionary: bool) -> keras.Model:
    """Character and bigram embeddings (and, with ``dictionary``, the dictionary flags'
    embedding) → a linear projection → bidirectional GRU or LSTM → 4 tag logits.  The
    projection runs once over all positions, so the recurrent layer's own input matrix,
    applied step by step, stays small."""
    ids = keras.Input((None, 4), dtype="int32", name="features")
    char_emb = keras.layers.Embedding(n_chars, s.embedding_dim, name="chars")
    bigram_emb = keras.layers.Embedding(n_bigrams, s.embedding_dim, name="bigrams")
    parts = [char_emb(ids[..., 0]), bigram_emb(ids[..., 1]), bigram_emb(ids[..., 2])]
    if dictionary:
        parts.append(keras.layers.Embedding(4 ** len(WORD_LENGTHS), s.dictionary_dim, name="dictionary")(
            ids[..., 3]))
    x = keras.layers.Concatenate()(parts)
    x = keras.layers.Dense(s.projection_dim, name="projection")(keras.layers.Dropout(s.dropout)(x))
    cell = {"gru": keras.layers.GRU, "lstm": keras.layers.LSTM}[s.cell]
    # Padding (character id 0) is masked explicitly: Keras's Concatenate drops the mask of a
    # mask_zero embedding joined with unmasked ones, and the backward layer would then start
    # its pass in the padding, so that a sentence's tags would depend on its batch.
    padding = keras.ops.not_equal(ids[..., 0], 0)
    x = keras.layers.Bidirectional(cell(s.units, return_sequences=True), name=f"bi{s.cell}")(x, mask=padding)
    x = keras.layers.Dropout(s.dropout)(x)
    return keras.Model(ids, keras.layers.Dense(len(TAGS), name="tags")(x), name="bmes_tagger")


class Segmenter:
    """A trained BMES segmenter: tagger, vocabularies, transition scores, optional dictionary.

    Use :func:`train_segmenter` to make one and :func:`load_segmenter` to reload one.

    Args:
        model: the tagger: feature rows ``(B, T, 4)`` → tag logits ``(B, T, 4)``.
        chars, bigrams: the vocabularies of the training text's characters and bigrams.
        transitions: ``(4, 4)`` tag transition scores for Viterbi.
        dictionary: the words of the dictionary feature (the training words for the
            closed track; empty: no dictionary feature).

    Example:
        >>> seg = train_segmenter([["我们", "爱", "北京"]] * 50, steps=5)
        >>> ["".join(words) for words in seg.segment(["我们爱北京"])]
        ['我们爱北京']
    """

    def __init__(self, model: keras.Model, chars: Vocabulary, bigrams: Vocabulary, transitions: np.ndarray,
                 dictionary: Sequence[str] = ()):
        transitions = np.asarray(transitions, dtype=float)
        if transitions.shape != (len(TAGS), len(TAGS)):
            raise ValueError(f"transitions must have shape (4, 4), got {transitions.shape}")
        self.model, self.chars, self.bigrams, self.transitions = model, chars, bigrams, transitions
        self.dictionary = list(dictionary)
        self.char_index = HashIndex(chars.tokens, [1])
        self.bigram_index = HashIndex(bigrams.tokens, [2])
        self.word_index = HashIndex(self.dictionary, WORD_LENGTHS)

    def features(self, texts: Sequence[str]) -> np.ndarray:
        """The tagger's input: an int32 array ``(N, 4)`` for the N characters of ``texts`` in
        turn: character id, left bigram id, right bigram id and the dictionary flags
        (:func:`dictionary_flags`; always 0 without a dictionary).  Texts should be normalised.

        Bigrams use ``\\x02`` and ``\\x03`` as sentence start and end marks: the stream
        ``\\x02 s1 \\x03\\x02 s2 \\x03 …`` is encoded at once, by :class:`HashIndex` lookups.

        Example:
            >>> seg = train_segmenter([["我们", "爱", "北京"]] * 50, steps=5)
            >>> f = seg.features(["我们", "爱"])
            >>> f.shape, seg.chars.decode(f[:, 0]), seg.bigrams.decode(f[:, 1])
            ((3, 4), ['我', '们', '爱'], ['\\x02我', '我们', '<unk>'])
        """
        if isinstance(texts, str):
            raise TypeError("texts must be a list of strings, not one string")
        stream, positions = _stream(texts)
        pairs = rolling_hashes(stream, 2)[:-1]                              # pair i: stream[i:i+2]
        pair_ids = self.bigram_index.encode(pairs, self.bigrams.unk_id)
        char_ids = self.char_index.encode(stream[positions], self.chars.unk_id)
        flags = _dictionary_flags(stream, self.word_index)[positions]
        columns = [char_ids, pair_ids[positions - 1], pair_ids[positions], flags]
        return np.stack(columns, axis=1).astype("int32")

    def segment(self, texts: Sequence[str], batch_size: int = 1024) -> list[list[str]]:
        """Split each text into words (characters are kept exactly as given).

        All texts are tagged as one stream, in pieces cut after clause-final punctuation
        (``，。、；：！？``, always a one-character word) and at the ends of texts; batches of
        similar-length pieces waste little padding, and the features still see across a cut.
        ``batch_size`` pieces go through the tagger at a time.

        Example:
            >>> seg = train_segmenter([["我们", "爱", "北京"]] * 50, steps=5)
            >>> seg.segment(["", "我"])
            [[], ['我']]
        """
        if isinstance(texts, str):
            raise TypeError("texts must be a list of strings, not one string")
        batch_size = check_int("batch_size", batch_size, minimum=1)
        normalized = [fold_width(t) for t in texts]
        feats = self.features(normalized)
        points = codes("".join(normalized) + "\x00")
        text_ends = np.cumsum([len(t) for t in texts], dtype=np.int64)
        digit_next = (points[1:] >= ord("0")) & (points[1:] <= ord("9"))
        clause_ends = 1 + np.flatnonzero(np.isin(points[:-1], _CLAUSE_MARKS) & ~digit_next)
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
            tags[at[valid]] = best_paths(logits, self.transitions, n)[valid]
        joined, word_ends = "".join(texts), np.flatnonzero(END[tags]) + 1
        words = [joined[a:b] for a, b in zip([0, *word_ends[:-1].tolist()], word_ends.tolist())]
        cuts = np.searchsorted(word_ends, text_ends, side="right").tolist()
        return [words[a:b] for a, b in zip([0, *cuts[:-1]], cuts)]

    def save(self, path: str | os.PathLike) -> None:
        """Write the segmenter to the directory ``path`` (atomically: all or nothing).

        Example:
            >>> seg = train_segmenter([["我们", "爱", "北京"]] * 50, steps=5)
            >>> path = Path(tempfile.mkdtemp()) / "seg"
            >>> seg.save(path)
            >>> load_segmenter(path).segment(["我们爱北京"]) == seg.segment(["我们爱北京"])
            True
        """
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
    sentences: Sequence[Sequence[str]], mode: str | None = None, seed: int | None = None,
    steps: int | None = None, verbose: int = 0, dictionary: Iterable[str] | None = None,
    recipe: SegmenterRecipe | None = None,
) -> Segmenter:
    """Train a BMES segmenter on gold-segmented sentences (lists of words).

    Text is :func:`lmbook.segment.fold_width`-d; character and character-bigram vocabularies
    come from the training text; the tagger is trained on random windows of the concatenated
    sentences with the chapter 3 recipe (:mod:`lmbook.training`), and transition scores are
    the log-probabilities of tag bigrams in the training data.

    By default (``dictionary=None``) it is a closed-track system: the dictionary feature
    uses the training words.  Flagged with all of them, the training text would show every
    word in the dictionary, and the tagger would learn to trust the flags, which fail on
    new text exactly at its unknown words.  So the training text is cut into ``folds``
    blocks of consecutive sentences, each flagged with the words of the other blocks only
    (jackknifing); new text is flagged with all the training words.

    Args:
        sentences: the training sentences, each a list of words.
        mode: ``"quick"`` (under 4 minutes on a 2-core CPU) or ``"full"``: the recipe
            ``lmbook.recipes.recipe("segmenter", "peoples_daily", mode)``.
        seed: random seed for initialisation and batches; ``None``: the recipe's.
        steps: override the recipe's number of training steps.
        verbose: Keras ``fit`` verbosity.
        dictionary: ``None`` (default, closed track): the training words, jackknifed; a
            list of words, e.g. :func:`jieba_words` (open track): an external dictionary,
            used as it is on training and new text alike; ``[]``: no dictionary feature.
        recipe: a :class:`lmbook.recipes.SegmenterRecipe` instead of a mode's.  Give
            ``recipe`` or ``mode``, not both; neither means the recipe of ``$LMBOOK_MODE``.

    Example:
        >>> seg = train_segmenter([["我们", "爱", "北京"]] * 50, steps=5)
        >>> len(seg.chars), seg.dictionary
        (7, ['北京', '我们'])
        >>> train_segmenter([["我们"]], steps=0)
        Traceback (most recent call last):
        ...
        ValueError: steps must be an integer >= 1, got 0
    """
    if isinstance(sentences, str) or not sentences:
        raise ValueError("sentences must be a non-empty list of sentences, each a list of words")
    if isinstance(dictionary, str):
        raise TypeError("dictionary must be a list of words, not one string")
    s = resolve(recipe, mode, lambda m: recipes.recipe("segmenter", "peoples_daily", m), SegmenterRecipe)
    steps = s.steps if steps is None else check_int("steps", steps, minimum=1)
    seed = s.seed if seed is None else check_int("seed", seed)
    normalized = [[fold_width(w) for w in words] for words in sentences]
    texts = ["".join(words) for words in normalized]
    tags = [to_bmes(words) for words in normalized]
    chars = Vocabulary.from_tokens(c for t in texts for c in t)
    bigrams = Vocabulary.from_tokens((f"\x02{t}\x03"[i:i + 2] for t in texts for i in range(len(t) + 1)),
                                     min_count=s.bigram_min_count)
    own = dictionary is None                  # closed track: the training words, held out by block
    source = (w for words in normalized for w in words) if own else map(fold_width, dictionary)
    words = sorted({w for w in source if len(w) in WORD_LENGTHS})
    labels = np.array([TAGS.index(t) for t in "".join(tags)], dtype="int32")
    counts = np.ones((4, 4))                                   # add-one tag bigram counts
    for t in tags:
        for a, b in zip(t, t[1:]):
            counts[TAGS.index(a), TAGS.index(b)] += 1
    transitions = np.log(counts / counts.sum(1, keepdims=True))

    keras.utils.set_random_seed(seed)
    model = compile_lm(_tagger(len(chars), len(bigrams), s, bool(words)), steps, s.peak_lr, s.weight_decay,
                       jit_compile=False)
    segmenter = Segmenter(model, chars, bigrams, transitions, words)
    feats = segmenter.features(texts)
    if own:
        feats[:, 3] = _held_out_flags(texts, normalized, s.folds)
    fit_windows(model, feats, steps, s.batch_size, s.seq_len, epochs=math.gcd(steps, 10),
                seed=seed, labels=labels, verbose=verbose)
    return segmenter
