"""Chapter 8's bars: fine-tuning the ``peoples-daily-bert`` preset, against training from scratch.

Usage::

    python benchmarks/finetune.py --mode quick      # the 2-core CPU recipe (lmbook.recipes.FINETUNE)
    python benchmarks/finetune.py --mode full       # a GPU

Every run reads the **test** splits, once per model:

- sentiment (:func:`lmbook.data.load_chinese_reviews`): the data-scarcity curve, ``full``
  fine-tuning against ``scratch`` at each number of labelled reviews in ``--sizes`` with
  ``--seeds`` seeds; the other methods (:data:`OTHERS`) at 256 and at all labels; chapter 7's
  bag-of-characters logistic regression on all labels.  The adapted encoder is adapted once
  (seed 0) on the unlabelled training reviews, and shared by the seeds;
- named entities (:mod:`lmbook.entities`): ``full`` against ``scratch`` taggers;
- segmentation: a ``full`` BMES tagger against chapter 5's closed-track segmenter
  (:func:`lmbook.segmenter.train_segmenter`, the same mode), on People's Daily's test split;
  ``full_chapter5_budget`` trains the tagger on as many character positions as chapter 5's
  segmenter reads (its recipe's ``steps × batch_size × seq_len``);
- prompting: the ``peoples-daily-gpt`` preset, zero-shot (:func:`lmbook.finetune.zero_shot`): each
  prompt of :data:`PROMPTS`, raw and calibrated, on the validation reviews, and the best one on test.

Each finished run is kept in ``lmbook/results/.finetune-<mode>.partial.json`` (not
committed): a stopped benchmark resumes where it stopped, and the file is removed when the
results file ``lmbook/results/finetune-<mode>.json`` is written (the folder is
:func:`lmbook.results.folder`; ``LMBOOK_RESULTS_DIR`` moves it).  A later command with more
``--seeds`` or ``--sizes`` extends that file (same preset weights and recipe) instead of
starting again; ``--methods`` limits a command to some of the runs (a results segment).  The
file keeps each run's test predictions, so chapter 8 computes every interval and p-value
from it.  The last line reads
``full_acc=<x> scratch_acc=<x> lora_acc=<x> full_acc_all=<x> ner_f1=<x> seg_f1=<x>``:
full fine-tuning's and scratch's mean accuracy at 256 labels, LoRA's and full fine-tuning's on
all labels, the pre-trained NER tagger's entity F1 and the pre-trained segmenter's word F1.
No method is picked by its test score.
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import asdict, fields, replace

import _local  # noqa: F401  (this tree's lmbook, the local data copy)
import numpy as np

from lmbook import data, finetune, presets
from lmbook import results as result_files
from lmbook.entities import bio_spans, peoples_daily_entities
from lmbook.output_metrics import prf1, prf_from_counts
from lmbook.provenance import environment_info, git_commit
from lmbook.recipes import FINETUNE, ULMFIT, FinetuneRecipe, recipe
from lmbook.segment import evaluate_segmentation, from_bmes, spans, to_bmes

PRESET = "peoples-daily-bert"
SIZES = (32, 128, 256, 1024, 4096, 0)                          # 0: every labelled review (13,888)
#: The zero-shot prompts tried on validation: a template (the review goes in ``{text}``) and the
#: negative and positive answer characters.
PROMPTS = [("{text}\n总之，这个东西很", ("差", "好")),          # "all in all, this thing is very bad/good"
           ("{text}\n总的来说，质量很", ("差", "好")),          # "on the whole, the quality is very ..."
           ("{text}。我觉得这个产品", ("差", "好")),             # "I think this product is ..."
           ("{text}\n这是一条", ("差", "好")),                  # "this is a bad/good (review)"
           ("{text}。总之，我很", ("失", "满"))]                 # "all in all, I am (dis)satisfied"
#: The methods run at 256 and at all labels only.
OTHERS = ("frozen", "lora", "lora_r32", "lora_per_head", "adapted", "ulmfit")
#: A label that is not a method of :data:`lmbook.finetune.METHODS`: its method, and the fields of the
#: mode's recipe it changes.
VARIANTS = {"lora_r32": ("lora", {"lora_rank": 32}),   # as many parameters as lora_per_head at r = 8
            "ulmfit": ("full", ULMFIT),                # ULMFiT's three techniques on "full"
            "full_chapter5_budget": ("full", {})}      # segmentation; its steps are set there
#: Every run's label, for ``--methods``: the sentiment methods, the baseline, the taggers' variants.
LABELS = ("full", "scratch", *OTHERS, "bag_of_characters", "full_chapter5_budget", "chapter5")
#: What a run records of its fine-tuned model's config.
CONFIG = ("steps", "examples", "trainable_parameters", "parameters", "train_seconds")


def variant(label: str, mode: str, **changes) -> tuple[str, FinetuneRecipe]:
    """The method and recipe that a run's ``label`` names (:data:`VARIANTS`)."""
    method, fields_ = VARIANTS.get(label, (label, {}))
    return method, replace(FINETUNE[mode], **fields_, **changes)


