"""dvc.yaml: each stage's code deps are exactly the project files its command imports, and only results are
metrics. A missing dep lets a code change leave stale results; an unneeded one reruns a stage for nothing."""
import ast
import re
import shlex
from pathlib import Path

import yaml

from helpers import ROOT, pipeline_stages


def module_files(module: str, root: Path) -> list[Path] | None:
    """The project files Python runs to import `module`: every package's __init__.py on the way, then the module;
    [] for a module outside the project, None for a project name that is no file (a name inside a module)."""
    parts = module.split(".")
    if not ((root / parts[0] / "__init__.py").is_file() or (root / f"{parts[0]}.py").is_file()):
        return []  # `python -m` runs from the root, so only the root's packages and modules are the project's
    files = []
    for depth in range(1, len(parts) + 1):
        path = root.joinpath(*parts[:depth])
        if (path / "__init__.py").is_file():
            files.append(path / "__init__.py")
        elif depth == len(parts) and path.with_suffix(".py").is_file():
            files.append(path.with_suffix(".py"))
        else:
            return None
    return files


def imports(path: Path, root: Path) -> list[tuple[str, bool]]:
    """(module, must exist) for every import anywhere in a file, inside functions too. `from package import x`
    gives `package` and `package.x`, which need not exist: x is a submodule only when its file does."""
    parts = list(path.relative_to(root).with_suffix("").parts)
    package = ".".join(parts[:-1])  # of fmnist/data.py and of fmnist/__init__.py alike: fmnist
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [(alias.name, True) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: `from . import x` in package p is `from p import x`, `..` is p's parent
                base = f"{package.rsplit('.', node.level - 1)[0]}.{base}".rstrip(".")
            found += [(base, True)] + [(f"{base}.{alias.name}", False) for alias in node.names if alias.name != "*"]
    return found


def imported_files(module: str, root: Path) -> set[str]:
    """Every project file that running `python -m module` imports, transitively, relative to `root`."""
    seen, todo = set(), [(module, True)]
    while todo:
        name, must_exist = todo.pop()
        files = module_files(name, root)
        assert files is not None or not must_exist, f"{name}: imported, but no such project module"
        for path in files or []:
            if path not in seen:
                seen.add(path)
                todo += imports(path, root)
    return {path.relative_to(root).as_posix() for path in seen}


def command_module(cmd: str) -> str:
    words = shlex.split(cmd)
    assert words[:2] == ["python", "-m"] and len(words) > 2, f"{cmd!r}: expected `python -m <module> ...`"
    return words[2]


def dep_problems(stages: dict[str, dict], root: Path) -> list[str]:
    """For each stage ({name: {"cmd", "deps"}}), the project files it imports that its deps lack, and the .py
    deps it does not import."""
    problems = []
    for name, stage in stages.items():
        needed = imported_files(command_module(stage["cmd"]), root)
        listed = {dep for dep in stage["deps"] if dep.endswith(".py")}
        if missing := sorted(needed - listed):
            problems.append(f"stage {name}: imports {', '.join(missing)}, missing from its deps")
        if unneeded := sorted(listed - needed):
            problems.append(f"stage {name}: deps {', '.join(unneeded)}, which it does not import")
    return problems


def test_every_stage_lists_exactly_the_code_it_imports():
    stages = pipeline_stages(ROOT)
    assert {"train@mlp", "train@lenet", "train@dropout", "train@bn"} <= stages.keys()
    assert dep_problems(stages, ROOT) == []


def write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)


def test_the_checker_follows_every_kind_of_import_and_names_what_is_wrong(tmp_path):
    write(tmp_path, {
        "stages/__init__.py": "",
        "stages/run.py": "import os\nfrom fmnist import a, helper  # a: a submodule; helper: a name\n",
        "fmnist/__init__.py": "def helper(): pass\n",
        "fmnist/a.py": "def later():\n    from fmnist.sub import b  # imported only when called\n",
        "fmnist/sub/__init__.py": "",
        "fmnist/sub/b.py": "from . import c\nfrom .. import d\n",
        "fmnist/sub/c.py": "",
        "fmnist/d.py": "",
        "fmnist/unused.py": "",
    })
    assert imported_files("stages.run", tmp_path) == {
        "stages/__init__.py", "stages/run.py", "fmnist/__init__.py", "fmnist/a.py", "fmnist/sub/__init__.py",
        "fmnist/sub/b.py", "fmnist/sub/c.py", "fmnist/d.py"}
    stage = {"cmd": "python -m stages.run x", "deps": ["data/in.npy", "stages/__init__.py", "stages/run.py",
             "fmnist/__init__.py", "fmnist/a.py", "fmnist/sub/__init__.py", "fmnist/sub/b.py", "fmnist/d.py",
             "fmnist/unused.py"]}
    assert dep_problems({"run@x": stage}, tmp_path) == [
        "stage run@x: imports fmnist/sub/c.py, missing from its deps",
        "stage run@x: deps fmnist/unused.py, which it does not import"]


# Measurements of the machine (seconds per epoch, fingerprints): a rerun on the same machine changes the first
# and a rerun elsewhere the second, neither a result, so `dvc metrics diff` must not show them.
MACHINE_FILES = re.compile(r"(^|/)timing\.json$|^metrics/machine/")


def test_only_results_are_metrics():
    pipeline = yaml.safe_load((ROOT / "dvc.yaml").read_text())
    metrics = pipeline["metrics"]
    assert "metrics/mlp/train.json" in metrics and "metrics/comparison.json" in metrics
    assert [path for path in metrics if MACHINE_FILES.search(path)] == []
    # nor metrics of a stage (`metrics:` beside its outs); the machine files stay its outs, written and committed
    assert [name for name, stage in pipeline["stages"].items() if "metrics" in stage.get("do", stage)] == []
    outs = {out for stage in pipeline_stages(ROOT).values() for out in stage["outs"]}
    assert {"metrics/mlp/timing.json", "metrics/machine/train_mlp.json", "metrics/machine/evaluate.json"} <= outs
