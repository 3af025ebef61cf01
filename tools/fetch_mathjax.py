"""Fetch MathJax 3.2.2 (SVG output) into ``book/_static/mathjax`` for the offline HTML book.

``make book`` runs this before the build; it does nothing when the right version is already
there.  The files come from the npm registry (``npm pack mathjax@3.2.2``); the tarball is
checked against its SHA-512 and only the files the book serves are kept (git-ignored):
``tex-svg.js`` (TeX input with ams, SVG output: no web fonts), the TeX extensions that its
autoload fetches on demand, and ``a11y/`` and ``sre/`` for the accessibility options of
MathJax's menu.  MathJax 4 is not used: it fetches its fonts from a CDN.
"""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

VERSION = "3.2.2"
#: npm's ``dist.integrity`` of mathjax-3.2.2.tgz
INTEGRITY = "sha512-Bt+SSVU8eBG27zChVewOicYs7Xsdt40qm4+UpHyX7k0/O9NliPc+x77k1/FEsPsjKPZGJvtRZM1vO+geW0OhGw=="
KEEP = ("package.json", "LICENSE", "es5/tex-svg.js", "es5/input/tex/extensions/", "es5/a11y/", "es5/sre/")
DEST = Path(__file__).resolve().parents[1] / "book" / "_static" / "mathjax"


def installed_version(dest: Path = DEST) -> str | None:
    """The MathJax version in ``dest`` (from its package.json), or None when it is incomplete."""
    try:
        if (dest / "tex-svg.js").is_file():
            return json.loads((dest / "package.json").read_text())["version"]
    except (OSError, ValueError, KeyError):
        pass
    return None


def npm_pack(workdir: Path) -> Path:
    """Download mathjax@VERSION's tarball into ``workdir`` with npm and check its SHA-512."""
    npm = shutil.which("npm")
    if npm is None:
        sys.exit(f"tools/fetch_mathjax.py: npm not found. The offline book serves MathJax {VERSION} "
                 "from the npm registry: install Node.js and npm (Debian: apt-get install npm).")
    subprocess.run([npm, "pack", f"mathjax@{VERSION}", "--silent", "--pack-destination", str(workdir)],
                   check=True, stdout=subprocess.DEVNULL)
    tgz = workdir / f"mathjax-{VERSION}.tgz"
    digest = "sha512-" + base64.b64encode(hashlib.sha512(tgz.read_bytes()).digest()).decode()
    if digest != INTEGRITY:
        sys.exit(f"tools/fetch_mathjax.py: {tgz.name} has {digest}, expected {INTEGRITY}")
    return tgz


def unpack(tgz: Path, dest: Path) -> None:
    """Write the KEEP files of the tarball into ``dest``, the ``es5/`` prefix dropped."""
    with tarfile.open(tgz) as tar:
        for member in tar.getmembers():
            name = member.name.removeprefix("package/")
            if not member.isfile() or ".." in name or not name.startswith(KEEP):
                continue
            target = dest / name.removeprefix("es5/")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(tar.extractfile(member).read())


def main(dest: Path = DEST) -> None:
    """Fetch MathJax into ``dest`` unless VERSION is already there; check the result."""
    if installed_version(dest) == VERSION:
        return
    with tempfile.TemporaryDirectory() as tmp:
        staging = Path(tmp) / "mathjax"
        unpack(npm_pack(Path(tmp)), staging)
        if installed_version(staging) != VERSION:
            sys.exit(f"tools/fetch_mathjax.py: the tarball holds MathJax {installed_version(staging)}, "
                     f"expected {VERSION}")
        shutil.rmtree(dest, ignore_errors=True)
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(staging, dest)
    print(f"MathJax {VERSION} fetched into {dest}")


if __name__ == "__main__":
    main()
