"""Look at the built documentation site as a reader would (``make docs-check``).

Serves ``--site`` on a free localhost port (``python -m http.server``), then

* fetches the home page, the Tensor reference and a notebook page;
* checks that the Tensor page documents its methods (``backward``,
  ``reshape``, ``sum``, ...), that the notebook page has images that load
  (``data:`` URIs or files the server serves) and that MathJax typesets its
  equations (the DOM after scripts ran, from headless Chromium);
* takes a screenshot of each page in headless Chromium and checks that it is
  a PNG of the window's size that is not blank.

Prints one line per check and exits 1 if any failed. Needs Debian's
``chromium`` (``scripts/docs_check.sh`` installs it) and matplotlib (to read
the PNGs back).
"""
from __future__ import annotations

import argparse
import base64
import contextlib
import html.parser
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

TENSOR_METHODS = ("backward", "reshape", "sum", "detach", "numpy", "item", "requires_grad_")
# A notebook with figures. (Headless Chromium draws nothing when it opens a
# page at an anchor, so the notebook's window is tall enough for its first
# figures instead.)
NOTEBOOK = "notebooks/01_computation_graphs/"
PAGES = {"home": "", "tensor": "reference/autograd_core/tensor/", "notebook": NOTEBOOK}
WINDOWS = {"home": (1280, 1600), "tensor": (1280, 1600), "notebook": (1280, 5000)}
CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--disable-dev-shm-usage", "--hide-scrollbars", "--virtual-time-budget=15000")


class Report:
    def __init__(self):
        self.failures = 0

    def check(self, ok, what, detail=""):
        print(f"{'ok  ' if ok else 'FAIL'}  {what}" + (f": {detail}" if detail else ""))
        self.failures += not ok
        return ok


class PageParser(html.parser.HTMLParser):
    """The ids of a page's elements and the ``src`` of its images."""

    def __init__(self):
        super().__init__()
        self.ids, self.images = set(), []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if attrs.get("id"):
            self.ids.add(attrs["id"])
        if tag == "img":
            self.images.append(attrs.get("src") or "")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def serve(site, port):
    server = subprocess.Popen([sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1",
                               "--directory", site],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        base = f"http://127.0.0.1:{port}/"
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(base, timeout=5).close()
                break
            except (urllib.error.URLError, ConnectionError):
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"docs_check: http.server on port {port} did not start")
                time.sleep(0.2)
        yield base
    finally:
        server.terminate()
        server.wait(timeout=10)


def fetch(url):
    with urllib.request.urlopen(url, timeout=30) as response:
        return response.status, response.headers.get_content_type(), response.read()


def chromium(url, *args, timeout=180):
    """Run headless Chromium on ``url`` with a fresh profile; its stdout."""
    profile = tempfile.mkdtemp(prefix="docs-check-chromium-")
    try:
        result = subprocess.run(["chromium", *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args, url],
                                capture_output=True, text=True, timeout=timeout)
        if result.returncode != 0:
            raise RuntimeError(f"chromium exited {result.returncode}: {result.stderr[-2000:]}")
        return result.stdout
    finally:
        shutil.rmtree(profile, ignore_errors=True)


def image_loads(src, page_url):
    """(ok, detail) for one <img src>: a decodable data: URI or a served image file."""
    if src.startswith("data:"):
        header, _, payload = src.partition(",")
        if not header.startswith("data:image/"):
            return False, f"data URI of {header[5:]!r}"
        data = base64.b64decode(payload) if header.endswith(";base64") else urllib.parse.unquote(payload)
        return len(data) > 0, f"{header[5:]} data URI, {len(data)} bytes"
    try:
        status, kind, body = fetch(urllib.parse.urljoin(page_url, src))
    except urllib.error.HTTPError as error:
        return False, f"{src}: HTTP {error.code}"
    return status == 200 and kind.startswith("image/") and len(body) > 0, f"{src}: {kind}, {len(body)} bytes"


