"""Search a loaded knowledge base: several views of each entry, fused into one score.

An entry's score adds up, with the weights of its build's :class:`~knowledge.fusions.Fusion`:
- its best variant: dense cosine, plus character TF-IDF and squashed BM25 (exact words);
- the cosine with the mean of its variants (what they share, not one lucky phrasing);
- the cosine with its question and answer together (the answer's words count too);
- for bases small enough to train one, a softmax over entries learnt from the variants.
Which views count is chosen per base when it is built, from its own held-out variants
(``knowledge/fusion_choice.py``): a view that helps one base can hurt another.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from knowledge.embedder import Embedder
from knowledge.fusions import FUSIONS
from knowledge.index import KnowledgeIndex
from knowledge.lexical import BM25
from knowledge.sources import Entry

__all__ = ["FUSION_BEFORE_CHOICE", "Hit", "SearchResult", "Searcher", "fusion_of"]

# Builds from before the fusion was chosen per base all used this one.
FUSION_BEFORE_CHOICE = "full"


def fusion_of(index: KnowledgeIndex) -> str:
    """The name of the fusion ``index`` was built to search with."""
    return str(index.manifest.get("fusion", {}).get("name", FUSION_BEFORE_CHOICE))


@dataclass(frozen=True)
class Hit:
    entry: Entry
    score: float
    dense: float
    variant: str


@dataclass(frozen=True)
class SearchResult:
    hits: list[Hit]
    confidence: float

    @property
    def best(self) -> Hit | None:
        return self.hits[0] if self.hits else None


class Searcher:
    def __init__(self, index: KnowledgeIndex, embedder: Embedder, *, fusion: str | None = None) -> None:
        """Searches with ``fusion`` (a name in :data:`~knowledge.fusions.FUSIONS`), by default
        the one chosen for the base when it was built."""
        self.index, self.embedder = index, embedder
        self.fusion_name = fusion_of(index) if fusion is None else fusion
        self.fusion, self.calibration = FUSIONS[self.fusion_name]

    def search(self, query: str, *, k: int = 5, tier: str | None = None) -> SearchResult:
        """The ``k`` best entries for ``query`` that ``tier`` may see (all entries if ``tier`` is None)."""
        return self.search_vector(query, self.embedder.encode([query])[0], k=k, tier=tier)

    def search_vector(self, query: str, vector: np.ndarray, *, k: int = 5, tier: str | None = None) -> SearchResult:
        """:meth:`search` with the query already embedded."""
        scores = self._entry_scores(query, vector)
        ranked = sorted(scores.items(), key=lambda item: -item[1][0])
        hits = []
        for position, (score, dense, row) in ranked:
            entry = self.index.entries[position]
            if tier is None or entry.visible_to(tier):
                hits.append(Hit(entry, score, dense, self.index.variant_text[row]))
            if len(hits) == k:
                break
        if not hits:
            return SearchResult([], 0.0)
        runner_up = hits[1].score if len(hits) > 1 else hits[0].score - 1.0
        return SearchResult(hits, self.calibration.confidence(hits[0].score, hits[0].score - runner_up))

    def _entry_scores(self, query: str, vector: np.ndarray) -> dict[int, tuple[float, float, int]]:
        """Candidate entries -> (fused score, best dense cosine, best variant row)."""
        index, fusion = self.index, self.fusion
        n = len(index.variant_text)
        _, found = index.faiss_index.search(vector[None, :], min(fusion.candidates, n))
        positions = {int(index.variant_entry[r]) for r in found[0] if r >= 0}
        lexical = index.bm25.scores(query) if fusion.bm25 or fusion.char_tfidf else None
        if lexical is not None and lexical.any():
            top = np.argpartition(-lexical, min(fusion.candidates, n) - 1)[: fusion.candidates]
            positions |= {int(index.variant_entry[r]) for r in top if lexical[r] > 0}
        probabilities = None
        if fusion.classifier and index.classifier is not None:
            weights, biases = index.classifier
            logits = weights @ vector + biases
            probabilities = np.exp(logits - logits.max())
            probabilities /= probabilities.sum()
            positions |= {int(p) for p in np.argsort(-probabilities)[:5]}

        candidates = np.fromiter(positions, dtype=np.int64)
        rows = np.concatenate([index.rows_of[p] for p in candidates])
        variant = np.asarray(index.vectors[rows]) @ vector
        dense = variant.copy()
        if fusion.char_tfidf:
            variant += fusion.char_tfidf * index.char_tfidf.scores(query, rows)
        if fusion.bm25 and lexical is not None:
            variant += fusion.bm25 * BM25.saturate(lexical[rows], fusion.bm25_half)
        counts = np.fromiter((len(index.rows_of[p]) for p in candidates), dtype=np.int64, count=len(candidates))
        rows_at = _segment_argmax(variant, counts)
        score = variant[rows_at] + fusion.centroid * (index.centroids[candidates] @ vector)
        if fusion.passage:
            # A large base has no passages (knowledge/index.py): its best question stands in.
            passage = self._passage_scores(vector, candidates) if len(index.passages) else dense[rows_at]
            score += fusion.passage * passage
        if probabilities is not None:
            score += fusion.classifier * probabilities[candidates]
        return {
            int(position): (float(total), float(dense[at]), int(rows[at]))
            for position, total, at in zip(candidates, score, rows_at)
        }

    def _passage_scores(self, vector: np.ndarray, candidates: np.ndarray) -> np.ndarray:
        """Each candidate's best question-and-answer cosine (over its languages); 0 without one."""
        groups = [self.index.passages_of[p] for p in candidates]
        counts = np.fromiter((len(g) for g in groups), dtype=np.int64, count=len(groups))
        best = np.zeros(len(candidates), dtype=np.float32)
        if counts.any():
            scores = self.index.passages[np.concatenate(groups).astype(np.int64)] @ vector
            has = counts > 0
            best[has] = scores[_segment_argmax(scores, counts[has])]
        return best


def _segment_argmax(values: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Index of the largest value in each consecutive segment of ``counts`` values (none empty)."""
    segment = np.repeat(np.arange(len(counts)), counts)
    order = np.lexsort((-values, segment))
    return order[np.searchsorted(segment[order], np.arange(len(counts)))]
