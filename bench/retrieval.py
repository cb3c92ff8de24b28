"""Retrieval benchmark: quality on the development sets, then speed on synthetic bases.

    .venv/bin/python -m bench.retrieval ../shared/evaldata            # both parts
    .venv/bin/python -m bench.retrieval ../shared/evaldata --no-speed # quality only

Quality: char TF-IDF, BM25, dense only and the shipped fusion, each over the same
index, on StackFAQ, BQ (dev) and BANKING77 as FAQ routing. Speed: building a
10k-entry index with the real model, and search alone (the query already
embedded) over 10k and 100k entries with stand-in vectors.
"""

from __future__ import annotations

import argparse
import hashlib
import random
import statistics
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from bench.evalsets import banking77_routing, faq_set
from bot.service.kb_builds import embedder_for
from bot.settings import load_settings
from knowledge.embedder import Embedder
from knowledge.evaluate import Metrics, Query, evaluate
from knowledge.index import KnowledgeIndex, build_index, current_build, load_index
from knowledge.search import DENSE_ONLY, Searcher
from knowledge.sources import Entry


def _lexical_ranker(index: KnowledgeIndex, scorer: Callable[[str], np.ndarray]) -> Callable[[str], list[str]]:
    def rank(query: str) -> list[str]:
        scores = scorer(query)
        best: dict[int, float] = {}
        for row in np.argsort(-scores)[:200]:
            position = int(index.variant_entry[row])
            best.setdefault(position, float(scores[row]))
        return [index.entries[p].id for p in sorted(best, key=lambda p: -best[p])][:10]

    return rank


def quality(name: str, entries: list[Entry], queries: Sequence[Query], embedder: Embedder) -> list[tuple[str, Metrics]]:
    with tempfile.TemporaryDirectory() as tmp:
        build_index(entries, embedder, Path(tmp), sources=[], hnsw_above=10**9)
        index = load_index(current_build(Path(tmp)))
    all_rows = np.arange(len(index.variant_text))
    methods = {
        "char TF-IDF": _lexical_ranker(index, lambda q: index.char_tfidf.scores(q, all_rows)),
        "BM25": _lexical_ranker(index, index.bm25.scores),
        "dense only": _searcher_ranker(Searcher(index, embedder, fusion=DENSE_ONLY)),
        "shipped": _searcher_ranker(Searcher(index, embedder)),
    }
    results = []
    for method, ranker in methods.items():
        results.append((method, evaluate(ranker, queries)))
        print(f"  {name:<10} {method:<12} done", flush=True)
    return results


def _searcher_ranker(searcher: Searcher) -> Callable[[str], list[str]]:
    return lambda query: [hit.entry.id for hit in searcher.search(query, k=10).hits]


class StandInEmbedder:
    """Deterministic unit vectors from the text's hash: search cost without the model's."""

    name, prefix, passage_prefix, dimension = "stand-in", "", "", 384

    def encode(self, texts: Sequence[str], *, passages: bool = False) -> np.ndarray:
        vectors = np.vstack(
            [
                np.random.default_rng(int(hashlib.sha1(t.encode()).hexdigest()[:8], 16)).standard_normal(self.dimension)
                for t in texts
            ]
        ).astype(np.float32)
        return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def synthetic_entries(n: int, seed: int = 0) -> list[Entry]:
    """``n`` entries of one question and a short answer each, half English, half Chinese."""
    rng = random.Random(seed)
    words = [f"w{i}" for i in range(5000)]
    hanzi = [chr(0x4E00 + i) for i in range(3000)]
    entries = []
    for i in range(n):
        if i % 2:
            question, lang = " ".join(rng.choices(words, k=8)), "en"
        else:
            question, lang = "".join(rng.choices(hanzi, k=10)), "zh"
        entries.append(
            Entry(id=f"e{i}", questions={lang: question}, variants={lang: []}, answers={lang: question[:12]})
        )
    return entries


def speed(embedder: Embedder, sizes: Sequence[int], hnsw_above: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        entries = synthetic_entries(10_000)
        started = time.perf_counter()
        report = build_index(entries, embedder, Path(tmp) / "real", sources=[], hnsw_above=hnsw_above)
        print(
            f"\nbuild with {embedder.name}: 10,000 entries, {report.variants} variants, "
            f"{report.index_type}: {time.perf_counter() - started:.1f} s"
        )
        encode_ms = []
        for text in ["how long does delivery take", "退款多久到账"] * 20:
            t = time.perf_counter()
            embedder.encode([text])
            encode_ms.append((time.perf_counter() - t) * 1000)
        print(f"query embedding with the model: median {statistics.median(encode_ms):.1f} ms")

        print("\nsearch alone (query already embedded; stand-in vectors)")
        print(f"{'entries':>8} {'variants':>9} {'index':>6} {'recall@10':>10} {'p50 ms':>7} {'p95 ms':>7}")
        stand_in = StandInEmbedder()
        for size in sizes:
            report = build_index(
                synthetic_entries(size), stand_in, Path(tmp) / str(size), sources=[], hnsw_above=hnsw_above
            )
            index = load_index(current_build(Path(tmp) / str(size)))
            searcher = Searcher(index, stand_in)
            rng = random.Random(1)
            probes = [index.variant_text[rng.randrange(len(index.variant_text))] for _ in range(300)]
            vectors = stand_in.encode(probes)
            timings = []
            for text, vector in zip(probes, vectors):
                t = time.perf_counter()
                searcher.search_vector(text, vector, k=5)
                timings.append((time.perf_counter() - t) * 1000)
            recall = "-" if report.recall_vs_flat is None else f"{report.recall_vs_flat:.3f}"
            print(
                f"{size:>8,} {report.variants:>9,} {report.index_type:>6} {recall:>10} "
                f"{np.percentile(timings, 50):>7.2f} {np.percentile(timings, 95):>7.2f}"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "evaldata", type=Path, help="the folder holding faq_stackfaq_en, faq_bq_webank_zh_dev, intent_banking77_en"
    )
    parser.add_argument("--no-speed", action="store_true")
    parser.add_argument("--no-quality", action="store_true")
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    args = parser.parse_args()
    settings = load_settings({"BOT_DEMO": "1"})
    embedder = embedder_for(settings)
    if not args.no_quality:
        sets = {
            "StackFAQ": faq_set(args.evaldata / "faq_stackfaq_en"),
            "BQ dev": faq_set(args.evaldata / "faq_bq_webank_zh_dev"),
            "BANKING77": banking77_routing(args.evaldata / "intent_banking77_en"),
        }
        table = {name: quality(name, *data, embedder) for name, data in sets.items()}
        print(f"\nmodel: {embedder.name}")
        print(f"{'set':<10} {'method':<12} {'top-1':>6} {'R@5':>6} {'MRR':>6} {'p50 ms':>7} {'n':>5}")
        for name, rows in table.items():
            for method, m in rows:
                print(
                    f"{name:<10} {method:<12} {m.top1:>6.3f} {m.recall_at_5:>6.3f} {m.mrr:>6.3f} {m.latency_ms_p50:>7.1f} {m.n:>5}"
                )
    if not args.no_speed:
        speed(embedder, args.sizes, settings.kb_hnsw_above)


if __name__ == "__main__":
    main()
