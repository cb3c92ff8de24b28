"""Knowledge-base sources: YAML, CSV and JSONL files of question-and-answer entries.

Every problem is reported as ``file:line: problem`` before anything is built, so
a broken file never replaces a good index.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

__all__ = ["LANGUAGES", "Entry", "SourceError", "checksum", "load_sources", "source_files"]

LANGUAGES = ("zh", "en")
SUFFIXES = (".yml", ".yaml", ".csv", ".jsonl")


class SourceError(Exception):
    """A source file is broken; ``str()`` reads ``file:line: problem``."""

    def __init__(self, path: Path, line: int, problem: str) -> None:
        super().__init__(f"{path}:{line}: {problem}")
        self.path, self.line, self.problem = path, line, problem


@dataclass
class Entry:
    """One answerable question, in one or both languages."""

    id: str
    questions: dict[str, str] = field(default_factory=dict)
    variants: dict[str, list[str]] = field(default_factory=dict)
    answers: dict[str, str] = field(default_factory=dict)
    tags: tuple[str, ...] = ()
    tiers: tuple[str, ...] = ()  # empty: every tier may see it
    source: str = ""

    def phrasings(self) -> Iterator[tuple[str, str]]:
        """``(language, text)`` for the question and every variant."""
        for lang, question in self.questions.items():
            yield lang, question
            for variant in self.variants.get(lang, ()):
                yield lang, variant

    def answer_in(self, lang: str) -> tuple[str, str]:
        """The answer in ``lang`` if the entry has it, else in its other language."""
        if lang in self.answers:
            return lang, self.answers[lang]
        other = next(iter(self.answers))
        return other, self.answers[other]

    def question_in(self, lang: str) -> str:
        return self.questions.get(lang) or next(iter(self.questions.values()))

    def visible_to(self, tier: str) -> bool:
        return not self.tiers or tier in self.tiers

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "questions": self.questions,
            "variants": self.variants,
            "answers": self.answers,
            "tags": list(self.tags),
            "tiers": list(self.tiers),
            "source": self.source,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Entry:
        return cls(**{**data, "tags": tuple(data["tags"]), "tiers": tuple(data["tiers"])})


def source_files(paths: Iterable[Path]) -> list[Path]:
    """The source files named, and those inside named folders, in a stable order."""
    files: list[Path] = []
    for path in map(Path, paths):
        if path.is_dir():
            files += sorted(p for p in path.rglob("*") if p.suffix in SUFFIXES and p.is_file())
        elif path.is_file():
            files.append(path)
        else:
            raise SourceError(path, 0, "no such file or folder")
    return files


def checksum(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def load_sources(
    paths: Iterable[Path], *, known_tiers: Iterable[str] | None = None, require_answers: bool = True
) -> list[Entry]:
    """All entries of the given files and folders, checked; raises :class:`SourceError`.

    An entry's languages may come from one YAML item or from several CSV or JSONL
    rows of one file sharing its id. ``require_answers=False`` admits question-only
    entries, as retrieval test sets have.
    """
    tiers = set(known_tiers) if known_tiers is not None else None
    entries: dict[str, Entry] = {}
    for path in source_files(paths):
        reader = {".csv": _read_csv, ".jsonl": _read_jsonl}.get(path.suffix, _read_yaml)
        for line, lang, record in reader(path):
            _add(entries, path, line, lang, record, tiers, require_answers)
    return list(entries.values())


def _add(
    entries: dict[str, Entry],
    path: Path,
    line: int,
    lang: str,
    record: dict[str, Any],
    tiers: set[str] | None,
    require_answers: bool,
) -> None:
    def bad(problem: str) -> SourceError:
        return SourceError(path, line, problem)

    def text(key: str) -> str:
        value = record.get(key)
        if isinstance(value, (list, dict)):
            raise bad(f"{key} must be a text, not a {'list' if isinstance(value, list) else 'mapping'}")
        return str(value or "").strip()

    def texts(key: str) -> tuple[str, ...]:
        values = record.get(key) or []
        if not isinstance(values, list) or not all(isinstance(v, str) and v.strip() for v in values):
            raise bad(f"entry {entry_id!r} ({lang}): {key} must be a list of texts")
        return tuple(v.strip() for v in values)

    entry_id = text("id")
    if not entry_id:
        raise bad("entry has no id")
    if lang not in LANGUAGES:
        raise bad(f"entry {entry_id!r}: language must be one of {LANGUAGES}, not {lang!r}")
    question, answer = text("question"), text("answer")
    if not question:
        raise bad(f"entry {entry_id!r} ({lang}) has no question")
    if not answer and require_answers:
        raise bad(f"entry {entry_id!r} ({lang}) has no answer")
    variants, tags, entry_tiers = texts("variants"), texts("tags"), texts("tiers")
    if tiers is not None and set(entry_tiers) - tiers:
        raise bad(f"entry {entry_id!r}: unknown tier(s) {sorted(set(entry_tiers) - tiers)}")

    entry = entries.get(entry_id)
    if entry is None:
        entry = entries[entry_id] = Entry(id=entry_id, tags=tags, tiers=entry_tiers, source=f"{path}:{line}")
    elif lang in entry.answers or not entry.source.startswith(f"{path}:"):
        raise bad(f"duplicate id {entry_id!r} (first at {entry.source})")
    entry.questions[lang] = question
    entry.variants[lang] = list(variants)
    entry.answers[lang] = answer


def _read_yaml(path: Path) -> Iterator[tuple[int, str, dict[str, Any]]]:
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_LineLoader)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        raise SourceError(path, mark.line + 1 if mark else 0, f"bad YAML: {error.problem}") from None
    except (yaml.YAMLError, UnicodeDecodeError) as error:
        raise SourceError(path, 0, f"bad YAML: {error}") from None
    except RecursionError:
        raise SourceError(path, 0, "bad YAML: nested too deeply") from None
    if not isinstance(data, dict) or not isinstance(data.get("entries"), list):
        raise SourceError(path, 1, "expected a mapping with an 'entries' list")
    for item in data["entries"]:
        line = item.get("__line__", 0) if isinstance(item, dict) else 0
        if not isinstance(item, dict):
            raise SourceError(path, line, "each entry must be a mapping")
        blocks = [lang for lang in item if lang in LANGUAGES]
        if not blocks:
            raise SourceError(path, line, f"entry {item.get('id')!r} has no zh or en block")
        unknown = set(item) - {"id", "tags", "tiers", "__line__", *LANGUAGES}
        if unknown:
            raise SourceError(path, line, f"entry {item.get('id')!r}: unknown key(s) {sorted(map(str, unknown))}")
        for lang in blocks:
            block = item[lang]
            if not isinstance(block, dict):
                raise SourceError(path, line, f"entry {item.get('id')!r}: {lang} must be a mapping")
            yield (
                block.get("__line__") or line,
                lang,
                {
                    "id": item.get("id"),
                    "tags": item.get("tags"),
                    "tiers": item.get("tiers"),
                    **block,
                },
            )


class _LineLoader(yaml.SafeLoader):
    """Records each mapping's line, so errors can point at the entry."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        mapping = super().construct_mapping(node, deep=deep)
        mapping["__line__"] = node.start_mark.line + 1
        return mapping

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        # A scalar YAML resolves but Python refuses (2024-13-01, an int of 5000 digits) raises a
        # bare ValueError; give it the node's line.
        try:
            return super().construct_object(node, deep=deep)
        except ValueError as error:
            raise yaml.constructor.ConstructorError(None, None, str(error), node.start_mark) from None


