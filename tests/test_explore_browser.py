"""The explorer pages in a real browser: headless Chromium (Debian's package) driven by Playwright.

The tiny run's page opens from file://, with no console error and no network request; a
click on a class and on a sample shows the right neighbours (against edges.csv and the kNN
tables), shift-click gives a shortest path, the colouring switches, hover shows a thumbnail,
and screenshots are saved. Skipped when Chromium or Playwright is missing, unless
LATENTGRAPH_REQUIRE_BROWSER=1 (set by .ci/run), which makes that a failure.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from latentgraph.io import read_knn

REQUIRE = os.environ.get("LATENTGRAPH_REQUIRE_BROWSER") == "1"
CHROMIUM = os.environ.get("LATENTGRAPH_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
#: Chromium flags: WebGL (sigma.js draws with it) on the CPU through SwiftShader, headless
CHROMIUM_ARGS = ["--use-angle=swiftshader", "--enable-unsafe-swiftshader", "--ignore-gpu-blocklist"]


def _browser_missing() -> str | None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is not installed (pip install -e '.[test]')"
    if not Path(CHROMIUM).exists():
        return f"chromium not found at {CHROMIUM} (apt-get install chromium)"
    return None


_MISSING = _browser_missing()
if _MISSING and REQUIRE:
    raise RuntimeError(f"LATENTGRAPH_REQUIRE_BROWSER=1 but {_MISSING}")
pytestmark = [pytest.mark.slow, pytest.mark.skipif(_MISSING is not None, reason=_MISSING or "")]

SHOTS = Path(os.environ.get("LATENTGRAPH_SCREENSHOTS", "")) if os.environ.get("LATENTGRAPH_SCREENSHOTS") else None


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


class Page:
    """A page opened from file:// with its console messages, page errors and requests recorded."""

    def __init__(self, browser, path: Path, hash_: str = "") -> None:
        self.page = browser.new_page(viewport={"width": 1400, "height": 850})
        self.console: list[tuple[str, str]] = []
        self.requests: list[str] = []
        self.page.on("console", lambda m: self.console.append((m.type, m.text)))
        self.page.on("pageerror", lambda e: self.console.append(("pageerror", str(e))))
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.url = path.resolve().as_uri()
        self.page.goto(self.url + hash_)
        self.page.wait_for_function("window.explorer && window.explorer.ready", timeout=60000)

    def check_clean(self) -> None:
        errors = [m for m in self.console if m[0] in ("error", "pageerror")]
        assert not errors, errors
        assert all(u.split("#")[0] == self.url or u.startswith("data:") for u in self.requests), self.requests
        assert sum(u.startswith("file:") for u in self.requests) == 1  # the page itself, nothing else

    def click_node(self, view, key, modifiers=None) -> None:
        pos = self.page.evaluate(f"explorer.screenPosition({view!r}, {key})")
        self.page.mouse.move(pos["x"], pos["y"])
        self.page.wait_for_timeout(150)
        for key_ in modifiers or []:
            self.page.keyboard.down(key_)
        self.page.mouse.click(pos["x"], pos["y"])
        for key_ in modifiers or []:
            self.page.keyboard.up(key_)
        self.page.wait_for_timeout(300)

    def screenshot(self, tmp_path: Path, name: str) -> Path:
        out = tmp_path / name
        self.page.screenshot(path=str(out))
        assert out.stat().st_size > 10_000
        if SHOTS is not None:
            SHOTS.mkdir(parents=True, exist_ok=True)
            shutil.copy(out, SHOTS / name)
        return out


@pytest.fixture(scope="module")
def tiny_page(tiny_run) -> Path:
    page = tiny_run / "results" / "tiny" / "explore" / "A" / "epoch_003.html"
    assert page.exists()
    return page


def test_class_view_click_shows_the_neighbours_and_shift_click_a_path(browser, tiny_run, tiny_page, tmp_path):
    cg = tiny_run / "results" / "tiny" / "classgraph" / "A" / "epoch_003"
    edges = pd.read_csv(cg / "edges.csv")
    nodes = pd.read_csv(cg / "nodes.csv")
    adj = {i: set() for i in range(len(nodes))}
    for s, t in zip(edges["source"], edges["target"], strict=True):
        adj[s].add(t)
        adj[t].add(s)
    p = Page(browser, tiny_page)
    assert p.page.evaluate("explorer.tab") == "classes"
    start = max(adj, key=lambda i: (len(adj[i]), -i))
    p.click_node("classes", start)
    chosen = p.page.evaluate("explorer.selectedClass")
    assert chosen is not None
    shown = {int(x) for x in p.page.eval_on_selector_all("#lg-class-neighbours tr", "rs => rs.map(r => r.dataset.class)")}
    assert shown == adj[chosen]
    assert p.page.inner_text("#lg-class-name") == str(nodes["class_name"][chosen])
    # shift-click a class two hops away: the path runs along edges of the class graph
    far = next((j for j in sorted(adj) if j != chosen and j not in adj[chosen]), None) or next(iter(adj[chosen]))
    p.click_node("classes", far, modifiers=["Shift"])
    path = p.page.evaluate("explorer.path")
    assert path and path[0] == chosen and path[-1] in (far, *adj[far])
    assert all(b in adj[a] for a, b in zip(path, path[1:], strict=False))
    p.page.select_option("#lg-class-colour", "class accuracy")
    assert "class accuracy" in p.page.inner_text("#lg-class-legend")
    p.screenshot(tmp_path, "explore_tiny_classes.png")
    p.check_clean()


