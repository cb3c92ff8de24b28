"""The ways search may fuse an entry's views into one score, and the confidence of each.

A build picks one of :data:`FUSIONS` for its base (``knowledge/fusion_choice.py``) and
records its name; search uses that fusion and its calibration. Each calibration is
fitted by ``bench/calibrate.py`` for its fusion, since fused scores run on different
scales: a logistic function of the top score and its margin over the runner-up, so
thresholds read as the chance that the top entry is right.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = ["DENSE", "FUSIONS", "Calibration", "Fusion"]


@dataclass(frozen=True)
class Fusion:
    """Weights of an entry's views, added to its best variant's dense cosine."""

    char_tfidf: float = 0.0  # best variant's character TF-IDF cosine
    bm25: float = 0.0  # best variant's BM25, squashed to [0, 1)
    bm25_half: float = 10.0
    centroid: float = 0.0  # cosine with the mean of its variants
    passage: float = 0.0  # cosine with its question and answer together
    classifier: float = 0.0  # a softmax over entries learnt from the variants
    candidates: int = 64


@dataclass(frozen=True)
class Calibration:
    bias: float
    top: float
    margin: float

    def confidence(self, top: float, margin: float) -> float:
        z = self.bias + self.top * top + self.margin * margin
        return 1 / (1 + math.exp(-max(min(z, 50), -50)))


DENSE = "dense"
FUSIONS: dict[str, tuple[Fusion, Calibration]] = {
    DENSE: (Fusion(), Calibration(bias=-26.83, top=27.76, margin=7.72)),
    "lexical": (Fusion(char_tfidf=0.1, bm25=0.05), Calibration(bias=-22.33, top=21.31, margin=1.25)),
    "variants": (
        Fusion(char_tfidf=0.1, bm25=0.05, centroid=0.5, classifier=0.5),
        Calibration(bias=-23.62, top=14.96, margin=-6.77),
    ),
    "passage": (Fusion(char_tfidf=0.1, bm25=0.05, passage=1.0), Calibration(bias=-35.66, top=18.69, margin=6.81)),
    "full": (
        Fusion(char_tfidf=0.1, bm25=0.05, centroid=0.5, passage=1.0, classifier=0.5),
        Calibration(bias=-30.79, top=12.57, margin=-4.68),
    ),
}
