"""Explorer pages at 1,000, 10,000 (CIFAR-100 test) and 50,000 (ImageNet val) samples: build
time, file size and time to interactive in headless Chromium.

Data: synthetic latents (d = 64, clustered classes: 10 / 100 / 1,000 classes), their exact
L1 kNN table at k = 16 and synthetic 32 x 32 RGB thumbnails (a smooth class-coloured
gradient plus noise: they compress about as well as CIFAR photos). One page per size holds
one sample view (k = 4 shown), its UMAP layout, k-occurrence, and the thumbnails within the
cap; ``--two`` adds a second graph side by side.

Time to interactive (TTI), measured in the page (performance.now(), origin = navigation
start): the page is opened from file:// at its sample view; *first frame* = sigma.js's first
``afterRender`` of the sample view (the data parsed, the graph built, every point drawn,
every handler attached); then a real mouse click on a point, and *click answered* = from
the mouse press to the first frame drawn with the sample selected (its neighbours
highlighted; the side panel, filled synchronously before, lists them). TTI = first frame +
click answered. Chromium draws WebGL with SwiftShader (on the CPU): a desktop GPU is faster.

    python benchmarks/bench_explore.py [--sizes 1000 10000 50000] [--cap 20000] [--repeat 3]
        [--plotly PATH/plotly.min.js]

``--plotly`` also times the same points in a minimal plotly.js ``scattergl`` page (the
alternative library weighed in docs/explorer.md). Writes results/benchmarks/bench_explore.{json,md}.
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
from common import timeit, versions, write

from latentgraph.explore import GraphInput, PageOptions, page_data, write_page
from latentgraph.explore.thumbs import write_thumbnails
from latentgraph.graphs.knn import knn_table
from latentgraph.io import write_knn, write_latents

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--use-angle=swiftshader", "--enable-unsafe-swiftshader", "--ignore-gpu-blocklist"]


def synthetic(n: int, folder: Path, seed: int = 0) -> tuple[Path, Path, Path]:
    """Latents, kNN table (k = 16) and thumbnails of ``n`` synthetic samples."""
    rng = np.random.default_rng(seed)
    classes = {1000: 10, 10000: 100, 50000: 1000}.get(n, max(2, n // 50))
    labels = np.arange(n) % classes
    centres = rng.normal(size=(classes, 64)) * 2.0
    X = (centres[labels] + rng.normal(size=(n, 64))).astype(np.float32)
    pred = np.where(rng.random(n) < 0.8, labels, rng.integers(0, classes, n))
    ids = np.arange(n, dtype=np.int64)
    lat, knn, th = folder / f"latents_{n}.parquet", folder / f"knn_{n}.parquet", folder / f"thumbs_{n}.parquet"
    write_latents(lat, X, labels, ids, pred, {"run": "A", "epoch": 1})
    write_knn(knn, knn_table(X, 16, labels, ids))
    hue = rng.random((classes, 3)) * 255
    yy, xx = np.mgrid[0:32, 0:32] / 31.0
    grad = (0.5 + 0.5 * np.stack([xx, yy, 1 - xx], -1))[None]
    img = hue[labels][:, None, None, :] * grad + rng.normal(0, 18, size=(n, 32, 32, 3))
    write_thumbnails(th, ids, np.clip(img, 0, 255).astype(np.uint8))
    return lat, knn, th


def measure(browser, path: Path, repeat: int) -> dict[str, float]:
    """Best of ``repeat`` page loads: first frame and click answered, in ms."""
    best = None
    for _ in range(repeat):
        page = browser.new_page(viewport={"width": 1400, "height": 850})
        errors = []
        page.on("pageerror", lambda e, errors=errors: errors.append(str(e)))
        page.goto(path.resolve().as_uri() + "#samples", timeout=120000)
        page.wait_for_function("window.explorer && window.explorer.times.samples", timeout=120000)
        first = page.evaluate("explorer.times.samples")
        # in the page: the time of the mouse press, and of the first frame drawn once the sample is selected
        page.evaluate("""() => { window.__bench = {};
            explorer.views.samples.forEach(V => V.renderer.on('afterRender', () => {
                if (explorer.selected !== null && window.__bench.frame === undefined) window.__bench.frame = performance.now(); }));
            document.addEventListener('mousedown', () => { window.__bench.down = performance.now(); }, true); }""")
        pos = page.evaluate("explorer.screenPosition(0, 0)")
        page.mouse.click(pos["x"], pos["y"])
        page.wait_for_function("window.__bench.frame !== undefined && document.querySelector('#lg-nbrs-0 .lg-card')",
                               timeout=60000)
        click = page.evaluate("window.__bench.frame - window.__bench.down")
        select_ms = page.evaluate("explorer.times.select_ms")
        page.close()
        if errors:
            raise RuntimeError(f"{path}: page errors {errors}")
        run = {"first_frame_ms": first, "click_ms": click, "select_js_ms": select_ms, "tti_ms": first + click}
        best = run if best is None or run["tti_ms"] < best["tti_ms"] else best
    return best


def plotly_page(pdata: dict, plotly_js: Path, out: Path) -> Path:
    """The same points in a minimal plotly.js scattergl page (for the library comparison)."""
    P = pdata["samples"][0]
    data = json.dumps({"x": P["x"], "y": P["y"], "c": P["label"]})
    html = (f"<!DOCTYPE html><html><head><meta charset='utf-8'></head><body><div id='p' style='width:1000px;"
            f"height:800px'></div><script>{plotly_js.read_text()}</script><script>var D={data};"
            "Plotly.newPlot('p',[{type:'scattergl',mode:'markers',x:D.x,y:D.y,marker:{color:D.c,size:4}}])"
            ".then(function(){window.explorer={times:{samples:performance.now()}};});</script></body></html>")
    out.write_text(html)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000, 50000])
    ap.add_argument("--cap", type=int, default=20000, help="thumbnail cap (default: the config's default)")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--two", action="store_true", help="two graphs side by side")
    ap.add_argument("--plotly", type=Path, help="plotly.min.js, to time the same points in plotly.js scattergl")
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    rows = []
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as pw:
        folder = Path(tmp)
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        for n in args.sizes:
            lat, knn, th = synthetic(n, folder)
            graphs = [GraphInput(lat, knn)] * (2 if args.two else 1)
            t0 = time.perf_counter()
            full = page_data(graphs, thumbnails=th, options=PageOptions(k=4, thumbnail_cap=args.cap))
            build_s = time.perf_counter() - t0
            bare = {**full, "thumbnails": None, "thumbnail_note": "no thumbnails (benchmark)"}
            for label, pdata in (("thumbnails", full), ("none", bare)):
                out = folder / f"page_{n}_{label}.html"
                write_page(out, pdata, f"bench {n}")
                res = measure(browser, out, args.repeat)
                shown = 0 if pdata["thumbnails"] is None else sum(i >= 0 for i in pdata["thumbnails"]["index"])
                rows.append({"samples": n, "thumbnails": shown, "library": "sigma.js", "mb": out.stat().st_size / 1e6,
                             "build_s": build_s if label == "thumbnails" else None, **res})
                print(rows[-1], flush=True)
                if args.plotly and label == "none":
                    pp = plotly_page(pdata, args.plotly, folder / f"plotly_{n}.html")
                    _, r2 = timeit(lambda pp=pp: measure_plotly(browser, pp))
                    rows.append({"samples": n, "thumbnails": 0, "library": "plotly.js scattergl",
                                 "mb": pp.stat().st_size / 1e6, "build_s": None, **r2})
                    print(rows[-1], flush=True)
        browser.close()
    md = ["| samples | thumbnails | library | page size (MB) | build (s) | first frame (ms) | click answered (ms) | TTI (s) |",
          "|---:|---:|---|---:|---:|---:|---:|---:|"]
    for r in rows:
        build = f"{r['build_s']:.1f}" if r["build_s"] is not None else "–"
        click = f"{r['click_ms']:.0f}" if r["click_ms"] is not None else "–"
        md.append(f"| {r['samples']:,} | {r['thumbnails']:,} | {r['library']} | {r['mb']:.1f} | {build} | "
                  f"{r['first_frame_ms']:.0f} | {click} | {r['tti_ms'] / 1000:.2f} |")
    write("bench_explore", {"rows": rows, "cap": args.cap, "two": args.two,
                            "versions": versions("numpy", "umap", "playwright")}, "\n".join(md))


def measure_plotly(browser, path: Path) -> dict[str, float]:
    """plotly.js page: time to its first plot (no click handler: TTI = first frame)."""
    page = browser.new_page(viewport={"width": 1400, "height": 850})
    page.goto(path.resolve().as_uri(), timeout=120000)
    page.wait_for_function("window.explorer && window.explorer.times.samples", timeout=120000)
    first = page.evaluate("explorer.times.samples")
    page.close()
    return {"first_frame_ms": first, "click_ms": None, "tti_ms": first}


if __name__ == "__main__":
    main()
