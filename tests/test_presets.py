"""lmbook.presets: the committed presets against their cards, and a tiny preset built, interrupted,
resumed, loaded, corrupted and fetched."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import keras
import numpy as np
import pytest

from lmbook import data, preset_training, presets, results
from lmbook.notebook import WIDTH
from lmbook.recipes import GPTRecipe

TINY = GPTRecipe(corpus="tiny_shakespeare", d_model=16, num_heads=2, layers=1, dropout=0.0,
                 batch_size=4, seq_len=16, steps=20, peak_lr=1e-2, weight_decay=0.1, seed=0)


# --- The committed presets ---------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(presets.PRESETS))
def test_every_preset_is_built_and_its_card_matches_its_recipe(name):
    info = presets.card(name)
    spec = presets.PRESETS[name]
    assert info["recipe"] == spec.as_dict() and info["name"] == name
    assert info["tokens"] == spec.steps * spec.batch_size * spec.seq_len
    assert sum(s["to_step"] - s["from_step"] for s in info["segments"]) == spec.steps
    for key in ("device", "backend", "wall_time_s", "commit", "loss", "slice", "weights", "data",
                "intended_use"):
        assert info[key], key
    expected = ({"masked", "accuracy", "perplexity", "predictions"} if not spec.causal
                else {"stream", "nanogpt"})
    for split in ("validation", "test"):
        assert set(info["loss"][split]) == expected


@pytest.mark.parametrize("name", sorted(presets.PRESETS))
def test_every_preset_file_matches_the_hash_on_its_card(name):
    info = presets.card(name)
    path = presets.PRETRAINED / info["weights"]["file"]
    assert presets._sha256(path) == info["weights"]["sha256"]
    assert path.stat().st_size == info["weights"]["bytes"]


def test_all_preset_weights_fit_the_budget():
    files = [presets.PRETRAINED / presets.card(name)["weights"]["file"] for name in presets.PRESETS]
    total = sum(path.stat().st_size for path in files)
    assert total <= 60e6, f"{total / 1e6:.1f} MB of preset weights; the budget is 60 MB"


@pytest.mark.parametrize("name", sorted(presets.PRESETS))
def test_every_preset_reproduces_its_slice_loss(name):
    preset = presets.load(name)
    info = preset.card["slice"]
    text = data.character_stream(preset.recipe.corpus, info["split"])[:info["chars"]]
    assert preset.score(text) == pytest.approx(info["loss"], abs=1e-3)


def test_a_recurrent_preset_generates_statefully_as_if_it_reread_the_text():
    from lmbook.generate import generate

    preset = presets.load("peoples-daily-gru")
    prompt = preset.vocabulary.encode("新华社北京")
    expected = generate(preset.model, prompt, 12, temperature=0.8, seed=0)     # re-reads everything
    assert (preset.generate("新华社北京", 12, temperature=0.8, seed=0) == expected).all()


# --- A tiny preset, built with an interruption --------------------------------------------------


class Interrupt(Exception):
    """Stands for a killed process."""


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """Build preset "tiny" in a private folder, interrupted after its first backup, then resumed."""
    folder = tmp_path_factory.mktemp("pretrained")
    real_callback = preset_training._progress_callback
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(presets, "PRETRAINED", folder)
        mp.setitem(presets.PRESETS, "tiny", TINY)

        def interrupting(*args):
            callback = real_callback(*args)
            record = callback.on_epoch_end

            def on_epoch_end(epoch, logs=None):
                record(epoch, logs)
                raise Interrupt

            callback.on_epoch_end = on_epoch_end
            return callback

        mp.setattr(preset_training, "_progress_callback", interrupting)
        with pytest.raises(Interrupt):
            presets.train("tiny", save_every=10)
        mp.setattr(preset_training, "_progress_callback", real_callback)
        backup = folder / ".backup" / "tiny"
        assert json.loads((backup / "progress.json").read_text())["segments"][0]["to_step"] == 10
        info = presets.train("tiny", save_every=10)
        yield folder, info


@pytest.fixture
def tiny_here(tiny, monkeypatch):
    """The tiny preset's folder as the presets folder, and "tiny" among the presets."""
    folder, info = tiny
    monkeypatch.setattr(presets, "PRETRAINED", folder)
    monkeypatch.setitem(presets.PRESETS, "tiny", TINY)
    return folder, info


@pytest.mark.slow
def test_a_resumed_build_counts_each_step_once(tiny):
    folder, info = tiny
    assert [(s["from_step"], s["to_step"]) for s in info["segments"]] == [(0, 10), (10, 20)]
    assert info["tokens"] == 20 * 4 * 16 and info["steps"] == 20
    assert info["wall_time_s"] == pytest.approx(sum(s["wall_s"] for s in info["segments"]))
    assert not (folder / ".backup" / "tiny").exists()          # the finished run's backup is gone
    assert sorted(p.name for p in folder.iterdir()) == ["tiny.json", "tiny.npz"]


