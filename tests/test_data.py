"""lmbook.data: the registry's lookup order, its errors, and the corpora."""

from __future__ import annotations

import pytest

from lmbook import data

PAYLOAD = b"To be, or not to be: that is the question.\n" * 50


def test_unknown_dataset_names_the_known_ones():
    with pytest.raises(KeyError, match="unknown dataset 'shakespear'.*tiny_shakespeare"):
        data.fetch("shakespear")


def test_download_then_cache_hit(data_home, serve, register):
    url = serve(PAYLOAD)
    register("toy", url, PAYLOAD)
    path = data.fetch("toy", progressbar=False)
    assert path == data_home / "toy" / "file.bin"
    assert path.read_bytes() == PAYLOAD
    data.fetch("toy", progressbar=False)
    assert serve.hits == 1  # the second call used the cached file


def test_corrupted_cache_is_detected_and_fetched_again(data_home, serve, register):
    register("toy", serve(PAYLOAD), PAYLOAD)
    path = data_home / "toy" / "file.bin"
    path.parent.mkdir(parents=True)
    path.write_bytes(PAYLOAD[:100])  # a truncated download
    with pytest.warns(UserWarning, match="does not match its SHA-256"):
        data.fetch("toy", progressbar=False)
    assert path.read_bytes() == PAYLOAD
    assert serve.hits == 1


def test_offline_error_names_dataset_url_and_path(data_home, register):
    url = "http://127.0.0.1:9/offline.txt"  # the discard port: nothing listens
    register("toy", url, PAYLOAD)
    with pytest.raises(data.DatasetUnavailableError) as err:
        data.fetch("toy", progressbar=False)
    message = str(err.value)
    assert "'toy'" in message and url in message
    assert str(data_home / "toy" / "file.bin") in message
    assert not (data_home / "toy" / "file.bin").exists()


def test_wrong_content_leaves_no_file(data_home, serve, register):
    entry = register("toy", serve(b"an HTML error page"), PAYLOAD)
    with pytest.raises(data.DatasetUnavailableError, match="toy"):
        data.fetch("toy", progressbar=False)
    folder = data_home / entry.folder
    assert not folder.exists() or list(folder.iterdir()) == []


def test_zip_member_is_extracted(data_home, serve, register, tmp_path):
    import zipfile

    archive = tmp_path / "pkg.whl"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("pkg/font.otf", PAYLOAD)
    payload = archive.read_bytes()
    register("zipped", serve(payload), payload, file_name="pkg.whl", member="pkg/font.otf")
    path = data.fetch("zipped", progressbar=False)
    assert path.name == "font.otf" and path.read_bytes() == PAYLOAD


def test_data_dir_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("LMBOOK_DATA_DIR", str(tmp_path))
    assert data.data_dir() == tmp_path


def test_tiny_shakespeare_splits_halve_nanogpts_validation():
    text = data.load_tiny_shakespeare()
    train, val, test = (data.load_tiny_shakespeare(s) for s in data.SPLITS)
    assert len(text) == 1_115_394
    assert train + val + test == text
    assert len(train) == int(0.9 * len(text)) and len(train) + len(val) == int(0.95 * len(text))
    assert data.load_tiny_shakespeare("nanogpt_validation") == val + test


def test_bad_split_is_rejected():
    with pytest.raises(ValueError, match="split must be one of None, 'train', 'validation', 'test'"):
        data.load_tiny_shakespeare("valid")
    with pytest.raises(ValueError, match="split must be"):
        data.load_peoples_daily("nanogpt_validation")
    for bad in (-1, True, 2.0):
        with pytest.raises(ValueError, match="n must be an integer >= 0"):
            data.split_bounds(bad)


def test_peoples_daily_has_gold_words_and_tags():
    sentences = data.load_peoples_daily()
    assert len(sentences) == 19_484
    assert sum(len(s) for s in sentences) == 1_121_447
    assert sentences[0][:2] == [("迈向", "v"), ("充满", "v")]
    train, val, test = (data.load_peoples_daily(s) for s in data.SPLITS)
    assert train + val + test == sentences
    assert (len(train), len(train) + len(val)) == data.split_bounds(len(sentences))


