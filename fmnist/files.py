"""Atomic writes: an output appears under its final name only once it is complete, so a failed or killed
stage never leaves a file that a later stage could take for a finished one."""
import json
import os
import re
import tempfile
from contextlib import contextmanager
from pathlib import Path

TMP_PREFIX = ".tmp-"


@contextmanager
def atomic_path(path):
    """Yield a temporary path in the same folder as `path` (same suffix, so writers that pick a format by
    suffix still work); rename it onto `path` when the block succeeds, delete it when it fails."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=TMP_PREFIX, suffix=f"-{path.name}")
    os.close(fd)
    tmp = Path(tmp)
    try:
        yield tmp
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def remove_stale_tmp(folder) -> None:
    """Delete temporary files left by a stage that was killed (kill -9 skips every cleanup)."""
    for stale in Path(folder).glob(f"{TMP_PREFIX}*"):
        stale.unlink(missing_ok=True)


def write_json(path, data) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(data, indent=2) + "\n")


def write_text(path, text: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text)


def replace_marked_block(path, start: str, end: str, body: str) -> None:
    """Put `body` between the marker lines `start` and `end` of a text file (a generated block, never typed)."""
    path = Path(path)
    block = f"{start}\n{body}\n{end}"
    pattern = re.escape(start) + ".*?" + re.escape(end)
    write_text(path, re.sub(pattern, lambda _: block, path.read_text(), flags=re.S))
