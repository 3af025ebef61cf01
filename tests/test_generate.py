"""lmbook.generate: sampling distributions and reproducible generation."""

import keras
import numpy as np
import pytest

from lmbook.generate import _CachedGPT, generate, next_token_probs
from lmbook.models import gpt_lm, logits, recurrent_lm
from lmbook.transformer import CausalSelfAttention, SelfAttention

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
    ({"temperature": -1}, r"temperature must be a number in \[0.0, inf\), got -1"),
    ({"temperature": True}, r"temperature must be a number in \[0.0, inf\), got True"),
    ({"top_k": 0}, "top_k must be an integer >= 1, got 0"),
    ({"top_k": 2.5}, "top_k must be an integer >= 1, got 2.5"),
    ({"top_k": True}, "top_k must be an integer >= 1, got True"),
    ({"top_p": 0.0}, r"top_p must be a number in \(0.0, 1.0\], got 0.0"),
    ({"top_p": 1.5}, r"top_p must be a number in \(0.0, 1.0\], got 1.5"),
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
    assert len(generate(model, [1, 2, 3], max_new_tokens=2, seq_len=2)) == 5
    with pytest.raises(ValueError, match="prompt must contain at least one token id"):
        generate(model, [], max_new_tokens=3)
    with pytest.raises(ValueError, match="max_new_tokens must be an integer >= 0, got -1"):
        generate(model, [1], max_new_tokens=-1)
    assert len(generate(model, [1], max_new_tokens=np.int64(2), top_k=np.int32(3))) == 3


class Recorder:
    """Calls a model and records the length of every input it is given."""

    def __init__(self, model):
        self.model, self.lengths = model, []
        self.seq_len = getattr(model, "seq_len", None)   # the window, if any
        self.layers, self.inputs = model.layers, model.inputs  # whether it is stateful

    def __call__(self, x, training=None):
        self.lengths.append(x.shape[-1])
        return self.model(x, training=training)

    def predict_on_batch(self, x):
        """The compiled call: record the rows fed."""
        self.lengths.append(x.shape[-1])
        self.rows = [*getattr(self, "rows", []), np.array(x[0])]
        return self.model.predict_on_batch(x)


def test_generate_crops_a_gpt_to_its_window_and_a_recurrent_model_not():
    gpt = gpt_lm(12, seq_len=4, d_model=8, num_heads=2, layers=1)
    prompt = [1, 2, 3, 4, 5, 6]
    with pytest.raises(ValueError, match="longer than seq_len=4"):
        gpt(np.array([prompt], "int32"))                          # the whole prompt does not fit
    recorded = Recorder(gpt)
    out = generate(recorded, prompt, max_new_tokens=3, seed=2)
    assert recorded.lengths == [4, 4, 4]                           # the last 4 ids, each step
    text = [*prompt, *out[len(prompt):].tolist()]
    assert [row.tolist() for row in recorded.rows] == [text[k + 2:k + 6] for k in range(3)]
    short = Recorder(gpt)                # a shorter prompt is right-padded to the window's shape
    greedy = generate(short, [1, 2], max_new_tokens=2, temperature=0)
    assert short.rows[0].tolist() == [1, 2, 0, 0] and short.rows[1].tolist() == [1, 2, int(greedy[2]), 0]
    by_hand = keras.ops.convert_to_numpy(gpt(np.array([[1, 2]], "int32")))[0, -1]
    assert greedy[2] == int(np.argmax(by_hand))                    # the padding changed nothing
    assert (out == generate(gpt, prompt, max_new_tokens=3, seed=2, seq_len=4)).all()
    # by hand: greedy decoding from the last 4 ids
    ids = list(prompt)
    for _ in range(3):
        logits = keras.ops.convert_to_numpy(gpt(np.array([ids[-4:]], "int32")))[0, -1]
        ids.append(int(np.argmax(logits)))
    assert generate(gpt, prompt, max_new_tokens=3, temperature=0).tolist() == ids
    assert len(generate(gpt, prompt, max_new_tokens=2, seq_len=2)) == 8   # a shorter context is allowed
    with pytest.raises(ValueError, match=r"seq_len must be an integer in \[1, 4\], got 5"):
        generate(gpt, prompt, max_new_tokens=1, seq_len=5)

    rnn = Recorder(recurrent_lm(12, "gru", units=8))
    generate(rnn, prompt, max_new_tokens=3, seed=2)
    assert rnn.lengths == [6, 7, 8]                                # no window: the whole text



def test_a_stateful_model_generates_as_if_it_reread_the_whole_text():
    model = recurrent_lm(12, "lstm", units=8, layers=2)
    reader = recurrent_lm(12, "lstm", units=8, layers=2, stateful_batch_size=1)
    reader.set_weights(model.get_weights())
    recorded = Recorder(reader)
    prompt = [1, 2, 3, 4, 5]
    out = generate(recorded, prompt, max_new_tokens=4, seed=3)
    assert recorded.lengths == [5, 1, 1, 1]                      # the prompt once, then one id a step
    assert (out == generate(model, prompt, max_new_tokens=4, seed=3)).all()
    assert (out == generate(reader, prompt, max_new_tokens=4, seed=3)).all()   # the state is reset
    with pytest.raises(ValueError, match="batch size of 1 to generate, got 2"):
        generate(recurrent_lm(12, "gru", units=4, stateful_batch_size=2), prompt, max_new_tokens=1)


@pytest.mark.filterwarnings("ignore:You are using a softmax over axis -1")   # the first position: one key
def test_a_gpt_decodes_with_a_key_value_cache_as_the_whole_window_would():
    gpt = gpt_lm(12, seq_len=8, d_model=16, num_heads=2, layers=2)
    ids = [3, 1, 4, 1, 5, 9, 2, 6]
    cached = _CachedGPT.of(gpt)
    for t in range(1, len(ids) + 1):        # one new position per step: the full pass's last logits
        full = logits(gpt, np.array([ids[:t]], "int32"))[0, -1]
        np.testing.assert_allclose(cached.extend(ids[:t]), full, rtol=1e-5, atol=1e-5)
    for sampling in ({"temperature": 0}, {"temperature": 1.0, "seed": 3}):
        windowed = Recorder(gpt)            # not a GPT of lmbook's layers to generate: no cache
        expected = generate(windowed, [3, 1], max_new_tokens=12, **sampling)   # into and past the window
        assert generate(gpt, [3, 1], max_new_tokens=12, **sampling).tolist() == expected.tolist()
        assert windowed.lengths == [8] * 12
    keras_hub_gpt = gpt_lm(12, seq_len=8, d_model=16, num_heads=2, layers=1, layers_from="keras_hub")
    assert _CachedGPT.of(keras_hub_gpt) is None
    assert _CachedGPT.of(recurrent_lm(12, "gru", units=8)) is None


def test_only_a_causal_attention_takes_a_cache():
    x, cache = np.zeros((1, 1, 8), "float32"), np.zeros((1, 2, 2, 4, 4), "float32")
    y, new_cache = CausalSelfAttention(num_heads=2)(x, cache=cache, cache_index=0)
    assert tuple(y.shape) == (1, 1, 8) and tuple(new_cache.shape) == (1, 2, 2, 4, 4)
    with pytest.raises(ValueError, match="a key/value cache needs a causal layer"):
        SelfAttention(num_heads=2)(x, cache=cache, cache_index=0)
