"""Delivers what agents write to the customer's own channel, and expires handoffs nobody took.

It also tells customers their ticket was resolved the same way, and announces
each new escalation to ESCALATION_WEBHOOK_URL when one is set.

Agent and system messages are stored first (bot/handoffs.py); this sends each to
Rasa, in order per conversation, by triggering the ``handoff_event`` intent with
``output_channel=latest``. A message Rasa did not take stays pending and is sent
again on the next pass, so Rasa being down delays messages but loses none; the
action that shows it drops a repeat, so each arrives once.
"""

from __future__ import annotations

import logging
import threading
from datetime import timedelta
from urllib.parse import quote

import httpx
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from bot.db.models import Handoff, HandoffMessage, TicketUpdate, utcnow
from bot.handoffs import expire_overdue, pending_deliveries
from bot.settings import Settings
from bot.tickets import pending_ticket_updates
from bot.tiers import TierConfig

__all__ = ["Deliverer"]

logger = logging.getLogger(__name__)


class Deliverer:
    def __init__(self, settings: Settings, sessions: sessionmaker[Session], tiers: TierConfig) -> None:
        self.settings = settings
        self.sessions = sessions
        self.tiers = tiers
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._client = httpx.Client(timeout=30)
        self._announced: int | None = None

    def _trigger(self, sender_id: str, intent: str, entities: dict[str, int]) -> bool:
        url = f"{self.settings.rasa_url}/conversations/{quote(sender_id, safe='')}/trigger_intent"
        try:
            response = self._client.post(
                url,
                params={"output_channel": "latest", "token": self.settings.rasa_token},
                json={"name": intent, "entities": entities},
            )
        except httpx.HTTPError as error:
            logger.warning("Rasa unreachable, %s %s stays pending: %s", intent, entities, error)
            return False
        if response.status_code != 200:
            logger.warning("Rasa refused %s %s (%s): %s", intent, entities, response.status_code, response.text[:200])
            return False
        return True

    def deliver(self) -> int:
        """One pass over the pending agent messages and ticket updates; returns how many were delivered."""
        with self._lock:
            with self.sessions() as session:
                pending = [
                    (m.handoff.sender_id, "handoff_event", {"handoff_message_id": m.id}, HandoffMessage, m.id)
                    for m in pending_deliveries(session)
                ] + [
                    (u.ticket.sender_id, "ticket_update", {"ticket_update_id": u.id}, TicketUpdate, u.id)
                    for u in pending_ticket_updates(session)
                ]
            delivered, blocked = 0, set()
            for sender_id, intent, entities, model, row_id in pending:
                # Order matters within a conversation: nothing overtakes an undelivered message.
                if sender_id in blocked:
                    continue
                if not self._trigger(sender_id, intent, entities):
                    blocked.add(sender_id)
                    continue
                with self.sessions.begin() as session:
                    row = session.get(model, row_id)
                    if row is not None and row.delivered_at is None:
                        row.delivered_at = utcnow()
                delivered += 1
            return delivered

    def announce(self) -> int:
        """Posts each handoff opened since the last pass to the escalation webhook, once, best effort."""
        if not self.settings.escalation_webhook_url:
            return 0
        with self.sessions() as session:
            if self._announced is None:
                # Only escalations from now on: a restart does not announce the whole history.
                self._announced = session.scalar(select(func.max(Handoff.id))) or 0
                return 0
            new = session.scalars(select(Handoff).where(Handoff.id > self._announced).order_by(Handoff.id)).all()
            payloads = [
                {
                    "id": h.id, "tier": h.tier, "reason": h.reason, "summary": h.summary, "language": h.language,
                    "url": f"http://{self.settings.host}:{self.settings.console_port}/handoffs/{h.id}",
                    "text": f"[{h.tier}] {h.summary}",
                }
                for h in new
            ]
        for payload in payloads:
            try:
                self._client.post(self.settings.escalation_webhook_url, json=payload, timeout=5).raise_for_status()
            except httpx.HTTPError as error:
                logger.warning("escalation webhook failed for handoff %s: %s", payload["id"], error)
            self._announced = payload["id"]
        return len(payloads)

    def expire(self) -> int:
        if self.settings.handoff_timeout_minutes <= 0:
            return 0
        with self.sessions.begin() as session:
            expired = expire_overdue(
                session, timeout=timedelta(minutes=self.settings.handoff_timeout_minutes), tiers=self.tiers
            )
            for handoff in expired:
                logger.info("handoff %s not accepted in time: ticket %s", handoff.id, handoff.ticket.number)
            return len(expired)

    def wake(self) -> None:
        self._wake.set()

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.expire()
                self.deliver()
                self.announce()
            except Exception:
                logger.exception("delivery pass failed; retrying")
            self._wake.wait(self.settings.delivery_interval_seconds)
            self._wake.clear()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="handoff-delivery", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=35)
        self._client.close()
