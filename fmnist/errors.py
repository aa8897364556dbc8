"""User-facing errors: a user's mistake ends a stage with one readable line, never a traceback."""
import json
import os
import resource
import sys

# When set (by `make bench`), each stage appends its peak memory and wall time to this file as a JSON line.
PEAK_MEMORY_LOG_ENV = "FMNIST_PEAK_MEMORY_LOG"


class UserError(Exception):
    """Bad input from the user or the outside world (params, data files, sources). The message names the
    input and what is wrong with it."""


def process_seconds() -> float:
    """Wall seconds since this process started (Linux): with the interpreter's start-up and every import."""
    ticks_per_second = os.sysconf("SC_CLK_TCK")
    with open("/proc/self/stat") as stat, open("/proc/uptime") as uptime:
        started = int(stat.read().rsplit(")", 1)[1].split()[19]) / ticks_per_second  # field 22: start time
        return float(uptime.read().split()[0]) - started


def _log_peak_memory() -> None:
    log = os.environ.get(PEAK_MEMORY_LOG_ENV)
    if log:
        stage = " ".join([os.path.splitext(os.path.basename(sys.argv[0]))[0], *sys.argv[1:]])
        peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB
        with open(log, "a") as file:
            file.write(json.dumps({"stage": stage, "peak_mib": peak_mib, "seconds": process_seconds()}) + "\n")


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
    _log_peak_memory()
