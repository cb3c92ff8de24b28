"""``bot serve KIND``: one of the product's processes in the foreground, for a service manager.

It becomes the very command ``bot run`` starts for that process (``processes.py``), with
every setting from the environment, so a systemd unit or a container runs what the tests
run. Its log goes to standard output, where the service manager keeps it.
"""

from __future__ import annotations

import os
from typing import NoReturn

from bot.cli.processes import processes
from bot.settings import Settings

__all__ = ["KINDS", "serve"]

# The names `bot serve` takes, and the processes they are.
KINDS = {"rasa": "Rasa server", "actions": "action server", "console": "console", "worker": "worker"}


def serve(settings: Settings, kind: str) -> NoReturn:
    [process] = [p for p in processes(settings, settings.var_dir / "logs") if p.name == KINDS[kind]]
    os.chdir(process.cwd)
    os.execve(process.args[0], process.args, {**os.environ, **process.env})
