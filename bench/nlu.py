"""NLU generalisation: intent accuracy on messages the team did not write.

    .venv/bin/python -m bench.nlu [--evaldata ../shared/evaldata] [--split test|dev] [--config config.yml]
        [--model nlu.tar.gz] [--predictions out.jsonl]

Trains an NLU-only model on data/nlu with the project's config.yml, or with another
pipeline to compare (unless --model names a model), parses every evaluation message with
it in one Rasa process, and prints intent accuracy per group and language, with counts,
then the commonest wrong intents of each group. The groups:

- CLINC150 test, English: its greeting, goodbye and thank_you rows as greet, goodbye and
  thank; its oos rows as out_of_scope (two groups: the 90 social rows and the 1,000 oos rows).
- BANKING77 test, English: every row is a customer's question, so faq. A fixed sample of
  800 of the 3,080 rows (seed 13) bounds the run time.
- SMP2017 dev, Chinese: `chat` is small talk, so chitchat; the other 30 labels are
  assistant requests outside a shop's service, so out_of_scope (two groups).
- The frozen sets in bench/data, one per language.

Public splits are read from the evaldata folder at run time and never copied or trained on.
``--split dev`` measures the same groups on CLINC150's train and val, BANKING77's train and
SMP2017's train instead: what training data and settings are chosen on, so that the test
rows above are only ever measured.

"fallback" is the share the FallbackClassifier turned into nlu_fallback
(counted wrong). "in data/nlu" counts messages whose text, lower-cased and without
punctuation, is also a training example: those measure memory, not generalisation.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import subprocess
import tempfile
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import yaml

__all__ = ["FROZEN", "frozen_rows", "normalise", "training_texts"]

ROOT = Path(__file__).resolve().parents[1]
FROZEN = {"en": ROOT / "bench" / "data" / "frozen_en.jsonl", "zh": ROOT / "bench" / "data" / "frozen_zh.jsonl"}
DEFAULT_EVALDATA = ROOT.parent / "shared" / "evaldata"
RASA_BIN = ROOT / ".venv-rasa" / "bin"
RASA_ENV = {**os.environ, "RASA_TELEMETRY_ENABLED": "false", "RASA_MAX_CACHE_SIZE": "0", "PYTHONPATH": str(ROOT)}

# The public labels as the product's intents.
CLINC150 = {"greeting": "greet", "goodbye": "goodbye", "thank_you": "thank", "oos": "out_of_scope"}
BANKING77_INTENT = "faq"
BANKING77_SAMPLE, SEED = 800, 13
SMP2017_CHAT = "chitchat"  # `chat`; every other SMP2017 label is out_of_scope
FALLBACK = "nlu_fallback"
TOP_WRONG = 4

# Runs in .venv-rasa (Python 3.10): loads the model once and parses every message.
PARSER = """
import asyncio, json, logging, sys
logging.disable(logging.WARNING)
from rasa.core.agent import Agent

async def main(model, texts, out):
    agent = Agent.load(model)
    with open(texts, encoding="utf-8") as src, open(out, "w", encoding="utf-8") as dst:
        for line in src:
            intent = (await agent.parse_message(json.loads(line))).get("intent") or {}
            dst.write(json.dumps({"intent": intent.get("name"), "confidence": intent.get("confidence")}) + "\\n")

