import itertools
import os
from datetime import datetime, timedelta

import pytest

import bot.service.gaps
from bot.db.models import KbGap
from bot.service.gaps import (
    ADDED_FILE,
    GapError,
    add_entry,
    group_gaps,
    knowledge_questions,
    rebuild_index,
    resolve_gaps,
)
from bot.settings import ROOT, load_settings
from knowledge.sources import load_sources

T0 = datetime(2026, 11, 23, 8, 0)

# Questions a shop's bot could not answer, by the question they ask. Written to be hard
# for lexical grouping: the same frame with another subject ("ship to France" / "ship to
# Japan", 耳机 / 手机保修) and paraphrases that share little more than their subject.
LOG = {
    "antarctica": [
        "do you deliver to antarctica",
        "can you ship to Antarctica?",
        "delivery to antarctica possible?",
        "Do you ship to Antarctica",
        "shipping to antarctica",
    ],
    "france": [
        "do you ship to France?",
        "delivery to france",
        "can I get my order delivered in France",
        "shipping to france available?",
    ],
    "japan": ["do you ship to Japan", "can you deliver to japan?", "japan shipping?"],
    "seashells": ["can I pay with seashells"],
    "bitcoin": [
        "can I pay with bitcoin?",
        "do you accept bitcoin",
        "bitcoin payment accepted?",
        "pay in btc",
        "do you accept crypto currency like bitcoin",
    ],
    "paypal": [
        "can I pay with paypal",
        "do you take PayPal?",
        "paypal accepted?",
        "paypal payment",
        "可以用PayPal付款吗",
        "支持paypal吗",
    ],
    "gift-wrap": ["do you offer gift wrapping?", "can you gift wrap my order", "gift wrap available?"],
    "store": ["where is your physical store", "do you have a shop in Shanghai", "physical store location?"],
    "store-hours": ["what time does your store open", "store opening hours", "when are you open"],
    "pets": ["can I bring my dog to the store"],
    "warranty-headphones": [
        "how long is the warranty on headphones",
        "headphones warranty period",
        "warranty for headphones?",
    ],
    "warranty-laptop": [
        "what's the warranty on laptops",
        "laptop warranty how long",
        "is there a warranty for the laptop",
    ],
    "warranty-phone": ["how long is the phone warranty", "warranty for phones?"],
    "birthday": ["do I get a birthday gift", "is there a birthday discount", "birthday coupon for members?"],
    "jobs": ["are you hiring", "how do I apply for a job at lumo", "job openings?"],
    "bulk": ["do you offer discounts for bulk orders", "wholesale price for 100 units", "bulk order discount"],
    "engraving": ["can you engrave my name on the watch", "do you offer engraving", "engraving service?"],
    "subscription": ["how do I cancel my subscription", "cancel subscription"],
    "weather": ["what's the weather like tomorrow"],
    "南极": ["能寄到南极吗", "南极可以配送吗", "你们配送南极吗？", "南极能发货吗"],
    "日本": ["能寄到日本吗", "日本可以发货吗", "支持发往日本吗"],
    "法国": ["能寄到法国吗", "法国能配送吗"],
    "贝壳": ["可以用贝壳付款吗"],
    "比特币": ["可以用比特币付款吗", "支持比特币支付吗", "比特币能付吗"],
    "花呗": ["能用花呗分期吗", "支持花呗吗", "花呗付款可以吗"],
    "礼品包装": ["有礼品包装吗", "可以帮忙包装成礼物吗", "礼品包装怎么弄"],
    "实体店": ["你们有实体店吗", "线下门店在哪里", "实体店地址"],
    "营业时间": ["门店几点开门", "实体店营业时间"],
    "宠物": ["宠物可以进店吗"],
    "耳机保修": ["耳机保修多久", "耳机的保修期是多长"],
    "笔记本保修": ["笔记本电脑保修多久", "笔记本保修期多长"],
    "手机保修": ["手机保修几年", "手机的保修期是多久"],
    "生日": ["生日有优惠吗", "会员生日礼物有吗", "生日券怎么领"],
    "招聘": ["你们招人吗", "怎么应聘露莫", "招聘信息在哪看"],
    "刻字": ["手表可以刻字吗", "提供刻字服务吗", "能免费刻字吗"],
    "团购": ["批量购买有折扣吗", "大量采购怎么优惠", "团购有优惠吗"],
    "增值税发票": ["能开增值税专用发票吗"],
}


