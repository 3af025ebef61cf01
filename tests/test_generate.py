"""lmbook.generate: sampling distributions and reproducible generation."""

import numpy as np
import pytest

from lmbook.generate import generate, next_token_probs
from lmbook.models import recurrent_lm

LOGITS = np.log(np.array([0.5, 0.3, 0.15, 0.05]))


def test_temperature_one_is_the_softmax_and_zero_is_greedy():
    np.testing.assert_allclose(next_token_probs(LOGITS), [0.5, 0.3, 0.15, 0.05])
    assert next_token_probs(LOGITS, temperature=0).tolist() == [1.0, 0.0, 0.0, 0.0]
    sharp, flat = next_token_probs(LOGITS, 0.5), next_token_probs(LOGITS, 2.0)
    assert sharp[0] > 0.5 > flat[0]


def test_top_k_and_top_p_keep_the_likeliest_tokens():
    np.testing.assert_allclose(next_token_probs(LOGITS, top_k=2), [0.5 / 0.8, 0.3 / 0.8, 0, 0])
    # top_p = 0.7: 0.5 is not enough, 0.5 + 0.3 crosses it -> keep two tokens
    np.testing.assert_allclose(next_token_probs(LOGITS, top_p=0.7), [0.5 / 0.8, 0.3 / 0.8, 0, 0])
    np.testing.assert_allclose(next_token_probs(LOGITS, top_p=1.0), [0.5, 0.3, 0.15, 0.05])


@pytest.mark.parametrize("kwargs, message", [
    ({"temperature": -1}, "temperature must be a number >= 0"),
    ({"top_k": 0}, "top_k must be None or an int >= 1"),
    ({"top_k": 2.5}, "top_k must be None or an int >= 1"),
    ({"top_p": 0.0}, r"top_p must be None or in \(0, 1\]"),
    ({"top_p": 1.5}, r"top_p must be None or in \(0, 1\]"),
])
def test_bad_sampling_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        next_token_probs(LOGITS, **kwargs)


def test_generate_is_reproducible_and_respects_the_prompt():
    model = recurrent_lm(12, "gru", units=8)
    a = generate(model, [3, 4], max_new_tokens=6, seed=1)
    assert a[:2].tolist() == [3, 4] and len(a) == 8
    assert (a == generate(model, [3, 4], max_new_tokens=6, seed=1)).all()
    greedy = generate(model, [3], max_new_tokens=4, temperature=0)
    assert (greedy == generate(model, [3], max_new_tokens=4, temperature=0, seed=9)).all()
    assert len(generate(model, [1, 2, 3], max_new_tokens=2, context_len=2)) == 5
    with pytest.raises(ValueError, match="prompt must contain at least one token id"):
        generate(model, [], max_new_tokens=3)
    with pytest.raises(ValueError, match="max_new_tokens"):
        generate(model, [1], max_new_tokens=-1)
