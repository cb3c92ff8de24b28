"""bench/nlu.py --split dev reads only the public training and validation splits."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.nlu import public_groups

FILES = {
    "intent_clinc150_en": ("train", "val", "test"),
    "intent_banking77_en": ("train", "test"),
    "intent_smp2017_zh": ("train", "dev"),
}


@pytest.fixture
def evaldata(tmp_path: Path) -> Path:
    """Each file's rows name the file they came from."""
    for folder, splits in FILES.items():
        (tmp_path / folder).mkdir()
        for split in splits:
            rows = [
                {"text": f"{folder} {split} {intent}", "intent": intent}
                for intent in ("greeting", "oos", "chat", "weather", "card_arrival")
            ]
            (tmp_path / folder / f"{split}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return tmp_path


def _sources(groups) -> set[str]:
    return {" ".join(row.text.split()[:2]) for g in groups for row in g.rows}


def test_the_dev_split_reads_training_and_validation_files_only(evaldata):
    assert _sources(public_groups(evaldata, "dev")) == {
        "intent_clinc150_en train",
        "intent_clinc150_en val",
        "intent_banking77_en train",
        "intent_smp2017_zh train",
    }


def test_the_test_split_reads_the_test_files_only(evaldata):
    assert _sources(public_groups(evaldata, "test")) == {
        "intent_clinc150_en test",
        "intent_banking77_en test",
        "intent_smp2017_zh dev",
    }
    names = [g.name for g in public_groups(evaldata, "test")]
    assert names[0] == "CLINC150 test: greeting, goodbye, thank_you" and names[3] == "SMP2017 dev: chat"
