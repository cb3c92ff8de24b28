"""The demo: its customers and orders (`data/demo`) and its agents, loaded into an empty database,
and the customers a visitor of the demo shop may be."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.db.models import Customer
from bot.db.session import Sessions
from bot.service.agents import seed_demo_agents
from bot.service.crm_import import ImportResult, import_crm
from bot.service.customers import TierMoves, recompute_tiers
from bot.service.tiers import TierConfig

__all__ = ["DEMO_DIR", "DemoCustomer", "DemoSeed", "demo_customer", "demo_customers", "import_and_rank", "seed_demo"]

DEMO_DIR = Path(__file__).resolve().parents[2] / "data" / "demo"


@dataclass(frozen=True)
class DemoSeed:
    agents: list[str]  # the demo agents added; none if the database had agents
    imported: tuple[ImportResult, TierMoves] | None  # None if the database had customers


def import_and_rank(
    sessions: Sessions, *, tiers: TierConfig, customers: Path, orders: Path, shift_to: date | None, today: date
) -> tuple[ImportResult, TierMoves]:
    """A CRM export imported, and the tiers of its customers recomputed, in one transaction."""
    with sessions.begin() as session:
        result = import_crm(session, customers_csv=customers, orders_csv=orders, shift_to=shift_to)
        return result, recompute_tiers(session, tiers=tiers, today=today, customer_ids=result.customer_ids)


def seed_demo(sessions: Sessions, *, tiers: TierConfig, today: date) -> DemoSeed:
    with sessions.begin() as session:
        agents = seed_demo_agents(session)
        has_customers = session.scalar(select(Customer.id).limit(1)) is not None
    if has_customers:
        return DemoSeed(agents, None)
    # Shifted so the newest demo order was placed yesterday: tiers look as intended on any day.
    imported = import_and_rank(
        sessions,
        tiers=tiers,
        customers=DEMO_DIR / "customers.csv",
        orders=DEMO_DIR / "orders.csv",
        shift_to=today - timedelta(days=1),
        today=today,
    )
    return DemoSeed(agents, imported)


@dataclass(frozen=True)
class DemoCustomer:
    """Someone a visitor of the demo shop may be."""

    id: str
    name: str
    tier: str | None


def demo_customers(session: Session, *, tiers: TierConfig) -> list[DemoCustomer]:
    """The first customer of each configured tier, lowest tier first."""
    rows = session.execute(select(Customer.tier, func.min(Customer.id)).group_by(Customer.tier))
    firsts = {tier: customer_id for tier, customer_id in rows}
    found = (demo_customer(session, firsts[tier.id]) for tier in tiers.tiers if tier.id in firsts)
    return [customer for customer in found if customer is not None]


def demo_customer(session: Session, customer_id: str) -> DemoCustomer | None:
    customer = session.get(Customer, customer_id)
    return DemoCustomer(customer.id, customer.name, customer.tier) if customer else None
