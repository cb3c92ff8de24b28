from pathlib import Path

import pytest

from knowledge.sources import SourceError, load_sources

KB = Path(__file__).resolve().parents[1] / "data" / "kb"


def test_yaml_and_csv_entries_load_with_both_languages():
    entries = {e.id: e for e in load_sources([KB], known_tiers=["guest", "normal", "gold", "vip"])}
    assert set(entries) == {"refund-time", "change-address", "reset-password", "vip-hotline", "invoice"}
    refund = entries["refund-time"]
    assert refund.answer_in("zh")[1].startswith("支付宝") and refund.answer_in("en")[1].startswith("Alipay")
    assert "refund timeline" in refund.variants["en"]
    assert entries["invoice"].variants["zh"] == ["要发票", "开个发票", "公司抬头发票"]
    assert entries["vip-hotline"].tiers == ("gold", "vip")
    assert not entries["vip-hotline"].visible_to("normal") and entries["vip-hotline"].visible_to("vip")


def test_an_entry_in_one_language_answers_in_that_language(tmp_path):
    path = tmp_path / "one.jsonl"
    path.write_text('{"id": "a", "question": "Only English?", "answer": "Yes.", "lang": "en"}\n', encoding="utf-8")
    [entry] = load_sources([path])
    assert entry.answer_in("zh") == ("en", "Yes.")


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("name", "text", "where", "problem"),
    [
        ("a.yml", "entries:\n  - id: x\n    en: {question: 'Q?', variants: [a]}\n", "a.yml:3", "has no answer"),
        ("a.yml", "entries:\n  - id: x\n    en: {question: 'Q?', answer: A\n", "a.yml:4", "bad YAML"),
        ("a.yml", "entries:\n  - id: x\n    fr: {question: 'Q?', answer: A}\n", "a.yml:2", "has no zh or en block"),
        (
            "a.yml",
            "entries:\n  - id: x\n    tiers: [platinum]\n    en: {question: 'Q?', answer: A}\n",
            "a.yml:4",
            "unknown tier(s) ['platinum']",
        ),
        ("a.yml", "entries:\n  - en: {question: 'Q?', answer: A}\n", "a.yml:2", "entry has no id"),
        (
            "a.yml",
            "entries:\n  - id: x\n    en: {question: 'Q?', answer: A, variants: hello}\n",
            "a.yml:3",
            "variants must be a list",
        ),
        ("a.yml", "- just a list\n", "a.yml:1", "expected a mapping with an 'entries' list"),
        (
            "a.jsonl",
            '{"id": "x", "question": "Q?", "answer": "A", "lang": "en"}\n{"id": "y", "question": \n',
            "a.jsonl:2",
            "bad JSON",
        ),
        (
            "a.jsonl",
            '{"id": "x", "question": "Q?", "answer": "A", "lang": "de"}\n',
            "a.jsonl:1",
            "language must be one of",
        ),
        ("a.csv", "id,lang,question\nx,en,Q?\n", "a.csv:1", "missing column(s) answer"),
        ("a.csv", "id,lang,question,answer\nx,en,Q?,A\nx,en,Q again?,B\n", "a.csv:3", "duplicate id 'x'"),
    ],
)
def test_a_broken_entry_names_file_and_line(tmp_path, name, text, where, problem):
    path = write(tmp_path, name, text)
    with pytest.raises(SourceError) as error:
        load_sources([path], known_tiers=["guest", "gold"])
    assert where in str(error.value) and problem in str(error.value)


def test_the_same_id_in_two_files_is_a_duplicate(tmp_path):
    write(tmp_path, "a.yml", "entries:\n  - id: x\n    en: {question: 'Q?', answer: A}\n")
    write(tmp_path, "b.yml", "entries:\n  - id: x\n    zh: {question: '问?', answer: 答}\n")
    with pytest.raises(SourceError, match=r"b.yml:3: duplicate id 'x' \(first at .*a.yml:3\)"):
        load_sources([tmp_path])


def test_a_csv_whose_header_is_not_csv_is_refused_at_line_1(tmp_path):
    path = tmp_path / "broken.csv"
    path.write_bytes(b'"')
    with pytest.raises(SourceError, match=r"broken.csv:1: bad CSV header"):
        load_sources([path])
