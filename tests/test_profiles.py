from datetime import date

from bot.db.models import ChannelIdentity
from bot.service.customers import recompute_tiers
from bot.service.profiles import identify
from bot.tokens import sign_token
from tests.conftest import SECRET
from tests.factories import add_customer


def who(session, tiers, metadata):
    return identify(session, metadata=metadata, secret=SECRET, tiers=tiers, today=date.today())


def test_a_signed_token_identifies_the_customer_and_their_tier(session, tiers):
    add_customer(session, "G1", name="Grace", orders=9, spend=9000, days_ago=3)
    recompute_tiers(session, tiers=tiers, today=date.today())
    profile = who(session, tiers, {"token": sign_token(SECRET, "G1", 60)})
    assert (profile.customer_id, profile.name, profile.tier.id) == ("G1", "Grace", "gold")
    assert profile.slots()["tier_policy"]["mode"] == "human_first"


def test_a_customer_whose_tier_was_never_computed_gets_the_one_their_orders_earn(session, tiers):
    add_customer(session, "B1", name="Bo", orders=2, spend=600)
    assert who(session, tiers, {"token": sign_token(SECRET, "B1", 60)}).tier.id == "bronze"


def test_without_proof_everyone_is_a_guest(session, tiers):
    add_customer(session, "G1", name="Grace", orders=9, spend=9000, tier="gold")
    for metadata in (
        None,
        {},
        {"token": "garbage"},
        {"token": sign_token("wrong secret", "G1", 60)},
        {"token": sign_token(SECRET, "G1", -1)},
        {"token": sign_token(SECRET, "nobody", 60)},
        {"customer_id": "G1", "tier": "vip"},
        "not a dict",
    ):
        profile = who(session, tiers, metadata)
        assert profile.is_guest and profile.tier.id == tiers.guest_id, metadata


def test_a_channel_user_bound_to_a_customer_is_that_customer(session, tiers):
    add_customer(session, "S1", name="Sam", orders=4, spend=2500, tier="silver")
    session.add(ChannelIdentity(channel="wechat", channel_user_id="oOPENID1", customer_id="S1"))
    session.flush()
    bound = who(session, tiers, {"channel_token": sign_token(SECRET, "wechat:oOPENID1", 60, kind="channel")})
    assert bound.customer_id == "S1" and bound.tier.id == "silver"
    unbound = who(session, tiers, {"channel_token": sign_token(SECRET, "wechat:oOTHER", 60, kind="channel")})
    assert unbound.is_guest
    # A customer token cannot pass as a channel identity, nor the reverse.
    assert who(session, tiers, {"channel_token": sign_token(SECRET, "wechat:oOPENID1", 60)}).is_guest
    assert who(session, tiers, {"token": sign_token(SECRET, "S1", 60, kind="channel")}).is_guest


def test_recompute_reports_moves_up_and_down(session, tiers):
    add_customer(session, "U1", name="Up", orders=9, spend=9000, tier="normal")
    add_customer(session, "D1", name="Down", orders=1, spend=50, tier="vip")
    add_customer(session, "S1", name="Same", orders=0, tier="normal")
    moves = recompute_tiers(session, tiers=tiers, today=date.today())
    assert (moves.up, moves.down, moves.unchanged) == (1, 1, 1)
    assert moves.by_tier == {"gold": 1, "normal": 2}
