"""Complaints: the form that takes them, the ticket they become, and the customer's view of tickets.

A complaint the tier's policy gives to a person goes to the queue with what is
known so far as a ticket draft; the rest become tickets, and the bot settles the
standard cases (a late parcel, a refund not yet seen) as a service desk would.
"""

from __future__ import annotations

import re
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import runtime
from actions.clarify import ask_which, carrying, doubtful_complaint
from actions.forms import LET_GO, LettingGoForm, asks_a_question, interrupts
from actions.handoff import escalate
from bot.service.complaints import (
    CATEGORIES,
    MAX_DESCRIPTION,
    Settlement,
    category_label,
    detect_category,
    settle,
)
from bot.service.escalation import complaint_to_person_now
from bot.service.orders import ORDER_STATUS_LABELS, find_own_order, orders_for_choice
from bot.service.outcomes import TICKET
from bot.service.tickets import (
    STATUS_LABELS,
    add_customer_detail,
    add_detail_to,
    resolution_for,
    same_problem_ticket,
    tickets_of_conversation,
)

FORM_SLOTS = (
    "complaint_category",
    "complaint_order",
    "complaint_description",
    "complaint_cancelled",
    "complaint_route",
)
NO_ORDER = {"none", "no", "no order", "no specific order", "not about an order", "没有", "无", "与订单无关", "没有订单"}
# A first message that names the problem and is this long already says what happened.
DESCRIPTION_MIN = {"zh": 8, "en": 25}
ORDER_NUMBER = re.compile(r"[A-Za-z-]*\d[A-Za-z0-9-]{2,31}")
TICKET_NUMBER = re.compile(r"\bT\d{6}-[A-Z0-9]{4}\b", re.IGNORECASE)


def draft_of(tracker: Tracker) -> dict[str, Any]:
    order = tracker.get_slot("complaint_order")
    return {
        "category": tracker.get_slot("complaint_category"),
        "order_id": None if order in (None, "none") else order,
        "description": tracker.get_slot("complaint_description"),
    }


def _reset() -> list[EventType]:
    return [SlotSet(name, None) for name in FORM_SLOTS]


class ActionComplaintStart(Action):
    """Takes a complaint: to a person at once where the policy says so, else into the form.

    It asks first when the message may as well be a question or a request for a person,
    and keeps one ticket per problem: a further detail in the conversation goes to the
    ticket it opened, and a new complaint about an order with a ticket from the last day
    asks whether it is the same problem.
    """

    def name(self) -> str:
        return "action_complaint_start"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        text = runtime.text(tracker)
        lang = runtime.language(tracker)
        category = runtime.entity(tracker, "complaint_category")
        category = category if category in CATEGORIES else detect_category(text)
        if category is None and doubtful_complaint(tracker):
            ask_which(dispatcher, tracker, domain)
            return []
        in_words = not text.startswith("/")
        customer_id = tracker.get_slot("customer_id")
        now = runtime.utcnow()
        with runtime.sessions().begin() as session:
            order = find_own_order(session, customer_id, text) if customer_id else None
            order_id = order.id if order else None
            earlier = same_problem_ticket(
                session,
                sender_id=tracker.sender_id,
                customer_id=customer_id,
                category=category,
                order_id=order_id,
                now=now,
            )
            choice = runtime.entity(tracker, "ticket_choice")
            if earlier is not None and in_words and choice is None:
                if earlier.sender_id == tracker.sender_id:
                    add_customer_detail(session, earlier, text, now=now)
                    dispatcher.utter_message(response="utter_detail_added", number=earlier.number)
                    return []
                _ask_same_problem(dispatcher, tracker, domain, earlier.number, text)
                return []
            if choice is not None and choice != NEW_PROBLEM:
                same = add_detail_to(
                    session, number=choice, customer_id=customer_id, sender_id=tracker.sender_id, text=text, now=now
                )
                if same is not None:
                    dispatcher.utter_message(response="utter_detail_added", number=same.number)
                    return []
        described = category is not None and in_words and len(text) >= DESCRIPTION_MIN.get(lang, 25)
        draft = {"category": category, "order_id": order_id, "description": text if described else None}
        policy = runtime.tier_of(tracker).policy
        if complaint_to_person_now(policy, category, runtime.settings().hours, now):
            return [*_reset(), *escalate(dispatcher, tracker, reason="complaint", draft=draft)]
        events = _reset()
        events += [SlotSet("complaint_category", category), SlotSet("complaint_order", order_id)]
        if described:
            events.append(SlotSet("complaint_description", text[:MAX_DESCRIPTION]))
        dispatcher.utter_message(response="utter_complaint_sorry")
        return [*events, FollowupAction("complaint_form")]


