"""A harness that executes a GitHub Actions workflow file on this machine, the way a runner would, for the tests.

- Expressions: `${{ }}` and `if:` are parsed and evaluated by a small evaluator for the language's subset this
  project uses (literals, contexts, property and index access, ! == != < <= > >= && ||, and the functions in
  FUNCTIONS), with GitHub's rules: loose comparisons (strings case-insensitively, other mixes as numbers), &&
  and || returning an operand, an `if:` without a status function meaning `success() && (...)`, and each
  context only where GitHub makes it available. Anything else (an unknown function, context, operator or step
  id) raises ExpressionError: the harness fails rather than guess.
- Jobs run in the order their `needs` give, each in a fresh workspace, with `if:`, matrix expansion (an empty
  matrix fails the job, as on GitHub), outputs through $GITHUB_OUTPUT, and needs.<job>.result / .outputs.
- `run:` steps run with bash as GitHub runs a `shell: bash` step (`bash --noprofile --norc -eo pipefail`), with
  the environment GitHub gives (GITHUB_* variables, the workflow's, job's and step's `env:`), and
  continue-on-error, outcome and conclusion as GitHub sets them.
- `uses:` steps are stubbed by action: checkout clones the test's origin repository at the ref (its whole
  history with fetch-depth 0, else that commit alone), setup-python does nothing, cache/restore and
  cache/save (and cache) copy folders to and from a cache store shared by runs (scoped by branch, as GitHub
  scopes caches), upload- and download-artifact copy to and from the run's artifact folder.
- FAKE_GH: a `gh` for PATH that answers `gh api` like GitHub for the endpoints the comment uses (a pull
  request, its comments, posting and editing one), pages of two comments at a time, and logs every call.
"""
import fnmatch
import hashlib
import itertools
import json
import math
import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import yaml


class ExpressionError(Exception):
    """An expression the harness cannot evaluate (and so does not know GitHub would)."""


class WorkflowError(Exception):
    """Something in the workflow the harness does not support, or that GitHub would reject."""


# ---------------------------------------------------------------- expressions

TOKEN_RE = re.compile(r"""
    (?P<space>\s+)
  | (?P<string>'(?:[^']|'')*')
  | (?P<number>-?(?:0x[0-9a-fA-F]+|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?))
  | (?P<op>==|!=|<=|>=|&&|\|\||[!<>()\[\].,*])
  | (?P<name>[A-Za-z_][A-Za-z0-9_-]*)
""", re.X)

STATUS_FUNCTIONS = {"success", "failure", "always", "cancelled"}


def tokenize(text: str) -> list[tuple[str, str]]:
    tokens, at = [], 0
    while at < len(text):
        match = TOKEN_RE.match(text, at)
        if not match:
            raise ExpressionError(f"unexpected character {text[at]!r} at {at} in {text!r}")
        at = match.end()
        if match.lastgroup != "space":
            tokens.append((match.lastgroup, match.group()))
    return tokens


class Parser:
    """Recursive descent over GitHub's precedence: || < && < == != < < <= > >= < ! < property, index, call."""

    def __init__(self, text: str):
        self.text, self.tokens, self.at = text, tokenize(text), 0

    def peek(self, value=None):
        if self.at < len(self.tokens) and (value is None or self.tokens[self.at][1] == value):
            return self.tokens[self.at]
        return None

    def take(self, value=None):
        token = self.peek(value)
        if token is None:
            wanted = f"{value!r}" if value else "more"
            raise ExpressionError(f"expected {wanted} at token {self.at} of {self.text!r}")
        self.at += 1
        return token

    def parse(self):
        node = self.binary(0)
        if self.at != len(self.tokens):
            raise ExpressionError(f"unexpected {self.tokens[self.at][1]!r} in {self.text!r}")
        return node

    LEVELS = [("||",), ("&&",), ("==", "!="), ("<", "<=", ">", ">=")]

    def binary(self, level):
        if level == len(self.LEVELS):
            return self.unary()
        node = self.binary(level + 1)
        while (token := self.peek()) and token[0] == "op" and token[1] in self.LEVELS[level]:
            self.at += 1
            node = ("op", token[1], node, self.binary(level + 1))
        return node

    def unary(self):
        if self.peek("!"):
            self.at += 1
            return ("not", self.unary())
        return self.postfix(self.primary())

    def postfix(self, node):
        while True:
            if self.peek("."):
                self.at += 1
                kind, value = self.take()
                if value == "*":
                    raise ExpressionError(f"object filters (.*) are not supported: {self.text!r}")
                if kind != "name":
                    raise ExpressionError(f"expected a property name after '.', got {value!r} in {self.text!r}")
                node = ("get", node, ("literal", value))
            elif self.peek("["):
                self.at += 1
                index = self.binary(0)
                self.take("]")
                node = ("get", node, index)
            else:
                return node

    def primary(self):
        kind, value = self.take()
        if kind == "string":
            return ("literal", value[1:-1].replace("''", "'"))
        if kind == "number":
            return ("literal", float(int(value, 16)) if "x" in value.lower() else float(value))
        if kind == "op" and value == "(":
            node = self.binary(0)
            self.take(")")
            return node
        if kind == "name":
            lowered = value.lower()
            if lowered in ("true", "false"):
                return ("literal", lowered == "true")
            if lowered == "null":
                return ("literal", None)
            if self.peek("("):
                self.at += 1
                args = []
                if not self.peek(")"):
                    args.append(self.binary(0))
                    while self.peek(","):
                        self.at += 1
                        args.append(self.binary(0))
                self.take(")")
                if lowered not in FUNCTIONS and lowered not in STATUS_FUNCTIONS:
                    raise ExpressionError(f"unknown function {value}() in {self.text!r}")
                return ("call", lowered, args)
            return ("context", lowered)
        raise ExpressionError(f"unexpected {value!r} in {self.text!r}")


