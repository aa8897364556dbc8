"""`make comment PR=<number>`: post report.md on a GitHub pull request as one comment, which later runs
update in place instead of adding another.

    python -m fmnist.review.pr_comment --pr NUMBER [report.md]

Talks to GitHub through the `gh` command-line tool: it needs GH_TOKEN (in a workflow, the run's
GITHUB_TOKEN with `pull-requests: write`) and GH_REPO=OWNER/REPO (or a git remote on GitHub).
"""
import argparse
import json
import subprocess
from pathlib import Path

from fmnist.errors import UserError
from fmnist.stage import run_stage

# The first line of the comment: how a later run finds the comment to update.
MARKER = "<!-- fmnist-report -->"
MAX_COMMENT_CHARS = 65_536  # GitHub refuses longer comment bodies
TRUNCATED_NOTE = "\n\n…(cut to GitHub's comment limit; the whole report is in the workflow run's artifact)\n"


def comment_body(report: str) -> str:
    body = f"{MARKER}\n{report}"
    if len(body) <= MAX_COMMENT_CHARS:
        return body
    return body[:MAX_COMMENT_CHARS - len(TRUNCATED_NOTE)] + TRUNCATED_NOTE


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


def existing_comment(pr: int) -> str | None:
    """The id of this report's earlier comment on the pull request, if there is one."""
    ids = gh_api("--paginate", f"repos/{{owner}}/{{repo}}/issues/{pr}/comments",
                 "--jq", f'.[] | select(.body | startswith("{MARKER}")) | .id').split()
    return ids[0] if ids else None


def post(pr: int, report: str) -> str:
    """Create or update the comment; returns what was done."""
    body = comment_body(report)
    comment_id = existing_comment(pr)
    if comment_id is None:
        gh_api("-X", "POST", f"repos/{{owner}}/{{repo}}/issues/{pr}/comments", payload={"body": body})
        return f"commented on pull request #{pr}"
    gh_api("-X", "PATCH", f"repos/{{owner}}/{{repo}}/issues/comments/{comment_id}", payload={"body": body})
    return f"updated comment {comment_id} on pull request #{pr}"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pr", type=int, required=True, help="pull request number")
    parser.add_argument("report", nargs="?", default="report.md", type=Path)
    args = parser.parse_args()
    if not args.report.exists():
        raise UserError(f"{args.report}: not found; run make report first")
    print(post(args.pr, args.report.read_text()))


if __name__ == "__main__":
    run_stage(main)
