"""The book's plot style, with a font that draws Chinese characters.

Taught in chapter 1 (``notebooks/01_language_models.ipynb``); every chapter calls
:func:`use_style` once.

matplotlib's default font (DejaVu Sans) has no CJK glyphs, so Chinese labels come out as
empty boxes.  :func:`cjk_font` finds an installed CJK font (Noto Sans CJK, WenQuanYi, ...)
and, where there is none (Colab), fetches Noto Sans SC through :mod:`lmbook.data`.

Example:
    >>> import matplotlib.pyplot as plt
    >>> use_style()                                       # doctest: +SKIP
    >>> plt.title("词频 word frequency")                  # doctest: +SKIP
"""

from __future__ import annotations

import matplotlib as mpl
from matplotlib import font_manager

from lmbook import data

__all__ = ["CJK_FAMILIES", "cjk_font", "use_style"]

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

STYLE = {
    "figure.figsize": (7.0, 4.0),
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


def cjk_font(allow_download: bool = True) -> str:
    """The family name of a font with Chinese glyphs, registering one if needed.

    Args:
        allow_download: fetch Noto Sans SC when no CJK font is installed.

    Raises:
        RuntimeError: no CJK font is installed and ``allow_download`` is false.

    Example:
        >>> cjk_font()                                    # doctest: +SKIP
        'Noto Sans CJK SC'
    """
    installed = {f.name for f in font_manager.fontManager.ttflist}
    for family in CJK_FAMILIES:
        if family in installed:
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

    Example:
        >>> use_style()                                   # doctest: +SKIP
        'Noto Sans CJK SC'
    """
    family = cjk_font(allow_download)
    mpl.rcParams.update(STYLE)
    # Latin text in DejaVu Sans; glyphs it lacks fall back to the CJK font.
    mpl.rcParams["font.family"] = ["DejaVu Sans", family]
    return family
