"""Rasa's SQL tracker store, with SQLite's commits made cheap enough for a chat turn.

Rasa saves the conversation once a turn, in a transaction of its own. SQLite's
default rollback journal waits for the disk several times a commit: about 20 ms
of every turn here, more than the whole dialogue model. In WAL mode with
``synchronous=NORMAL`` a commit writes to the log without waiting; the database
stays consistent through any crash, and only a power cut may lose the last turns
saved. On PostgreSQL this is Rasa's store unchanged.

endpoints.yml names it: ``type: bot.rasa_addons.tracker_store.SQLTrackerStore``.
This module runs inside the Rasa server: it imports only what ``.venv-rasa`` has.
"""

from __future__ import annotations

from typing import Any

from rasa.core import tracker_store
from sqlalchemy import create_engine, event
from sqlalchemy.orm import sessionmaker
from sqlalchemy.pool import QueuePool

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