def test_sample_view_click_shows_the_k_nearest_in_both_graphs(browser, tiny_run, tiny_page, tmp_path):
    res = tiny_run / "results" / "tiny"
    a, b = read_knn(res / "knn" / "A" / "epoch_003.parquet"), read_knn(res / "knn" / "B" / "epoch_003.parquet")
    k = 4  # the page's k: explore.k null -> min(4, largest knn.k)
    p = Page(browser, tiny_page)
    p.page.click("#lg-tab-samples")
    p.page.wait_for_function("explorer.ready && explorer.times.samples", timeout=60000)
    p.click_node(0, 7)
    sid = p.page.evaluate("explorer.selected")
    assert sid is not None
    want = []
    for t in (a, b):
        row = int(np.flatnonzero(t.sample_id == sid)[0])
        want.append([int(x) for x in t.sample_id[t.indices[row, :k]]])
    for i in (0, 1):
        got = [int(x) for x in p.page.eval_on_selector_all(f"#lg-nbrs-{i} .lg-card", "cs => cs.map(c => c.dataset.id)")]
        assert got == want[i]
        shared = [int(x) for x in p.page.eval_on_selector_all(f"#lg-nbrs-{i} .lg-shared", "cs => cs.map(c => c.dataset.id)")]
        assert sorted(shared) == sorted(set(want[0]) & set(want[1]))
    assert p.page.inner_text("#lg-sample-title") == f"Sample #{sid}"
    # the side panel's cards carry thumbnails; hovering a point shows one too
    assert p.page.locator("#lg-nbrs-0 .lg-thumb").count() == k
    p.page.wait_for_timeout(400)  # the camera's move to the selected sample
    nb = int(p.page.eval_on_selector("#lg-nbrs-1 .lg-card", "c => c.dataset.row"))
    pos = p.page.evaluate(f"explorer.screenPosition(1, {nb})")
    p.page.mouse.move(pos["x"] + 1, pos["y"])
    p.page.wait_for_selector("#lg-tooltip:not([hidden]) .lg-thumb", timeout=5000)
    for mode in p.page.evaluate("explorer.sampleModes"):
        p.page.select_option("#lg-sample-colour", mode)
        assert p.page.evaluate("explorer.sampleMode") == mode
    assert "k-occurrence" in p.page.inner_text("#lg-sample-legend-0")
    p.page.select_option("#lg-sample-colour", "correct / wrong")
    assert "wrong (" in p.page.inner_text("#lg-sample-legend-1")
    p.screenshot(tmp_path, "explore_tiny_samples.png")
    p.check_clean()


def test_page_without_thumbnails_says_so(browser, tiny_run, tmp_path):
    from latentgraph.cli import main

    res = tiny_run / "results" / "tiny"
    out = tmp_path / "plain.html"
    assert main(["explore", str(res / "latents" / "A" / "epoch_003.parquet"), "--knn",
                 str(res / "knn" / "A" / "epoch_003.parquet"), "-o", str(out)]) == 0
    p = Page(browser, out)
    assert p.page.evaluate("explorer.tab") == "samples"
    assert "no thumbnails" in p.page.inner_text("#lg-no-thumbnails").lower()
    assert p.page.is_disabled("#lg-tab-classes")
    p.click_node(0, 3)
    assert p.page.evaluate("explorer.selected") is not None
    assert p.page.locator("#lg-nbrs-0 .lg-card").count() == 4
    p.check_clean()


def test_thesis_class_graph_reading_by_clicking(browser, tmp_path):
    ref = Path(__file__).resolve().parents[2] / "shared" / "reference" / "thesis_imagenet_class_graph"
    if not (ref / "nodes.csv").exists():
        pytest.skip("the thesis's reference class graph is not here")
    from latentgraph.cli import main

    out = tmp_path / "thesis.html"
    assert main(["explore", "--nodes", str(ref / "nodes.csv"), "--edges", str(ref / "edges.csv"), "-o", str(out)]) == 0
    p = Page(browser, out)
    hubs = p.page.inner_text("#lg-hubs")
    assert hubs.index("miniskirt") < hubs.index("Band Aid")
    p.page.fill("#lg-class-search", "tabby, tabby cat")
    p.page.dispatch_event("#lg-class-search", "change")
    p.page.wait_for_timeout(400)
    panel = p.page.inner_text("#lg-class-panel")
    assert "tiger cat" in panel and "Egyptian cat" in panel
    p.page.fill("#lg-path-from", "miniskirt, mini")
    p.page.fill("#lg-path-to", "Band Aid")
    p.page.click("#lg-path-go")
    path = p.page.evaluate("explorer.path")
    assert len(path) >= 2
    p.screenshot(tmp_path, "explore_thesis_path.png")
    p.check_clean()
