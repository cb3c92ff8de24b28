"""The worker's loop: every job in turn, again and again, until stopped."""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable, Mapping

from sqlalchemy.orm import Session, sessionmaker

from bot.worker.turns import Turn

__all__ = ["Job", "Loop"]

logger = logging.getLogger(__name__)

# A job does one pass of its work in the session it is given, commits what it did, and
# returns how many things it did.
Job = Callable[[Session], int]


class Loop:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        jobs: Mapping[str, Job],
        interval: float,
        turn: Turn = contextlib.nullcontext,
    ) -> None:
        self.sessions = sessions
        self.jobs = jobs
        self.interval = interval
        self.turn = turn
        self._wake = threading.Event()
        self._stopping = False

    def run_once(self) -> None:
        with self.turn():
            self._pass()

    def _pass(self) -> None:
        for name, job in self.jobs.items():
            try:
                with self.sessions() as session:
                    done = job(session)
            except Exception:
                # One job's failure (a bug, the database away) must hold up neither the others nor the next pass.
                logger.exception("%s failed; it runs again on the next pass", name)
                continue
            if done:
                logger.info("%s: %d", name, done)

    def run(self) -> None:
        while not self._stopping:
            self.run_once()
            self._wake.wait(self.interval)
            self._wake.clear()

    def wake(self) -> None:
        """Starts the next pass now rather than after the interval."""
        self._wake.set()

    def stop(self) -> None:
        """Ends the loop once the job in progress is done."""
        self._stopping = True
        self._wake.set()
