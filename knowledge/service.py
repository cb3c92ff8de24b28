"""The knowledge base as the action server uses it: loaded once, reloaded when rebuilt."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from knowledge.embedder import Embedder, embedder_for_build
from knowledge.index import current_build, load_index
from knowledge.search import Searcher

__all__ = ["KnowledgeBase"]

logger = logging.getLogger(__name__)


class KnowledgeBase:
    """Hands out a searcher for the current build; a new build is loaded on first use after it."""

    def __init__(self, kb_dir: Path) -> None:
        self.kb_dir = Path(kb_dir)
        self._lock = threading.Lock()
        self._build: Path | None = None
        self._searcher: Searcher | None = None
        self._embedders: dict[tuple[str, str, str, str], Embedder] = {}

    def searcher(self) -> Searcher | None:
        build = current_build(self.kb_dir)
        if build is None:
            return None
        if build != self._build:
            with self._lock:
                if build != self._build:
                    self._load(build)
        return self._searcher

    def _load(self, build: Path) -> None:
        index = load_index(build)
        manifest = index.manifest
        key = (manifest.get("engine", ""), manifest["model"], manifest["prefix"], manifest["passage_prefix"])
        if key not in self._embedders:
            self._embedders[key] = embedder_for_build(manifest)
        self._searcher = Searcher(index, self._embedders[key])
        self._build = build
        logger.info(
            "knowledge base %s loaded: %d entries, %s embeddings, %s fusion",
            manifest["build_id"],
            manifest["entries"],
            self._searcher.embedder.engine,
            self._searcher.fusion_name,
        )
