"""What the customers and agents of the run say: numbered, so every reply and every stored turn can be checked."""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = [
    "AGENT_MESSAGES",
    "AGENT_NUMBER",
    "ASK_FOR_PERSON",
    "GREETING",
    "QUESTIONS",
    "RATING",
    "RELAYED",
    "Line",
    "agent_text",
    "message_id",
    "number_of",
    "numbered",
]

# Questions the knowledge base answers, small talk and order tracking: none of them starts a form.
QUESTIONS = (
    "how long does delivery take",
    "what payment methods do you accept",
    "how do I return an item",
    "how are you today",
    "where is my order",
    "can I change my delivery address",
    "thanks",
    "退货需要多久",
    "怎么修改收货地址",
    "how long does it take to get my refund back?",
    "支持哪些付款方式",
    "what tier am I?",
)
GREETING = "hello there"  # "#1 hi" reads as a rating of 1
# A top-tier customer's request is queued for a person at once (tiers.yml: human_first).
ASK_FOR_PERSON = "I need to speak to a person about my order"
RELAYED = "thanks, I am still here"
RATING = '/give_rating{"rating": 5}'
AGENT_MESSAGES = 3
AGENT_NUMBER = re.compile(r"#A(\d+)\b")
_NUMBER = re.compile(r"^#(\d+) ")


@dataclass(frozen=True)
class Line:
    """One customer message: its number in the conversation, its text, and whether the bot answers it."""

    number: int
    text: str
    answered_by_bot: bool = True


def numbered(number: int, text: str) -> str:
    # A button's payload ("/intent{...}") must stay as it is; the message id still numbers it.
    return text if text.startswith("/") else f"#{number} {text}"


def number_of(text: str) -> int | None:
    """The number a customer's text carries, if any."""
    found = _NUMBER.match(text or "")
    return int(found.group(1)) if found else None


def message_id(conversation: str, number: int) -> str:
    """The client's id of a message: its conversation and number (the protocol's ``[A-Za-z0-9_-]{1,64}``)."""
    return f"{conversation}-{number}"


def agent_text(number: int) -> str:
    return f"#A{number} of {AGENT_MESSAGES}: I am looking at your order now."
