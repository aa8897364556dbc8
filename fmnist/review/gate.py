"""`make gate`: one status a team can gate on. Fails when a verdict of report.json is a word that the review
policy committed at the pull request's base names (`review.fail_on` in params.yaml): the base's, so that a pull
request cannot relax its own gate.

    python -m fmnist.review.gate --base REV [--report report.json]
"""
import argparse
import json
from pathlib import Path

import yaml

from fmnist.errors import UserError
from fmnist.review import revisions
from fmnist.stage import run_stage


def broken_rules(verdicts: dict[str, str], fail_on: list[str]) -> list[str]:
    """One line per model whose verdict the policy fails."""
    return [f"{model}: {word} (review.fail_on: {', '.join(fail_on)})" for model, word in verdicts.items()
            if word in fail_on]


def base_policy(base_commit: str) -> list[str]:
    text = revisions.file_at(base_commit, "params.yaml")
    review = (yaml.safe_load(text) or {}).get("review") if text else None
    return list((review or {}).get("fail_on", []))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", required=True, help="the revision the report compared with (its merge base)")
    parser.add_argument("--report", type=Path, default=Path("report.json"))
    args = parser.parse_args()
    if not args.report.exists():
        raise UserError(f"{args.report}: not found; run make report first")
    summary = json.loads(args.report.read_text())
    if revisions.commit_of(summary["base"]) is None:
        raise UserError(f"{args.report}: its base {summary['base'][:7]} is not in this repository")
    policy = base_policy(summary["base"])
    broken = broken_rules(summary["verdicts"], policy)
    print(f"Review policy at the base {summary['base'][:7]}: fail on {', '.join(policy) or 'nothing'}.")
    if broken:
        print("\n".join(f"- {line}" for line in broken))
        raise SystemExit(1)
    print("Every verdict passes the policy.")


if __name__ == "__main__":
    run_stage(main)
