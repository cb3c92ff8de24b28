"""Fit the knowledge base's confidence for every fusion, on the shipped sources, and show
what thresholds do with the fusion the shipped base is built with.

    .venv/bin/python -m bench.calibrate ../shared/evaldata

Positives: one variant of every entry (in each language) is held out of the build
and asked as a question. Negatives: CLINC150's out-of-scope test questions and
the bot's own out_of_scope training examples (Chinese and English), which no shop
entry answers. For each fusion of ``knowledge.fusions.FUSIONS``, a logistic
regression on (top score, margin over the runner-up) predicts "the top entry is
right"; its coefficients belong in that table, since each fusion scores on its own
scale. The table shows, per confidence threshold, how many questions would be
answered and how many of those answers are right, and how many out-of-scope
questions would wrongly get an answer.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

import numpy as np
import yaml
from sklearn.linear_model import LogisticRegression

from bench.evalsets import shipped_held_out
from bot.service.kb_builds import embedder_for
from bot.settings import ROOT, load_settings
from knowledge.build import build_index
from knowledge.fusions import FUSIONS, Calibration
from knowledge.index import load_index
from knowledge.search import Searcher


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("evaldata", type=Path)
    parser.add_argument("--negatives", type=int, default=600, help="CLINC150 out-of-scope questions to use")
    args = parser.parse_args()
    settings = load_settings({"BOT_DEMO": "1"})
    embedder = embedder_for(settings)

    kept, held_out = shipped_held_out(list(settings.kb_sources))
    clinc = args.evaldata / "intent_clinc150_en" / "test.jsonl"
    negatives = [r["text"] for r in map(json.loads, clinc.read_text().splitlines()) if r["intent"] == "oos"]
    negatives = negatives[: args.negatives]
    for path in sorted((ROOT / "data" / "nlu").glob("*.yml")):
        for block in yaml.safe_load(path.read_text(encoding="utf-8"))["nlu"]:
            if block["intent"] == "out_of_scope":
                negatives += [line[2:].strip() for line in block["examples"].splitlines() if line.startswith("- ")]
    questions = [(q.text, q.entry_id) for q in held_out] + [(text, None) for text in negatives]
    vectors = embedder.encode([text for text, _ in questions])

    with tempfile.TemporaryDirectory() as tmp:
        report = build_index(kept, embedder, Path(tmp), sources=[], hnsw_above=10**9)
        index = load_index(report.path)
    negative = np.array([answer is None for _, answer in questions])
    print(f"{len(held_out)} held-out variants, {negative.sum()} out-of-scope questions; {embedder.engine} embeddings")
    print(f"the shipped base's build chose {report.fusion.name}: {report.fusion.reason}\n")
    for name in FUSIONS:
        searcher = Searcher(index, embedder, fusion=name)
        rows = []
        for (text, answer), vector in zip(questions, vectors):
            hits = searcher.search_vector(text, vector, k=2).hits
            rows.append((hits[0].score, hits[0].score - hits[1].score, hits[0].entry.id == answer))
        features = np.array([[top, margin] for top, margin, _ in rows])
        right = np.array([r for _, _, r in rows])
        model = LogisticRegression(C=10).fit(features, right)
        calibration = Calibration(
            bias=round(float(model.intercept_[0]), 2),
            top=round(float(model.coef_[0][0]), 2),
            margin=round(float(model.coef_[0][1]), 2),
        )
        print(f"{name}: {right[~negative].mean():.3f} right at top-1; {calibration}")
        if name == report.fusion.name:
            shipped = (calibration, features, right)
    calibration, features, right = shipped
    confidence = np.array([calibration.confidence(top, margin) for top, margin in features])
    print(f"\nthresholds with {report.fusion.name}")
    print(f"{'threshold':>9} {'answered':>9} {'right':>7} {'out-of-scope answered':>22}")
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
