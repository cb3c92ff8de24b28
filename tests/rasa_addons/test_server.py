"""Rasa's server as we start it (.venv-rasa): the action server's answers are still checked."""

from __future__ import annotations

import json

import pytest

from tests.rasa_addons.rasa_python import run_in_rasa

# Checks answers as a RemoteAction does once the server module has set Rasa up.
SCRIPT = """
import json
from unittest.mock import patch
from jsonschema import ValidationError
from jsonschema.validators import validator_for
from rasa.core.actions.action import RemoteAction
from bot.rasa_addons.server import check_answers_once

check_answers_once()
action = RemoteAction("action_answer_faq", None)
answers = {
    "valid": {"events": [{"event": "slot", "name": "last_faq", "value": None}], "responses": [{"response": "utter_faq_answer"}]},
    "no events": {"responses": []},
    "unknown event": {"events": [{"event": "no_such_event"}], "responses": []},
    "responses not a list": {"events": [], "responses": "utter_faq_answer"},
}
checked = {}
schema_class = validator_for(RemoteAction.action_response_format_spec())
with patch.object(schema_class, "check_schema", wraps=schema_class.check_schema) as schema_checks:
    for name, answer in answers.items():
        for _ in range(3):
            try:
                checked[name] = action._validate_action_result(answer)
            except ValidationError as error:
                checked[name] = error.message
print(json.dumps({"checked": checked, "schema_checks": schema_checks.call_count}))
"""


@pytest.fixture(scope="module")
def checked() -> dict:
    result = run_in_rasa(SCRIPT)
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_valid_answers_pass(checked):
    assert checked["checked"]["valid"] is True
    assert checked["checked"]["no events"] is True


@pytest.mark.parametrize("answer", ["unknown event", "responses not a list"])
def test_a_malformed_answer_is_refused_with_rasas_error(checked, answer):
    assert "Failed to validate Action server response from API" in checked["checked"][answer]


def test_the_schema_itself_is_checked_once_not_per_answer(checked):
    # Once for the validator kept, then only by Rasa's own check of each of the six malformed answers.
    assert checked["schema_checks"] == 1 + 6
