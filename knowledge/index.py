"""A knowledge base's index: assembled in memory from embedded phrasings, written to
disk as a build, and loaded back.

A build goes into ``builds/<id>/`` beside a ``current`` link that is switched
only once the build is complete, so readers always see a whole index and pick
up a new one by noticing that the link changed.
"""

from __future__ import annotations

import json
import os
import shutil
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import faiss
import numpy as np

from knowledge.lexical import BM25, CharTfidf
from knowledge.sources import Entry

__all__ = [
    "KnowledgeIndex",
    "assemble_index",
    "current_build",
    "load_index",
    "passage_rows",
    "phrasing_rows",
    "recall_vs_flat",
    "write_index",
]

CURRENT = "current"
KEEP_BUILDS = 3


CLASSIFIER_MAX_ENTRIES = 5000
# Above this many entries the build embeds no question-and-answer passages: they double
# the embedding, which is nearly all of a build's time, and search lets the entry's best
# question cosine stand in for them. 10,000 entries then build within two minutes here.
PASSAGES_MAX_ENTRIES = 5000
# HNSW search breadth: the fused search re-ranks 64 candidates, so the approximate
# index needs good recall of those, not of an exact top 10.
HNSW_EF_SEARCH = 64


@dataclass
class KnowledgeIndex:
    """A loaded build: each question variant as a vector, plus per-entry views of them."""

    entries: list[Entry]
    variant_entry: np.ndarray  # variant row -> entry position
    variant_text: list[str]
    vectors: np.ndarray  # variant vectors, memory-mapped
    faiss_index: faiss.Index
    centroids: np.ndarray  # entry position -> mean of its variant vectors, unit length
    passages: np.ndarray  # question and answer together, one row per entry and language
    passage_entry: np.ndarray
    classifier: tuple[np.ndarray, np.ndarray] | None  # softmax weights and biases over entries
    bm25: BM25
    char_tfidf: CharTfidf
    manifest: dict[str, Any]

    def __post_init__(self) -> None:
        self.rows_of = _group(self.variant_entry, len(self.entries))
        self.passages_of = _group(self.passage_entry, len(self.entries))


def _group(owners: np.ndarray, n: int) -> list[np.ndarray]:
    """For each entry position, the rows it owns."""
    order = np.argsort(owners, kind="stable")
    bounds = np.searchsorted(owners[order], np.arange(n + 1))
    return [order[bounds[i] : bounds[i + 1]] for i in range(n)]


def phrasing_rows(entries: list[Entry]) -> tuple[np.ndarray, list[str]]:
    """Every question and variant: the entry position owning each row, and its text."""
    owners, texts = [], []
    for position, entry in enumerate(entries):
        for _, text in entry.phrasings():
            owners.append(position)
            texts.append(text)
    return np.asarray(owners, dtype=np.int32), texts


def passage_rows(entries: list[Entry]) -> tuple[np.ndarray, list[str]]:
    """Question and answer together, per entry and language; none where there is no answer,
    and none at all for a large base (see ``PASSAGES_MAX_ENTRIES``)."""
    owners, texts = [], []
    if len(entries) <= PASSAGES_MAX_ENTRIES:
        for position, entry in enumerate(entries):
            for lang, question in entry.questions.items():
                if entry.answers.get(lang):
                    owners.append(position)
                    texts.append(f"{question} {entry.answers[lang]}")
    return np.asarray(owners, dtype=np.int32), texts


def _centroids(vectors: np.ndarray, owners: np.ndarray, n: int) -> np.ndarray:
    sums = np.zeros((n, vectors.shape[1]), dtype=np.float64)
    np.add.at(sums, owners, vectors)
    norms = np.linalg.norm(sums, axis=1, keepdims=True)
    return (sums / np.where(norms > 0, norms, 1)).astype(np.float32)


def _classifier(vectors: np.ndarray, owners: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray] | None:
    """A softmax over entries trained on their variants: it learns which directions tell
    similar entries apart, where nearest-variant search only sees the closest one.
    Skipped for large bases, where training would dominate the build, and where most
    entries have a single phrasing, which leaves nothing to learn."""
    if not 3 <= n <= CLASSIFIER_MAX_ENTRIES or len(vectors) < 2 * n:
        return None
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(C=100, max_iter=3000).fit(vectors, owners)
    weights = np.zeros((n, vectors.shape[1]), dtype=np.float32)
    biases = np.full(n, -1e4, dtype=np.float32)  # an entry with no class never wins
    weights[model.classes_] = model.coef_
    biases[model.classes_] = model.intercept_
    return weights, biases


def _faiss_index(vectors: np.ndarray, hnsw_above: int) -> tuple[faiss.Index, str]:
    dimension = vectors.shape[1]
    index: faiss.Index
    if len(vectors) <= hnsw_above:
        index = faiss.IndexFlatIP(dimension)
        kind = "flat"
    else:
        hnsw = faiss.IndexHNSWFlat(dimension, 32, faiss.METRIC_INNER_PRODUCT)
        hnsw.hnsw.efConstruction = 80
        hnsw.hnsw.efSearch = HNSW_EF_SEARCH
        index, kind = hnsw, "hnsw"
    index.add(vectors)
    return index, kind


