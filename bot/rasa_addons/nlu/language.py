"""Which language a customer writes in, for the NLU's language entity.

Standard library only: the tests' Python checks the training data with it too.
"""

from __future__ import annotations

import re

__all__ = ["LANGUAGES", "detect_language"]

LANGUAGES = ("zh", "en")

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_LATIN = re.compile(r"[A-Za-z]")


def detect_language(text: str) -> str | None:
    """``zh`` if the text has any Chinese character, ``en`` if it has Latin letters.

    Mixed messages ("我的order在哪") count as Chinese, the way such customers read
    replies. Text with neither (digits, emoji) says nothing, so callers keep the
    language they had.
    """
    if _CJK.search(text):
        return "zh"
    if _LATIN.search(text):
        return "en"
    return None
