# The two commands of the README, and the steps they share.
# Each step runs only when its inputs changed, so both commands are cheap to repeat.

RASA := .venv-rasa/bin/rasa
TRAINING_DATA := config.yml domain.yml $(shell find data -name '*.yml' -not -path 'data/demo/*') bot/nlu/language_detector.py bot/language.py
MODEL := models/bot.tar.gz

export BOT_DEMO ?= 1
export RASA_TELEMETRY_ENABLED := false
# Rasa's training cache restores a component under the name it had when cached, which
# breaks loading once the pipeline's node names shift: train from scratch instead.
export RASA_MAX_CACHE_SIZE := 0

.PHONY: run test test-fast setup train clean

run: setup $(MODEL)
	.venv/bin/bot run

test: setup $(MODEL)
	.venv/bin/pytest

# Unit tests only: no servers, no training.
test-fast: setup
	.venv/bin/pytest -m "not slow"

setup: .venv/.ready

.venv/.ready: scripts/setup.sh requirements/rasa.txt requirements/app.txt pyproject.toml
	scripts/setup.sh
	touch $@

train: $(MODEL)

$(MODEL): .venv/.ready $(TRAINING_DATA)
	$(RASA) train --fixed-model-name bot --out models
	touch $@

clean:
	rm -rf .venv .venv-rasa models var test-output .pytest_cache
