"""Retrieval quality and speed on labelled queries: top-1, Recall@5, MRR, latency."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from knowledge.sources import SourceError

__all__ = ["Metrics", "Query", "evaluate", "read_queries"]

MRR_DEPTH = 10


@dataclass(frozen=True)
class Query:
    text: str
    entry_id: str
    lang: str


@dataclass(frozen=True)
class Metrics:
    top1: float
    recall_at_5: float
    mrr: float
    n: int
    latency_ms_p50: float
    latency_ms_p95: float

    def as_dict(self) -> dict[str, float | int]:
        return asdict(self)


def read_queries(path: Path) -> list[Query]:
    """``{"query", "faq_id", "lang"}`` lines; a bad line is a :class:`SourceError`."""
    queries = []
    for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            queries.append(Query(str(record["query"]), str(record["faq_id"]), str(record.get("lang", ""))))
        except (json.JSONDecodeError, KeyError, TypeError) as error:
            raise SourceError(Path(path), number, f"bad query line: {error}") from None
    return queries


def evaluate(rank: Callable[[str], Sequence[str]], queries: Sequence[Query]) -> Metrics:
    """Score ``rank`` (query -> entry ids, best first, each once) on ``queries``."""
    ranks, latencies = [], []
    for query in queries:
        started = time.perf_counter()
        ids = list(rank(query.text))[:MRR_DEPTH]
        latencies.append((time.perf_counter() - started) * 1000)
        ranks.append(ids.index(query.entry_id) + 1 if query.entry_id in ids else None)
    n = len(queries)
    return Metrics(
        top1=sum(r == 1 for r in ranks) / n,
        recall_at_5=sum(r is not None and r <= 5 for r in ranks) / n,
        mrr=sum(1 / r for r in ranks if r) / n,
        n=n,
        latency_ms_p50=float(np.percentile(latencies, 50)),
        latency_ms_p95=float(np.percentile(latencies, 95)),
    )
