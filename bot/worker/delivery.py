"""Sends agents' and system messages and ticket updates to the customer's own channel.

They are stored first (bot/service/handoffs.py, bot/service/tickets.py); this sends each to Rasa by
triggering an intent with ``output_channel=latest``, which reaches the customer on
the channel they last wrote from. A conversation's messages go in order: one Rasa
does not take stays pending and holds back those after it, and the conversation is
tried again DELIVERY_INTERVAL_SECONDS later while the others go on. Rasa being down
delays messages but loses none, and the actions that show them drop a repeat, so a
retry after a lost answer shows nothing twice.
"""

from __future__ import annotations

import logging
import time
from urllib.parse import quote

import httpx
from sqlalchemy.orm import Session

from bot.db.models import HandoffMessage, TicketUpdate, utcnow
from bot.service.handoffs import pending_deliveries
from bot.service.tickets import pending_ticket_updates

__all__ = ["Delivery"]

logger = logging.getLogger(__name__)


def _pending(session: Session) -> list[tuple[str, str, dict[str, int], HandoffMessage | TicketUpdate]]:
    """(conversation, intent, entities, row) of everything undelivered, oldest first per conversation."""
    return [
        (m.handoff.sender_id, "handoff_event", {"handoff_message_id": m.id}, m) for m in pending_deliveries(session)
    ] + [(u.ticket.sender_id, "ticket_update", {"ticket_update_id": u.id}, u) for u in pending_ticket_updates(session)]


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
        held = {sender_id for sender_id, at in self._retry_at.items() if at > now}
        delivered = 0
        for sender_id, intent, entities, row in _pending(session):
            if sender_id in held:
                continue
            if not self._trigger(sender_id, intent, entities):
                held.add(sender_id)
                self._retry_at[sender_id] = time.monotonic() + self.retry_after
                continue
            self._retry_at.pop(sender_id, None)
            row.delivered_at = utcnow()
            session.commit()
            delivered += 1
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
