"""Knowledge gaps: the questions the bot could not answer, grouped for agents, and the
entries agents write to answer them.

The console lists unresolved gaps with the paraphrases of one question grouped and
counted, so the most asked comes first; an agent's answer is appended to the sources'
``added.yml``, the index is rebuilt from the sources as ``bot kb build`` does, and
the gaps are marked resolved by the new entry. Grouping compares character n-grams,
not embeddings, so listing gaps never loads the embedding model.
"""

from __future__ import annotations

import fcntl
import itertools
import os
import re
import stat
import tempfile
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from scipy import sparse
from scipy.cluster.hierarchy import fcluster, linkage
from scipy.spatial.distance import squareform
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.preprocessing import normalize
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bot.db.models import KbGap
from bot.service.tiers import load_tiers
from bot.service.wording import normalize_question
from bot.settings import Settings, load_settings
from knowledge.sources import LANGUAGES, Entry, SourceError, load_sources, source_files

__all__ = [
    "ADDED_FILE",
    "GROUP_THRESHOLD",
    "GapError",
    "GapGroup",
    "add_answer",
    "add_entry",
    "group_gaps",
    "groups_to_answer",
    "knowledge_questions",
    "rebuild_index",
    "resolve_gaps",
]

# Cosine of character n-gram TF-IDF vectors that every two wordings in a group reach.
# Chosen on a hand-written log of 101 unanswered questions asking 37 things, in both
# languages (tests/test_gaps.py), weighted by the knowledge base's questions: from 0.30
# to 0.425 about 0.88 of the pairs put together ask the same thing and 0.6-0.7 of such
# pairs are found; above 0.45 paraphrases that share only their subject (能寄到南极吗 /
# 你们配送南极吗, 0.47) split. 0.40 sits inside that range with room on both sides.
GROUP_THRESHOLD = 0.40
# The most recent distinct wordings grouped; the similarity matrix is their square.
MAX_DISTINCT = 2000
MAX_EXAMPLES = 5

ADDED_FILE = "added.yml"
ENTRY_ID = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
MAX_ENTRY_ID = 64  # the width of kb_gaps.resolved_entry_id

_HEADER = "# Entries added from the agents' console (knowledge gaps); edit them like any other.\n"

_WORD = re.compile(r"\w+")
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
# Words that every question has: left in, they make "can I pay with seashells" look like
# "can you ship to Antarctica". Kept short, since IDF discounts the rest.
_EN_FUNCTION_WORDS = frozenset(
    [
        "a",
        "about",
        "am",
        "an",
        "and",
        "any",
        "are",
        "as",
        "at",
        "be",
        "been",
        "by",
        "can",
        "could",
        "did",
        "do",
        "does",
        "for",
        "from",
        "had",
        "has",
        "have",
        "here",
        "hi",
        "how",
        "i",
        "if",
        "in",
        "into",
        "is",
        "it",
        "its",
        "may",
        "me",
        "might",
        "my",
        "of",
        "on",
        "or",
        "our",
        "please",
        "possible",
        "should",
        "so",
        "that",
        "the",
        "there",
        "these",
        "this",
        "those",
        "to",
        "u",
        "was",
        "we",
        "were",
        "what",
        "when",
        "where",
        "which",
        "who",
        "why",
        "will",
        "with",
        "would",
        "you",
        "your",
    ]
)
_ZH_FUNCTION_WORDS = re.compile("请问|你们|我们|能不能|能否|是否|有没有|可以|怎么|吗|呢|吧|啊|呀|的|了|我|你|能")


class GapError(ValueError):
    """Input refused or a step failed; the message is for the agent."""


@dataclass(frozen=True)
class GapGroup:
    """Unanswered questions that ask one thing."""

    question: str  # the wording closest to the rest, weighted by how often each was asked
    count: int
    gap_ids: tuple[int, ...]
    examples: tuple[str, ...]  # distinct wordings, the representative first
    languages: tuple[str, ...]
    tiers: tuple[str, ...]
    last_seen: datetime


