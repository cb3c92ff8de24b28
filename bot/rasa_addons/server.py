"""``python -m bot.rasa_addons.server run ...``: Rasa's own command line, with the action
server's answers checked against a schema validator made once, and each message answered
once however often a client sends it (``exactly_once.py``).

Rasa checks every answer of the action server with ``jsonschema.validate``, which
first checks Rasa's constant schema against the JSON Schema meta-schema, on every
call: 25-30 ms of each custom action here, as long as the rest of a knowledge-base
turn. Here a valid answer is checked by a validator built once; one that fails goes
on to Rasa's own check, which raises Rasa's error as before.

This module runs inside the Rasa server: it imports only what ``.venv-rasa`` has.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache, wraps
from typing import Any

from jsonschema import validators
from rasa.__main__ import main as rasa_main
from rasa.core.actions.action import RemoteAction

from bot.rasa_addons.exactly_once import answer_repeats

__all__ = ["check_answers_once", "main", "response_validator"]


@cache
def response_validator() -> Any:
    """A validator of Rasa's schema for the action server's answers, the schema checked once."""
    schema = RemoteAction.action_response_format_spec()
    validator = validators.validator_for(schema)
    validator.check_schema(schema)
    return validator(schema)


def _checked_once(rasa_check: Callable[[RemoteAction, dict[str, Any]], bool]) -> Callable[..., bool]:
    @wraps(rasa_check)
    def check(action: RemoteAction, result: dict[str, Any]) -> bool:
        return bool(response_validator().is_valid(result)) or rasa_check(action, result)

    return check


def check_answers_once() -> None:
    """Makes Rasa check the action server's answers with :func:`response_validator` first."""
    RemoteAction._validate_action_result = _checked_once(RemoteAction._validate_action_result)


def main() -> None:
    check_answers_once()
    answer_repeats()
    rasa_main()


if __name__ == "__main__":
    main()
