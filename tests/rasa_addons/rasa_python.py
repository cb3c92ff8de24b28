"""Runs a script on Rasa's Python (.venv-rasa) for the tests of the Rasa side.

bot.rasa_addons runs inside the Rasa server, on Python 3.10 with Rasa installed; the tests
run on this project's Python, which has no Rasa. What needs Rasa runs in a child on
``.venv-rasa`` instead, with the interpreter and the environment the Rasa server has
(bot.cli.processes), so every such test starts it the same way.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import IO

from bot.cli.processes import RASA_ENV, RASA_PYTHON
from bot.settings import ROOT


def _env(variables: dict[str, str]) -> dict[str, str]:
    # Our modules come from the checkout: .venv-rasa has only Rasa's libraries installed.
    return {**os.environ, **RASA_ENV, "PYTHONPATH": str(ROOT), **variables}


def run_in_rasa(script: str, *args: str, **variables: str) -> subprocess.CompletedProcess[str]:
    """Runs the Python source ``script`` with ``args`` and the environment ``variables`` besides;
    fails the test, with the end of what it wrote to stderr, unless it succeeds."""
    result = subprocess.run(
        [str(RASA_PYTHON), "-c", script, *args],
        cwd=ROOT,
        env=_env(variables),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result


def start_in_rasa(script: Path, *args: str, stderr: IO[str], **variables: str) -> subprocess.Popen[str]:
    """Starts the file ``script`` with ``args`` and the environment ``variables`` besides, to be
    talked to in lines of text on its stdin and stdout; it writes its errors to ``stderr``."""
    return subprocess.Popen(
        [str(RASA_PYTHON), str(script), *args],
        cwd=ROOT,
        env=_env(variables),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=stderr,
        text=True,
    )
