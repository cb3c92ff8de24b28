"""The tables the run prints: load at each number of replicas, then the chaos run's verdict."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from bench.chaos.checks import Findings

__all__ = ["Load", "chaos_table", "load_table"]


@dataclass(frozen=True)
class Load:
    """Answered messages of one run: how many a second, and how long customers waited for the reply."""

    replicas: int
    chaos: bool
    seconds: float
    answered: int
    p50_ms: float
    p95_ms: float

    @property
    def per_second(self) -> float:
        return self.answered / self.seconds if self.seconds else 0.0


def _table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---:" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def load_table(loads: Sequence[Load]) -> str:
    return _table(
        ("replicas of each kind", "kills", "seconds", "messages answered", "messages/s", "p50 ms", "p95 ms"),
        [
            (
                load.replicas,
                "yes" if load.chaos else "no",
                f"{load.seconds:.0f}",
                load.answered,
                f"{load.per_second:.1f}",
                f"{load.p50_ms:.0f}",
                f"{load.p95_ms:.0f}",
            )
            for load in loads
        ],
    )


def chaos_table(findings: Findings, kills: Mapping[str, int], restarted: Mapping[str, int]) -> str:
    verdict = _table(
        ("what", "count"),
        [
            ("customers (conversations)", findings.customers),
            ("customer messages", findings.messages),
            ("still in flight at the end (not counted)", findings.unfinished),
            ("lost", findings.lost),
            ("duplicated", findings.duplicated),
            ("out of order", findings.out_of_order),
            ("escalations to an agent (reached one)", f"{findings.escalations} ({findings.reached_agent})"),
            ("agent messages", findings.agent_messages),
            ("agent messages lost", findings.agent_lost),
            ("agent messages duplicated", findings.agent_duplicated),
            ("agent messages out of order", findings.agent_out_of_order),
            ("WeChat retries", findings.wechat_retries),
            (
                "requests sent again after a failure",
                ", ".join(f"{channel} {count}" for channel, count in sorted(findings.retried.items())) or "0",
            ),
            ("socket.io customers who never connected", findings.unconnected),
            ("trackers with interleaved turns", findings.interleaved),
        ],
    )
    survived = _table(
        ("replica killed -9", "kills", "restarted healthy"),
        [(kind, kills[kind], restarted.get(kind, 0)) for kind in kills],
    )
    return verdict + "\n\n" + survived
