"""Every message the widget's channel sends a conversation, numbered, so a widget that
reconnects gets what it missed, and nothing twice.

A widget's socket lives on one Rasa replica. When that replica dies, messages sent to the
conversation before the widget has reconnected elsewhere (an agent's, most likely) reach
no one, though Rasa took them. A widget that can keep count asks for numbered messages
(it sends ``last_seq`` in ``session_request``, 0 at first): from then on each message to its
conversation gets the next number (``seq``) and is kept here, and a widget that reconnects
with the last number it has is sent the ones after it. Others (rasa-webchat renders a
message only if it has no key it does not know) get messages as Rasa sends them. Numbers
and messages live in Redis when the replicas share one, else in this process.

This module runs inside the Rasa server: it imports only what ``.venv-rasa`` has.
"""

from __future__ import annotations

import json
from collections import defaultdict, deque
from typing import Any

__all__ = ["KEPT_MESSAGES", "Outbox"]

# What a widget away for a while may still catch up with: a conversation's latest messages, for a day.
KEPT_MESSAGES = 200
KEPT_SECONDS = 24 * 3600


class Outbox:
    def __init__(self, redis_url: str = "") -> None:
        self._redis = None
        if redis_url:
            import redis

            self._redis = redis.Redis.from_url(redis_url)
        self._numbers: dict[str, int] = {}
        self._kept: defaultdict[str, deque[dict[str, Any]]] = defaultdict(lambda: deque(maxlen=KEPT_MESSAGES))

    def follow(self, conversation: str) -> None:
        """From now on, number the conversation's messages and keep them."""
        if self._redis is None:
            self._numbers.setdefault(conversation, 0)
        else:
            self._redis.set(f"outbox:seq:{conversation}", 0, nx=True, ex=KEPT_SECONDS)

    def add(self, conversation: str, message: dict[str, Any]) -> dict[str, Any]:
        """``message`` with the conversation's next number, kept for a widget that reconnects;
        as it is, if no widget of the conversation asked for numbers."""
        if self._redis is None:
            if conversation not in self._numbers:
                return message
            self._numbers[conversation] += 1
            numbered = {**message, "seq": self._numbers[conversation]}
            self._kept[conversation].append(numbered)
            return numbered
        if not self._redis.exists(f"outbox:seq:{conversation}"):
            return message
        numbered = {**message, "seq": self._redis.incr(f"outbox:seq:{conversation}")}
        kept = f"outbox:messages:{conversation}"
        pipe = self._redis.pipeline()
        pipe.rpush(kept, json.dumps(numbered))
        pipe.ltrim(kept, -KEPT_MESSAGES, -1)
        pipe.expire(kept, KEPT_SECONDS)
        pipe.expire(f"outbox:seq:{conversation}", KEPT_SECONDS)
        pipe.execute()
        return numbered

    def since(self, conversation: str, last_seq: int) -> list[dict[str, Any]]:
        """The kept messages numbered after ``last_seq``, in order."""
        if self._redis is None:
            kept = list(self._kept.get(conversation, ()))
        else:
            kept = [json.loads(raw) for raw in self._redis.lrange(f"outbox:messages:{conversation}", 0, -1)]
        return sorted((m for m in kept if m["seq"] > last_seq), key=lambda m: m["seq"])
