"""One turn at a time per conversation, across every Rasa replica.

Rasa runs a conversation's turns one at a time behind its lock store. Its
in-memory store holds within one process only, and its Redis store is no safer
across replicas: it reads, changes and writes back one JSON value per
conversation, so two replicas can both take the lock (RasaHQ/rasa#9213).

With a Redis URL, each conversation here has a redis-py ``Lock``: a key set only
if absent, with an expiry, released only by the token that took it. While a turn
runs, a thread renews the expiry every third of it, so a turn longer than the
expiry still keeps the conversation to itself, and the locks of a replica that
dies expire (``expiry_seconds``). The renewing is a thread's job because Rasa's
NLU and policies hold the event loop while they compute.

Within one replica a conversation's messages line up in the order they came (an
asyncio lock wakes its waiters first come, first served), and only the first of
them asks Redis for the lock, every ``poll_seconds``. A message still waiting
after Rasa's lock lifetime (60 s, ``TICKET_LOCK_LIFETIME``) fails with Rasa's
``LockError``, as with Rasa's own stores.

Without a URL this is Rasa's in-memory store: one replica, of one Sanic worker
(Rasa allows several to any lock store endpoints.yml names, so this one refuses them).

endpoints.yml names it (``type: bot.rasa_addons.lock_store.ConversationLockStore``,
``url: ${REDIS_URL}``). This module runs inside the Rasa server: it imports only
what ``.venv-rasa`` has.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import redis
import redis.asyncio
from rasa.constants import ENV_SANIC_WORKERS
from rasa.core.lock_store import LOCK_LIFETIME, InMemoryLockStore, LockError
from rasa.shared.exceptions import RasaException
from rasa.utils.endpoints import EndpointConfig
from redis.exceptions import LockError as RedisLockError
from redis.exceptions import RedisError

__all__ = ["ConversationLockStore"]

logger = logging.getLogger(__name__)

# A replica that dies holds its conversations this long; a live one renews its locks every third of it.
EXPIRY_SECONDS = 10.0
POLL_SECONDS = 0.05
KEY_PREFIX = "conversation-lock:"
# A Redis that stops answering fails the turn instead of holding it forever.
SOCKET_TIMEOUT_SECONDS = 10


def _positive(config: EndpointConfig, key: str, default: float) -> float:
    value = config.kwargs.get(key, default)
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = 0.0
    if number <= 0:
        raise RasaException(f"lock_store's {key} in endpoints.yml must be a positive number of seconds, not {value!r}")
    return number


class _Renewer:
    """Renews the expiry of the locks this process holds, from a thread of its own."""

    def __init__(self, client: redis.Redis, expiry: float) -> None:
        self._client = client
        self._expiry = expiry
        self._held: dict[str, Any] = {}
        self._guard = threading.Lock()
        self._thread: threading.Thread | None = None

    def hold(self, key: str, token: str) -> None:
        # The token the turn took the lock with: only its holder may renew it.
        lock = self._client.lock(key, timeout=self._expiry, thread_local=False)
        lock.local.token = token
        with self._guard:
            self._held[key] = lock
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="conversation-lock-renewer", daemon=True)
                self._thread.start()

    def drop(self, key: str) -> None:
        with self._guard:
            self._held.pop(key, None)

    def _still_held(self, key: str, lock: Any) -> bool:
        with self._guard:
            return self._held.get(key) is lock

    def _run(self) -> None:
        while True:
            time.sleep(self._expiry / 3)
            with self._guard:
                held = list(self._held.items())
            for key, lock in held:
                try:
                    lock.reacquire()
                except RedisLockError:
                    # Released meanwhile is fine; lost while the turn still runs is not.
                    if self._still_held(key, lock):
                        logger.error("%s expired while its turn ran: another turn may have started", key)
                except RedisError as error:
                    logger.warning("could not renew %s (tried again in %.1f s): %s", key, self._expiry / 3, error)


@dataclass
class _Line:
    """A conversation's messages waiting in this process, in the order they came."""

    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    waiting: int = 0


class ConversationLockStore(InMemoryLockStore):
    def __init__(self, endpoint_config: EndpointConfig | None = None) -> None:
        super().__init__()
        config = endpoint_config or EndpointConfig()
        self.url: str = config.url or ""
        self.expiry_seconds = _positive(config, "expiry_seconds", EXPIRY_SECONDS)
        self.poll_seconds = _positive(config, "poll_seconds", POLL_SECONDS)
        self.key_prefix = str(config.kwargs.get("key_prefix") or KEY_PREFIX)
        self._lines: dict[str, _Line] = {}
        if not self.url and os.environ.get(ENV_SANIC_WORKERS, "1").strip() not in ("", "1"):
            raise RasaException(f"{ENV_SANIC_WORKERS} above 1 shares conversations between processes: set REDIS_URL")
        if self.url:
            options: dict[str, Any] = {"socket_timeout": SOCKET_TIMEOUT_SECONDS}
            self._redis = redis.asyncio.Redis.from_url(self.url, **options)
            self._renewer = _Renewer(redis.Redis.from_url(self.url, **options), self.expiry_seconds)

    @asynccontextmanager
    async def lock(
        self, conversation_id: str, lock_lifetime: float = LOCK_LIFETIME, wait_time_in_seconds: float = 1
    ) -> AsyncIterator[Any]:
        """Hold ``conversation_id`` for one turn; give up with ``LockError`` after waiting ``lock_lifetime``.

        ``wait_time_in_seconds`` is Rasa's pause between tries of its in-memory store, used only
        without Redis; with it, the store's ``poll_seconds`` (a full second would delay replies).
        """
        if not self.url:
            async with super().lock(conversation_id, lock_lifetime, wait_time_in_seconds) as ticket_lock:
                yield ticket_lock
            return
        deadline = time.monotonic() + lock_lifetime
        async with self._first_in_line(conversation_id, lock_lifetime):
            key = self.key_prefix + conversation_id
            token = uuid.uuid4().hex
            redis_lock = self._redis.lock(key, timeout=self.expiry_seconds, sleep=self.poll_seconds)
            try:
                acquired = await redis_lock.acquire(blocking_timeout=max(deadline - time.monotonic(), 0), token=token)
            except RedisError as error:
                raise LockError(
                    f"could not reach the lock store for conversation '{conversation_id}': {error}"
                ) from error
            if not acquired:
                raise LockError(f"conversation '{conversation_id}' stayed locked for {lock_lifetime:.0f} s")
            self._renewer.hold(key, token)
            try:
                yield None
            finally:
                self._renewer.drop(key)
                try:
                    await redis_lock.release()
                except RedisLockError:
                    logger.error("%s had expired before its turn ended: another turn may have run with it", key)
                except RedisError as error:
                    logger.warning("could not release %s (it expires in %.0f s): %s", key, self.expiry_seconds, error)

    @asynccontextmanager
    async def _first_in_line(self, conversation_id: str, timeout: float) -> AsyncIterator[None]:
        line = self._lines.setdefault(conversation_id, _Line())
        line.waiting += 1
        try:
            try:
                await asyncio.wait_for(line.lock.acquire(), timeout)
            except asyncio.TimeoutError:
                raise LockError(
                    f"conversation '{conversation_id}' had messages ahead of this one for {timeout:.0f} s"
                ) from None
            try:
                yield
            finally:
                line.lock.release()
        finally:
            line.waiting -= 1
            if not line.waiting:
                del self._lines[conversation_id]
