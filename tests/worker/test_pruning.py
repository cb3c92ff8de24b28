from datetime import timedelta

from bot.clock import utcnow
from bot.db.models import ChannelMessageSeen
from bot.db.session import sessions_for
from bot.worker.pruning import Pruning


def test_messages_seen_a_day_ago_are_forgotten_at_most_once_an_hour(db_url):
    sessions = sessions_for(db_url)
    now = utcnow()
    with sessions.begin() as session:
        session.add(ChannelMessageSeen(key="old", seen_at=now - timedelta(days=1, minutes=1)))
        session.add(ChannelMessageSeen(key="recent", seen_at=now - timedelta(hours=23)))
    pruning = Pruning()
    with sessions() as session:
        assert pruning(session) == 1
    with sessions.begin() as session:
        session.add(ChannelMessageSeen(key="old again", seen_at=now - timedelta(days=2)))
    with sessions() as session:
        assert pruning(session) == 0  # within the hour: not yet
        assert {row.key for row in session.query(ChannelMessageSeen)} == {"recent", "old again"}
