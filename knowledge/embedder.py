"""Sentence embeddings from a sentence-transformers model on local disk.

The model is configuration (a folder, or a hub name already in the local cache);
nothing is downloaded at run time.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np

__all__ = ["Embedder"]


class Embedder:
    """Unit-length float32 vectors, so FAISS inner product is cosine similarity."""

    def __init__(self, model: str, *, prefix: str = "") -> None:
        # Offline before the import: the hub client reads these once.
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        from sentence_transformers import SentenceTransformer

        self.name = model
        self.prefix = prefix
        self._model = SentenceTransformer(model, device="cpu")
        self.dimension = int(self._model.get_embedding_dimension())

    def encode(self, texts: Sequence[str], *, batch_size: int = 64) -> np.ndarray:
        vectors = self._model.encode(
            [self.prefix + t for t in texts],
            batch_size=batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)
