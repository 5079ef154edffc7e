"""Spike benchmark: key press on a slider -> changed picture, in JupyterLab + headless Chromium.

One notebook holds, in this order: a bare slider whose observer writes a text
readout (the widget round trip), then notebook 05's heatmaps per head and
notebook 04's context word, each as today's ipympl Panel, design (a) (anywidget
patches) and design (b) (ipywidgets.HTML). The page presses ArrowRight /
ArrowLeft alternately on each panel's slider (`sharpness`), in blocks of
`--block` presses per target, round robin, so that every target sees the same
machine load. Measured inside the page from the keydown event's timestamp:

- ipympl: the first animation frame whose canvas pixels differ (a hash of the
  canvas, as tests/browser/notebook_driver.py does);
- SVG designs and the bare readout: the first animation frame after the
  view's DOM changed (a MutationObserver on it): that frame paints the change.

    python benchmarks/spike_live_panels/browser_bench.py [--presses 20] [--warmup 2]
        [--dpr 1] [--width 1400] [--screens DIR]

Uses tests/browser/lab_server.py and notebook_driver.py (imported, not changed).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
sys.path.insert(0, str(REPO / "tests" / "browser"))

import lab_server  # noqa: E402
import notebook_driver as drv  # noqa: E402

SETUP = f"""%matplotlib widget
import sys
sys.path.insert(0, {str(HERE.parent)!r})
import ipywidgets as W
from IPython.display import display
from helpers import attention, embeddings, widgets
from spike_live_panels import panels
vectors = embeddings.toy_vectors()
W_q, W_k, W_v, W_o, _ = attention.demo_heads()"""

BARE = """bare = W.FloatSlider(value=1.0, min=0.0, max=2.0, step=0.1, description="bare", continuous_update=True)
bare_out = W.HTML("<pre>value 1.00</pre>")
bare.observe(lambda ch: setattr(bare_out, "value", f"<pre>value {ch['new']:.2f}</pre>"), names="value")
W.VBox([bare, bare_out])"""

TARGETS = [  # (name, cell source)
    ("05 ipympl", "p05i = widgets.multi_head_panel(vectors, W_q, W_k, W_v, W_o)\np05i"),
    ("05 patch", "p05a = panels.multi_head_panel(vectors, W_q, W_k, W_v, W_o, view='patch')\np05a"),
    ("05 html", "p05b = panels.multi_head_panel(vectors, W_q, W_k, W_v, W_o, view='html')\np05b"),
    ("04 ipympl", "p04i = widgets.bank_context_panel(vectors=vectors)\np04i"),
    ("04 patch", "p04a = panels.bank_context_panel(vectors=vectors, view='patch')\np04a"),
    ("04 html", "p04b = panels.bank_context_panel(vectors=vectors, view='html')\np04b"),
]

# After the presses: the kernel's current markup of each SVG view, printed by a cell run then,
# must equal the view's DOM (the browser applied every patch as the kernel computed it).
DOM_CELLS = [("05 patch", "print(p05a.scene.live_markup())"), ("05 html", "print(p05b.scene.live_markup())"),
             ("04 patch", "print(p04a.scene.live_markup())"), ("04 html", "print(p04b.scene.live_markup())")]

SAME_DOM_JS = """([viewCell, printCell]) => {
  const cells = window.__bt.panel().content.widgets;
  const out = cells[viewCell].node.querySelector('.jp-OutputArea');
  const view = out.querySelector('.lp-view') || out.querySelector('.widget-html-content svg').closest('.widget-html-content');
  const text = cells[printCell].node.querySelector('.jp-OutputArea-output pre').textContent.trim();
  const kernel = new DOMParser().parseFromString(text, 'text/html').body.firstElementChild;
  return kernel.isEqualNode(view.firstElementChild);
}"""

MEASURE_JS = """
(() => {
  const cells = () => window.__bt.panel().content.widgets;
  const view = (i) => {
    const out = cells()[i].node.querySelector('.jp-OutputArea');
    return out.querySelector('.jupyter-matplotlib-figure canvas') || out.querySelector('.lp-view')
      || out.querySelector('.widget-html-content svg')?.closest('.widget-html-content')
      || Array.from(out.querySelectorAll('.widget-html-content')).pop();
  };
  const hash = (c) => {
    const d = new Uint32Array(c.getContext('2d').getImageData(0, 0, c.width, c.height).data.buffer);
    let h = 0;
    for (let k = 0; k < d.length; k++) h = (h * 31 + d[k]) | 0;
    return h;
  };
  window.__spike = {
    handle: (i) => cells()[i].node.querySelector('.jp-OutputArea .noUi-handle'),
    value: (i) => window.__spike.handle(i).getAttribute('aria-valuenow'),
    arm: (i, arrow, timeoutMs) => {
      const s = window.__spike;
      s.result = null;
      const v = view(i), h = s.handle(i);
      const isCanvas = v.tagName === 'CANVAS';
      const before = isCanvas ? hash(v) : null;
      let mutated = false;
      const mo = isCanvas ? null : new MutationObserver(() => { mutated = true; });
      if (mo) mo.observe(v, {subtree: true, childList: true, attributes: true, characterData: true});
      const onKey = (ev) => {
        if (ev.key !== arrow) return;
        h.removeEventListener('keydown', onKey, true);
        const t0 = ev.timeStamp;
        const poll = () => {
          const now = performance.now();
          if (isCanvas ? hash(v) !== before : mutated) {
            if (mo) mo.disconnect();
            s.result = {ms: now - t0};
            return;
          }
          if (now - t0 > timeoutMs) { if (mo) mo.disconnect(); s.result = {ms: null}; return; }
          requestAnimationFrame(poll);
        };
        requestAnimationFrame(poll);
      };
      h.addEventListener('keydown', onKey, true);
    },
  };
})();
"""


def pct(xs, q):
    s = sorted(xs)
    return s[max(1, math.ceil(q / 100 * len(s))) - 1]


def press(page, cell, arrow, timeout_s):
    page.evaluate("([i, a, t]) => window.__spike.arm(i, a, t)", [cell, arrow, int(timeout_s * 1000)])
    page.locator(".jp-Notebook .jp-Cell").nth(cell).locator(".jp-OutputArea .noUi-handle").focus()
    page.keyboard.press(arrow)
    page.wait_for_function("() => window.__spike.result !== null", timeout=(timeout_s + 5) * 1000)
    return page.evaluate("() => window.__spike.result")["ms"]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--presses", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--block", type=int, default=5, help="presses per target before moving to the next")
    ap.add_argument("--gap-ms", type=int, default=450, help="wait after each press (ipympl settles at 0.15 s)")
    ap.add_argument("--dpr", type=float, default=1.0)
    ap.add_argument("--width", type=int, default=1400, help="viewport width (CSS px)")
    ap.add_argument("--screens", type=Path, help="save a screenshot of each panel here")
    ap.add_argument("--json", type=Path)
    ap.add_argument("--check-dom", action="store_true",
                    help="after the presses, compare each SVG view's DOM with the kernel's markup")
    args = ap.parse_args(argv)
    from playwright.sync_api import sync_playwright

    names = ["bare"] + [n for n, _ in TARGETS]
    cells = [SETUP, BARE] + [src for _, src in TARGETS] + [src for _, src in DOM_CELLS]
    ms = {n: [] for n in names}
    misses = {n: 0 for n in names}
    t_start = time.monotonic()
    server = lab_server.start_lab(fixtures=False)
    try:
        nb = {"cells": [{"cell_type": "code", "metadata": {}, "source": c, "outputs": [], "execution_count": None}
                        for c in cells],
              "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
              "nbformat": 4, "nbformat_minor": 5}
        (server.root / "spike_panels.ipynb").write_text(json.dumps(nb))
        with sync_playwright() as pw:
            browser = lab_server.launch_browser(pw)
            context = browser.new_context(viewport={"width": args.width, "height": 1000},
                                          device_scale_factor=args.dpr)
            context.add_init_script(drv.INIT_SCRIPT)
            page = context.new_page()
            console = drv.ConsoleLog()
            console.attach(page, server.base_url)
            drv.open_notebook(page, server, "spike_panels.ipynb")
            run = drv.run_all(page, timeout_s=300)
            if run.problems():
                print("notebook did not run cleanly:\n" + "\n".join(run.problems()), file=sys.stderr)
                return 1
            page.evaluate(MEASURE_JS)
            time.sleep(2.0)
            if args.screens:
                args.screens.mkdir(parents=True, exist_ok=True)
                for k, n in enumerate(names):
                    page.locator(".jp-Notebook .jp-Cell").nth(k + 1).locator(".jp-OutputArea").screenshot(
                        path=str(args.screens / f"{n.replace(' ', '_')}_dpr{args.dpr:g}_w{args.width}.png"))
            arrow = {n: "ArrowRight" for n in names}
            done = {n: 0 for n in names}
            total = args.warmup + args.presses
            while any(done[n] < total for n in names):
                for k, n in enumerate(names):
                    cell = k + 1
                    for _ in range(min(args.block, total - done[n])):
                        page.locator(".jp-Notebook .jp-Cell").nth(cell).scroll_into_view_if_needed()
                        value = press(page, cell, arrow[n], 5.0)
                        if done[n] >= args.warmup:
                            if value is None:
                                misses[n] += 1
                            else:
                                ms[n].append(value)
                        done[n] += 1
                        arrow[n] = "ArrowLeft" if arrow[n] == "ArrowRight" else "ArrowRight"
                        page.wait_for_timeout(args.gap_ms)
            if args.check_dom:
                page.wait_for_timeout(1000)
                for k, (n, _) in enumerate(DOM_CELLS):
                    printed = len(cells) - len(DOM_CELLS) + k
                    drv.run_cell(page, printed)
                    page.wait_for_timeout(300)
                    same = page.evaluate(SAME_DOM_JS, [names.index(n) + 1, printed])
                    print(f"{n}: view DOM after the presses == kernel's markup: {same}")
            errors, _ = drv.callback_errors_since(page, 0)
            if errors or console.errors:
                print("errors:", (errors + console.errors)[:3], file=sys.stderr)
            context.close()
            browser.close()
    finally:
        server.stop()
    print(f"key press -> changed picture (ms), {args.presses} presses after {args.warmup} warm-ups per target, "
          f"round robin in blocks of {args.block}; device pixel ratio {args.dpr:g}, viewport {args.width} px; "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs; {time.monotonic() - t_start:.0f} s\n")
    bare50 = statistics.median(ms["bare"]) if ms["bare"] else float("nan")
    print(f"{'target':<10} {'n':>3} {'p50':>7} {'p95':>7} {'p50/bare':>9} {'misses':>7}")
    for n in names:
        if ms[n]:
            print(f"{n:<10} {len(ms[n]):>3} {statistics.median(ms[n]):>7.1f} {pct(ms[n], 95):>7.1f} "
                  f"{statistics.median(ms[n]) / bare50:>9.2f} {misses[n]:>7}")
        else:
            print(f"{n:<10}   0       -       -         - {misses[n]:>7}")
    if args.json:
        args.json.write_text(json.dumps({"ms": ms, "misses": misses}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
