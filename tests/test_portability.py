"""What the stages read from Linux has a fallback where it is missing (macOS): /proc, /sys and the CPU affinity
mask, taken away here. The machine's fingerprint (fmnist/machine.py) and a stage's wall time (fmnist/stage.py)."""
import builtins
import os
import platform
import subprocess
import time

import pytest

from fmnist import machine, stage


def test_cpus_available_without_an_affinity_mask(monkeypatch):
    monkeypatch.delattr(os, "sched_getaffinity", raising=False)
    assert machine.cpus_available() == os.cpu_count()
    assert machine.fingerprint()["cpus_available"] == os.cpu_count()


def test_cpus_available_follows_the_affinity_mask_where_there_is_one(monkeypatch):
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0}, raising=False)
    assert machine.cpus_available() == 1


def test_sysctl_is_asked_on_macos_only(monkeypatch):
    monkeypatch.setattr(platform, "system", lambda: "Linux")
    assert machine.sysctl("machdep.cpu.brand_string") is None


def test_sysctl_on_macos(monkeypatch):
    known = {"machdep.cpu.brand_string": "Apple M2\n"}
    calls = []

    def fake_run(args, **kwargs):
        calls.append(args)
        if args[-1] == "missing.tool":
            raise FileNotFoundError("sysctl")
        found = args[-1] in known
        return subprocess.CompletedProcess(args, 0 if found else 1, known.get(args[-1], ""),
                                           "" if found else f"sysctl: unknown oid '{args[-1]}'")

    monkeypatch.setattr(platform, "system", lambda: "Darwin")
    monkeypatch.setattr(subprocess, "run", fake_run)
    assert machine.sysctl("machdep.cpu.brand_string") == "Apple M2"
    assert machine.sysctl("hw.l3cachesize") is None  # Apple silicon has no L3
    assert machine.sysctl("missing.tool") is None
    assert calls[0] == ["sysctl", "-n", "machdep.cpu.brand_string"]


def test_fingerprint_of_a_mac(monkeypatch, tmp_path):
    """No /proc/cpuinfo, no /sys cache folders, no sched_getaffinity, no C library version: what Apple silicon
    gives instead."""
    sysctls = {"machdep.cpu.brand_string": "Apple M2", "hw.l1dcachesize": "65536", "hw.l1icachesize": "131072",
               "hw.l2cachesize": "4194304", "hw.l3cachesize": None}
    monkeypatch.setattr(machine, "sysctl", sysctls.get)
    monkeypatch.setattr(machine, "CPUINFO", tmp_path / "no-proc" / "cpuinfo")
    monkeypatch.setattr(machine, "CACHE_DIR", tmp_path / "no-sys")
    monkeypatch.delattr(os, "sched_getaffinity", raising=False)
    monkeypatch.setattr(platform, "machine", lambda: "arm64")
    monkeypatch.setattr(platform, "system", lambda: "Darwin")
    monkeypatch.setattr(platform, "libc_ver", lambda: ("", ""))
    monkeypatch.setattr(platform, "mac_ver", lambda: ("14.5", ("", "", ""), "arm64"))

    fp = machine.fingerprint(threads=4)
    assert fp["cpu"] == "Apple M2"
    assert fp["vector_isa"] == "NEON" and fp["isa_extensions"] == []
    assert fp["caches"] == {"L1d": "64K", "L1i": "128K", "L2": "4096K"}
    assert fp["cpus_available"] == os.cpu_count() and fp["threads"] == 4
    assert fp["os"] == "Darwin macOS-14.5"
    assert fp["tensorflow"] and fp["keras"] and fp["numpy"]


def test_vector_isa_of_arm_cpus():
    assert machine.vector_isa({"fp", "asimd", "sve", "sve2"}) == "SVE2"  # Linux on ARM: /proc/cpuinfo's Features
    assert machine.vector_isa({"fp", "asimd"}) == "NEON"
    assert machine.vector_isa(set(), "arm64") == "NEON"  # macOS: no feature list
    assert machine.vector_isa(set()) == "SSE2"  # x86-64's baseline


def test_linux_arm_cpuinfo_features():
    cpuinfo = "processor\t: 0\nBogoMIPS\t: 50.00\nFeatures\t: fp asimd evtstrm aes crc32 atomics\nCPU part\t: 0xd0c\n"
    assert machine.fingerprint(cpuinfo_text=cpuinfo)["vector_isa"] == "NEON"


def test_process_seconds_without_proc(monkeypatch):
    real_open = builtins.open

    def open_without_proc(path, *args, **kwargs):
        if str(path).startswith("/proc/"):
            raise FileNotFoundError(path)
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", open_without_proc)
    since_import = time.monotonic() - stage._IMPORTED_AT
    assert stage.process_seconds() == pytest.approx(since_import, abs=1)