# The "a new problem" button's value of ``ticket_choice``; the other buttons carry a ticket number.
NEW_PROBLEM = "new"


def _ask_same_problem(
    dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any], number: str, text: str
) -> None:
    lang = runtime.language(tracker)
    buttons = [
        {
            "title": runtime.phrase(domain, title, lang).format(number=number),
            "payload": carrying("complain", text, ticket_choice=choice),
        }
        for choice, title in ((number, "utter_button_same_problem"), (NEW_PROBLEM, "utter_button_new_problem"))
    ]
    dispatcher.utter_message(response="utter_same_problem", number=number, buttons=buttons)


class ValidateComplaintForm(LettingGoForm):
    def name(self) -> str:
        return "validate_complaint_form"

    async def required_slots(
        self, domain_slots: list[str], dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[str]:
        if tracker.get_slot("complaint_cancelled") or tracker.get_slot("complaint_route") == "person":
            return []
        if not tracker.get_slot("customer_id"):
            # A guest has no orders we could check a number against.
            return [s for s in domain_slots if s != "complaint_order"]
        return domain_slots

    def validate_complaint_category(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if value is None:
            return {}
        if runtime.is_cancel(value):
            return {"complaint_category": None, "complaint_cancelled": True}
        text = str(value or "").strip()
        category = text if text in CATEGORIES else None
        if category is None and text.isdigit() and 1 <= int(text) <= len(CATEGORIES):
            category = list(CATEGORIES)[int(text) - 1]
        if category is None:
            # A word like "refund" in a question does not make it a complaint about a refund.
            if asks_a_question(tracker) or (interrupts(tracker, free_text=False) and not detect_category(text)):
                return LET_GO
            category = detect_category(text)
        if category is None:
            dispatcher.utter_message(response="utter_complaint_category_unclear")
            return {"complaint_category": None}
        slots: dict[str, Any] = {"complaint_category": category}
        policy = runtime.tier_of(tracker).policy
        if complaint_to_person_now(policy, category, runtime.settings().hours, runtime.utcnow()):
            slots["complaint_route"] = "person"
        return slots

    def validate_complaint_order(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if value is None:
            return {}
        if runtime.is_cancel(value):
            return {"complaint_order": None, "complaint_cancelled": True}
        text = str(value or "").strip()
        if text.lower().rstrip(".。") in NO_ORDER:
            return {"complaint_order": "none"}
        customer_id = tracker.get_slot("customer_id")
        with runtime.sessions()() as session:
            choices = orders_for_choice(session, customer_id)
            if text.isdigit() and 1 <= int(text) <= len(choices):
                return {"complaint_order": choices[int(text) - 1].id}
            order = find_own_order(session, customer_id, text)
        if order is None:
            # A number typed is an answer, whatever else the NLU makes of it: it is just not theirs.
            if interrupts(tracker, free_text=False) and not ORDER_NUMBER.fullmatch(text):
                return LET_GO
            dispatcher.utter_message(response="utter_complaint_order_unknown")
            return {"complaint_order": None}
        return {"complaint_order": order.id}

    def validate_complaint_description(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if value is None:
            return {}
        if runtime.is_cancel(value):
            return {"complaint_description": None, "complaint_cancelled": True}
        if interrupts(tracker, free_text=True):
            return LET_GO
        text = str(value or "").strip()
        if len(text) < 4:
            dispatcher.utter_message(response="utter_complaint_description_short")
            return {"complaint_description": None}
        return {"complaint_description": text[:MAX_DESCRIPTION]}


class ActionAskComplaintOrder(Action):
    """Asks which order, offering the customer's latest orders as buttons."""

    def name(self) -> str:
        return "action_ask_complaint_order"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        lang = runtime.language(tracker)
        with runtime.sessions()() as session:
            orders = orders_for_choice(session, tracker.get_slot("customer_id"))
            buttons = [
                {
                    "title": f"{n}. {o.id} · {o.placed_at:%Y-%m-%d} · {runtime.money(o.amount, lang)} · {o.items[:40]}",
                    "payload": f'/choose{{"complaint_order": "{o.id}"}}',
                }
                for n, o in enumerate(orders, start=1)
            ]
        not_about_one = runtime.phrase(domain, "utter_button_not_about_an_order", lang)
        buttons.append({"title": not_about_one, "payload": '/choose{"complaint_order": "none"}'})
        dispatcher.utter_message(response="utter_ask_complaint_order", buttons=buttons)
        return []


class ActionSubmitComplaint(Action):
    """Stores the ticket and confirms it; settles late deliveries and missing refunds where it can."""

    def name(self) -> str:
        return "action_submit_complaint"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        if tracker.get_slot("complaint_cancelled"):
            dispatcher.utter_message(response="utter_complaint_cancelled")
            return _reset()
        draft = draft_of(tracker)
        if tracker.get_slot("complaint_route") == "person":
            return [*_reset(), *escalate(dispatcher, tracker, reason="complaint", draft=draft)]
        lang = runtime.language(tracker)
        tier = runtime.tier_of(tracker)
        customer_id = tracker.get_slot("customer_id")
        with runtime.sessions().begin() as session:
            ticket = runtime.open_ticket_for(
                session,
                tracker,
                category=draft["category"] or "other",
                order_id=draft["order_id"],
                description=draft["description"] or "",
            )
            runtime.note_outcome(session, tracker, TICKET)
            dispatcher.utter_message(
                response="utter_ticket_opened",
                number=ticket.number,
                category=category_label(ticket.category, lang),
                hours=tier.policy.ticket_sla_hours,
                due=runtime.local_time(ticket.sla_due_at),
            )
            settlement = settle(
                session,
                customer_id=customer_id,
                order_id=draft["order_id"],
                category=ticket.category,
                policy=tier.policy,
                today=runtime.today(),
            )
        if settlement is not None:
            _tell(dispatcher, settlement, lang)
        return _reset()


_SETTLEMENT_RESPONSES = {
    "delivered": "utter_delivery_shows_delivered",
    "arrived_late": "utter_delivery_arrived_late",
    "late": "utter_delivery_late",
    "on_time": "utter_delivery_on_time",
    "refund_issued": "utter_refund_issued",
    "refund_after_inspection": "utter_refund_after_inspection",
    "refund_not_started": "utter_refund_not_started",
}


def _tell(dispatcher: CollectingDispatcher, settlement: Settlement, lang: str) -> None:
    dispatcher.utter_message(
        response=_SETTLEMENT_RESPONSES[settlement.case],
        order=settlement.order_id,
        status=_status_label(settlement.status, lang),
        expected=f"{settlement.expected:%Y-%m-%d}" if settlement.expected else "",
        days=settlement.days_late,
    )
    if settlement.coupon:
        dispatcher.utter_message(response="utter_late_coupon", amount=runtime.money(settlement.coupon, lang))


def _status_label(status: str, lang: str) -> str:
    return ORDER_STATUS_LABELS.get(status, {}).get(lang, status)


class ActionTicketStatus(Action):
    """Lists the customer's own open tickets; a number typed that is not theirs shows nothing."""

    def name(self) -> str:
        return "action_ticket_status"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        customer_id = tracker.get_slot("customer_id")
        lang = runtime.language(tracker)
        asked = TICKET_NUMBER.search(runtime.text(tracker))
        number = asked.group(0).upper() if asked else None
        with runtime.sessions()() as session:
            tickets = tickets_of_conversation(
                session, customer_id=customer_id, sender_id=tracker.sender_id, number=number
            )
            if number and not tickets:
                dispatcher.utter_message(response="utter_ticket_not_found", number=number)
                return []
            if not tickets and not customer_id:
                dispatcher.utter_message(response="utter_ticket_status_guest")
                return []
            if not tickets:
                dispatcher.utter_message(response="utter_no_open_tickets")
                return []
            lines = [
                f"• {t.number} · {category_label(t.category, lang)} · {STATUS_LABELS.get(t.status, {}).get(lang, t.status)}"
                f" · {runtime.local_time(t.sla_due_at)}"
                for t in tickets
            ]
        dispatcher.utter_message(response="utter_open_tickets", tickets="\n".join(lines))
        return []


class ActionTicketUpdate(Action):
    """Tells the customer their ticket was resolved, once, as the worker delivers it."""

    def name(self) -> str:
        return "action_ticket_update"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        try:
            update_id = int(runtime.entity(tracker, "ticket_update_id") or "")
        except ValueError:
            return []
        if update_id <= int(tracker.get_slot("ticket_last_update") or 0):
            return []
        with runtime.sessions()() as session:
            update = resolution_for(session, update_id=update_id, sender_id=tracker.sender_id)
            if update is None:
                return []
            dispatcher.utter_message(response="utter_ticket_resolved", number=update.ticket.number, note=update.note)
        return [SlotSet("ticket_last_update", update_id)]
