"""The download stage: sources in order, md5 verification, clear reasons when every source fails, and never
an unverified file in data/raw/."""
import hashlib

import pytest

from fmnist.errors import UserError
from helpers import FILES
from servers import http_server, refused_url, silent_server
from stages import download

NAME = FILES["dev_labels"]
GOOD = b"\x1f\x8b pretend gzip content"
GOOD_MD5 = hashlib.md5(GOOD).hexdigest()


@pytest.fixture(autouse=True)
def in_tmp(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)


def local(folder):
    return (f"FASHION_MNIST_DIR={folder}", lambda name, *rest: download.copy_local(folder, name, *rest))


def http(url):
    return (url, lambda name, *rest: download.http_download(url, name, *rest))


def fetch(sources, timeout=5.0, retries=1):
    download.fetch(NAME, GOOD_MD5, sources, timeout, retries)


def raw_files():
    return sorted(p.name for p in download.paths.RAW_DIR.iterdir()) if download.paths.RAW_DIR.exists() else []


def failure(sources, **kwargs):
    with pytest.raises(UserError) as caught:
        fetch(sources, **kwargs)
    assert raw_files() == []  # nothing unverified, no temporary file
    return str(caught.value)


def test_local_folder(tmp_path):
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / NAME).write_bytes(GOOD)
    fetch([local(tmp_path / "src")])
    assert (download.paths.RAW_DIR / NAME).read_bytes() == GOOD and raw_files() == [NAME]


def test_missing_file_in_every_source(tmp_path):
    message = failure([local(tmp_path)])
    assert message == f"{NAME}: no source gave a verified file. FASHION_MNIST_DIR={tmp_path}: not found"


def test_md5_mismatch_names_both_sums(tmp_path):
    (tmp_path / NAME).write_bytes(b"\x1f\x8b other bytes")
    message = failure([local(tmp_path)])
    actual = hashlib.md5(b"\x1f\x8b other bytes").hexdigest()
    assert message.endswith(f"md5 mismatch: got {actual}, expected {GOOD_MD5}")


def test_http_download_and_fallback_to_the_next_source(tmp_path):
    with http_server({f"/{NAME}": (200, GOOD)}) as good, http_server({}) as empty:
        fetch([local(tmp_path), http(empty), http(good)])
    assert (download.paths.RAW_DIR / NAME).read_bytes() == GOOD


def test_every_source_failing_lists_each_reason(tmp_path):
    html = b"<!DOCTYPE html><html><body>Service unavailable</body></html>"
    refused = refused_url()
    with http_server({f"/{NAME}": (200, html)}) as html_page, http_server({}) as not_found:
        message = failure([local(tmp_path), http(html_page), http(not_found), http(refused)])
    assert f"FASHION_MNIST_DIR={tmp_path}: not found" in message
    assert (f"{html_page}: md5 mismatch: got {hashlib.md5(html).hexdigest()}, expected {GOOD_MD5} "
            "(not a gzip file: an HTML page)") in message
    assert f"{not_found}: HTTP 404" in message
    assert f"{refused}: unreachable (" in message and "refused" in message


def test_http_5xx_is_retried_then_reported():
    with http_server({f"/{NAME}": (503, b"busy")}) as busy:
        message = failure([http(busy)], retries=2)
    assert message.endswith("HTTP 503 Service Unavailable (after 2 attempts)")


def test_a_server_that_never_answers_times_out():
    with silent_server() as silent:
        message = failure([http(silent)], timeout=0.5)
    assert message.endswith(f"{silent}: timed out after 0.5 s (after 1 attempt)")


def test_an_existing_verified_file_is_kept(tmp_path):
    download.paths.RAW_DIR.mkdir(parents=True)
    (download.paths.RAW_DIR / NAME).write_bytes(GOOD)
    fetch([])  # no source needed
    assert raw_files() == [NAME]
