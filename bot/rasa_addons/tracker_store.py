"""Rasa's SQL tracker store, with SQLite's commits made cheap enough for a chat turn.

Rasa saves the conversation once a turn, in a transaction of its own. SQLite's
default rollback journal waits for the disk several times a commit: about 20 ms
of every turn here, more than the whole dialogue model. In WAL mode with
``synchronous=NORMAL`` a commit writes to the log without waiting; the database
stays consistent through any crash, and only a power cut may lose the last turns
saved.

A message is stored without the question's vector the NLU puts in its parse data for
the knowledge-base search of its own turn (``bot/rasa_addons/nlu/e5_featurizer.py``):
2 KB a message that no later turn reads, and that Rasa would otherwise send to the
action server in the whole conversation with every action call. The turn that made it
still has it: Rasa keeps the turn's conversation in memory, and reads it from the store
again only at the next message. Dropping it here, where events are written, covers
SQLite and PostgreSQL alike.

endpoints.yml names it: ``type: bot.rasa_addons.tracker_store.SQLTrackerStore``.
This module runs inside the Rasa server: it imports only what ``.venv-rasa`` has.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

from rasa.core import tracker_store
from rasa.shared.core.events import Event, UserUttered
from sqlalchemy import create_engine, event
from sqlalchemy.orm import sessionmaker
from sqlalchemy.pool import QueuePool

from bot.rasa_addons.nlu.e5_featurizer import QUERY_VECTOR

__all__ = ["SQLTrackerStore"]


def _fast_commits(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # Several processes read one file (Rasa replicas, the console's transcripts): wait, don't fail.
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


class SQLTrackerStore(tracker_store.SQLTrackerStore):
    engine: Any

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.engine.dialect.name != "sqlite":
            return
        # Rasa's engine opens and closes a connection per transaction on SQLite (NullPool), and
        # closing the last one folds the log back into the file, waiting for the disk: keep them open.
        # The pool lends each connection to one caller at a time, whichever thread it opened on.
        url = self.engine.url
        self.engine.dispose()
        self.engine = create_engine(url, poolclass=QueuePool, connect_args={"check_same_thread": False})
        event.listen(self.engine, "connect", _fast_commits)
        self.sessionmaker = sessionmaker(bind=self.engine)

    def _additional_events(self, session: Any, tracker: Any) -> Iterator[Event]:
        """The events :meth:`save` writes: those the store does not have yet, as they are stored."""
        for item in super()._additional_events(session, tracker):
            yield _as_stored(item)


def _as_stored(item: Event) -> Event:
    """A copy of a message without its query vector; any other event as it is.
    A copy, because the turn's actions still read the message itself."""
    if not isinstance(item, UserUttered) or QUERY_VECTOR not in item.parse_data:
        return item
    stored = copy.copy(item)
    stored.parse_data = {key: value for key, value in item.parse_data.items() if key != QUERY_VECTOR}
    return stored
