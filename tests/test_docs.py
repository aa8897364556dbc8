"""The documentation's promises: README.md and docs/*.md say only what the files and the code say.

- every figure they quote from a results or benchmark file is that file's (QUOTES, and the tables built below
  from the benchmark records, row for row);
- the generated blocks are what their generators write from the committed files;
- every relative link leads to a file (and heading) that exists, every `make X` to a Makefile target, every
  `python -m X` to a module, every `-S section.key=` to a key of params.yaml;
- the import rule docs/architecture.md states holds in the code.
"""
import importlib.util
import json
import re
import statistics
import subprocess
from pathlib import Path

import pytest
import yaml

from fmnist import paths
from fmnist.review import stats
from fmnist.speed import bench
from helpers import ROOT

README = ROOT / "README.md"
DOCS = ROOT / "docs"
PAGES = [README, *sorted(DOCS.glob("*.md")), ROOT / "benchmarks" / "README.md"]
README_MAX_LINES = 250
# Pages the README links that another change adds; exempt from the link check only while they are missing.
PAGES_ADDED_ELSEWHERE = {"docs/bad-inputs.md"}
# Make targets the review tools' contract names that another change adds (make gate): exempt only while missing.
TARGETS_ADDED_ELSEWHERE = {"gate"} - set(re.findall(r"^([\w-]+):", (ROOT / "Makefile").read_text(), flags=re.M))
SPEED = DOCS / "speed.md"
BENCHMARKS = ROOT / "benchmarks"


def text(page: Path) -> str:
    return page.read_text()


def without_code(markdown: str) -> str:
    """The text outside fenced code blocks."""
    return re.sub(r"^```.*?^```", "", markdown, flags=re.S | re.M)


def between(markdown: str, start: str, end: str) -> str:
    return markdown.split(start)[1].split(end)[0].strip()


def read_json(relative: str):
    return json.loads((ROOT / relative).read_text())


def at(data, path: tuple):
    for key in path:
        data = data[key]
    return data


# ---- Figures quoted in prose: (page, file, path in the JSON, how the page writes it) ----

def seed_band(model: str, metric: str = "test_accuracy") -> float:
    """make check's band for a model's metric: its share of the check's 1 % false-alarm rate."""
    from fmnist.review.reproducibility import HEADLINE_METRICS

    spread = read_json("metrics/seeds.json")["models"][model][metric]
    alpha = stats.check_alphas(HEADLINE_METRICS, n_models=len(paths.MODEL_NAMES))[metric]
    return stats.check_band(spread["sd"], spread["n"], alpha)


def flat(page: str) -> str:
    """A page's text with every run of white space as one space: prose wraps anywhere."""
    return " ".join(text(ROOT / page).split())