def _read_csv(path: Path) -> Iterator[tuple[int, str, dict[str, Any]]]:
    try:
        # Not read_text: it would turn a \r inside a quoted field into \n.
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise SourceError(path, path.read_bytes()[: error.start].count(b"\n") + 1, "not UTF-8 text") from None
    # Lines end at \n or \r alone, as the csv module expects: str.splitlines also splits at
    # \f, \x1c or \u2028, which a field may hold.
    reader = csv.DictReader(io.StringIO(text, newline=""), strict=True)
    try:
        header = reader.fieldnames or []
    except csv.Error as error:
        raise SourceError(path, 1, f"bad CSV header: {error}") from None
    missing = {"id", "lang", "question", "answer"} - set(header)
    if missing:
        raise SourceError(path, 1, f"missing column(s) {', '.join(sorted(missing))}")
    start = 2
    try:
        for row in reader:
            if None in row or None in row.values():
                raise SourceError(path, start, f"expected {len(header)} fields")
            yield (
                start,
                row["lang"].strip(),
                {
                    **row,
                    "variants": _split(row, "variants"),
                    "tags": _split(row, "tags"),
                    "tiers": _split(row, "tiers"),
                },
            )
            start = reader.line_num + 1
    except csv.Error as error:
        raise SourceError(path, start, f"bad CSV: {error}") from None


def _split(row: dict[str, str], key: str) -> list[str]:
    """A CSV cell's ``|``-separated list."""
    return [v.strip() for v in (row.get(key) or "").split("|") if v.strip()]


def _read_jsonl(path: Path) -> Iterator[tuple[int, str, dict[str, Any]]]:
    try:
        # JSON Lines end at \n; a JSON string may hold \u2028, where str.splitlines would split.
        lines = path.read_text(encoding="utf-8").split("\n")
    except UnicodeDecodeError as error:
        raise SourceError(path, path.read_bytes()[: error.start].count(b"\n") + 1, "not UTF-8 text") from None
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as error:
            raise SourceError(path, number, f"bad JSON: {error.msg}") from None
        except (ValueError, RecursionError) as error:
            # An int of over 4300 digits, or arrays nested deeper than the interpreter's stack.
            raise SourceError(path, number, f"bad JSON: {error}") from None
        if not isinstance(record, dict):
            raise SourceError(path, number, "each line must be a JSON object")
        yield number, str(record.get("lang", "")), record