def parse(text: str):
    return Parser(text).parse()


def calls(node) -> set[str]:
    """The names of the functions an expression calls."""
    if node[0] == "call":
        return {node[1]} | {name for arg in node[2] for name in calls(arg)}
    if node[0] == "op":
        return calls(node[2]) | calls(node[3])
    if node[0] == "not":
        return calls(node[1])
    if node[0] == "get":
        return calls(node[1]) | calls(node[2])
    return set()


def kind(value) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def to_number(value) -> float:
    k = kind(value)
    if k == "null":
        return 0.0
    if k == "bool":
        return 1.0 if value else 0.0
    if k == "number":
        return float(value)
    if k == "string":
        text = value.strip()
        if text == "":
            return 0.0
        try:
            return float(int(text, 16)) if text.lower().startswith("0x") else float(text)
        except ValueError:
            return math.nan
    return math.nan


def truthy(value) -> bool:
    k = kind(value)
    if k == "null":
        return False
    if k == "bool":
        return value
    if k == "number":
        return value != 0 and not math.isnan(value)
    if k == "string":
        return value != ""
    return True


def loose_equal(a, b) -> bool:
    if kind(a) == kind(b):
        if kind(a) == "string":
            return a.casefold() == b.casefold()
        if kind(a) in ("array", "object"):
            return a is b
        return a == b
    return to_number(a) == to_number(b)