LATEST = "benchmarks/latest.json"
ZEN1_PIPELINE = "benchmarks/amd-epyc-zen1-avx2-kernels-make-bench.json"
ZEN4_KERNELS = "benchmarks/amd-epyc-zen4-avx512-kernels.json"
FINGERPRINT = "metrics/machine/evaluate.json"
QUOTES = [
    # README: how long the pipeline takes; Part 1's loss
    ("README.md", LATEST, ("pipeline", "full_repro_seconds"), "{:.0f} s on an AMD EPYC Zen 4"),
    ("README.md", ZEN1_PIPELINE, ("pipeline", "full_repro_seconds"), "{:.0f} s on an AMD EPYC Zen 1"),
    ("README.md", "metrics/backprop_check.json", ("L",), "L = {:.8f}"),
    ("docs/assignment.md", "metrics/backprop_check.json", ("L",), "L = {:.8f}"),
    # docs/reproducibility.md: the fingerprint of the committed results, the seed study
    ("docs/reproducibility.md", FINGERPRINT, ("cpu",), "made on an {}"),
    ("docs/reproducibility.md", FINGERPRINT, ("vector_isa",), "model 167), {}"),
    ("docs/reproducibility.md", FINGERPRINT, ("python",), "Python {}"),
    ("docs/reproducibility.md", FINGERPRINT, ("tensorflow",), "TensorFlow {}"),
    ("docs/reproducibility.md", FINGERPRINT, ("keras",), "Keras {}"),
    ("docs/reproducibility.md", FINGERPRINT, ("numpy",), "numpy {}"),
    ("docs/reproducibility.md", "metrics/seeds.json", ("models", "mlp", "test_accuracy", "n"),
     "with {} training seeds"),
    ("README.md", "metrics/seeds.json", ("models", "mlp", "test_accuracy", "n"), "({} seeds per model)"),
    # docs/speed.md: the pipeline against its epochs, memory, the GEMM rate, the MLP's peer
    ("docs/speed.md", LATEST, ("pipeline", "full_repro_seconds"), "`dvc repro -f` took {:.0f} s"),
    ("docs/speed.md", LATEST, ("pipeline", "training_epochs_seconds"), "its {:.0f} s of epochs; the no-op"),
    ("docs/speed.md", LATEST, ("pipeline", "noop_repro_seconds"), "the no-op run {:.1f} s; the largest"),
    ("docs/speed.md", LATEST, ("pipeline", "training_epochs_seconds"), "(its epochs alone are {:.0f} s)"),
    ("docs/speed.md", ZEN1_PIPELINE, ("pipeline", "full_repro_seconds"), "kernels code): {:.0f} s"),
    ("docs/speed.md", ZEN1_PIPELINE, ("pipeline", "training_epochs_seconds"), "its {:.0f} s of epochs; the no-op run"),
    ("docs/speed.md", ZEN1_PIPELINE, ("pipeline", "noop_repro_seconds"), "the no-op run {:.1f} s; peak"),
    ("docs/speed.md", LATEST, ("gemm_gflops",), "GEMM at {:.0f} GFLOP/s on the Zen 4"),
    ("docs/speed.md", ZEN1_PIPELINE, ("gemm_gflops",), "Zen 1's run at {:.0f} GFLOP/s"),
    ("docs/speed.md", LATEST, ("models", "mlp", "peer", "seconds_per_epoch"), "MLP epoch took {:.2f} s in that run"),
    ("docs/speed.md", ZEN4_KERNELS, ("models", "mlp", "peer", "seconds_per_epoch"),
     "against {:.2f} s in the kernels run"),
]


def ratios(record: dict, model: str) -> list:
    return [r["ratio"] for r in record["models"][model]["rounds"]]


def computed_quotes():
    """Figures computed from one or more files: (page, what, how the page writes it)."""
    latest, zen1 = read_json(LATEST), read_json(ZEN1_PIPELINE)
    xeon = load_record("intel-xeon-avx512-kernels-rounds.txt")
    xeon_avx2 = load_record("intel-xeon-avx2-emulated-kernels.json")
    zen1_kernels = load_record("amd-epyc-zen1-avx2-kernels.json")
    floors = [m["ratio_to_floor"] for m in latest["models"].values()]
    peer_floors = [m["peer"]["seconds_per_epoch"] / m["floor_seconds_per_epoch"] for m in latest["models"].values()]

    def pipeline_ratio(record):
        return record["pipeline"]["full_repro_seconds"] / record["pipeline"]["training_epochs_seconds"]

    quotes = [
        ("docs/speed.md", "pipeline / epochs, latest", f"{pipeline_ratio(latest):.2f}× its"),
        ("docs/speed.md", "pipeline / epochs, Zen 1", f"{pipeline_ratio(zen1):.2f}× its"),
        ("docs/speed.md", "peak memory, latest",
         f"peaked at {max(latest['pipeline']['peak_memory_mib'].values()) / 1024:.2f} GiB"),
        ("docs/speed.md", "peak memory, Zen 1",
         f"peak {max(zen1['pipeline']['peak_memory_mib'].values()) / 1024:.2f} GiB"),
        ("docs/speed.md", "DVC's share, latest", "caching) was "
         f"{latest['pipeline']['full_repro_seconds'] - sum(latest['pipeline']['stage_seconds'].values()):.0f} s"),
        ("docs/speed.md", "epochs against the floor, latest",
         f"epochs are {min(floors):.1f}–{max(floors):.1f}× their floor (PyTorch eager's "
         f"{min(peer_floors):.1f}–{max(peer_floors):.1f}×)"),
        ("docs/speed.md", "the MLP's median ratio, latest",
         f"MLP's {statistics.median(ratios(latest, 'mlp')):.2f} on AVX-512"),
        ("docs/speed.md", "Zen 1's largest single round", "single rounds reach "
         f"{max(r for m in zen1_kernels['models'] for r in ratios(zen1_kernels, m)):.2f}"),
        ("docs/speed.md", "the Xeon's MLP", f"MLP was at {statistics.median(ratios(xeon, 'mlp')):.2f} on AVX-512 and "
         f"{statistics.median(ratios(xeon_avx2, 'mlp')):.2f} with AVX2 emulated"),
        ("docs/reproducibility.md", "t quantile for 8 seeds", f"t is {stats.difference_band(1 / 2 ** 0.5, 8):.2f}"),
        ("docs/review.md", "McNemar's alpha", f"p < {stats.VERDICT_ALPHA}"),
        ("README.md", "McNemar's alpha", f"p < {stats.VERDICT_ALPHA}"),
        ("docs/review.md", "band confidence", f"the {100 * stats.BAND_CONFIDENCE:.0f} % prediction interval"),
        ("docs/reproducibility.md", "band confidence", f"the {100 * stats.BAND_CONFIDENCE:.0f} % prediction interval"),
    ]
    for model in paths.MODEL_NAMES:
        quotes.append(("docs/reproducibility.md", f"{model}'s test-accuracy band",
                       f"± {100 * seed_band(model):.2f} pt ({paths.MODEL_TITLES[model].replace('LeNet-5 with ', '')})"))
    return quotes