@pytest.fixture(scope="module")
def background():
    return knowledge_questions([ROOT / "data" / "knowledge"])


def gap(session, question, *, tier="normal", at=T0, resolved=None):
    row = KbGap(
        sender_id="web-1",
        customer_id=None,
        tier=tier,
        language="zh" if question[0] >= "\u3400" else "en",
        question=question,
        best_score=0.1,
        created_at=at,
        resolved_entry_id=resolved,
    )
    session.add(row)
    session.flush()
    return row


def group_of(groups, question):
    return next(g for g in groups if question in g.examples)


def test_the_threshold_keeps_groups_nearly_pure_on_a_realistic_log(session, background):
    labels = {}
    for minute, (label, questions) in enumerate(LOG.items()):
        for question in questions:
            labels[gap(session, question, at=T0 + timedelta(minutes=minute)).id] = label
    groups = group_gaps(session, background=background, limit=1000)
    together = {pair for g in groups for pair in itertools.combinations(sorted(g.gap_ids), 2)}
    same = {pair for pair in itertools.combinations(sorted(labels), 2) if labels[pair[0]] == labels[pair[1]]}
    precision = len(together & same) / len(together)
    recall = len(together & same) / len(same)
    # Measured at 0.40: precision 0.88, recall 0.63. What is merged is one subject asked
    # of several products (the warranty on headphones and on phones), and "store opening
    # hours" with "job openings?".
    assert precision >= 0.85 and recall >= 0.6, (precision, recall)
    assert sum(len(g.gap_ids) for g in groups) == len(labels)


def test_paraphrases_fall_together_in_english_and_chinese(session, background):
    for question in [
        "do you deliver to antarctica",
        "can you ship to Antarctica?",
        "delivery to antarctica possible?",
        "can I pay with seashells",
        "do you ship to Japan",
        "is there a student discount",
        "能寄到南极吗",
        "南极可以配送吗",
        "你们配送南极吗？",
        "可以用贝壳付款吗",
        "能寄到日本吗",
        "手表可以刻字吗",
    ]:
        gap(session, question)
    groups = group_gaps(session, background=background)

    antarctica = group_of(groups, "can you ship to Antarctica?")
    assert set(antarctica.examples) == {
        "do you deliver to antarctica",
        "can you ship to Antarctica?",
        "delivery to antarctica possible?",
    }
    nanji = group_of(groups, "能寄到南极吗")
    assert set(nanji.examples) == {"能寄到南极吗", "南极可以配送吗", "你们配送南极吗？"}
    for alone in [
        "can I pay with seashells",
        "do you ship to Japan",
        "可以用贝壳付款吗",
        "能寄到日本吗",
        "手表可以刻字吗",
    ]:
        assert group_of(groups, alone).examples == (alone,)
    assert len(groups) == 8


def test_without_a_background_only_close_rewordings_group(session):
    # In a short log the words that differ ("ship" / "deliver") are as rare as the subject
    # they share, so without the knowledge base's questions these paraphrases stay apart.
    for question in [
        "Do you ship to Antarctica?",
        "do you ship to antarctica",
        "delivery to antarctica possible?",
        "do you deliver to antarctica",
        "can I pay with seashells",
    ]:
        gap(session, question)
    groups = group_gaps(session)
    assert sorted(sorted(g.examples) for g in groups) == [
        ["can I pay with seashells"],
        ["delivery to antarctica possible?", "do you deliver to antarctica"],
        ["do you ship to antarctica"],
    ]
    assert [g.count for g in groups] == [2, 2, 1]