def as_bits(values) -> str:
    """Integer labels 0/1 as a string of digits (compact in JSON)."""
    return "".join(str(int(v)) for v in values)


class Runs:
    """The finished runs, kept in a partial file so that a stopped benchmark resumes.  Without a
    partial file, a results file of the same preset and recipe is extended instead: more seeds or
    sizes add runs to it, and each segment records its command and commit."""

    def __init__(self, path, header: dict, finished):
        self.path = path
        source = path if path.is_file() else finished
        saved = json.loads(source.read_text()) if source.is_file() else None
        if saved:
            defaults = {f.name: f.default for f in fields(FinetuneRecipe)}
            old = {**{k: defaults[k] for k in header["recipe"].keys() - saved["header"]["recipe"].keys()},
                   **saved["header"]["recipe"]}        # fields added since: at their defaults
            for key, before, now in (("preset_sha256", saved["header"]["preset_sha256"],
                                      header["preset_sha256"]), ("recipe", old, header["recipe"])):
                if before != now:
                    raise RuntimeError(f"{source} was made with another {key}: delete it to start again")
            header = {**header, "seeds": max(header["seeds"], saved["header"]["seeds"]),
                      "sizes": sorted(set(header["sizes"]) | set(saved["header"]["sizes"]),
                                      key=lambda n: n or float("inf"))}
        self.state = {"runs": {}, "segments": [], **(saved or {}), "header": header}
        self.state.pop("summary", None)
        self.state["segments"].append({"command": header["command"], "commit": git_commit(),
                                       "started": time.time()})

    def get(self, key: str, compute, *args) -> dict:
        """The run called ``key``: from the file, or ``compute(*args)`` now, saved."""
        if key not in self.state["runs"]:
            start = time.perf_counter()
            result = compute(*args)
            result.setdefault("seconds", round(time.perf_counter() - start, 1))
            self.state["runs"][key] = result
            data.write_atomic(self.path, json.dumps(self.state, ensure_ascii=False))
            figures = {k: v for k, v in result.items() if not isinstance(v, (str, list))}
            print(f"{key:<40} {json.dumps(figures)}", flush=True)
        return self.state["runs"][key]


