"""Sends agents' and system messages and ticket updates to the customer's own channel.

They are stored first (bot/service/handoffs.py, bot/service/tickets.py); this sends each to Rasa by
triggering an intent with ``output_channel=latest``, which reaches the customer on
the channel they last wrote from. A conversation's messages go in order: one Rasa
does not take stays pending and holds back those after it, and the conversation is
tried again DELIVERY_INTERVAL_SECONDS later while the others go on. Rasa being down
delays messages but loses none, and the actions that show them drop a repeat, so a
retry after a lost answer shows nothing twice.

Several workers share the work, each message sent once and each conversation in order:
only a conversation's oldest undelivered message may be sent, and a worker sends it
holding its row locked (``FOR UPDATE SKIP LOCKED``) until the transaction that marks it
delivered commits. Another worker finds the row locked and passes the conversation by;
it never skips ahead to a later message, and a message delivered meanwhile no longer
matches. On SQLite, which has no row locks, workers take turns instead (turns.py).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from urllib.parse import quote

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.db.models import HandoffMessage, TicketUpdate, utcnow
from bot.service.handoffs import pending_deliveries
from bot.service.tickets import pending_ticket_updates

__all__ = ["Delivery"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Pending:
    sender_id: str
    intent: str
    entities: dict[str, int]
    row: HandoffMessage | TicketUpdate


def _pending(session: Session, sender_id: str | None = None) -> list[Pending]:
    """What is undelivered, of one conversation or of all, oldest first."""
    found = [
        Pending(m.handoff.sender_id, "handoff_event", {"handoff_message_id": m.id}, m)
        for m in pending_deliveries(session, sender_id)
    ] + [
        Pending(u.ticket.sender_id, "ticket_update", {"ticket_update_id": u.id}, u)
        for u in pending_ticket_updates(session, sender_id)
    ]
    # An agent's messages and a ticket's news come from two tables: the time they were stored orders them.
    return sorted(found, key=lambda p: p.row.created_at)


def _claimed(session: Session, pending: Pending) -> Pending | None:
    """``pending`` locked for this transaction, or None if another worker holds it or delivered it."""
    model = type(pending.row)
    row = session.scalar(
        select(model)
        .where(model.id == pending.row.id, model.delivered_at.is_(None))
        .with_for_update(skip_locked=True)
        .execution_options(populate_existing=True)
    )
    return pending if row is not None else None


class Delivery:
    def __init__(self, http: httpx.Client, *, rasa_url: str, rasa_token: str, retry_after: float) -> None:
        self.http = http
        self.rasa_url = rasa_url
        self.rasa_token = rasa_token
        self.retry_after = retry_after
        # Conversations held back, and the time.monotonic() at which to try them again: passes
        # come often, to send a new message at once, and a Rasa that is down need not be asked as often.
        self._retry_at: dict[str, float] = {}

    def __call__(self, session: Session) -> int:
        """One pass over what is pending; returns how many Rasa took."""
        now = time.monotonic()
        waiting = dict.fromkeys(p.sender_id for p in _pending(session))
        return sum(
            self._conversation(session, sender_id) for sender_id in waiting if self._retry_at.get(sender_id, 0) <= now
        )

    def _conversation(self, session: Session, sender_id: str) -> int:
        """Sends the conversation's messages in order until none is left, Rasa refuses one, or another worker has it."""
        delivered = 0
        while (oldest := next(iter(_pending(session, sender_id)), None)) and _claimed(session, oldest):
            if not self._trigger(sender_id, oldest.intent, oldest.entities):
                session.rollback()
                self._retry_at[sender_id] = time.monotonic() + self.retry_after
                return delivered
            oldest.row.delivered_at = utcnow()
            session.commit()
            delivered += 1
        # Whatever holds the rest (nothing, or another worker) is no reason to wait before the next pass.
        session.rollback()
        self._retry_at.pop(sender_id, None)
        return delivered

    def _trigger(self, sender_id: str, intent: str, entities: dict[str, int]) -> bool:
        url = f"{self.rasa_url}/conversations/{quote(sender_id, safe='')}/trigger_intent"
        try:
            response = self.http.post(
                url,
                params={"output_channel": "latest", "token": self.rasa_token},
                json={"name": intent, "entities": entities},
            )
        except httpx.HTTPError as error:
            logger.warning("Rasa unreachable, %s %s stays pending: %s", intent, entities, error)
            return False
        if response.status_code != 200:
            logger.warning("Rasa refused %s %s (%s): %s", intent, entities, response.status_code, response.text[:200])
            return False
        return True
