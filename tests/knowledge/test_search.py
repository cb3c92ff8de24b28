import json
import subprocess
import sys
from argparse import Namespace

import pytest

from bot.cli.kb import KbError, build
from bot.settings import ROOT, load_settings
from knowledge.build import build_index
from knowledge.index import current_build, load_index
from knowledge.search import Searcher
from knowledge.service import KnowledgeBase
from knowledge.sources import load_sources
from tests.knowledge.conftest import KB, QUERIES, TIERS


@pytest.fixture(scope="module")
def searcher(embedder, tmp_path_factory) -> Searcher:
    kb_dir = tmp_path_factory.mktemp("kb")
    build_index(load_sources([KB], known_tiers=TIERS), embedder, kb_dir, sources=[], hnsw_above=10_000)
    return Searcher(load_index(current_build(kb_dir)), embedder)


@pytest.mark.model
def test_a_chinese_question_finds_the_entry_and_its_chinese_answer(searcher):
    best = searcher.search("退款要几天才能到？").best
    assert best.entry.id == "refund-time"
    assert best.entry.answer_in("zh") == ("zh", "支付宝和微信 1-3 个工作日到账，银行卡 3-7 个工作日。")


@pytest.mark.model
def test_an_english_question_finds_a_csv_entry(searcher):
    assert searcher.search("I need an invoice for my company").best.entry.id == "invoice"


@pytest.mark.model
def test_entries_for_higher_tiers_are_never_shown_to_lower_ones(searcher):
    question = "what is the VIP hotline number"
    assert searcher.search(question, tier="vip").best.entry.id == "vip-hotline"
    for tier in ("guest", "normal"):
        assert all(hit.entry.id != "vip-hotline" for hit in searcher.search(question, k=10, tier=tier).hits)


@pytest.mark.model
def test_confidence_is_higher_for_a_known_question_than_for_an_unrelated_one(searcher):
    known = searcher.search("how long does a refund take")
    unrelated = searcher.search("who won the football world cup in 1998")
    assert known.confidence > 0.6 > unrelated.confidence


@pytest.mark.model
def test_a_rebuild_is_picked_up_without_a_restart(embedder, tmp_path):
    entries = load_sources([KB], known_tiers=TIERS)
    build_index(entries[:2], embedder, tmp_path, sources=[], hnsw_above=10_000)
    kb = KnowledgeBase(tmp_path)
    first = kb.searcher()
    assert len(first.index.entries) == 2
    assert kb.searcher() is first
    build_index(entries, embedder, tmp_path, sources=[], hnsw_above=10_000)
    assert len(kb.searcher().index.entries) == len(entries)


@pytest.mark.model
def test_a_broken_source_keeps_the_last_good_index(tmp_path):
    settings = load_settings({"BOT_DEMO": "1", "KB_DIR": str(tmp_path / "kb")})
    good = tmp_path / "good.yml"
    good.write_text((KB / "shop.yml").read_text(encoding="utf-8"), encoding="utf-8")
    build(settings, Namespace(sources=[str(good)]))
    before = current_build(settings.kb_dir)
    broken = tmp_path / "broken.yml"
    broken.write_text("entries:\n  - id: oops\n    en:\n      question: Where?\n", encoding="utf-8")
    with pytest.raises(KbError, match=r"broken.yml:4: entry 'oops' \(en\) has no answer \(the index was not changed\)"):
        build(settings, Namespace(sources=[str(good), str(broken)]))
    assert current_build(settings.kb_dir) == before


@pytest.mark.model
def test_kb_eval_reports_the_metrics_as_json():
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "bot.cli",
            "kb",
            "eval",
            "--kb",
            str(KB / "shop.yml"),
            str(KB / "extra.csv"),
            "--queries",
            str(QUERIES),
            "--json",
        ],
        cwd=ROOT,
        env={"BOT_DEMO": "1", "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    metrics = json.loads(result.stdout)
    assert set(metrics) == {"top1", "recall_at_5", "mrr", "n", "latency_ms_p50", "latency_ms_p95"}
    assert metrics["n"] == 6
    assert metrics["top1"] == 1.0 and metrics["mrr"] == 1.0


def test_kb_eval_refuses_a_broken_query_file(tmp_path):
    queries = tmp_path / "q.jsonl"
    queries.write_text('{"query": "x", "faq_id": "refund-time"}\n{"query": "y"}\n', encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "kb", "eval", "--kb", str(KB / "shop.yml"), "--queries", str(queries)],
        cwd=ROOT,
        env={"BOT_DEMO": "1", "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 1 and f"{queries}:2: bad query line" in result.stderr


@pytest.mark.model
def test_results_are_plain_numbers_that_travel_as_json(searcher):
    result = searcher.search("how long does a refund take")
    json.dumps({"confidence": result.confidence, "scores": [(h.score, h.dense) for h in result.hits]})


@pytest.mark.model
def test_a_large_base_builds_without_passages_and_still_finds_the_entry(embedder, tmp_path, monkeypatch):
    import knowledge.index

    monkeypatch.setattr(knowledge.index, "PASSAGES_MAX_ENTRIES", 1)
    build_index(load_sources([KB], known_tiers=TIERS), embedder, tmp_path, sources=[], hnsw_above=10_000)
    index = load_index(current_build(tmp_path))
    assert index.manifest["passages"] == 0 and len(index.passages) == 0
    searcher = Searcher(index, embedder)
    assert searcher.search("I need an invoice for my company").best.entry.id == "invoice"
    assert searcher.search("退款要几天才能到？").best.entry.id == "refund-time"
