# make repro: set up .venv (only when requirements.txt changed) and run the pipeline.
# make test:  the same set-up, then the test suite.
PYTHON ?= python3
VENV := .venv
STAMP := $(VENV)/.installed
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)

.PHONY: setup repro test lock

setup: $(STAMP)

$(STAMP): requirements.txt
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --disable-pip-version-check -q -r requirements.txt
	touch $@

repro: setup
	dvc repro

test: setup
	pytest

lock: setup
	$(VENV)/bin/pip install --disable-pip-version-check -q -r requirements.in
	(echo "# Every package the project installs, pinned (generated from requirements.in by \`make lock\`)."; \
	 $(VENV)/bin/pip freeze) > requirements.txt