def group_gaps(
    session: Session,
    *,
    since: datetime | None = None,
    threshold: float = GROUP_THRESHOLD,
    limit: int = 50,
    background: Iterable[str] = (),
) -> list[GapGroup]:
    """Unresolved gaps (asked at or after ``since``; the latest ``MAX_DISTINCT`` wordings),
    paraphrases grouped, most asked first.

    ``background`` texts only weight the n-grams; pass :func:`knowledge_questions`.
    Without it the weights come from the gaps alone, and in a short log the words
    that tell paraphrases apart ("ship", "deliver") are as rare as the subject they
    share, so paraphrases stay apart more often (never the reverse).
    """
    query = select(KbGap.id, KbGap.question, KbGap.language, KbGap.tier, KbGap.created_at).where(
        KbGap.resolved_entry_id.is_(None)
    )
    if since is not None:
        query = query.where(KbGap.created_at >= since)
    # Repeats of one wording are most of the rows: they are counted, not compared.
    wordings: dict[str, list[Any]] = {}
    for row in session.execute(query.order_by(KbGap.created_at.desc(), KbGap.id.desc())):
        wordings.setdefault(normalize_question(row.question), []).append(row)
    keys = list(wordings)[:MAX_DISTINCT]
    if not keys:
        return []
    asked = np.array([len(wordings[key]) for key in keys], dtype=np.float32)
    similarity = _similarity(keys, list(background))
    labels = _clusters(similarity, threshold)
    groups = []
    for label in np.unique(labels):
        members = np.flatnonzero(labels == label)
        centrality = similarity[np.ix_(members, members)] @ asked[members]
        ranked = [keys[i] for i in members[np.argsort(-centrality, kind="stable")]]
        rows = [row for key in ranked for row in wordings[key]]
        groups.append(
            GapGroup(
                question=wordings[ranked[0]][0].question,
                count=len(rows),
                gap_ids=tuple(sorted(row.id for row in rows)),
                examples=tuple(wordings[key][0].question for key in ranked[:MAX_EXAMPLES]),
                languages=tuple(sorted({row.language for row in rows})),
                tiers=tuple(sorted({row.tier for row in rows})),
                last_seen=max(row.created_at for row in rows),
            )
        )
    groups.sort(key=lambda group: group.last_seen, reverse=True)
    groups.sort(key=lambda group: group.count, reverse=True)
    return groups[:limit]


def groups_to_answer(session: Session, settings: Settings) -> list[GapGroup]:
    """The unresolved gaps as agents answer them: grouped with the knowledge base's questions as background."""
    return group_gaps(session, background=knowledge_questions(settings.kb_sources))


def knowledge_questions(sources: Iterable[Path]) -> tuple[str, ...]:
    """Every question and variant of the knowledge base: how customers word questions
    here, which tells grouping which words are common. Read again only when a file changed."""
    try:
        files = source_files(sources)
        return _questions(tuple((path, path.stat().st_mtime_ns, path.stat().st_size) for path in files))
    except (SourceError, OSError) as error:
        raise GapError(f"cannot read the knowledge base sources: {error}") from None


@lru_cache(maxsize=4)
def _questions(files: tuple[tuple[Path, int, int], ...]) -> tuple[str, ...]:
    entries = load_sources([path for path, _, _ in files], require_answers=False)
    return tuple(text for entry in entries for _, text in entry.phrasings())


def _grams(text: str) -> list[str]:
    """Chinese characters and character pairs (most Chinese words are pairs), and 3-5
    character n-grams of other words, padded at the word's edges so that "ship" and
    "shipping" share more than "ship" and "relationship". Function words are left out
    unless they are all the text has."""
    return _ngrams(text, content_only=True) or _ngrams(text, content_only=False) or [text]


def _ngrams(text: str, *, content_only: bool) -> list[str]:
    if content_only:
        text = _ZH_FUNCTION_WORDS.sub(" ", text)
    grams: list[str] = []
    for run in _CJK.findall(text):
        grams += run
        grams += [a + b for a, b in itertools.pairwise(run)]
    for word in _WORD.findall(_CJK.sub(" ", text)):
        if content_only and word in _EN_FUNCTION_WORDS:
            continue
        padded = f" {word} "
        grams += [padded[i : i + n] for n in range(3, 6) for i in range(len(padded) - n + 1)]
    return grams


def _similarity(texts: Sequence[str], background: Sequence[str]) -> np.ndarray:
    vectorizer = TfidfVectorizer(analyzer=_grams, sublinear_tf=True, norm=None, dtype=np.float32)
    vectorizer.fit([*texts, *background])
    # IDF squared: the n-grams many questions share ("ship to", "寄到") are the frame of
    # a question, the rare ones (a place, a product) what it asks about.
    matrix = normalize(vectorizer.transform(texts) @ sparse.diags(vectorizer.idf_))
    return np.clip((matrix @ matrix.T).toarray(), 0.0, 1.0)


