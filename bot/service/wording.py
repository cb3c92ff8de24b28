"""The one key under which customers' wordings of a question are counted together."""

from __future__ import annotations

import re
import unicodedata

__all__ = ["normalize_question"]

_WORD = re.compile(r"\w+")


def normalize_question(question: str) -> str:
    """Wordings that differ only in case, width, spacing or punctuation share it:
    "Can I  pay by card?" and "can i pay by card" are "can i pay by card"."""
    return " ".join(_WORD.findall(unicodedata.normalize("NFKC", question).casefold()))
