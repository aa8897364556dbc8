"""Where results were made: the facts about this machine and its software that decide a float's last bits.

The stages that compute floats write `metrics/machine/<stage>.json`; `make check` compares them to know
whether a rerun can be expected to give the same bytes (same fingerprint) or only the same results within the
seed noise (another CPU kind, thread count or library version).
"""
import importlib.metadata
import os
import platform
from pathlib import Path

from fmnist import paths

# What makes the bytes differ: the CPU's vector ISA (oneDNN and numpy pick kernels for it at run time, and
# Eigen's block sizes follow the cache sizes), how many threads split the work, and the library versions.
# The rest (kernel release, host name) is recorded for the reader and not compared.
IDENTITY_KEYS = ("cpu", "vector_isa", "isa_extensions", "caches", "onednn", "threads", "os", "python",
                 "tensorflow", "keras", "numpy")
# CPU flags that change which kernels oneDNN or numpy run (bf16, VNNI and AMX paths, AVX-512 variants).
ISA_EXTENSIONS = ("avx512f", "avx512bw", "avx512vl", "avx512_vnni", "avx512_bf16", "avx512_fp16",
                  "amx_tile", "amx_bf16", "avx_vnni", "fma", "f16c")
PACKAGES = {"tensorflow": ("tensorflow-cpu", "tensorflow"), "keras": ("keras",), "numpy": ("numpy",)}


def cpuinfo(text: str) -> dict:
    """The first processor's fields of a /proc/cpuinfo text."""
    fields = {}
    for line in text.split("\n\n")[0].splitlines():
        key, _, value = line.partition(":")
        fields[key.strip()] = value.strip()
    return fields


def vector_isa(flags: set) -> str:
    """The widest SIMD instruction set the CPU offers."""
    for flag, name in (("avx512f", "AVX-512"), ("avx2", "AVX2"), ("avx", "AVX"), ("sse4_2", "SSE4.2")):
        if flag in flags:
            return name
    return "SSE2"


def cache_sizes(root=Path("/sys/devices/system/cpu/cpu0/cache")) -> dict:
    sizes = {}
    for index in sorted(root.glob("index*")):
        try:
            level, kind = (index / "level").read_text().strip(), (index / "type").read_text().strip()
            sizes[f"L{level}{'d' if kind == 'Data' else 'i' if kind == 'Instruction' else ''}"] = \
                (index / "size").read_text().strip()
        except OSError:
            continue
    return sizes


def package_version(names) -> str | None:
    for name in names:
        try:
            return importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return None


def fingerprint(threads: int | None = None, cpuinfo_text: str | None = None) -> dict:
    """This machine's fingerprint. `threads` is the number of threads the stage's math ran on (TensorFlow's
    intra-op threads); None for a stage that runs single-threaded numpy."""
    if cpuinfo_text is None:
        try:
            cpuinfo_text = Path("/proc/cpuinfo").read_text()
        except OSError:
            cpuinfo_text = ""
    info = cpuinfo(cpuinfo_text)
    flags = set(info.get("flags", "").split())
    return {
        "cpu": " ".join(filter(None, [info.get("model name", platform.processor() or platform.machine()),
                                      f"({info.get('vendor_id', '?')} family {info.get('cpu family', '?')} "
                                      f"model {info.get('model', '?')})" if info else None])),
        "vector_isa": vector_isa(flags),
        "isa_extensions": sorted(flags.intersection(ISA_EXTENSIONS)),
        "caches": cache_sizes(),
        # oneDNN's run-time kernel choice, when capped or turned off by the environment
        "onednn": {key: os.environ.get(key) for key in ("ONEDNN_MAX_CPU_ISA", "TF_ENABLE_ONEDNN_OPTS")},
        "cpus_available": len(os.sched_getaffinity(0)),
        "threads": threads,
        "os": f"{platform.system()} {'-'.join(platform.libc_ver())}",
        "kernel": platform.release(),
        "python": platform.python_version(),
        **{name: package_version(dists) for name, dists in PACKAGES.items()},
    }


def identity(fp: dict) -> dict:
    """The part of a fingerprint that decides bytes."""
    return {key: fp.get(key) for key in IDENTITY_KEYS}


def fingerprint_file(stage: str) -> Path:
    return paths.METRICS_DIR / "machine" / f"{stage}.json"
