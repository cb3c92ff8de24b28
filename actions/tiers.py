"""The customer's tier: what it gives them and how far the next one is."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from actions import runtime
from bot.service.customers import way_up


class ActionTierInfo(Action):
    def name(self) -> str:
        return "action_tier_info"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        customer_id = tracker.get_slot("customer_id")
        if not customer_id:
            dispatcher.utter_message(response="utter_tier_guest")
            return []
        lang = runtime.language(tracker)
        tier = runtime.tier_of(tracker)
        dispatcher.utter_message(
            response="utter_tier_info",
            tier_label=tier.label_in(lang),
            benefits="\n".join(f"• {b}" for b in tier.benefits_in(lang)),
        )
        with runtime.sessions()() as session:
            next_tier = way_up(
                session, customer_id=customer_id, tier=tier, tiers=runtime.tiers(), today=runtime.today()
            )
        if next_tier is None:
            dispatcher.utter_message(response="utter_tier_top")
            return []
        above, gap = next_tier
        if gap.spend and gap.orders:
            response = "utter_tier_next_spend_and_orders"
        elif gap.spend:
            response = "utter_tier_next_spend"
        else:
            # The stored tier lags a recompute: the customer already qualifies, so one
            # more order is the honest next step.
            response = "utter_tier_next_orders"
        dispatcher.utter_message(
            response=response,
            next_label=above.label_in(lang),
            spend=runtime.money(gap.spend, lang),
            orders=max(gap.orders, 1),
        )
        return []
