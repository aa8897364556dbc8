"""`make comment PR=<number>`: post report.md on a GitHub pull request as one comment, which later runs update
in place instead of adding another. `make summary`: the same text to the workflow run's summary page.

    python -m fmnist.review.pr_comment [--pr NUMBER] [--summary FILE] [--failed-step NAME] [--base REV]
                                       [--artifact-url URL] [report.md]

The text opens with a hidden marker line (how a later run finds the comment), then the head and base commits,
the workflow run's address and the time (UTC), then report.md. Three rules keep the comment honest:

- `--failed-step NAME` (the workflow passes it when an earlier step failed) puts "This run failed at step NAME;
  the verdicts below are from <commit>" first. With no report.md, the earlier comment's verdicts stay under
  that line, so a failed run never leaves a stale comment without a warning.
- Before writing, the pull request's current head commit must be this run's (`git rev-parse HEAD`): a run
  overtaken by a newer push writes nothing, so it cannot overwrite the newer run's comment.
- A text over GitHub's 65,536-character limit is cut at a section boundary (a line starting with `## `), with
  a link to the run's artifact, which has the whole report.

Talks to GitHub through the `gh` command-line tool: it needs GH_TOKEN (in a workflow, the run's GITHUB_TOKEN
with `pull-requests: write`) and GH_REPO=OWNER/REPO (or a git remote on GitHub). Reads only the standard
library and the working tree, so it runs even when `make setup` failed.
"""
import argparse
import json
import os
import re
import subprocess
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from fmnist.errors import UserError
from fmnist.review import revisions
from fmnist.stage import run_stage

# The first line of the comment: how a later run finds the comment to update.
MARKER = "<!-- fmnist-report -->"
# After the header: the commit whose committed results the verdicts below it come from, then the report.
VERDICTS_FROM = "<!-- fmnist-report verdicts from: {commit} -->"
VERDICTS_FROM_RE = re.compile(r"^<!-- fmnist-report verdicts from: (\S+) -->\n", flags=re.M)
MAX_COMMENT_CHARS = 65_536  # GitHub refuses longer comment bodies
SECTION_RE = re.compile(r"^## ", flags=re.M)
CHECK_FILE = Path("check.json")
REPORT_JSON = Path("report.json")


def short(commit: str | None) -> str:
    return commit[:12] if commit else "unknown"


@dataclass
class Run:
    """What the header says about this run."""
    head: str  # the commit this run checked out
    base: str | None = None  # the merge base the report compared with
    url: str | None = None  # the workflow run's page
    time: str = ""  # when the text was written, UTC
    failed_step: str | None = None
    artifact_url: str | None = None  # the run's artifact with the whole report


def header(run: Run, verdicts_from: str | None) -> str:
    lines = [MARKER]
    if run.failed_step:
        source = f"the verdicts below are from {short(verdicts_from)}" if verdicts_from else "it has no verdicts"
        lines += ["> [!WARNING]", f"> This run failed at step `{run.failed_step}`; {source}.", ""]
    where = f"[workflow run]({run.url})" if run.url else "not a workflow run"
    lines.append(f"**Head** `{short(run.head)}` · **base** `{short(run.base)}` · {where} · {run.time}")
    return "\n".join(lines) + "\n"


def earlier_verdicts(body: str | None) -> tuple[str | None, str]:
    """The commit and the report text an earlier comment holds, (None, "") if it holds none."""
    match = VERDICTS_FROM_RE.search(body or "")
    return (match.group(1), body[match.end():]) if match else (None, "")


def compose(run: Run, report: str | None, earlier_body: str | None = None, check_line: str | None = None) -> str:
    """The whole text: header, then this run's report, or else (after a failed step) the earlier comment's."""
    if report is not None:
        verdicts_from, text = run.head, report
    elif run.failed_step:
        verdicts_from, text = earlier_verdicts(earlier_body)
    else:
        verdicts_from, text = None, ""
    body = header(run, verdicts_from)
    if report is None and check_line:
        body += f"\n`make check`: {check_line}\n"
    if verdicts_from:
        body += "\n" + VERDICTS_FROM.format(commit=verdicts_from) + "\n" + text
    elif not run.failed_step:
        body += "\nNo report in this run.\n"
    return body


def cut_note(link: str | None) -> str:
    where = f"[the workflow run's artifact]({link})" if link else "the workflow run's artifact"
    return (f"\n---\n*Cut here: GitHub takes at most {MAX_COMMENT_CHARS:,} characters in a comment. The whole "
            f"report is in {where}.*\n")


def fit(body: str, link: str | None, limit: int = MAX_COMMENT_CHARS) -> str:
    """`body` if it fits in `limit` characters, else cut at the last section boundary that leaves room for a
    note linking the whole report (at a line boundary if no section starts early enough)."""
    if len(body) <= limit:
        return body
    note = cut_note(link)
    room = limit - len(note)
    report = VERDICTS_FROM_RE.search(body)
    report_start = report.end() if report else 0  # never cut inside the header, nor before the first section
    starts = [m.start() for m in SECTION_RE.finditer(body)
              if report_start < m.start() <= room and body[report_start:m.start()].strip()]
    if starts:
        cut = starts[-1]
    else:
        cut = body.rfind("\n", 0, room) + 1 or room
    return body[:cut] + note


