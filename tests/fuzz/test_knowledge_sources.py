"""Knowledge-base sources: a broken file is a SourceError naming the file and a line of it, never a crash."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from knowledge.sources import SUFFIXES, SourceError, load_sources
from tests.fuzz import FUZZ

TIERS = ["normal", "gold"]
# YAML and JSON values of every kind, under the keys a source uses and others.
KEYS = st.sampled_from(["id", "lang", "question", "answer", "variants", "tags", "tiers", "zh", "en", "entries"])
SCALARS = (
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20) | st.sampled_from(["en", "gold"])
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(KEYS | st.text(max_size=5), inner, max_size=4),
    max_leaves=12,
)
TEXT = st.text(min_size=1, max_size=30).filter(lambda t: t.strip() and "|" not in t)
ENTRY = st.fixed_dictionaries(
    {
        "id": st.from_regex(r"[a-z][a-z0-9-]{0,15}", fullmatch=True),
        "lang": st.sampled_from(["zh", "en"]),
        "question": TEXT,
        "answer": TEXT,
        "variants": st.lists(TEXT, max_size=3),
    }
)


def load_or_refuse(path: Path) -> None:
    """Loads ``path``; a refusal must name it and a line that exists (YAML's line breaks included)."""
    try:
        load_sources([path], known_tiers=TIERS)
    except SourceError as error:
        lines = len(re.split(r"\r\n|[\r\n\x85\u2028\u2029]", path.read_bytes().decode("utf-8", "replace")))
        assert str(error).startswith(f"{path}:") and 0 <= error.line <= lines, error


def write_yaml(path: Path, entries: Any, **options: Any) -> Path:
    path.write_text(yaml.safe_dump({"entries": entries}, sort_keys=False, **options), encoding="utf-8")
    return path


def write_jsonl(path: Path, records: list[Any]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False, default=str) + "\n" for r in records), encoding="utf-8")
    return path


def write_csv(path: Path, rows: list[list[str]]) -> Path:
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    path.write_text(out.getvalue(), encoding="utf-8")
    return path


@FUZZ
@given(suffix=st.sampled_from(SUFFIXES), content=st.binary(max_size=300) | st.text(max_size=300).map(str.encode))
def test_any_bytes_load_or_are_refused_by_file_and_line(tmp_path: Path, suffix: str, content: bytes):
    path = tmp_path / f"source{suffix}"
    path.write_bytes(content)
    load_or_refuse(path)


@FUZZ
@given(entries=st.lists(st.dictionaries(KEYS | st.integers(), VALUES, max_size=6) | VALUES, max_size=4))
def test_any_yaml_or_jsonl_structure_loads_or_is_refused(tmp_path: Path, entries: list):
    load_or_refuse(write_yaml(tmp_path / "source.yml", entries, allow_unicode=True))
    load_or_refuse(write_jsonl(tmp_path / "source.jsonl", entries))


@FUZZ
@given(changes=st.dictionaries(KEYS | st.integers() | st.text(max_size=5), VALUES, min_size=1, max_size=2))
def test_a_good_entry_with_any_field_changed_loads_or_is_refused(tmp_path: Path, changes: dict):
    good = {"id": "a", "question": "Q?", "answer": "A.", "variants": ["q"], "tags": ["t"], "tiers": ["gold"]}
    changed = {**good, **changes}
    item = {key: changed[key] for key in ("id", "tags", "tiers")}
    block = {key: value for key, value in changed.items() if key not in item}
    load_or_refuse(write_yaml(tmp_path / "source.yml", [{**item, "en": block}], allow_unicode=True))
    load_or_refuse(write_jsonl(tmp_path / "source.jsonl", [{**changed, "lang": "en"}]))


@FUZZ
@given(rows=st.lists(st.lists(st.text(max_size=15), max_size=7), max_size=5))
def test_any_csv_rows_load_or_are_refused(tmp_path: Path, rows: list[list[str]]):
    load_or_refuse(
        write_csv(tmp_path / "source.csv", [["id", "lang", "question", "answer", "variants", "tiers"], *rows])
    )


@FUZZ
@given(entries=st.lists(ENTRY, min_size=1, max_size=4, unique_by=lambda e: e["id"]))
def test_any_text_in_a_well_formed_file_loads_as_written(tmp_path: Path, entries: list[dict]):
    expected = {
        e["id"]: (e["question"].strip(), e["answer"].strip(), [v.strip() for v in e["variants"]]) for e in entries
    }
    files = [
        write_jsonl(tmp_path / "a.jsonl", entries),
        write_csv(
            tmp_path / "a.csv",
            [
                ["id", "lang", "question", "answer", "variants"],
                *([e["id"], e["lang"], e["question"], e["answer"], "|".join(e["variants"])] for e in entries),
            ],
        ),
        # Escaped: with allow_unicode PyYAML writes \x85 raw, which reads back as a line break.
        write_yaml(
            tmp_path / "a.yml",
            [
                {
                    "id": e["id"],
                    e["lang"]: {"question": e["question"], "answer": e["answer"], "variants": e["variants"]},
                }
                for e in entries
            ],
        ),
    ]
    for path in files:
        loaded = {
            entry.id: (entry.questions[lang], entry.answers[lang], entry.variants[lang])
            for entry in load_sources([path])
            for lang in entry.questions
        }
        assert loaded == expected, path


ENTRY_YAML = "entries:\n  - id: {id}\n    en: {{question: {question}, answer: A{extra}}}\n"


@pytest.mark.parametrize(
    ("name", "text", "where", "problem"),
    [
        (
            "a.yml",
            ENTRY_YAML.format(id="x", question="Q", extra=", tiers: 5"),
            "a.yml:3",
            "tiers must be a list of texts",
        ),
        (
            "a.yml",
            ENTRY_YAML.format(id="x", question="Q", extra=", tags: [[a]]"),
            "a.yml:3",
            "tags must be a list of texts",
        ),
        ("a.yml", ENTRY_YAML.format(id="x", question="[Q]", extra=""), "a.yml:3", "question must be a text"),
        ("a.yml", ENTRY_YAML.format(id="2024-13-01", question="Q", extra=""), "a.yml:2", "month must be in 1..12"),
        (
            "a.yml",
            "entries:\n  - id: x\n    1: y\n    en: {question: Q, answer: A}\n",
            "a.yml:2",
            "unknown key(s) ['1']",
        ),
        ("a.yml", "[" * 5000, "a.yml:0", "nested too deeply"),
        ("a.jsonl", '{"id": ' + "1" * 5000 + "}\n", "a.jsonl:1", "bad JSON"),
        ("a.jsonl", "[" * 100_000 + "\n", "a.jsonl:1", "bad JSON"),
    ],
)
def test_what_once_crashed_the_loader_names_file_and_line(
    tmp_path: Path, name: str, text: str, where: str, problem: str
):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    with pytest.raises(SourceError) as error:
        load_sources([path], known_tiers=TIERS)
    assert str(error.value).startswith(str(tmp_path / where) + ":") and problem in str(error.value)


def test_a_line_separator_inside_a_json_or_csv_text_is_text(tmp_path: Path):
    jsonl = tmp_path / "a.jsonl"
    jsonl.write_text('{"id": "x", "lang": "en", "question": "Q\u2028?", "answer": "A"}\n', encoding="utf-8")
    table = tmp_path / "a.csv"
    table.write_bytes(b'id,lang,question,answer\ny,en,"Q\x0c\r?",A\n')
    loaded = {entry.id: entry.questions["en"] for entry in load_sources([jsonl, table])}
    assert loaded == {"x": "Q\u2028?", "y": "Q\x0c\r?"}
