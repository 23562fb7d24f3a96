"""The explorer screenshots of docs/explorer.md, from the demo's page, in headless Chromium.

    snakemake --cores all results/digits-demo/explore/A/epoch_016.html
    python docs/assets/explorer_screenshots.py results/digits-demo/explore/A/epoch_016.html docs/assets

Class view: digit 3 clicked. Sample view: the first digit 8 whose 4 nearest neighbours in run A
and run B share exactly two, selected (the camera moves to it), and the pointer on one of its
neighbours in run B (its thumbnail).
"""

import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

ARGS = ["--use-angle=swiftshader", "--enable-unsafe-swiftshader", "--ignore-gpu-blocklist"]


def main(page_path: str, outdir: str) -> None:
    out = Path(outdir)
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        pg = b.new_page(viewport={"width": 1400, "height": 820})
        errors: list[str] = []
        pg.on("pageerror", lambda e: errors.append(str(e)))
        pg.goto(Path(page_path).resolve().as_uri())
        pg.wait_for_function("explorer.ready")
        pos = pg.evaluate("explorer.screenPosition('classes', 3)")
        pg.mouse.move(pos["x"], pos["y"])
        pg.mouse.click(pos["x"], pos["y"])
        pg.mouse.move(700, 790)
        pg.wait_for_timeout(500)
        pg.screenshot(path=str(out / "explorer_demo_classes.png"))
        pg.click("#lg-tab-samples")
        pg.wait_for_function("explorer.times.samples")
        row = pg.evaluate("""() => { const V = explorer.views.samples;
            for (let r = 0; r < V[0].P.label.length; r++) {
              const a = new Set(V[0].neighbours(r)), s = V[1].neighbours(r).filter(x => a.has(x)).length;
              if (s == 2 && V[0].P.label[r] == 8) return r; } return 0; }""")
        pg.evaluate(f"explorer.selectSample(explorer.sampleIds[{row}])")
        pg.wait_for_timeout(900)
        nb = pg.evaluate(f"explorer.views.samples[1].neighbours({row})[1]")
        pos = pg.evaluate(f"explorer.screenPosition(1, {nb})")
        pg.mouse.move(pos["x"] + 1, pos["y"])
        pg.wait_for_timeout(500)
        pg.screenshot(path=str(out / "explorer_demo_samples.png"))
        b.close()
    if errors:
        raise SystemExit(f"page errors: {errors}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