@pytest.mark.parametrize("page, source, path, form", QUOTES, ids=lambda v: str(v) if isinstance(v, str) else None)
def test_quoted_figures_are_the_files(page, source, path, form):
    expected = form.format(at(read_json(source), path))
    assert expected in flat(page), f"{page} should quote {expected!r} ({source}: {'.'.join(path)})"


def test_figures_computed_from_the_files_are_quoted_as_computed():
    for page, what, expected in computed_quotes():
        assert expected in flat(page), f"{page} should quote {expected!r} ({what})"


def test_every_round_of_the_latest_code_beats_pytorch_eager_on_both_kinds():
    """docs/speed.md: "with the latest code, every round of every model is faster than PyTorch eager"."""
    for name in ("amd-epyc-zen4-avx512-fixed-costs-make-bench.json", "amd-epyc-zen4-avx2-emulated-fixed-costs.json"):
        record = load_record(name)
        assert max(r for m in record["models"] for r in ratios(record, m)) < 1, name


# ---- The generated blocks ----

def test_the_bench_block_is_the_latest_records_table():
    block = between(text(SPEED), bench.BENCH_START, bench.BENCH_END)
    assert block == bench.table(read_json(LATEST)), \
        "docs/speed.md's bench block is not benchmarks/latest.json's: python -m fmnist.speed.bench --readme"


def test_the_bench_refreshes_the_speed_page():
    assert bench.BENCH_PAGE == Path("docs/speed.md")


def test_the_results_block_lives_in_the_readme_only():
    from fmnist.review import report

    for page in PAGES[1:]:
        assert report.README_START not in text(page), f"{page.name}: the results block belongs to README.md"


# ---- The benchmark records: the tables of docs/speed.md and benchmarks/README.md, row for row ----

CPU_NAMES = {"AuthenticAMD family 25 model 17": "AMD EPYC Zen 4", "AuthenticAMD family 23 model 1": "AMD EPYC Zen 1",
             "GenuineIntel family 6 model 167": "Intel Xeon"}
MODEL_COLUMNS = ("mlp", "lenet", "dropout", "bn")


def cpu_name(record: dict) -> str:
    """E.g. "AMD EPYC Zen 4, AVX2 emulated": the CPU (named by its family and model), its vector ISA, and
    "emulated" when the run capped oneDNN below it."""
    cpu = record["cpu"]
    name = next(title for key, title in CPU_NAMES.items() if key in cpu["cpu"])
    cap = cpu.get("isa_controls", {}).get("ONEDNN_MAX_CPU_ISA")
    return f"{name}, {cap} emulated" if cap else f"{name}, {cpu['vector_isa']}"


