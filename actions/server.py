"""The action server: rasa-sdk's, for the Rasa server alone, with the knowledge base loaded
before it serves.

The actions act for whichever customer the tracker they are sent names, so only
the Rasa server may call them: every call but the health check must carry
``Authorization: Bearer <ACTION_TOKEN>`` (endpoints.yml sends it), and no
browser is let in by CORS. Actions run in worker threads, so that their
database work never holds up other customers' turns on the event loop.

``python -m actions.server`` answers its health check only once the index and
the embedding model are in memory, so the first question is as fast as the rest.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
from typing import Any

from rasa_sdk.endpoint import create_app
from rasa_sdk.executor import ActionExecutor
from sanic import Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

from actions import runtime

logger = logging.getLogger(__name__)


class ThreadedExecutor(ActionExecutor):
    """Runs each action on an event loop of its own, in a worker thread."""

    async def run(self, action_call: dict[str, Any]) -> Any:
        return await asyncio.to_thread(asyncio.run, super().run(action_call))


async def _load_knowledge_base(app: object, loop: object) -> None:
    searcher = runtime.knowledge_base().searcher()
    if searcher is None:
        logger.warning("no knowledge base built in %s: questions will go unanswered", runtime.settings().kb_dir)
        return
    searcher.search("warm-up")


def app(token: str) -> Sanic:
    """rasa-sdk's app, behind the Rasa server's bearer token."""
    executor = ThreadedExecutor()
    executor.register_package("actions")
    sanic = create_app(executor, cors_origins=None)
    expected = f"Bearer {token}".encode()

    @sanic.on_request
    async def authenticate(request: Request) -> HTTPResponse | None:
        if request.path == "/health":
            return None
        given = request.headers.get("Authorization", "").encode()
        if not hmac.compare_digest(given, expected):
            return response.json({"error": "missing or wrong action server token"}, status=401)
        return None

    return sanic


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings = runtime.settings()
    server = app(settings.action_token)
    server.register_listener(_load_knowledge_base, "before_server_start")
    server.run(host=settings.host, port=settings.action_port, workers=1, legacy=True, access_log=False)


if __name__ == "__main__":
    main()
