"""Spike: do the SVG panels work in RISE slides and in Voilà? Prints what it saw.

RISE: a 3-slide notebook (title; notebook 04's panel as design (a); the same as
design (b)) opened in JupyterLab, Run All, the toolbar's RISE button (as
tests/browser/test_slides_in_browser.py does), then on each panel slide: is the
view drawn, any widget error, and does a mouse drag on the slider change the
picture and the readout?

Voilà: `voila <notebook>` on 127.0.0.1 with a token, with notebook 04's panel
as ipympl, (a) and (b); in Chromium: are the views drawn, and does ArrowRight
on each slider change each picture?

    python benchmarks/spike_live_panels/viewer_checks.py [--only rise|voila] [--screens DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
sys.path.insert(0, str(REPO / "tests" / "browser"))

import lab_server  # noqa: E402
import notebook_driver as drv  # noqa: E402

SETUP = f"""import sys
sys.path.insert(0, {str(HERE.parent)!r})
from helpers import embeddings, widgets
from spike_live_panels import panels
vectors = embeddings.toy_vectors()"""

# a picture signature: the view's markup (SVG) or a hash of the canvas pixels (ipympl)
SIGNATURE = """(out) => {
  const c = out.querySelector('.jupyter-matplotlib-figure canvas');
  if (c) { const d = new Uint32Array(c.getContext('2d').getImageData(0, 0, c.width, c.height).data.buffer);
           let h = 0; for (let k = 0; k < d.length; k++) h = (h * 31 + d[k]) | 0; return 'px' + h; }
  const v = out.querySelector('.lp-view') || out.querySelector('.widget-html-content svg')?.parentElement;
  return v ? v.innerHTML : null;
}"""


def cell(src, slide_type="slide", kind="code"):
    c = {"cell_type": kind, "metadata": {"slideshow": {"slide_type": slide_type}}, "source": src}
    if kind == "code":
        c.update(outputs=[], execution_count=None)
    return c


def notebook(cells):
    return {"cells": cells, "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                        "language": "python"}, "rise": {"theme": "white"}},
            "nbformat": 4, "nbformat_minor": 5}


def check_rise(browser, screens):
    cells = [cell("# Spike: SVG panels in slides", kind="markdown"), cell(SETUP, "skip"),
             cell("panels.bank_context_panel(vectors=vectors, view='patch')"),
             cell("panels.bank_context_panel(vectors=vectors, view='html')"),
             cell("%matplotlib widget\nwidgets.bank_context_panel(vectors=vectors)")]
    server = lab_server.start_lab(fixtures=False)
    try:
        (server.root / "spike_rise.ipynb").write_text(json.dumps(notebook(cells)))
        handle = drv.PageHandle(browser, server, "rise")
        page = handle.page
        drv.open_notebook(page, server, "spike_rise.ipynb")
        run = drv.run_all(page, timeout_s=300)
        print("RISE: Run All problems:", run.problems() or "none")
        page.evaluate("() => { window.__bt.panel().content.activeCellIndex = 0; }")
        page.locator('.jp-NotebookPanel-toolbar [data-jp-item-name="RISE-button"] button').first.click()
        iframe = page.locator('.lm-Widget iframe[src*="/rise/spike_rise.ipynb"]').first
        iframe.wait_for(state="attached", timeout=60_000)
        frame = iframe.element_handle().content_frame()
        frame.wait_for_function("() => !!document.querySelector('.reveal.ready')", timeout=60_000)
        for slide, name in ((1, "design (a) anywidget"), (2, "design (b) HTML"), (3, "ipympl Panel")):
            frame.locator(".reveal .controls .navigate-right").first.click()
            frame.wait_for_function(
                "(i) => { const s = document.querySelectorAll('.reveal .slides > section');"
                " return s[i] && s[i].classList.contains('present'); }", arg=slide, timeout=20_000)
            try:
                frame.wait_for_function(
                    f"() => {{ const s = document.querySelector('.reveal .slides > section.present');"
                    f" const o = s && s.querySelector('.jp-OutputArea-output');"
                    f" return o && s.querySelector('.noUi-handle') && ({SIGNATURE})(o); }}", timeout=30_000)
            except Exception:  # noqa: BLE001
                print(f"RISE {name}: no drawn view on its slide within 30 s")
                continue
            time.sleep(1.5)  # RISE scrolls to the slide's cell after a change
            state = ("() => { const s = document.querySelector('.reveal .slides > section.present');"
                     " const o = s.querySelector('.jp-OutputArea-output');"
                     f" return {{sig: ({SIGNATURE})(o), text: Array.from(o.querySelectorAll('pre')).map(e => e.innerText).join('|'),"
                     " errors: s.querySelectorAll('.jupyter-widgets-error-widget').length}; }")
            before = frame.evaluate(state)
            h = frame.locator(".reveal .slides > section.present .noUi-handle").first
            box = h.bounding_box()
            x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
            page.mouse.move(x, y)
            page.mouse.down()
            page.mouse.move(x + 40, y, steps=6)
            page.mouse.up()
            try:
                frame.wait_for_function(f"(b) => ({state})().sig !== b", arg=before["sig"], timeout=10_000)
            except Exception:  # noqa: BLE001
                pass
            after = frame.evaluate(state)
            print(f"RISE {name}: drawn, widget errors {before['errors']}, after a drag: picture "
                  f"{'changed' if after['sig'] != before['sig'] else 'UNCHANGED'}, text "
                  f"{'changed' if after['text'] != before['text'] else 'UNCHANGED'} (readout <pre>)")
            if screens:
                page.screenshot(path=str(screens / f"rise_slide{slide}.png"))
        errs = handle.console.errors
        kinds = sorted({e.splitlines()[0][:160].split("(http")[0] for e in errs})
        print(f"RISE: {len(errs)} console error(s), distinct:" + "".join(f"\n   {k}" for k in kinds))
        print(f"RISE: non-loopback requests: {handle.console.external_requests or 'none'}")
        handle.close()
    finally:
        server.stop()


def check_voila(browser, screens):
    tmp = Path(tempfile.mkdtemp(prefix="spike-voila-"))
    cells = [cell("%matplotlib widget\n" + SETUP, "-"),
             cell("panels.bank_context_panel(vectors=vectors, view='patch')", "-"),
             cell("panels.bank_context_panel(vectors=vectors, view='html')", "-"),
             cell("widgets.bank_context_panel(vectors=vectors)", "-")]
    nb = tmp / "spike_voila.ipynb"
    nb.write_text(json.dumps(notebook(cells)))
    token = secrets.token_hex(16)
    port = lab_server._free_port()
    env = dict(os.environ)
    for name in ("config", "data", "runtime", "ipython", "mpl"):
        (tmp / name).mkdir()
    env.update(JUPYTER_CONFIG_DIR=str(tmp / "config"), JUPYTER_DATA_DIR=str(tmp / "data"),
               JUPYTER_RUNTIME_DIR=str(tmp / "runtime"), IPYTHONDIR=str(tmp / "ipython"),
               MPLCONFIGDIR=str(tmp / "mpl"),
               PYTHONPATH=os.pathsep.join([str(REPO)] + [p for p in [env.get("PYTHONPATH")] if p]))
    log = open(tmp / "voila.log", "w")
    proc = subprocess.Popen([sys.executable, "-m", "voila", str(nb), "--no-browser", f"--port={port}",
                             "--Voila.ip=127.0.0.1", f"--token={token}"],
                            cwd=tmp, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        url = f"http://127.0.0.1:{port}/?token={token}"
        for _ in range(120):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/api/status?token={token}", timeout=2)
                break
            except Exception:  # noqa: BLE001
                time.sleep(0.5)
        context = browser.new_context(viewport={"width": 1000, "height": 900})
        page = context.new_page()
        errors, external = [], []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("request", lambda r: external.append(r.url) if not r.url.startswith(
            ("http://127.0.0.1", "ws://127.0.0.1", "data:", "blob:")) else None)
        t0 = time.monotonic()
        page.goto(url, wait_until="domcontentloaded", timeout=120_000)
        page.wait_for_function("() => document.querySelectorAll('.noUi-handle').length >= 3", timeout=180_000)
        time.sleep(3)
        print(f"Voilà: page with 3 sliders after {time.monotonic() - t0:.1f} s")
        outs = page.locator(".jp-OutputArea-output:has(.noUi-handle)")
        for k, name in enumerate(("design (a) anywidget", "design (b) HTML", "ipympl Panel")):
            out = outs.nth(k)
            before = out.evaluate(SIGNATURE)
            text0 = out.inner_text()
            out.locator(".noUi-handle").first.focus()
            page.keyboard.press("ArrowRight")
            time.sleep(2.5)
            after = out.evaluate(SIGNATURE)
            print(f"Voilà {name}: view {'drawn' if before else 'NOT drawn'}; ArrowRight -> picture "
                  f"{'changed' if before and after != before else 'UNCHANGED'}, text "
                  f"{'changed' if out.inner_text() != text0 else 'UNCHANGED'}")
        if screens:
            page.screenshot(path=str(screens / "voila.png"), full_page=True)
        print(f"Voilà: {len(errors)} console error(s)" + "".join(f"\n   {e[:200]}" for e in errors[:6]))
        print(f"Voilà: non-loopback requests: {external or 'none'}")
        context.close()
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
        print("Voilà log tail:", "".join((tmp / "voila.log").read_text().splitlines(True)[-5:]))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--only", choices=("rise", "voila"))
    ap.add_argument("--screens", type=Path)
    args = ap.parse_args(argv)
    if args.screens:
        args.screens.mkdir(parents=True, exist_ok=True)
    from playwright.sync_api import sync_playwright
    with sync_playwright() as pw:
        browser = lab_server.launch_browser(pw)
        try:
            if args.only in (None, "voila"):
                check_voila(browser, args.screens)
            if args.only in (None, "rise"):
                check_rise(browser, args.screens)
        finally:
            browser.close()


if __name__ == "__main__":
    main()
