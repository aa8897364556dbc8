"""The layout's rule (docs/architecture.md): tools use the pipeline, the pipeline uses neither tool package, and
neither tool package uses the other."""
import ast
from pathlib import Path

from helpers import ROOT

TOOLS = ("fmnist.review", "fmnist.speed")


def imported_modules(source: str) -> set[str]:
    """Every module an `import` or `from ... import` names, anywhere in the source (functions included), with
    `from package import name` counted as package.name too (name may be a submodule)."""
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found |= {f"{node.module}.{alias.name}" for alias in node.names}
    return found


def tool_imports(path: Path) -> list[str]:
    return sorted(m for m in imported_modules(path.read_text()) if m.startswith(TOOLS))


def pipeline_files() -> list[Path]:
    tools = [ROOT / "fmnist" / "review", ROOT / "fmnist" / "speed"]
    return [p for p in [*(ROOT / "fmnist").rglob("*.py"), *(ROOT / "stages").glob("*.py")]
            if not any(folder in p.parents for folder in tools)]


def test_the_import_finder_sees_a_tool_imported_inside_a_function():
    source = "def f():\n    from fmnist import review\n    from fmnist.speed.bench import table\n"
    assert {"fmnist.review", "fmnist.speed.bench"} <= imported_modules(source)


def test_no_pipeline_module_or_stage_imports_a_tool():
    files = pipeline_files()
    assert ROOT / "fmnist" / "training.py" in files and ROOT / "stages" / "train.py" in files
    offenders = {p.relative_to(ROOT).as_posix(): tool_imports(p) for p in files if tool_imports(p)}
    assert offenders == {}


def test_neither_tool_package_imports_the_other():
    """docs/architecture.md: the reviewer's tools and the speed tools each use the pipeline, not each other."""
    for package, other in (("review", "fmnist.speed"), ("speed", "fmnist.review")):
        offenders = {p.name: m for p in (ROOT / "fmnist" / package).glob("*.py")
                     for m in imported_modules(p.read_text()) if m.startswith(other)}
        assert offenders == {}, f"fmnist/{package} imports {other}"


def test_each_package_says_what_it_is_for():
    for package in ("fmnist", "fmnist/review", "fmnist/speed"):
        docstring = ast.get_docstring(ast.parse((ROOT / package / "__init__.py").read_text()))
        assert docstring and len(docstring) > 80, f"{package}/__init__.py has no docstring saying what it is for"