def recall_vs_flat(index: faiss.Index, vectors: np.ndarray, k: int = 10, probes: int = 500) -> float:
    """Recall@k of the approximate index against exact search, on stored vectors as queries."""
    rng = np.random.default_rng(0)
    queries = vectors[rng.choice(len(vectors), size=min(probes, len(vectors)), replace=False)]
    exact = faiss.IndexFlatIP(vectors.shape[1])
    exact.add(vectors)
    _, truth = exact.search(queries, k)
    _, found = index.search(queries, k)
    return float(np.mean([len(set(t) & set(f)) / k for t, f in zip(truth, found)]))


def assemble_index(
    entries: list[Entry],
    *,
    owners: np.ndarray,
    texts: list[str],
    vectors: np.ndarray,
    passage_owners: np.ndarray,
    passages: np.ndarray,
    hnsw_above: int,
    manifest: dict[str, Any],
) -> KnowledgeIndex:
    """An index in memory from embedded phrasings and passages: every view search uses."""
    index, kind = _faiss_index(vectors, hnsw_above)
    return KnowledgeIndex(
        entries=entries,
        variant_entry=owners,
        variant_text=texts,
        vectors=vectors,
        faiss_index=index,
        centroids=_centroids(vectors, owners, len(entries)),
        passages=passages,
        passage_entry=passage_owners,
        classifier=_classifier(vectors, owners, len(entries)),
        bm25=BM25(texts),
        char_tfidf=CharTfidf(texts),
        manifest={**manifest, "index_type": kind},
    )


def write_index(index: KnowledgeIndex, kb_dir: Path) -> Path:
    """Write ``index`` as a new build and make it the current one; returns its folder."""
    build_id = f"{time.strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:6]}"
    builds = Path(kb_dir) / "builds"
    target = builds / build_id
    partial = builds / f".{build_id}.partial"
    partial.mkdir(parents=True)
    faiss.write_index(index.faiss_index, str(partial / "index.faiss"))
    np.save(partial / "variant_entry.npy", index.variant_entry)
    np.save(partial / "vectors.npy", index.vectors)
    np.save(partial / "centroids.npy", index.centroids)
    np.save(partial / "passages.npy", index.passages)
    np.save(partial / "passage_entry.npy", index.passage_entry)
    if index.classifier is not None:
        np.save(partial / "classifier_weights.npy", index.classifier[0])
        np.save(partial / "classifier_biases.npy", index.classifier[1])
    _write_json(partial / "variants.json", index.variant_text)
    _write_json(partial / "entries.json", [e.to_dict() for e in index.entries])
    index.manifest.update(
        build_id=build_id,
        classifier=index.classifier is not None,
        built_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    )
    _write_json(partial / "manifest.json", index.manifest)
    partial.rename(target)
    _switch_current(Path(kb_dir), target)
    _prune(builds, keep=target)
    return target


def _write_json(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")


def _switch_current(kb_dir: Path, target: Path) -> None:
    link = kb_dir / CURRENT
    temporary = kb_dir / f".{CURRENT}.{os.getpid()}"
    temporary.unlink(missing_ok=True)
    temporary.symlink_to(target.relative_to(kb_dir))
    # rename() over the old link is atomic: a reader sees the old build or the new one.
    temporary.rename(link)


def _prune(builds: Path, *, keep: Path) -> None:
    # Older builds go, except a few, so a reader still loading one is not cut short.
    finished = sorted((p for p in builds.iterdir() if not p.name.startswith(".")), key=lambda p: p.name)
    for old in finished[:-KEEP_BUILDS]:
        if old != keep:
            shutil.rmtree(old, ignore_errors=True)


def current_build(kb_dir: Path) -> Path | None:
    """The folder of the current build, or None if nothing was built yet."""
    link = Path(kb_dir) / CURRENT
    try:
        return (Path(kb_dir) / os.readlink(link)).resolve()
    except OSError:
        return None


def load_index(build: Path) -> KnowledgeIndex:
    entries = [Entry.from_dict(d) for d in json.loads((build / "entries.json").read_text(encoding="utf-8"))]
    texts = json.loads((build / "variants.json").read_text(encoding="utf-8"))
    manifest = json.loads((build / "manifest.json").read_text(encoding="utf-8"))
    classifier = None
    if manifest["classifier"]:
        classifier = (np.load(build / "classifier_weights.npy"), np.load(build / "classifier_biases.npy"))
    return KnowledgeIndex(
        entries=entries,
        variant_entry=np.load(build / "variant_entry.npy"),
        variant_text=texts,
        vectors=np.load(build / "vectors.npy", mmap_mode="r"),
        faiss_index=faiss.read_index(str(build / "index.faiss")),
        centroids=np.load(build / "centroids.npy"),
        passages=np.load(build / "passages.npy"),
        passage_entry=np.load(build / "passage_entry.npy"),
        classifier=classifier,
        bm25=BM25(texts),
        char_tfidf=CharTfidf(texts),
        manifest=manifest,
    )
