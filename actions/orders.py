"""Order tracking: a signed-in customer's latest orders, and where one order's parcel is."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from actions import runtime
from actions.identity import BINDABLE_CHANNELS
from bot.service.orders import ORDER_STATUS_LABELS, SHIPMENT_LABELS, Delivery, look_up_orders
from bot.service.outcomes import SELF_SERVED

# The entity the order buttons (ours and the complaint form's) send an order number in.
ORDER_ENTITY = "complaint_order"


def _label(labels: dict[str, dict[str, str]], key: str, lang: str) -> str:
    return labels.get(key, {}).get(lang, key)


def _state(delivery: Delivery, lang: str) -> str:
    """The order's state in a word or two: the shop's until it ships or once it is closed, else the parcel's."""
    if delivery.closed or delivery.shipment_status == "pending":
        return _label(ORDER_STATUS_LABELS, delivery.status, lang)
    return _label(SHIPMENT_LABELS, delivery.shipment_status, lang)


def _tell(dispatcher: CollectingDispatcher, delivery: Delivery, lang: str, domain: dict[str, Any]) -> None:
    order, items = delivery.order_id, delivery.items
    expected = f"{delivery.expected:%Y-%m-%d}"
    if delivery.closed:
        dispatcher.utter_message(response="utter_order_closed", order=order, items=items, status=_state(delivery, lang))
        return
    if delivery.delivered and delivery.delivered_at:
        dispatcher.utter_message(
            response="utter_order_delivered", order=order, items=items, delivered=f"{delivery.delivered_at:%Y-%m-%d}"
        )
    elif delivery.delivered:
        dispatcher.utter_message(response="utter_order_delivered_undated", order=order, items=items)
    elif delivery.shipment_status == "pending":
        response = "utter_order_not_shipped"
        dispatcher.utter_message(response=response, order=order, items=items, status=_state(delivery, lang))
    else:
        dispatcher.utter_message(
            response="utter_order_on_its_way", order=order, items=items, shipment=_state(delivery, lang)
        )
    if delivery.carrier and delivery.tracking_number:
        dispatcher.utter_message(
            response="utter_order_carrier", carrier=delivery.carrier, tracking=delivery.tracking_number
        )
    if delivery.days_late:
        report = runtime.phrase(domain, "utter_button_report_late", lang)
        payload = f'/complain{{"complaint_category": "late_delivery", "{ORDER_ENTITY}": "{order}"}}'
        response = "utter_order_arrived_late" if delivery.delivered else "utter_order_late"
        dispatcher.utter_message(
            response=response,
            days=delivery.days_late,
            expected=expected,
            buttons=[{"title": report, "payload": payload}],
        )
    elif not delivery.delivered:
        dispatcher.utter_message(response="utter_order_expected", expected=expected)


class ActionTrackOrder(Action):
    """Where the customer's order is: the one they name or their only one, else a list to pick from.

    Only the customer's own orders are shown; a guest is told how to be recognised.
    """

    def name(self) -> str:
        return "action_track_order"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        customer_id = tracker.get_slot("customer_id")
        if not customer_id:
            on_wechat = runtime.channel(tracker) in BINDABLE_CHANNELS
            dispatcher.utter_message(response="utter_orders_bind" if on_wechat else "utter_orders_sign_in")
            return []
        lang = runtime.language(tracker)
        asked = runtime.entity(tracker, ORDER_ENTITY) or runtime.text(tracker)
        with runtime.sessions()() as session:
            lookup = look_up_orders(session, customer_id=customer_id, text=asked, today=runtime.today())
        if lookup.not_theirs:
            dispatcher.utter_message(response="utter_order_not_found", order=lookup.not_theirs)
        if lookup.tracked is not None:
            _tell(dispatcher, lookup.tracked, lang, domain)
            with runtime.sessions().begin() as session:
                runtime.note_outcome(session, tracker, SELF_SERVED)
        elif not lookup.recent:
            dispatcher.utter_message(response="utter_no_orders")
        else:
            lines = [
                f"• {d.order_id} · {d.placed_at:%Y-%m-%d} · {d.items[:40]} · {_state(d, lang)}" for d in lookup.recent
            ]
            buttons = [
                {
                    "title": f"{d.order_id} · {d.placed_at:%Y-%m-%d}",
                    "payload": f'/order_status{{"{ORDER_ENTITY}": "{d.order_id}"}}',
                }
                for d in lookup.recent
            ]
            dispatcher.utter_message(response="utter_orders_recent", orders="\n".join(lines), buttons=buttons)
        return []