asyncio.run(main(*sys.argv[1:4]))
"""


@dataclass(frozen=True)
class Row:
    text: str
    intent: str
    source: str = ""  # the public label it came from, for the confusion


@dataclass(frozen=True)
class Group:
    name: str
    lang: str
    rows: list[Row]


def normalise(text: str) -> str:
    """Lower case, punctuation and spacing folded: how two texts are compared for overlap."""
    return " ".join(re.sub(r"[\W_]+", " ", text.lower()).split())


def training_texts() -> dict[str, str]:
    """Every example in data/nlu, normalised, with its intent."""
    found: dict[str, str] = {}
    for path in sorted((ROOT / "data" / "nlu").glob("*.yml")):
        for block in yaml.safe_load(path.read_text(encoding="utf-8"))["nlu"]:
            for line in block.get("examples", "").splitlines():
                if line.strip().startswith("- "):
                    found[normalise(line.strip()[2:])] = block["intent"]
    return found


def _jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def frozen_rows(lang: str) -> list[Row]:
    return [Row(r["text"], r["intent"]) for r in _jsonl(FROZEN[lang])]


# Which files each split reads: "test" gives the figures; "dev" is what wording and settings
# are chosen on, so that the test rows stay unseen (CLINC150's train and val, BANKING77's train,
# SMP2017's train: none of them is trained on either).
SPLITS = {
    "test": {"clinc150": ("test",), "banking77": "test", "smp2017": "dev"},
    "dev": {"clinc150": ("train", "val"), "banking77": "train", "smp2017": "train"},
}


def public_groups(evaldata: Path, split: str = "test") -> list[Group]:
    files = SPLITS[split]
    clinc = [r for name in files["clinc150"] for r in _jsonl(evaldata / "intent_clinc150_en" / f"{name}.jsonl")]
    social = [
        Row(r["text"], CLINC150[r["intent"]], r["intent"])
        for r in clinc
        if r["intent"] in CLINC150 and r["intent"] != "oos"
    ]
    oos = [Row(r["text"], CLINC150["oos"], "oos") for r in clinc if r["intent"] == "oos"]
    banking = _jsonl(evaldata / "intent_banking77_en" / f"{files['banking77']}.jsonl")
    sample = random.Random(SEED).sample(banking, min(BANKING77_SAMPLE, len(banking)))
    smp = _jsonl(evaldata / "intent_smp2017_zh" / f"{files['smp2017']}.jsonl")
    clinc_name, smp_name = "+".join(files["clinc150"]), files["smp2017"]
    return [
        Group(f"CLINC150 {clinc_name}: greeting, goodbye, thank_you", "en", social),
        Group(f"CLINC150 {clinc_name}: oos", "en", oos),
        Group(
            f"BANKING77 {files['banking77']} as questions ({len(sample)} of {len(banking)})",
            "en",
            [Row(r["text"], BANKING77_INTENT, r["intent"]) for r in sample],
        ),
        Group(
            f"SMP2017 {smp_name}: chat",
            "zh",
            [Row(r["text"], SMP2017_CHAT, "chat") for r in smp if r["intent"] == "chat"],
        ),
        Group(
            f"SMP2017 {smp_name}: other 30 domains",
            "zh",
            [Row(r["text"], "out_of_scope", r["intent"]) for r in smp if r["intent"] != "chat"],
        ),
    ]


def _run(args: list[str], timeout: int) -> None:
    result = subprocess.run(args, cwd=ROOT, env=RASA_ENV, capture_output=True, text=True, timeout=timeout)
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(args[:3])} failed:\n{result.stdout[-3000:]}{result.stderr[-3000:]}")


def train(out: Path, config: Path) -> Path:
    _run(
        [
            str(RASA_BIN / "rasa"),
            "train",
            "nlu",
            "--nlu",
            "data/nlu",
            "--config",
            str(config),
            "--out",
            str(out),
            "--fixed-model-name",
            "nlu",
        ],
        timeout=3600,
    )
    return out / "nlu.tar.gz"


def parse(model: Path, texts: list[str], work: Path) -> list[dict[str, object]]:
    source, out = work / "texts.jsonl", work / "parsed.jsonl"
    # A leading "/" would make Rasa read the text as an intent payload.
    source.write_text("".join(json.dumps(t.lstrip("/"), ensure_ascii=False) + "\n" for t in texts), encoding="utf-8")
    _run([str(RASA_BIN / "python"), "-c", PARSER, str(model), str(source), str(out)], timeout=3600)
    return _jsonl(out)


def _score(rows: list[Row], predicted: list[str]) -> int:
    return sum(p == r.intent for r, p in zip(rows, predicted))


def report(groups: list[Group], predicted: dict[str, list[str]], known: dict[str, str]) -> Iterable[str]:
    yield "| group | lang | n | accuracy | fallback | in data/nlu |"
    yield "|---|---|---:|---:|---:|---:|"
    for g in groups:
        p, n = predicted[g.name], len(g.rows)
        accuracy = _score(g.rows, p) / n
        seen = sum(normalise(r.text) in known for r in g.rows)
        yield (f"| {g.name} | {g.lang} | {n} | {accuracy:.3f} | {p.count(FALLBACK) / n:.3f} | {seen} |")
    yield ""
    yield "Commonest wrong intents per group (expected -> given: count):"
    for g in groups:
        wrong = Counter((r.intent, p) for r, p in zip(g.rows, predicted[g.name]) if p != r.intent)
        shown = ", ".join(f"{e} -> {p}: {c}" for (e, p), c in wrong.most_common(TOP_WRONG)) or "none"
        yield f"- {g.name}: {shown}"
        if g.name.startswith("frozen"):
            per = Counter(r.intent for r in g.rows)
            right = Counter(r.intent for r, p in zip(g.rows, predicted[g.name]) if p == r.intent)
            yield "  by intent: " + ", ".join(f"{i} {right[i]}/{per[i]}" for i in sorted(per))
        if g.name.startswith("BANKING77"):
            labels = Counter(r.source for r, p in zip(g.rows, predicted[g.name]) if p != r.intent)
            yield "  BANKING77 labels most often missed: " + ", ".join(f"{k} {c}" for k, c in labels.most_common(5))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--evaldata",
        type=Path,
        default=DEFAULT_EVALDATA,
        help="folder holding intent_clinc150_en, intent_banking77_en, intent_smp2017_zh",
    )
    parser.add_argument(
        "--split",
        choices=sorted(SPLITS),
        default="test",
        help="test: the figures to report; dev: the public training and validation splits, to choose on",
    )
    parser.add_argument("--config", type=Path, default=ROOT / "config.yml", help="the pipeline to train (config.yml)")
    parser.add_argument("--model", type=Path, help="an NLU model to measure instead of training one")
    parser.add_argument("--predictions", type=Path, help="write every message with its expected and given intent here")
    args = parser.parse_args()

    groups = [Group(f"frozen set ({lang})", lang, frozen_rows(lang)) for lang in FROZEN]
    if (args.evaldata / "intent_clinc150_en").is_dir():
        groups = public_groups(args.evaldata, args.split) + groups
    else:
        print(f"no evaluation data at {args.evaldata}: the frozen sets only")
    known = training_texts()
    for lang in FROZEN:
        shared = [r.text for r in frozen_rows(lang) if normalise(r.text) in known]
        print(f"frozen set ({lang}): {len(frozen_rows(lang))} messages, {len(shared)} also in data/nlu {shared or ''}")

    with tempfile.TemporaryDirectory(prefix="bench-nlu-") as tmp:
        work = Path(tmp)
        started = time.perf_counter()
        model = args.model.resolve() if args.model else train(work, args.config.resolve())
        trained = time.perf_counter()
        if args.model is None:
            print(f"trained on data/nlu with {args.config.name} in {trained - started:.0f} s")
        texts = [r.text for g in groups for r in g.rows]
        parsed = parse(model, texts, work)
        if len(parsed) != len(texts):
            raise SystemExit(f"the model parsed {len(parsed)} of {len(texts)} messages")
        print(f"parsed {len(texts)} messages in one Rasa process in {time.perf_counter() - trained:.0f} s")

    predicted: dict[str, list[str]] = {}
    position = 0
    for g in groups:
        predicted[g.name] = [str(p["intent"]) for p in parsed[position : position + len(g.rows)]]
        position += len(g.rows)
    if args.predictions:
        with args.predictions.open("w", encoding="utf-8") as out:
            for g in groups:
                for r, p in zip(g.rows, predicted[g.name]):
                    out.write(
                        json.dumps(
                            {"group": g.name, "text": r.text, "expected": r.intent, "source": r.source, "given": p},
                            ensure_ascii=False,
                        )
                        + "\n"
                    )

    print(f"\nIntent accuracy, {date.today().isoformat()}, {args.model or 'a model trained on data/nlu only'}\n")
    for line in report(groups, predicted, known):
        print(line)


if __name__ == "__main__":
    main()
