"""The built HTML book (``make book`` first): its offline search finds Chinese and English words.

``html_search_language: zh`` (``_config.yml``) has Sphinx index Chinese with jieba and stem
English; the search page looks each space-separated query word up in ``searchindex.js``.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import pytest

with warnings.catch_warnings():  # jieba imports pkg_resources
    warnings.simplefilter("ignore", UserWarning)
    from sphinx.search.zh import SearchChinese

HTML = Path(__file__).resolve().parents[1] / "_build" / "html"

pytestmark = pytest.mark.book


def built(name: str) -> Path:
    """``_build/html/<name>``; the test fails, not skips, when the book has not been built."""
    path = HTML / name
    if not path.exists():
        pytest.fail(f"{path} is missing: run make book first")
    return path


@pytest.fixture(scope="module")
def index() -> dict:
    """The search index that ``_build/html/searchindex.js`` hands to ``Search.setIndex(...)``."""
    text = built("searchindex.js").read_text(encoding="utf-8")
    return json.loads(text[text.index("(") + 1 : text.rindex(")")])


def pages_for(index: dict, word: str) -> set[str]:
    """The pages whose text or titles hold ``word``, stemmed as the Chinese search stems it."""
    term = SearchChinese({}).stem(word)
    found = set()
    for kind in ("terms", "titleterms"):
        docs = index[kind].get(term, [])
        found |= {docs} if isinstance(docs, int) else set(docs)
    return {index["docnames"][i] for i in found}


@pytest.mark.parametrize("word, page", [("分词", "notebooks/05_chinese_segmentation"),
                                        ("perplexity", "notebooks/01_language_models")])
def test_the_offline_search_finds_chinese_and_english_words(index, word, page):
    """'分词' finds chapter 5 and 'perplexity' chapter 1."""
    assert page in pages_for(index, word)


def test_the_book_serves_mathjax_from_static():
    """The chapters load MathJax 3.2.2's SVG build from _static, not from a CDN."""
    page = built("notebooks/01_language_models.html").read_text(encoding="utf-8")
    assert 'src="../_static/mathjax/tex-svg.js' in page and "cdn.jsdelivr" not in page
    version = json.loads(built("_static/mathjax/package.json").read_text())["version"]
    assert version == "3.2.2"
