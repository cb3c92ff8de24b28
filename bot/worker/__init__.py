"""The background process: delivery to customers, handoff expiry, the escalation webhook.

It runs apart from the console so that an agent's request only stores what the
agent did and returns, however slow Rasa or the webhook is. Each job is a small
function over a database session (``loop.Job``). Several workers may run on one
database, each thing done once: on PostgreSQL they claim rows (``FOR UPDATE SKIP
LOCKED``: delivery.py, bot/service/handoffs.py's expiry, the webhook's record), on
SQLite they take turns (turns.py).
"""

__all__ = ["READY"]

# What the worker logs once it runs; `bot run` waits for it, since the worker has no port to answer on.
READY = "worker ready"