def test_peoples_daily_words_and_stream_agree():
    words = data.peoples_daily_words("validation")
    stream = data.peoples_daily_stream("validation")
    assert stream.split("\n") == ["".join(w) for w in words]
    assert [w for w, _ in data.load_peoples_daily("validation")[0]] == words[0]


def test_tagged_line_errors_name_the_item():
    assert data.parse_tagged_line("1/2/m") == [("1/2", "m")]
    with pytest.raises(ValueError, match="expected 'word/TAG', got 'oops'"):
        data.parse_tagged_line("好/a  oops")


def test_chinese_reviews_are_labelled_and_every_line_is_kept_on_request():
    texts, labels = data.load_chinese_reviews(deduplicate=False)
    assert len(texts) == len(labels) == 16_548 + 18_575
    assert set(labels) == {0, 1} and all(texts)
    assert "１" not in "".join(texts)                       # NFKC: full-width digits are ASCII


def test_chinese_reviews_split_without_duplicates_or_contradictions():
    raw_texts, raw_labels = data.load_chinese_reviews(deduplicate=False)
    positive, negative = ({t for t, y in zip(raw_texts, raw_labels) if y == label} for label in (1, 0))
    both = positive & negative
    splits = {s: data.load_chinese_reviews(s) for s in data.REVIEW_SPLIT}
    seen = [t for texts, _ in splits.values() for t in texts]
    assert len(seen) == len(set(seen)) == len(data.load_chinese_reviews()[0])   # no text in two splits
    assert not both & set(seen) and len(both) == 47                            # contradictions dropped
    assert set(seen) == set(raw_texts) - both
    for name, (texts, labels) in splits.items():                              # 80/10/10 within each label
        share = len(texts) / len(seen)
        assert abs(share - data.REVIEW_SPLIT[name]) < 0.001 and 0.47 < sum(labels) / len(labels) < 0.49
    assert data.load_chinese_reviews("test") == splits["test"]                 # fixed by its seed


def test_chinese_reviews_reject_bad_splits():
    with pytest.raises(ValueError, match="split must be None or one of train, validation, test, got 'dev'"):
        data.load_chinese_reviews("dev")
    with pytest.raises(ValueError, match="split='train' needs deduplicate=True"):
        data.load_chinese_reviews("train", deduplicate=False)


def test_peoples_daily_articles_pair_a_headline_with_the_lead_after_its_dateline():
    splits = {split: data.peoples_daily_articles(split) for split in data.SPLITS}
    assert sum(map(len, splits.values())) == len(data.peoples_daily_articles())
    for split, articles in splits.items():
        lines = set(data.peoples_daily_stream(split).split("\n"))
        for article in articles:
            assert article.headline in lines and set(article.body[1:]) <= lines   # from its own split
            assert 4 <= len(article.headline) <= 30 and "图" not in article.headline
            assert 10 <= len(article.lead) <= 150 and "。" not in article.lead
            assert article.body[0].startswith(article.lead)
            assert not data._DATELINE.match(article.body[0]), article   # the dateline is cut off


def test_peoples_daily_articles_rejects_an_unknown_split():
    with pytest.raises(ValueError, match="split must be one of"):
        data.peoples_daily_articles("dev")


def test_write_atomic_leaves_the_old_file_whole_when_a_write_fails(tmp_path, monkeypatch):
    """An interrupted write keeps the previous file and leaves no temporary file behind."""
    import os

    target = data.write_atomic(tmp_path / "result.json", "old")

    def interrupted(src, dst):
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        data.write_atomic(target, b"new")
    assert target.read_text() == "old" and sorted(p.name for p in tmp_path.iterdir()) == ["result.json"]


def test_write_atomic_gives_a_new_file_the_usual_permissions(tmp_path):
    """A new file is readable by all (the umask's mode), not the temporary file's 0o600."""
    import os

    umask = os.umask(0o022)
    try:
        assert data.write_atomic(tmp_path / "new.json", "{}").stat().st_mode & 0o777 == 0o644
    finally:
        os.umask(umask)