def test_a_loaded_preset_scores_and_generates(tiny_here):
    _, info = tiny_here
    preset = presets.load("tiny")
    assert preset.model.seq_len == 16 and len(preset.vocabulary) == info["vocabulary_size"]
    text = data.load_tiny_shakespeare("validation")
    assert preset.cross_entropy(text[:presets.SLICE_CHARS]) == pytest.approx(info["slice"]["loss"], rel=1e-5)
    assert preset.cross_entropy(text) == pytest.approx(info["loss"]["validation"]["stream"], abs=1e-4)
    out = preset.generate("ROMEO:", 30, seed=0)
    assert len(out) == 36 and "".join(preset.vocabulary.decode(out[:6])) == "ROMEO:"


def test_a_preset_computes_in_float32_under_a_mixed_global_policy(tiny_here):
    _, info = tiny_here
    text = data.load_tiny_shakespeare("validation")[:presets.SLICE_CHARS]
    keras.mixed_precision.set_global_policy("mixed_bfloat16")
    try:
        preset = presets.load("tiny")
        assert keras.mixed_precision.dtype_policy().name == "mixed_bfloat16"   # left as it was
        assert {layer.dtype_policy.name for layer in preset.model.layers} == {"float32"}
        assert preset.cross_entropy(text) == pytest.approx(info["slice"]["loss"], rel=1e-5)
    finally:
        keras.mixed_precision.set_global_policy("float32")


def test_the_table_lists_built_and_unbuilt_presets(tiny_here):
    lines = presets.table().splitlines()
    hours = f"{tiny_here[1]['wall_time_s'] / 3600:.2f}"     # the card's wall time, as printed
    assert any(line.startswith("tiny ") and hours in line.split() for line in lines)
    assert sum("not built" in line for line in lines) == sum(
        not (tiny_here[0] / f"{n}.json").exists() for n in presets.PRESETS)
    assert max(map(len, lines)) <= WIDTH, "wider than lmbook.notebook.WIDTH"


def test_an_unknown_name_lists_the_known_ones():
    known = "known presets: peoples-daily-bert, peoples-daily-gpt"
    with pytest.raises(KeyError, match=f"unknown preset 'nope'; {known}"):
        presets.load("nope")


@pytest.mark.parametrize("damage", ["corrupt", "truncate"])
def test_a_damaged_weights_file_is_caught_by_its_hash(tiny_here, tmp_path, monkeypatch, damage):
    folder, _ = tiny_here
    copy = tmp_path / "pretrained"
    shutil.copytree(folder, copy)
    payload = (copy / "tiny.npz").read_bytes()
    payload = payload[:-100] if damage == "truncate" else payload[:500] + b"X" + payload[501:]
    (copy / "tiny.npz").write_bytes(payload)
    monkeypatch.setattr(presets, "PRETRAINED", copy)
    with pytest.raises(presets.PresetFileError, match="does not match the SHA-256 on the card of 'tiny'"):
        presets.load("tiny")


def test_missing_weights_are_fetched_by_hash(tiny_here, tmp_path, monkeypatch, data_home, serve):
    folder, _ = tiny_here
    only_card = tmp_path / "installed"
    only_card.mkdir()
    shutil.copy(folder / "tiny.json", only_card)                   # a wheel ships the cards only
    url = serve((folder / "tiny.npz").read_bytes(), "tiny.npz")
    monkeypatch.setattr(presets, "PRETRAINED", only_card)
    monkeypatch.setattr(presets, "_release_url", lambda name, file: url)
    preset = presets.load("tiny")
    assert (data_home / "presets" / "tiny.npz").is_file() and serve.hits == 1
    assert isinstance(preset.model, keras.Model)


def test_missing_weights_offline_say_where_to_put_them(tiny_here, tmp_path, monkeypatch, data_home):
    folder, _ = tiny_here
    only_card = tmp_path / "installed"
    only_card.mkdir()
    shutil.copy(folder / "tiny.json", only_card)
    monkeypatch.setattr(presets, "PRETRAINED", only_card)
    monkeypatch.setattr(presets, "_release_url", lambda name, file: "http://127.0.0.1:9/tiny.npz")
    with pytest.raises(presets.PresetFileError, match=r"tiny\.npz") as err:
        presets.load("tiny")
    assert str(data_home / "presets" / "tiny.npz") in str(err.value)


def test_an_unbuilt_preset_says_how_to_build_it(tmp_path, monkeypatch):
    monkeypatch.setattr(presets, "PRETRAINED", tmp_path)
    with pytest.raises(presets.PresetFileError, match="python -m lmbook.presets build peoples-daily-gru"):
        presets.load("peoples-daily-gru")


