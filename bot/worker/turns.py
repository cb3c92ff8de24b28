"""Workers on one SQLite database take turns; on PostgreSQL they share the work by claiming rows.

SQLite has no row locks to claim with (``FOR UPDATE`` is not in its SQL), so there a
pass holds an exclusive lock on a file beside the database and a second worker's pass
waits for it: one writer at a time, each seeing all the first one did. Only the
workers take it, so the console and the action server write as before. The kernel
drops the lock when its process dies, so a killed worker holds up no other.
"""

from __future__ import annotations

import contextlib
import fcntl
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path

from sqlalchemy.engine import make_url

__all__ = ["Turn", "turn_for"]

# Entered around each pass of the loop.
Turn = Callable[[], AbstractContextManager[object]]


def turn_for(database_url: str) -> Turn:
    """What a pass holds on ``database_url``: a file lock on SQLite, nothing elsewhere."""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return contextlib.nullcontext
    lock_path = Path(f"{url.database}.worker-lock")
    return lambda: _holding(lock_path)


@contextlib.contextmanager
def _holding(path: Path) -> Iterator[None]:
    with path.open("a") as file:
        fcntl.flock(file, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(file, fcntl.LOCK_UN)
