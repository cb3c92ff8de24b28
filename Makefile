# The two commands of the README, and the steps they share.
# Each step runs only when its inputs changed, so both commands are cheap to repeat.

RASA := .venv-rasa/bin/rasa
TRAINING_DATA := config.yml domain.yml data/rules.yml $(wildcard data/nlu/*.yml) $(wildcard bot/rasa_addons/nlu/*.py) $(wildcard bot/rasa_addons/dialogue/*.py)
# MODEL, EMBEDDING_MODEL, KB and WEBCHAT are where the defaults of bot/settings.py look
# (a test keeps them the same); the settings are declared there alone.
MODEL := models/bot.tar.gz
EMBEDDING_MODEL := models/embeddings/multilingual-e5-small
EMBEDDINGS := $(EMBEDDING_MODEL)/BUILD_COMPLETE.json
KB := var/kb/current
KB_SOURCES := $(shell find data/knowledge -type f)
# The web chat widget, from the npm registry at set-up; never committed.
WEBCHAT_VERSION := 1.0.1
WEBCHAT := var/web/rasa-webchat-$(WEBCHAT_VERSION).js

export BOT_DEMO ?= 1
export RASA_TELEMETRY_ENABLED := false
# Rasa's training cache restores a component under the name it had when cached, which
# breaks loading once the pipeline's node names shift: train from scratch instead.
export RASA_MAX_CACHE_SIZE := 0

.PHONY: run scale chaos test test-fast lint setup train kb clean

run: setup $(MODEL) $(KB) $(WEBCHAT)
	.venv/bin/bot run

# The same behind HAProxy: PostgreSQL, Redis and two replicas of every process (data in var/scale).
scale: setup $(MODEL) $(KB) $(WEBCHAT)
	.venv/bin/bot scale

# The load-and-chaos run on that topology: customers on every channel while replicas are killed -9,
# then the checks (bench/chaos); it prints the figures and fails if a message was lost or duplicated.
chaos: setup $(MODEL) $(KB) $(WEBCHAT)
	.venv/bin/python -m bench.chaos

test: lint $(MODEL) $(KB) $(WEBCHAT)
	.venv/bin/pytest

# Lint and format (ruff), types (mypy), and the layers of DESIGN.md (import-linter's contracts in pyproject.toml).
lint: setup
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
	.venv/bin/mypy
	.venv/bin/lint-imports

# Unit tests only: no servers, no training, no embedding model; on every core.
test-fast: setup
	.venv/bin/pytest -m "not slow and not model" -n auto

setup: .venv/.ready

.venv/.ready: scripts/setup.sh requirements/rasa.txt requirements/app.txt pyproject.toml
	scripts/setup.sh
	touch $@

train: $(MODEL)

$(MODEL): .venv/.ready $(TRAINING_DATA)
	# One OpenMP thread: the sentence model's threads spin while they wait for a busy core.
	OMP_NUM_THREADS=1 $(RASA) train --data data/nlu data/rules.yml --fixed-model-name bot --out models
	touch $@

kb: $(KB)

$(EMBEDDINGS): .venv/.ready
	.venv/bin/python -m knowledge.model_build --out $(EMBEDDING_MODEL)

$(KB): $(EMBEDDINGS) $(KB_SOURCES) tiers.yml $(wildcard knowledge/*.py)
	.venv/bin/bot kb build

$(WEBCHAT):
	scripts/fetch_webchat.sh $(WEBCHAT_VERSION) $@

clean:
	rm -rf .venv .venv-rasa models var test-output .pytest_cache
