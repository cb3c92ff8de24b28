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

    def __init__(self, model: str, *, prefix: str = "", passage_prefix: str | None = None) -> None:
        # Offline before the import: the hub client reads these once.
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        from sentence_transformers import SentenceTransformer

        self.name = model
        self.prefix = prefix
        # e5 models embed a question and the passage that answers it differently.
        self.passage_prefix = prefix if passage_prefix is None else passage_prefix
        self._model = SentenceTransformer(model, device="cpu")
        dimension = self._model.get_embedding_dimension()
        if dimension is None:
            raise ValueError(f"{model} does not say the size of its embeddings")
        self.dimension = int(dimension)

    @classmethod
    def for_build(cls, manifest: dict) -> Embedder:
        """The embedder a build was made with: questions must be embedded as its entries were."""
        return cls(manifest["model"], prefix=manifest["prefix"], passage_prefix=manifest["passage_prefix"])

    def encode(self, texts: Sequence[str], *, batch_size: int = 64, passages: bool = False) -> np.ndarray:
        prefix = self.passage_prefix if passages else self.prefix
        vectors = self._model.encode(
            [prefix + t for t in texts],
            batch_size=batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)
