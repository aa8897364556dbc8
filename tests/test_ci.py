""".ci/run stops at the first install step that fails, before any test runs: a CI run that could not install
a tool must not go on and pass with that tool's tests skipped. Run against stand-ins for apt-get and make, on
a PATH without Chromium, so nothing is installed and nothing of the pipeline runs."""
import os
import re
import shutil
import subprocess
import sys
import time

import pytest

from helpers import ROOT

# apt-get's stand-in logs its arguments and fails when its first argument is $FAIL_ON; make's only logs.
APT_GET = """#!/bin/sh
echo "apt-get $*" >> "$STUB_LOG"
[ "$1" = "$FAIL_ON" ] && exit 100
exit 0
"""
MAKE = """#!/bin/sh
echo "make $* (CI=$CI)" >> "$STUB_LOG"
"""
# What .ci/run itself calls before its install step, besides shell builtins.
REAL_TOOLS = ("dirname",)


def stub_path(tmp_path, present=()) -> str:
    """A PATH of the stand-ins and links to the few real tools needed: no Chromium, Node.js or taskset (but
    stand-ins for the tools named in `present`), even where they live in the same folder as those tools."""
    folder = tmp_path / "bin"
    folder.mkdir()
    stubs = {"apt-get": APT_GET, "make": MAKE, **{tool: "#!/bin/sh\n" for tool in present}}
    for name, script in stubs.items():
        (folder / name).write_text(script)
        (folder / name).chmod(0o755)
    for tool in REAL_TOOLS:
        (folder / tool).symlink_to(shutil.which(tool))
    return str(folder)


def run_ci(tmp_path, path, fail_on="nothing"):
    """.ci/run with `path` as PATH; returns (result, the stand-ins' calls, seconds)."""
    log = tmp_path / "calls.log"
    env = {"PATH": path, "STUB_LOG": str(log), "FAIL_ON": fail_on, "FASHION_MNIST_DIR": str(tmp_path),
           "HOME": str(tmp_path)}
    start = time.monotonic()
    result = subprocess.run([shutil.which("bash"), str(ROOT / ".ci" / "run")], env=env, capture_output=True,
                            text=True, timeout=60, stdin=subprocess.DEVNULL)
    return result, log.read_text().splitlines() if log.exists() else [], time.monotonic() - start


@pytest.mark.parametrize("fail_on, status, calls", [
    ("update", 100, ["apt-get update -q"]),
    ("install", 100, ["apt-get update -q", "apt-get install -y -q chromium util-linux nodejs npm"]),
    # apt-get says it succeeded, yet the tools are still not there
    ("nothing", 1, ["apt-get update -q", "apt-get install -y -q chromium util-linux nodejs npm"]),
])
def test_a_failed_install_stops_ci_before_the_tests(tmp_path, fail_on, status, calls):
    path = stub_path(tmp_path)
    assert shutil.which("chromium", path=path) is None and shutil.which("chromium-browser", path=path) is None
    result, logged, seconds = run_ci(tmp_path, path, fail_on)
    assert seconds < 10
    assert result.returncode == status, result.stdout + result.stderr
    assert logged == calls  # and no `make` line: no test, no pipeline
    if fail_on == "nothing":
        assert result.stderr.splitlines()[-1] == (
            ".ci/run: chromium: still missing after apt-get install chromium util-linux nodejs npm")


def test_with_every_tool_present_ci_installs_nothing_and_runs_the_tests_with_ci_set(tmp_path):
    result, logged, _ = run_ci(tmp_path, stub_path(tmp_path, present=("chromium", "taskset", "node", "npm")))
    assert result.returncode == 0, result.stdout + result.stderr
    assert logged == ["make test (CI=true)", "make repro (CI=true)", "make check (CI=true)"]


NEEDS_A_TOOL = """
from helpers import require_tools

def test_needs_a_tool():
    require_tools("no-such-tool-here", install="apt-get install no-such-package")
"""


SAID = "no-such-tool-here: not installed; install with: apt-get install no-such-package"


@pytest.mark.parametrize("ci, status, report", [
    (None, 0, rf"SKIPPED \[1\] \S*helpers\.py:\d+: {re.escape(SAID)}"),
    ("true", 1, rf"FAILED test_tool\.py::test_needs_a_tool - Failed: {re.escape(SAID)} \(CI must run this test\)"),
])
def test_a_missing_tool_skips_its_test_and_fails_it_under_ci(tmp_path, ci, status, report):
    (tmp_path / "test_tool.py").write_text(NEEDS_A_TOOL)
    env = {key: value for key, value in os.environ.items() if key != "CI"}
    if ci:
        env["CI"] = ci
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rsf",
                             f"--rootdir={tmp_path}", str(tmp_path / "test_tool.py")],
                            cwd=tmp_path, env={**env, "PYTHONPATH": str(ROOT / "tests")}, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == status, result.stdout
    assert [line for line in result.stdout.splitlines() if re.fullmatch(report, line)] != [], result.stdout
