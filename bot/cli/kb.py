"""``bot kb ...``: build, search and evaluate the knowledge base.

Kept apart from ``bot.cli`` so other commands start without loading torch.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

from bot.service.kb_builds import BuildError, build_from_sources, embedder_for
from bot.settings import Settings
from knowledge.build import BuildReport, build_index
from knowledge.embedder import embedder_for_build
from knowledge.evaluate import evaluate, read_queries
from knowledge.index import current_build, load_index
from knowledge.search import Searcher
from knowledge.sources import SourceError, load_sources

__all__ = ["KbError", "build", "eval_", "search"]


class KbError(Exception):
    """Shown as one line by the CLI."""


def build(settings: Settings, args: argparse.Namespace) -> None:
    try:
        report = build_from_sources(settings, [Path(p) for p in args.sources])
    except BuildError as error:
        raise KbError(str(error)) from None
    print(
        f"built {report.index_type} index of {report.entries} entries, {report.variants} question variants "
        f"with {report.engine} in {report.seconds:.1f}s -> {report.path}"
    )
    if report.recall_vs_flat is not None:
        print(f"recall@10 of the approximate index against exact search: {report.recall_vs_flat:.3f}")
    _print_fusion(report)


def _print_fusion(report: BuildReport) -> None:
    choice = report.fusion
    print(f"fusion: {choice.name} ({choice.reason})")
    if choice.top1:
        print("  top-1 on held-out variants: " + ", ".join(f"{name} {top1:.3f}" for name, top1 in choice.top1.items()))


def search(settings: Settings, args: argparse.Namespace) -> None:
    build_dir = current_build(settings.kb_dir)
    if build_dir is None:
        raise KbError(f"no knowledge base built in {settings.kb_dir}: run `bot kb build`")
    index = load_index(build_dir)
    searcher = Searcher(index, embedder_for_build(index.manifest))
    result = searcher.search(args.question, k=args.k, tier=args.tier)
    print(f"confidence {result.confidence:.2f} ({searcher.embedder.engine} embeddings, {searcher.fusion_name} fusion)")
    for hit in result.hits:
        _, answer = hit.entry.answer_in(args.lang)
        print(f"{hit.score:.3f}  {hit.entry.id}  [{hit.entry.question_in(args.lang)}]  via {hit.variant!r}")
        print(f"       {answer[:160]}")


def eval_(settings: Settings, args: argparse.Namespace) -> None:
    try:
        entries = load_sources([Path(p) for p in args.kb], require_answers=False)
        queries = read_queries(Path(args.queries))
    except (SourceError, OSError) as error:
        raise KbError(str(error)) from None
    if not queries:
        raise KbError(f"no queries in {args.queries}")
    embedder = embedder_for(settings)
    with tempfile.TemporaryDirectory() as tmp:
        report = build_index(entries, embedder, Path(tmp), sources=[], hnsw_above=settings.kb_hnsw_above)
        searcher = Searcher(load_index(report.path), embedder)
        metrics = evaluate(lambda q: [h.entry.id for h in searcher.search(q, k=10).hits], queries)
    if args.json:
        print(json.dumps(metrics.as_dict()))
        return
    _print_fusion(report)
    print(f"queries        {metrics.n}")
    print(f"top-1          {metrics.top1:.3f}")
    print(f"Recall@5       {metrics.recall_at_5:.3f}")
    print(f"MRR            {metrics.mrr:.3f}")
    print(f"latency p50    {metrics.latency_ms_p50:.1f} ms")
    print(f"latency p95    {metrics.latency_ms_p95:.1f} ms")
