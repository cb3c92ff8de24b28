"""Complaint tickets as the customer sees them."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from actions import runtime
from bot.tickets import open_tickets_of


class ActionTicketStatus(Action):
    """Lists the customer's own open tickets; a guest is asked to identify first."""

    def name(self) -> str:
        return "action_ticket_status"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        customer_id = tracker.get_slot("customer_id")
        if not customer_id:
            dispatcher.utter_message(response="utter_ticket_status_guest")
            return []
        with runtime.sessions()() as session:
            tickets = open_tickets_of(session, customer_id=customer_id)
        if not tickets:
            dispatcher.utter_message(response="utter_no_open_tickets")
            return []
        lines = [f"• {t.number} ({t.category}, {t.status}, {t.sla_due_at:%Y-%m-%d %H:%M} UTC)" for t in tickets]
        dispatcher.utter_message(response="utter_open_tickets", tickets="\n".join(lines))
        return []
