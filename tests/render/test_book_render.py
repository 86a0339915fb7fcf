"""The built book as a reader meets it: headless Chromium with the network switched off.

Run by ``make render`` (part of ``make test``) after the strict book build. The pages are
served from a loopback HTTP server; Chromium resolves every other host to nothing, so a page
that needed a CDN (MathJax, fonts, images) would visibly fail here. Checks, on every page:

* equations were typeset by the bundled MathJax (no raw TeX left in the prose, every math
  element holds MathJax output);
* every image loaded (``naturalWidth > 0``);
* every same-site link points at a page that exists;
* no resource was fetched from outside the local server.

The student edition (``make book-student``, built with sphinx-exercise's
``hide_solutions``) is checked against the full book page by page: every chapter keeps all
its numbered exercises and has no solution left, while the full book shows a solution for
each exercise that has one (so the check can fail).

Screenshots of the introduction and of one chapter are saved in ``_build/screenshots``.
Set ``INFOCOMPRESS_REQUIRE_RENDER=1`` to turn a missing build or browser into a failure.
"""

from __future__ import annotations

import functools
import http.server
import os
import pathlib
import shutil
import tempfile
import threading
import urllib.error
import urllib.parse
import urllib.request

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
HTML = pathlib.Path(os.environ.get("INFOCOMPRESS_HTML", ROOT / "_build/stored/_build/html"))
STUDENT_HTML = pathlib.Path(os.environ.get("INFOCOMPRESS_STUDENT_HTML",
                                           ROOT / "_build/student/_build/html"))
SHOTS = ROOT / "_build" / "screenshots"
REQUIRE = os.environ.get("INFOCOMPRESS_REQUIRE_RENDER", "") == "1"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
DRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"


def _unavailable(msg):
    if REQUIRE:
        pytest.fail(msg)
    pytest.skip(msg)


def _pages():
    if not HTML.is_dir():
        return []
    skip = {"genindex.html", "search.html", "py-modindex.html", "prf-prf.html", "index.html"}
    return sorted(
        p.relative_to(HTML).as_posix()
        for p in HTML.rglob("*.html")
        if "_static" not in p.parts and "_sources" not in p.parts and p.name not in skip
    )


PAGES = _pages()


def _serve(html, target):
    if not (html / "book" / "intro.html").is_file():
        _unavailable(f"no built book under {html} (run make {target})")
    handler = functools.partial(_QuietHandler, directory=str(html))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    return httpd


@pytest.fixture(scope="module")
def server():
    httpd = _serve(HTML, "book-stored")
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


@pytest.fixture(scope="module")
def student_server():
    httpd = _serve(STUDENT_HTML, "book-student")
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # keep pytest output clean
        pass


@pytest.fixture(scope="module")
def browser():
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        _unavailable("selenium is not installed")
    if not (os.path.exists(CHROMIUM) and os.path.exists(DRIVER)):
        _unavailable("chromium / chromedriver missing (apt-get install chromium chromium-driver)")
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    profile = tempfile.mkdtemp(prefix="chromium-profile-")
    for flag in (
        "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--disable-dev-shm-usage", "--window-size=1280,900", f"--user-data-dir={profile}",
        # network off: every host but the loopback server resolves to nothing
        "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
        "--proxy-server=http://127.0.0.1:9", "--proxy-bypass-list=127.0.0.1",
    ):
        opts.add_argument(flag)
    driver = webdriver.Chrome(service=Service(DRIVER), options=opts)
    driver.set_page_load_timeout(60)
    driver.set_script_timeout(60)
    yield driver
    driver.quit()
    shutil.rmtree(profile, ignore_errors=True)


_WAIT_FOR_MATHJAX = """
const done = arguments[arguments.length - 1];
if (!window.MathJax || !MathJax.startup || !MathJax.startup.promise) { done('no-mathjax'); return; }
MathJax.startup.promise.then(() => done('ok')).catch(e => done('error: ' + e));
"""

_INSPECT = """
const mathEls = [...document.querySelectorAll('.math')];
const unrendered = mathEls.filter(e => !e.querySelector('mjx-container'))
  .map(e => e.textContent.slice(0, 80));
const prose = document.querySelector('main') || document.body;
const clone = prose.cloneNode(true);
clone.querySelectorAll('pre, code, .highlight, script, style, mjx-container, .cell_input')
  .forEach(e => e.remove());
const text = clone.innerText;
const raw = (text.match(/\\\\\\(|\\\\\\[|\\$\\$|\\\\begin\\{/g) || []).length;
const images = [...document.images]
  .map(i => ({src: i.getAttribute('src'), ok: i.complete && i.naturalWidth > 0}));
const links = [...document.querySelectorAll('a[href]')].map(a => a.href);
const resources = performance.getEntriesByType('resource').map(r => r.name);
return {n_math: mathEls.length, n_mjx: document.querySelectorAll('mjx-container').length,
        unrendered, raw, images, links, resources};
"""


