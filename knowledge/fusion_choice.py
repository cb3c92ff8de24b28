"""Choose a base's fusion from its own held-out variants, when it is built.

A view that helps on one base can hurt on another: the question-and-answer passage
lifts a base whose answers say what their questions mean, and drags down one whose
answers are long or alike. So each build asks its own base. Variants of its entries are
held out (one per entry and language in each of a few folds), the rest is assembled
into an index, and every fusion of :data:`~knowledge.fusions.FUSIONS` is asked the
held-out variants. A fusion replaces dense-only only if it is right on more of them by
a margin that chance is unlikely to give: at least ``MIN_GAIN`` top-1, and a sign test
over the questions where the two disagree at ``MIN_Z``. A base with fewer than
``MIN_HELD_OUT`` held-out variants has nothing to decide on and is searched dense-only.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np

from knowledge.embedder import Embedder
from knowledge.fusions import DENSE, FUSIONS
from knowledge.index import KnowledgeIndex, assemble_index
from knowledge.search import Searcher
from knowledge.sources import Entry

__all__ = ["FusionChoice", "choose_fusion", "held_out_rows"]

FOLDS = 3
MIN_HELD_OUT = 30
MIN_GAIN = 0.02
MIN_Z = 2.0


@dataclass(frozen=True)
class FusionChoice:
    name: str
    held_out: int  # variants asked
    top1: dict[str, float]  # each fusion's top-1 on them; empty when there were too few
    reason: str

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def held_out_rows(entries: list[Entry], owners: np.ndarray, fold: int) -> np.ndarray:
    """Rows of the phrasings held out in ``fold``: each entry's ``fold + 1``-th variant in
    each language, if it has one. The entry's question always stays in."""
    held = []
    row = 0
    for entry in entries:
        for lang, _ in entry.questions.items():
            variants = entry.variants.get(lang, [])
            if fold < len(variants):
                held.append(row + 1 + fold)
            row += 1 + len(variants)
    assert row == len(owners), "rows are laid out as Entry.phrasings() yields them"
    return np.asarray(held, dtype=np.int64)


def choose_fusion(
    entries: list[Entry],
    *,
    owners: np.ndarray,
    texts: list[str],
    vectors: np.ndarray,
    passage_owners: np.ndarray,
    passages: np.ndarray,
    embedder: Embedder,
) -> FusionChoice:
    """The fusion this base should be searched with, and the held-out figures behind it."""
    right: dict[str, list[bool]] = {name: [] for name in FUSIONS}
    for fold in range(FOLDS):
        held = held_out_rows(entries, owners, fold)
        if not len(held):
            break
        kept = np.setdiff1d(np.arange(len(texts)), held)
        index = assemble_index(
            entries,
            owners=owners[kept],
            texts=[texts[r] for r in kept],
            vectors=vectors[kept],
            passage_owners=passage_owners,
            passages=passages,
            hnsw_above=len(texts) + 1,
            manifest={},
        )
        for name in FUSIONS:
            right[name] += _top1_right(index, embedder, name, [(texts[r], vectors[r], int(owners[r])) for r in held])
    asked = len(right[DENSE])
    if asked < MIN_HELD_OUT:
        return FusionChoice(
            DENSE, asked, {}, f"{asked} held-out variants, fewer than {MIN_HELD_OUT}: dense only, nothing to decide on"
        )
    top1 = {name: round(float(np.mean(hits)), 4) for name, hits in right.items()}
    dense = np.asarray(right[DENSE])
    best, best_z = DENSE, 0.0
    for name, hits in right.items():
        gain = top1[name] - top1[DENSE]
        z = _sign_test(np.asarray(hits), dense)
        if gain >= MIN_GAIN and z >= MIN_Z and top1[name] > top1[best]:
            best, best_z = name, z
    if best == DENSE:
        reason = f"no fusion beat dense-only by {MIN_GAIN} top-1 at z >= {MIN_Z} on {asked} held-out variants"
    else:
        reason = f"{best} beat dense-only by {top1[best] - top1[DENSE]:.3f} top-1 (z {best_z:.1f}) on {asked} held-out variants"
    return FusionChoice(best, asked, top1, reason)


def _top1_right(
    index: KnowledgeIndex, embedder: Embedder, fusion: str, questions: list[tuple[str, np.ndarray, int]]
) -> list[bool]:
    searcher = Searcher(index, embedder, fusion=fusion)
    results = []
    for text, vector, position in questions:
        best = searcher.search_vector(text, vector, k=1).best
        results.append(best is not None and best.entry is index.entries[position])
    return results


def _sign_test(candidate: np.ndarray, dense: np.ndarray) -> float:
    """How many standard deviations the candidate's wins over dense-only lie above its
    losses, counting only the questions where exactly one of them is right."""
    wins = int(np.sum(candidate & ~dense))
    losses = int(np.sum(~candidate & dense))
    return 0.0 if wins + losses == 0 else (wins - losses) / math.sqrt(wins + losses)
