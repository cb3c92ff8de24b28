"""A Rasa policy that keeps the bot silent while a person handles the conversation.

While the ``handoff_id`` slot is set, every customer message goes to
``action_relay_to_agent``, whatever its intent, and nothing else runs after it.
Intents the console triggers (an agent's message, the close) are left to the
rules. It outranks RulePolicy, so no rule answers a customer mid-handoff.
"""

from __future__ import annotations

from typing import Any

from rasa.core.policies.policy import Policy, PolicyPrediction
from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.domain import Domain
from rasa.shared.core.generator import TrackerWithCachedStates
from rasa.shared.core.trackers import DialogueStateTracker

SLOT = "handoff_id"
RELAY = "action_relay_to_agent"
# Triggered by the console, or Rasa's own: the dialogue's rules handle these.
PASS_THROUGH = {"handoff_event", "ticket_update", "session_start", "restart"}


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.POLICY_WITHOUT_END_TO_END_SUPPORT, is_trainable=True)
class HandoffPolicy(Policy):
    @staticmethod
    def get_default_config() -> dict[str, Any]:
        # RulePolicy has priority 4: at equal confidence the higher priority wins.
        return {"priority": 5}

    def __init__(
        self,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        featurizer: Any = None,
    ) -> None:
        super().__init__(config, model_storage, resource, execution_context, featurizer)

    def train(self, training_trackers: list[TrackerWithCachedStates], domain: Domain, **kwargs: Any) -> Resource:
        # Nothing to learn; the empty resource is what Rasa loads the policy from.
        with self._model_storage.write_to(self._resource):
            pass
        return self._resource

    def predict_action_probabilities(
        self,
        tracker: DialogueStateTracker,
        domain: Domain,
        rule_only_data: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> PolicyPrediction:
        probabilities = self._default_predictions(domain)
        if tracker.get_slot(SLOT) is None:
            return self._prediction(probabilities)
        if tracker.latest_action_name == ACTION_LISTEN_NAME:
            intent = tracker.latest_message.intent.get("name") if tracker.latest_message else None
            if intent not in PASS_THROUGH:
                probabilities[domain.index_for_action(RELAY)] = 1.0
        elif tracker.latest_action_name == RELAY:
            probabilities[domain.index_for_action(ACTION_LISTEN_NAME)] = 1.0
        return self._prediction(probabilities)
