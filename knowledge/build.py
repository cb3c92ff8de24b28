"""Build a knowledge base: embed its phrasings and passages, choose its fusion, write the index."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from knowledge.embedder import Embedder
from knowledge.fusion_choice import FusionChoice, choose_fusion
from knowledge.index import assemble_index, passage_rows, phrasing_rows, recall_vs_flat, write_index
from knowledge.sources import Entry, checksum

__all__ = ["BuildReport", "build_index"]


@dataclass(frozen=True)
class BuildReport:
    path: Path
    entries: int
    variants: int
    index_type: str
    seconds: float
    recall_vs_flat: float | None
    engine: str
    fusion: FusionChoice


def build_index(
    entries: list[Entry],
    embedder: Embedder,
    kb_dir: Path,
    *,
    sources: list[Path],
    hnsw_above: int,
) -> BuildReport:
    """Embed every question variant, write the index, and make it the current one."""
    started = time.perf_counter()
    owners, texts = phrasing_rows(entries)
    vectors = embedder.encode(texts)
    passage_owners, passage_texts = passage_rows(entries)
    passages = (
        embedder.encode(passage_texts, passages=True)
        if passage_texts
        else np.zeros((0, embedder.dimension), np.float32)
    )
    choice = choose_fusion(
        entries,
        owners=owners,
        texts=texts,
        vectors=vectors,
        passage_owners=passage_owners,
        passages=passages,
        embedder=embedder,
    )
    index = assemble_index(
        entries,
        owners=owners,
        texts=texts,
        vectors=vectors,
        passage_owners=passage_owners,
        passages=passages,
        hnsw_above=hnsw_above,
        manifest={
            "engine": embedder.engine,
            "model": embedder.name,
            "prefix": embedder.prefix,
            "passage_prefix": embedder.passage_prefix,
            "dimension": embedder.dimension,
            "entries": len(entries),
            "variants": len(texts),
            "passages": len(passage_texts),
            "fusion": choice.as_dict(),
            "sources": {str(p): checksum(p) for p in sources},
        },
    )
    kind = index.manifest["index_type"]
    recall = recall_vs_flat(index.faiss_index, vectors) if kind != "flat" else None
    index.manifest["recall_at_10_vs_flat"] = recall
    path = write_index(index, Path(kb_dir))
    return BuildReport(
        path, len(entries), len(texts), kind, time.perf_counter() - started, recall, embedder.engine, choice
    )
