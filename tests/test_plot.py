"""lmbook.plot: Chinese labels render real glyphs, with an installed or a fetched font."""

import warnings
import zipfile

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
from matplotlib import font_manager  # noqa: E402

from lmbook import plot  # noqa: E402


def missing_glyphs(title: str) -> list[str]:
    fig, ax = plt.subplots()
    ax.set_title(title)
    ax.set_xlabel("词频 frequency")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fig.canvas.draw()
    plt.close(fig)
    return [str(w.message) for w in caught if "missing from" in str(w.message)]


@pytest.fixture(autouse=True)
def restore_rc():
    with matplotlib.rc_context():
        yield


def test_default_font_lacks_chinese_glyphs():
    # The failure the module exists to prevent: proves the check below can fail.
    matplotlib.rcParams["font.family"] = ["DejaVu Sans"]
    assert missing_glyphs("中文标签")


def test_chinese_labels_render_with_the_house_style():
    family = plot.use_style(allow_download=False)
    assert family in plot.CJK_FAMILIES
    assert missing_glyphs("人民日报 People's Daily 词表增长") == []


def test_without_a_cjk_font_the_registry_font_is_used(monkeypatch, data_home, serve, register, tmp_path):
    installed = font_manager.findfont(plot.CJK_FAMILIES[0], fallback_to_default=False)
    archive = tmp_path / "font.whl"
    with zipfile.ZipFile(archive, "w") as z:
        z.write(installed, "fonts/NotoSansSC-Regular.otf")
    payload = archive.read_bytes()
    register("noto_sans_sc", serve(payload), payload, file_name="font.whl",
             member="fonts/NotoSansSC-Regular.otf")
    monkeypatch.setattr(plot, "CJK_FAMILIES", ("No Such Font",))
    with pytest.raises(RuntimeError, match="no CJK font is installed"):
        plot.cjk_font(allow_download=False)
    family = plot.use_style()
    assert (data_home / "noto_sans_sc").exists()
    assert missing_glyphs(f"字体 {family}") == []