def test_build_checks_its_arguments(monkeypatch):
    monkeypatch.setitem(presets.PRESETS, "tiny", TINY)
    with pytest.raises(ValueError, match=r"save_every \(7\) must divide the recipe's steps \(20\)"):
        presets.train("tiny", save_every=7)
    with pytest.raises(ValueError, match="save_every must be an integer"):
        presets.train("tiny", save_every=0)
    with pytest.raises(KeyError, match="unknown preset"):
        presets.train("tinyy")


def test_a_backup_from_another_recipe_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(presets, "PRETRAINED", tmp_path)
    monkeypatch.setitem(presets.PRESETS, "tiny", TINY)
    backup = tmp_path / ".backup" / "tiny"
    backup.mkdir(parents=True)
    other = {"name": "tiny", "recipe": {**TINY.as_dict(), "steps": 40}, "segments": []}
    (backup / "progress.json").write_text(json.dumps(other))
    with pytest.raises(RuntimeError, match="made with another recipe"):
        presets.train("tiny", save_every=10)


def test_the_weights_file_holds_the_vocabulary_and_one_array_per_weight(tiny_here):
    folder, info = tiny_here
    model = TINY.model(info["vocabulary_size"])
    with np.load(Path(folder) / "tiny.npz") as arrays:
        assert sorted(arrays.files) == ["vocabulary"] + [f"w{i:03d}" for i in range(len(model.weights))]
        dtypes = {str(arrays[f"w{i:03d}"].dtype) for i in range(len(model.weights))}
        assert dtypes == {info["weights"]["dtype"]}
        assert len(arrays["vocabulary"]) == info["vocabulary_size"]


# --- A tiny encoder preset (conftest.py) ---------------------------------------------------------


@pytest.mark.slow
def test_an_encoder_preset_scores_masked_tokens_as_its_card_says(tiny_encoder):
    preset = presets.load("tiny-bert")
    text = data.character_stream("peoples_daily", "validation")
    assert preset.score(text[:presets.SLICE_CHARS]) == pytest.approx(preset.card["slice"]["loss"], rel=1e-5)
    scores = preset.masked_scores(text)
    assert scores["loss"] == pytest.approx(preset.card["loss"]["validation"]["masked"], abs=1e-4)
    assert scores["perplexity"] == pytest.approx(np.exp(scores["loss"]), rel=1e-6)
    assert preset.vocabulary.tokens[:3] == ["<pad>", "<unk>", "<mask>"]
    guesses = preset.fill_mask("中华人民<mask>和国", top_k=3)
    assert len(guesses) == 1 and len(guesses[0]) == 3
    assert all(a[1] >= b[1] for a, b in zip(guesses[0], guesses[0][1:]))


def test_an_encoder_preset_does_not_generate(tiny_encoder):
    with pytest.raises(TypeError, match="tiny-bert is a masked LM .* no generate"):
        presets.load("tiny-bert").generate("人民", 3)


def test_a_causal_preset_does_not_fill_masks(tiny_here):
    with pytest.raises(TypeError, match="tiny is a causal LM, it has no fill_mask"):
        presets.load("tiny").fill_mask("a<mask>")


@pytest.mark.parametrize("name", sorted(n for n, spec in presets.PRESETS.items() if spec.causal))
def test_the_stored_validation_rows_agree_with_the_cards(name, monkeypatch):
    """benchmarks/presets.py's block sums add up to the card's validation loss, over the whole stream."""
    monkeypatch.setattr(presets, "PRETRAINED", Path(presets.__file__).parent / "pretrained")  # not "tiny"'s
    row, card = presets.validation_row(name), presets.card(name)
    text = data.character_stream(presets.PRESETS[name].corpus, "validation")
    assert row["chars"] == sum(row["block_counts"]) == len(text) - 1 and len(row["block_sums"]) == 64
    assert sum(row["block_sums"]) / row["chars"] == pytest.approx(row["nats_per_char"], abs=1e-9)
    assert row["nats_per_char"] == pytest.approx(card["loss"]["validation"]["stream"], abs=1e-4)
    stored = results.load(presets.VALIDATION_FILE, "python benchmarks/presets.py")
    assert stored["command"] == "python benchmarks/presets.py" and len(stored["commit"]) == 40


def test_a_masked_lm_or_an_unknown_name_has_no_validation_row():
    """The encoder has no stream row, and an unknown preset is named as such."""
    with pytest.raises(KeyError, match="'peoples-daily-bert' has no row"):
        presets.validation_row("peoples-daily-bert")
    with pytest.raises(KeyError, match="unknown preset 'nope'"):
        presets.validation_row("nope")
