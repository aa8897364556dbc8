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


def files_at(rev: str, folders, suffixes: tuple[str, ...] = ("",)) -> dict:
    """{path: bytes} of every file under `folders` at `rev` whose name ends with one of `suffixes`."""
    listing = subprocess.run(["git", "ls-tree", "-r", "-z", "--name-only", rev, "--", *map(str, folders)],
                             capture_output=True, check=True).stdout.decode()
    return {name: file_at(rev, name) for name in listing.split("\0") if name and name.endswith(suffixes)}


def merge_base(base: str, head: str = "HEAD") -> str | None:
    """The commit a pull request from `head` into `base` forked from: what it was built on and should be
    compared with (the tip of `base` may hold results merged since, which the head never saw)."""
    result = subprocess.run(["git", "merge-base", base, head], capture_output=True, text=True)
    return result.stdout.strip() if result.returncode == 0 else None


class Snapshot:
    """One side of a comparison: the files committed at a commit, or the working tree (commit None)."""

    def __init__(self, commit: str | None, root: Path = Path(".")):
        self.commit, self.root = commit, root

    @property
    def label(self) -> str:
        return f"{self.commit[:7]}" if self.commit else "the working tree"

    def read(self, path) -> str | None:
        """The text of `path` on this side, or None when it is not there."""
        if self.commit is None:
            file = self.root / path
            return file.read_text() if file.is_file() else None
        content = file_at(self.commit, path)
        return None if content is None else content.decode()

    def files(self, folder, suffixes=(".json", ".csv")) -> dict[str, str]:
        """{path: text} of every file under `folder` on this side whose name ends with one of `suffixes`."""
        if self.commit is None:
            base = self.root / folder
            if not base.is_dir():
                return {}
            return {p.relative_to(self.root).as_posix(): p.read_text() for p in sorted(base.rglob("*"))
                    if p.is_file() and p.name.endswith(suffixes) and not p.name.startswith(".")}
        return {name: content.decode() for name, content in files_at(self.commit, [folder], suffixes).items()}
