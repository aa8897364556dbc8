# make repro: set up .venv (only when requirements.txt changed) and run the pipeline.
# make test:  the same set-up, then the test suite.
# make check:  did this run reproduce the results committed at REV (default HEAD)? A table; exit 1 if not.
# make seeds:  the seed study: every model retrained with 8 seeds, metrics/seeds.json (about 25 minutes).
# make report: report.md for a pull request (BASE=rev to diff against, default HEAD~1).
# make bench:  time every model's epochs and the pipeline on this machine.
PYTHON ?= python3
VENV := .venv
STAMP := $(VENV)/.installed
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)

BASE ?= HEAD~1
REV ?= HEAD

.PHONY: setup repro test check seeds report bench lock

setup: $(STAMP)

$(STAMP): requirements.txt
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --disable-pip-version-check -q -r requirements.txt
	touch $@

repro: setup
	dvc repro

test: setup
	pytest

check: setup
	python -m fmnist.check --rev $(REV)

seeds: setup
	python -m fmnist.seeds

report: setup
	python -m fmnist.report --base $(BASE)

bench: setup
	python -m fmnist.bench

lock: setup
	$(VENV)/bin/pip install --disable-pip-version-check -q -r requirements.in
	(echo "# Every package the project installs, pinned (generated from requirements.in by \`make lock\`)."; \
	 $(VENV)/bin/pip freeze) > requirements.txt
