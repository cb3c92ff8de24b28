"""Kills ``-9`` one replica of each kind in turn, at seeded random intervals, and restarts it."""

from __future__ import annotations

import random
import threading
import time
from dataclasses import dataclass, field

from bot.cli.scale import Topology

__all__ = ["KINDS", "Chaos"]

KINDS = ("Rasa server", "action server", "console", "worker")


@dataclass
class Chaos:
    topology: Topology
    rng: random.Random
    stop: threading.Event
    interval: tuple[float, float] = (4.0, 12.0)
    down: tuple[float, float] = (2.0, 5.0)
    kills: dict[str, int] = field(default_factory=lambda: dict.fromkeys(KINDS, 0))
    restarted: dict[str, int] = field(default_factory=lambda: dict.fromkeys(KINDS, 0))
    failures: list[str] = field(default_factory=list)

    def run(self) -> None:
        turn = 0
        while not self.stop.wait(self.rng.uniform(*self.interval)):
            kind = KINDS[turn % len(KINDS)]
            turn += 1
            process = self.rng.choice(self.topology.replicas[kind])
            self.topology.kill(process)
            self.kills[kind] += 1
            time.sleep(self.rng.uniform(*self.down))
            try:
                self.topology.restart(process)
            except Exception as error:  # reported with the figures; the run goes on with one fewer replica
                self.failures.append(f"{kind} did not come back: {error}")
            else:
                self.restarted[kind] += 1
