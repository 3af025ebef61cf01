"""lmbook: the companion package of the executable textbook on language modeling.

Modules, each taught in a chapter:

- :mod:`lmbook.data` — datasets, their train/validation/test splits, and the hash-checked
  download registry (chapter 1);
- :mod:`lmbook.checks` — integer and rate argument checks (chapter 1);
- :mod:`lmbook.config` — quick and full settings (chapter 1);
- :mod:`lmbook.text` — vocabularies and training windows (chapter 1);
- :mod:`lmbook.plot` — plot style with a CJK font (chapter 1);
- :mod:`lmbook.exercises` — auto-checked exercises (chapter 1);
- :mod:`lmbook.notebook` — notebook set-up (chapter 1);
- :mod:`lmbook.provenance` — the machine, versions and commit behind every stored figure
  (chapter 1);
- :mod:`lmbook.ngram` — n-gram models with smoothing, ARPA export (chapter 2);
- :mod:`lmbook.models` — recurrent (chapter 3) and GPT (chapter 4) language models;
- :mod:`lmbook.generate` — sampling: greedy, temperature, top-k, top-p (chapter 3);
- :mod:`lmbook.perplexity` — a model's nats per token over a whole token stream, nanoGPT's
  block protocol, log-softmax (chapter 3);
- :mod:`lmbook.training` — the shared training recipe: schedule, optimiser, batches (chapter 3);
- :mod:`lmbook.recipes` — every model's hyperparameters, quick, full and preset (chapters 3-5);
- :mod:`lmbook.presets` — small models trained by this repository's command, loaded by name
  (chapters 3 and 4);
- :mod:`lmbook.preset_training` — training the presets and writing their cards: the maintainer's
  side, ``python -m lmbook.presets build NAME`` (chapter 3);
- :mod:`lmbook.transformer` — attention, masks, positions, decoder blocks (chapter 4);
- :mod:`lmbook.segment` — segmentation by hand: evaluation, maximum matching, BMES, Viterbi
  (chapter 5);
- :mod:`lmbook.segmenter` — the trained Chinese word segmenter (chapter 5);
- :mod:`lmbook.evaluation` — chapter 7's toolkit in one place: re-exports the two modules below
  (chapter 7; used from chapter 3 on);
- :mod:`lmbook.significance` — intervals and tests: bootstrap intervals, paired and exact tests,
  Holm's correction, seed variance, leaderboard rows (chapter 7; used from chapter 3 on);
- :mod:`lmbook.output_metrics` — metrics on a system's outputs: BLEU, chrF, ROUGE, P/R/F1,
  calibration, distinct-n, copy rate, multiple choice (chapter 7);
- :mod:`lmbook.leaderboard` — the test-split leaderboard of the book's models (chapter 7);
- :mod:`lmbook.results` — the result files the chapters read, shipped with the package
  (chapters 6-8);
- :mod:`lmbook.masked_lm` — masked language modelling, the encoder (chapter 8);
- :mod:`lmbook.lora` — low-rank adaptation, Hu et al.'s and Keras's per-head form (chapter 8);
- :mod:`lmbook.finetune` — fine-tuning the encoder: classifiers and taggers (chapter 8);
- :mod:`lmbook.prompting` — zero-shot classification by a causal model's next token (chapter 8);
- :mod:`lmbook.entities` — named entities from People's Daily (chapter 8);
- :mod:`lmbook.parallel` — data and model parallelism, memory and speed (chapter 6).
"""

from importlib import metadata

from lmbook.notebook import setup_notebook

try:
    __version__ = metadata.version("lmbook")
except metadata.PackageNotFoundError:  # running from a source tree without install
    __version__ = "0.1.0"

__all__ = ["__version__", "setup_notebook"]
