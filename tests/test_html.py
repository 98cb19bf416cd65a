"""The HTML book (`make html`) in headless Chromium: contents in the outline's order, chapter navigation,
figures loaded, formulas typeset by the site's own MathJax, no console error, and nothing fetched from outside.

Runs with `make test-html` (TSREC_TEST_HTML=1), which installs Debian's chromium, chromium-driver and
fonts-noto-cjk when they are missing and the docs requirements into .venv; it uses the site in
$TSREC_HTML_SITE (the one `make html` built) or builds one into a temporary folder. A screenshot of chapter 1 is
written to $TSREC_HTML_SCREENSHOT (default: the test's temporary folder), and one of its first figure beside it.
"""
from __future__ import annotations

import functools
import http.server
import json
import os
import re
import shutil
import threading
from pathlib import Path

import pytest

from tsrec import book

pytestmark = pytest.mark.skipif(os.environ.get("TSREC_TEST_HTML") != "1",
                                reason="the HTML book is tested by `make test-html` (TSREC_TEST_HTML=1)")

SCREENSHOT_CHAPTER = "01_basics"
# TeX that MathJax should have replaced; looked for in the visible text outside code
RAW_TEX = re.compile(r"\$\$|\\(frac|sum|log|mathrm|text|hat|cdot|le|ge|in|begin|end|left|right)\b|\\\(|\\\[")

VISIBLE_TEXT_JS = """
const body = document.querySelector('main') || document.body;
const copy = body.cloneNode(true);
copy.querySelectorAll('pre, code, script, style, mjx-container, .cell_input, .output').forEach(e => e.remove());
return copy.textContent;
"""
MISSING_IMAGES_JS = """
return Array.from(document.images).filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.src);
"""
MATH_JS = """
const done = arguments[arguments.length - 1];
if (!window.MathJax || !MathJax.startup || !MathJax.startup.promise) { done({mathjax: false}); return; }
MathJax.startup.promise.then(() => {
  const nodes = Array.from(document.querySelectorAll('span.math, div.math'));
  done({mathjax: true, nodes: nodes.length, typeset: nodes.filter(n => n.querySelector('mjx-container')).length,
        errors: document.querySelectorAll('mjx-merror, [data-mjx-error]').length,
        src: Array.from(document.scripts).map(s => s.src).filter(s => s.includes('mathjax'))});
}).catch(e => done({mathjax: true, failed: String(e)}));
"""


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    """The built site: $TSREC_HTML_SITE, or a fresh build of docs/ (about 20 s, never executes a notebook)."""
    given = os.environ.get("TSREC_HTML_SITE")
    if given:
        path = Path(given)
        assert (path / "index.html").is_file(), f"{path} holds no built site: run `make html`"
        return path
    from tsrec import classroom

    return classroom.build_html(tmp_path_factory.mktemp("site"))


@pytest.fixture(scope="module")
def server(site):
    """The site over HTTP on 127.0.0.1 (a random free port), as a reader's browser would get it."""
    handler = functools.partial(_QuietHandler, directory=str(site))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - the base class's name
        pass


@pytest.fixture(scope="module")
def browser():
    """Headless Chromium (Debian's chromium + chromium-driver) that cannot resolve any host but this one."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver_path = shutil.which("chromedriver")
    assert chromium and driver_path, "needs Debian's chromium and chromium-driver: `make test-html` installs them"
    opts = webdriver.ChromeOptions()
    opts.binary_location = chromium
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--lang=en-US",
                "--window-size=1280,1600", "--no-first-run", "--disable-extensions",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"):   # a CDN request fails loudly
        opts.add_argument(arg)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=opts, service=Service(driver_path))
    driver.set_page_load_timeout(60)
    driver.set_script_timeout(60)
    yield driver
    driver.quit()


def _chapter_pages() -> list[str]:
    return [f"chapters/{p.stem}.html" for p in book.chapters()]


def _open(browser, url: str) -> dict:
    """Load ``url``, wait for MathJax, and collect what the page shows and what went wrong on it."""
    browser.get_log("browser")                                   # drop what an earlier page left
    browser.get(url)
    math = browser.execute_async_script(MATH_JS)
    return {"math": math, "missing": browser.execute_script(MISSING_IMAGES_JS),
            "text": browser.execute_script(VISIBLE_TEXT_JS),
            "console": [e for e in browser.get_log("browser") if e["level"] in ("SEVERE", "ERROR")]}


def book_title(path: Path) -> str:
    """A chapter's title: the '# ' heading of its first cell."""
    first = "".join(json.loads(path.read_text(encoding="utf-8"))["cells"][0]["source"])
    return next(line[2:].strip() for line in first.splitlines() if line.startswith("# "))


def test_contents_page_lists_the_chapters_in_the_outline_order(site):
    from bs4 import BeautifulSoup

    index = BeautifulSoup((site / "index.html").read_text(encoding="utf-8"), "html.parser")
    links = index.select(".toctree-wrapper a.reference.internal")
    assert [a["href"] for a in links] == _chapter_pages()
    assert [a.get_text(strip=True) for a in links] == [book_title(p) for p in book.chapters()]


