"""The shared start of every benchmark script: this source tree's lmbook and the local data.

Imported first by ``benchmarks/*.py`` (run as scripts, so this folder is on ``sys.path``):
puts the repository root on ``sys.path`` and, unless ``LMBOOK_DATA_DIR`` is set, points it at
the offline copy in ``../shared/data`` when there is one, so nothing is downloaded.
"""

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SHARED_DATA = ROOT.parent / "shared" / "data"
if "LMBOOK_DATA_DIR" not in os.environ and SHARED_DATA.is_dir():
    os.environ["LMBOOK_DATA_DIR"] = str(SHARED_DATA)
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
