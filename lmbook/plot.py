"""The book's plot style, with a font that draws Chinese characters.

Taught in chapter 1 (``notebooks/01_language_models.ipynb``); every chapter calls
:func:`use_style` once.

matplotlib's default font (DejaVu Sans) has no CJK glyphs, so Chinese labels come out as
empty boxes.  :func:`cjk_font` finds an installed CJK font (Noto Sans CJK, WenQuanYi, ...),
also one installed after matplotlib cached its font list, and where there is none (Colab, a
bare machine) fetches Noto Sans SC through :mod:`lmbook.data` (once; later runs use the
cached copy).

Example:
    >>> import matplotlib.pyplot as plt
    >>> use_style()                                       # doctest: +SKIP
    'Noto Sans CJK SC'
    >>> plt.title("词频 word frequency")                  # doctest: +SKIP
"""

from __future__ import annotations

import logging

import matplotlib as mpl
from matplotlib import font_manager

from lmbook import data

__all__ = ["CJK_FAMILIES", "COLUMN_WIDTH", "cjk_font", "register_new_system_fonts", "use_style"]

_log = logging.getLogger(__name__)

# Fonts with Simplified Chinese glyphs, best first.
CJK_FAMILIES = (
    "Noto Sans CJK SC",
    "Noto Sans SC",
    "Source Han Sans SC",
    "WenQuanYi Zen Hei",
    "WenQuanYi Micro Hei",
    "Droid Sans Fallback",
    "PingFang SC",
    "Microsoft YaHei",
    "SimHei",
    "Arial Unicode MS",
)

#: The widest figure, in inches at the figures' 100 dpi: the HTML book's output column at a
#: 1280-pixel window (960 px; ``book/_static/lmbook.css``).  A figure no wider is shown at its
#: own size, so its 10-point labels stay readable.
COLUMN_WIDTH = 9.6

STYLE = {
    "figure.figsize": (6.8, 3.8),
    "figure.dpi": 100,
    "savefig.dpi": 150,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.titleweight": "bold",
    "axes.unicode_minus": False,  # CJK fonts often lack U+2212 MINUS SIGN
    "legend.frameon": False,
}


def _installed_cjk_family() -> str | None:
    """The first family of :data:`CJK_FAMILIES` that matplotlib's font list holds."""
    installed = {f.name for f in font_manager.fontManager.ttflist}
    return next((family for family in CJK_FAMILIES if family in installed), None)


def register_new_system_fonts() -> list[str]:
    """Add to matplotlib the system font files its cached font list does not know.

    matplotlib scans the system fonts once and caches the list (``fontlist-*.json`` in
    ``matplotlib.get_cachedir()``), so a font installed later (``apt-get install
    fonts-noto-cjk``, a file copied to ``~/.local/share/fonts``) stays invisible to it.
    This scans again, the way matplotlib does, and registers the files it finds new.

    Returns:
        The paths registered, sorted (empty when the cache is up to date).

    Example:
        >>> added = register_new_system_fonts()   # e.g. ['/usr/share/fonts/.../NotoSansCJK-Regular.ttc']
        >>> register_new_system_fonts()           # now matplotlib knows every system font
        []
    """
    known = {f.fname for f in font_manager.fontManager.ttflist}
    added = []
    for path in sorted(set(font_manager.findSystemFonts()) - known):
        try:
            font_manager.fontManager.addfont(path)
        except Exception as err:  # an unreadable file; matplotlib's own scan skips it too
            _log.info("skipping font %s: %s", path, err)
        else:
            added.append(path)
    return added


def cjk_font(allow_download: bool = True) -> str:
    """The family name of a font with Chinese glyphs, registering one if needed.

    Looks, in order, for a family of :data:`CJK_FAMILIES` in matplotlib's font list, then
    among system fonts installed after that list was cached
    (:func:`register_new_system_fonts`), then fetches Noto Sans SC (registry entry
    ``"noto_sans_sc"``, cached under ``$LMBOOK_DATA_DIR``).

    Args:
        allow_download: fetch Noto Sans SC when no CJK font is installed.

    Raises:
        RuntimeError: no CJK font is installed and ``allow_download`` is false.
        lmbook.data.DatasetUnavailableError: the font had to be fetched and could not be.

    Example:
        >>> cjk_font()                                    # doctest: +SKIP
        'Noto Sans CJK SC'
    """
    family = _installed_cjk_family()
    if family is None and register_new_system_fonts():
        family = _installed_cjk_family()
    if family is not None:
        return family
    if not allow_download:
        raise RuntimeError(
            "no CJK font is installed (looked for: "
            + ", ".join(CJK_FAMILIES)
            + "); install one (e.g. apt-get install fonts-noto-cjk) or allow the download"
        )
    path = data.fetch("noto_sans_sc")
    font_manager.fontManager.addfont(str(path))
    return font_manager.FontProperties(fname=str(path)).get_name()


def use_style(allow_download: bool = True) -> str:
    """Apply the book's matplotlib style with a CJK-capable font; return the font's name.

    Figures default to 6.8 × 3.8 inches, narrower than the book's column (:data:`COLUMN_WIDTH`);
    in a notebook's kernel, inline figures become retina PNGs (twice the pixels, shown at the
    same size).

    Args:
        allow_download: passed to :func:`cjk_font`.

    Example:
        >>> use_style()                                   # doctest: +SKIP
        'Noto Sans CJK SC'
    """
    family = cjk_font(allow_download)
    mpl.rcParams.update(STYLE)
    # Latin text in DejaVu Sans; glyphs it lacks fall back to the CJK font.
    mpl.rcParams["font.family"] = ["DejaVu Sans", family]
    _inline_retina()
    return family


def _inline_retina() -> None:
    """In a notebook, show figures as PNGs of twice their pixel size, displayed at their own size:
    sharp on high-density screens and when the page is zoomed."""
    try:
        from IPython import get_ipython
    except ImportError:  # matplotlib without IPython: a script
        return
    if get_ipython() is not None and "IPKernelApp" in get_ipython().config:
        from matplotlib_inline.backend_inline import set_matplotlib_formats

        set_matplotlib_formats("retina")
