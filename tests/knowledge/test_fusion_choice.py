"""Each build chooses its fusion from its own held-out variants, and says so."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence

import numpy as np

from knowledge.build import build_index
from knowledge.fusion_choice import MIN_HELD_OUT
from knowledge.index import current_build, load_index
from knowledge.search import Searcher
from knowledge.sources import Entry


class TopicEmbedder:
    """A text's vector is its own random direction plus ``topic`` times that of its first
    word: phrasings sharing a first word are a little alike, and at a small ``topic``
    dense-only search of a held-out phrasing is often wrong where the words are not."""

    engine, name, prefix, passage_prefix, dimension = "stand-in", "stand-in", "", "", 64

    def __init__(self, topic: float) -> None:
        self.topic = topic

    def encode(self, texts: Sequence[str], *, passages: bool = False) -> np.ndarray:
        vectors = np.vstack([self.topic * _direction(t.split()[0]) + _direction(t) for t in texts]).astype(np.float32)
        return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def _direction(text: str) -> np.ndarray:
    return np.random.default_rng(int(hashlib.sha1(text.encode()).hexdigest()[:8], 16)).standard_normal(64)


def _scrambled(*parts: object) -> str:
    """A word that shares nothing but chance letters with any other."""
    return hashlib.sha1(repr(parts).encode()).hexdigest()[:10]


def _coded(n: int) -> list[Entry]:
    """``n`` entries of four phrasings, each starting with the entry's own code word."""
    return [_entry(i, [f"code{i} how {w}" for w in ("do", "can", "will", "should")]) for i in range(n)]


def _entry(i: int, phrasings: list[str], answer: str = "") -> Entry:
    return Entry(id=f"e{i}", questions={"en": phrasings[0]}, variants={"en": phrasings[1:]}, answers={"en": answer})


def _manifest(tmp_path) -> dict:
    return json.loads((current_build(tmp_path) / "manifest.json").read_text(encoding="utf-8"))


def test_a_base_with_one_question_per_entry_is_searched_dense_only(tmp_path):
    entries = [_entry(i, [f"question number {i} about topic {i}"], answer=f"answer {i}") for i in range(60)]
    report = build_index(entries, TopicEmbedder(0.3), tmp_path, sources=[], hnsw_above=10_000)
    assert report.fusion.name == "dense"
    assert report.fusion.held_out == 0
    assert "dense only, nothing to decide on" in report.fusion.reason
    assert _manifest(tmp_path)["fusion"]["name"] == "dense"
    assert Searcher(load_index(current_build(tmp_path)), TopicEmbedder(0.3)).fusion_name == "dense"


def test_a_base_with_too_few_variants_is_searched_dense_only(tmp_path):
    entries = [_entry(i, [f"code{i} alpha", f"code{i} beta"]) for i in range(MIN_HELD_OUT - 1)]
    report = build_index(entries, TopicEmbedder(0.3), tmp_path, sources=[], hnsw_above=10_000)
    assert (report.fusion.name, report.fusion.held_out) == ("dense", MIN_HELD_OUT - 1)


def test_a_fusion_is_chosen_when_it_finds_held_out_variants_that_dense_misses(tmp_path):
    report = build_index(_coded(20), TopicEmbedder(0.3), tmp_path, sources=[], hnsw_above=10_000)
    choice = report.fusion
    assert choice.name != "dense"
    assert choice.held_out == 3 * 20
    assert choice.top1[choice.name] >= choice.top1["dense"] + 0.2
    manifest = _manifest(tmp_path)["fusion"]
    assert manifest == {"name": choice.name, "held_out": 60, "top1": choice.top1, "reason": choice.reason}
    searcher = Searcher(load_index(current_build(tmp_path)), TopicEmbedder(0.3))
    assert searcher.fusion_name == choice.name


def test_dense_only_stays_when_it_already_finds_every_held_out_variant(tmp_path):
    report = build_index(_coded(20), TopicEmbedder(1.0), tmp_path, sources=[], hnsw_above=10_000)
    assert report.fusion.top1["dense"] == 1.0
    assert report.fusion.name == "dense"
    assert report.fusion.reason.startswith("no fusion beat dense-only")


def test_dense_only_stays_when_the_fusions_differ_from_it_only_by_chance(tmp_path):
    # Phrasings share neither words nor direction: every way of searching is guessing.
    entries = [_entry(i, [f"{_scrambled(i, j)} {_scrambled(j, i)}" for j in range(4)]) for i in range(20)]
    report = build_index(entries, TopicEmbedder(0.0), tmp_path, sources=[], hnsw_above=10_000)
    assert max(report.fusion.top1.values()) < 0.1
    assert report.fusion.name == "dense"
