"""Stage `download`: the four Fashion-MNIST files into data/raw/, each verified against its md5.

Sources, in order: the folder named by $FASHION_MNIST_DIR (offline use), then each base URL in params.
A file that fails from one source is tried from the next; nothing unverified ever lands in data/raw/.
"""
import hashlib
import os
import shutil
import socket
import time
import urllib.error
import urllib.request
from pathlib import Path

from fmnist import params, paths
from fmnist.errors import UserError
from fmnist.stage import run_stage
from fmnist.files import atomic_path, remove_stale_tmp

CHUNK = 1 << 20
GZIP_MAGIC = b"\x1f\x8b"


class SourceFailed(Exception):
    """One source could not give one file; the reason is the message."""


def md5_of(path: Path) -> str:
    digest = hashlib.md5()
    with open(path, "rb") as file:
        while chunk := file.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def copy_local(folder: Path, name: str, tmp: Path, timeout: float, retries: int) -> None:
    try:
        shutil.copyfile(folder / name, tmp)
    except FileNotFoundError:
        raise SourceFailed("not found") from None
    except OSError as error:
        raise SourceFailed(f"cannot read ({error.strerror})") from None


def _http_get(url: str, tmp: Path, timeout: float) -> None:
    with urllib.request.urlopen(url, timeout=timeout) as response, open(tmp, "wb") as out:
        while chunk := response.read(CHUNK):  # each read is bounded by `timeout`
            out.write(chunk)


def http_download(base_url: str, name: str, tmp: Path, timeout: float, retries: int) -> None:
    """GET base_url + name, retrying timeouts, dropped connections and 5xx; a 4xx is final."""
    url = base_url.rstrip("/") + "/" + name
    for attempt in range(1, retries + 1):
        try:
            _http_get(url, tmp, timeout)
            return
        except urllib.error.HTTPError as error:
            reason = f"HTTP {error.code} {error.reason}"
            if error.code < 500:
                raise SourceFailed(reason) from None
        except (TimeoutError, socket.timeout):
            reason = f"timed out after {timeout:g} s"
        except urllib.error.URLError as error:
            inner = error.reason
            reason = f"timed out after {timeout:g} s" if isinstance(inner, TimeoutError) else f"unreachable ({inner})"
        except OSError as error:  # connection reset or refused mid-body
            reason = f"connection failed ({error})"
        if attempt < retries:
            time.sleep(min(2 ** (attempt - 1), 8))
    raise SourceFailed(f"{reason} (after {retries} attempt{'s' * (retries > 1)})")


def verify(tmp: Path, expected_md5: str) -> None:
    actual = md5_of(tmp)
    if actual != expected_md5:
        head = tmp.read_bytes()[:64]
        what = "" if head.startswith(GZIP_MAGIC) else " (not a gzip file" + (
            ": an HTML page)" if b"<html" in head.lower() or b"<!doctype" in head.lower() else ")")
        raise SourceFailed(f"md5 mismatch: got {actual}, expected {expected_md5}{what}")


def fetch(name: str, expected_md5: str, sources, timeout: float, retries: int) -> None:
    target = paths.RAW_DIR / name
    if target.exists() and md5_of(target) == expected_md5:
        print(f"{name}: already present, md5 ok")
        return
    reasons = []
    for label, get in sources:
        start = time.perf_counter()
        try:
            with atomic_path(target) as tmp:
                get(name, tmp, timeout, retries)
                verify(tmp, expected_md5)
        except SourceFailed as failure:
            reasons.append(f"{label}: {failure}")
            continue
        size = target.stat().st_size
        print(f"{name}: {size:,} bytes from {label}, md5 ok, {time.perf_counter() - start:.1f} s")
        return
    raise UserError(f"{name}: no source gave a verified file. " + "; ".join(reasons))


def main():
    p = params.load("download")
    sources = []
    if local := os.environ.get("FASHION_MNIST_DIR"):
        folder = Path(local).expanduser()
        if not folder.is_dir():
            raise UserError(f"FASHION_MNIST_DIR={local}: not a folder")
        sources.append((f"FASHION_MNIST_DIR={local}", lambda name, *rest, f=folder: copy_local(f, name, *rest)))
    for base in p.base_urls:
        sources.append((base, lambda name, *rest, b=base: http_download(b, name, *rest)))
    if not sources:
        raise UserError("params.yaml: download.base_urls is empty and FASHION_MNIST_DIR is not set: no source")

    paths.RAW_DIR.mkdir(parents=True, exist_ok=True)
    remove_stale_tmp(paths.RAW_DIR)
    for name in paths.RAW_FILES.values():
        fetch(name, p.md5[name], sources, p.timeout_seconds, p.retries)


if __name__ == "__main__":
    run_stage(main)
