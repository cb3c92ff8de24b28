"""The action server: rasa-sdk's, with the knowledge base loaded before it serves.

``python -m actions.server`` answers its health check only once the index and
the embedding model are in memory, so the first question is as fast as the rest.
"""

from __future__ import annotations

import logging

from rasa_sdk.endpoint import create_app
from rasa_sdk.executor import ActionExecutor

from actions import runtime

logger = logging.getLogger(__name__)


async def _load_knowledge_base(app: object, loop: object) -> None:
    searcher = runtime.knowledge_base().searcher()
    if searcher is None:
        logger.warning("no knowledge base built in %s: questions will go unanswered", runtime.settings().kb_dir)
        return
    searcher.search("warm-up")


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings = runtime.settings()
    executor = ActionExecutor()
    executor.register_package("actions")
    app = create_app(executor)
    app.register_listener(_load_knowledge_base, "before_server_start")
    app.run(host=settings.host, port=settings.action_port, workers=1, legacy=True, access_log=False)


if __name__ == "__main__":
    main()
