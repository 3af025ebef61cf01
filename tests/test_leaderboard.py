"""lmbook.leaderboard: the committed test-split leaderboard agrees with a fresh computation and
with the presets' cards."""

from __future__ import annotations

import numpy as np
import pytest

from lmbook import data, leaderboard, presets


@pytest.fixture(scope="module")
def board():
    return leaderboard.load()


@pytest.mark.parametrize("corpus", data.CHARACTER_CORPORA)
def test_the_count_rows_recompute_exactly(board, corpus):
    stored = board["corpora"][corpus]["rows"][:len(leaderboard.COUNT_MODELS)]
    for fresh, row in zip(leaderboard.count_rows(corpus), stored):
        assert fresh["model"] == row["model"]
        assert fresh["nats_per_char"] == pytest.approx(row["nats_per_char"], abs=1e-9)
        assert fresh["bits_per_byte"] == pytest.approx(row["bits_per_byte"], abs=1e-9)
        assert np.allclose(fresh["block_sums"], row["block_sums"], atol=1e-6)


@pytest.mark.parametrize("corpus", data.CHARACTER_CORPORA)
def test_every_row_scores_the_whole_test_stream_in_the_same_blocks(board, corpus):
    chars = len(data.character_stream(corpus, "test")) - 1
    rows = board["corpora"][corpus]["rows"]
    for row in rows:
        assert row["chars"] == chars and sum(row["block_counts"]) == chars, row["model"]
        assert row["block_counts"] == rows[0]["block_counts"]
        assert sum(row["block_sums"]) / chars == pytest.approx(row["nats_per_char"], rel=1e-9)


@pytest.mark.parametrize("corpus", data.CHARACTER_CORPORA)
def test_the_mkn_order_is_chosen_on_validation(board, corpus):
    result = board["corpora"][corpus]
    assert set(result["orders"]) == set(leaderboard.ORDERS)
    chosen = min(result["orders"], key=lambda n: result["orders"][n]["validation"])
    assert result["chosen_order"] == chosen
    assert f"MKN {chosen}-gram" in [row["model"] for row in result["rows"]]


def test_the_preset_rows_agree_with_their_cards(board):
    rows = {row["model"]: row for result in board["corpora"].values() for row in result["rows"]}
    for name in leaderboard.RANKED:
        test_loss = presets.card(name)["loss"]["test"]["stream"]
        assert rows[f"preset {name}"]["nats_per_char"] == pytest.approx(test_loss, abs=1e-3), name


def test_a_missing_file_names_the_command(tmp_path):
    with pytest.raises(FileNotFoundError, match="python benchmarks/leaderboard.py"):
        leaderboard.load(tmp_path / "nope.json")