def rounds_record(path: Path) -> dict:
    """A record of a run that wrote only its per-round lines ("mlp: 0.42 s/epoch, PyTorch eager 0.49 s/epoch"),
    summarised as the bench summarises rounds: the ratio's median and range, the median round's seconds."""
    header, models = path.read_text(), {}
    for name, own, peer in re.findall(r"^(\w+): ([\d.]+) s/epoch, PyTorch eager ([\d.]+) s/epoch$", header, re.M):
        models.setdefault(name, []).append((float(own), float(peer)))
    summary = {}
    for name, runs in models.items():
        ordered = sorted(runs, key=lambda r: r[0] / r[1])
        own, peer = ordered[(len(runs) - 1) // 2]
        summary[name] = {"seconds_per_epoch": own, "peer": {"seconds_per_epoch": peer},
                         "rounds": [{"ratio": o / p} for o, p in runs]}
    cpu = re.search(r"on Intel Xeon \((family 6 model 167), ([\w-]+)\)", header)
    return {"cpu": {"cpu": f"Intel Xeon (GenuineIntel {cpu[1]})", "vector_isa": cpu[2]}, "models": summary}


def load_record(name: str, commit: str | None = None) -> dict:
    """A benchmark record: from benchmarks/, or as committed at `commit` (a record pruned since)."""
    if commit is None:
        path = BENCHMARKS / name
        return rounds_record(path) if name.endswith(".txt") else json.loads(path.read_text())
    shown = subprocess.run(["git", "show", f"{commit}:benchmarks/{name}"], cwd=ROOT, capture_output=True, text=True)
    if shown.returncode:
        pytest.skip(f"{commit}: not in this clone's history (shallow?), so its pruned records cannot be read")
    return json.loads(shown.stdout)


def model_cell(record: dict, model: str, ranges: bool) -> str:
    """The project's s/epoch and project / PyTorch eager: "0.41 s, 0.50 (0.47–0.63)" (the median of the rounds,
    their range in brackets when `ranges`), "0.41 s" without a peer, "—" when the record lacks the model."""
    m = record["models"].get(model)
    if m is None:
        return "—"
    if "peer" not in m:
        return f"{m['seconds_per_epoch']:.2f} s"
    ratios = [r["ratio"] for r in m.get("rounds", [])] or [m["seconds_per_epoch"] / m["peer"]["seconds_per_epoch"]]
    spread = f" ({min(ratios):.2f}–{max(ratios):.2f})" if ranges and len(ratios) > 1 else ""
    return f"{m['seconds_per_epoch']:.2f} s, {statistics.median(ratios):.2f}{spread}"


def pipeline_cell(record: dict) -> str:
    pipe = record.get("pipeline")
    if not pipe:
        return "—"
    return f"{pipe['full_repro_seconds']:.0f} s, {pipe['full_repro_seconds'] / pipe['training_epochs_seconds']:.2f}×"


# docs/speed.md: every CPU kind, before and after. (record, the code it measured)
SPEED_ROWS = [
    ("amd-epyc-zen4-avx512-kernels.json", "kernels"),
    ("amd-epyc-zen4-avx512-fixed-costs-make-bench.json", "fixed costs"),
    ("amd-epyc-zen4-avx2-emulated-kernels.json", "kernels"),
    ("amd-epyc-zen4-avx2-emulated-fixed-costs.json", "fixed costs"),
    ("amd-epyc-zen1-avx2-before.json", "before"),
    ("amd-epyc-zen1-avx2-kernels.json", "kernels"),
    ("intel-xeon-avx512-before.json", "before"),
    ("intel-xeon-avx512-kernels-rounds.txt", "kernels"),
    ("intel-xeon-avx2-emulated-before.json", "before"),
    ("intel-xeon-avx2-emulated-kernels.json", "kernels"),
]


def speed_row(name: str, code: str) -> str:
    record = load_record(name)
    cells = [model_cell(record, m, ranges=True) for m in MODEL_COLUMNS]
    return f"| {cpu_name(record)} | {code} | " + " | ".join(cells) + f" | `{name}` |"


# benchmarks/README.md's history: every record, oldest first. (record, commit that added it if pruned since, CPU
# text is computed, what changed)
HISTORY_ROWS = [
    ("intel-xeon-avx512-before.json", None, "before"),
    ("fused-adam-avx512.json", "d505ca9", "fused Adam"),
    ("intel-xeon-avx512-kernels-rounds.txt", None, "kernels"),
    ("intel-xeon-avx2-emulated-before.json", None, "before"),
    ("fused-adam-avx2-emulated.json", "d505ca9", "fused Adam"),
    ("intel-xeon-avx2-emulated-kernels.json", None, "kernels"),
    ("amd-epyc-zen1-avx2-before.json", None, "before"),
    ("amd-epyc-zen1-avx2-kernels.json", None, "kernels, with batch norm's blocked sums"),
    ("amd-epyc-zen1-avx2-kernels-make-bench.json", None, "kernels; `make bench PEERS=1`, one round"),
    ("amd-epyc-zen4-avx512-kernels.json", None, "kernels"),
    ("amd-epyc-zen4-avx512-make-bench.json", "da47424", "kernels; `make bench PEERS=1`"),
    ("amd-epyc-zen4-avx2-emulated-kernels.json", None, "kernels"),
    ("amd-epyc-zen4-avx512-epoch-copies-make-bench.json", "eef8b1d", "each epoch's shuffled copy"),
    ("amd-epyc-zen4-avx2-emulated-epoch-copies.json", "3059a92", "each epoch's shuffled copy"),
    ("amd-epyc-zen4-avx512-final-make-bench.json", "8dd69de", "Keras's lighter import, evaluate's numpy scores"),
    ("amd-epyc-zen4-avx512-fixed-costs-make-bench.json", None, "fixed costs"),
    ("amd-epyc-zen4-avx2-emulated-fixed-costs.json", None, "fixed costs"),
]


def history_row(name: str, commit: str | None, change: str) -> str:
    record = load_record(name, commit)
    where = f"`{name}`" if commit is None else f"{name} (pruned; `git show {commit}:benchmarks/{name}`)"
    cells = [model_cell(record, m, ranges=False) for m in MODEL_COLUMNS]
    return f"| {where} | {cpu_name(record)} | {change} | " + " | ".join(cells) + f" | {pipeline_cell(record)} |"


def test_the_speed_pages_table_is_the_records():
    page = text(SPEED)
    for name, code in SPEED_ROWS:
        row = speed_row(name, code)
        assert row in page, f"docs/speed.md should have the row\n{row}"


def test_the_benchmark_history_is_the_records():
    page = text(BENCHMARKS / "README.md")
    for name, commit, change in HISTORY_ROWS:
        row = history_row(name, commit, change)
        assert row in page, f"benchmarks/README.md should have the row\n{row}"


def test_every_record_in_benchmarks_is_described_and_nothing_reads_a_pruned_one():
    described = text(BENCHMARKS / "README.md")
    for record in BENCHMARKS.iterdir():
        if record.name != "README.md":
            assert f"`{record.name}`" in described, f"benchmarks/README.md does not describe {record.name}"
    pruned = [name for name, commit, _ in HISTORY_ROWS if commit]
    for path in [*ROOT.glob("fmnist/**/*.py"), *ROOT.glob("tests/*.py"), *ROOT.glob("stages/*.py"),
                 ROOT / "Makefile", ROOT / "dvc.yaml", *DOCS.glob("*.md"), README]:
        if path.name == "test_docs.py":
            continue
        for name in pruned:
            assert name not in path.read_text(), f"{path.relative_to(ROOT)} names the pruned record {name}"


def test_the_records_commands_are_quoted_as_recorded():
    rows = re.findall(r"^\| `([\w.-]+)` \| [^|]+ \| `([^`]+)` \|", text(BENCHMARKS / "README.md"), flags=re.M)
    assert len(rows) > 1
    for name, command in rows:
        path = BENCHMARKS / name
        recorded = (re.search(r"^# (python -m .+?) on ", path.read_text(), flags=re.M)[1] if name.endswith(".txt")
                    else json.loads(path.read_text())["command"])
        assert command == recorded, f"benchmarks/README.md: {name} was run as {recorded!r}"


def test_the_speed_page_names_only_records_that_exist():
    for name in set(re.findall(r"benchmarks/([\w.-]+\.(?:json|txt))", text(SPEED) + text(README))):
        assert (BENCHMARKS / name).exists(), f"benchmarks/{name}: named in the docs, not in benchmarks/"


# ---- Links, make targets, modules, params ----

def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces as hyphens."""
    heading = re.sub(r"[`*_]", "", heading.strip().lower())
    return re.sub(r"[^\w\- ]", "", heading).replace(" ", "-")


def anchors(page: Path) -> set:
    return {slug(h) for h in re.findall(r"^#+ (.+)$", without_code(text(page)), flags=re.M)}


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_relative_links_lead_to_existing_files_and_headings(page):
    for target in re.findall(r"\]\(([^)\s]+)\)", without_code(text(page))):
        if re.match(r"^[a-z]+:", target):
            continue
        file, _, anchor = target.partition("#")
        destination = (page.parent / file).resolve() if file else page
        relative = destination.relative_to(ROOT).as_posix() if destination.is_relative_to(ROOT) else str(destination)
        if relative in PAGES_ADDED_ELSEWHERE and not destination.exists():
            continue
        assert destination.exists(), f"{page.name}: link to {target}: no such file"
        if anchor:
            assert anchor in anchors(destination), f"{page.name}: link to {target}: no such heading"


def test_the_readme_links_every_docs_page():
    links = set(re.findall(r"\]\((docs/[\w.-]+\.md)[#)]", text(README)))
    for page in DOCS.glob("*.md"):
        assert f"docs/{page.name}" in links, f"README.md does not link docs/{page.name}"
    assert PAGES_ADDED_ELSEWHERE <= links


def test_the_readme_fits_a_first_read():
    lines = len(text(README).splitlines())
    assert lines <= README_MAX_LINES, f"README.md has {lines} lines; at most {README_MAX_LINES}, the rest in docs/"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_make_targets_named_exist(page):
    targets = set(re.findall(r"^([\w-]+):", (ROOT / "Makefile").read_text(), flags=re.M)) | TARGETS_ADDED_ELSEWHERE
    for target in set(re.findall(r"\bmake ([\w-]*\w)", text(page))):
        assert target in targets, f"{page.name} names make {target}, the Makefile has no such target"


@pytest.mark.parametrize("page", PAGES[:-1], ids=lambda p: str(p.relative_to(ROOT)))
def test_python_modules_named_exist(page):
    """Every `python -m X` names a module that exists. The bench block quotes its record's command as run, so
    it is checked against the record instead (test_the_bench_block_is_the_latest_records_table), as are the
    commands benchmarks/README.md quotes (test_the_records_commands_are_quoted_as_recorded)."""
    content = text(page)
    if bench.BENCH_START in content:
        content = content.replace(between(content, bench.BENCH_START, bench.BENCH_END), "")
    for module in set(re.findall(r"python -m ([\w.]+)", content)):
        assert importlib.util.find_spec(module) is not None, f"{page.name}: python -m {module}: no such module"


def test_params_set_on_the_command_line_exist():
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    for page in PAGES:
        for key in re.findall(r"-S '?([\w.]+)=", text(page)):
            section, _, name = key.partition(".")
            assert name in params.get(section, {}), f"{page.name}: -S {key}: params.yaml has no such key"


# ---- What the pages say about the code ----

def test_the_seed_study_includes_the_pipelines_own_run():
    """docs/reproducibility.md: the seed study's run with params.yaml's seed is the pipeline's own result."""
    seed = yaml.safe_load((ROOT / "params.yaml").read_text())["seed"]
    study = read_json("metrics/seeds.json")["models"]
    for model in paths.MODEL_NAMES:
        run = next(r for r in study[model]["runs"] if r["seed"] == seed)
        assert run["test_accuracy"] == read_json(f"metrics/{model}/test.json")["accuracy"], model
        assert run["val_accuracy"] == read_json(f"metrics/{model}/train.json")["val_accuracy"], model