def _clusters(similarity: np.ndarray, threshold: float) -> np.ndarray:
    """Complete-linkage clusters: every two wordings in a group are similar, so a group
    cannot drift from one question to another through a chain of near neighbours."""
    if len(similarity) == 1:
        return np.zeros(1, dtype=np.int64)
    distance = 1.0 - similarity
    np.fill_diagonal(distance, 0.0)
    tree = linkage(squareform(distance, checks=False), method="complete")
    return fcluster(tree, t=1.0 - threshold, criterion="distance")


def add_entry(
    sources_dir: Path,
    *,
    entry_id: str,
    questions: Mapping[str, str],
    answers: Mapping[str, str],
    variants: Mapping[str, Sequence[str]] | None = None,
    tags: Sequence[str] | None = None,
    tiers: Sequence[str] | None = None,
    known_tiers: Collection[str] | None = None,
) -> Path:
    """Append an entry to ``<sources_dir>/added.yml`` and return that file.

    ``questions`` and ``answers`` are by language (``zh``, ``en``); blank variants are
    dropped. ``known_tiers`` defaults to the tiers of the configured tiers file. All
    sources under ``sources_dir`` are loaded with the knowledge base's own loader
    before writing (the id must be new) and after (the file must read back as
    written); any problem raises :class:`GapError` and leaves the file as it was.
    """
    sources_dir = Path(sources_dir)
    if known_tiers is None:
        known_tiers = [tier.id for tier in load_tiers(load_settings().tiers_file).tiers]
    item = _entry_item(entry_id, questions, answers, variants or {}, tags or (), tiers or (), known_tiers)
    if not sources_dir.is_dir():
        raise GapError(f"no knowledge base sources folder {sources_dir}")
    path = sources_dir / ADDED_FILE
    with _locked(sources_dir):
        try:
            before = load_sources([sources_dir], known_tiers=known_tiers)
        except SourceError as error:
            raise GapError(f"the sources are broken, so nothing was added: {error}") from None
        used = next((entry for entry in before if entry.id == entry_id), None)
        if used is not None:
            raise GapError(f"entry id {entry_id!r} is already used at {used.source}")
        old = path.read_bytes() if path.exists() else None
        _write(path, _appended(old, item).encode("utf-8"))
        try:
            after = load_sources([sources_dir], known_tiers=known_tiers)
        except SourceError as error:
            _restore(path, old)
            raise GapError(f"{path} did not load after adding {entry_id!r}, so it was restored: {error}") from None
        if _contents(after) != {**_contents(before), **_contents([_entry_of(item)])}:
            _restore(path, old)
            raise GapError(f"{path} did not read back as written, so it was restored")
    return path


def _entry_item(
    entry_id: str,
    questions: Mapping[str, str],
    answers: Mapping[str, str],
    variants: Mapping[str, Sequence[str]],
    tags: Sequence[str],
    tiers: Sequence[str],
    known_tiers: Collection[str],
) -> dict[str, Any]:
    """The entry as a YAML item of the sources, or :class:`GapError` saying what is wrong."""
    _check_id(entry_id)
    unknown = (set(questions) | set(answers) | set(variants)) - set(LANGUAGES)
    if unknown:
        raise GapError(f"languages must be among {', '.join(LANGUAGES)}, not {', '.join(sorted(unknown))}")
    languages = [lang for lang in LANGUAGES if lang in questions or lang in answers]
    if not languages:
        raise GapError("an entry needs a question and an answer in at least one language")
    orphans = set(variants) - set(languages)
    if orphans:
        raise GapError(f"variants in {', '.join(sorted(orphans))} need a question and an answer in that language")
    item: dict[str, Any] = {"id": entry_id}
    tags = [tag.strip() for tag in tags]
    if not all(tags):
        raise GapError("tags must not be blank")
    if tags:
        item["tags"] = tags
    strange = sorted(set(tiers) - set(known_tiers))
    if strange:
        raise GapError(f"unknown tier(s) {', '.join(strange)}; the tiers are {', '.join(known_tiers)}")
    if tiers:
        item["tiers"] = list(dict.fromkeys(tiers))
    for lang in languages:
        question = (questions.get(lang) or "").strip()
        answer = (answers.get(lang) or "").strip()
        if not question:
            raise GapError(f"the {lang} question is empty")
        if not answer:
            raise GapError(f"the {lang} answer is empty")
        block: dict[str, Any] = {"question": question}
        others = [v for v in dict.fromkeys(v.strip() for v in variants.get(lang, ())) if v and v != question]
        if others:
            block["variants"] = others
        block["answer"] = answer
        item[lang] = block
    return item


