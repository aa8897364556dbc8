# make repro: set up .venv (only when requirements.txt changed) and run the pipeline.
# make test:  the same set-up, then the test suite.
# make report: report.md for a pull request (BASE=rev to diff against, default HEAD~1).
# make bench:  time every model's epochs and the pipeline on this machine.
PYTHON ?= python3
VENV := .venv
STAMP := $(VENV)/.installed
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)

BASE ?= HEAD~1

.PHONY: setup repro test report bench lock

setup: $(STAMP)

$(STAMP): requirements.txt
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --disable-pip-version-check -q -r requirements.txt
	touch $@

repro: setup
	dvc repro

test: setup
	pytest

report: setup
	python -m fmnist.report --base $(BASE)

bench: setup
	python -m fmnist.bench

lock: setup
	$(VENV)/bin/pip install --disable-pip-version-check -q -r requirements.in
	(echo "# Every package the project installs, pinned (generated from requirements.in by \`make lock\`)."; \
	 $(VENV)/bin/pip freeze) > requirements.txt
