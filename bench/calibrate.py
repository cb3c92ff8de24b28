"""Fit the knowledge base's confidence on the shipped sources, and show what thresholds do.

    .venv/bin/python -m bench.calibrate ../shared/evaldata

Positives: one variant of every entry (in each language) is held out of the build
and asked as a question. Negatives: CLINC150's out-of-scope test questions and
the bot's own out_of_scope training examples (Chinese and English), which no shop
entry answers. A logistic regression on (top score, margin over the
runner-up) predicts "the top entry is right"; its coefficients belong in
``knowledge.search.Calibration``. The table shows, per confidence threshold, how
many questions would be answered and how many of those answers are right, and
how many out-of-scope questions would wrongly get an answer.
"""

from __future__ import annotations

import argparse
import copy
import json
import tempfile
from pathlib import Path

import numpy as np
import yaml
from sklearn.linear_model import LogisticRegression

from bot.service.kb_builds import embedder_for
from bot.settings import ROOT, load_settings
from knowledge.index import build_index, current_build, load_index
from knowledge.search import Calibration, Searcher
from knowledge.sources import load_sources


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("evaldata", type=Path)
    parser.add_argument("--negatives", type=int, default=600, help="CLINC150 out-of-scope questions to use")
    args = parser.parse_args()
    settings = load_settings({"BOT_DEMO": "1"})
    embedder = embedder_for(settings)

    entries = load_sources(settings.kb_sources)
    held_out: list[tuple[str, str]] = []
    kept = []
    for entry in entries:
        entry = copy.deepcopy(entry)
        for variants in entry.variants.values():
            if len(variants) > 1:
                held_out.append((variants.pop(), entry.id))
        kept.append(entry)
    clinc = args.evaldata / "intent_clinc150_en" / "test.jsonl"
    negatives = [r["text"] for r in map(json.loads, clinc.read_text().splitlines()) if r["intent"] == "oos"]
    negatives = negatives[: args.negatives]
    for path in sorted((ROOT / "data" / "nlu").glob("*.yml")):
        for block in yaml.safe_load(path.read_text(encoding="utf-8"))["nlu"]:
            if block["intent"] == "out_of_scope":
                negatives += [line[2:].strip() for line in block["examples"].splitlines() if line.startswith("- ")]
    questions = held_out + [(text, None) for text in negatives]

    with tempfile.TemporaryDirectory() as tmp:
        build_index(kept, embedder, Path(tmp), sources=[], hnsw_above=10**9)
        searcher = Searcher(load_index(current_build(Path(tmp))), embedder)
        rows = []
        for text, answer in questions:
            hits = searcher.search(text, k=2).hits
            margin = hits[0].score - hits[1].score
            rows.append((hits[0].score, margin, hits[0].entry.id == answer, answer is None))
    features = np.array([[top, margin] for top, margin, _, _ in rows])
    right = np.array([r for _, _, r, _ in rows])
    negative = np.array([n for _, _, _, n in rows])
    model = LogisticRegression(C=10).fit(features, right)
    calibration = Calibration(
        bias=float(model.intercept_[0]), top=float(model.coef_[0][0]), margin=float(model.coef_[0][1])
    )
    print(
        f"{len(held_out)} held-out variants ({right[~negative].mean():.3f} right at top-1), "
        f"{negative.sum()} out-of-scope questions"
    )
    print(f"Calibration(bias={calibration.bias:.2f}, top={calibration.top:.2f}, margin={calibration.margin:.2f})")
    confidence = np.array([calibration.confidence(top, margin) for top, margin, _, _ in rows])
    print(f"\n{'threshold':>9} {'answered':>9} {'right':>7} {'out-of-scope answered':>22}")
    for threshold in (0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9):
        answered = confidence >= threshold
        in_scope = answered & ~negative
        print(
            f"{threshold:>9.1f} {in_scope.sum() / (~negative).sum():>9.3f} "
            f"{right[in_scope].mean() if in_scope.any() else 0:>7.3f} "
            f"{(answered & negative).sum() / negative.sum():>22.3f}"
        )


if __name__ == "__main__":
    main()
