"""The development sets as knowledge bases and queries, read from their folders (never copied)."""

from __future__ import annotations

import json
from pathlib import Path

from knowledge.evaluate import Query, read_queries
from knowledge.sources import Entry, load_sources

__all__ = ["banking77_routing", "faq_set"]

BANKING_VARIANTS = 10


def faq_set(folder: Path) -> tuple[list[Entry], list[Query]]:
    """A folder with faq.jsonl and queries.jsonl."""
    return load_sources([folder / "faq.jsonl"], require_answers=False), read_queries(folder / "queries.jsonl")


def banking77_routing(folder: Path) -> tuple[list[Entry], list[Query]]:
    """BANKING77 as FAQ routing: each intent one entry, its first 10 train utterances as
    the entry's question and variants, the test set as queries."""
    utterances: dict[str, list[str]] = {}
    for line in (folder / "train.jsonl").read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        utterances.setdefault(record["intent"], []).append(record["text"])
    entries = [
        Entry(id=intent, questions={"en": texts[0]}, variants={"en": texts[1:BANKING_VARIANTS]}, answers={"en": ""})
        for intent, texts in utterances.items()
    ]
    queries = [
        Query(record["text"], record["intent"], "en")
        for record in map(json.loads, (folder / "test.jsonl").read_text(encoding="utf-8").splitlines())
    ]
    return entries, queries