def test_a_group_counts_every_gap_and_shows_the_most_asked_wording(session, background):
    first = gap(session, "do you deliver to antarctica", tier="vip", at=T0)
    ids = [first.id] + [
        gap(session, question, tier=tier, at=T0 + timedelta(hours=hours)).id
        for question, tier, hours in [
            ("can you ship to Antarctica?", "normal", 1),
            ("Can you ship to Antarctica", "gold", 2),
            ("can you ship to antarctica?", "normal", 3),
            ("能寄到南极吗", "normal", 4),
        ]
    ]
    groups = group_gaps(session, background=background)
    english = group_of(groups, "do you deliver to antarctica")
    assert english.count == 4 and english.gap_ids == tuple(ids[:4])
    # The three spellings of one wording are one example, shown as last asked.
    assert english.question == "can you ship to antarctica?"
    assert english.examples == ("can you ship to antarctica?", "do you deliver to antarctica")
    assert english.languages == ("en",) and english.tiers == ("gold", "normal", "vip")
    assert english.last_seen == T0 + timedelta(hours=3)
    assert groups[0] is english and groups[1].languages == ("zh",)


def test_groups_are_sorted_by_count_then_by_the_latest_question(session, background):
    gap(session, "can I pay with seashells", at=T0)
    gap(session, "能寄到南极吗", at=T0 + timedelta(days=2))
    gap(session, "do you ship to Japan", at=T0 + timedelta(days=1))
    gap(session, "do you ship to Japan?", at=T0 + timedelta(days=1))
    groups = group_gaps(session, background=background)
    assert [g.question for g in groups] == ["do you ship to Japan?", "能寄到南极吗", "can I pay with seashells"]
    assert [g.question for g in group_gaps(session, background=background, limit=2)] == [
        "do you ship to Japan?",
        "能寄到南极吗",
    ]


def test_resolved_gaps_are_left_out(session, background):
    gap(session, "can I pay with seashells", resolved="payment-methods")
    gap(session, "能寄到南极吗", resolved="shipping-antarctica")
    open_gap = gap(session, "南极可以配送吗")
    [group] = group_gaps(session, background=background)
    assert group.gap_ids == (open_gap.id,)


def test_since_leaves_out_older_gaps(session, background):
    gap(session, "do you deliver to antarctica", at=T0 - timedelta(days=8))
    recent = gap(session, "can you ship to Antarctica?", at=T0 - timedelta(days=1))
    at_the_start = gap(session, "can I pay with seashells", at=T0 - timedelta(days=7))
    groups = group_gaps(session, since=T0 - timedelta(days=7), background=background)
    assert sorted(i for g in groups for i in g.gap_ids) == [recent.id, at_the_start.id]


def test_no_gaps_no_groups(session):
    assert group_gaps(session) == []


TIERS = ["guest", "normal", "bronze", "silver", "gold", "vip"]

SHIPPING = """\
# Shipping, written by hand.
entries:
  - id: shipping-fee
    tags: [shipping]
    zh:
      question: 运费多少？
      answer: >-
        满 99 元包邮。
    en:
      question: How much is shipping?
      answer: Free over ¥99.
"""


@pytest.fixture
def sources(tmp_path):
    folder = tmp_path / "knowledge"
    folder.mkdir()
    (folder / "shipping.yml").write_text(SHIPPING, encoding="utf-8")
    (folder / "extra.csv").write_text(
        "id,lang,question,variants,answer,tags,tiers\ninvoice,en,How do I get an invoice?,,Under My Orders.,,\n",
        encoding="utf-8",
    )
    return folder


def add_antarctica(sources, **overrides):
    fields = dict(
        entry_id="shipping-antarctica",
        questions={"zh": "能寄到南极吗？", "en": "Do you ship to Antarctica?"},
        answers={"zh": "抱歉，我们暂不配送南极。", "en": "Sorry, we don't ship to Antarctica."},
        variants={"zh": ["南极可以配送吗", " ", "南极可以配送吗"], "en": ["delivery to antarctica possible?"]},
        tags=["shipping"],
        tiers=["gold", "vip"],
        known_tiers=TIERS,
    )
    return add_entry(sources, **{**fields, **overrides})


def entries_of(sources):
    return {e.id: e for e in load_sources([sources], known_tiers=TIERS)}


