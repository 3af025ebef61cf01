"""Every chapter of the built book in headless Chromium, offline (``make book`` first; issue 31).

One browser session reads each ``_build/html/notebooks/*.html`` over file:// at 1280 px and
checks what a reader sees: the math has rendered (MathJax's output, no raw TeX left in the
text), no image is broken, no output box scrolls horizontally, and no request tried to leave
the machine.  The only exceptions are those in ``tests/browser_exceptions.toml``, each with a
reason.  It drives Debian's ``chromium`` through ``/usr/bin/chromedriver`` (package
``chromium-driver``): Selenium Manager, which downloads browsers, never runs.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
HTML = ROOT / "_build" / "html"
EXCEPTIONS = Path(__file__).with_name("browser_exceptions.toml")
# Debian's packages; LMBOOK_CHROMIUM and LMBOOK_CHROMEDRIVER name another Chromium or Chrome and
# its driver (GitHub's runners have Google Chrome and its chromedriver preinstalled).
CHROMIUM = Path(os.environ.get("LMBOOK_CHROMIUM", "/usr/bin/chromium"))
CHROMEDRIVER = Path(os.environ.get("LMBOOK_CHROMEDRIVER", "/usr/bin/chromedriver"))
FLAGS = ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1280,1000",
         "--proxy-server=127.0.0.1:9", "--proxy-bypass-list=<-loopback>", "--disable-quic",
         "--no-first-run", "--disable-background-networking", "--disable-component-update",
         "--disable-sync")
RAW_TEX = ("\\(", "\\[", "$$")
LOCAL = ("file:", "data:", "chrome:")  # chrome:// is the browser's own start page, never the network

pytestmark = pytest.mark.book

# Runs once MathJax has typeset the page; returns what the checks need.
INSPECT = """
const done = arguments[arguments.length - 1];
const typeset = window.MathJax && MathJax.startup ? MathJax.startup.promise : Promise.resolve();
typeset.then(async () => {
  const images = [...document.images];
  images.forEach((img) => { img.loading = "eager"; });
  await Promise.all(images.map((img) => img.decode().catch(() => null)));
  await document.fonts.ready;
  const wide = [];
  document.querySelectorAll("div.cell").forEach((cell, k) => {
    cell.querySelectorAll(":scope > div.cell_input, :scope > div.cell_output > *").forEach((box) => {
      let worst = null;
      for (const el of [box, ...box.querySelectorAll("*")]) {
        const over = el.clientWidth > 0 ? el.scrollWidth - el.clientWidth : 0;
        if (over > 1 && (!worst || over > worst.over)) worst = {over, sw: el.scrollWidth, cw: el.clientWidth};
      }
      if (worst) wide.push({cell: k, part: box.matches("div.cell_input") ? "input" : "output",
                            sw: worst.sw, cw: worst.cw, line: box.innerText.trim().split("\\n")[0]});
    });
  });
  const hideCode = document.head.appendChild(document.createElement("style"));
  hideCode.textContent = "pre, code { display: none !important; }";
  const text = document.body.innerText;  // the visible text outside code, where TeX may be literal
  hideCode.remove();
  done({math: document.querySelectorAll(".math").length,
        typeset: document.querySelectorAll('mjx-container[jax="SVG"]').length,
        errors: document.querySelectorAll("mjx-merror").length,
        text,
        broken: images.filter((img) => !(img.complete && img.naturalWidth > 0)).map((img) => img.src),
        wide});
}, (error) => done({error: String(error)}));
"""


def built_pages() -> list[Path]:
    """The chapter pages of the built book; fails, not skips, when the book has not been built."""
    pages = sorted((HTML / "notebooks").glob("*.html"))
    if not pages:
        pytest.fail(f"no chapter pages in {HTML / 'notebooks'}: run make book first")
    return pages


def code_cells(page: Path) -> list[int]:
    """The notebook indices of the page's code cells, from the source copy in _build/html/_sources."""
    source = HTML / "_sources" / "notebooks" / page.with_suffix(".ipynb").name
    cells = json.loads(source.read_text(encoding="utf-8"))["cells"] if source.exists() else []
    return [i for i, cell in enumerate(cells) if cell["cell_type"] == "code"]


