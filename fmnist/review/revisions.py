"""Files as committed at a git revision: what `make report` and `make check` compare the working tree with."""
import subprocess
from pathlib import Path


def commit_of(rev: str) -> str | None:
    """The commit `rev` names, or None when there is no such revision."""
    result = subprocess.run(["git", "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}"],
                            capture_output=True, text=True)
    return result.stdout.strip() if result.returncode == 0 else None


def file_at(rev: str, path) -> bytes | None:
    """The bytes of `path` as committed at `rev`, or None when the file is not there."""
    result = subprocess.run(["git", "show", f"{rev}:{Path(path).as_posix()}"], capture_output=True)
    return result.stdout if result.returncode == 0 else None


def files_at(rev: str, folders) -> dict:
    """{path: bytes} of every file under `folders` at `rev`."""
    listing = subprocess.run(["git", "ls-tree", "-r", "-z", "--name-only", rev, "--", *map(str, folders)],
                             capture_output=True, check=True).stdout.decode()
    return {name: file_at(rev, name) for name in listing.split("\0") if name}
