"""``bot``: the one command line for operating the product.

bot db init                          create or upgrade the database schema
bot customers import CUSTOMERS ORDERS  import a CRM export (all or nothing)
bot customers show ID                a customer, their tier, RFM figures and orders
bot tiers recompute                  recompute every customer's tier from their orders
bot token ID                         a signed widget token for a customer
bot agents add USERNAME              create an agent or supervisor; prints their API token
bot agents token USERNAME            replace an agent's API token
bot agents password USERNAME         set a new password; signs the agent out everywhere
bot agents remove USERNAME           end an agent's access: sessions and API token
bot kb build [SOURCES...]            build the knowledge base index
bot kb search "QUESTION"             search it
bot kb eval --kb FAQ --queries Q     measure retrieval on labelled queries
bot report --since DATE              service figures per tier and day (--until DATE, --json)
bot demo seed                        load the demo customers and agents into an empty database
bot run                              start every process and print the URLs
bot scale [--replicas N]             PostgreSQL, Redis, N replicas of every process, HAProxy in front
bot serve rasa|actions|console|worker  one process in the foreground, for systemd or a container
"""

from __future__ import annotations

import argparse
import getpass
import logging
import sys
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.cli.run import run
from bot.cli.scale import scale
from bot.cli.serve import KINDS, serve
from bot.db.migrate import revision, upgrade
from bot.db.models import Agent, Customer
from bot.db.session import sessions_for
from bot.service.agents import (
    DEMO_AGENTS,
    ROLES,
    AgentError,
    add_agent,
    issue_token,
    remove_agent,
    set_password,
)
from bot.service.crm_import import CsvImportError, ImportResult
from bot.service.customers import TierMoves, customer_rfm, recompute_tiers, way_up
from bot.service.demo import import_and_rank, seed_demo
from bot.service.tiers import TierConfig, TierConfigError, load_tiers
from bot.settings import ConfigError, Settings, load_settings
from bot.tokens import sign_token


class CliError(Exception):
    """Shown to the user as one line; the command exits with status 1."""


def cmd_db_init(settings: Settings, args: argparse.Namespace) -> None:
    upgrade(settings.database_url)
    print(f"database ready: {_display_url(settings.database_url)}")


def cmd_db_revision(settings: Settings, args: argparse.Namespace) -> None:
    revision(settings.database_url, args.message)


def cmd_customers_import(settings: Settings, args: argparse.Namespace) -> None:
    _import(settings, args.customers, args.orders)


def _import(settings: Settings, customers: Path, orders: Path) -> None:
    tiers = load_tiers(settings.tiers_file)
    upgrade(settings.database_url)
    try:
        imported = import_and_rank(
            sessions_for(settings.database_url),
            tiers=tiers,
            customers=customers,
            orders=orders,
            shift_to=None,
            today=date.today(),
        )
    except CsvImportError as error:
        raise CliError(f"{error} (nothing was imported)") from None
    _print_import(imported, tiers)


def _print_import(imported: tuple[ImportResult, TierMoves], tiers: TierConfig) -> None:
    result, moves = imported
    print(f"imported {result.customers} customers and {result.orders} orders")
    print("tiers: " + ", ".join(f"{t.id} {moves.by_tier[t.id]}" for t in tiers.tiers if moves.by_tier[t.id]))


def cmd_customers_show(settings: Settings, args: argparse.Namespace) -> None:
    tiers = load_tiers(settings.tiers_file)
    with sessions_for(settings.database_url)() as session:
        customer = session.get(Customer, args.id)
        if customer is None:
            raise CliError(f"no customer {args.id!r}")
        rfm = customer_rfm(session, customer_id=customer.id, tiers=tiers, today=date.today())
        tier = tiers.get(customer.tier)
        print(f"{customer.id}  {customer.name}")
        print(f"  phone {customer.phone or '-'}  email {customer.email or '-'}  language {customer.language}")
        print(f"  tier {customer.tier or '-'}" + (f" ({tier.label_in('en')}, {tier.policy.mode})" if tier else ""))
        recency = "-" if rfm.recency_days is None else f"{rfm.recency_days} days"
        print(
            f"  last {tiers.window_days} days: {rfm.frequency} orders, {rfm.monetary} spent, last order {recency} ago"
        )
        up = way_up(session, customer_id=customer.id, tier=tier, tiers=tiers, today=date.today())
        if up:
            above, gap = up
            print(f"  to {above.id}: {gap.orders} more orders, {gap.spend} more spend")
        print(f"  orders ({len(customer.orders)}):")
        for order in customer.orders[:10]:
            print(f"    {order.id}  {order.placed_at}  {order.amount:>10}  {order.status:<9}  {order.items}")


def cmd_tiers_recompute(settings: Settings, args: argparse.Namespace) -> None:
    tiers = load_tiers(settings.tiers_file)
    with sessions_for(settings.database_url).begin() as session:
        moves = recompute_tiers(session, tiers=tiers, today=date.today())
    print(f"{moves.up} moved up, {moves.down} moved down, {moves.unchanged} unchanged")
    for tier in tiers.tiers:
        if tier.id != tiers.guest_id:
            print(f"  {tier.id:<10} {moves.by_tier[tier.id]}")


