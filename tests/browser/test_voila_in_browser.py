"""Notebook 04 as a Voilà dashboard: its live panels show, and their sliders move them, offline.

``voila notebooks/04_values_and_context.ipynb`` (lab_server.start_voila: 127.0.0.1, a free
port, a token, no browser, the repo parts copied to a temporary folder) runs the notebook
in a kernel and shows only its outputs. In Chromium, with every request that leaves
127.0.0.1 refused (a classroom without internet), the test checks:

- the page shows as many live panels (``.svg-panel-view``, each with SVG tiles drawn) as
  the stored notebook has (outputs holding a widget view and its ``image/svg+xml``);
- no widget failed to render;
- in each live panel, an arrow key on its first slider changes the slider's readout, the
  panel's readout text and the picture (the view's DOM): the kernel answered;
- no console error other than the refused requests themselves, and no refused request
  was for a script (the panels need none from outside: anywidget ships its module, the
  view's ES module travels in the widget's state). Refused requests are printed.

``BROWSER_TEST_VOILA_NOTEBOOK`` (a path relative to the repo root) serves another
notebook, e.g. ``tests/browser/fixtures/live_panels.ipynb``.
"""

from __future__ import annotations

import json
import os
import re

import notebook_driver as drv
import pytest
from lab_server import REPO_ROOT, start_voila

NOTEBOOK = os.environ.get("BROWSER_TEST_VOILA_NOTEBOOK", "notebooks/04_values_and_context.ipynb")
TIMEOUT_MS = 180_000  # Voilà runs every cell before it shows the page's widgets
LOCAL = re.compile(r"^(https?|wss?)://127\.0\.0\.1[:/]|^(data|blob|about):")


def stored_live_panels(rel_path: str) -> int:
    """How many outputs of the stored notebook are live panels (a widget view + its SVG)."""
    cells = json.loads((REPO_ROOT / rel_path).read_text(encoding="utf-8"))["cells"]
    return sum(1 for c in cells for o in c.get("outputs", [])
               if {"application/vnd.jupyter.widget-view+json", "image/svg+xml"} <= set(o.get("data", {})))


@pytest.fixture(scope="module")
def voila(browser_available):
    try:
        server = start_voila(NOTEBOOK, timeout=float(os.environ.get("BROWSER_TEST_START_TIMEOUT", "60")))
    except RuntimeError as exc:
        pytest.fail(str(exc), pytrace=False)
    yield server
    server.stop()


@pytest.fixture
def voila_page(browser, voila):
    context = browser.new_context(viewport={"width": 1024, "height": 900})
    context.add_init_script(drv.INIT_SCRIPT)
    refused = []

    def route(r):
        if LOCAL.match(r.request.url):
            r.continue_()
        else:
            refused.append((r.request.resource_type, r.request.url))
            r.abort()

    context.route("**/*", route)
    page = context.new_page()
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(f"[pageerror] {exc}"))
    yield page, refused, errors
    context.close()


# The live panels on the page: per view, whether it is drawn, and for the first slider of its
# output (if any) the slider's readout, the panel's texts and a hash of the picture.
PANELS_JS = """() => Array.from(document.querySelectorAll('.svg-panel-view')).map((view, k) => {
  const out = view.closest('.jp-OutputArea-output') || view.parentElement;
  const slider = out.querySelector('.widget-slider');
  const texts = Array.from(out.querySelectorAll('.widget-html-content, .widget-htmlmath-content'))
    .filter(el => !el.closest('.svg-panel-view')).map(window.__bt.textOf).join(' | ');
  if (slider) slider.setAttribute('data-voila-slider', String(k));
  const handle = slider && slider.querySelector('.noUi-handle');
  return {drawn: !!view.querySelector('svg'), picture: window.__bt.figureHash(view), texts,
          slider: !!slider, readout: slider ? window.__bt.textOf(slider.querySelector('.widget-readout')) : '',
          atMax: handle ? +handle.getAttribute('aria-valuenow') >= +handle.getAttribute('aria-valuemax') : false};
})"""


def test_voila_shows_live_panels_that_sliders_move(voila_page, voila):
    page, refused, errors = voila_page
    expected = stored_live_panels(NOTEBOOK)
    if not expected:
        pytest.fail(f"{NOTEBOOK} stores no live panel (an output with a widget view and image/svg+xml): "
                    "is it converted to helpers.panels?", pytrace=False)
    page.goto(voila.url, wait_until="domcontentloaded", timeout=TIMEOUT_MS)
    try:
        page.wait_for_function(
            f"""() => {{ const v = document.querySelectorAll('.svg-panel-view');
                   return v.length >= {expected} && Array.from(v).every(e => e.querySelector('svg')); }}""",
            timeout=TIMEOUT_MS, polling=250)
    except Exception as exc:  # noqa: BLE001 - say what the page showed
        shown = page.evaluate("() => document.querySelectorAll('.svg-panel-view').length")
        raise AssertionError(f"Voilà showed {shown} drawn live panels of {expected}; console errors: "
                             f"{errors[:5]}; server log:\n{voila.log_tail(20)}") from exc
    panels = page.evaluate(PANELS_JS)
    assert len(panels) == expected, f"{len(panels)} live panels on the page, {expected} in the notebook"
    assert not page.evaluate("() => document.querySelectorAll('.jupyter-widgets-error-widget').length"), \
        "a widget failed to render"
    with_sliders = [k for k, p in enumerate(panels) if p["slider"]]
    assert with_sliders, f"no live panel of {NOTEBOOK} has a slider"
    for k in with_sliders:
        before = panels[k]
        handle = page.locator(f'[data-voila-slider="{k}"] .noUi-handle').first
        handle.scroll_into_view_if_needed()
        handle.focus()
        page.keyboard.press("ArrowLeft" if before["atMax"] else "ArrowRight")
        try:
            page.wait_for_function(
                f"""(b) => {{ const p = ({PANELS_JS})()[{k}];
                       return p.readout !== b.readout && p.texts !== b.texts && p.picture !== b.picture; }}""",
                arg=before, timeout=15_000, polling=50)
        except Exception as exc:  # noqa: BLE001
            after = page.evaluate(PANELS_JS)[k]
            raise AssertionError(f"live panel {k}: an arrow key did not change readout, text and picture:\n"
                                 f"before {before}\nafter  {after}") from exc
        print(f"Voilà, live panel {k}: slider {before['readout']} -> {page.evaluate(PANELS_JS)[k]['readout']}, "
              "readout and picture changed")
    for kind, url in refused:
        print(f"refused (offline): {kind} {url}")
    scripts = [url for kind, url in refused if kind == "script"]
    assert not scripts, "the dashboard loads scripts from outside 127.0.0.1:\n" + "\n".join(scripts)
    failed_loads = [e for e in errors if e.startswith("Failed to load resource")]
    unexpected = [e for e in errors if e not in failed_loads]
    if len(failed_loads) > len(refused):  # more than the refused requests failed to load
        unexpected += failed_loads
    assert not unexpected, "console errors in the Voilà page:\n" + "\n".join(unexpected)
