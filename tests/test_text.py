"""lmbook.text: vocabularies and windows."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from lmbook.text import PAD, UNK, StreamBatches, Vocabulary, WindowBatches, random_windows, tagging_windows


@given(st.text(min_size=1))
def test_encode_decode_round_trip(text):
    vocab = Vocabulary.from_tokens(text)
    assert "".join(vocab.decode(vocab.encode(text))) == text


def test_reserved_ids_and_frequency_order():
    vocab = Vocabulary.from_tokens("abbccc")
    assert vocab.tokens == ["<pad>", "<unk>", "c", "b", "a"]
    assert vocab.encode("cz").tolist() == [2, vocab.unk_id]
    assert vocab.decode([1]) == [UNK]


def test_min_count_and_max_size():
    assert Vocabulary.from_tokens("abbccc", min_count=2).tokens[2:] == ["c", "b"]
    assert len(Vocabulary.from_tokens("abbccc", max_size=3)) == 3


def test_bad_input_errors():
    with pytest.raises(ValueError, match="tokens is empty"):
        Vocabulary.from_tokens("")
    vocab = Vocabulary.from_tokens("ab")
    with pytest.raises(IndexError, match=r"ids must be in \[0, 4\).*\[4, -1\]"):
        vocab.decode([0, 4, -1])
    with pytest.raises(ValueError, match="must include '<unk>'"):
        Vocabulary(["a", "b"])
    with pytest.raises(ValueError, match="min_count must be an integer >= 1, got 0"):
        Vocabulary.from_tokens("ab", min_count=0)
    with pytest.raises(ValueError, match="max_size must be an integer >= 3, got 2"):
        Vocabulary.from_tokens("ab", max_size=2)
    with pytest.raises(ValueError, match="min_count must be an integer >= 1, got True"):
        Vocabulary.from_tokens("ab", min_count=True)
    assert len(Vocabulary.from_tokens("abc", max_size=np.int64(3))) == 3


def test_windows_have_next_token_targets():
    ids = np.arange(1000)
    x, y = random_windows(ids, 8, 16, np.random.default_rng(0))
    assert x.shape == y.shape == (8, 16)
    assert (y == x + 1).all()  # on arange, the next token is the id plus one


def test_tagging_windows_pair_each_position_with_its_label():
    features = np.stack([np.arange(100), -np.arange(100)], axis=1)      # (N, F) feature rows
    labels = np.arange(100) % 4
    x, y = tagging_windows(features, labels, 5, 7, np.random.default_rng(0))
    assert x.shape == (5, 7, 2) and y.shape == (5, 7)
    assert (y == x[..., 0] % 4).all() and (np.diff(x[..., 0], axis=1) == 1).all()
    x, _ = tagging_windows(np.arange(7), np.zeros(7), 3, 7, np.random.default_rng(0))   # seq_len ids suffice
    assert (x == np.arange(7)).all()


def test_window_errors():
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="need at least seq_len \\+ 1 = 11 ids, got 5"):
        random_windows(np.arange(5), 2, 10, rng)
    with pytest.raises(ValueError, match="1-D"):
        random_windows(np.zeros((3, 3)), 1, 1, rng)
    with pytest.raises(ValueError, match="batch_size must be an integer >= 1, got 0"):
        random_windows(np.arange(5), 0, 1, rng)
    with pytest.raises(ValueError, match="seq_len must be an integer >= 1, got False"):
        random_windows(np.arange(5), 1, False, rng)
    with pytest.raises(ValueError, match="seq_len must be an integer >= 1, got 2.0"):
        tagging_windows(np.arange(5), np.arange(5), 1, 2.0, rng)
    assert random_windows(np.arange(5), np.int32(2), np.int64(3), rng)[0].shape == (2, 3)
    with pytest.raises(ValueError, match="need at least seq_len = 6 ids, got 5"):
        tagging_windows(np.arange(5), np.arange(5), 1, 6, rng)
    with pytest.raises(ValueError, match="labels must have one label per id"):
        tagging_windows(np.arange(5), np.arange(4), 1, 2, rng)


def test_window_batches_are_reproducible_and_fresh_each_epoch():
    a = WindowBatches(np.arange(500), batch_size=4, seq_len=8, steps=3, seed=1)
    b = WindowBatches(np.arange(500), batch_size=4, seq_len=8, steps=3, seed=1)
    assert len(a) == 3
    assert (a[0][0] == b[0][0]).all()
    first = a[0][0].copy()
    a.on_epoch_end()
    assert not (a[0][0] == first).all()
    with pytest.raises(ValueError, match="steps must be an integer >= 1, got 0"):
        WindowBatches(np.arange(500), batch_size=4, seq_len=8, steps=0)
    with pytest.raises(ValueError, match="need at least seq_len \\+ 1 = 9 ids, got 5"):
        WindowBatches(np.arange(5), batch_size=4, seq_len=8, steps=1)    # checked when built


def test_window_batches_with_labels_are_tagging_windows():
    ids, labels = np.arange(300), np.arange(300) * 3
    data = WindowBatches(ids, batch_size=4, seq_len=8, steps=2, seed=5, labels=labels)
    x, y = data[1]
    expected = tagging_windows(ids, labels, 4, 8, np.random.default_rng((5, 0, 1)))
    assert (x == expected[0]).all() and (y == expected[1]).all() and (y == 3 * x).all()


def test_stream_batches_continue_each_stream_and_move_between_passes():
    ids = np.arange(200)
    data = StreamBatches(ids, batch_size=4, seq_len=8, steps=10, seed=3)
    per_pass = data.per_pass                                          # 6 windows of 8 in 48 ids
    batches = []
    for _ in range(3):                                                # epochs run on
        batches += [data[i] for i in range(len(data))]
        data.on_epoch_end()
    for (x, y), (x_next, _) in zip(batches[:per_pass - 1], batches[1:per_pass]):
        assert x.shape == y.shape == (4, 8) and (y == x + 1).all()
        assert (x_next[:, 0] == x[:, -1] + 1).all()                  # stream b continues
        assert (np.diff(x[:, 0]) == data.stream_len).all()           # streams are stream_len apart
    assert all(b[1].max() <= 199 for b in batches)                    # targets stay inside the ids
    offsets = {int(x[0, 0]) for x, _ in batches[::per_pass]}         # each pass starts afresh
    assert len(offsets) > 1 and all(o < 8 for o in offsets)
    again = StreamBatches(ids, batch_size=4, seq_len=8, steps=10, seed=3)
    assert all((again[i][0] == batches[i][0]).all() for i in range(10))


def test_stream_batch_errors():
    with pytest.raises(ValueError, match="1-D"):
        StreamBatches(np.zeros((3, 3)), 1, 1, 1)
    with pytest.raises(ValueError, match="steps must be an integer >= 1, got 0"):
        StreamBatches(np.arange(100), 2, 4, 0)
    with pytest.raises(ValueError, match="batch_size must be an integer >= 1, got True"):
        StreamBatches(np.arange(100), True, 4, 1)
    with pytest.raises(ValueError, match=r"need at least \(batch_size \+ 1\) \* seq_len = 30 ids"):
        StreamBatches(np.arange(20), 2, 10, 1)


def test_pad_rows_cuts_and_pads_with_pad_id():
    """Rows cut to the length and right-padded with <pad>'s id, 0; no rows is an error."""
    from lmbook.text import pad_rows

    out = pad_rows([np.array([3, 4, 5]), [6]], length=2)
    assert out.dtype == np.int32 and out.tolist() == [[3, 4], [6, 0]]
    assert Vocabulary.from_tokens("ab").tokens[0] == PAD
    with pytest.raises(ValueError, match="rows must hold at least one row"):
        pad_rows([])
    with pytest.raises(ValueError, match="length must be an integer >= 1, got 0"):
        pad_rows([[1]], length=0)
