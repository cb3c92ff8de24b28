"""The Rasa training data: valid, rich enough, and good enough on text it never saw."""

from __future__ import annotations

import json
import os
import subprocess
from collections import Counter
from pathlib import Path

import pytest
import yaml

from bot.rasa_addons.nlu.language import detect_language
from bot.settings import ROOT

RASA = ROOT / ".venv-rasa" / "bin" / "rasa"
REPORT_DIR = ROOT / "test-output" / "nlu"
MIN_ACCURACY = 0.90
# Sent only by buttons or triggered by the console, never typed: they need no examples.
PAYLOAD_ONLY = {"choose", "request_callback", "handoff_event", "ticket_update"}
# One OpenMP thread: the sentence model's threads spin while they wait for a busy core.
RASA_ENV = {**os.environ, "RASA_TELEMETRY_ENABLED": "false", "RASA_MAX_CACHE_SIZE": "0", "OMP_NUM_THREADS": "1"}


def examples() -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for path in sorted((ROOT / "data" / "nlu").glob("*.yml")):
        for block in yaml.safe_load(path.read_text(encoding="utf-8"))["nlu"]:
            lines = [line[2:].strip() for line in block["examples"].splitlines() if line.startswith("- ")]
            found.setdefault(block["intent"], []).extend(lines)
    return found


def test_every_intent_has_30_examples_in_each_language():
    domain = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))
    data = examples()
    assert set(data) == set(domain["intents"]) - PAYLOAD_ONLY
    for intent, texts in data.items():
        languages = Counter(detect_language(t) for t in texts)
        assert languages["zh"] >= 30 and languages["en"] >= 30, (intent, languages)


def test_no_example_stands_under_two_intents():
    owners: dict[str, set[str]] = {}
    for intent, texts in examples().items():
        for text in texts:
            owners.setdefault(text.lower(), set()).add(intent)
    assert not {t: i for t, i in owners.items() if len(i) > 1}


@pytest.mark.slow
def test_rasa_data_validate_passes():
    result = subprocess.run(
        [str(RASA), "data", "validate", "--data", "data/nlu", "data/rules.yml", "--fail-on-warnings"],
        cwd=ROOT,
        env=RASA_ENV,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]


@pytest.mark.slow
# Training embeds every example with the sentence model: minutes when other jobs share the cores.
@pytest.mark.timeout(3600)
def test_intent_accuracy_on_held_out_examples(tmp_path: Path):
    """Train on four fifths of data/nlu, test on the rest; the report goes to test-output/nlu."""

    def rasa(*args: str) -> None:
        result = subprocess.run(
            [str(RASA), *args], cwd=ROOT, env=RASA_ENV, capture_output=True, text=True, timeout=1200
        )
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]

    split = tmp_path / "split"
    rasa(
        "data",
        "split",
        "nlu",
        "-u",
        "data/nlu",
        "--training-fraction",
        "0.8",
        "--random-seed",
        "7",
        "--out",
        str(split),
    )
    rasa(
        "train", "nlu", "-u", str(split / "training_data.yml"), "--out", str(tmp_path), "--fixed-model-name", "held-out"
    )
    rasa(
        "test",
        "nlu",
        "-u",
        str(split / "test_data.yml"),
        "-m",
        str(tmp_path / "held-out.tar.gz"),
        "--out",
        str(REPORT_DIR),
    )
    report = json.loads((REPORT_DIR / "intent_report.json").read_text())
    print(f"held-out intent accuracy {report['accuracy']:.3f} (report in {REPORT_DIR})")
    assert report["accuracy"] >= MIN_ACCURACY