@pytest.fixture(scope="module")
def browser():
    """One headless Chromium for all pages: temporary profile, network off, requests logged."""
    missing = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not p.exists()]
    if missing:
        pytest.fail(f"{', '.join(missing)} missing: apt-get install chromium chromium-driver "
                    "(or set LMBOOK_CHROMIUM and LMBOOK_CHROMEDRIVER)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    with tempfile.TemporaryDirectory() as profile:
        options = webdriver.ChromeOptions()
        options.binary_location = str(CHROMIUM)
        for flag in (*FLAGS, f"--user-data-dir={profile}"):
            options.add_argument(flag)
        options.set_capability("goog:loggingPrefs", {"performance": "ALL"})
        driver = webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=options)
        driver.set_page_load_timeout(60)
        driver.set_script_timeout(60)
        driver.get("about:blank")
        requests_made(driver)  # the start page's, before any of the book's
        try:
            yield driver
        finally:
            driver.quit()


def requests_made(driver) -> list[str]:
    """The URLs the browser requested since the last call (Chrome's performance log)."""
    events = (json.loads(entry["message"])["message"] for entry in driver.get_log("performance"))
    return [e["params"]["request"]["url"] for e in events if e["method"] == "Network.requestWillBeSent"]


def page_problems(driver, page: Path) -> list[tuple[str, str, str, str]]:
    """(page, check, where, detail) for each thing wrong with ``page`` as the browser shows it."""
    driver.get(page.as_uri())
    seen = driver.execute_async_script(INSPECT)
    name = page.relative_to(HTML).as_posix()
    problems = [(name, "request", url[:100], "left the machine") for url in requests_made(driver)
                if not url.startswith(LOCAL)]
    if "error" in seen:
        return [*problems, (name, "math", "MathJax", seen["error"])]
    if seen["typeset"] < seen["math"]:
        problems.append((name, "math", "page", f"{seen['typeset']} of {seen['math']} formulas typeset (SVG)"))
    if seen["errors"]:
        problems.append((name, "math", "page", f"{seen['errors']} TeX errors (mjx-merror)"))
    for token in RAW_TEX:
        if token in seen["text"]:
            at = seen["text"].index(token)
            problems.append((name, "math", f"raw {token}", repr(seen["text"][max(at - 30, 0) : at + 30])))
    problems += [(name, "image", src.rsplit("/", 1)[-1], "broken") for src in seen["broken"]]
    cells = code_cells(page)
    for box in seen["wide"]:
        cell = f"cell {cells[box['cell']]}" if box["cell"] < len(cells) else f"code cell #{box['cell']}"
        problems.append((name, "wide", f"{cell} {box['part']}",
                         f"scrollWidth {box['sw']} > clientWidth {box['cw']}: {box['line'][:90]!r}"))
    return problems


def test_every_chapter_renders_offline(browser):
    """Math typeset, images whole, no output scrolls sideways, no request off the machine."""
    import tomllib  # Python 3.11+

    exceptions = tomllib.loads(EXCEPTIONS.read_text(encoding="utf-8")).get("exception", [])
    assert all(e.get("reason", "").strip() for e in exceptions), f"{EXCEPTIONS.name}: an entry has no reason"
    accepted = {(e["page"], e["check"], e["where"]) for e in exceptions}
    problems = [p for page in built_pages() for p in page_problems(browser, page)]
    found = {p[:3] for p in problems}
    unexcused = [" | ".join(p) for p in problems if p[:3] not in accepted]
    stale = [" | ".join(key) for key in sorted(accepted - found)]
    assert not unexcused and not stale, "\n".join(
        [f"{len(unexcused)} problems (page | check | where | detail):", *unexcused]
        + ([f"exceptions in {EXCEPTIONS.name} that match nothing:", *stale] if stale else []))
