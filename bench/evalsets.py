"""The evaluation sets as knowledge bases and queries, read from their folders (never copied).

Every set in ``../shared/evaldata`` becomes a base of one of two kinds: a FAQ (one
question per entry, with or without answers) or intent routing (each intent one entry,
a few of its training utterances as question and variants, a held-out split as queries).
StackFAQ is also rebuilt with variants, from a few of each entry's paraphrases, the rest
asked; and the shipped base is asked one held-out variant of each entry and language.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

from knowledge.evaluate import Query, read_queries
from knowledge.sources import Entry, load_sources

__all__ = ["faq_set", "intent_routing", "shipped_held_out", "stackfaq_with_variants"]

ROUTING_VARIANTS = 10
STACKFAQ_VARIANTS = 3


def faq_set(folder: Path) -> tuple[list[Entry], list[Query]]:
    """A folder with faq.jsonl and queries.jsonl: one question per entry."""
    return load_sources([folder / "faq.jsonl"], require_answers=False), read_queries(folder / "queries.jsonl")


def stackfaq_with_variants(folder: Path) -> tuple[list[Entry], list[Query]]:
    """StackFAQ with the first ``STACKFAQ_VARIANTS`` paraphrases of each entry as its
    variants, and the others as queries."""
    entries, queries = faq_set(folder)
    by_id = {entry.id: entry for entry in entries}
    asked = []
    for query in queries:
        variants = by_id[query.entry_id].variants.setdefault(query.lang, [])
        if len(variants) < STACKFAQ_VARIANTS:
            variants.append(query.text)
        else:
            asked.append(query)
    return entries, asked


def intent_routing(
    folder: Path, *, train: str, test: str, lang: str, skip: tuple[str, ...] = ()
) -> tuple[list[Entry], list[Query]]:
    """Each intent one entry, its first ``ROUTING_VARIANTS`` training utterances as the
    entry's question and variants, the test split as queries."""
    utterances: dict[str, list[str]] = {}
    for record in _records(folder / train):
        if record["intent"] not in skip:
            utterances.setdefault(record["intent"], []).append(record["text"])
    entries = [
        Entry(id=intent, questions={lang: texts[0]}, variants={lang: texts[1:ROUTING_VARIANTS]}, answers={lang: ""})
        for intent, texts in utterances.items()
    ]
    queries = [Query(r["text"], r["intent"], lang) for r in _records(folder / test) if r["intent"] in utterances]
    return entries, queries


def shipped_held_out(sources: list[Path]) -> tuple[list[Entry], list[Query]]:
    """The shipped base with the last variant of each entry and language held out and asked."""
    entries = []
    queries = []
    for entry in load_sources(sources):
        entry = copy.deepcopy(entry)
        for lang, variants in entry.variants.items():
            if len(variants) > 1:
                queries.append(Query(variants.pop(), entry.id, lang))
        entries.append(entry)
    return entries, queries


def _records(path: Path) -> list[dict[str, str]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
