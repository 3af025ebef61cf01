"""lmbook.plot: Chinese labels render real glyphs, with an installed or a fetched font.

These tests pass on a machine with a system CJK font and on a bare one (where lmbook fetches
Noto Sans SC through its data registry); on both they fail if a label lacks its glyphs.
"""

import shutil
import subprocess
import sys
import textwrap
import warnings
import zipfile
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
from fontTools.ttLib import TTFont  # noqa: E402
from matplotlib import font_manager  # noqa: E402

from lmbook import data, plot  # noqa: E402

LABEL = "人民日报 People's Daily 词表增长"


def missing_glyphs(title: str) -> list[str]:
    """matplotlib's 'Glyph ... missing from font(s)' warnings while drawing ``title``."""
    fig, ax = plt.subplots()
    ax.set_title(title)
    ax.set_xlabel("词频 frequency")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fig.canvas.draw()
    plt.close(fig)
    return [str(w.message) for w in caught if "missing from" in str(w.message)]


def font_file(family: str) -> str:
    """The file matplotlib draws ``family`` with (no fallback to another family)."""
    prop = font_manager.FontProperties(family=family)
    return font_manager.findfont(prop, fallback_to_default=False)


def uncovered(path: str, text: str) -> set[str]:
    """The characters of ``text`` that the font at ``path`` has no glyph for."""
    charmap = font_manager.get_font(path).get_charmap()
    return {c for c in text if not c.isspace() and ord(c) not in charmap}


def system_cjk_families() -> set[str]:
    """Families of CJK_FAMILIES that fontconfig (not matplotlib) says are installed."""
    if shutil.which("fc-list") is None:
        pytest.skip("fc-list (fontconfig) is not available to list the system fonts")
    listing = subprocess.run(["fc-list", ":lang=zh", "family"], capture_output=True,
                             text=True, check=True).stdout
    names = {name.strip() for line in listing.splitlines() for name in line.split(",")}
    return names & set(plot.CJK_FAMILIES)


@pytest.fixture(autouse=True)
def restore_fonts_and_rc(monkeypatch):
    """Each test starts from this process's font list and rcParams, and leaves them so."""
    monkeypatch.setattr(font_manager.fontManager, "ttflist",
                        list(font_manager.fontManager.ttflist))
    with matplotlib.rc_context():
        yield
    font_manager.fontManager._findfont_cached.cache_clear()


@pytest.fixture(scope="module")
def cjk_file():
    """A CJK font file: the system's if it has one, else the registry's (fetched once)."""
    return font_file(plot.cjk_font())


def test_default_font_lacks_chinese_glyphs():
    # The failure the module exists to prevent: proves the checks below can fail.
    matplotlib.rcParams["font.family"] = ["DejaVu Sans"]
    assert missing_glyphs("中文标签")
    assert uncovered(font_file("DejaVu Sans"), LABEL) == set("人民日报词表增长")


def test_chinese_labels_render_with_the_house_style():
    family = plot.use_style()
    assert uncovered(font_file(family), LABEL) == set()
    assert missing_glyphs(LABEL) == []


def test_an_installed_cjk_font_is_preferred_to_a_download(monkeypatch):
    def no_download(name, progressbar=True):
        raise AssertionError(f"fetched {name!r} although a CJK font is installed")

    monkeypatch.setattr(data, "fetch", no_download)
    installed = system_cjk_families()
    if not installed:  # the bare machine: nothing to use without a download
        with pytest.raises(RuntimeError, match="no CJK font is installed"):
            plot.cjk_font(allow_download=False)
        return
    family = plot.cjk_font(allow_download=False)
    assert family == next(f for f in plot.CJK_FAMILIES if f in installed)
    assert uncovered(font_file(family), LABEL) == set()


def test_without_a_cjk_font_the_registry_font_is_used(monkeypatch, cjk_file, data_home, serve,
                                                      register, tmp_path):
    # A machine with no system font at all, and a registry entry served on 127.0.0.1.
    monkeypatch.setattr(font_manager, "findSystemFonts", lambda *args, **kwargs: [])
    bare = [f for f in font_manager.fontManager.ttflist
            if f.name not in plot.CJK_FAMILIES and f.fname != cjk_file]
    font_manager.fontManager.ttflist[:] = bare
    member = "fonts/font" + Path(cjk_file).suffix
    archive = tmp_path / "font.whl"
    with zipfile.ZipFile(archive, "w") as z:
        z.write(cjk_file, member)
    payload = archive.read_bytes()
    register("noto_sans_sc", serve(payload), payload, file_name="font.whl", member=member)

    with pytest.raises(RuntimeError, match="no CJK font is installed"):
        plot.cjk_font(allow_download=False)
    family = plot.use_style()
    assert serve.hits == 1
    assert Path(font_file(family)).is_relative_to(data_home / "noto_sans_sc")
    assert uncovered(font_file(family), LABEL) == set()
    assert missing_glyphs(f"字体 {family}") == []

    # A later run (a fresh font list) uses the cached copy instead of downloading again.
    font_manager.fontManager.ttflist[:] = bare
    assert plot.cjk_font() == family
    assert serve.hits == 1




def test_a_font_installed_after_matplotlib_cached_its_list_is_found(tmp_path):
    # A fresh HOME and matplotlib cache: the first process caches a font list without the font.
    home, fonts = tmp_path / "home", tmp_path / "home" / ".local" / "share" / "fonts"
    env = {"HOME": str(home), "MPLCONFIGDIR": str(tmp_path / "mpl"), "PATH": "/usr/bin:/bin"}
    build_cache = "from matplotlib import font_manager"
    subprocess.run([sys.executable, "-c", build_cache], env=env, check=True)
    assert list((tmp_path / "mpl").glob("fontlist-*.json"))

    # Then a font with a family name no machine has is installed for this user.
    family = "Lmbook Stale Cache Test"
    font = TTFont(font_file("DejaVu Sans"))
    for record in font["name"].names:
        if record.nameID in (1, 4, 16):
            record.string = family
    fonts.mkdir(parents=True)
    font.save(fonts / "LmbookStaleCacheTest.ttf")

    check = textwrap.dedent(f"""
        from matplotlib import font_manager
        from lmbook import plot
        assert {family!r} not in {{f.name for f in font_manager.fontManager.ttflist}}, "not stale"
        plot.CJK_FAMILIES = ({family!r},)
        print(plot.cjk_font(allow_download=False))
        print(font_manager.findfont({family!r}, fallback_to_default=False))
    """)
    out = subprocess.run([sys.executable, "-c", check], env=env, check=True,
                         capture_output=True, text=True).stdout.split("\n")
    assert out[:2] == [family, str(fonts / "LmbookStaleCacheTest.ttf")]


def test_use_style_makes_a_kernels_inline_figures_retina(monkeypatch):
    import IPython
    import matplotlib_inline.backend_inline as inline

    formats = []
    monkeypatch.setattr(inline, "set_matplotlib_formats", lambda *f: formats.extend(f))
    monkeypatch.setattr(IPython, "get_ipython", lambda: None)        # a script: nothing changes
    plot.use_style()
    assert formats == []

    class Kernel:
        config = {"IPKernelApp": {}}

    monkeypatch.setattr(IPython, "get_ipython", lambda: Kernel())
    with matplotlib.rc_context():
        plot.use_style()
        assert matplotlib.rcParams["figure.figsize"][0] <= plot.COLUMN_WIDTH
    assert formats == ["retina"]