def cmd_token(settings: Settings, args: argparse.Namespace) -> None:
    with sessions_for(settings.database_url)() as session:
        if session.get(Customer, args.id) is None:
            raise CliError(f"no customer {args.id!r}")
    print(sign_token(settings.identity_secret, args.id, args.ttl or settings.token_ttl_seconds))


def _password(args: argparse.Namespace) -> str:
    return args.password if args.password is not None else getpass.getpass(f"password for {args.username}: ")


def _agent(session: Session, username: str) -> Agent:
    agent = session.scalar(select(Agent).where(Agent.username == username, Agent.active.is_(True)))
    if agent is None:
        raise CliError(f"no agent {username!r}")
    return agent


def cmd_agents_add(settings: Settings, args: argparse.Namespace) -> None:
    password = _password(args)
    upgrade(settings.database_url)
    try:
        with sessions_for(settings.database_url).begin() as session:
            _, token = add_agent(
                session,
                username=args.username,
                display_name=args.name or args.username,
                role=args.role,
                password=password,
            )
    except AgentError as error:
        raise CliError(str(error)) from None
    print(f"{args.role} {args.username} created; API token (shown once):")
    print(token)


def cmd_agents_token(settings: Settings, args: argparse.Namespace) -> None:
    with sessions_for(settings.database_url).begin() as session:
        print(issue_token(session, _agent(session, args.username)))


def cmd_agents_password(settings: Settings, args: argparse.Namespace) -> None:
    password = _password(args)
    try:
        with sessions_for(settings.database_url).begin() as session:
            set_password(session, _agent(session, args.username), password)
    except AgentError as error:
        raise CliError(str(error)) from None
    print(f"password of {args.username} changed; their console sessions have ended")


def cmd_agents_remove(settings: Settings, args: argparse.Namespace) -> None:
    with sessions_for(settings.database_url).begin() as session:
        remove_agent(session, _agent(session, args.username))
    print(f"{args.username} removed: signed out of the console, API token revoked")


def cmd_demo_seed(settings: Settings, args: argparse.Namespace) -> None:
    upgrade(settings.database_url)
    tiers = load_tiers(settings.tiers_file)
    seeded = seed_demo(sessions_for(settings.database_url), tiers=tiers, today=date.today())
    if seeded.agents:
        print("demo agents: " + ", ".join(f"{u} / {p} ({r})" for u, _, r, p in DEMO_AGENTS))
    if seeded.imported is None:
        print("demo data: the database already has customers, nothing loaded")
    else:
        _print_import(seeded.imported, tiers)


def cmd_kb(settings: Settings, args: argparse.Namespace) -> None:
    from bot.cli import kb as kb_commands

    try:
        getattr(kb_commands, args.kb_command)(settings, args)
    except kb_commands.KbError as error:
        raise CliError(str(error)) from None


def cmd_report(settings: Settings, args: argparse.Namespace) -> None:
    import json
    from datetime import datetime

    from bot.service.analytics import build_report

    def day(option: str, text: str) -> date:
        try:
            return date.fromisoformat(text)
        except ValueError:
            raise CliError(f"{option} must be a date like 2024-03-01, not {text!r}") from None

    zone = settings.hours.zone
    since = day("--since", args.since)
    # Local, not the machine's, date: the report's days are the service time zone's.
    until = day("--until", args.until) if args.until else datetime.now(zone).date() + timedelta(days=1)
    if since >= until:
        raise CliError(f"--since {since} must be before --until {until}")
    tiers = load_tiers(settings.tiers_file)
    with sessions_for(settings.database_url)() as session:
        try:
            report = build_report(session, since=since, until=until, zone=zone, tier_order=[t.id for t in tiers.tiers])
        except ValueError as error:
            raise CliError(str(error)) from None
    print(json.dumps(report.to_dict(), ensure_ascii=False, indent=2) if args.json else report.format_text())


def cmd_run(settings: Settings, args: argparse.Namespace) -> None:
    def prepare() -> None:
        if settings.demo_mode:
            cmd_demo_seed(settings, args)
        else:
            upgrade(settings.database_url)

    run(settings, prepare)


def cmd_scale(settings: Settings, args: argparse.Namespace) -> None:
    scale(settings, settings.var_dir / "scale", args.replicas)


def cmd_serve(settings: Settings, args: argparse.Namespace) -> None:
    serve(settings, args.kind)


# Only these use a secret: every other command runs with none set.
SECRET_COMMANDS = frozenset({cmd_token, cmd_run, cmd_scale, cmd_serve})


