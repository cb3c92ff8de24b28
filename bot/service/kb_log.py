"""What the knowledge base could not answer, and what customers said of its answers."""

from __future__ import annotations

from sqlalchemy.orm import Session

from bot.db.models import KbAnswer, KbFeedback, KbGap

__all__ = ["record_answer", "record_feedback", "record_gap"]

MAX_QUESTION = 2000


def record_gap(
    session: Session,
    *,
    sender_id: str,
    customer_id: str | None,
    tier: str,
    language: str,
    question: str,
    best_score: float | None,
) -> KbGap:
    gap = KbGap(
        sender_id=sender_id,
        customer_id=customer_id,
        tier=tier,
        language=language,
        question=question[:MAX_QUESTION],
        best_score=best_score,
    )
    session.add(gap)
    return gap


def record_answer(
    session: Session,
    *,
    entry_id: str,
    sender_id: str,
    tier: str,
    language: str,
    question: str,
    confidence: float | None,
) -> KbAnswer:
    answer = KbAnswer(
        entry_id=entry_id,
        sender_id=sender_id,
        tier=tier,
        language=language,
        question=question[:MAX_QUESTION],
        confidence=confidence,
    )
    session.add(answer)
    return answer


def record_feedback(
    session: Session,
    *,
    entry_id: str,
    helpful: bool,
    sender_id: str,
    customer_id: str | None,
    tier: str,
    language: str,
    question: str,
    score: float | None,
) -> KbFeedback:
    feedback = KbFeedback(
        entry_id=entry_id,
        helpful=helpful,
        sender_id=sender_id,
        customer_id=customer_id,
        tier=tier,
        language=language,
        question=question[:MAX_QUESTION],
        score=score,
    )
    session.add(feedback)
    return feedback