def test_an_added_entry_reads_back_with_its_answers_in_each_language(sources):
    path = add_antarctica(sources)
    assert path == sources / ADDED_FILE
    entry = entries_of(sources)["shipping-antarctica"]
    assert entry.answer_in("zh") == ("zh", "抱歉，我们暂不配送南极。")
    assert entry.answer_in("en") == ("en", "Sorry, we don't ship to Antarctica.")
    assert entry.variants == {"zh": ["南极可以配送吗"], "en": ["delivery to antarctica possible?"]}
    assert entry.tags == ("shipping",) and entry.tiers == ("gold", "vip")
    text = path.read_text(encoding="utf-8")
    assert "能寄到南极吗？" in text and "\\u" not in text
    assert (sources / "shipping.yml").read_text(encoding="utf-8") == SHIPPING
    assert sorted(p.name for p in sources.iterdir()) == ["added.yml", "extra.csv", "shipping.yml"]


def test_an_entry_in_one_language_and_a_multi_line_answer(sources):
    add_entry(
        sources,
        entry_id="pay-seashells",
        questions={"en": "Can I pay with seashells?"},
        answers={"en": "No.\nWe take cards, Alipay and WeChat Pay."},
        known_tiers=TIERS,
    )
    entry = entries_of(sources)["pay-seashells"]
    assert entry.answers == {"en": "No.\nWe take cards, Alipay and WeChat Pay."}
    assert entry.tiers == () and entry.variants == {"en": []}


def test_a_second_entry_is_appended_after_the_first(sources):
    path = add_antarctica(sources)
    first = path.read_bytes()
    add_entry(
        sources,
        entry_id="pay-seashells",
        questions={"zh": "可以用贝壳付款吗"},
        answers={"zh": "不可以。"},
        known_tiers=TIERS,
    )
    assert path.read_bytes().startswith(first)
    entries = entries_of(sources)
    assert {"shipping-fee", "invoice", "shipping-antarctica", "pay-seashells"} == set(entries)
    assert entries["pay-seashells"].answers == {"zh": "不可以。"}
    assert entries["shipping-antarctica"].answers["en"] == "Sorry, we don't ship to Antarctica."


def test_a_hand_edited_file_keeps_its_comments_and_layout(sources):
    path = sources / ADDED_FILE
    hand = "# mine\nentries:\n- id: a-first\n  en: {question: First, answer: Yes.}  # flow style\n"
    path.write_text(hand, encoding="utf-8")
    add_antarctica(sources)
    assert path.read_text(encoding="utf-8").startswith(hand)
    assert {"a-first", "shipping-antarctica"} <= set(entries_of(sources))


def test_an_empty_entries_list_is_written_anew(sources):
    (sources / ADDED_FILE).write_text("entries: []\n", encoding="utf-8")
    add_antarctica(sources)
    assert "shipping-antarctica" in entries_of(sources)


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"entry_id": "shipping-fee"}, "already used"),
        ({"entry_id": "invoice"}, "already used"),
        ({"entry_id": "shipping-antarctica"}, "already used"),
        ({"answers": {"zh": "抱歉。"}}, "en answer is empty"),
        ({"answers": {"zh": "抱歉。", "en": "  "}}, "en answer is empty"),
        ({"questions": {"en": "Antarctica?"}}, "zh question is empty"),
        ({"questions": {}, "answers": {}, "variants": {}}, "at least one language"),
        ({"questions": {"fr": "Antarctique ?"}, "answers": {"fr": "Non."}, "variants": {}}, "not fr"),
        (
            {
                "questions": {"en": "Antarctica?"},
                "answers": {"en": "No."},
                "variants": {"zh": ["南极"], "en": ["antarctica"]},
            },
            "variants in zh",
        ),
        ({"tiers": ["gold", "platinum"]}, "unknown tier(s) platinum"),
        ({"tags": ["shipping", " "]}, "tags must not be blank"),
        ({"entry_id": "Shipping Antarctica"}, "entry id"),
        ({"entry_id": "shipping--antarctica"}, "entry id"),
        ({"entry_id": "-antarctica"}, "entry id"),
        ({"entry_id": "a" * 65}, "entry id"),
        ({"entry_id": ""}, "entry id"),
    ],
)
def test_bad_input_is_refused_and_changes_nothing(sources, overrides, message):
    add_antarctica(sources, entry_id="already-there")
    if overrides.get("entry_id") == "shipping-antarctica":
        add_antarctica(sources)
    before = {p.name: p.read_bytes() for p in sources.iterdir()}
    with pytest.raises(GapError, match=message.replace("(", r"\(").replace(")", r"\)")):
        add_antarctica(sources, **overrides)
    assert {p.name: p.read_bytes() for p in sources.iterdir()} == before


