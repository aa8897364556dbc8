"""Where results were made: the facts about this machine and its software that decide a float's last bits.

The stages that compute floats write `metrics/machine/<stage>.json`; `make check` compares them to know
whether a rerun can be expected to give the same bytes (same fingerprint) or only the same results within the
seed noise (another CPU kind, thread count or library version).

The facts come from Linux's /proc and /sys; on macOS, which has neither, from sysctl.
"""
import importlib.metadata
import os
import platform
import subprocess
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
CPUINFO = Path("/proc/cpuinfo")
CACHE_DIR = Path("/sys/devices/system/cpu/cpu0/cache")


def cpuinfo(text: str) -> dict:
    """The first processor's fields of a /proc/cpuinfo text."""
    fields = {}
    for line in text.split("\n\n")[0].splitlines():
        key, _, value = line.partition(":")
        fields[key.strip()] = value.strip()
    return fields


def vector_isa(flags: set, machine: str = "") -> str:
    """The widest SIMD instruction set the CPU offers: x86's from /proc/cpuinfo's flags, ARM's from its
    features (Linux) or, with none known (macOS), from the machine: every 64-bit ARM CPU has NEON."""
    for flag, name in (("avx512f", "AVX-512"), ("avx2", "AVX2"), ("avx", "AVX"), ("sse4_2", "SSE4.2"),
                       ("sve2", "SVE2"), ("sve", "SVE"), ("asimd", "NEON")):
        if flag in flags:
            return name
    return "NEON" if machine.lower() in ("arm64", "aarch64") else "SSE2"


def sysctl(name: str) -> str | None:
    """A macOS sysctl value (machdep.cpu.brand_string, hw.l2cachesize...); None elsewhere, or if it has none."""
    if platform.system() != "Darwin":
        return None
    try:
        result = subprocess.run(["sysctl", "-n", name], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    return (result.stdout.strip() or None) if result.returncode == 0 else None


def cache_sizes(root: Path | None = None) -> dict:
    """The first CPU's cache sizes, as Linux's /sys writes them ("48K"); from sysctl on macOS."""
    sizes = {}
    for index in sorted((root or CACHE_DIR).glob("index*")):
        try:
            level, kind = (index / "level").read_text().strip(), (index / "type").read_text().strip()
            sizes[f"L{level}{'d' if kind == 'Data' else 'i' if kind == 'Instruction' else ''}"] = \
                (index / "size").read_text().strip()
        except OSError:
            continue
    if not sizes:
        for key, name in (("L1d", "hw.l1dcachesize"), ("L1i", "hw.l1icachesize"), ("L2", "hw.l2cachesize"),
                          ("L3", "hw.l3cachesize")):
            value = sysctl(name)
            if value and value.isdigit() and int(value) > 0:
                sizes[key] = f"{int(value) // 1024}K"
    return sizes


def cpus_available() -> int:
    """The CPUs this process may run on: its affinity mask (Linux; taskset narrows it), else every CPU (macOS
    has no affinity mask)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def os_name() -> str:
    """The system and its C library (Linux), or its release (macOS): "Linux glibc-2.36", "Darwin macOS-14.5"."""
    libc = "-".join(platform.libc_ver())
    if libc == "-" and platform.system() == "Darwin":
        libc = f"macOS-{platform.mac_ver()[0]}"
    return f"{platform.system()} {libc}"


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
            cpuinfo_text = CPUINFO.read_text()
        except OSError:
            cpuinfo_text = ""
    info = cpuinfo(cpuinfo_text)
    flags = set(info.get("flags", info.get("Features", "")).split())  # x86's flags, ARM's features
    cpu_name = sysctl("machdep.cpu.brand_string") or platform.processor() or platform.machine()
    return {
        "cpu": " ".join(filter(None, [info.get("model name", cpu_name),
                                      f"({info.get('vendor_id', '?')} family {info.get('cpu family', '?')} "
                                      f"model {info.get('model', '?')})" if info else None])),
        "vector_isa": vector_isa(flags, platform.machine()),
        "isa_extensions": sorted(flags.intersection(ISA_EXTENSIONS)),
        "caches": cache_sizes(),
        # oneDNN's run-time kernel choice, when capped or turned off by the environment
        "onednn": {key: os.environ.get(key) for key in ("ONEDNN_MAX_CPU_ISA", "TF_ENABLE_ONEDNN_OPTS")},
        "cpus_available": cpus_available(),
        "threads": threads,
        "os": os_name(),
        "kernel": platform.release(),
        "python": platform.python_version(),
        **{name: package_version(dists) for name, dists in PACKAGES.items()},
    }


def identity(fp: dict) -> dict:
    """The part of a fingerprint that decides bytes."""
    return {key: fp.get(key) for key in IDENTITY_KEYS}


def fingerprint_file(stage: str) -> Path:
    return paths.METRICS_DIR / "machine" / f"{stage}.json"
