"""The yardstick of ``bench.turns``: a bare ``rasa init`` bot whose one custom action says hello.

Rasa's own starter project, made at run time in a temporary folder, with the
template's commented-out ``action_hello_world`` enabled and run on every
greeting, served by ``rasa run`` (REST, in-memory stores, as the template
ships) and ``rasa run actions``, which has no option to listen on loopback only:
it listens on every address while the benchmark runs. Its model is trained once
per Rasa version and kept in var/bench, so later runs start it at once.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bot.cli.processes import RASA_BIN, RASA_ENV, RASA_PYTHON, Process, free_port, start, stop_all
from bot.settings import ROOT

__all__ = ["HELLO", "running_bare_bot"]

MODELS = ROOT / "var" / "bench"
HELLO = "Hello World!"

# The template's example action (actions/actions.py of `rasa init`), uncommented.
HELLO_ACTION = f'''from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher


class ActionHelloWorld(Action):
    def name(self) -> Text:
        return "action_hello_world"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        dispatcher.utter_message(text="{HELLO}")
        return []
'''

HELLO_RULE = """
- rule: Say hello world anytime the user greets
  steps:
  - intent: greet
  - action: action_hello_world
"""


def _rasa(folder: Path, *args: str) -> None:
    env = {**os.environ, **RASA_ENV}
    done = subprocess.run([str(RASA_BIN), *args], cwd=folder, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"rasa {' '.join(args)} failed in {folder}:\n{done.stdout[-2000:]}{done.stderr[-2000:]}")


def rasa_version() -> str:
    return subprocess.run(
        [str(RASA_PYTHON), "-c", "import importlib.metadata as m; print(m.version('rasa'))"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()


def _write_action(folder: Path) -> None:
    (folder / "actions").mkdir(exist_ok=True)
    (folder / "actions" / "__init__.py").write_text("")
    (folder / "actions" / "actions.py").write_text(HELLO_ACTION)


def _train(folder: Path, model: Path) -> None:
    """``rasa init``'s project, its greeting answered by the hello action, trained into ``model``."""
    # rasa init trains the template as it is; the retraining below reuses its NLU from Rasa's cache.
    _rasa(folder, "init", "--no-prompt", "--init-dir", ".")
    _write_action(folder)
    domain = folder / "domain.yml"
    domain.write_text(domain.read_text() + "\nactions:\n  - action_hello_world\n")
    stories = folder / "data" / "stories.yml"
    stories.write_text(re.sub(r"action: utter_greet\b", "action: action_hello_world", stories.read_text()))
    rules = folder / "data" / "rules.yml"
    rules.write_text(rules.read_text() + HELLO_RULE)
    _rasa(folder, "train", "--fixed-model-name", "hello", "--out", "trained")
    model.parent.mkdir(parents=True, exist_ok=True)
    partial = model.with_suffix(".partial")
    shutil.copyfile(folder / "trained" / "hello.tar.gz", partial)
    partial.replace(model)


def trained_model() -> Path:
    """The bare bot's model, trained on first use for this Rasa version."""
    model = MODELS / f"bare-rasa-{rasa_version()}.tar.gz"
    if not model.exists():
        print(f"training the bare rasa init bot once into {model} (a few minutes)...", flush=True)
        with tempfile.TemporaryDirectory() as tmp:
            _train(Path(tmp), model)
    return model


@contextmanager
def running_bare_bot() -> Iterator[str]:
    """The bare bot's Rasa server and action server on free ports; yields its REST webhook's URL."""
    model = trained_model()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        log_dir = folder / "logs"
        _write_action(folder)
        rasa_port, action_port = free_port(), free_port()
        (folder / "endpoints.yml").write_text(f"action_endpoint:\n  url: http://127.0.0.1:{action_port}/webhook\n")
        (folder / "credentials.yml").write_text("rest:\n")
        planned = [
            Process(
                name="bare action server",
                args=[str(RASA_BIN), "run", "actions", "--port", str(action_port), "--actions", "actions"],
                health_url=f"http://127.0.0.1:{action_port}/health",
                log_path=log_dir / "bare-actions.log",
                env=RASA_ENV,
                cwd=folder,
            ),
            Process(
                name="bare Rasa server",
                args=[
                    str(RASA_BIN),
                    "run",
                    "--model",
                    str(model),
                    "--interface",
                    "127.0.0.1",
                    "--port",
                    str(rasa_port),
                    "--endpoints",
                    "endpoints.yml",
                    "--credentials",
                    "credentials.yml",
                ],
                # The channel's routes answer once the model is loaded: Rasa loads it before serving.
                health_url=f"http://127.0.0.1:{rasa_port}/webhooks/rest/",
                log_path=log_dir / "bare-rasa.log",
                env=RASA_ENV,
                cwd=folder,
            ),
        ]
        started = start(planned)
        try:
            yield f"http://127.0.0.1:{rasa_port}/webhooks/rest/webhook"
        finally:
            stop_all(started)