def test_chapters_link_their_neighbours_and_refer_only_to_files_of_the_site(site):
    from bs4 import BeautifulSoup

    pages = ["index.html", *_chapter_pages()]
    for i, page in enumerate(pages[1:], start=1):
        html = BeautifulSoup((site / page).read_text(encoding="utf-8"), "html.parser")
        here = (site / page).parent
        prev, nxt = html.select_one(".prev-next-area a.left-prev"), html.select_one(".prev-next-area a.right-next")
        assert prev is not None and prev["href"] == os.path.relpath(site / pages[i - 1], here), page
        if i + 1 < len(pages):
            assert nxt is not None and nxt["href"] == os.path.relpath(site / pages[i + 1], here), page
        for tag in html.find_all(["a", "img", "link", "script"]):
            ref = tag.get("href") or tag.get("src")
            if not ref or ref.startswith(("#", "mailto:", "javascript:")):
                continue
            assert not re.match(r"^([a-z]+:)?//", ref), f"{page} refers to another host: {ref}"
            assert (here / ref.split("#")[0].split("?")[0]).exists(), f"{page}: {ref} is not in the site"


def test_pages_show_the_committed_outputs(site):
    """No re-execution: each page holds exactly the cells and figures of its committed notebook; solutions folded."""
    from bs4 import BeautifulSoup

    for path, page in zip(book.chapters(), _chapter_pages()):
        nb = json.loads(path.read_text(encoding="utf-8"))
        n_png = sum("image/png" in o.get("data", {}) for c in nb["cells"] for o in c.get("outputs", []))
        html = BeautifulSoup((site / page).read_text(encoding="utf-8"), "html.parser")
        assert len(html.select(".cell_output img")) == n_png, page
        assert len(html.select("div.cell")) == sum(c["cell_type"] == "code" for c in nb["cells"]), page
        n_solutions = sum("solution" in c.get("metadata", {}).get("tags", []) for c in nb["cells"])
        folded = html.select("div.cell.tag_solution details")         # a worked solution opens on a click
        assert len(html.select("div.cell.tag_solution")) == len(folded) == n_solutions, page


def test_pages_render_in_chromium_offline(site, server, browser):
    """Every page: no console error, every image loaded, every formula typeset by the site's MathJax, no raw TeX."""
    problems, typeset_total = [], 0
    for page in ["index.html", *_chapter_pages()]:
        got = _open(browser, f"{server}/{page}")
        problems += [f"{page}: console: {e['message']}" for e in got["console"]]
        problems += [f"{page}: image did not load: {src}" for src in got["missing"]]
        for m in RAW_TEX.finditer(got["text"]):
            context = " ".join(got["text"][max(0, m.start() - 60):m.end() + 30].split())
            problems.append(f"{page}: TeX left as text: ...{context}...")
        math = got["math"]
        if 'class="math' not in (site / page).read_text(encoding="utf-8"):
            continue
        if not math.get("mathjax"):
            problems.append(f"{page}: formulas but no MathJax")
        elif math.get("failed") or math["errors"] or math["typeset"] != math["nodes"]:
            problems.append(f"{page}: MathJax typeset {math.get('typeset')} of {math.get('nodes')} formulas "
                            f"({math.get('errors')} errors{', ' + math['failed'] if math.get('failed') else ''})")
        else:
            typeset_total += math["typeset"]
        problems += [f"{page}: MathJax from elsewhere: {s}" for s in math.get("src", []) if not s.startswith(server)]
    assert not problems, "\n".join(problems)
    assert typeset_total > 10                                     # the book has formulas, and they were typeset


def test_screenshot_of_a_chapter_with_its_chinese_title_and_figures(site, server, browser, tmp_path):
    from PIL import Image

    page = f"{server}/chapters/{SCREENSHOT_CHAPTER}.html"
    got = _open(browser, page)
    assert not got["console"]
    h1 = browser.execute_script("return document.querySelector('main h1').textContent")
    assert re.search(r"[\u4e00-\u9fff]", h1), h1                    # the title is Chinese (and English)
    assert browser.execute_script("return document.fonts.check('24px \"Noto Sans CJK SC\"', '第章')"), \
        "no CJK font: Debian's fonts-noto-cjk"
    n_figures = browser.execute_script("return document.querySelectorAll('.cell_output img').length")
    assert n_figures >= 1
    out = Path(os.environ.get("TSREC_HTML_SCREENSHOT") or tmp_path / f"{SCREENSHOT_CHAPTER}.png")
    out.parent.mkdir(parents=True, exist_ok=True)
    figure = out.with_name(f"{out.stem}-figure.png")
    assert browser.save_screenshot(str(out))                        # the top: title, outline, first cells
    browser.execute_script("document.querySelector('.cell_output img').scrollIntoView({block: 'center'})")
    assert browser.save_screenshot(str(figure))                     # the first figure
    for shot_path in (out, figure):
        with Image.open(shot_path) as shot:
            colours = shot.convert("L").getcolors(maxcolors=1 << 16)
            assert shot.size[0] >= 1000 and (colours is None or len(colours) > 20), f"a blank screenshot {shot_path}"
