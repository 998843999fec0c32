# The 12348 assistant. `make run` sets everything up and starts it; `make test` runs every test.
SHELL := /bin/bash
.DEFAULT_GOAL := help
export RASA_TELEMETRY_ENABLED := false
export SQLALCHEMY_SILENCE_UBER_WARNING := 1
export TF_CPP_MIN_LOG_LEVEL := 2
export PYTHONDONTWRITEBYTECODE := 1

PYTHON310 ?= $(shell scripts/find_python310.sh)
APP := .venv/bin
RASA := .venv-rasa/bin
MODEL := models/current.tar.gz
NLU_SOURCES := $(shell find data domain -name '*.yml' -o -name '*.txt' 2>/dev/null) config.yml \
               $(wildcard nlu/hotline_nlu/*.py) data/directory_sample.csv

.PHONY: help setup train run shell test lint test-app test-rasa eval bench lock lookups clean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | sed 's/:.*##/\t/'

setup:  ## build both environments (no-op when current)
	@# Both at once: they share nothing, and pip spends much of its time unpacking and writing files.
	@$(MAKE) --no-print-directory -j2 .venv/.installed .venv-rasa/.installed

.venv/.installed: requirements/app.txt pyproject.toml nlu/pyproject.toml
	@test -n "$(PYTHON310)" || exit 1
	test -x $(APP)/python || $(PYTHON310) -m venv .venv
	$(APP)/pip install -q --disable-pip-version-check -r requirements/app.txt
	$(APP)/pip install -q --disable-pip-version-check --no-deps -e . -e ./nlu
	touch $@

.venv-rasa/.installed: requirements/rasa.txt nlu/pyproject.toml rasa_runtime/pyproject.toml
	@test -n "$(PYTHON310)" || exit 1
	test -x $(RASA)/python || $(PYTHON310) -m venv .venv-rasa
	$(RASA)/pip install -q --disable-pip-version-check -r requirements/rasa.txt
	$(RASA)/pip install -q --disable-pip-version-check --no-deps -e ./nlu -e ./rasa_runtime
	@# Telemetry and error reporting off in Rasa's own config too (~/.config/rasa/global.yml), not only by env.
	$(RASA)/rasa telemetry disable >/dev/null
	touch $@

lookups: .venv/.installed  ## regenerate NLU lookup tables and synonyms from the roster
	$(APP)/python scripts/gen_nlu_lookups.py

data/nlu/generated/roster.yml: data/directory_sample.csv scripts/gen_nlu_lookups.py
	$(APP)/python scripts/gen_nlu_lookups.py

train: $(MODEL)  ## train the model (only when data, domain or config changed)

$(MODEL): .venv-rasa/.installed data/nlu/generated/roster.yml $(NLU_SOURCES)
	@mkdir -p models reports
	@start=$$(date +%s); \
	$(RASA)/python -m hotline_rasa.train --config config.yml --domain domain --data data --out models --fixed-model-name current \
	  --num-threads 2 && echo "trained in $$(( $$(date +%s) - start )) s: $$(du -h $(MODEL) | cut -f1)" | tee reports/train_time.txt

run: setup train  ## start the whole assistant locally (Rasa 5005, actions 5055, web 8000); Ctrl-C stops it all
	@scripts/run.sh

shell: setup train  ## talk to the bot in the terminal (starts the action server too)
	@source scripts/local_env.sh; $(APP)/python -m actions.server -p 5055 >var/actions.log 2>&1 & pid=$$!; \
	trap "kill $$pid 2>/dev/null" EXIT INT TERM HUP; $(RASA)/rasa shell -m $(MODEL) --endpoints endpoints.yml

test: setup train  ## every test: lint, types, rasa data validate, pytest, conversation tests
	$(APP)/ruff check .
	$(APP)/mypy
	$(RASA)/rasa data validate --config config.yml --domain domain --data data --fail-on-warnings
	HOTLINE_REQUIRE_MODEL=1 $(APP)/pytest -q
	source scripts/local_env.sh && $(RASA)/rasa test core --model $(MODEL) --stories tests/test_stories.yml --endpoints endpoints.yml \
	  --fail-on-prediction-errors --out var/rasa-test-results

lint: .venv/.installed  ## ruff (lint) and mypy (types: hotline/ strict), as make test runs them first
	$(APP)/ruff check .
	$(APP)/mypy

eval: setup train  ## score the model on the test sets: reports/nlu_eval.md (dev), nlu_holdout.md, nlu_holdout_2/3/4/5/6.md (blind)
	$(RASA)/python scripts/eval_nlu.py --model $(MODEL) --test tests/nlu/*.yml --name nlu_eval
	$(RASA)/python scripts/eval_nlu.py --model $(MODEL) --test tests/nlu_holdout/holdout.yml --name nlu_holdout
	$(RASA)/python scripts/eval_nlu.py --model $(MODEL) --test tests/nlu_holdout/holdout_2.yml --name nlu_holdout_2
	$(RASA)/python scripts/eval_nlu.py --model $(MODEL) --test tests/nlu_holdout/holdout_3.yml --name nlu_holdout_3
	$(RASA)/python scripts/eval_nlu.py --model $(MODEL) --test tests/nlu_holdout/holdout_4.yml --name nlu_holdout_4
	$(RASA)/python scripts/eval_nlu.py --model $(MODEL) --test tests/nlu_holdout/holdout_5.yml --name nlu_holdout_5
	$(RASA)/python scripts/eval_nlu.py --model $(MODEL) --test tests/nlu_holdout/holdout_6.yml --name nlu_holdout_6
	$(RASA)/python scripts/sweep_intent_features.py --fallback 2>/dev/null > reports/fallback_sweep.md

bench: setup train  ## speed, memory and chaos benchmarks; writes reports/bench_*.txt, reports/chaos.md
	$(RASA)/python scripts/bench_nlu.py --model $(MODEL) | tee reports/bench_nlu.txt
	$(APP)/python scripts/bench_ledger.py | tee reports/bench_ledger.txt
	$(APP)/python scripts/bench_stats.py | tee reports/bench_stats.txt
	$(APP)/python scripts/bench_stats.py --one-year | tee -a reports/bench_stats.txt
	$(APP)/python scripts/bench_load.py --processes 2 --slot-source words,tracker  # a crowd through /api/chat, ours vs stock Rasa (2 Rasa processes each), citizens reading the bot's words and (issue 13's way) the tracker: reports/bench_load.md
	@# Processes killed mid-conversation (issue 27): 150 wage claims, 6 SIGKILLs of each kind, after a control run.
	$(APP)/python scripts/chaos.py --conversations 150 --concurrency 6 --kills 6 --control 30 --crash-loop 5 --out reports/chaos.md

lock:  ## re-pin requirements/*.txt from fresh installs of requirements/*.in
	rm -rf /tmp/lock-app /tmp/lock-rasa
	$(PYTHON310) -m venv /tmp/lock-app && /tmp/lock-app/bin/pip install -q -r requirements/app.in
	{ echo "# Pinned from a clean install of requirements/app.in (pip freeze). Regenerate: make lock"; \
	  /tmp/lock-app/bin/pip freeze --exclude-editable; } > requirements/app.txt
	$(PYTHON310) -m venv /tmp/lock-rasa && /tmp/lock-rasa/bin/pip install -q -r requirements/rasa.in
	{ echo "# Pinned from a clean install of requirements/rasa.in (pip freeze). Regenerate: make lock"; \
	  /tmp/lock-rasa/bin/pip freeze --exclude-editable; } > requirements/rasa.txt

clean:  ## remove environments, models and local data
	rm -rf .venv .venv-rasa models var