def png_problem(path, size):
    """Why ``path`` is not a non-blank PNG of ``size`` (width, height), or None."""
    with open(path, "rb") as f:
        head = f.read(24)
    if head[:8] != b"\x89PNG\r\n\x1a\n":
        return "not a PNG"
    width, height = int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")
    if (width, height) != size:
        return f"{width}x{height}, expected {size[0]}x{size[1]}"
    import matplotlib.image
    pixels = matplotlib.image.imread(path)[..., :3]
    background = pixels[0, 0]
    drawn = (abs(pixels - background).sum(axis=-1) > 0.1).mean()
    if drawn < 0.01:
        return f"blank: {drawn:.2%} of the pixels differ from the background"
    return None


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--site", default=os.path.join(ROOT, "site"), help="the built site (default: site/)")
    parser.add_argument("--out", default=os.path.join(ROOT, "build", "docs-check"),
                        help="where the screenshots go (default: build/docs-check/)")
    args = parser.parse_args(argv)
    if not os.path.isfile(os.path.join(args.site, "index.html")):
        sys.exit(f"docs_check: no built site in {args.site} (run: make docs)")
    if shutil.which("chromium") is None:
        sys.exit("docs_check: chromium not found (apt-get install chromium)")
    os.makedirs(args.out, exist_ok=True)
    report = Report()

    with serve(args.site, free_port()) as base:
        print(f"docs_check: serving {args.site} at {base}")
        parsed = {}
        for name, path in PAGES.items():
            url = base + path
            try:
                status, kind, body = fetch(url)
            except urllib.error.HTTPError as error:
                status, kind, body = error.code, "", b""
            if report.check(status == 200 and kind == "text/html", f"{name} page {url}", f"HTTP {status}"):
                parsed[name] = PageParser()
                parsed[name].feed(body.decode("utf-8"))

        if "tensor" in parsed:
            ids = parsed["tensor"].ids
            missing = [m for m in TENSOR_METHODS if f"autograd_core.Tensor.{m}" not in ids]
            methods = sorted(i for i in ids if i.startswith("autograd_core.Tensor."))
            report.check(not missing, "Tensor page lists its methods",
                         f"missing {missing}" if missing else f"{len(methods)} members, including "
                         + ", ".join(TENSOR_METHODS))

        if "notebook" in parsed:
            page = parsed["notebook"]
            url = base + NOTEBOOK
            report.check(len(page.images) > 0, "notebook page has images", f"{len(page.images)} <img>")
            results = [image_loads(src, url) for src in page.images]
            bad = [detail for ok, detail in results if not ok]
            report.check(bool(results) and not bad, "notebook images load",
                         "; ".join(bad) if bad else (results[0][1] + (f", and {len(results) - 1} more"
                                                                       if len(results) > 1 else "")))
            mathjax = base + "assets/mathjax/MathJax.js"
            try:
                status = fetch(mathjax)[0]
            except urllib.error.HTTPError as error:
                status = error.code
            report.check(status == 200, "MathJax is served by the site", f"{mathjax}: HTTP {status}")
            dom = chromium(url, "--dump-dom")
            typeset = dom.count('class="MathJax')
            report.check(typeset > 0, "notebook equations are typeset (DOM after scripts)",
                         f"{typeset} MathJax elements")

        for name, path in PAGES.items():
            shot = os.path.abspath(os.path.join(args.out, f"{name}.png"))
            with contextlib.suppress(FileNotFoundError):
                os.remove(shot)
            url, window = base + path, WINDOWS[name]
            try:
                chromium(url, f"--screenshot={shot}", f"--window-size={window[0]},{window[1]}")
                problem = png_problem(shot, window) if os.path.isfile(shot) else "no file written"
            except (RuntimeError, subprocess.TimeoutExpired) as error:
                problem = str(error)
            report.check(problem is None, f"screenshot of {name} ({url})", problem or shot)

    print(f"docs_check: {'all checks passed' if not report.failures else f'{report.failures} failed'}")
    return 1 if report.failures else 0


if __name__ == "__main__":
    sys.exit(main())