def _display_url(url: str) -> str:
    scheme, sep, rest = url.partition("://")
    if "@" in rest:
        rest = "***@" + rest.split("@", 1)[1]
    return scheme + sep + rest


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="bot", description="Operate the tiered customer-service bot.")
    sub = parser.add_subparsers(dest="group", required=True)

    db = sub.add_parser("db", help="the business database").add_subparsers(dest="command", required=True)
    db.add_parser("init", help="create or upgrade the schema").set_defaults(func=cmd_db_init)
    rev = db.add_parser("revision", help="write a migration for changed models")
    rev.add_argument("-m", "--message", required=True)
    rev.set_defaults(func=cmd_db_revision)

    customers = sub.add_parser("customers", help="customers and orders").add_subparsers(dest="command", required=True)
    imp = customers.add_parser("import", help="import customers.csv and orders.csv in one transaction")
    imp.add_argument("customers", type=Path)
    imp.add_argument("orders", type=Path)
    imp.set_defaults(func=cmd_customers_import)
    show = customers.add_parser("show", help="show one customer")
    show.add_argument("id")
    show.set_defaults(func=cmd_customers_show)

    tiers = sub.add_parser("tiers", help="customer tiers").add_subparsers(dest="command", required=True)
    tiers.add_parser("recompute", help="recompute every customer's tier").set_defaults(func=cmd_tiers_recompute)

    token = sub.add_parser("token", help="print a signed widget token for a customer")
    token.add_argument("id")
    token.add_argument("--ttl", type=int, help="seconds until it expires (default TOKEN_TTL_SECONDS)")
    token.set_defaults(func=cmd_token)

    agents = sub.add_parser("agents", help="agents and supervisors").add_subparsers(dest="command", required=True)
    add = agents.add_parser("add", help="create an agent and print their API token")
    add.add_argument("username")
    add.add_argument("--name", help="the name customers see (default: the username)")
    add.add_argument("--role", choices=ROLES, default="agent")
    add.add_argument("--password", help="asked for when not given")
    add.set_defaults(func=cmd_agents_add)
    new_token = agents.add_parser("token", help="issue a new API token; the old one stops working")
    new_token.add_argument("username")
    new_token.set_defaults(func=cmd_agents_token)
    new_password = agents.add_parser("password", help="set a new password; the agent's console sessions end")
    new_password.add_argument("username")
    new_password.add_argument("--password", help="asked for when not given")
    new_password.set_defaults(func=cmd_agents_password)
    remove = agents.add_parser("remove", help="deactivate an agent: console sessions and API token stop working")
    remove.add_argument("username")
    remove.set_defaults(func=cmd_agents_remove)

    kb = sub.add_parser("kb", help="the knowledge base").add_subparsers(dest="command", required=True)
    kb_build = kb.add_parser("build", help="build the index from the sources (default KB_SOURCES)")
    kb_build.add_argument("sources", nargs="*")
    kb_build.set_defaults(func=cmd_kb, kb_command="build")
    kb_search = kb.add_parser("search", help="search the current index")
    kb_search.add_argument("question")
    kb_search.add_argument("--lang", choices=["zh", "en"], default="en", help="language of the answers shown")
    kb_search.add_argument("--k", type=int, default=5)
    kb_search.add_argument("--tier", help="search as a customer of this tier sees it")
    kb_search.set_defaults(func=cmd_kb, kb_command="search")
    kb_eval = kb.add_parser("eval", help="measure retrieval on labelled queries with a temporary index")
    kb_eval.add_argument("--kb", nargs="+", required=True, help="knowledge-base source files")
    kb_eval.add_argument("--queries", required=True, help='JSONL of {"query", "faq_id", "lang"}')
    kb_eval.add_argument("--json", action="store_true", help="print one JSON object")
    kb_eval.set_defaults(func=cmd_kb, kb_command="eval_")

    report = sub.add_parser("report", help="deflection, escalation, waits, satisfaction and SLA per tier and day")
    report.add_argument("--since", required=True, help="first local date, YYYY-MM-DD")
    report.add_argument("--until", help="local date after the last one (default: tomorrow, so today is in)")
    report.add_argument("--json", action="store_true", help="print one JSON object")
    report.set_defaults(func=cmd_report)

    demo = sub.add_parser("demo", help="demo data").add_subparsers(dest="command", required=True)
    demo.add_parser("seed", help="load data/demo and the demo agents into an empty database").set_defaults(
        func=cmd_demo_seed
    )

    sub.add_parser("run", help="start every process and print the URLs").set_defaults(func=cmd_run)
    scaled = sub.add_parser(
        "scale", help="the scaled topology on this machine behind HAProxy, until stopped (data in BOT_VAR_DIR/scale)"
    )
    scaled.add_argument("--replicas", type=int, choices=[1, 2], default=2, help="of each process (default 2)")
    scaled.set_defaults(func=cmd_scale)
    served = sub.add_parser("serve", help="run one process in the foreground, its log on stdout")
    served.add_argument("kind", choices=sorted(KINDS))
    served.set_defaults(func=cmd_serve)
    return parser


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    args = build_parser().parse_args(argv)
    try:
        args.func(load_settings(secrets=args.func in SECRET_COMMANDS), args)
    except (CliError, ConfigError, TierConfigError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0
