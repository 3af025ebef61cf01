"""lmbook.entities: the rule that turns People's Daily's nr/ns/nt tags into entities, BIO both
ways, and exact-span scoring."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lmbook.entities import bio_spans, bio_tags, entity_prf1, peoples_daily_entities, sentence_entities
from lmbook.output_metrics import PRF, prf_from_counts


def test_surname_and_given_name_make_one_person_but_places_stay_apart():
    words = [("江", "nr"), ("泽民", "nr"), ("、", "w"), ("李鹏", "nr"), ("访问", "v"),
             ("中国", "ns"), ("北京", "ns"), ("中国", "ns"), ("共产党", "n"), ("新华社", "nt")]
    text, spans = sentence_entities(words)
    assert [text[a:b] + "/" + kind for a, b, kind in spans] == [
        "江泽民/PER", "李鹏/PER", "中国/LOC", "北京/LOC", "中国/LOC", "新华社/ORG"]


@given(st.lists(st.tuples(st.integers(1, 4), st.sampled_from(["PER", "LOC", "ORG", None])), max_size=12))
def test_bio_tags_and_spans_are_inverse(pieces):
    spans, start = [], 0
    for length, kind in pieces:
        if kind:
            spans.append((start, start + length, kind))
        start += length
    assert bio_spans(bio_tags(start, spans)) == spans


def test_an_inside_tag_without_its_beginning_starts_an_entity():
    tags = ["O", "I-PER", "I-LOC", "B-LOC", "I-LOC"]
    assert bio_spans(tags) == [(1, 2, "PER"), (2, 3, "LOC"), (3, 5, "LOC")]


@pytest.mark.parametrize("spans, message", [([(2, 5, "PER")], "0 <= start < end <= length=4"),
                                            ([(0, 2, "PER"), (1, 3, "LOC")], "overlaps")])
def test_bad_spans_are_named(spans, message):
    with pytest.raises(ValueError, match=message):
        bio_tags(4, spans)


def test_a_bad_tag_is_named():
    with pytest.raises(ValueError, match=r"tags\[1\] = 'X' is not O"):
        bio_spans(["O", "X"])


def test_entity_scores_need_the_exact_span_and_type():
    gold = [[(0, 3, "PER"), (4, 6, "LOC")], [(0, 2, "ORG")]]
    predicted = [[(0, 3, "PER"), (4, 6, "ORG")], [(0, 2, "ORG"), (3, 4, "LOC")]]
    scores = entity_prf1(gold, predicted)
    assert (scores.precision, scores.recall) == (pytest.approx(2 / 4), pytest.approx(2 / 3))
    assert scores.f1 == pytest.approx(2 * 0.5 * (2 / 3) / (0.5 + 2 / 3))
    assert scores == prf_from_counts(2, 4, 3)          # 2 exact matches, 4 predicted, 3 gold
    with pytest.raises(ValueError, match="gold has 2 sentences but predicted has 1"):
        entity_prf1(gold, predicted[:1])


def test_entity_scores_are_zero_without_entities_or_without_predictions():
    assert entity_prf1([[], []], [[], []]) == PRF(0.0, 0.0, 0.0)
    assert entity_prf1([[(0, 2, "PER")]], [[]]) == PRF(0.0, 0.0, 0.0)
    assert entity_prf1([[]], [[(0, 2, "PER")]]) == PRF(0.0, 0.0, 0.0)


def test_the_peoples_daily_entities_align_with_their_sentences():
    texts, tags = peoples_daily_entities("validation")
    assert len(texts) == len(tags) == 974
    assert all(len(t) == len(g) for t, g in zip(texts, tags))
    kinds = {tag[2:] for row in tags for tag in row if tag != "O"}
    assert kinds == {"PER", "LOC", "ORG"}