@pytest.mark.parametrize("page", PAGES or ["book/intro.html"])
def test_page_renders_offline(server, browser, page):
    browser.get(f"{server}/{page}")
    status = browser.execute_async_script(_WAIT_FOR_MATHJAX)
    info = browser.execute_script(_INSPECT)
    if info["n_math"]:
        assert status == "ok", f"{page}: MathJax did not start ({status})"
        assert not info["unrendered"], f"{page}: equations left as TeX: {info['unrendered'][:3]}"
        assert info["n_mjx"] >= info["n_math"]
    assert info["raw"] == 0, f"{page}: raw TeX delimiters left in the text"
    broken = [i["src"] for i in info["images"] if not i["ok"]]
    assert not broken, f"{page}: images that did not load: {broken}"
    outside = [r for r in info["resources"] if not r.startswith((server, "data:"))]
    assert not outside, f"{page}: fetched from outside the book: {outside[:3]}"
    for link in info["links"]:
        if not link.startswith(server):
            continue
        path = urllib.parse.urlsplit(link).path
        target = HTML / urllib.parse.unquote(path.lstrip("/"))
        if path.endswith("/"):
            target = target / "index.html"
        assert target.exists(), f"{page}: broken internal link {path}"


def test_math_is_typeset_and_screenshots(server, browser):
    """The introduction and the first chapter render their equations; keep screenshots."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    for page, name in (("book/intro.html", "intro.png"),
                       ("notebooks/rd_one_page.html", "chapter_rd_one_page.png")):
        browser.get(f"{server}/{page}")
        assert browser.execute_async_script(_WAIT_FOR_MATHJAX) == "ok"
        info = browser.execute_script(_INSPECT)
        assert info["n_mjx"] > 0, f"{page}: no typeset equation"
        browser.save_screenshot(str(SHOTS / name))
        assert (SHOTS / name).stat().st_size > 10_000


def test_missing_page_is_detected(server):
    """The link check can fail: a page that does not exist gives HTTP 404."""
    with pytest.raises(urllib.error.HTTPError):
        urllib.request.urlopen(f"{server}/book/no-such-page.html", timeout=10)


_EXERCISES = """
const main = document.querySelector('main') || document.body;
const titles = sel => [...main.querySelectorAll(sel)]
  .map(e => (e.querySelector('.admonition-title') || e).innerText.trim().split('\\n')[0]);
return {exercises: titles('div.exercise'), solutions: titles('div.solution'),
        text: main.innerText};
"""

CHAPTERS = [p for p in PAGES if p.startswith("notebooks/") and "appendix" not in p]


@pytest.mark.parametrize("page", CHAPTERS or ["notebooks/rd_one_page.html"])
def test_student_edition_has_exercises_without_solutions(server, student_server, browser,
                                                         page):
    """Same numbered exercises as the full book; the full book's solutions are all gone."""
    browser.get(f"{server}/{page}")
    full = browser.execute_script(_EXERCISES)
    browser.get(f"{student_server}/{page}")
    student = browser.execute_script(_EXERCISES)
    assert full["exercises"], f"{page}: no exercise directive in the full book"
    assert all(t.startswith("Exercise") for t in full["exercises"]), full["exercises"]
    assert full["solutions"], f"{page}: the full book shows no solution"
    assert all(t.startswith("Solution to Exercise") for t in full["solutions"]), \
        full["solutions"]
    assert student["exercises"] == full["exercises"], f"{page}: exercises differ"
    assert student["solutions"] == [], f"{page}: solutions left: {student['solutions']}"
    assert "Solution to" not in student["text"], f"{page}: solution text left"


def test_student_edition_files_hold_no_solution():
    """No file of the student build gives a solution away: the notebook sources (whose
    markdown holds the solution directives) are not copied and no page offers a download
    of them; the full build does copy them, so the check can fail."""
    if not (STUDENT_HTML / "book" / "intro.html").is_file() or not HTML.is_dir():
        _unavailable("student or full build missing (run make book-stored book-student)")
    full_sources = list((HTML / "_sources").rglob("*.ipynb"))
    assert any("{solution}" in p.read_text(encoding="utf-8") for p in full_sources)
    leaks = [p.relative_to(STUDENT_HTML).as_posix() for p in STUDENT_HTML.rglob("*")
             if p.is_file() and p.suffix in (".ipynb", ".md", ".txt", ".html", ".js", ".json")
             and any(s in p.read_text(encoding="utf-8", errors="replace")
                     for s in ("{solution}", "Solution to", "_sources/"))]
    assert not leaks, f"solutions or source downloads in the student build: {leaks[:5]}"