def _check_id(entry_id: str) -> None:
    if not (ENTRY_ID.fullmatch(entry_id) and len(entry_id) <= MAX_ENTRY_ID):
        raise GapError(
            f"entry id {entry_id!r} must be lower-case letters and digits in words joined by single hyphens, "
            f"at most {MAX_ENTRY_ID} characters (e.g. shipping-antarctica)"
        )


def _entry_of(item: dict[str, Any]) -> Entry:
    langs = [lang for lang in LANGUAGES if lang in item]
    return Entry(
        id=item["id"],
        questions={lang: item[lang]["question"] for lang in langs},
        variants={lang: item[lang].get("variants", []) for lang in langs},
        answers={lang: item[lang]["answer"] for lang in langs},
        tags=tuple(item.get("tags", ())),
        tiers=tuple(item.get("tiers", ())),
    )


def _contents(entries: Iterable[Entry]) -> dict[str, dict[str, Any]]:
    """Entries by id without where they were read, which appending may not change."""
    return {entry.id: {**entry.to_dict(), "source": None} for entry in entries}


class _Dumper(yaml.SafeDumper):
    """Multi-line answers as block scalars, as people write them, not quoted with escapes."""


_Dumper.add_representer(
    str,
    lambda dumper, text: dumper.represent_scalar("tag:yaml.org,2002:str", text, style="|" if "\n" in text else None),
)


def _dump(data: Any) -> str:
    return yaml.dump(data, Dumper=_Dumper, allow_unicode=True, sort_keys=False, default_flow_style=False, width=100)


def _appended(old: bytes | None, item: dict[str, Any]) -> str:
    """The file with the item added at the end of its ``entries``.

    Text is appended, so the comments and layout of what is there stay; only a file
    whose entries are not a block list at its end is written anew from its data.
    """
    if old is None:
        return _HEADER + "entries:\n" + _indented(_dump([item]), 2)
    text = old.decode("utf-8")
    root = yaml.compose(text, Loader=yaml.SafeLoader)
    key, entries = root.value[-1] if isinstance(root, yaml.MappingNode) and root.value else (None, None)
    if (
        getattr(key, "value", None) == "entries"
        and isinstance(entries, yaml.SequenceNode)
        and not entries.flow_style
        and entries.value
    ):
        return text + ("" if text.endswith("\n") else "\n") + _indented(_dump([item]), entries.start_mark.column)
    data = yaml.safe_load(text)
    data["entries"].append(item)
    return _dump(data)


def _indented(text: str, column: int) -> str:
    return "".join(" " * column + line if line.strip() else line for line in text.splitlines(keepends=True))


def _write(path: Path, data: bytes) -> None:
    """Replace the file in one step, so the builder never reads half of it."""
    mode = stat.S_IMODE(path.stat().st_mode) if path.exists() else 0o644
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _restore(path: Path, old: bytes | None) -> None:
    if old is None:
        path.unlink(missing_ok=True)
    else:
        _write(path, old)


@contextmanager
def _locked(directory: Path) -> Iterator[None]:
    """Two agents adding at once would both read the old file, and one entry would be lost."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def resolve_gaps(session: Session, gap_ids: Sequence[int], entry_id: str) -> int:
    """Mark these gaps answered by ``entry_id``; returns how many were marked.

    Gaps already resolved keep their entry: a console page may be out of date.
    """
    _check_id(entry_id)
    if not gap_ids:
        return 0
    result = session.execute(
        update(KbGap).where(KbGap.id.in_(gap_ids), KbGap.resolved_entry_id.is_(None)).values(resolved_entry_id=entry_id)
    )
    return int(getattr(result, "rowcount", 0))


def add_answer(
    settings: Settings,
    *,
    entry_id: str,
    questions: Mapping[str, str],
    answers: Mapping[str, str],
    known_tiers: Collection[str],
) -> str:
    """An agent's entry added beside the first of the sources and the index rebuilt with it; returns the
    new build's id. Raises GapError; an entry added before the build failed stays in the sources."""
    first = settings.kb_sources[0]
    add_entry(
        first if first.is_dir() else first.parent,
        entry_id=entry_id,
        questions=questions,
        answers=answers,
        known_tiers=known_tiers,
    )
    return rebuild_index(settings)


def rebuild_index(settings: Settings) -> str:
    """Build the index from ``settings.kb_sources`` into ``settings.kb_dir`` as ``bot kb
    build`` does, and return the new build's id. On failure the previous index stays."""
    # Imported here: the index brings in FAISS and the embedder torch, which the console
    # needs only while it rebuilds.
    from bot.service.kb_builds import BuildError, build_from_sources

    try:
        return build_from_sources(settings).path.name
    except BuildError as error:
        raise GapError(str(error)) from None