def sentiment(runs: Runs, mode: str, seeds: int, sizes, methods) -> None:
    """The data-scarcity curve, the other methods and the baseline, on the test reviews."""
    train_x, train_y = data.load_chinese_reviews("train")
    test_x, test_y = data.load_chinese_reviews("test")
    truth = np.array(test_y)

    def scored(clf_or_predictions, extra=None):
        predicted = (clf_or_predictions if isinstance(clf_or_predictions, np.ndarray)
                     else clf_or_predictions.predict(test_x))
        result = {"accuracy": float((predicted == truth).mean()), "f1": prf1(truth, predicted).f1,
                  "predictions": as_bits(predicted)}
        if extra is not None:
            result.update({k: extra.config[k] for k in CONFIG})
        return result

    if "bag_of_characters" in methods:
        runs.get("sentiment/bag_of_characters/all/0", lambda: scored(
            finetune.bag_of_characters().fit([finetune.clean(t) for t in train_x], train_y)
            .predict([finetune.clean(t) for t in test_x])))
    adapted = {}

    def train(label, n, seed):
        x, y = finetune.labelled_subset(train_x, train_y, n or len(train_x), seed)
        if label == "adapted":
            if not adapted:
                start = time.perf_counter()
                adapted["preset"] = finetune.adapt(PRESET, train_x, mode=mode, seed=0)
                adapted["adaptation_seconds"] = round(time.perf_counter() - start, 1)
                # the masked LM on the validation reviews' text, before and after adaptation
                text = "\n".join(data.load_chinese_reviews("validation")[0])
                for when, model in (("before", presets.load(PRESET)), ("after", adapted["preset"])):
                    adapted[f"review_masked_loss_{when}"] = model.masked_scores(text)["loss"]
            clf = finetune.train_classifier(x, y, adapted["preset"], "full", mode=mode, seed=seed)
            clf.config["method"] = "adapted"
            return {**scored(clf, clf), **{k: v for k, v in adapted.items() if k != "preset"}}
        method, recipe_ = variant(label, mode)
        clf = finetune.train_classifier(x, y, PRESET, method, seed=seed, recipe=recipe_)
        return scored(clf, clf)

    for n in sizes:
        for seed in range(seeds):
            for label in ("full", "scratch") + (OTHERS if n in (256, 0) else ()):
                if label in methods:
                    runs.get(f"sentiment/{label}/{n or 'all'}/{seed}", train, label, n, seed)


def ner(runs: Runs, mode: str, seeds: int, methods) -> None:
    """Entity-level scores of pre-trained and scratch taggers on the test sentences."""
    train_x, train_tags = peoples_daily_entities("train")
    test_x, test_tags = peoples_daily_entities("test")
    gold = [bio_spans(t) for t in test_tags]

    def train(method, seed):
        tagger = finetune.train_tagger(train_x, train_tags, PRESET, method, mode=mode, seed=seed)
        predicted = [bio_spans(t) for t in tagger.predict(test_x)]
        per_sentence = [[len(set(g) & set(p)), len(set(p)), len(set(g))] for g, p in zip(gold, predicted)]
        scores = prf_from_counts(*np.sum(per_sentence, axis=0))
        return {**scores._asdict(), "counts": per_sentence, **{k: tagger.config[k] for k in CONFIG}}

    for seed in range(seeds):
        for method in ("full", "scratch"):
            if method in methods:
                runs.get(f"ner/{method}/{seed}", train, method, seed)