def test_broken_sources_are_refused_before_anything_is_written(sources):
    broken = SHIPPING.replace("  - id: shipping-fee\n", "  - tags: [x]\n")
    (sources / "shipping.yml").write_text(broken, encoding="utf-8")
    with pytest.raises(GapError, match="sources are broken"):
        add_antarctica(sources)
    assert not (sources / ADDED_FILE).exists()


def test_a_file_that_does_not_load_after_writing_is_restored(sources, monkeypatch):
    path = add_antarctica(sources, entry_id="already-there")
    before = path.read_bytes()
    monkeypatch.setattr(bot.service.gaps, "_appended", lambda old, item: old.decode() + "  - id: [broken\n")
    with pytest.raises(GapError, match="restored"):
        add_antarctica(sources)
    assert path.read_bytes() == before
    assert sorted(p.name for p in sources.iterdir()) == ["added.yml", "extra.csv", "shipping.yml"]


def test_a_first_file_that_does_not_read_back_is_removed(sources, monkeypatch):
    other = "entries:\n  - id: other\n    en: {question: Q, answer: A.}\n"
    monkeypatch.setattr(bot.service.gaps, "_appended", lambda old, item: other)
    with pytest.raises(GapError, match="did not read back"):
        add_antarctica(sources)
    assert not (sources / ADDED_FILE).exists()


def test_tiers_default_to_the_configured_tiers_file(sources, monkeypatch):
    monkeypatch.setenv("BOT_DEMO", "1")
    monkeypatch.delenv("TIERS_FILE", raising=False)
    add_antarctica(sources, known_tiers=None)
    with pytest.raises(GapError, match="platinum"):
        add_antarctica(sources, entry_id="other", tiers=["platinum"], known_tiers=None)


def test_a_missing_sources_folder_is_refused(tmp_path):
    with pytest.raises(GapError, match="no knowledge base sources folder"):
        add_antarctica(tmp_path / "nowhere")


def test_resolve_marks_the_gaps_with_the_entry(session):
    ids = [gap(session, q).id for q in ["能寄到南极吗", "南极可以配送吗"]]
    other = gap(session, "can I pay with seashells")
    earlier = gap(session, "你们配送南极吗？", resolved="shipping-polar")
    assert resolve_gaps(session, [*ids, earlier.id], "shipping-antarctica") == 2
    session.expire_all()
    assert [session.get(KbGap, i).resolved_entry_id for i in ids] == ["shipping-antarctica"] * 2
    assert session.get(KbGap, other.id).resolved_entry_id is None
    assert session.get(KbGap, earlier.id).resolved_entry_id == "shipping-polar"
    assert resolve_gaps(session, [], "shipping-antarctica") == 0
    with pytest.raises(GapError):
        resolve_gaps(session, [other.id], "Not An Id")


def kb_settings(tmp_path, sources):
    return load_settings(
        {
            "BOT_DEMO": "1",
            "BOT_VAR_DIR": str(tmp_path / "var"),
            "KB_SOURCES": str(sources),
            "KB_DIR": str(tmp_path / "kb"),
        }
    )


def test_rebuilding_from_broken_sources_fails_with_the_loaders_message(tmp_path, sources):
    (sources / "broken.yml").write_text("entries:\n  - id: x\n    en: {question: Q}\n", encoding="utf-8")
    message = r"broken.yml:3: entry 'x' \(en\) has no answer \(the index was not changed; there is none yet\)"
    with pytest.raises(GapError, match=message):
        rebuild_index(kb_settings(tmp_path, sources))


@pytest.mark.slow
def test_rebuilding_makes_a_new_build_with_the_added_entry(tmp_path, sources):
    from knowledge.index import current_build, load_index

    add_antarctica(sources)
    settings = kb_settings(tmp_path, sources)
    build_id = rebuild_index(settings)
    assert current_build(settings.kb_dir).name == build_id
    index = load_index(current_build(settings.kb_dir))
    assert {e.id for e in index.entries} == {"shipping-fee", "invoice", "shipping-antarctica"}
    assert str(sources / ADDED_FILE) in index.manifest["sources"]
    assert os.path.isdir(settings.kb_dir / "builds" / build_id)