def compare(op: str, a, b) -> bool:
    if kind(a) == kind(b) == "string":
        a, b = a.casefold(), b.casefold()
    else:
        a, b = to_number(a), to_number(b)
        if math.isnan(a) or math.isnan(b):
            return False
    return {"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[op]


def to_string(value) -> str:
    k = kind(value)
    if k == "null":
        return ""
    if k == "bool":
        return "true" if value else "false"
    if k == "number":
        return str(int(value)) if float(value).is_integer() else repr(float(value))
    if k == "string":
        return value
    return "Array" if k == "array" else "Object"


def gh_format(template, *args):
    template = to_string(template)
    out, at = [], 0
    while at < len(template):
        if template.startswith("{{", at):
            out.append("{")
            at += 2
        elif template.startswith("}}", at):
            out.append("}")
            at += 2
        elif template[at] == "{":
            end = template.find("}", at)
            index = template[at + 1:end]
            if end < 0 or not index.isdigit() or int(index) >= len(args):
                raise ExpressionError(f"format(): bad placeholder in {template!r}")
            out.append(to_string(args[int(index)]))
            at = end + 1
        elif template[at] == "}":
            raise ExpressionError(f"format(): unmatched '}}' in {template!r}")
        else:
            out.append(template[at])
            at += 1
    return "".join(out)


def from_json(text):
    try:
        return json.loads(to_string(text))
    except json.JSONDecodeError as error:
        raise ExpressionError(f"fromJSON(): not JSON: {text!r} ({error})") from None


def hash_files(workspace: Path, *patterns) -> str:
    files = sorted({p for pattern in patterns for p in workspace.glob(to_string(pattern)) if p.is_file()})
    if not files:
        return ""
    total = hashlib.sha256()
    for path in files:
        total.update(hashlib.sha256(path.read_bytes()).digest())
    return total.hexdigest()


FUNCTIONS = {
    "contains": lambda ev, search, item: (any(loose_equal(x, item) for x in search) if kind(search) == "array"
                                          else to_string(item).casefold() in to_string(search).casefold()),
    "startswith": lambda ev, s, prefix: to_string(s).casefold().startswith(to_string(prefix).casefold()),
    "endswith": lambda ev, s, suffix: to_string(s).casefold().endswith(to_string(suffix).casefold()),
    "format": lambda ev, template, *args: gh_format(template, *args),
    "join": lambda ev, items, sep=",": (to_string(sep).join(map(to_string, items)) if kind(items) == "array"
                                        else to_string(items)),
    "tojson": lambda ev, value: json.dumps(value, indent=2),
    "fromjson": lambda ev, text: from_json(text),
    "hashfiles": lambda ev, *patterns: ev.hash_files(*patterns),
}


class Evaluator:
    """Evaluates parsed expressions against the contexts available where they appear."""

    def __init__(self, contexts: dict, status: dict | None = None, workspace: Path | None = None,
                 strict: dict | None = None):
        self.contexts = contexts  # name -> value, only those available at this place
        self.status = status  # None where status functions are not allowed, else name -> bool
        self.workspace = workspace
        self.strict = strict or {}  # context name -> the keys that exist (a typo is an error, not null)

    def hash_files(self, *patterns):
        if self.workspace is None:
            raise ExpressionError("hashFiles() is only available in steps")
        return hash_files(self.workspace, *patterns)

    def evaluate(self, node):
        tag = node[0]
        if tag == "literal":
            return node[1]
        if tag == "context":
            if node[1] not in self.contexts:
                raise ExpressionError(f"the context {node[1]!r} is not available here")
            return self.contexts[node[1]]
        if tag == "get":
            target, key = self.evaluate(node[1]), self.evaluate(node[2])
            if node[1][0] == "context" and node[1][1] in self.strict and kind(key) == "string":
                if key.casefold() not in {k.casefold() for k in self.strict[node[1][1]]}:
                    raise ExpressionError(f"{node[1][1]}.{key}: no such {node[1][1][:-1]} here")
            if kind(target) == "object" and kind(key) == "string":
                return next((v for k, v in target.items() if k.casefold() == key.casefold()), None)
            if kind(target) == "array" and kind(key) == "number" and 0 <= key < len(target):
                return target[int(key)]
            return None
        if tag == "not":
            return not truthy(self.evaluate(node[1]))
        if tag == "op":
            op = node[1]
            if op == "&&":
                left = self.evaluate(node[2])
                return self.evaluate(node[3]) if truthy(left) else left
            if op == "||":
                left = self.evaluate(node[2])
                return left if truthy(left) else self.evaluate(node[3])
            left, right = self.evaluate(node[2]), self.evaluate(node[3])
            if op == "==":
                return loose_equal(left, right)
            if op == "!=":
                return not loose_equal(left, right)
            return compare(op, left, right)
        if tag == "call":
            name, args = node[1], [self.evaluate(arg) for arg in node[2]]
            if name in STATUS_FUNCTIONS:
                if self.status is None:
                    raise ExpressionError(f"{name}() is only available in if:")
                if args:
                    raise ExpressionError(f"{name}() takes no arguments")
                return self.status[name]
            try:
                return FUNCTIONS[name](self, *args)
            except TypeError as error:
                raise ExpressionError(f"{name}(): wrong arguments ({error})") from None
        raise ExpressionError(f"cannot evaluate {node!r}")


def expressions_in(text: str) -> list[tuple[int, int, str]]:
    """(start, end, source) of each ${{ }} in a string; a '}}' inside a string literal does not end one."""
    found, at = [], 0
    while (start := text.find("${{", at)) >= 0:
        i, quoted = start + 3, False
        while i < len(text):
            if text[i] == "'":
                quoted = not quoted
            elif not quoted and text.startswith("}}", i):
                break
            i += 1
        else:
            raise ExpressionError(f"unterminated ${{{{ in {text!r}")
        found.append((start, i + 2, text[start + 3:i]))
        at = i + 2
    return found


def interpolate(text, evaluator: Evaluator):
    """A workflow value with its ${{ }} evaluated: the value itself when it is one whole expression."""
    if not isinstance(text, str):
        return text
    found = expressions_in(text)
    if len(found) == 1 and found[0][0] == 0 and found[0][1] == len(text):
        return evaluator.evaluate(parse(found[0][2]))
    out, at = [], 0
    for start, end, source in found:
        out += [text[at:start], to_string(evaluator.evaluate(parse(source)))]
        at = end
    return "".join(out) + text[at:]


def interpolate_string(text, evaluator: Evaluator) -> str:
    value = interpolate(text, evaluator)
    return value if isinstance(value, str) else to_string(value)


def condition(text, evaluator: Evaluator) -> bool:
    """An if: value: an expression with or without ${{ }}, `success() &&` implied without a status function."""
    if text is None:
        return evaluator.status["success"]
    if isinstance(text, bool):  # `if: true`: still success() && true
        return evaluator.status["success"] and text
    source = str(text).strip()
    found = expressions_in(source)
    if found:
        if len(found) != 1 or found[0][0] != 0 or found[0][1] != len(source):
            raise ExpressionError(f"an if: mixes text and ${{{{ }}}}: {source!r}")
        source = found[0][2]
    node = parse(source)
    if not calls(node) & STATUS_FUNCTIONS:
        node = ("op", "&&", ("call", "success", []), node)
    return truthy(evaluator.evaluate(node))


def every_expression(value, where=""):
    """(where, source) of each ${{ }} and if: in a loaded workflow, for a static check that each one parses."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "if" and isinstance(item, str) and not expressions_in(item):
                yield f"{where}.if", item
            else:
                yield from every_expression(item, f"{where}.{key}")
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from every_expression(item, f"{where}[{i}]")
    elif isinstance(value, str):
        for _, _, source in expressions_in(value):
            yield where, source


# ---------------------------------------------------------------- the fake gh

FAKE_GH = r'''#!{python}
"""Stands in for the GitHub CLI's `gh api`: GitHub's answers for a pull request and its comments, from a
state file (FAKE_GH_STATE); every call logged (FAKE_GH_LOG)."""
import json, os, re, subprocess, sys

PAGE = 2  # comments per page, so that a listing without --paginate misses some
args = sys.argv[1:]
stdin = sys.stdin.read() if "--input" in args and args[args.index("--input") + 1] == "-" else None
with open(os.environ["FAKE_GH_LOG"], "a") as log:
    log.write(json.dumps({{"args": args, "input": stdin, "token": bool(os.environ.get("GH_TOKEN"))}}) + "\n")


def fail(message, code=1, body=None):
    if body is not None:
        print(json.dumps(body))
    print(message, file=sys.stderr)
    sys.exit(code)


if not os.environ.get("GH_TOKEN") and not os.environ.get("GITHUB_TOKEN"):
    fail("gh: To use GitHub CLI in a GitHub Actions workflow, set the GH_TOKEN environment variable.", 4)
if not args or args[0] != "api":
    fail(f"fake gh: only `gh api` is stood in for, not {{args[:1]}}")
method, paginate, jq, payload, endpoint, rest = "GET", False, None, None, None, args[1:]
while rest:
    arg = rest.pop(0)
    if arg in ("-X", "--method"):
        method = rest.pop(0).upper()
    elif arg == "--paginate":
        paginate = True
    elif arg in ("-q", "--jq"):
        jq = rest.pop(0)
    elif arg == "--input":
        source = rest.pop(0)
        payload = json.loads(stdin if source == "-" else open(source).read())
    elif arg.startswith("-"):
        fail(f"fake gh: flag {{arg}} is not stood in for")
    elif endpoint is None:
        endpoint = arg
    else:
        fail(f"fake gh: a second endpoint {{arg}}")
repo = os.environ.get("GH_REPO")
if "{{owner}}" in endpoint or "{{repo}}" in endpoint:
    if not repo:
        fail("fake gh: {{owner}}/{{repo}} need GH_REPO (or a git remote on GitHub)")
    owner, name = repo.split("/")
    endpoint = endpoint.replace("{{owner}}", owner).replace("{{repo}}", name)
path = os.environ["FAKE_GH_STATE"]
state = json.load(open(path))
prefix = f"repos/{{state['repository']}}/"
if not endpoint.startswith(prefix):
    fail("gh: Not Found (HTTP 404)", 1, {{"message": "Not Found", "status": "404"}})
route = endpoint[len(prefix):]
write = method in ("POST", "PATCH", "PUT", "DELETE")
if write and state.get("read_only_token"):
    fail("gh: Resource not accessible by integration (HTTP 403)", 1,
         {{"message": "Resource not accessible by integration", "status": "403"}})
comments = state["comments"]
if (m := re.fullmatch(r"issues/(\d+)/comments", route)) and method == "GET":
    mine = [c for c in comments if c["issue"] == int(m.group(1))]
    pages = [mine[i:i + PAGE] for i in range(0, len(mine), PAGE)] or [[]]
    out = "".join(json.dumps(page) for page in (pages if paginate else pages[:1]))
elif (m := re.fullmatch(r"issues/(\d+)/comments", route)) and method == "POST":
    body = (payload or {{}}).get("body")
    if not body:
        fail("gh: Validation Failed (HTTP 422)", 1, {{"message": "Validation Failed"}})
    if len(body) > 65536:
        fail("gh: Validation Failed: body is too long (maximum is 65536 characters) (HTTP 422)", 1)
    state["next_id"] += 1
    comment = {{"id": state["next_id"], "issue": int(m.group(1)), "body": body,
                "user": {{"login": "github-actions[bot]", "type": "Bot"}}}}
    comments.append(comment)
    out = json.dumps(comment)
elif (m := re.fullmatch(r"issues/comments/(\d+)", route)) and method == "PATCH":
    comment = next((c for c in comments if c["id"] == int(m.group(1))), None)
    if comment is None:
        fail("gh: Not Found (HTTP 404)", 1, {{"message": "Not Found", "status": "404"}})
    body = (payload or {{}}).get("body")
    if not body or len(body) > 65536:
        fail("gh: Validation Failed (HTTP 422)", 1, {{"message": "Validation Failed"}})
    comment["body"] = body
    out = json.dumps(comment)
elif (m := re.fullmatch(r"pulls/(\d+)", route)) and method == "GET":
    pull = state["pulls"].get(m.group(1))
    if pull is None:
        fail("gh: Not Found (HTTP 404)", 1, {{"message": "Not Found", "status": "404"}})
    out = json.dumps({{"number": int(m.group(1)), "state": "open", **pull}})
else:
    fail(f"fake gh: {{method}} {{endpoint}} is not stood in for")
json.dump(state, open(path, "w"))
if jq is not None:
    out = subprocess.run(["jq", "-r", jq], input=out, capture_output=True, text=True, check=True).stdout
    sys.stdout.write(out)
else:
    print(out)
'''


def fake_gh(bin_dir: Path, state_file: Path, log_file: Path, repository: str, pulls: dict) -> Path:
    """Install the fake gh in bin_dir with a fresh state: no comments, the given pull requests."""
    bin_dir.mkdir(parents=True, exist_ok=True)
    gh = bin_dir / "gh"
    gh.write_text(FAKE_GH.format(python=sys.executable))
    gh.chmod(0o755)
    state_file.write_text(json.dumps({"repository": repository, "comments": [], "next_id": 1000, "pulls": pulls}))
    log_file.touch()
    return gh


# ---------------------------------------------------------------- running a workflow

@dataclass
class Step:
    job: str
    name: str
    id: str | None
    outcome: str
    conclusion: str
    env: dict = field(default_factory=dict)
    output: str = ""
    outputs: dict = field(default_factory=dict)
    summary: str = ""
    seconds: float = 0.0


@dataclass
class Job:
    name: str
    result: str
    outputs: dict = field(default_factory=dict)
    steps: list = field(default_factory=list)
    matrix: dict | None = None
    seconds: float = 0.0


@dataclass
class Run:
    jobs: dict  # job id -> list of Job (one per matrix instance; one skipped Job when skipped)
    artifacts: Path
    seconds: float

    def job(self, job_id) -> "Job":
        (only,) = self.jobs[job_id]
        return only

    def result(self, job_id) -> str:
        results = [j.result for j in self.jobs[job_id]]
        return "failure" if "failure" in results else results[0]

    def steps(self, job_id=None) -> list:
        return [s for jid, jobs in self.jobs.items() if job_id in (None, jid) for j in jobs for s in j.steps]

    def step(self, job_id, name_start) -> Step:
        (only,) = [s for s in self.steps(job_id) if s.name.startswith(name_start)]
        return only

    @property
    def summary(self) -> str:
        return "".join(s.summary for s in self.steps())


def parse_github_file(path: Path) -> dict:
    """Outputs (or env) written by a step: `name=value` lines and `name<<DELIMITER` blocks."""
    values, lines = {}, path.read_text().splitlines() if path.exists() else []
    while lines:
        line = lines.pop(0)
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            name, delimiter = line.split("<<", 1)
            block = []
            while lines and lines[0] != delimiter:
                block.append(lines.pop(0))
            if not lines:
                raise WorkflowError(f"{path.name}: {name}<<{delimiter} has no closing {delimiter}")
            lines.pop(0)
            values[name] = "\n".join(block)
        elif "=" in line:
            name, value = line.split("=", 1)
            values[name] = value
        elif line.strip():
            raise WorkflowError(f"{path.name}: a line that is neither name=value nor name<<DELIMITER: {line!r}")
    return values


def action_of(uses: str) -> tuple[str, str]:
    if "@" not in uses:
        raise WorkflowError(f"uses: {uses}: no ref")
    name, ref = uses.rsplit("@", 1)
    return name, ref


class Runner:
    """One workflow run for one event."""

    def __init__(self, workflow: Path, origin: Path, tmp: Path, *, event_name: str, event: dict, github: dict,
                 secrets: dict | None = None, caches: Path, path_prefix: list, extra_env: dict | None = None):
        self.source = workflow.read_text()
        self.workflow = yaml.safe_load(self.source)
        self.origin, self.tmp = origin, tmp
        self.event_name, self.event = event_name, event
        self.github = {"event_name": event_name, "event": event, "workflow": self.workflow.get("name", ""),
                       "server_url": "https://github.com", "api_url": "https://api.github.com",
                       "token": "ghs_fake_run_token", "run_attempt": "1", "actor": "octocat", **github}
        self.secrets = {"GITHUB_TOKEN": self.github["token"], **(secrets or {})}
        self.caches = caches
        self.path_prefix = [str(p) for p in path_prefix]
        self.extra_env = extra_env or {}
        self.artifacts = tmp / "artifacts"
        self.artifacts.mkdir(parents=True, exist_ok=True)

    # -- the static checks GitHub makes before running anything

    def check_statically(self):
        for where, source in every_expression(self.workflow):
            try:
                parse(source)
            except ExpressionError as error:
                raise ExpressionError(f"{where}: {error}") from None
        triggers = self.workflow.get("on", self.workflow.get(True))
        if isinstance(triggers, str):
            triggers = {triggers: None}
        elif isinstance(triggers, list):
            triggers = dict.fromkeys(triggers)
        if self.event_name not in triggers:
            raise WorkflowError(f"the workflow does not run on {self.event_name}")
        branches = (triggers[self.event_name] or {}).get("branches")
        ref = self.github.get("ref", "")
        if self.event_name == "push" and branches and not any(
                fnmatch.fnmatch(ref.removeprefix("refs/heads/"), b) for b in branches):
            raise WorkflowError(f"the workflow does not run on a push to {ref}")

    def run(self) -> Run:
        started = time.monotonic()
        self.check_statically()
        concurrency = self.workflow.get("concurrency") or {}
        top = Evaluator({"github": self.github, "inputs": {}, "vars": {}})
        if isinstance(concurrency, dict):
            interpolate_string(concurrency.get("group", ""), top)
            interpolate(concurrency.get("cancel-in-progress", False), top)
        jobs = self.workflow["jobs"]
        done: dict[str, list[Job]] = {}
        for job_id in self.order(jobs):
            done[job_id] = self.run_job(job_id, jobs[job_id], done)
        return Run(done, self.artifacts, time.monotonic() - started)

    @staticmethod
    def needs_of(job: dict) -> list[str]:
        needs = job.get("needs") or []
        return [needs] if isinstance(needs, str) else list(needs)

    def order(self, jobs: dict) -> list[str]:
        ordered, seen = [], set()

        def visit(job_id, path=()):
            if job_id in path:
                raise WorkflowError(f"a cycle of needs: {' -> '.join(path + (job_id,))}")
            if job_id not in jobs:
                raise WorkflowError(f"needs: no job {job_id!r}")
            if job_id in seen:
                return
            for need in self.needs_of(jobs[job_id]):
                visit(need, path + (job_id,))
            seen.add(job_id)
            ordered.append(job_id)

        for job_id in jobs:
            visit(job_id)
        return ordered

    def ancestors(self, job_id: str) -> set[str]:
        jobs, found, todo = self.workflow["jobs"], set(), list(self.needs_of(self.workflow["jobs"][job_id]))
        while todo:
            need = todo.pop()
            if need not in found:
                found.add(need)
                todo += self.needs_of(jobs[need])
        return found

    def run_job(self, job_id: str, job: dict, done: dict) -> list[Job]:
        needs_ids = self.needs_of(job)
        needs = {n: {"result": self.overall(done[n]), "outputs": self.outputs_of(done[n])} for n in needs_ids}
        results = [self.overall(done[a]) for a in self.ancestors(job_id)]
        status = {"success": all(r == "success" for r in results), "failure": "failure" in results,
                  "always": True, "cancelled": False}
        base = {"github": self.github, "needs": needs, "vars": {}, "inputs": {}}
        strict = {"needs": needs_ids}
        if not condition(job.get("if"), Evaluator(base, status, strict=strict)):
            return [Job(job_id, "skipped")]
        strategy = job.get("strategy") or {}
        matrix = interpolate(strategy.get("matrix"), Evaluator(base, strict=strict))
        if isinstance(matrix, dict):
            matrix = {k: interpolate(v, Evaluator(base, strict=strict)) for k, v in matrix.items()}
            for key in ("include", "exclude"):
                if key in matrix:
                    raise WorkflowError(f"{job_id}: matrix {key} is not stood in for")
            if any(kind(v) != "array" for v in matrix.values()):
                raise WorkflowError(f"{job_id}: a matrix value is not a list: {matrix}")
            if any(len(v) == 0 for v in matrix.values()):  # GitHub fails the job: the matrix has no values
                return [Job(job_id, "failure", steps=[Step(job_id, "(matrix)", None, "failure", "failure",
                                                           output="Matrix vector does not contain any values")])]
            instances = [dict(zip(matrix, combo)) for combo in itertools.product(*matrix.values())]
        elif matrix is None:
            instances = [None]
        else:
            raise WorkflowError(f"{job_id}: strategy.matrix must be a mapping, got {matrix!r}")
        return [self.run_instance(job_id, job, base, strict, instance, i) for i, instance in enumerate(instances)]

    @staticmethod
    def overall(jobs: list[Job]) -> str:
        results = {j.result for j in jobs}
        return "failure" if "failure" in results else "skipped" if results == {"skipped"} else "success"

    @staticmethod
    def outputs_of(jobs: list[Job]) -> dict:
        outputs = {}
        for j in jobs:
            outputs.update({k: v for k, v in j.outputs.items() if v != ""})
        return outputs

    def run_instance(self, job_id, job, base, strict, matrix, index) -> Job:
        started = time.monotonic()
        workspace = self.tmp / "work" / f"{job_id}-{index}"
        workspace.mkdir(parents=True)
        runner_temp = self.tmp / "runner-temp" / f"{job_id}-{index}"
        runner_temp.mkdir(parents=True)
        runner = {"os": "Linux", "arch": "X64", "temp": str(runner_temp), "name": "harness"}
        job_contexts = {**base, "strategy": {"fail-fast": (job.get("strategy") or {}).get("fail-fast", True)},
                        "matrix": matrix or {}}
        name = interpolate_string(job.get("name", job_id), Evaluator(job_contexts, strict=strict))
        top = Evaluator({"github": self.github, "secrets": self.secrets, "vars": {}, "inputs": {}})
        env = {k: interpolate_string(v, top) for k, v in (self.workflow.get("env") or {}).items()}
        job_env = Evaluator({**job_contexts, "secrets": self.secrets}, strict=strict)
        env.update({k: interpolate_string(v, job_env) for k, v in (job.get("env") or {}).items()})
        declared = [s["id"] for s in job.get("steps", []) if "id" in s]
        steps_context: dict = {}
        record = Job(name, "success", matrix=matrix)
        failed = False
        for number, step in enumerate(job.get("steps", [])):
            contexts = {**job_contexts, "job": {"status": "failure" if failed else "success"}, "runner": runner,
                        "env": dict(env), "steps": steps_context}
            stricter = {**strict, "steps": declared}
            status = {"success": not failed, "failure": failed, "always": True, "cancelled": False}
            evaluator = Evaluator(contexts, status, workspace, stricter)
            label = step.get("name") or step.get("uses") or step.get("run", "").splitlines()[0]
            label = interpolate_string(label, Evaluator({**contexts, "secrets": self.secrets}, None, workspace,
                                                        stricter))
            if not condition(step.get("if"), evaluator):
                done = Step(job_id, label, step.get("id"), "skipped", "skipped")
            else:
                with_secrets = Evaluator({**contexts, "secrets": self.secrets}, None, workspace, stricter)
                step_env = dict(env)
                for k, v in (step.get("env") or {}).items():
                    step_env[k] = interpolate_string(v, with_secrets)
                step_started = time.monotonic()
                done = self.run_step(job_id, label, step, step_env, with_secrets, workspace, runner_temp, number)
                done.seconds = time.monotonic() - step_started
                continue_on_error = truthy(interpolate(step.get("continue-on-error", False), with_secrets))
                if done.outcome == "failure" and not continue_on_error:
                    failed = True
                done.conclusion = "success" if continue_on_error and done.outcome == "failure" else done.outcome
                env.update(done.outputs.pop("::env::", {}))
            record.steps.append(done)
            if step.get("id"):
                steps_context[step["id"]] = {"outputs": done.outputs, "outcome": done.outcome,
                                             "conclusion": done.conclusion}
        record.result = "failure" if failed else "success"
        outputs_evaluator = Evaluator({**job_contexts, "job": {"status": record.result}, "runner": runner,
                                       "env": env, "steps": steps_context, "secrets": self.secrets},
                                      None, workspace, {**strict, "steps": declared})
        record.outputs = {k: interpolate_string(v, outputs_evaluator) for k, v in (job.get("outputs") or {}).items()}
        record.seconds = time.monotonic() - started
        return record

    def base_env(self, workspace: Path, runner_temp: Path, files: dict) -> dict:
        github = self.github
        event_path = runner_temp / "event.json"
        event_path.write_text(json.dumps(self.event))
        return {
            "PATH": os.pathsep.join(self.path_prefix + ["/usr/local/bin", "/usr/bin", "/bin"]),
            "HOME": os.environ.get("HOME", "/root"), "LANG": "C.UTF-8",
            "CI": "true", "GITHUB_ACTIONS": "true", "RUNNER_OS": "Linux", "RUNNER_TEMP": str(runner_temp),
            "GITHUB_WORKSPACE": str(workspace), "GITHUB_EVENT_NAME": self.event_name,
            "GITHUB_EVENT_PATH": str(event_path), "GITHUB_SHA": github["sha"], "GITHUB_REF": github.get("ref", ""),
            "GITHUB_BASE_REF": github.get("base_ref", ""), "GITHUB_HEAD_REF": github.get("head_ref", ""),
            "GITHUB_REPOSITORY": github["repository"], "GITHUB_REPOSITORY_OWNER": github["repository"].split("/")[0],
            "GITHUB_SERVER_URL": github["server_url"], "GITHUB_API_URL": github["api_url"],
            "GITHUB_RUN_ID": github["run_id"], "GITHUB_RUN_ATTEMPT": github["run_attempt"],
            "GITHUB_WORKFLOW": github["workflow"], "GITHUB_ACTOR": github["actor"],
            **{name: str(path) for name, path in files.items()},
            **self.extra_env,
        }

    def run_step(self, job_id, label, step, env, evaluator, workspace, runner_temp, number) -> Step:
        files = {name: runner_temp / f"{name.lower()}-{number}" for name in
                 ("GITHUB_OUTPUT", "GITHUB_ENV", "GITHUB_STEP_SUMMARY", "GITHUB_PATH")}
        for path in files.values():
            path.touch()
        full_env = {**self.base_env(workspace, runner_temp, files), **env}
        record = Step(job_id, label, step.get("id"), "success", "success", env=dict(env))
        if "run" in step:
            shell = step.get("shell") or ((self.workflow.get("defaults") or {}).get("run") or {}).get("shell")
            if shell != "bash":
                raise WorkflowError(f"{label}: only `shell: bash` is stood in for (got {shell!r})")
            script = interpolate_string(step["run"], evaluator)
            script_path = runner_temp / f"step-{number}.sh"
            script_path.write_text(script)
            cwd = workspace / interpolate_string(step.get("working-directory", "."), evaluator)
            result = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script_path)],
                                    cwd=cwd, env=full_env, capture_output=True, text=True)
            record.output = result.stdout + result.stderr
            record.outcome = "success" if result.returncode == 0 else "failure"
        elif "uses" in step:
            inputs = {k: interpolate(v, evaluator) for k, v in (step.get("with") or {}).items()}
            try:
                record.outputs = ACTIONS[action_of(step["uses"])[0]](self, inputs, workspace, full_env)
            except ActionFailed as failure:
                record.output, record.outcome = str(failure), "failure"
        else:
            raise WorkflowError(f"{label}: a step with neither run nor uses")
        record.outputs = {**record.outputs, **parse_github_file(files["GITHUB_OUTPUT"])}
        record.outputs["::env::"] = parse_github_file(files["GITHUB_ENV"])
        record.summary = files["GITHUB_STEP_SUMMARY"].read_text()
        return record


class ActionFailed(Exception):
    pass


# ---------------------------------------------------------------- the actions, stubbed

def git(*args, cwd):
    result = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True)
    if result.returncode != 0:
        raise ActionFailed(f"git {' '.join(args)}: {result.stderr.strip()}")
    return result.stdout.strip()


def checkout(runner: Runner, inputs: dict, workspace: Path, env: dict) -> dict:
    known = {"ref", "fetch-depth", "persist-credentials"}
    if set(inputs) - known:
        raise WorkflowError(f"checkout: inputs {set(inputs) - known} are not stood in for")
    ref = inputs.get("ref") or runner.github["sha"]
    url = f"file://{runner.origin}"
    if int(inputs.get("fetch-depth", 1)) == 0:  # every branch and tag, the whole history
        git("clone", "-q", url, ".", cwd=workspace)
        if subprocess.run(["git", "cat-file", "-e", f"{ref}^{{commit}}"], cwd=workspace).returncode != 0:
            git("fetch", "-q", "origin", ref, cwd=workspace)  # a commit on no branch, such as the merge commit
        git("checkout", "-q", "--detach", ref, cwd=workspace)
    else:  # the one commit (as the real action fetches it), no other branch
        git("init", "-q", cwd=workspace)
        git("remote", "add", "origin", url, cwd=workspace)
        git("fetch", "-q", "--no-tags", f"--depth={int(inputs.get('fetch-depth', 1))}", "origin", ref, cwd=workspace)
        git("checkout", "-q", "--detach", "FETCH_HEAD", cwd=workspace)
    git("config", "user.email", "ci@example.com", cwd=workspace)
    git("config", "user.name", "ci", cwd=workspace)
    return {"ref": ref, "commit": git("rev-parse", "HEAD", cwd=workspace)}


def setup_python(runner, inputs, workspace, env) -> dict:
    if str(inputs.get("python-version", "")) == "":
        raise ActionFailed("setup-python: no python-version")
    return {"python-version": str(inputs["python-version"])}


def paths_of(inputs: dict) -> list[str]:
    return [p.strip() for p in str(inputs.get("path", "")).splitlines() if p.strip()]


def cache_index(runner: Runner) -> list[dict]:
    index = runner.caches / "index.json"
    return json.loads(index.read_text()) if index.exists() else []


def cache_restore(runner: Runner, inputs: dict, workspace: Path, env: dict) -> dict:
    key = inputs["key"]
    restore_keys = [k.strip() for k in str(inputs.get("restore-keys") or "").splitlines() if k.strip()]
    # GitHub: a run reads caches saved on its own ref and on the default branch, the newest first.
    scopes = {runner.github.get("ref"), "refs/heads/main"}
    entries = [e for e in reversed(cache_index(runner)) if e["scope"] in scopes]
    hit = next((e for e in entries if e["key"] == key), None)
    for prefix in ([] if hit else restore_keys):
        hit = next((e for e in entries if e["key"].startswith(prefix)), None)
        if hit:
            break
    if not hit:
        return {"cache-hit": "false"}
    for relative in paths_of(inputs):
        stored = runner.caches / hit["folder"] / relative
        if stored.exists():
            target = workspace / relative
            shutil.copytree(stored, target, dirs_exist_ok=True) if stored.is_dir() else shutil.copy2(stored, target)
    return {"cache-hit": "true" if hit["key"] == key else "false", "cache-matched-key": hit["key"],
            "cache-primary-key": key}


def cache_save(runner: Runner, inputs: dict, workspace: Path, env: dict) -> dict:
    key, index = inputs["key"], cache_index(runner)
    if any(e["key"] == key for e in index):  # caches are immutable: GitHub warns and keeps the old one
        return {}
    folder = f"entry-{len(index)}"
    for relative in paths_of(inputs):
        source = workspace / relative
        if source.exists():
            target = runner.caches / folder / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copytree(source, target) if source.is_dir() else shutil.copy2(source, target)
    index.append({"key": key, "folder": folder, "scope": runner.github.get("ref")})
    runner.caches.mkdir(parents=True, exist_ok=True)
    (runner.caches / "index.json").write_text(json.dumps(index))
    return {}


def cache_both(runner, inputs, workspace, env):
    raise WorkflowError("actions/cache (restore and a post-job save) is not stood in for: "
                        "use actions/cache/restore and actions/cache/save")


def has_glob(text: str) -> bool:
    return any(c in text for c in "*?[")


def upload_artifact(runner: Runner, inputs: dict, workspace: Path, env: dict) -> dict:
    name = inputs.get("name") or "artifact"
    target = runner.artifacts / name
    if target.exists() and not truthy(inputs.get("overwrite", False)):
        raise ActionFailed(f"upload-artifact: an artifact named {name!r} already exists in this run")
    patterns = paths_of(inputs)
    found = []
    for pattern in patterns:
        matches = sorted(workspace.glob(pattern.rstrip("/"))) if has_glob(pattern) else [workspace / pattern]
        for match in matches:
            if match.is_dir():
                found += [p for p in sorted(match.rglob("*")) if p.is_file()]
            elif match.is_file():
                found.append(match)
    if not found:
        behaviour = inputs.get("if-no-files-found", "warn")
        if behaviour == "error":
            raise ActionFailed(f"upload-artifact: no files were found with the provided path: {patterns}")
        return {}
    # The least common ancestor of the search paths is the artifact's root.
    roots = [workspace / (p.split("*")[0].rsplit("/", 1)[0] if has_glob(p) else p.rstrip("/")) for p in patterns]
    roots = [r if r.is_dir() else r.parent for r in roots]
    root = Path(os.path.commonpath([str(r) for r in roots]))
    for path in found:
        destination = target / path.relative_to(root)
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, destination)
    number = len(list(runner.artifacts.iterdir()))
    url = f"{runner.github['server_url']}/{runner.github['repository']}/actions/runs/{runner.github['run_id']}"
    return {"artifact-id": str(number), "artifact-url": f"{url}/artifacts/{number}", "artifact-digest": "0" * 64}


def download_artifact(runner: Runner, inputs: dict, workspace: Path, env: dict) -> dict:
    destination = workspace / (inputs.get("path") or ".")
    available = sorted(p.name for p in runner.artifacts.iterdir())
    if inputs.get("name"):
        if inputs["name"] not in available:
            raise ActionFailed(f"download-artifact: no artifact named {inputs['name']!r}")
        shutil.copytree(runner.artifacts / inputs["name"], destination, dirs_exist_ok=True)
        return {"download-path": str(destination)}
    pattern = inputs.get("pattern") or "*"
    merge = truthy(inputs.get("merge-multiple", False))
    destination.mkdir(parents=True, exist_ok=True)
    for name in (n for n in available if fnmatch.fnmatch(n, pattern)):
        shutil.copytree(runner.artifacts / name, destination if merge else destination / name, dirs_exist_ok=True)
    return {"download-path": str(destination)}


ACTIONS = {
    "actions/checkout": checkout,
    "actions/setup-python": setup_python,
    "actions/cache/restore": cache_restore,
    "actions/cache/save": cache_save,
    "actions/cache": cache_both,
    "actions/upload-artifact": upload_artifact,
    "actions/download-artifact": download_artifact,
}