def segmentation(runs: Runs, mode: str, seeds: int, methods) -> None:
    """Word F1 of a pre-trained BMES tagger (at the mode's steps, and at chapter 5's budget of
    character positions) and of chapter 5's segmenter on the test sentences."""
    from lmbook.segmenter import train_segmenter

    train_words, test_words = data.peoples_daily_words("train"), data.peoples_daily_words("test")
    texts = ["".join(w) for w in test_words]

    def counts(predicted):
        result = evaluate_segmentation(test_words, predicted, {w for s in train_words for w in s})
        per_sentence = [[len(set(spans(g)) & set(spans(p))), len(p), len(g)]
                        for g, p in zip(test_words, predicted)]
        return {**result, "counts": per_sentence}

    chapter5 = recipe("segmenter", "peoples_daily", mode)
    fine = FINETUNE[mode]
    budget = -(-chapter5.tokens // (fine.batch_size * fine.max_chars))   # steps of as many positions

    def bert(label, seed):
        tags = [list(to_bmes(w)) for w in train_words]
        steps = {"min_steps": budget, "max_steps": budget} if label == "full_chapter5_budget" else {}
        method, recipe_ = variant(label, mode, **steps)
        tagger = finetune.train_tagger(["".join(w) for w in train_words], tags, PRESET, method, seed=seed,
                                     recipe=recipe_)
        predicted = [from_bmes(t, "".join(tags)) for t, tags in zip(texts, tagger.predict(texts))]
        return {**counts(predicted), **{k: tagger.config[k] for k in CONFIG}}

    def segmenter():
        return counts(train_segmenter(train_words, mode=mode).segment(texts))

    if "chapter5" in methods:
        runs.get("segmentation/chapter5/0", segmenter)
    for seed in range(seeds):
        for label in ("full", "full_chapter5_budget"):
            if label in methods:
                runs.get(f"segmentation/{label}/{seed}", bert, label, seed)


def prompting(runs: Runs) -> None:
    """The GPT preset's zero-shot sentiment: each prompt of :data:`PROMPTS`, raw and calibrated,
    on the validation reviews; the best of them (by validation accuracy) once on the test reviews."""
    def run(split, template, choices, calibrate):
        texts, labels = data.load_chinese_reviews(split)
        truth = np.array(labels)
        predicted = finetune.zero_shot("peoples-daily-gpt", texts, choices, template, calibrate).argmax(1)
        return {"accuracy": float((predicted == truth).mean()), "f1": prf1(truth, predicted).f1,
                "predictions": as_bits(predicted), "template": template, "choices": "".join(choices),
                "calibrate": calibrate}

    for i, (template, choices) in enumerate(PROMPTS):
        for calibrate in (False, True):
            key = f"prompting/validation/{i}{'c' if calibrate else ''}"
            runs.get(key, run, "validation", template, choices, calibrate)
    candidates = {k: r for k, r in runs.state["runs"].items() if k.startswith("prompting/validation/")}
    best = candidates[max(candidates, key=lambda k: candidates[k]["accuracy"])]
    runs.get("prompting/test/0", run, "test", best["template"], tuple(best["choices"]), best["calibrate"])


#: The learning rates tried per method on the validation reviews (``--tune``), around the recipe's.
GRID = {"full": (2e-4, 5e-4, 1e-3, 2e-3), "scratch": (5e-4, 1e-3, 2e-3), "frozen": (3e-3, 1e-2, 3e-2, 1e-1),
        "lora": (1e-3, 2e-3, 5e-3, 1e-2)}


def tune(mode: str, n: int = 256, seed: int = 0) -> dict:
    """Validation accuracy of each method at each learning rate of :data:`GRID`, with ``n`` labels:
    how the recipe's rates were chosen (never on the test split)."""
    train_x, train_y = data.load_chinese_reviews("train")
    val_x, val_y = data.load_chinese_reviews("validation")
    x, y = finetune.labelled_subset(train_x, train_y, n, seed)
    base = FINETUNE[mode]
    table = {}
    for method, rates in GRID.items():
        for rate in rates:
            field = "full_lr" if method == "full" else f"{method}_lr"
            clf = finetune.train_classifier(x, y, PRESET, method, seed=seed,
                                             recipe=replace(base, **{field: rate}))
            key = f"{method}/{rate:g}"
            table[key] = float((clf.predict(val_x) == np.array(val_y)).mean())
            print(f"{method:<8} lr {rate:<7g} validation accuracy {table[key]:.4f}", flush=True)
    return table


def summary(state: dict) -> dict:
    """The bars' figures from the runs (means over seeds)."""
    runs = state["runs"]

    def mean(prefix, key="accuracy"):
        values = [r[key] for k, r in runs.items() if k.rsplit("/", 1)[0] == prefix]
        return float(np.mean(values)) if values else float("nan")

    return {"full_acc": mean("sentiment/full/256"), "scratch_acc": mean("sentiment/scratch/256"),
            **{f"{m}_acc_256": mean(f"sentiment/{m}/256") for m in OTHERS},
            "full_acc_all": mean("sentiment/full/all"), "scratch_acc_all": mean("sentiment/scratch/all"),
            **{f"{m}_acc_all": mean(f"sentiment/{m}/all") for m in OTHERS},
            "baseline_acc": mean("sentiment/bag_of_characters/all"),
            "ner_f1": mean("ner/full", "f1"), "ner_scratch_f1": mean("ner/scratch", "f1"),
            "seg_f1": mean("segmentation/full", "f1"),
            "seg_f1_chapter5_budget": mean("segmentation/full_chapter5_budget", "f1"),
            "chapter5_seg_f1": mean("segmentation/chapter5", "f1")}


def main(argv=None) -> None:
    """Run (or resume) every job of the mode, then write the results file."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mode", choices=sorted(FINETUNE), default="quick")
    parser.add_argument("--seeds", type=int, default=3, help="seeds per sentiment point")
    parser.add_argument("--tagger-seeds", type=int, default=1, help="seeds per NER and segmentation run")
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES), help="labelled reviews; 0: all")
    parser.add_argument("--methods", nargs="+", default=list(LABELS), choices=LABELS, metavar="LABEL",
                        help=f"only these runs (default: all of {', '.join(LABELS)})")
    parser.add_argument("--tune", action="store_true", help="only the learning-rate sweep on the "
                        "validation reviews (writes finetune-tuning-MODE.json)")
    args = parser.parse_args(argv)
    card = presets.card(PRESET)
    results = result_files.folder()
    results.mkdir(parents=True, exist_ok=True)
    if args.tune:
        start = time.perf_counter()
        table = tune(args.mode)
        record = {"command": f"python benchmarks/finetune.py --mode {args.mode} --tune", "labels": 256,
                  "seed": 0, "split": "validation", "preset_sha256": card["weights"]["sha256"],
                  "commit": git_commit(),
                  "environment": environment_info(), "wall_s": round(time.perf_counter() - start, 1),
                  "accuracy": table}
        path = result_files.write(f"finetune-tuning-{args.mode}.json", record)
        print(f"file={path}")
        return
    methods = "" if args.methods == list(LABELS) else f" --methods {' '.join(args.methods)}"
    header = {"command": f"python benchmarks/finetune.py --mode {args.mode} --seeds {args.seeds} "
                         f"--tagger-seeds {args.tagger_seeds} "
                         f"--sizes {' '.join(map(str, args.sizes))}{methods}",
              "mode": args.mode, "recipe": asdict(FINETUNE[args.mode]), "preset": PRESET,
              "preset_sha256": card["weights"]["sha256"], "seeds": args.seeds, "sizes": args.sizes,
              "environment": environment_info()}
    final = results / f"finetune-{args.mode}.json"
    runs = Runs(results / f".finetune-{args.mode}.partial.json", header, final)
    start = time.perf_counter()
    sentiment(runs, args.mode, args.seeds, args.sizes, args.methods)
    ner(runs, args.mode, args.tagger_seeds, args.methods)
    segmentation(runs, args.mode, args.tagger_seeds, args.methods)
    prompting(runs)
    state = runs.state
    state["segments"][-1]["wall_s"] = round(time.perf_counter() - start, 1)
    state["summary"] = summary(state)
    data.write_atomic(final, json.dumps(state, indent=1, ensure_ascii=False) + "\n")
    runs.path.unlink(missing_ok=True)
    s = state["summary"]
    print(f"file={final} wall_s={sum(seg.get('wall_s', 0) for seg in state['segments']):.0f}")
    print(f"full_acc={s['full_acc']:.4f} scratch_acc={s['scratch_acc']:.4f} lora_acc={s['lora_acc_all']:.4f} "
          f"full_acc_all={s['full_acc_all']:.4f} ner_f1={s['ner_f1']:.4f} seg_f1={s['seg_f1']:.4f}")


if __name__ == "__main__":
    main()
