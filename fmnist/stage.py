"""How every stage script runs: a user's mistake ends it with one readable line (never a traceback), and, on
request, it records what it cost.

Resource log: when the environment names a file in STAGE_LOG_ENV, each stage appends one JSON line to it with
its name, peak memory and wall seconds. Any tool that runs the pipeline can ask for it (`make bench` does);
the stages do not know who reads it.
"""
import json
import os
import resource
import sys
import time

from fmnist.errors import UserError

STAGE_LOG_ENV = "FMNIST_STAGE_LOG"
_IMPORTED_AT = time.monotonic()


def process_seconds() -> float:
    """Wall seconds since this process started: with the interpreter's start-up and every import on Linux
    (/proc); elsewhere, since this module was imported."""
    try:
        ticks_per_second = os.sysconf("SC_CLK_TCK")
        with open("/proc/self/stat") as stat, open("/proc/uptime") as uptime:
            started = int(stat.read().rsplit(")", 1)[1].split()[19]) / ticks_per_second  # field 22: start time
            return float(uptime.read().split()[0]) - started
    except OSError:
        return time.monotonic() - _IMPORTED_AT


def peak_memory_mib() -> float:
    """This process's peak resident memory: ru_maxrss is in KiB on Linux, in bytes on macOS."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024 if sys.platform == "darwin" else 1024)


def _log_resources() -> None:
    log = os.environ.get(STAGE_LOG_ENV)
    if log:
        stage = " ".join([os.path.splitext(os.path.basename(sys.argv[0]))[0], *sys.argv[1:]])
        with open(log, "a") as file:
            file.write(json.dumps({"stage": stage, "peak_mib": peak_memory_mib(), "seconds": process_seconds()}) + "\n")


def run_stage(main) -> None:
    """Run a stage's `main()`; turn a UserError into one line on stderr and exit status 1."""
    try:
        main()
    except UserError as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(1)
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        sys.exit(130)
    _log_resources()