def merge_base(rev: str, head: str) -> str | None:
    result = subprocess.run(["git", "merge-base", rev, head], capture_output=True, text=True)
    return result.stdout.strip() or None


def gh_api(*args, payload: dict | None = None) -> str:
    try:
        result = subprocess.run(["gh", "api", *args, *(["--input", "-"] if payload is not None else [])],
                                input=json.dumps(payload) if payload is not None else None,
                                capture_output=True, text=True)
    except FileNotFoundError:
        raise UserError("gh (the GitHub CLI) is not installed: https://cli.github.com") from None
    if result.returncode != 0:
        raise UserError(f"gh api {' '.join(args)} failed: {result.stderr.strip()}")
    return result.stdout


def json_values(text: str) -> list:
    """Every JSON value in `text`, one after another: `gh api --paginate` prints one array per page."""
    decoder, values, at = json.JSONDecoder(), [], 0
    while (at := len(text) - len(text[at:].lstrip())) < len(text):
        value, at = decoder.raw_decode(text, at)
        values.append(value)
    return values


def pull_request_head(pr: int) -> str:
    return json.loads(gh_api(f"repos/{{owner}}/{{repo}}/pulls/{pr}"))["head"]["sha"]


def earlier_comment(pr: int) -> dict | None:
    """This report's earlier comment on the pull request, if there is one."""
    pages = json_values(gh_api("--paginate", f"repos/{{owner}}/{{repo}}/issues/{pr}/comments"))
    return next((c for page in pages for c in page if (c.get("body") or "").startswith(MARKER)), None)


def post(pr: int, run: Run, report: str | None, check_line: str | None = None) -> str:
    """Create or update the comment, unless the pull request has moved on; returns what was done."""
    current = pull_request_head(pr)
    if current != run.head:
        return (f"pull request #{pr} is now at {short(current)}, this run checked out {short(run.head)}: "
                f"nothing written (the run for the newer commit comments)")
    comment = earlier_comment(pr)
    body = fit(compose(run, report, comment and comment["body"], check_line), run.artifact_url or run.url)
    if comment is None:
        gh_api("-X", "POST", f"repos/{{owner}}/{{repo}}/issues/{pr}/comments", payload={"body": body})
        return f"commented on pull request #{pr}"
    gh_api("-X", "PATCH", f"repos/{{owner}}/{{repo}}/issues/comments/{comment['id']}", payload={"body": body})
    return f"updated comment {comment['id']} on pull request #{pr}"


def run_url() -> str | None:
    parts = [os.environ.get(k) for k in ("GITHUB_SERVER_URL", "GITHUB_REPOSITORY", "GITHUB_RUN_ID")]
    return "{}/{}/actions/runs/{}".format(*parts) if all(parts) else None


def this_run(args, head: str) -> Run:
    base = None
    if REPORT_JSON.exists() and args.report.exists():
        base = json.loads(REPORT_JSON.read_text()).get("base")
    elif args.base and revisions.commit_of(args.base):
        base = merge_base(args.base, head)
    return Run(head=head, base=base, url=run_url(), failed_step=args.failed_step or None,
               time=datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"), artifact_url=args.artifact_url)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pr", type=int, help="pull request number: post or update the comment")
    parser.add_argument("--summary", help="append the text to this file ($GITHUB_STEP_SUMMARY)")
    parser.add_argument("--failed-step", help="the step that failed earlier in the run")
    parser.add_argument("--base", help="the revision the report compares with (for the header, without report.json)")
    parser.add_argument("--artifact-url", default=os.environ.get("ARTIFACT_URL") or None,
                        help="where the whole report is (default $ARTIFACT_URL, else the run's page)")
    parser.add_argument("report", nargs="?", default="report.md", type=Path)
    args = parser.parse_args()
    if args.pr is None and args.summary is None:
        parser.error("nothing to do: give --pr, --summary or both")
    if args.summary == "":
        raise UserError("--summary: no file named (GITHUB_STEP_SUMMARY is set in a workflow run, not here)")
    head = revisions.commit_of("HEAD")
    if head is None:
        raise UserError("not in a git repository with a commit checked out")
    report = args.report.read_text() if args.report.exists() else None
    if report is None and args.pr is not None and not args.failed_step:
        raise UserError(f"{args.report}: not found; run make report first (or name the step that failed)")
    check_line = json.loads(CHECK_FILE.read_text()).get("line") if CHECK_FILE.exists() else None
    run = this_run(args, head)
    if args.summary:
        with open(args.summary, "a") as summary:
            summary.write(fit(compose(run, report, check_line=check_line), run.artifact_url or run.url))
        print(f"wrote the summary to {args.summary}")
    if args.pr is not None:
        print(post(args.pr, run, report, check_line))


if __name__ == "__main__":
    run_stage(main)
