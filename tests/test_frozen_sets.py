"""The frozen NLU evaluation sets: well-formed, large enough, labelled with known intents, apart from data/nlu."""

from __future__ import annotations

import json
from collections import Counter

import pytest
import yaml

from bench.nlu import FROZEN, frozen_rows, normalise, training_texts
from bot.rasa_addons.nlu.language import detect_language
from bot.settings import ROOT

MIN_MESSAGES = 150
# Sent only by buttons or the console, never typed by a customer.
PAYLOAD_ONLY = {"choose", "request_callback", "handoff_event", "ticket_update"}


@pytest.mark.parametrize("lang", sorted(FROZEN))
def test_every_line_is_a_text_and_an_intent(lang: str):
    for number, line in enumerate(FROZEN[lang].read_text(encoding="utf-8").splitlines(), start=1):
        record = json.loads(line)
        assert set(record) == {"text", "intent"}, (FROZEN[lang].name, number)
        assert record["text"].strip() == record["text"] and record["text"], (FROZEN[lang].name, number)


@pytest.mark.parametrize("lang", sorted(FROZEN))
def test_each_language_has_enough_distinct_messages(lang: str):
    texts = Counter(normalise(r.text) for r in frozen_rows(lang))
    assert sum(texts.values()) >= MIN_MESSAGES
    assert not [t for t, n in texts.items() if n > 1]


@pytest.mark.parametrize("lang", sorted(FROZEN))
def test_labels_are_intents_of_the_domain(lang: str):
    domain = set(yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))["intents"])
    labels = Counter(r.intent for r in frozen_rows(lang))
    assert set(labels) <= domain - PAYLOAD_ONLY
    # Every kind of message the sets are meant to cover is there.
    for intent in (
        "faq",
        "complain",
        "request_human",
        "greet",
        "goodbye",
        "thank",
        "out_of_scope",
        "ticket_status",
        "ask_tier",
        "order_status",
        "chitchat",
    ):
        assert labels[intent] >= 5, (intent, labels[intent])


@pytest.mark.parametrize("lang", sorted(FROZEN))
def test_no_message_is_a_training_example(lang: str):
    known = training_texts()
    assert not [r.text for r in frozen_rows(lang) if normalise(r.text) in known]


def test_each_set_is_in_its_language():
    for lang in FROZEN:
        languages = Counter(detect_language(r.text) for r in frozen_rows(lang))
        assert languages == {lang: len(frozen_rows(lang))}, (lang, languages)
