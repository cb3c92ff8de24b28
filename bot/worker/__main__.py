"""``python -m bot.worker``: the background process ``bot run`` starts.

Twice a second it turns the handoffs nobody took into tickets, delivers what is
pending to Rasa, and announces new escalations; hourly it forgets the channels'
record of messages taken a day ago. SIGTERM or SIGINT stops it once
the job in progress is done; SIGUSR1 starts the next pass at once.
"""

from __future__ import annotations

import functools
import logging
import signal
import threading
from datetime import timedelta

import httpx

from bot.db.session import sessions_for
from bot.service.tiers import TierConfig, load_tiers
from bot.settings import Settings, load_settings
from bot.worker import READY
from bot.worker.delivery import Delivery
from bot.worker.expiry import expire
from bot.worker.loop import Job, Loop
from bot.worker.pruning import Pruning
from bot.worker.turns import turn_for
from bot.worker.webhook import EscalationWebhook

__all__ = ["jobs", "main"]

logger = logging.getLogger("bot.worker")

# How soon a message an agent stored is sent: the console does not tell the worker.
POLL_SECONDS = 0.5


def jobs(settings: Settings, tiers: TierConfig, http: httpx.Client) -> dict[str, Job]:
    """The jobs the settings ask for, in the order a pass runs them."""
    found: dict[str, Job] = {}
    if settings.handoff_timeout_minutes > 0:
        timeout = timedelta(minutes=settings.handoff_timeout_minutes)
        # Before delivery, so the customer hears of the ticket in the same pass.
        found["handoff expiry"] = functools.partial(expire, timeout=timeout, tiers=tiers)
    found["delivery"] = Delivery(
        http, rasa_url=settings.rasa_url, rasa_token=settings.rasa_token, retry_after=settings.delivery_interval_seconds
    )
    found["pruning"] = Pruning()
    if settings.escalation_webhook_url:
        found["escalation webhook"] = EscalationWebhook(
            http, url=settings.escalation_webhook_url, console_url=f"http://{settings.host}:{settings.console_port}"
        )
    return found


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # httpx logs each request's URL at INFO, and Rasa's token travels in it.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    settings = load_settings()
    with httpx.Client(timeout=30) as http:
        tiers = load_tiers(settings.tiers_file)
        loop = Loop(
            sessions_for(settings.database_url),
            jobs(settings, tiers, http),
            POLL_SECONDS,
            turn=turn_for(settings.database_url),
        )
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: loop.stop())
        signal.signal(signal.SIGUSR1, lambda *_: loop.wake())
        # The loop runs in a thread of its own: a handler runs in the main thread, and must not
        # interrupt the loop while it holds the lock the handler takes.
        thread = threading.Thread(target=loop.run, name="worker-loop")
        thread.start()
        logger.info("%s: %s, every %ss", READY, " + ".join(loop.jobs), POLL_SECONDS)
        thread.join()
    logger.info("stopped")


if __name__ == "__main__":
    main()
