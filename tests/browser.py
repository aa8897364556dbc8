"""Opening a page of `dvc plots show` in headless Chromium with the network blocked, and counting what it drew."""
import json
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from helpers import require

# Debian's chromium; on a Mac (the Mac CI job) Google Chrome, which runs headless with the same flags.
MAC_CHROME = Path("/Applications/Google Chrome.app/Contents/MacOS/Google Chrome")
CHROMIUM = (shutil.which("chromium") or shutil.which("chromium-browser")
            or (str(MAC_CHROME) if MAC_CHROME.exists() else None))

# Collects script errors and failed promises (vegaEmbed reports a bad spec or a missing library that way).
ERROR_PROBE = """<script>
window.pageErrors = [];
window.addEventListener("error", (e) => pageErrors.push(String(e.message || e)), true);
window.addEventListener("unhandledrejection", (e) => pageErrors.push(String(e.reason)));
</script>"""

# Once the page has loaded and vega-embed has had time to draw (virtual time: no real wait), writes what is on
# the page into an element the dumped DOM shows: Vega views with a drawn canvas or SVG, images with pixels.
COUNT_PROBE = """<script>
window.addEventListener("load", () => setTimeout(() => {
  const embeds = [...document.querySelectorAll(".vega-embed")];
  const drawn = embeds.filter((e) => [...e.querySelectorAll("canvas.marks, svg.marks")]
    .some((v) => (v.width && v.width.baseVal ? v.width.baseVal.value : v.width) > 0));
  const images = [...document.querySelectorAll("img")];
  const result = {embeds: embeds.length, views_drawn: drawn.length, images: images.length,
                  images_loaded: images.filter((i) => i.complete && i.naturalWidth > 0).length,
                  errors: pageErrors};
  const out = document.createElement("pre");
  out.id = "probe-result";
  out.textContent = JSON.stringify(result);
  document.body.appendChild(out);
}, 5000));
</script>"""


def require_chromium() -> str:
    """Chromium's path; without it the test skips, or fails when CI is set (CI must run it)."""
    require(CHROMIUM is not None, "chromium: not installed; install with: apt-get install chromium")
    return CHROMIUM


def chromium_args(user_data_dir) -> list[str]:
    """Headless, as root in a container, with every network request refused: only file:// URLs load."""
    return [
        require_chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        f"--user-data-dir={user_data_dir}", "--proxy-server=127.0.0.1:9", "--proxy-bypass-list=<-loopback>",
        "--host-resolver-rules=MAP * ~NOTFOUND",
    ]


def probe_page(page: Path) -> dict:
    """Open a copy of `page` (beside it, so its relative image paths resolve) with the probes added; return
    the probe's counts: embeds, views_drawn, images, images_loaded, errors."""
    html = page.read_text(encoding="utf8")
    head, body_end = html.index("<head>") + len("<head>"), html.rindex("</body>")
    probed = page.with_name(f"probed-{page.name}")
    probed.write_text(html[:head] + ERROR_PROBE + html[head:body_end] + COUNT_PROBE + html[body_end:], encoding="utf8")
    with tempfile.TemporaryDirectory() as profile:
        result = subprocess.run(
            [*chromium_args(profile), "--virtual-time-budget=60000", "--dump-dom", probed.as_uri()],
            capture_output=True, text=True, timeout=300)
    match = re.search(r'<pre id="probe-result">(.*?)</pre>', result.stdout, flags=re.S)
    assert match, f"the page did not finish loading in Chromium:\n{result.stderr[-3000:]}"
    return json.loads(match.group(1).replace("&quot;", '"').replace("&lt;", "<").replace("&gt;", ">")
                      .replace("&amp;", "&"))


def screenshot(page: Path, png: Path, size=(1400, 6000)) -> None:
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run([*chromium_args(profile), "--virtual-time-budget=60000", "--hide-scrollbars",
                        f"--window-size={size[0]},{size[1]}", f"--screenshot={png}", page.as_uri()],
                       capture_output=True, check=True, timeout=300)
